/*
 * Memory setup at boot: from the device tree's RAM description to a running
 * heap, the same way on the image and on the host's fake machines.
 *
 * setup_mm(bi):
 *   1. gives the frame table PDX groups for the RAM, up to what the
 *      frame-table window can describe (the rest is ignored, with a warning
 *      saying how much);
 *   2. chooses the xenheap (like Xen on ARM32): 1/32 of RAM rounded up to
 *      32 MiB, clamped to [32 MiB, 1 GiB], 32 MiB aligned, as high as
 *      possible inside one usable range; smaller in 32 MiB steps if that
 *      does not fit;
 *   3. gives every other usable page to the boot allocator;
 *   4. allocates the frame table from it and has the arch map it;
 *   5. has the arch map the xenheap and gives it to the xenheap;
 *   6. ends the boot allocator, which hands what is left to the domheap;
 *   7. prints the boot log: xenheap range, buffer pages, domheap pages,
 *      frame-table size, anything ignored.
 */
#ifndef SETUP_MM_H
#define SETUP_MM_H

#include <dt/bootinfo.h>
#include <lib/types.h>

#define XENHEAP_ALIGN (32ULL << 20)
#define XENHEAP_MIN (32ULL << 20)
#define XENHEAP_MAX (1ULL << 30)

#define MM_MAX_FRAMETABLE_RUNS 64

/* What setup_mm() built, for the boot log and tests. */
struct mm_layout {
    unsigned long ram_pages;        /* RAM pages with a page_info */
    unsigned long ignored_pages;    /* RAM pages beyond the frame-table window or 40 bits */
    paddr_t covered_end;            /* RAM at or above this is ignored */
    paddr_t usable_end;             /* end of the highest usable RAM in the heap */
    unsigned long pdx_groups;       /* PDX groups in use */
    size_t frametable_bytes;        /* frame-table memory (whole granules) */
    /* physically contiguous pieces of the frame table */
    unsigned int nr_frametable_runs;
    struct {
        size_t offset;              /* in the window */
        paddr_t pa;
        size_t bytes;
    } frametable_run[MM_MAX_FRAMETABLE_RUNS];
    paddr_t xenheap_start, xenheap_end;
    unsigned int nr_buffer_pages;   /* 0, 1 or 2 */
    mfn_t buffer_mfn[2];
    unsigned long xenheap_free_pages;   /* after boot */
    unsigned long domheap_free_pages;   /* after boot */
};

void setup_mm(const struct bootinfo *bi);

/* NULL before setup_mm(). */
const struct mm_layout *mm_layout(void);

#endif
