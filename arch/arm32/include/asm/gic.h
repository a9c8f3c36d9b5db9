/*
 * The hypervisor's side of the GICv2 (arch/arm32/gic.c): its own interrupts (the Hyp timer,
 * the maintenance interrupt), the forwarding of a domain's device interrupts through the
 * list registers, the distributor accesses a domain makes, and the watchdog.
 */
#ifndef ASM_GIC_H
#define ASM_GIC_H

#include <lib/types.h>

struct vcpu;

/*
 * Finds the GICv2 and the timer in the host tree and maps the distributor, CPU interface
 * and hypervisor interface. Returns false (printed) when there is none: no domain can then
 * be given the GIC.
 */
bool gic_init(const void *fdt);

/* This CPU starts or stops running v, a VCPU of a domain given the GIC. */
void gic_vcpu_start(struct vcpu *v);
void gic_vcpu_stop(struct vcpu *v);

/* A physical IRQ exit of v: forwards or handles every pending one; false: v stops. */
bool gic_handle_irq(struct vcpu *v);

/*
 * A stage-2 data abort of v (its HSR) at ipa: 0 when it is not v's distributor; 1 when it
 * was, and the access has been performed (domain/vgic.h: the caller steps over the
 * instruction); -1 when it was, but the syndrome does not describe it or the GICv2 does
 * not define it (printed: the caller injects an abort).
 */
int gic_dist_trap(struct vcpu *v, uint32_t hsr, paddr_t ipa);

#endif
