/*
 * What common/mm/p2m.c needs from the architecture: the store of one stage-2 descriptor,
 * the barrier that makes stores visible to table walkers, and the invalidation of one
 * VMID's stage-2 (and combined) TLB entries.
 *
 * The image (arch/arm32/p2m.c) uses STRD, DSB ISHST and TLBIALLIS with the VMID's VTTBR
 * installed; the host (arch/host/p2m.c) records every call, so tests check the order of
 * break-before-make (arch/host/include/host/p2m.h).
 */
#ifndef ARCH_P2M_H
#define ARCH_P2M_H

#include <lib/types.h>
#include <mm/lpae.h>

/*
 * Stores one descriptor with a single-copy-atomic 64-bit write. ipa is the first
 * guest-physical address the entry translates and level its level (1-3); the image
 * ignores both, the host records them. No barrier.
 */
void arch_p2m_write(lpae_t *entry, lpae_t value, paddr_t ipa, unsigned int level);

/* DSB (inner shareable): every earlier table store is visible to every walker. */
void arch_p2m_barrier(void);

/*
 * Removes from every CPU's TLB (inner shareable) the entries of the VMID that vttbr
 * names, whatever IPA they translate, and waits until that is complete (DSB).
 */
void arch_p2m_flush_vmid(uint64_t vttbr);

/*
 * gvirt_to_maddr(): the machine address a guest virtual address of d reaches, as the
 * guest's PL1 would read (GV2M_READ) or write (GV2M_WRITE) it. The image asks the MMU
 * (ATS12NSOPR/ATS12NSOPW with d's VTTBR and HCR.VM, so stage 1 as the CPU's Non-secure
 * PL1 state has it, then d's stage 2); the host looks the address up in d's p2m, as the
 * MMU would with the guest's stage 1 off.
 *
 * For a domain that has not run yet, or from an exit of one of d's VCPUs on this CPU (then
 * stage 1 is the guest's own, live in the CPU): otherwise the image refuses (-EINVAL,
 * printed) when the Non-secure PL1 MMU is on (SCTLR.M), because stage 1 would then be
 * whatever the CPU's PL1 registers hold, not d's; with it off a guest VA is its IPA. Also -EINVAL (printed)
 * for a domain without a p2m or bad flags. An address d's p2m (or the walk) does not map
 * gives -EFAULT without a message: the caller knows what it was trying to reach and says.
 * Every register used (HCR, VTCR, VTTBR, PAR) is restored; the hypervisor runs with
 * interrupts masked, so nothing else sees the temporary values.
 */
#define GV2M_READ   0u
#define GV2M_WRITE  1u

struct domain;

int gvirt_to_maddr(struct domain *d, uint32_t va, paddr_t *ma, unsigned int flags);

#endif
