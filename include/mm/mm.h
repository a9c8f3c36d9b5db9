/*
 * The frame table and the xenheap direct map.
 *
 * Every frame of a PDX group that holds RAM has a struct page_info in the
 * frame table, a virtually contiguous array indexed by pdx (see pdx.h) and
 * mapped by the arch in the frame-table window (ARM32: 96 MiB at
 * 0x02000000). Its size decides how much RAM the window can describe, so
 * page_info is kept to 16 bytes on ARM32 (6M pages = 24 GiB of RAM):
 *
 *   - 8 bytes that are either the free-list links of a free block's first
 *     page or the owner of an allocated page; never both, since a page is
 *     never free and allocated at once. Links are 32-bit pdx values rather
 *     than pointers: the same 8 bytes on the 64-bit host, and list heads
 *     that are one word.
 *   - count_info: the page's state and flags (below);
 *   - order: on the first page of a free block or an allocation, its order.
 *
 * The xenheap is one physically contiguous range chosen at boot and mapped
 * permanently (ARM32: VA 0x40000000, up to 1 GiB). __pa/__va and friends
 * translate only within it; debug builds check that and panic naming the
 * address, because a domheap page has no permanent mapping and must be
 * reached through map_domain_page().
 */
#ifndef MM_H
#define MM_H

#include <lib/lib.h>
#include <lib/types.h>
#include <mm/pdx.h>

struct domain;

struct page_info {
    union {
        struct {
            unsigned int next, prev;    /* raw pdx of neighbours, PDX_NONE at the ends */
        } list;                     /* PGS_free pages with PGC_head */
        struct domain *owner;       /* PGS_inuse: owner, NULL if anonymous or xenheap */
    } u;
    unsigned int count_info;        /* PGS_* state | PGC_* flags */
    unsigned int order;             /* PGC_head pages: order of the block */
};

#define PDX_NONE 0xffffffffu

/*
 * count_info. The state (low two bits):
 *   PGS_none    not heap memory: a non-RAM frame inside a PDX group, reserved
 *               memory, the image, the frame table, boot allocations;
 *   PGS_free    part of a free block of the buddy heap;
 *   PGS_inuse   allocated from the xenheap or the domheap;
 *   PGS_buffer  a xenheap page withheld so that no free block can join
 *               xenheap and domheap frames (see init_xenheap_pages).
 * Flags:
 *   PGC_head        first page of a free block or of an allocation;
 *   PGC_need_scrub  contents unknown (boot memory, or freed by an owner):
 *                   cleared before the page is handed out again;
 *   PGC_poisoned    debug builds: filled with PAGE_POISON_BYTE when freed and
 *                   checked when allocated, to catch writes after free;
 *   PGC_listed      heap_check's mark, only while it holds the heap lock;
 *   PGC_xen_heap    PGS_inuse pages of a xenheap allocation (as in Xen), so that
 *                   freeing checks state, head and heap in one compare;
 *   PGC_zone(z)     the frame's zone (page_alloc.c), written when the frame
 *                   enters the heap and kept while it is free or in use: a
 *                   free finds its free list without translating pdx to mfn.
 */
#define PGC_state_mask  0x3u
#define PGS_none        0x0u
#define PGS_free        0x1u
#define PGS_inuse       0x2u
#define PGS_buffer      0x3u
#define PGC_head        (1u << 2)
#define PGC_need_scrub  (1u << 3)
#define PGC_poisoned    (1u << 4)
#define PGC_listed      (1u << 5)
#define PGC_xen_heap    (1u << 6)
#define PGC_zone_shift  27
#define PGC_zone_mask   (0x1fu << PGC_zone_shift)
#define PGC_zone(z)     ((unsigned int)(z) << PGC_zone_shift)

#define PAGE_POISON_BYTE 0xa5u

static inline unsigned int page_state(const struct page_info *pg)
{
    return pg->count_info & PGC_state_mask;
}

/* The frame table: page_info for pdx 0 (the arch's frame-table window). */
extern struct page_info *frame_table;

static inline pdx_t page_to_pdx(const struct page_info *pg)
{
    return _pdx((unsigned long)(pg - frame_table));
}

static inline struct page_info *pdx_to_page(pdx_t pdx)
{
    return frame_table + pdx_x(pdx);
}

static inline mfn_t page_to_mfn(const struct page_info *pg)
{
    return pdx_to_mfn(page_to_pdx(pg));
}

static inline struct page_info *mfn_to_page(mfn_t mfn)
{
    ASSERT(mfn_valid(mfn));
    return pdx_to_page(mfn_to_pdx(mfn));
}

static inline paddr_t page_to_maddr(const struct page_info *pg)
{
    return mfn_to_paddr(page_to_mfn(pg));
}

static inline struct page_info *maddr_to_page(paddr_t pa)
{
    return mfn_to_page(paddr_to_mfn(pa));
}

/* Is pg a page_info inside the frame table? (For checking callers.) */
static inline bool page_in_frame_table(const struct page_info *pg)
{
    return frame_table && pg >= frame_table && pg < frame_table + max_pdx;
}

/* --- xenheap ------------------------------------------------------------ */

/* The xenheap range chosen at boot, buffer pages included: [start, end). */
extern mfn_t xenheap_mfn_start, xenheap_mfn_end;
/* Where the arch mapped xenheap_mfn_start. */
extern vaddr_t xenheap_virt_start;

/* Frames in the xenheap range, buffer pages included. */
static inline unsigned long xenheap_nr_pages(void)
{
    return mfn_x(xenheap_mfn_end) - mfn_x(xenheap_mfn_start);
}

static inline bool is_xen_heap_mfn(mfn_t mfn)
{
    /* One unsigned compare: below start wraps to a huge offset. */
    return mfn_x(mfn) - mfn_x(xenheap_mfn_start) < xenheap_nr_pages();
}

static inline bool is_xen_heap_page(const struct page_info *pg)
{
    return is_xen_heap_mfn(page_to_mfn(pg));
}

static inline bool is_xen_heap_virt(const void *va)
{
    vaddr_t off = (vaddr_t)va - xenheap_virt_start;

    return off < (vaddr_t)(xenheap_nr_pages() << PAGE_SHIFT);
}

/* Debug builds: a translation outside the xenheap. Names the address. */
void xenheap_bad_virt(const char *what, const void *va) __noreturn;
void xenheap_bad_maddr(const char *what, paddr_t pa) __noreturn;

static inline paddr_t virt_to_maddr(const void *va)
{
#ifdef CONFIG_DEBUG
    if (unlikely(!is_xen_heap_virt(va)))
        xenheap_bad_virt("__pa", va);
#endif
    return mfn_to_paddr(xenheap_mfn_start) + ((vaddr_t)va - xenheap_virt_start);
}

static inline void *maddr_to_virt(paddr_t pa)
{
#ifdef CONFIG_DEBUG
    if (unlikely(!is_xen_heap_mfn(paddr_to_mfn(pa))))
        xenheap_bad_maddr("__va", pa);
#endif
    return (void *)(xenheap_virt_start + (vaddr_t)(pa - mfn_to_paddr(xenheap_mfn_start)));
}

/* Xenheap only: virtual address <-> frame number, in frames (no 64-bit addresses). */
static inline mfn_t virt_to_mfn(const void *va)
{
#ifdef CONFIG_DEBUG
    if (unlikely(!is_xen_heap_virt(va)))
        xenheap_bad_virt("virt_to_mfn", va);
#endif
    return mfn_add(xenheap_mfn_start, ((vaddr_t)va - xenheap_virt_start) >> PAGE_SHIFT);
}

static inline void *mfn_to_virt(mfn_t mfn)
{
#ifdef CONFIG_DEBUG
    if (unlikely(!is_xen_heap_mfn(mfn)))
        xenheap_bad_maddr("mfn_to_virt", mfn_to_paddr(mfn));
#endif
    return (void *)(xenheap_virt_start +
                    ((vaddr_t)(mfn_x(mfn) - mfn_x(xenheap_mfn_start)) << PAGE_SHIFT));
}

/* Xenheap only: virtual <-> machine address, page. */
#define __pa(va) virt_to_maddr(va)
#define __va(pa) maddr_to_virt(pa)
#define virt_to_page(va) mfn_to_page(virt_to_mfn(va))
#define page_to_virt(pg) mfn_to_virt(page_to_mfn(pg))

#endif
