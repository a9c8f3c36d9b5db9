/*
 * PSCI as a guest sees it: the hypervisor emulates PSCI 1.0 for its guests, whether they
 * call it with HVC #0 (what their device tree says) or SMC #0 (trapped by HCR.TSC).
 *
 * Implemented: PSCI_VERSION (1.0), PSCI_FEATURES, CPU_ON, CPU_OFF, AFFINITY_INFO (level 0),
 * MIGRATE_INFO_TYPE (no Trusted OS to migrate), SYSTEM_OFF and SYSTEM_RESET. Everything
 * else, and every SMC64 function, returns NOT_SUPPORTED.
 *
 * A VCPU's MPIDR affinity is its number (Aff0 = vcpu_id). CPU_ON starts the VCPU on its own
 * physical CPU, in SVC mode with its MMU off at the entry point, r0 = context id (PSCI's
 * rules for a CPU coming on); the entry must lie in the guest's RAM.
 */
#ifndef VPSCI_H
#define VPSCI_H

#include <arch/guest.h>
#include <lib/types.h>

struct vcpu;

/*
 * Handles the PSCI call in regs (function id in r0, arguments in r1-r3; the result goes to
 * r0). Returns true if v carries on, false if it stops (CPU_OFF, or its domain shut down).
 */
bool vpsci_call(struct vcpu *v, struct guest_regs *regs);

#endif
