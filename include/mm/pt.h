/*
 * Updates of the hypervisor's own page tables (Hyp stage 1, LPAE): map,
 * unmap and change the permissions of ranges of virtual addresses, with
 * Xen's names.
 *
 *  - 2 MiB blocks where the caller allows them (_PAGE_BLOCK) and the virtual
 *    and physical addresses are both 2 MiB aligned; 4 KiB pages otherwise.
 *  - Writable and executable at once is refused: HSCTLR.WXN would make such
 *    a mapping execute-never anyway, and asking for it is a bug.
 *  - A live entry is never replaced by another live entry that differs in
 *    output address, size or memory type without break-before-make (Arm ARM
 *    B3.10.1): invalidate, DSB, TLB invalidate on every CPU, DSB, then write
 *    the new entry. Splitting a block into a table of pages, remapping a
 *    mapped page and replacing a table by a block all go this way.
 *    Permission-only changes (modify_xen_mappings) are written in place and
 *    flushed afterwards, which the architecture allows.
 *  - Outside the vmap window (image, fixmap, device tree, frame table,
 *    xenheap: memory any CPU may be using at any moment), a live entry is
 *    never broken: a request that would split a block into pages, merge a
 *    table of live pages into a block, or remap a live block or page is
 *    refused with -EBUSY, because for the moment between break and make
 *    every other CPU using those addresses would take a translation fault.
 *    New entries, unmapping and in-place permission changes are allowed
 *    there; inside the vmap window each address belongs to one allocation,
 *    whose owner may change it as it likes.
 *  - Level-3 tables come from the boot allocator until the heap is up, from
 *    the domheap (at any address, above 4 GiB too) afterwards, and are
 *    reached through map_domain_page(). A heap table that becomes empty is unlinked,
 *    flushed and freed, so a mapping made and destroyed leaves the heap as
 *    it was.
 *
 * Errors are negative return codes, each printed once with what was asked
 * and why it was refused. Argument checks happen before anything changes;
 * only running out of memory for a table can stop an operation part-way
 * (the range is then partly done: destroy it to clean up, as in Xen).
 *
 * One lock serialises all updates; it is never held across a panic.
 */
#ifndef PT_H
#define PT_H

#include <lib/errno.h>
#include <lib/types.h>
#include <mm/lpae.h>

/*
 * Mapping flags. The low three bits are the memory type (an MT_* AttrIndx
 * from lpae.h).
 */
#define _PAGE_MT_MASK   0x7u
#define _PAGE_RO        (1u << 3)   /* read-only (AP[2]) */
#define _PAGE_XN        (1u << 4)   /* execute-never */
#define _PAGE_BLOCK     (1u << 5)   /* 2 MiB blocks allowed where aligned */
/*
 * A 2-bit tag kept in software bits 0-1 of every entry of a mapping, which
 * the MMU ignores: the mapping's owner says there what the mapping is, so
 * that it can be told later from the entries alone. vmap records the kind of
 * allocation (vmap.h, enum vm_kind): vfree must not free frames that a
 * vmap only borrowed, vunmap must not drop frames that vmalloc owns.
 */
#define _PAGE_TAG_SHIFT 6
#define _PAGE_TAG_MASK  (3u << _PAGE_TAG_SHIFT)
#define _PAGE_TAG(t)    (((unsigned int)(t) << _PAGE_TAG_SHIFT) & _PAGE_TAG_MASK)
#define _PAGE_FLAGS_ALL 0xffu

#define PAGE_HYPERVISOR_RW      (MT_NORMAL | _PAGE_XN)
#define PAGE_HYPERVISOR_RO      (MT_NORMAL | _PAGE_XN | _PAGE_RO)
#define PAGE_HYPERVISOR_RX      (MT_NORMAL | _PAGE_RO)
#define PAGE_HYPERVISOR         PAGE_HYPERVISOR_RW
#define PAGE_HYPERVISOR_NOCACHE (MT_DEVICE | _PAGE_XN)      /* Device: MMIO */
#define PAGE_HYPERVISOR_WC      (MT_NORMAL_NC | _PAGE_XN)   /* Normal non-cacheable */

/* The tag that _PAGE_TAG(t) wrote into entry e. */
static inline unsigned int pt_entry_tag(lpae_t e)
{
    return (unsigned int)(e >> (32 + LPAE_HI_SW_SHIFT)) & 3u;
}

/* Largest mapping granule. */
#define PT_BLOCK_SIZE   (2UL << 20)
#define PT_BLOCK_PAGES  (PT_BLOCK_SIZE >> PAGE_SHIFT)

/*
 * Maps nr_mfns frames from mfn at virt (page aligned), replacing whatever
 * was mapped there (with break-before-make). Returns 0, -EINVAL (bad
 * arguments, W+X, a slot common code may not edit), -ERANGE (past the 32-bit
 * VA or 40-bit PA space), -EBUSY (a live entry outside the vmap window would
 * be split, merged or remapped, see above) or -ENOMEM (no page for a table).
 */
int map_pages_to_xen(vaddr_t virt, mfn_t mfn, unsigned long nr_mfns, unsigned int flags);

/*
 * The same for frames that need not be contiguous: nr runs of `run` frames,
 * run k starting at mfn[k], mapped one after another from virt. One lock,
 * one walk per level-3 table and one barrier for the lot, where a loop of
 * map_pages_to_xen calls would pay them per run. Blocks are used where
 * allowed and 512 frames happen to be contiguous and aligned.
 */
int map_frames_to_xen(vaddr_t virt, const mfn_t *mfn, unsigned long run, unsigned long nr,
                      unsigned int flags);

/*
 * Unmaps [s, e) (page aligned); unmapped parts are fine. 0 or -errno
 * (-EBUSY if part of a live block outside the vmap window would remain).
 */
int destroy_xen_mappings(vaddr_t s, vaddr_t e);

/*
 * Changes the permissions (_PAGE_RO, _PAGE_XN) of every page of [s, e).
 * Every page must be mapped, and flags' memory type must be the one it is
 * mapped with (changing the memory type of a live mapping is refused). The
 * range is checked before anything changes. 0 or -errno (-EBUSY for part of
 * a block outside the vmap window, which would need a split).
 */
int modify_xen_mappings(vaddr_t s, vaddr_t e, unsigned int flags);

/*
 * Software walk of the tables the MMU uses, for tests, vfree and fault
 * reports. Returns the entry that decides how va translates (a block, a
 * page, or the invalid entry where the walk stopped) and its level in
 * *level; 0 (and level 0) if va is outside every shared slot.
 */
lpae_t pt_lookup(vaddr_t va, unsigned int *level);

/* Where va translates, or PT_NO_PADDR if it would fault. */
#define PT_NO_PADDR (~(paddr_t)0)
paddr_t pt_translate(vaddr_t va);

/* Level-3 tables allocated from the heap and still linked (for tests). */
unsigned long pt_heap_tables(void);

#endif
