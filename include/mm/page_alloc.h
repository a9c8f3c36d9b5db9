/*
 * The buddy heap, split into a xenheap and a domheap (Xen's
 * CONFIG_SEPARATE_XENHEAP=y, as on ARM32).
 *
 *  - The xenheap is always mapped: alloc_xenheap_pages() returns a virtual
 *    address, usable at once and storable anywhere. Its pages are anonymous.
 *  - The domheap is all other RAM, including RAM above 4 GiB:
 *    alloc_domheap_pages() returns a struct page_info *, and the contents are
 *    reached through map_domain_page(). Pages may belong to a domain.
 *
 * Free memory is kept in lists per heap, per zone and per order. A zone is
 * the address width of the frame number (zone = fls(mfn), as in Xen), so
 * MEMF_bits(n) (addresses below 2^n) is a choice of zones. Allocation takes
 * the highest zone that has a large enough block and splits it; freeing
 * merges a block with its buddy when the buddy is free, of the same order,
 * and in the same zone, up to MAX_ORDER.
 *
 * That merge rule knows nothing of the xenheap/domheap split: as in Xen, it
 * is the one-page buffer withheld at each end of the xenheap (see
 * init_xenheap_pages) that keeps a free block from spanning both heaps.
 * heap_check() proves it.
 *
 * A page never reaches a new owner with an old owner's data: pages that may
 * hold someone's data carry PGC_need_scrub and are cleared when handed out
 * (lazily: boot memory is never touched at boot). Debug builds also fill
 * every freed page with a poison pattern and check it on allocation, to
 * catch writes after free. MEMF_no_scrub skips clearing for callers that
 * overwrite the page anyway.
 *
 * One spinlock protects all heap state; it is never held across a panic.
 */
#ifndef PAGE_ALLOC_H
#define PAGE_ALLOC_H

#include <lib/types.h>
#include <mm/pdx.h>

struct domain;
struct page_info;

/*
 * 2^18 pages = 1 GiB: the largest LPAE block mapping, and the largest
 * xenheap. Larger blocks would only help callers that want more than 1 GiB
 * contiguous, which nothing here does; smaller ones would make the boot
 * handover of a large machine longer.
 */
#define MAX_ORDER 18

/* Zones 1..MFN_BITS; zone 0 would be MFN 0 alone, which never enters the heap. */
#define NR_ZONES (MFN_BITS + 1)

/* memflags */
#define MEMF_no_scrub (1u << 0)           /* caller overwrites the whole allocation */
#define _MEMF_bits 24
#define MEMF_bits(n) ((unsigned int)(n) << _MEMF_bits)  /* every byte below 2^n */

/* Boot: give [ps, pe) to a heap (rounded inwards to pages). */
void init_xenheap_pages(paddr_t ps, paddr_t pe);
void init_domheap_pages(paddr_t ps, paddr_t pe);

/* Returns a xenheap virtual address, or NULL. */
void *alloc_xenheap_pages(unsigned int order, unsigned int memflags);
void free_xenheap_pages(void *v, unsigned int order);
#define alloc_xenheap_page() alloc_xenheap_pages(0, 0)
#define free_xenheap_page(v) free_xenheap_pages(v, 0)

/* d == NULL: an anonymous page. Fails (NULL) past d->max_pages. */
struct page_info *alloc_domheap_pages(struct domain *d, unsigned int order,
                                      unsigned int memflags);
void free_domheap_pages(struct page_info *pg, unsigned int order);
#define alloc_domheap_page(d, memflags) alloc_domheap_pages(d, 0, memflags)
#define free_domheap_page(pg) free_domheap_pages(pg, 0)

/* Free pages. */
unsigned long avail_xenheap_pages(void);
unsigned long avail_domheap_pages(void);
unsigned long heap_free_pages(void);        /* both heaps */

/*
 * Checks every invariant of the heap and returns 0, or a mask of
 * HEAP_BAD_* naming the kinds of problem found (each one is also printed,
 * up to a limit). Takes the heap lock; walks the whole frame table.
 */
#define HEAP_BAD_LIST      (1u << 0)  /* links, cycles, a block listed twice or not at all */
#define HEAP_BAD_STATE     (1u << 1)  /* a page's state contradicts the lists or its block */
#define HEAP_BAD_ALIGN     (1u << 2)  /* a free block not aligned to its order */
#define HEAP_BAD_BUDDY     (1u << 3)  /* two free buddies left unmerged */
#define HEAP_BAD_ZONE      (1u << 4)  /* a free block on the wrong zone list or across zones */
#define HEAP_BAD_STRADDLE  (1u << 5)  /* a free block with xenheap and domheap frames */
#define HEAP_BAD_COUNTERS  (1u << 6)  /* availability counters or list bitmaps wrong */
#define HEAP_BAD_BUFFER    (1u << 7)  /* buffer pages missing or misplaced */
#define HEAP_BAD_FRAMETABLE (1u << 8) /* frame-table memory handed to the heap */
unsigned int heap_check(void);

#endif
