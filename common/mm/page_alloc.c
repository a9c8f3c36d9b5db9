/*
 * The buddy allocator behind the xenheap and the domheap (page_alloc.h has
 * the model and the API; heap.h the free lists and the locking rule).
 *
 * Allocation (alloc_heap_pages): under the lock, take the first block of the
 * highest zone that has one large enough (of the order asked for if it has
 * one, else the smallest larger one, split down), and mark every page
 * allocated; then, with the lock dropped, clear or check the contents that
 * need it.
 *
 * Freeing (free_heap_pages): under the lock, check that the page heads an
 * allocation of that order from that heap; mark every page free and list
 * the block, merged with its free buddies. Each API first checks what its
 * caller handed in: free_domheap_pages that the pointer is a page_info,
 * free_xenheap_pages that the address is a xenheap page.
 *
 * Every page of a block is touched on both paths (its state, flags and
 * owner): that is what lets any misuse of any page be caught, and what
 * heap_check() verifies. count_info (mm.h) also keeps the frame's zone, so
 * that a free finds its list without translating pdx to mfn, and
 * PGC_xen_heap on xenheap allocations, so that freeing a page through the
 * wrong heap's API is one more bit in the comparison that checks its state.
 *
 * Scrubbing. Pages whose contents are unknown carry PGC_need_scrub and are
 * cleared when allocated, after the lock is dropped: boot memory starts that
 * way, so boot touches no page contents. Domheap pages are marked again when
 * freed (release builds). Debug builds instead fill every freed page with
 * PAGE_POISON_BYTE (which also erases the old contents) and check the
 * pattern on allocation, so a write after free is reported with its page and
 * offset.
 */
#include <domain/domain.h>
#include <lib/lib.h>
#include <mm/domain_page.h>
#include <string.h>
#include <test/hooks.h>

#include "heap.h"

struct heaps heaps = { .lock = SPIN_LOCK_UNLOCKED };
const char *const heap_name[NR_HEAPS] = { "domheap", "xenheap" };

BUILD_BUG_ON(MEMF_no_scrub >= (1u << _MEMF_bits));

static inline unsigned int read_count_info(const struct page_info *pg)
{
    return __atomic_load_n(&pg->count_info, __ATOMIC_RELAXED);
}

/* Drops the heap lock, then panics with what the caller did wrong. */
static void __noreturn __printf(3, 4) misuse_unlock(const char *caller, mfn_t mfn,
                                                    const char *fmt, ...)
{
    char why[160];
    va_list ap;

    va_start(ap, fmt);
    fmt_vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    spin_unlock(&heaps.lock);
    panic("%s: page mfn 0x%lx (pa 0x%llx) %s", caller, mfn_x(mfn),
          (unsigned long long)mfn_to_paddr(mfn), why);
}

/* --- page contents ------------------------------------------------------- */

/* Xenheap frames are always mapped; anything else goes through map_domain_page. */
static void *map_frame(mfn_t mfn)
{
    return is_xen_heap_mfn(mfn) ? mfn_to_virt(mfn) : map_domain_page(mfn);
}

static void unmap_frame(mfn_t mfn, void *va)
{
    if (!is_xen_heap_mfn(mfn))
        unmap_domain_page(va);
}

static void fill_frame(mfn_t mfn, int byte)
{
    void *va = map_frame(mfn);

    memset(va, byte, PAGE_SIZE);
    unmap_frame(mfn, va);
}

/*
 * Compares a word at a time: a byte-wise memcmp against a page of poison made every
 * check cost about 7 instructions a byte, and debug builds check every page they hand
 * out (the image's self-tests that drain a 1 GiB heap took 5 times as long).
 */
static void check_poison(mfn_t mfn)
{
    const unsigned long poison = ~0UL / 0xff * PAGE_POISON_BYTE;
    const unsigned long *w = map_frame(mfn);
    const uint8_t *byte = (const uint8_t *)w;
    size_t i = 0, off;
    uint8_t found;

    while (i < PAGE_SIZE / sizeof(*w) && w[i] == poison)
        i++;
    if (i == PAGE_SIZE / sizeof(*w)) {
        unmap_frame(mfn, (void *)w);
        return;
    }
    for (off = i * sizeof(*w); byte[off] == PAGE_POISON_BYTE; off++)
        ;
    found = byte[off];
    unmap_frame(mfn, (void *)w);
    panic("write after free: page mfn 0x%lx (pa 0x%llx) offset 0x%zx holds 0x%02x, "
          "not the poison 0x%02x", mfn_x(mfn), (unsigned long long)mfn_to_paddr(mfn), off,
          found, PAGE_POISON_BYTE);
}

/*
 * Does the work the pages' flags ask for: checks the poison, or clears
 * them; with zero, a poisoned page is cleared after its check too. The block is the caller's by now, so this runs without the lock;
 * the flags are cleared atomically because heap_check may be reading
 * count_info at the same time.
 */
static noinline void prepare_pages(struct page_info *pg, unsigned long n, bool zero)
{
    mfn_t mfn = page_to_mfn(pg);

    for (unsigned long i = 0; i < n; i++) {
        unsigned int flags = read_count_info(&pg[i]) & (PGC_need_scrub | PGC_poisoned);

        if (flags & PGC_poisoned) {
            check_poison(mfn_add(mfn, i));
            /* A caller that did not say MEMF_no_scrub gets zeros, poison or not: a guest's RAM. */
            if (zero)
                fill_frame(mfn_add(mfn, i), 0);
        } else if (flags & PGC_need_scrub) {
            fill_frame(mfn_add(mfn, i), 0);
        }
        if (flags)
            __atomic_and_fetch(&pg[i].count_info, ~flags, __ATOMIC_RELAXED);
    }
}

/* --- free lists ---------------------------------------------------------- */

void merge_free_block_locked(struct heap *hp, unsigned int zone, struct page_info *pg,
                             unsigned int order)
{
    bool may_straddle = heaps.may_straddle;
    struct page_info *buddy;

    for (; (buddy = free_buddy(pg, order, zone)); order++) {
        list_del_locked(heap_of_block(hp, buddy, may_straddle), zone, order, buddy);
        /* The merged block starts at the lower half; the upper one is a tail now. */
        if (buddy < pg) {
            pg->count_info &= ~PGC_head;
            pg = buddy;
            hp = heap_of_block(hp, pg, may_straddle);
        } else {
            buddy->count_info &= ~PGC_head;
        }
    }
    pg->order = order;
    list_add_locked(hp, zone, order, pg);
}

/* --- allocation ---------------------------------------------------------- */

/* The zones whose every frame is below 2^bits of address (bits = 0: no limit). */
static unsigned int zones_below(unsigned int memflags)
{
    unsigned int bits = memflags >> _MEMF_bits;

    /* Zone z holds frames below 2^z, i.e. addresses below 2^(z + PAGE_SHIFT). */
    if (!bits || bits - PAGE_SHIFT >= NR_ZONES - 1)
        return ~0u;
    if (bits <= PAGE_SHIFT)
        return 0;
    return (2u << (bits - PAGE_SHIFT)) - 1;
}

/*
 * The flags whose work is still to do when the pages are handed out: the
 * poison check always, the scrub unless the caller overwrites the pages.
 */
static inline unsigned int pending_work(unsigned int memflags)
{
    return (POISON_FREED_PAGES ? PGC_poisoned : 0) |
           (memflags & MEMF_no_scrub ? 0 : PGC_need_scrub);
}

static noinline void __noreturn not_free_unlock(const struct page_info *pg)
{
    misuse_unlock("alloc_heap_pages", page_to_mfn(pg), "is in a free block but its state is "
                  "%u: heap corrupted", page_state(pg));
}

/*
 * Marks the free block of 2^order pages at pg allocated from heap, keeping
 * the flags whose work prepare_pages() will do. Returns those flags, OR-ed
 * over the block. The first page also gets PGC_head; it records the order
 * already, as the first page of any free block does.
 */
static always_inline unsigned int mark_allocated_locked(struct page_info *pg, unsigned int order,
                                                        enum heap_id heap, unsigned int memflags)
{
    unsigned long n = 1UL << order;
    unsigned int keep = pending_work(memflags), c = pg->count_info, work = c & keep;
    /* Every page of an aligned block is in its first page's zone. */
    unsigned int state = (c & PGC_zone_mask) | PGS_inuse | (heap == HEAP_XEN ? PGC_xen_heap : 0);

    if (DEBUG_BUILD)
        for (unsigned long i = 0; i < n; i++)
            if (page_state(&pg[i]) != PGS_free)
                not_free_unlock(&pg[i]);
    pg->count_info = state | PGC_head | work;
    pg->u.owner = NULL;
    if (!keep) {
        /* No work to keep: stores only, four pages a round (make bench: order-9 pair). */
#pragma GCC unroll 4
        for (unsigned long i = 1; i < n; i++) {
            pg[i].count_info = state;
            pg[i].u.owner = NULL;
        }
        return 0;
    }
    for (unsigned long i = 1; i < n; i++) {
        unsigned int flags = pg[i].count_info & keep;

        work |= flags;
        pg[i].count_info = state | flags;
        pg[i].u.owner = NULL;
    }
    return work;
}

/*
 * Finds the zone to allocate 2^order pages from: the highest that has a
 * large enough free block (keeping low memory for those who need it).
 * False if there is none.
 */
static always_inline bool find_zone_locked(const struct heap *hp, unsigned int order,
                                           unsigned int memflags, unsigned int *zone)
{
    unsigned int zones = hp->nonempty_zones;

    if (memflags >> _MEMF_bits)
        zones &= zones_below(memflags);
    while (zones) {
        unsigned int z = fls_ul(zones) - 1;

        /* Every zone with free memory has a block of order 0 or more. */
        if (order == 0 || hp->nonempty[z] >> order) {
            *zone = z;
            return true;
        }
        zones &= ~(1u << z);
    }
    return false;
}

/*
 * Takes the smallest free block of zone larger than 2^order pages, which
 * has one, and gives back its upper halves, from the largest down to
 * order, each to its own heap (the same one, unless a test removed the
 * xenheap's buffer pages). Returns the block of 2^order pages left. A block
 * is contiguous in the frame table (pdx.h), so its halves are found by
 * pointer arithmetic.
 */
static noinline struct page_info *split_block_locked(struct heap *hp, unsigned int zone,
                                                     unsigned int order)
{
    unsigned int j = order + (unsigned int)__builtin_ctz(hp->nonempty[zone] >> order);
    struct page_info *pg = list_pop_locked(hp, zone, j);
    bool may_straddle = heaps.may_straddle;

    while (j > order) {
        struct page_info *upper;

        j--;
        upper = pg + (1UL << j);
        upper->count_info |= PGC_head;
        upper->order = j;
        if (may_straddle) {
            list_add_locked(heap_of_block(hp, upper, may_straddle), zone, j, upper);
            continue;
        }
        /*
         * No list of this zone below the order taken had a block: each half is alone on
         * its own, and needs no list_add (make bench: heap_split_merge 1478 -> 1248).
         */
        upper->u.list.next = PDX_NONE;
        upper->u.list.prev = PDX_NONE;
        hp->first[j][zone] = page_link(upper);
        hp->nonempty[zone] |= 1u << j;
    }
    hp->nonempty_zones |= 1u << zone;
    pg->order = order;
    return pg;
}

/* Allocates 2^order pages from heap; NULL if no block is large enough. */
static always_inline struct page_info *alloc_heap_pages(enum heap_id heap, unsigned int order,
                                                        unsigned int memflags)
{
    struct heap *hp = &heaps.heap[heap];
    unsigned int zone, work;
    struct page_info *pg;

    if (order > MAX_ORDER)
        return NULL;
    spin_lock(&heaps.lock);
    if (!find_zone_locked(hp, order, memflags, &zone)) {
        spin_unlock(&heaps.lock);
        return NULL;
    }
    hp->free_pages[zone] -= 1UL << order;
    /*
     * A block of the size asked for if the zone has one, popped inline; else
     * a larger one, split out of line (make bench: order-0 pair 205 -> 176).
     */
    if (hp->nonempty[zone] & (1u << order))
        pg = list_pop_locked(hp, zone, order);
    else
        pg = split_block_locked(hp, zone, order);
    work = mark_allocated_locked(pg, order, heap, memflags);
    spin_unlock(&heaps.lock);

    if (work)
        prepare_pages(pg, 1UL << order, !(memflags & MEMF_no_scrub));
    return pg;
}

/* --- freeing ------------------------------------------------------------- */

/* A page a caller gives back must be a page_info of the frame table. */
static void check_freed_pointer(const struct page_info *pg, const char *caller)
{
    uintptr_t offset = (uintptr_t)pg - (uintptr_t)frame_table;

    if (!frame_table || offset % sizeof(*pg) || offset / sizeof(*pg) >= max_pdx)
        panic("%s: %p is not a page_info in the frame table", caller, (const void *)pg);
}

/* Does pg head an allocation of this order from this heap? */
static bool is_allocation_head(const struct page_info *pg, unsigned int order,
                               enum heap_id heap)
{
    unsigned int want = PGS_inuse | PGC_head | (heap == HEAP_XEN ? PGC_xen_heap : 0);

    return (pg->count_info & (PGC_state_mask | PGC_head | PGC_xen_heap)) == want &&
           pg->order == order;
}

/* Says what is wrong with freeing pg (which is not an allocation head); drops the lock. */
static noinline void __noreturn bad_free_unlock(const struct page_info *pg, unsigned int order,
                                                enum heap_id heap, const char *caller)
{
    unsigned int c = pg->count_info;
    mfn_t mfn = page_to_mfn(pg);

    switch (c & PGC_state_mask) {
    case PGS_free:
        misuse_unlock(caller, mfn, "is already free (double free, or never allocated)");
    case PGS_none:
        misuse_unlock(caller, mfn, "is not heap memory: it was never allocated");
    case PGS_buffer:
        misuse_unlock(caller, mfn, "is the xenheap buffer page, withheld from the heap: "
                      "it was never allocated");
    }
    if (!(c & PGC_head))
        misuse_unlock(caller, mfn, "is not the first page of an allocation");
    if (mfn_heap(mfn) != heap)
        misuse_unlock(caller, mfn, "is a %s page", heap_name[mfn_heap(mfn)]);
    if (pg->order != order)
        misuse_unlock(caller, mfn, "was allocated with order %u but is freed with order %u",
                      pg->order, order);
    misuse_unlock(caller, mfn, "has count_info 0x%x, not that of a %s allocation: heap "
                  "corrupted", c, heap_name[heap]);
}

/*
 * Frees the 2^order pages at pg, allocated from heap. may_hold_data: the
 * pages may hold someone's data, so release builds mark them for scrubbing
 * (debug builds poison every freed page anyway). Returns the owner the
 * pages had.
 */
static always_inline struct domain *free_heap_pages(enum heap_id heap, struct page_info *pg,
                                                    unsigned int order, bool may_hold_data,
                                                    const char *caller)
{
    unsigned long n = 1UL << order;
    unsigned int flags = POISON_FREED_PAGES ? PGC_poisoned : may_hold_data ? PGC_need_scrub : 0;
    unsigned int state;
    struct domain *owner;

    if (order > MAX_ORDER)
        panic("%s: order %u is above MAX_ORDER (%u)", caller, order, MAX_ORDER);

    spin_lock(&heaps.lock);
    /* A block that passes lies inside the frame table: it was allocated with this order. */
    if (!is_allocation_head(pg, order, heap))
        bad_free_unlock(pg, order, heap, caller);
    if (DEBUG_BUILD)
        for (unsigned long i = 1; i < n; i++)
            if ((pg[i].count_info & (PGC_state_mask | PGC_head | PGC_xen_heap)) !=
                (pg->count_info & (PGC_state_mask | PGC_xen_heap)))
                misuse_unlock(caller, page_to_mfn(&pg[i]), "inside the order-%u allocation "
                              "at mfn 0x%lx is not in use: heap corrupted", order,
                              mfn_x(page_to_mfn(pg)));

    owner = pg->u.owner;
    state = (pg->count_info & PGC_zone_mask) | PGS_free | flags;
    if (POISON_FREED_PAGES)
        for (unsigned long i = 0; i < n; i++)
            fill_frame(mfn_add(page_to_mfn(pg), i), PAGE_POISON_BYTE);
    /* Four stores a round (make bench: order-9 pair, docs/benchmarks.md). */
#pragma GCC unroll 4
    for (unsigned long i = 0; i < n; i++)
        pg[i].count_info = state;
    pg->count_info |= PGC_head;
    heaps.heap[heap].free_pages[state >> PGC_zone_shift] += n;
    insert_free_block_locked(&heaps.heap[heap], state >> PGC_zone_shift, pg, order);
    spin_unlock(&heaps.lock);
    return owner;
}

/* --- the two heaps' APIs ------------------------------------------------- */

/*
 * Each API below inlines its path twice: once for order 0, the commonest
 * request, with its loops and its search folded away by the compiler
 * (make bench: order-0 pair 252 -> 205 instructions in the image), and once
 * for any order in an out-of-line copy (*_any), reached by a tail call, so
 * that order 0 does not save the registers the loops need (order-0 pair
 * 184 -> 176 in the image, 151 -> 140 on the host).
 */

static always_inline void *alloc_xenheap_block(unsigned int order, unsigned int memflags)
{
    struct page_info *pg = alloc_heap_pages(HEAP_XEN, order, memflags);

    return pg ? page_to_virt(pg) : NULL;
}

static noinline void *alloc_xenheap_any(unsigned int order, unsigned int memflags)
{
    return alloc_xenheap_block(order, memflags);
}

void *alloc_xenheap_pages(unsigned int order, unsigned int memflags)
{
    if (order != 0)
        return alloc_xenheap_any(order, memflags);
    return alloc_xenheap_block(0, memflags);
}

static always_inline void free_xenheap_block(struct page_info *pg, unsigned int order)
{
    free_heap_pages(HEAP_XEN, pg, order, false, "free_xenheap_pages");
}

static noinline void free_xenheap_any(struct page_info *pg, unsigned int order)
{
    free_xenheap_block(pg, order);
}

void free_xenheap_pages(void *v, unsigned int order)
{
    struct page_info *pg;

    if (!v)
        return;
    if (!is_xen_heap_virt(v) || (vaddr_t)v % PAGE_SIZE)
        panic("free_xenheap_pages: %p is not the address of a xenheap page", v);
    pg = virt_to_page(v);
    if (order != 0)
        free_xenheap_any(pg, order);
    else
        free_xenheap_block(pg, 0);
}

/* Gives new pages to d; if d refuses them, they go back untouched. */
static noinline struct page_info *assign_new_pages(struct domain *d, struct page_info *pg,
                                                   unsigned int order)
{
    if (assign_pages(d, pg, order) == 0)
        return pg;
    free_heap_pages(HEAP_DOM, pg, order, true, "alloc_domheap_pages");
    return NULL;
}

static always_inline struct page_info *alloc_domheap_block(struct domain *d, unsigned int order,
                                                           unsigned int memflags)
{
    struct page_info *pg = alloc_heap_pages(HEAP_DOM, order, memflags);

    return pg && d ? assign_new_pages(d, pg, order) : pg;
}

static noinline struct page_info *alloc_domheap_any(struct domain *d, unsigned int order,
                                                    unsigned int memflags)
{
    return alloc_domheap_block(d, order, memflags);
}

struct page_info *alloc_domheap_pages(struct domain *d, unsigned int order,
                                      unsigned int memflags)
{
    if (order != 0)
        return alloc_domheap_any(d, order, memflags);
    return alloc_domheap_block(d, 0, memflags);
}

static always_inline void free_domheap_block(struct page_info *pg, unsigned int order)
{
    struct domain *owner = free_heap_pages(HEAP_DOM, pg, order, true, "free_domheap_pages");

    if (owner)
        domain_adjust_tot_pages(owner, -(long)(1UL << order));
}

static noinline void free_domheap_any(struct page_info *pg, unsigned int order)
{
    free_domheap_block(pg, order);
}

void free_domheap_pages(struct page_info *pg, unsigned int order)
{
    check_freed_pointer(pg, "free_domheap_pages");
    if (order != 0)
        free_domheap_any(pg, order);
    else
        free_domheap_block(pg, 0);
}

/* --- counters ------------------------------------------------------------ */

unsigned long heap_free_pages_locked(const struct heap *hp)
{
    unsigned long n = 0;

    for (unsigned int z = 0; z < NR_ZONES; z++)
        n += hp->free_pages[z];
    return n;
}

/* Free pages of the chosen heaps, read under the lock so the sum is consistent. */
static unsigned long free_pages_of(bool xen, bool dom)
{
    unsigned long n = 0;

    spin_lock(&heaps.lock);
    if (xen)
        n += heap_free_pages_locked(&heaps.heap[HEAP_XEN]);
    if (dom)
        n += heap_free_pages_locked(&heaps.heap[HEAP_DOM]);
    spin_unlock(&heaps.lock);
    return n;
}

unsigned long avail_xenheap_pages(void)
{
    return free_pages_of(true, false);
}

unsigned long avail_domheap_pages(void)
{
    return free_pages_of(false, true);
}

unsigned long heap_free_pages(void)
{
    return free_pages_of(true, true);
}

bool heap_lock_is_held(void)
{
    return spin_is_locked(&heaps.lock);
}
