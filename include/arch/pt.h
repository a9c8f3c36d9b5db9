/*
 * What the page-table code in common/mm/pt.c needs from the architecture: where
 * the hypervisor's shared tables are, how to reach a table page, how to
 * store an entry, and the barriers and TLB maintenance around the stores.
 *
 * The split follows what is CPU-specific. Descriptor layout and the order of
 * operations (break-before-make, when to flush) are common and host-tested;
 * the instructions that make a store visible to the table walker, or remove
 * a translation from the TLBs, are the arch's. On the image these are STRD,
 * DSB, TLBIMVAHIS/TLBIALLHIS, BPIALLIS and ISB (arch/arm32/pt.c). On the host
 * (arch/host/pt.c) they record each step, so tests can check the order of a
 * sequence, and drive a small software MMU that makes mappings in the vmap
 * window real host memory.
 *
 * Common code only ever edits levels 2 and 3. Each level-1 entry (1 GiB
 * slot) that common code may touch points to a level-2 table that every CPU
 * shares, so an edit below it is seen by all CPUs and level-1 entries never
 * change. On ARM32 slots 0 and 1 (the image, fixmap, frame table, vmap; the
 * xenheap) are shared; slots 2 and 3 are each VCPU's domheap window.
 */
#ifndef ARCH_PT_H
#define ARCH_PT_H

#include <lib/types.h>
#include <mm/lpae.h>

/* Number of level-1 slots in the 32-bit VA space. */
#define PT_SLOTS 4

/*
 * The shared level-2 table for 1 GiB slot `slot`, as a pointer common code
 * may read and pass to arch_pt_write(); NULL if the slot is not for common
 * code to edit (not shared, or not set up yet).
 */
lpae_t *arch_pt_second(unsigned int slot);

/*
 * A pointer through which the table page at pa can be read and written,
 * until arch_pt_unmap_table(). Works for tables from the boot allocator, the
 * heap and the image alike. At most one table is mapped at a time by
 * common/mm/pt.c, and mappings are released in reverse order.
 */
lpae_t *arch_pt_map_table(paddr_t pa);
void arch_pt_unmap_table(lpae_t *table);

/*
 * Stores one descriptor with a single-copy-atomic 64-bit write, so no walker
 * can see half of it. No barrier: see arch_pt_barrier(). va is the first
 * virtual address the entry translates and level its level (2 or 3); the
 * image ignores both, the host records them.
 */
void arch_pt_write(lpae_t *entry, lpae_t value, vaddr_t va, unsigned int level);

/*
 * DSB (inner shareable, stores) then ISB: every earlier table store is
 * visible to every CPU's table walker and ordered before any later TLB
 * maintenance, and later instructions on this CPU translate with the new
 * entries.
 */
void arch_pt_barrier(void);

/*
 * Removes from every CPU's TLB (inner shareable broadcast) what they may
 * hold for nr consecutive entries of the given level from va: leaf entries
 * and the table-walk entries cached on the way to them. Returns when the
 * invalidation is complete everywhere (DSB) and this CPU's pipeline has
 * been resynchronised (ISB). The arch may invalidate more than asked (the
 * whole Hyp TLB for a large range).
 */
void arch_pt_flush_tlb(vaddr_t va, unsigned long nr, unsigned int level);

/*
 * Called once an update that changed an executable mapping (a leaf without
 * XN, before or after) has completed its TLB maintenance: removes what any
 * CPU predicted from the old instructions at those addresses. ARMv7 (Arm
 * ARM B2.2.6) requires branch-predictor invalidation when the instructions
 * at a virtual address change, a new mapping included; on ARM32 this is
 * BPIALLIS (and ICIALLUIS where the instruction cache is virtually tagged),
 * then DSB and ISB. The host records it.
 */
void arch_pt_sync_exec(void);

/* The vmap region, [*start, *end): page aligned, inside a shared slot. */
void arch_vmap_window(vaddr_t *start, vaddr_t *end);

#endif
