/*
 * The buddy heap's state, private to common/mm: the allocator
 * (page_alloc.c), its boot hand-over (heap_init.c) and its checker
 * (heap_check.c) share it; nothing else may touch it.
 *
 * Free memory is kept, per heap and per zone, in one doubly linked list per
 * order. A list is threaded through the first page_info of each free block
 * by 32-bit pdx links (mm.h). A bitmap per zone says which of its lists are
 * non-empty, and a bitmap per heap which of its zones have free memory, so
 * that finding a block is two find-first-set operations, not a scan; a
 * list's first-block field is read only when its bit is set, so an empty
 * heap needs no initialisation.
 *
 * Locking: heaps.lock protects heaps.heap[] and the count_info, order and list
 * links of every page of the heap. A function named *_locked expects the
 * caller to hold it and returns with it still held. Every other function
 * takes and drops it itself, and never panics while holding it: misuse is
 * found under the lock, the lock is dropped, then the panic reports it, so a
 * test that catches the panic finds the heap intact.
 */
#ifndef COMMON_MM_HEAP_H
#define COMMON_MM_HEAP_H

#include <lib/lib.h>
#include <lib/spinlock.h>
#include <mm/mm.h>
#include <mm/page_alloc.h>

enum heap_id { HEAP_DOM, HEAP_XEN, NR_HEAPS };

/*
 * The free lists of one heap, in arrays indexed by zone; the first-block
 * fields by order, then zone, so that a list of a known order is found
 * without a multiply (make bench: order-0 pair 173 -> 164 on the host).
 */
struct heap {
    unsigned int nonempty_zones;                  /* bit z: zone z has a free block */
    unsigned int nonempty[NR_ZONES];              /* bit o: zone z's order-o list has a block */
    unsigned long free_pages[NR_ZONES];           /* pages on zone z's lists */
    unsigned int first[MAX_ORDER + 1][NR_ZONES];  /* pdx of each list's first block, if its bit is set */
};

BUILD_BUG_ON(NR_ZONES > 32);
BUILD_BUG_ON(MAX_ORDER >= 32);
BUILD_BUG_ON(NR_ZONES - 1 > PGC_zone_mask >> PGC_zone_shift);

/*
 * Both heaps, with the lock that protects them (see above). may_straddle:
 * the xenheap's buffer pages are not withheld (only a host test does that),
 * so a free block may hold frames of both heaps (see heap_of_block).
 */
struct heaps {
    spinlock_t lock;
    bool may_straddle;
    struct heap heap[NR_HEAPS];
};

extern struct heaps heaps;
extern const char *const heap_name[NR_HEAPS];

/* The xenheap end pages withheld from the heap (see init_xenheap_pages). */
extern unsigned int nr_buffer_pages;
extern mfn_t buffer_page_mfn[2];

/* Debug builds poison freed pages (page_alloc.c). */
#define POISON_FREED_PAGES DEBUG_BUILD

/* 1-based index of the highest set bit; 0 for 0. */
static inline unsigned int fls_ul(unsigned long x)
{
    return x ? (unsigned int)(8 * sizeof(x)) - (unsigned int)__builtin_clzl(x) : 0;
}

/* The address-width zone, as in Xen: frames of zone z are in [2^(z-1), 2^z). */
static inline unsigned int mfn_zone(mfn_t mfn)
{
    return fls_ul(mfn_x(mfn));
}

static inline enum heap_id mfn_heap(mfn_t mfn)
{
    return is_xen_heap_mfn(mfn) ? HEAP_XEN : HEAP_DOM;
}

/* Is pg the first page of a free block of this order? */
static inline bool is_free_block(const struct page_info *pg, unsigned int order)
{
    return (pg->count_info & (PGC_state_mask | PGC_head)) == (PGS_free | PGC_head) &&
           pg->order == order;
}

/* Free pages of one heap: the sum of its zones. */
unsigned long heap_free_pages_locked(const struct heap *hp);

/*
 * The free-list operations, shared by the allocator and the boot hand-over.
 * Inline: each is a handful of loads and stores, and a call would cost as
 * much again on the allocator's paths (make bench: order-0 pair, see
 * docs/benchmarks.md).
 */

/* A list link: the page's raw pdx (see struct page_info). */
static inline unsigned int page_link(const struct page_info *pg)
{
    return (unsigned int)pdx_x(page_to_pdx(pg));
}

static inline struct page_info *link_page(unsigned int link)
{
    return pdx_to_page(_pdx(link));
}

static always_inline void list_add_locked(struct heap *hp, unsigned int zone, unsigned int order,
                                          struct page_info *pg)
{
    pg->u.list.prev = PDX_NONE;
    if (hp->nonempty[zone] & (1u << order)) {
        pg->u.list.next = hp->first[order][zone];
        link_page(hp->first[order][zone])->u.list.prev = page_link(pg);
    } else {
        pg->u.list.next = PDX_NONE;
        hp->nonempty[zone] |= 1u << order;
        hp->nonempty_zones |= 1u << zone;
    }
    hp->first[order][zone] = page_link(pg);
}

static always_inline void list_del_locked(struct heap *hp, unsigned int zone, unsigned int order,
                                          const struct page_info *pg)
{
    unsigned int next = pg->u.list.next, prev = pg->u.list.prev;

    if (prev == PDX_NONE)
        hp->first[order][zone] = next;
    else
        link_page(prev)->u.list.next = next;
    if (next != PDX_NONE)
        link_page(next)->u.list.prev = prev;
    else if (prev == PDX_NONE) {
        hp->nonempty[zone] &= ~(1u << order);
        if (!hp->nonempty[zone])
            hp->nonempty_zones &= ~(1u << zone);
    }
}

/* Takes the first block off a list that is not empty. */
static always_inline struct page_info *list_pop_locked(struct heap *hp, unsigned int zone,
                                                       unsigned int order)
{
    struct page_info *pg = link_page(hp->first[order][zone]);
    unsigned int next = pg->u.list.next;

    hp->first[order][zone] = next;
    if (next != PDX_NONE) {
        link_page(next)->u.list.prev = PDX_NONE;
    } else {
        hp->nonempty[zone] &= ~(1u << order);
        if (!hp->nonempty[zone])
            hp->nonempty_zones &= ~(1u << zone);
    }
    return pg;
}

/*
 * The first page of the buddy of the order-'order' block at pg, for an
 * order below PDX_GROUP_SHIFT: inside a PDX group, pdx and mfn share their
 * low bits (pdx.h), so the buddy is in the same group.
 */
static always_inline struct page_info *buddy_in_group(const struct page_info *pg,
                                                      unsigned int order)
{
    return pdx_to_page(_pdx(pdx_x(page_to_pdx(pg)) ^ (1UL << order)));
}

/* The same for any order; NULL if the buddy has no page_info. */
static always_inline struct page_info *buddy_page(const struct page_info *pg, unsigned int order)
{
    mfn_t buddy;

    if (order < PDX_GROUP_SHIFT)
        return buddy_in_group(pg, order);
    buddy = _mfn(mfn_x(page_to_mfn(pg)) ^ (1UL << order));
    return mfn_valid(buddy) ? mfn_to_page(buddy) : NULL;
}

/*
 * The heap whose lists hold the free block at pg, a half of, or a buddy of,
 * a block of heap hp: its first frame's. With the buffer pages withheld, no
 * free block holds frames of both heaps, so that is hp, and the split and
 * merge loops need no look-up per level. may_straddle is heaps.may_straddle,
 * read once by the caller: a bool may alias any store of the loop (make bench: heap_split_merge
 * 2120 -> 1478 in the image).
 */
static always_inline struct heap *heap_of_block(struct heap *hp, const struct page_info *pg,
                                                bool may_straddle)
{
    if (!may_straddle)
        return hp;
    return &heaps.heap[mfn_heap(page_to_mfn(pg))];
}

/*
 * Lists the free block of 2^order pages at pg, first merging it with its
 * buddy for as long as the buddy is a free block of the same order and zone.
 * hp is the block's heap, zone its zone. Its pages are already marked free,
 * the first with PGC_head.
 *
 * The merge does not ask which heap the buddy is in: it is the xenheap's
 * buffer pages (heap_init.c) that keep a free buddy in the same heap. So
 * that a host test can remove them and watch blocks straddle both heaps
 * (heap_check finds them), each block is still listed in its first frame's
 * heap, which is looked up only when a merge happens.
 */
void merge_free_block_locked(struct heap *hp, unsigned int zone, struct page_info *pg,
                             unsigned int order);

/*
 * The buddy the free block of this order at pg can merge with: a free block
 * of the same order and zone. NULL if there is none.
 */
static always_inline struct page_info *free_buddy(const struct page_info *pg, unsigned int order,
                                                  unsigned int zone)
{
    struct page_info *buddy;

    if (order < PDX_GROUP_SHIFT)
        buddy = buddy_in_group(pg, order);
    else if (order == MAX_ORDER || !(buddy = buddy_page(pg, order)))
        return NULL;
    if (!is_free_block(buddy, order) || (buddy->count_info & PGC_zone_mask) != PGC_zone(zone))
        return NULL;
    return buddy;
}

/*
 * The same, with the common case (a busy buddy: nothing to merge) inline.
 * pg->order is already order.
 */
static always_inline void insert_free_block_locked(struct heap *hp, unsigned int zone,
                                                   struct page_info *pg, unsigned int order)
{
    if (free_buddy(pg, order, zone)) {
        merge_free_block_locked(hp, zone, pg, order);
        return;
    }
    list_add_locked(hp, zone, order, pg);
}

#endif
