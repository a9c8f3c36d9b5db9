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

#endif
