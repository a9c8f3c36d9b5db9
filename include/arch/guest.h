/*
 * What common code needs from the architecture to run a guest VCPU.
 *
 * A VCPU runs on the physical CPU it was given (struct vcpu's processor) from its first
 * instruction until it stops: there is no scheduler, so nothing else ever runs on that CPU
 * meanwhile and the guest's own system registers (SCTLR, TTBRs, the banked SPs and LRs, ...)
 * simply stay in the CPU while the hypervisor handles an exit. Only the registers Hyp mode
 * shares with the guest (r0-r12, LR, and the return state ELR_hyp/SPSR_hyp) are saved in
 * struct guest_regs at each exit, where the exit handlers read and change them.
 *
 * arch/arm32 enters the guest with ERET and takes its exits through the Hyp vectors;
 * arch/host cannot run guests: there, tests call the exit handlers (PSCI, hypercalls)
 * directly on a struct guest_regs.
 */
#ifndef ARCH_GUEST_H
#define ARCH_GUEST_H

#include <lib/types.h>

struct vcpu;

/* The guest's registers as Hyp mode sees them at an exit. */
struct guest_regs {
    uint32_t r[13];
    uint32_t lr;        /* LR_usr: Hyp mode has no LR of its own */
    uint32_t pc;        /* ELR_hyp: where the guest resumes */
    uint32_t cpsr;      /* SPSR_hyp: the guest's CPSR */
};

/* PSR bits a guest's CPSR is built from (ARM ARM B1.3.3). */
#define PSR_MODE_MASK   0x1fu
#define PSR_MODE_USR    0x10u
#define PSR_MODE_FIQ    0x11u
#define PSR_MODE_IRQ    0x12u
#define PSR_MODE_SVC    0x13u
#define PSR_MODE_ABT    0x17u
#define PSR_MODE_HYP    0x1au
#define PSR_MODE_UND    0x1bu
#define PSR_MODE_SYS    0x1fu
#define PSR_THUMB       (1u << 5)
#define PSR_FIQ_MASK    (1u << 6)
#define PSR_IRQ_MASK    (1u << 7)
#define PSR_ABT_MASK    (1u << 8)
#define PSR_BIG_ENDIAN  (1u << 9)
#define PSR_IT_MASK     ((0x3fu << 10) | (0x3u << 25))

/* How a VCPU starts (Linux's zImage protocol for the boot VCPU): SVC, A/I/F masked. */
#define GUEST_BOOT_CPSR (PSR_MODE_SVC | PSR_ABT_MASK | PSR_IRQ_MASK | PSR_FIQ_MASK)

/*
 * Runs v on this CPU until it stops (CPU_OFF, or its domain shut down), handling every
 * exit. v must have been given its start registers (vcpu_set_boot_regs). arm32 only;
 * the host returns -ENOSYS.
 */
int arch_vcpu_run(struct vcpu *v);

/*
 * Asks v's physical CPU (an idle one, not this) to run v with arch_vcpu_run() and returns
 * without waiting. Returns 0, or -EBUSY if that CPU is offline or busy.
 */
int arch_vcpu_kick(struct vcpu *v);

/*
 * The interrupts (a bit for each of IDs 0-31) the hypervisor keeps for itself when a domain
 * is given the GIC: the guest cannot enable, disable or configure them (domain/vgic.h).
 */
uint32_t arch_gic_kept(void);

/* Returns once v's running flag reads false (acquire): its CPU has left v's run loop. */
void arch_vcpu_wait(struct vcpu *v);

#endif
