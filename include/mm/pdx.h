/*
 * PDX: a compressed page index, so that the frame table grows with the RAM
 * present and not with the span of physical addresses.
 *
 * LPAE gives 40-bit physical addresses (2^28 frames); real machines put a
 * few banks far apart in that space (QEMU's RAM starts at 1 GiB, a second
 * bank may sit at 32 GiB). Indexing the frame table by MFN would give every
 * hole a page_info per page. Instead, the MFN space is cut into groups of
 * 2^PDX_GROUP_SHIFT frames (128 MiB), and only groups that hold RAM get a
 * slice of the frame table, numbered in ascending address order:
 *
 *     pdx = pdx_group_of[mfn >> S] << S | (mfn & (2^S - 1))
 *     mfn = mfn_group_of[pdx >> S] << S | (pdx & (2^S - 1))
 *
 * Both directions are a table load, a shift and an OR: cheap enough for the
 * allocator's hot paths. A hole between banks costs nothing beyond rounding
 * each bank's ends out to group boundaries (at most 512 KiB of page_info per
 * bank end, with 16-byte page_info).
 *
 * Two properties the buddy allocator relies on:
 *  - within a group, pdx and mfn agree in their low S bits, so the buddy of a
 *    block of order < S is found by flipping a bit of its pdx;
 *  - groups that are adjacent in MFN space and both hold RAM are adjacent in
 *    PDX space, so a free block (all RAM) is contiguous in the frame table
 *    even when it spans several groups (MAX_ORDER > S).
 *
 * A page index is a pdx_t (TYPE_SAFE, lib/typesafe.h), a type of its own in
 * debug builds: pdx and mfn are equal on a machine whose RAM starts at
 * address 0 without holes, so a mix-up of the two would pass every test on
 * such a machine. Code crosses with mfn_to_pdx() and pdx_to_mfn() only.
 *
 * Why groups and not Xen's PDX compression (squeezing out one run of always-
 * zero address bits): that removes a single hole shaped like a bit range;
 * groups remove any number of holes of any shape, at 128 MiB granularity.
 */
#ifndef PDX_H
#define PDX_H

#include <dt/bootinfo.h>
#include <lib/types.h>

#define PADDR_BITS 40                           /* LPAE */
#define MFN_BITS (PADDR_BITS - PAGE_SHIFT)      /* 28 */

#define PDX_GROUP_SHIFT 15                      /* 2^15 frames = 128 MiB */
#define PDX_GROUP_PAGES (1UL << PDX_GROUP_SHIFT)
#define PDX_NR_GROUPS (1UL << (MFN_BITS - PDX_GROUP_SHIFT))   /* 8192 */
#define PDX_GROUP_NONE 0xffffu                  /* the group holds no RAM we use */

/* Index of a page_info in the frame table. Gives pdx_t, _pdx(), pdx_x(). */
TYPE_SAFE(unsigned long, pdx)

/* mfn group -> pdx group, and back. Filled by pdx_init(). */
extern uint16_t pdx_group_of[PDX_NR_GROUPS];
extern uint16_t mfn_group_of[PDX_NR_GROUPS];

/* Page indices in use are [0, max_pdx); a multiple of PDX_GROUP_PAGES. */
extern unsigned long max_pdx;

/* Does this frame have a page_info? True for every frame of a group that
 * holds RAM, including non-RAM frames in the group (their state says so). */
static inline bool mfn_valid(mfn_t mfn)
{
    unsigned long group = mfn_x(mfn) >> PDX_GROUP_SHIFT;

    return group < PDX_NR_GROUPS && pdx_group_of[group] != PDX_GROUP_NONE;
}

/* Only for valid frames. */
static inline pdx_t mfn_to_pdx(mfn_t mfn)
{
    unsigned long m = mfn_x(mfn);

    return _pdx(((unsigned long)pdx_group_of[m >> PDX_GROUP_SHIFT] << PDX_GROUP_SHIFT) |
                (m & (PDX_GROUP_PAGES - 1)));
}

/* Only for pdx < max_pdx. */
static inline mfn_t pdx_to_mfn(pdx_t pdx)
{
    unsigned long p = pdx_x(pdx);

    return _mfn(((unsigned long)mfn_group_of[p >> PDX_GROUP_SHIFT] << PDX_GROUP_SHIFT) |
                (p & (PDX_GROUP_PAGES - 1)));
}

/*
 * Gives a pdx group to every group that holds RAM, in ascending address
 * order, until max_pages page indices are used (the frame-table window is
 * full). Ranges need not be sorted; RAM at or above 2^40 is skipped.
 * Returns the address below which all RAM is covered: RAM at or above it
 * has no page_info and must be ignored by the caller (1 << PADDR_BITS when
 * everything fits).
 */
paddr_t pdx_init(const struct mem_range *ram, unsigned int nr, unsigned long max_pages);

#endif
