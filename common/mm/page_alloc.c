/*
 * The buddy heap with the xenheap/domheap split (see page_alloc.h for the
 * model and the API).
 *
 * Data structures. For each heap (xenheap, domheap), zone and order there is
 * a doubly linked list of free blocks, threaded through the first page_info
 * of each block by 32-bit pdx links. A bitmap per zone says which orders
 * have a non-empty list, and a bitmap per heap which zones do, so that
 * finding a block is two find-first-set operations, not a scan: the list
 * heads are only read when their bit is set, which is also why an empty
 * list needs no initialisation. A counter per zone gives the free pages
 * (a heap's total is their sum, computed when asked).
 *
 * Page states live in every page's count_info (mm.h). Allocation and free
 * touch each page of the block once (state, flags, owner): that is what
 * lets any misuse of any page be caught, and what heap_check verifies.
 * count_info also carries the frame's zone and, in allocations,
 * PGC_xen_heap: a free checks state, head and heap in one compare and finds
 * its list without translating pdx to mfn. Splitting and merging touch only
 * the first page of each half.
 *
 * Scrubbing. Pages whose contents are unknown carry PGC_need_scrub and are
 * cleared on allocation, after the heap lock is dropped. Boot memory starts
 * that way, so boot touches no page contents. Freed domheap pages are marked
 * too (release builds); debug builds instead fill every freed page with
 * PAGE_POISON_BYTE (which also erases the old contents) and check the
 * pattern on allocation, so a write after free is reported with its page
 * and offset.
 *
 * Misuse (double free, wrong order, a page never allocated, the wrong heap's
 * API, a buffer page) is checked under the lock before anything changes, and
 * reported after the lock is dropped, so a test that catches the panic finds
 * the heap intact.
 */
#include <domain/domain.h>
#include <lib/lib.h>
#include <lib/spinlock.h>
#include <mm/domain_page.h>
#include <mm/mm.h>
#include <mm/page_alloc.h>
#include <mm/setup_mm.h>
#include <string.h>
#include <test/hooks.h>

enum { HEAP_DOM, HEAP_XEN, NR_HEAPS };

static const char *const heap_name[NR_HEAPS] = { "domheap", "xenheap" };

/*
 * One zone of one heap: what the hot paths touch sits in one 128-byte
 * record, found from the zone number by a shift and reached by constant
 * offsets from there.
 */
struct heap_zone {
    unsigned int head[MAX_ORDER + 1];   /* pdx of each list's first block, valid when its
                                           bit is set */
    unsigned int orders;                /* bit o: list o is not empty */
    unsigned long avail;                /* free pages */
} __attribute__((aligned(128)));

struct heap {
    unsigned int zones;                 /* bit z: zone z has a free block */
    struct heap_zone zone[NR_ZONES];
};

BUILD_BUG_ON(sizeof(struct heap_zone) != 128);
BUILD_BUG_ON(sizeof(struct page_info) != 16);   /* frame-table window capacity */
#define PAGE_INFO_SHIFT 4                       /* log2(sizeof(struct page_info)) */
BUILD_BUG_ON(sizeof(unsigned int) != 4);         /* pdx links, bitmaps */
BUILD_BUG_ON(NR_ZONES > 32);
BUILD_BUG_ON(MAX_ORDER >= 32);
BUILD_BUG_ON(MEMF_no_scrub >= (1u << _MEMF_bits));
BUILD_BUG_ON(PGC_need_scrub < MEMF_no_scrub);         /* pending_flags: a shift up */
BUILD_BUG_ON(NR_ZONES - 1 > PGC_zone_mask >> PGC_zone_shift);

/*
 * The lock next to what it protects: one address for both (one literal on
 * ARM). With them, copies of frame_table and max_pdx, which the order-0
 * fast paths then reach from the same base register (on ARM a global's
 * address costs two instructions). They are written whenever memory is
 * given to the heap, which on every machine comes after both are set, and
 * both are set once until teardown (heap_reset clears the copies).
 */
static struct {
    spinlock_t lock;
    struct page_info *frame_table;
    unsigned long max_pdx;
    struct heap heaps[NR_HEAPS];
} heap_state = { .lock = SPIN_LOCK_UNLOCKED };
static bool heap_ready;              /* some memory was given to a heap */
static bool xenheap_buffer = true;   /* test knob, see heap_set_xenheap_buffer */
static unsigned int nr_buffer;       /* buffer pages withheld, and where */
static mfn_t buffer_mfn[2];
/* The xenheap as page indices (contiguous: all of it is RAM), for the free path. */
static unsigned long xenheap_pdx_start, xenheap_pdx_end;

#ifdef CONFIG_DEBUG
#define POISON_FREED_PAGES 1
#else
#define POISON_FREED_PAGES 0
#endif

static const uint8_t poison_page[PAGE_SIZE] = { [0 ... PAGE_SIZE - 1] = PAGE_POISON_BYTE };

/* --- small helpers ------------------------------------------------------- */

/* 1-based index of the highest set bit; 0 for 0. */
static inline unsigned int fls_ul(unsigned long x)
{
    return x ? (unsigned int)(8 * sizeof(x)) - (unsigned int)__builtin_clzl(x) : 0;
}

/* The address-width zone: frames of zone z are in [2^(z-1), 2^z). */
static inline unsigned int mfn_zone(mfn_t mfn)
{
    return fls_ul(mfn_x(mfn));
}

static inline unsigned int mfn_heap(mfn_t mfn)
{
    return is_xen_heap_mfn(mfn) ? HEAP_XEN : HEAP_DOM;
}

static inline unsigned int pdx_heap(unsigned long pdx)
{
    return pdx - xenheap_pdx_start < xenheap_pdx_end - xenheap_pdx_start ? HEAP_XEN : HEAP_DOM;
}

/* Free pages of one heap: the sum of its zones (heap lock held). */
static unsigned long heap_total(const struct heap *hp)
{
    unsigned long n = 0;

    for (unsigned int z = 0; z < NR_ZONES; z++)
        n += hp->zone[z].avail;
    return n;
}

static inline unsigned int read_count_info(const struct page_info *pg)
{
    return __atomic_load_n(&pg->count_info, __ATOMIC_RELAXED);
}

/* Reports a caller's mistake: drops the heap lock, then panics. */
static void __noreturn __printf(3, 4) heap_misuse(const char *caller, mfn_t mfn,
                                                  const char *fmt, ...)
{
    char why[160];
    va_list ap;

    va_start(ap, fmt);
    fmt_vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    spin_unlock(&heap_state.lock);
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

static void scrub_frame(mfn_t mfn)
{
    void *va = map_frame(mfn);

    memset(va, 0, PAGE_SIZE);
    unmap_frame(mfn, va);
}

static void poison_frame(mfn_t mfn)
{
    void *va = map_frame(mfn);

    memset(va, PAGE_POISON_BYTE, PAGE_SIZE);
    unmap_frame(mfn, va);
}

static void check_poison(mfn_t mfn)
{
    uint8_t *va = map_frame(mfn);
    size_t off = 0;
    uint8_t found;

    if (memcmp(va, poison_page, PAGE_SIZE) == 0) {
        unmap_frame(mfn, va);
        return;
    }
    while (va[off] == PAGE_POISON_BYTE)
        off++;
    found = va[off];
    unmap_frame(mfn, va);
    panic("write after free: page mfn 0x%lx (pa 0x%llx) offset 0x%zx holds 0x%02x, "
          "not the poison 0x%02x", mfn_x(mfn), (unsigned long long)mfn_to_paddr(mfn), off,
          found, PAGE_POISON_BYTE);
}

/* --- free lists (heap lock held) ----------------------------------------- */

/*
 * The hot paths are inlined into the API functions (so the heap index is a
 * constant) and keep rare work out of line: a free-and-alloc of one page is
 * a few dozen instructions plus the lock.
 */
#define always_inline inline __attribute__((always_inline))
#define cold_path __attribute__((cold, noinline))

/* A free block is always on the list of its first frame's heap and zone. */
/*
 * The hot list operations take the zone record and the frame table from
 * their caller, which has them in registers already (on ARM the lock's
 * memory clobber would otherwise make them reload frame_table); the zone
 * number is only needed when the heap's zone bit changes.
 */
/*
 * A zone record's address, computed once: GCC otherwise recomputes
 * base + (zone << 7) at every use (x86 has no 128-byte scaled addressing).
 */
static always_inline struct heap_zone *zone_record(struct heap *hp, unsigned int zone)
{
    struct heap_zone *hz = &hp->zone[zone];

    __asm__("" : "+r"(hz));
    return hz;
}

static always_inline unsigned int zone_of(const struct heap *hp, const struct heap_zone *hz)
{
    return (unsigned int)(hz - hp->zone);
}

/* Puts the block at pdx, whose page_info is pg, at the head of its list. */
static always_inline void list_add_page(struct page_info *ft, struct heap *hp,
                                        struct heap_zone *hz, unsigned int order,
                                        unsigned long pdx, struct page_info *pg)
{
    unsigned int orders = hz->orders;

    pg->u.list.prev = PDX_NONE;
    if (likely(orders & (1u << order))) {
        unsigned int next = hz->head[order];

        pg->u.list.next = next;
        ft[next].u.list.prev = (unsigned int)pdx;
    } else {
        pg->u.list.next = PDX_NONE;
        hz->orders = orders | 1u << order;
        hp->zones |= 1u << zone_of(hp, hz);
    }
    hz->head[order] = (unsigned int)pdx;
}

static always_inline void list_add(struct page_info *ft, struct heap *hp, struct heap_zone *hz,
                                   unsigned int order, unsigned long pdx)
{
    list_add_page(ft, hp, hz, order, pdx, &ft[pdx]);
}

static always_inline void list_del(struct heap *hp, unsigned int zone, unsigned int order,
                                   const struct page_info *pg)
{
    unsigned int next = pg->u.list.next, prev = pg->u.list.prev;

    if (prev == PDX_NONE) {
        if (next == PDX_NONE) {
            hp->zone[zone].orders &= ~(1u << order);
            if (!hp->zone[zone].orders)
                hp->zones &= ~(1u << zone);
            return;
        }
        hp->zone[zone].head[order] = next;
    } else {
        frame_table[prev].u.list.next = next;
    }
    if (next != PDX_NONE)
        frame_table[next].u.list.prev = prev;
}

/* Is the frame-table entry the head of a free block of this order? */
static always_inline bool is_free_block(const struct page_info *pg, unsigned int order)
{
    return (pg->count_info & (PGC_state_mask | PGC_head)) == (PGS_free | PGC_head) &&
           pg->order == order;
}

/*
 * Puts the block of 2^order pages at pdx (frame mfn, on heap hp's side) on a
 * free list, first merging it with its buddy for as long as the buddy is a
 * free block of the same order in the same zone. Every page of the block is
 * already PGS_free, the first with PGC_head. Note what is not checked:
 * which heap the buddy is in. Returns owner, unchanged: a freeing caller
 * then keeps nothing live across the call.
 */
static cold_path struct domain *merge_and_insert(unsigned long pdx, unsigned int order,
                                                 unsigned int zone, struct heap *hp,
                                                 struct domain *owner)
{
    mfn_t mfn = pdx_to_mfn(_pdx(pdx));

    while (order < MAX_ORDER) {
        mfn_t buddy_mfn = _mfn(mfn_x(mfn) ^ (1UL << order));
        unsigned long buddy_pdx;
        struct page_info *buddy;

        if (order < PDX_GROUP_SHIFT)
            buddy_pdx = pdx ^ (1UL << order);       /* same group: same low bits */
        else if (mfn_valid(buddy_mfn))
            buddy_pdx = pdx_x(mfn_to_pdx(buddy_mfn));
        else
            break;
        buddy = pdx_to_page(_pdx(buddy_pdx));
        if (!is_free_block(buddy, order) || mfn_zone(buddy_mfn) != zone)
            break;

        list_del(&heap_state.heaps[mfn_heap(buddy_mfn)], zone, order, buddy);
        if (mfn_lt(buddy_mfn, mfn)) {
            pdx_to_page(_pdx(pdx))->count_info &= ~PGC_head;
            pdx = buddy_pdx;
            mfn = buddy_mfn;
            hp = &heap_state.heaps[mfn_heap(mfn)];
        } else {
            buddy->count_info &= ~PGC_head;
        }
        order++;
    }
    pdx_to_page(_pdx(pdx))->order = order;
    list_add(frame_table, hp, &hp->zone[zone], order, pdx);
    return owner;
}

/*
 * The same, with the common case (the buddy is not free: nothing to merge)
 * inline. The block's first page already records its order. Blocks of order
 * PDX_GROUP_SHIFT and up take the slow path.
 */
static always_inline struct domain *insert_free_block(struct page_info *ft, unsigned long pdx,
                                                      unsigned int order, struct heap *hp,
                                                      struct heap_zone *hz,
                                                      struct domain *owner)
{
    if (likely(order < PDX_GROUP_SHIFT) && !is_free_block(&ft[pdx ^ (1UL << order)], order)) {
        list_add(ft, hp, hz, order, pdx);
        return owner;
    }
    return merge_and_insert(pdx, order, zone_of(hp, hz), hp, owner);
}

/* --- giving memory to the heaps at boot ---------------------------------- */

/*
 * Gives [start, end) to the heap that owns each frame, in naturally aligned
 * chunks of at most MAX_ORDER pages. One store per page (its state), plus a
 * list operation per chunk: the contents are not touched, they are marked
 * for scrubbing on first allocation.
 */
static void init_heap_pages(mfn_t start, mfn_t end)
{
    /* MFN 0: its "buddy" blocks would span zones 0..k. */
    if (mfn_x(start) == 0)
        start = _mfn(1);

    spin_lock(&heap_state.lock);
    heap_state.frame_table = frame_table;
    heap_state.max_pdx = max_pdx;
    /* free_domheap_pages finds a page's buddy by flipping an address bit. */
    if ((uintptr_t)frame_table % (2 * sizeof(struct page_info))) {
        spin_unlock(&heap_state.lock);
        panic("heap: the frame table at %p is not aligned to two page_info", (void *)frame_table);
    }
    while (mfn_lt(start, end)) {
        unsigned int order = min(min((unsigned int)__builtin_ctzl(mfn_x(start)),
                                     (unsigned int)MAX_ORDER),
                                 fls_ul(mfn_x(end) - mfn_x(start)) - 1);
        unsigned long n = 1UL << order;
        mfn_t last = mfn_add(start, n - 1);
        unsigned int zone = mfn_zone(start);    /* the whole chunk's: it is aligned */
        struct page_info *pg;
        struct heap *hp;

        if (!mfn_valid(start) || !mfn_valid(last)) {
            spin_unlock(&heap_state.lock);
            panic("heap: frames 0x%lx-0x%lx (pa 0x%llx) have no page_info", mfn_x(start),
                  mfn_x(last), (unsigned long long)mfn_to_paddr(start));
        }
        pg = mfn_to_page(start);
        for (unsigned long i = 0; i < n; i++) {
            if (page_state(&pg[i]) != PGS_none)
                heap_misuse("init_heap_pages", mfn_add(start, i), "is given to the heap twice");
            pg[i].count_info = PGS_free | PGC_need_scrub | PGC_zone(zone);
        }
        pg->count_info |= PGC_head;
        pg->order = order;
        hp = &heap_state.heaps[mfn_heap(start)];
        hp->zone[zone].avail += n;
        insert_free_block(frame_table, pdx_x(page_to_pdx(pg)), order, hp, &hp->zone[zone], NULL);
        start = mfn_add(start, n);
    }
    heap_ready = true;
    spin_unlock(&heap_state.lock);
}

static void withhold_buffer_page(mfn_t mfn)
{
    struct page_info *pg = mfn_to_page(mfn);

    if (page_state(pg) == PGS_buffer)
        return;
    pg->count_info = PGS_buffer;
    BUG_ON(nr_buffer == ARRAY_SIZE(buffer_mfn));
    buffer_mfn[nr_buffer++] = mfn;
}

void init_xenheap_pages(paddr_t ps, paddr_t pe)
{
    mfn_t start = paddr_to_mfn(ROUNDUP(ps, (paddr_t)PAGE_SIZE));
    mfn_t end = paddr_to_mfn(ROUNDDOWN(pe, (paddr_t)PAGE_SIZE));

    if (ps >= pe || !mfn_lt(start, end))
        return;
    if (!is_xen_heap_mfn(start) || !is_xen_heap_mfn(mfn_add(end, -1)))
        panic("init_xenheap_pages: 0x%llx-0x%llx is outside the xenheap 0x%llx-0x%llx",
              (unsigned long long)ps, (unsigned long long)pe,
              (unsigned long long)mfn_to_paddr(xenheap_mfn_start),
              (unsigned long long)mfn_to_paddr(xenheap_mfn_end));

    xenheap_pdx_start = pdx_x(mfn_to_pdx(xenheap_mfn_start));
    xenheap_pdx_end = pdx_x(mfn_to_pdx(mfn_add(xenheap_mfn_end, -1))) + 1;

    /*
     * The merge rule does not look at heaps, so a xenheap block and a domheap
     * block that are buddies would merge into one free block holding both
     * kinds of frame. Withholding the end page whose neighbour is not xenheap
     * means no free block can contain frames on both sides of that boundary.
     * MFN 0 has no page below it.
     */
    if (xenheap_buffer) {
        if (mfn_x(start) && !is_xen_heap_mfn(mfn_add(start, -1))) {
            withhold_buffer_page(start);
            start = mfn_add(start, 1);
        }
        if (mfn_lt(start, end) && !is_xen_heap_mfn(end)) {
            end = mfn_add(end, -1);
            withhold_buffer_page(end);
        }
    }
    init_heap_pages(start, end);
}

void init_domheap_pages(paddr_t ps, paddr_t pe)
{
    mfn_t start = paddr_to_mfn(ROUNDUP(ps, (paddr_t)PAGE_SIZE));
    mfn_t end = paddr_to_mfn(ROUNDDOWN(pe, (paddr_t)PAGE_SIZE));

    if (ps >= pe || !mfn_lt(start, end))
        return;
    if (mfn_lt(start, xenheap_mfn_end) && mfn_lt(xenheap_mfn_start, end))
        panic("init_domheap_pages: 0x%llx-0x%llx overlaps the xenheap 0x%llx-0x%llx",
              (unsigned long long)ps, (unsigned long long)pe,
              (unsigned long long)mfn_to_paddr(xenheap_mfn_start),
              (unsigned long long)mfn_to_paddr(xenheap_mfn_end));
    init_heap_pages(start, end);
}

/* --- allocation ---------------------------------------------------------- */

/*
 * Clears or checks the pages that need it, outside the heap lock: the block
 * is the caller's now, and a page's worth of work per page should not hold
 * up other CPUs. The flags are cleared atomically because heap_check may
 * read count_info concurrently.
 */
/* Not cold: GCC would then treat the fast allocation path that calls it as cold. */
/* Returns pg: the caller then keeps nothing live across the call. */
static __attribute__((noinline)) struct page_info *prepare_pages(struct page_info *pg,
                                                                 unsigned long n,
                                                                 unsigned int memflags)
{
    mfn_t mfn = page_to_mfn(pg);

    for (unsigned long i = 0; i < n; i++) {
        unsigned int flags = read_count_info(&pg[i]) & (PGC_need_scrub | PGC_poisoned);

        if (!flags)
            continue;
        if (flags & PGC_poisoned)
            check_poison(mfn_add(mfn, i));
        else if (!(memflags & MEMF_no_scrub))
            scrub_frame(mfn_add(mfn, i));
        __atomic_and_fetch(&pg[i].count_info, ~flags, __ATOMIC_RELAXED);
    }
    return pg;
}

/* Gives back the upper halves of the block at pdx, from order j down to order. */
static cold_path void split_block(unsigned int zone, unsigned long pdx, unsigned int j,
                                  unsigned int order)
{
    mfn_t mfn = pdx_to_mfn(_pdx(pdx));

    while (j > order) {
        struct page_info *upper;
        struct heap *hp;

        j--;
        upper = pdx_to_page(_pdx(pdx + (1UL << j)));
        upper->count_info |= PGC_head;
        upper->order = j;
        /* The list of the upper half's own heap (the same one, unless the
         * buffer pages were disabled and this block straddles). */
        hp = &heap_state.heaps[mfn_heap(mfn_add(mfn, 1UL << j))];
        list_add(frame_table, hp, &hp->zone[zone], j, pdx + (1UL << j));
    }
}

/* The zones whose every frame is below 2^bits (bits = 0: no limit). */
static always_inline unsigned int zones_below(unsigned int memflags)
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
 * The flags whose work is still to do: MEMF_no_scrub drops the scrub.
 * Release builds never poison, so with MEMF_no_scrub nothing is pending.
 */
static always_inline unsigned int dropped_flags(unsigned int memflags)
{
    return (memflags & MEMF_no_scrub) * (PGC_need_scrub / MEMF_no_scrub);
}

static always_inline unsigned int pending_flags(unsigned int memflags)
{
    return (POISON_FREED_PAGES ? PGC_poisoned : 0) | (PGC_need_scrub ^ dropped_flags(memflags));
}

/*
 * Writes the state of the tail pages [1, n) of a block (n a power of two),
 * and clears their owner if owner_too: the per-page work of large blocks,
 * four pages a round.
 */
static always_inline void set_tail(struct page_info *pg, unsigned int state, bool owner_too)
{
    pg->count_info = state;
    if (owner_too)
        pg->u.owner = NULL;
}

static always_inline void set_tails(struct page_info *pg, unsigned long n, unsigned int state,
                                    bool owner_too)
{
    if (n >= 4) {
        set_tail(&pg[1], state, owner_too);
        set_tail(&pg[2], state, owner_too);
        set_tail(&pg[3], state, owner_too);
        for (struct page_info *p = pg + 4, *end = pg + n; p < end; p += 4) {
            set_tail(&p[0], state, owner_too);
            set_tail(&p[1], state, owner_too);
            set_tail(&p[2], state, owner_too);
            set_tail(&p[3], state, owner_too);
        }
    } else if (n == 2) {
        set_tail(&pg[1], state, owner_too);
    }
}

/* The state of an allocated page of heap 'heap', before its flags and zone. */
static always_inline unsigned int inuse_state(unsigned int heap)
{
    return PGS_inuse | (heap == HEAP_XEN ? PGC_xen_heap : 0);
}

/* Takes the first block off list (zone, order), which is not empty. */
static always_inline struct page_info *list_pop(struct page_info *ft, struct heap *hp,
                                                struct heap_zone *hz, unsigned int order)
{
    struct page_info *pg = &ft[hz->head[order]];
    unsigned int next = pg->u.list.next;

    if (likely(next != PDX_NONE)) {
        hz->head[order] = next;
        ft[next].u.list.prev = PDX_NONE;
    } else {
        unsigned int orders = hz->orders & ~(1u << order);

        hz->orders = orders;
        if (!orders)
            hp->zones &= ~(1u << zone_of(hp, hz));
    }
    return pg;
}

/*
 * Marks the 2^order pages at pg allocated, keeping the flags in 'pending'
 * (their work is done by prepare_pages). Returns the pending flags found.
 */
static always_inline unsigned int take_pages(struct page_info *pg, unsigned int order,
                                             unsigned int heap, unsigned int memflags)
{
    unsigned int pending = pending_flags(memflags);
    unsigned int c = pg->count_info, dirty;
    /* Every page of an aligned block is in its first page's zone. */
    unsigned int tail = (c & PGC_zone_mask) | inuse_state(heap);

#ifdef CONFIG_DEBUG
    for (unsigned long i = 0; i < (1UL << order); i++)
        if (unlikely(page_state(&pg[i]) != PGS_free))
            heap_misuse("alloc_heap_pages", page_to_mfn(&pg[i]), "is on a free list but "
                        "its state is %u: heap corrupted", page_state(&pg[i]));
#endif
    /*
     * The head of a free block carries its zone, PGC_head and its pending
     * flags, nothing else (PGC_listed only while heap_check holds the lock;
     * PGC_xen_heap never on a free page, which heap_check verifies): the
     * new state is the old one with the free state and the dropped flags
     * cleared, and only flags still pending can remain.
     */
    pg->count_info = (c & ~(PGC_state_mask | dropped_flags(memflags))) | inuse_state(heap) |
                     PGC_head;
    pg->u.owner = NULL;
    /* The work flags the head keeps (release builds never set PGC_poisoned),
     * found as the tails' are; no pending work makes it 0 without a test. */
    dirty = c & pending;
    if (!pending) {
        set_tails(pg, 1UL << order, tail, true);     /* nothing to keep: stores only */
        return dirty;
    }
    for (unsigned long i = 1; i < (1UL << order); i++) {
        unsigned int flags = pg[i].count_info & pending;

        dirty |= flags;
        pg[i].count_info = tail | flags;
        pg[i].u.owner = NULL;
    }
    return dirty;
}

/*
 * Any allocation, with the heap lock held; drops it. The highest zone
 * first (keep low memory for those who need it), then the smallest order
 * that is large enough.
 */
static __attribute__((noinline)) struct page_info *
alloc_heap_pages_locked(unsigned int heap, unsigned int order,
                        unsigned int memflags)
{
    struct heap *hp = &heap_state.heaps[heap];
    unsigned int allowed = likely(memflags < (1u << _MEMF_bits)) ? ~0u : zones_below(memflags);
    unsigned int zones, orders, zone, j, dirty;
    struct page_info *pg;

    if (unlikely(order > MAX_ORDER)) {
        spin_unlock(&heap_state.lock);
        return NULL;
    }
    for (zones = hp->zones & allowed;; zones &= ~(1u << zone)) {
        if (unlikely(!zones)) {
            spin_unlock(&heap_state.lock);
            return NULL;
        }
        zone = 31u - (unsigned int)__builtin_clz(zones);
        orders = hp->zone[zone].orders >> order;
        if (likely(orders))
            break;
    }
    j = order + (unsigned int)__builtin_ctz(orders);
    pg = list_pop(frame_table, hp, &hp->zone[zone], j);
    if (j > order)
        split_block(zone, pdx_x(page_to_pdx(pg)), j, order);
    hp->zone[zone].avail -= 1UL << order;
    pg->order = order;
    dirty = take_pages(pg, order, heap, memflags);
    spin_unlock(&heap_state.lock);

    if (unlikely(dirty))
        pg = prepare_pages(pg, 1UL << order, memflags);
    return pg;
}

/*
 * The common case, inline in the API functions: one page, from any zone,
 * when the highest zone with free memory has a free page (the block the
 * general rule picks). With the heap lock held; NULL (lock still held)
 * when the request is not that case.
 */
static always_inline struct page_info *take_first_page(struct heap *hp, unsigned int order,
                                                       unsigned int memflags)
{
    /* The highest zone with free memory; zone 0 (never filled) when there is none. */
    struct heap_zone *hz = zone_record(hp, 31u - (unsigned int)__builtin_clz(hp->zones | 1));
    struct page_info *pg;

    /* Order 0 and no zone limit in one test. */
    if (unlikely((order | memflags >> _MEMF_bits) || !(hz->orders & 1)))
        return NULL;
    pg = list_pop(heap_state.frame_table, hp, hz, 0);     /* its order is 0 already */
    hz->avail--;
    return pg;
}

/* --- free ---------------------------------------------------------------- */

static cold_path __noreturn void bad_free_pointer(const struct page_info *pg,
                                                  const char *caller)
{
    panic("%s: %p is not a page_info in the frame table", caller, (const void *)pg);
}

/* Says what is wrong with freeing pg (heap lock held; released). */
static cold_path __noreturn void bad_free(const struct page_info *pg, unsigned long pdx,
                                          unsigned int order, unsigned int heap,
                                          const char *caller)
{
    unsigned int c = pg->count_info;
    mfn_t mfn = pdx_to_mfn(_pdx(pdx));

    if (order > MAX_ORDER) {
        spin_unlock(&heap_state.lock);
        panic("%s: order %u is above MAX_ORDER (%u)", caller, order, MAX_ORDER);
    }
    switch (c & PGC_state_mask) {
    case PGS_free:
        heap_misuse(caller, mfn, "is already free (double free, or never allocated)");
    case PGS_none:
        heap_misuse(caller, mfn, "is not heap memory: it was never allocated");
    case PGS_buffer:
        heap_misuse(caller, mfn, "is the xenheap buffer page, withheld from the heap: "
                    "it was never allocated");
    }
    if (!(c & PGC_head))
        heap_misuse(caller, mfn, "is not the first page of an allocation");
    if (pdx_heap(pdx) != heap)
        heap_misuse(caller, mfn, "is a %s page", heap_name[pdx_heap(pdx)]);
    if (pg->order != order)
        heap_misuse(caller, mfn, "was allocated with order %u but is freed with order %u",
                    pg->order, order);
    heap_misuse(caller, mfn, "has count_info 0x%x, not that of a %s allocation: heap "
                "corrupted", c, heap_name[heap]);
}

/* x rotated right by k bits: a value not a multiple of 2^k becomes huge. */
static always_inline unsigned long ror_ul(unsigned long x, unsigned int k)
{
    return (x >> k) | (x << (8 * sizeof(x) - k));
}

/* The pdx of a page_info a caller gives back, which must be in the frame table. */
static always_inline unsigned long checked_page_pdx(const struct page_info *ft,
                                                    const struct page_info *pg,
                                                    const char *caller)
{
    /* Alignment and range in one compare. */
    unsigned long pdx = ror_ul((uintptr_t)pg - (uintptr_t)ft, PAGE_INFO_SHIFT);

    if (unlikely(pdx >= max_pdx))
        bad_free_pointer(pg, caller);
    return pdx;
}

/* Does the page at pg head an allocation of this order from this heap? */
static always_inline bool is_allocation_head(const struct page_info *pg, unsigned int order,
                                             unsigned int heap)
{
    /* State, head and heap in one compare (PGC_xen_heap: see take_pages), and
     * the order; '|' rather than '||': one branch. */
    return !(((pg->count_info & (PGC_state_mask | PGC_head | PGC_xen_heap)) ^
              (inuse_state(heap) | PGC_head)) | (pg->order ^ order));
}

/*
 * Frees the block allocated from heap 'heap' at pdx (a frame-table index),
 * with the heap lock held; drops it. scrub: the contents may be someone's
 * data (release builds mark the pages need_scrub; debug builds poison every
 * freed page anyway). Returns the owner the pages had.
 *
 * What is checked before anything changes: the page heads an allocation
 * (not free, not a tail, not a reserved or buffer page) of this order, from
 * this heap. A block that passes lies inside the frame table (its order is
 * the one it was allocated with).
 *
 * simple: the caller has made these checks already, and found that the
 * block (of order 0) has no free buddy: nothing to check, nothing to merge.
 */
static always_inline struct domain *__free_heap_pages_locked(struct page_info *ft,
                                                             unsigned long pdx,
                                                             struct page_info *pg,
                                                             unsigned int order,
                                                             unsigned int heap, bool scrub,
                                                             const char *caller, bool simple)
{
    struct heap *hp = &heap_state.heaps[heap];
    struct heap_zone *hz;
    struct domain *owner;
    unsigned int c, flags, tail;
    unsigned long n;

    if (!simple && unlikely(!is_allocation_head(pg, order, heap)))
        bad_free(pg, pdx, order, heap, caller);
    c = pg->count_info;
    n = 1UL << order;
#ifdef CONFIG_DEBUG
    for (unsigned long i = 1; i < n; i++)
        if ((pg[i].count_info & (PGC_state_mask | PGC_head | PGC_xen_heap)) != inuse_state(heap))
            heap_misuse(caller, pdx_to_mfn(_pdx(pdx + i)), "inside the order-%u allocation at "
                        "mfn 0x%lx is not in use: heap corrupted", order,
                        mfn_x(pdx_to_mfn(_pdx(pdx))));
#endif

    owner = pg->u.owner;
    flags = POISON_FREED_PAGES ? PGC_poisoned : scrub ? PGC_need_scrub : 0;
    if (POISON_FREED_PAGES)
        for (unsigned long i = 0; i < n; i++)
            poison_frame(pdx_to_mfn(_pdx(pdx + i)));
    /* Every page of the block is in its first page's zone. */
    tail = (c & PGC_zone_mask) | PGS_free | flags;
    pg->count_info = tail | PGC_head;
    set_tails(pg, n, tail, false);
    hz = zone_record(hp, c >> PGC_zone_shift);
    hz->avail += n;
    if (simple)
        list_add_page(ft, hp, hz, order, pdx, pg);
    else
        owner = insert_free_block(ft, pdx, order, hp, hz, owner);
    spin_unlock(&heap_state.lock);
    return owner;
}

static always_inline struct domain *__free_heap_pages(struct page_info *ft, unsigned long pdx,
                                                      unsigned int order, unsigned int heap,
                                                      bool scrub, const char *caller)
{
    spin_lock(&heap_state.lock);
    return __free_heap_pages_locked(ft, pdx, &ft[pdx], order, heap, scrub, caller, false);
}

static __attribute__((noinline)) struct domain *
free_heap_pages_any(unsigned long pdx, unsigned int order, unsigned int heap, bool scrub,
                    const char *caller)
{
    return __free_heap_pages(frame_table, pdx, order, heap, scrub, caller);
}

/*
 * Order 0 inline, where the order is a constant; larger blocks out of line,
 * so that their loops do not cost the common case registers. ft is
 * frame_table, which the caller may have loaded already (it does not change
 * while the heap is in use).
 */
static always_inline struct domain *free_heap_pages(struct page_info *ft, unsigned long pdx,
                                                    unsigned int order, unsigned int heap,
                                                    bool scrub, const char *caller)
{
    return likely(order == 0) ? __free_heap_pages(ft, pdx, 0, heap, scrub, caller)
                              : free_heap_pages_any(pdx, order, heap, scrub, caller);
}

/* --- the two heaps' APIs ------------------------------------------------- */

/*
 * The xenheap is contiguous in the frame table as in the direct map (it is
 * all RAM, so its PDX groups are adjacent): pdx and address translate by an
 * offset and a shift, without the group tables.
 */
static always_inline void *xenheap_page_virt(const struct page_info *pg)
{
    return (void *)(xenheap_virt_start +
                    ((vaddr_t)(pdx_x(page_to_pdx(pg)) - xenheap_pdx_start) << PAGE_SHIFT));
}

static __attribute__((noinline)) void *alloc_xenheap_locked(unsigned int order,
                                                            unsigned int memflags)
{
    struct page_info *pg = alloc_heap_pages_locked(HEAP_XEN, order, memflags);

    return pg ? xenheap_page_virt(pg) : NULL;
}

void *alloc_xenheap_pages(unsigned int order, unsigned int memflags)
{
    struct page_info *pg;
    unsigned int dirty;

    spin_lock(&heap_state.lock);
    pg = take_first_page(&heap_state.heaps[HEAP_XEN], order, memflags);
    if (unlikely(!pg))
        return alloc_xenheap_locked(order, memflags);
    dirty = take_pages(pg, 0, HEAP_XEN, memflags);
    spin_unlock(&heap_state.lock);
    if (unlikely(dirty))
        pg = prepare_pages(pg, 1, memflags);
    return xenheap_page_virt(pg);
}

void free_xenheap_pages(void *v, unsigned int order)
{
    /* A page of the xenheap (buffer pages included): alignment and range in one compare. */
    unsigned long idx = ror_ul((vaddr_t)v - xenheap_virt_start, PAGE_SHIFT);

    if (!v)
        return;
    if (unlikely(idx >= xenheap_pdx_end - xenheap_pdx_start))
        panic("free_xenheap_pages: %p is not the address of a xenheap page", v);
    free_heap_pages(frame_table, xenheap_pdx_start + idx, order, HEAP_XEN, false,
                    "free_xenheap_pages");
}

/* Gives new pages to d; if d refuses them, they go back, untouched. */
static cold_path struct page_info *assign_new_pages(struct domain *d, struct page_info *pg,
                                                    unsigned int order)
{
    if (assign_pages(d, pg, order) == 0)
        return pg;
    free_heap_pages(frame_table, pdx_x(page_to_pdx(pg)), order, HEAP_DOM, true,
                    "alloc_domheap_pages");
    return NULL;
}

/*
 * What the order-0 fast path leaves to others runs in these, reached by tail
 * calls: the fast path then keeps nothing live across a call, and saves no
 * registers on entry.
 */
static __attribute__((noinline)) struct page_info *
alloc_domheap_locked(struct domain *d, unsigned int order, unsigned int memflags)
{
    struct page_info *pg = alloc_heap_pages_locked(HEAP_DOM, order, memflags);

    if (d && pg)
        return assign_new_pages(d, pg, order);
    return pg;
}

static __attribute__((noinline)) struct page_info *
finish_domheap_page(struct domain *d, struct page_info *pg, unsigned int memflags)
{
    pg = prepare_pages(pg, 1, memflags);    /* nothing to do if no flag is pending */
    return d ? assign_new_pages(d, pg, 0) : pg;
}

struct page_info *alloc_domheap_pages(struct domain *d, unsigned int order,
                                      unsigned int memflags)
{
    struct page_info *pg;

    spin_lock(&heap_state.lock);
    pg = take_first_page(&heap_state.heaps[HEAP_DOM], order, memflags);
    if (unlikely(!pg))
        return alloc_domheap_locked(d, order, memflags);
    /* One test for both the pending work and the owner: OR-ing the pointer's
     * bits in is non-zero exactly when either is. */
    if (unlikely(take_pages(pg, 0, HEAP_DOM, memflags) | (uintptr_t)d)) {
        spin_unlock(&heap_state.lock);
        return finish_domheap_page(d, pg, memflags);
    }
    spin_unlock(&heap_state.lock);
    return pg;
}

/* Larger blocks, and bad pointers: here, so that order 0 keeps nothing live across a call. */
static __attribute__((noinline)) void free_domheap_block(struct page_info *pg, unsigned int order)
{
    unsigned long pdx = checked_page_pdx(frame_table, pg, "free_domheap_pages");
    struct domain *owner = free_heap_pages_any(pdx, order, HEAP_DOM, true,
                                               "free_domheap_pages");

    if (owner)
        domain_adjust_tot_pages(owner, -(long)(1UL << order));
}

/* An order-0 page that is not the simple case: misuse, or a merge. Heap lock held. */
static __attribute__((noinline)) void free_domheap_page_locked(unsigned long pdx)
{
    struct domain *owner = __free_heap_pages_locked(frame_table, pdx, pdx_to_page(_pdx(pdx)), 0,
                                                    HEAP_DOM, true, "free_domheap_pages", false);

    if (owner)
        domain_adjust_tot_pages(owner, -1);
}

/*
 * Anything unusual (a larger block, a pointer outside the frame table, a
 * misuse, a free buddy) is tested for before any change and handed to the
 * general path by a tail call, which makes every check again: the fast path
 * then keeps nothing live across a call (x86: no stack frame at all).
 */
void free_domheap_pages(struct page_info *pg, unsigned int order)
{
    /* The heap's copies: both 0 when it has no memory, which the general path reports. */
    struct page_info *ft = heap_state.frame_table;
    /* Alignment and range in one compare, as in checked_page_pdx. */
    unsigned long pdx = ror_ul((uintptr_t)pg - (uintptr_t)ft, PAGE_INFO_SHIFT);

    if (unlikely(order)) {
        free_domheap_block(pg, order);
        return;
    }
    if (unlikely(pdx >= heap_state.max_pdx)) {
        free_domheap_block(pg, 0);      /* reports it */
        return;
    }
    spin_lock(&heap_state.lock);
    /* A domain's page goes there too, for the accounting (as its allocation does). */
    /*
     * pg is &ft[pdx] now (it passed the check), and its buddy's page_info is
     * found by flipping the bit of its address worth one page_info, which
     * init_heap_pages checks the frame table's alignment allows.
     */
    if (unlikely(!is_allocation_head(pg, 0, HEAP_DOM) || pg->u.owner ||
                 is_free_block((struct page_info *)((uintptr_t)pg ^ sizeof(*pg)), 0))) {
        free_domheap_page_locked(pdx);
        return;
    }
    __free_heap_pages_locked(ft, pdx, pg, 0, HEAP_DOM, true, "free_domheap_pages", true);
}

/* Free pages of the chosen heaps, read under the lock so the sum is consistent. */
static unsigned long free_pages_of(bool xen, bool dom)
{
    unsigned long n = 0;

    spin_lock(&heap_state.lock);
    if (xen)
        n += heap_total(&heap_state.heaps[HEAP_XEN]);
    if (dom)
        n += heap_total(&heap_state.heaps[HEAP_DOM]);
    spin_unlock(&heap_state.lock);
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
    return spin_is_locked(&heap_state.lock);
}

void heap_set_xenheap_buffer(bool enabled)
{
    xenheap_buffer = enabled;
}

void heap_reset(void)
{
    spin_lock_init(&heap_state.lock);
    memset(heap_state.heaps, 0, sizeof(heap_state.heaps));
    heap_state.frame_table = NULL;
    heap_state.max_pdx = 0;
    heap_ready = false;
    nr_buffer = 0;
    xenheap_pdx_start = xenheap_pdx_end = 0;
}

/* --- heap_check ---------------------------------------------------------- */

#define HEAP_CHECK_MAX_REPORTS 8

struct check {
    unsigned int bad;
    unsigned int reported;
};

static void __printf(3, 4) problem(struct check *ck, unsigned int kind, const char *fmt, ...)
{
    char msg[200];
    va_list ap;

    ck->bad |= kind;
    if (ck->reported++ >= HEAP_CHECK_MAX_REPORTS)
        return;
    va_start(ap, fmt);
    fmt_vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    printk("heap_check: %s\n", msg);
}

/* Does the block [mfn, last] hold frames on both sides of a xenheap boundary? */
static bool straddles_xenheap(mfn_t mfn, mfn_t last)
{
    if (mfn_eq(xenheap_mfn_start, xenheap_mfn_end))
        return false;
    return (mfn_lt(mfn, xenheap_mfn_start) && !mfn_lt(last, xenheap_mfn_start)) ||
           (mfn_lt(mfn, xenheap_mfn_end) && !mfn_lt(last, xenheap_mfn_end));
}

/* One free list: links, block states, alignment, zone, heap, buddies. */
static unsigned long check_list(struct check *ck, unsigned int h, unsigned int z,
                                unsigned int o)
{
    unsigned int prev = PDX_NONE, pdx = heap_state.heaps[h].zone[z].head[o];
    unsigned long n = 1UL << o, pages = 0, steps = 0;

    while (pdx != PDX_NONE) {
        struct page_info *pg;
        mfn_t mfn, last;

        if (pdx >= max_pdx) {
            problem(ck, HEAP_BAD_LIST, "%s zone %u order %u: link to pdx 0x%x beyond the "
                    "frame table", heap_name[h], z, o, pdx);
            break;
        }
        if (++steps > max_pdx) {
            problem(ck, HEAP_BAD_LIST, "%s zone %u order %u: the list does not end",
                    heap_name[h], z, o);
            break;
        }
        pg = pdx_to_page(_pdx(pdx));
        mfn = pdx_to_mfn(_pdx(pdx));
        last = mfn_add(mfn, n - 1);
        if (pg->u.list.prev != prev)
            problem(ck, HEAP_BAD_LIST, "block mfn 0x%lx: back link 0x%x, expected 0x%x",
                    mfn_x(mfn), pg->u.list.prev, prev);
        if (pg->count_info & PGC_listed) {
            problem(ck, HEAP_BAD_LIST, "block mfn 0x%lx is on a list twice", mfn_x(mfn));
            break;
        }
        pg->count_info |= PGC_listed;
        if ((pg->count_info & (PGC_state_mask | PGC_head)) != (PGS_free | PGC_head))
            problem(ck, HEAP_BAD_STATE, "block mfn 0x%lx on a free list has count_info 0x%x",
                    mfn_x(mfn), pg->count_info);
        if (pg->order != o)
            problem(ck, HEAP_BAD_STATE, "block mfn 0x%lx has order %u on the order-%u list",
                    mfn_x(mfn), pg->order, o);
        if (mfn_x(mfn) & (n - 1))
            problem(ck, HEAP_BAD_ALIGN, "block mfn 0x%lx is not aligned to its order %u",
                    mfn_x(mfn), o);
        if (mfn_x(mfn) == 0 || mfn_zone(mfn) != z || mfn_zone(last) != z)
            problem(ck, HEAP_BAD_ZONE, "block mfn 0x%lx-0x%lx is not all in zone %u",
                    mfn_x(mfn), mfn_x(last), z);
        if (pdx + n > max_pdx || !mfn_eq(pdx_to_mfn(_pdx(pdx + n - 1)), last))
            problem(ck, HEAP_BAD_STATE, "block mfn 0x%lx order %u is not contiguous in the "
                    "frame table", mfn_x(mfn), o);
        if (straddles_xenheap(mfn, last))
            problem(ck, HEAP_BAD_STRADDLE, "free block mfn 0x%lx-0x%lx (order %u, on the %s "
                    "list) spans the xenheap boundary (xenheap mfn 0x%lx-0x%lx)", mfn_x(mfn),
                    mfn_x(last), o, heap_name[h], mfn_x(xenheap_mfn_start),
                    mfn_x(xenheap_mfn_end));
        else if (mfn_heap(mfn) != h)
            problem(ck, HEAP_BAD_STATE, "%s block mfn 0x%lx is on a %s list",
                    heap_name[mfn_heap(mfn)], mfn_x(mfn), heap_name[h]);
        if (o < MAX_ORDER) {
            mfn_t buddy_mfn = _mfn(mfn_x(mfn) ^ n);

            if (mfn_valid(buddy_mfn) && mfn_zone(buddy_mfn) == z) {
                const struct page_info *b = mfn_to_page(buddy_mfn);

                if ((b->count_info & (PGC_state_mask | PGC_head)) == (PGS_free | PGC_head) &&
                    b->order == o)
                    problem(ck, HEAP_BAD_BUDDY, "free buddies mfn 0x%lx and 0x%lx of order %u "
                            "are not merged", mfn_x(mfn), mfn_x(buddy_mfn), o);
            }
        }
        pages += n;
        prev = pdx;
        pdx = pg->u.list.next;
    }
    return pages;
}

static void check_lists(struct check *ck)
{
    for (unsigned int h = 0; h < NR_HEAPS; h++) {
        for (unsigned int z = 0; z < NR_ZONES; z++) {
            unsigned int orders = heap_state.heaps[h].zone[z].orders;
            unsigned long pages = 0;

            if ((orders != 0) != ((heap_state.heaps[h].zones >> z) & 1))
                problem(ck, HEAP_BAD_COUNTERS, "%s zone %u: zone bit disagrees with its "
                        "order bits 0x%x", heap_name[h], z, orders);
            if (orders >> (MAX_ORDER + 1))
                problem(ck, HEAP_BAD_COUNTERS, "%s zone %u: order bits 0x%x above MAX_ORDER",
                        heap_name[h], z, orders);
            for (unsigned int o = 0; o <= MAX_ORDER; o++)
                if (orders & (1u << o))
                    pages += check_list(ck, h, z, o);
            if (pages != heap_state.heaps[h].zone[z].avail)
                problem(ck, HEAP_BAD_COUNTERS, "%s zone %u: %lu free pages listed, counter "
                        "says %lu", heap_name[h], z, pages, heap_state.heaps[h].zone[z].avail);
        }
    }
}

static bool is_buffer_mfn(mfn_t mfn)
{
    for (unsigned int i = 0; i < nr_buffer; i++)
        if (mfn_eq(buffer_mfn[i], mfn))
            return true;
    return false;
}

/*
 * Every page, in frame-table order: free pages form exactly the listed
 * blocks, in-use pages form whole allocations, buffer pages are where they
 * were put. Clears the PGC_listed marks that check_lists() set.
 */
static void check_pages(struct check *ck)
{
    unsigned long free_end = 0, used_end = 0;
    unsigned long free_pages[NR_HEAPS] = { 0, 0 };
    unsigned int used_xen = 0;          /* PGC_xen_heap of the allocation we are in */

    for (unsigned long pdx = 0; pdx < max_pdx; pdx++) {
        struct page_info *pg = pdx_to_page(_pdx(pdx));
        unsigned int c = read_count_info(pg);
        mfn_t mfn = pdx_to_mfn(_pdx(pdx));
        bool in_free = pdx < free_end, in_used = pdx < used_end;

        if (c & PGC_listed)
            pg->count_info &= ~PGC_listed;
        /* Heap frames carry their zone; other frames no heap marks at all. */
        if ((c & PGC_state_mask) == PGS_free || (c & PGC_state_mask) == PGS_inuse) {
            if ((c & PGC_zone_mask) != PGC_zone(mfn_zone(mfn)))
                problem(ck, HEAP_BAD_STATE, "page mfn 0x%lx (zone %u) is marked zone %u",
                        mfn_x(mfn), mfn_zone(mfn), c >> PGC_zone_shift);
        } else if (c & (PGC_zone_mask | PGC_xen_heap)) {
            problem(ck, HEAP_BAD_STATE, "page mfn 0x%lx (state %u) has heap marks: count_info "
                    "0x%x", mfn_x(mfn), c & PGC_state_mask, c);
        }
        switch (c & PGC_state_mask) {
        case PGS_free:
            if (c & PGC_head) {
                if (in_free || in_used)
                    problem(ck, HEAP_BAD_STATE, "free block mfn 0x%lx starts inside another "
                            "block", mfn_x(mfn));
                if (!(c & PGC_listed))
                    problem(ck, HEAP_BAD_LIST, "free block mfn 0x%lx (order %u) is on no list",
                            mfn_x(mfn), pg->order);
                free_end = pdx + (1UL << min(pg->order, (unsigned int)MAX_ORDER));
            } else if (!in_free) {
                problem(ck, HEAP_BAD_STATE, "free page mfn 0x%lx is in no free block", mfn_x(mfn));
            }
            if (c & PGC_xen_heap)
                problem(ck, HEAP_BAD_STATE, "free page mfn 0x%lx is marked as allocated from "
                        "the xenheap", mfn_x(mfn));
            if (mfn_x(mfn) == 0)
                problem(ck, HEAP_BAD_ZONE, "mfn 0 is in the heap");
            free_pages[mfn_heap(mfn)]++;
            break;
        case PGS_inuse:
            if (in_free)
                problem(ck, HEAP_BAD_STATE, "page mfn 0x%lx is in use inside a free block",
                        mfn_x(mfn));
            if (c & PGC_head) {
                if (in_used)
                    problem(ck, HEAP_BAD_STATE, "allocation at mfn 0x%lx starts inside another",
                            mfn_x(mfn));
                used_end = pdx + (1UL << min(pg->order, (unsigned int)MAX_ORDER));
                used_xen = c & PGC_xen_heap;
                /* The heap an allocation came from is its first frame's. */
                if (!used_xen != (pdx_heap(pdx) == HEAP_DOM))
                    problem(ck, HEAP_BAD_STATE, "allocation at %s mfn 0x%lx is marked as %s",
                            heap_name[pdx_heap(pdx)], mfn_x(mfn),
                            used_xen ? "xenheap" : "domheap");
            } else if (!in_used) {
                problem(ck, HEAP_BAD_STATE, "page mfn 0x%lx is in use but in no allocation",
                        mfn_x(mfn));
            } else if ((c & PGC_xen_heap) != used_xen) {
                problem(ck, HEAP_BAD_STATE, "page mfn 0x%lx disagrees with its allocation's "
                        "first page on PGC_xen_heap", mfn_x(mfn));
            }
            break;
        case PGS_none:
            if (in_free || in_used)
                problem(ck, HEAP_BAD_STATE, "page mfn 0x%lx (not heap memory) is inside a %s "
                        "block", mfn_x(mfn), in_free ? "free" : "allocated");
            break;
        case PGS_buffer:
            if (in_free || in_used)
                problem(ck, HEAP_BAD_STATE, "buffer page mfn 0x%lx is inside a heap block",
                        mfn_x(mfn));
            if (!is_buffer_mfn(mfn))
                problem(ck, HEAP_BAD_BUFFER, "page mfn 0x%lx is marked as a buffer page but "
                        "was not withheld as one", mfn_x(mfn));
            break;
        }
    }
    if (free_end > max_pdx || used_end > max_pdx)
        problem(ck, HEAP_BAD_STATE, "a block runs past the end of the frame table");
    for (unsigned int h = 0; h < NR_HEAPS; h++)
        if (free_pages[h] != heap_total(&heap_state.heaps[h]))
            problem(ck, HEAP_BAD_COUNTERS, "%lu free %s pages in the frame table, counters "
                    "say %lu", free_pages[h], heap_name[h], heap_total(&heap_state.heaps[h]));
}

static void check_buffer_and_frametable(struct check *ck)
{
    const struct mm_layout *l = mm_layout();

    for (unsigned int i = 0; i < nr_buffer; i++) {
        mfn_t mfn = buffer_mfn[i];

        if (!is_xen_heap_mfn(mfn) ||
            (!mfn_eq(mfn, xenheap_mfn_start) && !mfn_eq(mfn, mfn_add(xenheap_mfn_end, -1))) ||
            page_state(mfn_to_page(mfn)) != PGS_buffer)
            problem(ck, HEAP_BAD_BUFFER, "buffer page mfn 0x%lx is not a withheld xenheap "
                    "end page", mfn_x(mfn));
    }
    if (!l)
        return;
    for (unsigned int r = 0; r < l->nr_frametable_runs; r++) {
        mfn_t s = paddr_to_mfn(l->frametable_run[r].pa);
        mfn_t e = mfn_add(s, l->frametable_run[r].bytes >> PAGE_SHIFT);

        for (mfn_t mfn = s; mfn_lt(mfn, e); mfn = mfn_add(mfn, 1))
            if (mfn_valid(mfn) && page_state(mfn_to_page(mfn)) != PGS_none) {
                problem(ck, HEAP_BAD_FRAMETABLE, "frame-table memory mfn 0x%lx is heap "
                        "memory (state %u)", mfn_x(mfn), page_state(mfn_to_page(mfn)));
                break;
            }
    }
}

unsigned int heap_check(void)
{
    struct check ck = { 0, 0 };

    if (!frame_table)
        return 0;
    spin_lock(&heap_state.lock);
    check_lists(&ck);
    check_pages(&ck);
    check_buffer_and_frametable(&ck);
    spin_unlock(&heap_state.lock);
    if (ck.reported > HEAP_CHECK_MAX_REPORTS)
        printk("heap_check: %u more problems not shown\n", ck.reported - HEAP_CHECK_MAX_REPORTS);
    return ck.bad;
}
