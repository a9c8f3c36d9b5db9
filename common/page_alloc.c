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
 * list needs no initialisation. Counters per heap and zone give the free
 * pages.
 *
 * Page states live in every page's count_info (mm.h). Allocation and free
 * touch each page of the block once (state, flags, owner): that is what
 * lets any misuse of any page be caught, and what heap_check verifies.
 * Splitting and merging touch only the first page of each half.
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
#include <domain.h>
#include <domain_page.h>
#include <lib.h>
#include <mm.h>
#include <page_alloc.h>
#include <selftest.h>
#include <setup_mm.h>
#include <spinlock.h>
#include <string.h>

enum { HEAP_DOM, HEAP_XEN, NR_HEAPS };

static const char *const heap_name[NR_HEAPS] = { "domheap", "xenheap" };

struct heap {
    unsigned int zones;                           /* bit z: zone z has a free block */
    unsigned int orders[NR_ZONES];                /* bit o: list (z, o) is not empty */
    unsigned int head[NR_ZONES][MAX_ORDER + 1];   /* pdx of the first block, if its bit is set */
    unsigned long avail[NR_ZONES];            /* free pages per zone */
    unsigned long total_avail;
};

BUILD_BUG_ON(sizeof(struct page_info) != 16);   /* frame-table window capacity */
BUILD_BUG_ON(sizeof(unsigned int) != 4);         /* pdx links, bitmaps */
BUILD_BUG_ON(NR_ZONES > 32);
BUILD_BUG_ON(MAX_ORDER >= 32);

static spinlock_t heap_lock = SPIN_LOCK_UNLOCKED;
static struct heap heaps[NR_HEAPS];
static bool heap_ready;              /* some memory was given to a heap */
static bool xenheap_buffer = true;   /* test knob, see heap_set_xenheap_buffer */
static unsigned int nr_buffer;       /* buffer pages withheld, and where */
static mfn_t buffer_mfn[2];

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

static inline unsigned int fls_u32(unsigned int x)
{
    return x ? 32u - (unsigned int)__builtin_clz(x) : 0;
}

/* The address-width zone: frames of zone z are in [2^(z-1), 2^z). */
static inline unsigned int mfn_zone(mfn_t mfn)
{
    return fls_ul(mfn);
}

static inline unsigned int mfn_heap(mfn_t mfn)
{
    return is_xen_heap_mfn(mfn) ? HEAP_XEN : HEAP_DOM;
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
    spin_unlock(&heap_lock);
    panic("%s: page mfn 0x%lx (pa 0x%llx) %s", caller, mfn,
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
          "not the poison 0x%02x", mfn, (unsigned long long)mfn_to_paddr(mfn), off,
          found, PAGE_POISON_BYTE);
}

/* --- free lists (heap lock held) ----------------------------------------- */

static void list_add(struct heap *hp, unsigned int zone, unsigned int order,
                     struct page_info *pg)
{
    unsigned int pdx = (unsigned int)page_to_pdx(pg);
    unsigned int *head = &hp->head[zone][order];

    pg->u.list.prev = PDX_NONE;
    if (hp->orders[zone] & (1u << order)) {
        pg->u.list.next = *head;
        frame_table[*head].u.list.prev = pdx;
    } else {
        pg->u.list.next = PDX_NONE;
        hp->orders[zone] |= 1u << order;
        hp->zones |= 1u << zone;
    }
    *head = pdx;
}

static void list_del(struct heap *hp, unsigned int zone, unsigned int order,
                     struct page_info *pg)
{
    unsigned int next = pg->u.list.next, prev = pg->u.list.prev;

    if (prev == PDX_NONE) {
        if (next == PDX_NONE) {
            hp->orders[zone] &= ~(1u << order);
            if (!hp->orders[zone])
                hp->zones &= ~(1u << zone);
            return;
        }
        hp->head[zone][order] = next;
    } else {
        frame_table[prev].u.list.next = next;
    }
    if (next != PDX_NONE)
        frame_table[next].u.list.prev = prev;
}

/*
 * Puts the block of 2^order pages at pg (frame mfn) on a free list, first
 * merging it with its buddy for as long as the buddy is a free block of the
 * same order in the same zone. Every page of the block is already PGS_free
 * without PGC_head. Note what is not checked: which heap the buddy is in.
 */
static void merge_and_insert(struct page_info *pg, mfn_t mfn, unsigned int order)
{
    unsigned int zone = mfn_zone(mfn);

    while (order < MAX_ORDER) {
        mfn_t buddy_mfn = mfn ^ (1UL << order);
        struct page_info *buddy;

        if (order < PDX_GROUP_SHIFT)
            buddy = pdx_to_page(page_to_pdx(pg) ^ (1UL << order));  /* same group */
        else if (mfn_valid(buddy_mfn))
            buddy = mfn_to_page(buddy_mfn);
        else
            break;
        if ((buddy->count_info & (PGC_state_mask | PGC_head)) != (PGS_free | PGC_head) ||
            buddy->order != order || mfn_zone(buddy_mfn) != zone)
            break;

        list_del(&heaps[mfn_heap(buddy_mfn)], zone, order, buddy);
        if (buddy_mfn < mfn) {
            pg->count_info &= ~PGC_head;
            pg = buddy;
            mfn = buddy_mfn;
        } else {
            buddy->count_info &= ~PGC_head;
        }
        order++;
    }
    pg->count_info |= PGC_head;
    pg->order = order;
    list_add(&heaps[mfn_heap(mfn)], zone, order, pg);
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
    if (start == 0)
        start = 1;

    spin_lock(&heap_lock);
    while (start < end) {
        unsigned int order = min(min((unsigned int)__builtin_ctzl(start), (unsigned int)MAX_ORDER),
                                 fls_ul(end - start) - 1);
        unsigned long n = 1UL << order;
        mfn_t last = start + n - 1;
        struct page_info *pg;
        struct heap *hp;

        if (!mfn_valid(start) || !mfn_valid(last)) {
            spin_unlock(&heap_lock);
            panic("heap: frames 0x%lx-0x%lx (pa 0x%llx) have no page_info", start, last,
                  (unsigned long long)mfn_to_paddr(start));
        }
        pg = mfn_to_page(start);
        for (unsigned long i = 0; i < n; i++) {
            if (page_state(&pg[i]) != PGS_none)
                heap_misuse("init_heap_pages", start + i, "is given to the heap twice");
            pg[i].count_info = PGS_free | PGC_need_scrub;
        }
        hp = &heaps[mfn_heap(start)];
        hp->avail[mfn_zone(start)] += n;
        hp->total_avail += n;
        merge_and_insert(pg, start, order);
        start += n;
    }
    heap_ready = true;
    spin_unlock(&heap_lock);
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

    if (ps >= pe || start >= end)
        return;
    if (!is_xen_heap_mfn(start) || !is_xen_heap_mfn(end - 1))
        panic("init_xenheap_pages: 0x%llx-0x%llx is outside the xenheap 0x%llx-0x%llx",
              (unsigned long long)ps, (unsigned long long)pe,
              (unsigned long long)mfn_to_paddr(xenheap_mfn_start),
              (unsigned long long)mfn_to_paddr(xenheap_mfn_end));

    /*
     * The merge rule does not look at heaps, so a xenheap block and a domheap
     * block that are buddies would merge into one free block holding both
     * kinds of frame. Withholding the end page whose neighbour is not xenheap
     * means no free block can contain frames on both sides of that boundary.
     * MFN 0 has no page below it.
     */
    if (xenheap_buffer) {
        if (start && !is_xen_heap_mfn(start - 1))
            withhold_buffer_page(start++);
        if (start < end && !is_xen_heap_mfn(end))
            withhold_buffer_page(--end);
    }
    init_heap_pages(start, end);
}

void init_domheap_pages(paddr_t ps, paddr_t pe)
{
    mfn_t start = paddr_to_mfn(ROUNDUP(ps, (paddr_t)PAGE_SIZE));
    mfn_t end = paddr_to_mfn(ROUNDDOWN(pe, (paddr_t)PAGE_SIZE));

    if (ps >= pe || start >= end)
        return;
    if (start < xenheap_mfn_end && end > xenheap_mfn_start)
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
static void prepare_pages(struct page_info *pg, mfn_t mfn, unsigned long n,
                          unsigned int memflags)
{
    for (unsigned long i = 0; i < n; i++) {
        unsigned int flags = read_count_info(&pg[i]) & (PGC_need_scrub | PGC_poisoned);

        if (!flags)
            continue;
        if (flags & PGC_poisoned)
            check_poison(mfn + i);
        else if (!(memflags & MEMF_no_scrub))
            scrub_frame(mfn + i);
        __atomic_and_fetch(&pg[i].count_info, ~flags, __ATOMIC_RELAXED);
    }
}

static struct page_info *alloc_heap_pages(unsigned int heap, unsigned int order,
                                          unsigned int memflags)
{
    unsigned int bits = memflags >> _MEMF_bits;
    unsigned int allowed = ~0u, zones, dirty = 0;
    struct heap *hp = &heaps[heap];
    struct page_info *pg;
    unsigned int zone, j;
    unsigned long n = 1UL << order;

    if (order > MAX_ORDER)
        return NULL;
    if (bits) {
        /* Zone z holds frames below 2^z, i.e. addresses below 2^(z + PAGE_SHIFT). */
        if (bits <= PAGE_SHIFT)
            return NULL;
        if (bits - PAGE_SHIFT < NR_ZONES - 1)
            allowed = (2u << (bits - PAGE_SHIFT)) - 1;
    }

    spin_lock(&heap_lock);
    /* The highest zone first (keep low memory for those who need it), then
     * the smallest order that is large enough. */
    for (zones = hp->zones & allowed; zones; zones &= ~(1u << zone)) {
        unsigned int orders;

        zone = fls_u32(zones) - 1;
        orders = hp->orders[zone] >> order;
        if (orders) {
            j = order + (unsigned int)__builtin_ctz(orders);
            goto found;
        }
    }
    spin_unlock(&heap_lock);
    return NULL;

found:
    pg = pdx_to_page(hp->head[zone][j]);
    list_del(hp, zone, j, pg);
    /* Keep the lower half, give back the upper one, down to the order asked. */
    while (j > order) {
        struct page_info *upper;

        j--;
        upper = pg + (1UL << j);
        upper->count_info |= PGC_head;
        upper->order = j;
        list_add(hp, zone, j, upper);
    }
    hp->avail[zone] -= n;
    hp->total_avail -= n;

    for (unsigned long i = 0; i < n; i++) {
        unsigned int c = pg[i].count_info;

#ifdef CONFIG_DEBUG
        if (unlikely((c & PGC_state_mask) != PGS_free))
            heap_misuse("alloc_heap_pages", page_to_mfn(&pg[i]),
                        "is on a free list but its state is %u: heap corrupted",
                        c & PGC_state_mask);
#endif
        dirty |= c;
        pg[i].count_info = PGS_inuse | (c & (PGC_need_scrub | PGC_poisoned));
        pg[i].u.owner = NULL;
    }
    pg->count_info |= PGC_head;
    pg->order = order;
    spin_unlock(&heap_lock);

    if (dirty & (PGC_need_scrub | PGC_poisoned))
        prepare_pages(pg, page_to_mfn(pg), n, memflags);
    return pg;
}

/* --- free ---------------------------------------------------------------- */

/*
 * Frees the block allocated from heap 'heap' at pg. scrub: the contents may
 * be someone's data (release builds mark the pages need_scrub; debug builds
 * poison every freed page anyway). Returns the owner the pages had.
 */
static struct domain *free_heap_pages(struct page_info *pg, unsigned int order,
                                      unsigned int heap, bool scrub, const char *caller)
{
    unsigned long n = 1UL << order;
    struct domain *owner;
    unsigned int c, flags;
    mfn_t mfn;

    if (order > MAX_ORDER)
        panic("%s: order %u is above MAX_ORDER (%u)", caller, order, MAX_ORDER);
    if (!page_in_frame_table(pg) || page_to_pdx(pg) + n > max_pdx)
        panic("%s: %p is not a page_info in the frame table", caller, (void *)pg);

    spin_lock(&heap_lock);
    mfn = page_to_mfn(pg);
    c = pg->count_info;
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
    if (mfn_heap(mfn) != heap)
        heap_misuse(caller, mfn, "is a %s page", heap_name[mfn_heap(mfn)]);
    if (pg->order != order)
        heap_misuse(caller, mfn, "was allocated with order %u but is freed with order %u",
                    pg->order, order);
#ifdef CONFIG_DEBUG
    for (unsigned long i = 1; i < n; i++)
        if ((pg[i].count_info & (PGC_state_mask | PGC_head)) != PGS_inuse)
            heap_misuse(caller, mfn + i, "inside the order-%u allocation at mfn 0x%lx is "
                        "not in use: heap corrupted", order, mfn);
#endif

    owner = pg->u.owner;
    flags = POISON_FREED_PAGES ? PGC_poisoned : scrub ? PGC_need_scrub : 0;
    for (unsigned long i = 0; i < n; i++) {
        if (POISON_FREED_PAGES)
            poison_frame(mfn + i);
        pg[i].count_info = PGS_free | flags;
    }
    heaps[heap].avail[mfn_zone(mfn)] += n;
    heaps[heap].total_avail += n;
    merge_and_insert(pg, mfn, order);
    spin_unlock(&heap_lock);
    return owner;
}

/* --- the two heaps' APIs ------------------------------------------------- */

void *alloc_xenheap_pages(unsigned int order, unsigned int memflags)
{
    struct page_info *pg = alloc_heap_pages(HEAP_XEN, order, memflags);

    return pg ? page_to_virt(pg) : NULL;
}

void free_xenheap_pages(void *v, unsigned int order)
{
    if (!v)
        return;
    if (!is_xen_heap_virt(v) || !IS_ALIGNED((vaddr_t)v, PAGE_SIZE))
        panic("free_xenheap_pages: %p is not the address of a xenheap page", v);
    free_heap_pages(virt_to_page(v), order, HEAP_XEN, false, "free_xenheap_pages");
}

struct page_info *alloc_domheap_pages(struct domain *d, unsigned int order,
                                      unsigned int memflags)
{
    struct page_info *pg = alloc_heap_pages(HEAP_DOM, order, memflags);

    if (pg && d && assign_pages(d, pg, order) != 0) {
        free_heap_pages(pg, order, HEAP_DOM, true, "alloc_domheap_pages");
        return NULL;
    }
    return pg;
}

void free_domheap_pages(struct page_info *pg, unsigned int order)
{
    struct domain *owner = free_heap_pages(pg, order, HEAP_DOM, true, "free_domheap_pages");

    if (owner)
        domain_adjust_tot_pages(owner, -(long)(1UL << order));
}

unsigned long avail_xenheap_pages(void)
{
    unsigned long n;

    spin_lock(&heap_lock);
    n = heaps[HEAP_XEN].total_avail;
    spin_unlock(&heap_lock);
    return n;
}

unsigned long avail_domheap_pages(void)
{
    unsigned long n;

    spin_lock(&heap_lock);
    n = heaps[HEAP_DOM].total_avail;
    spin_unlock(&heap_lock);
    return n;
}

unsigned long heap_free_pages(void)
{
    unsigned long n;

    spin_lock(&heap_lock);
    n = heaps[HEAP_XEN].total_avail + heaps[HEAP_DOM].total_avail;
    spin_unlock(&heap_lock);
    return n;
}

/* The test runner checks that every test leaves the heap as it found it. */
bool selftest_balance_sample(unsigned long *value)
{
    if (!heap_ready)
        return false;
    *value = heap_free_pages();
    return true;
}

bool heap_lock_is_held(void)
{
    return spin_is_locked(&heap_lock);
}

void heap_set_xenheap_buffer(bool enabled)
{
    xenheap_buffer = enabled;
}

void heap_reset(void)
{
    spin_lock_init(&heap_lock);
    memset(heaps, 0, sizeof(heaps));
    heap_ready = false;
    nr_buffer = 0;
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
    if (xenheap_mfn_start == xenheap_mfn_end)
        return false;
    return (mfn < xenheap_mfn_start && last >= xenheap_mfn_start) ||
           (mfn < xenheap_mfn_end && last >= xenheap_mfn_end);
}

/* One free list: links, block states, alignment, zone, heap, buddies. */
static unsigned long check_list(struct check *ck, unsigned int h, unsigned int z,
                                unsigned int o)
{
    unsigned int prev = PDX_NONE, pdx = heaps[h].head[z][o];
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
        pg = pdx_to_page(pdx);
        mfn = pdx_to_mfn(pdx);
        last = mfn + n - 1;
        if (pg->u.list.prev != prev)
            problem(ck, HEAP_BAD_LIST, "block mfn 0x%lx: back link 0x%x, expected 0x%x",
                    mfn, pg->u.list.prev, prev);
        if (pg->count_info & PGC_listed) {
            problem(ck, HEAP_BAD_LIST, "block mfn 0x%lx is on a list twice", mfn);
            break;
        }
        pg->count_info |= PGC_listed;
        if ((pg->count_info & (PGC_state_mask | PGC_head)) != (PGS_free | PGC_head))
            problem(ck, HEAP_BAD_STATE, "block mfn 0x%lx on a free list has count_info 0x%x",
                    mfn, pg->count_info);
        if (pg->order != o)
            problem(ck, HEAP_BAD_STATE, "block mfn 0x%lx has order %u on the order-%u list",
                    mfn, pg->order, o);
        if (mfn & (n - 1))
            problem(ck, HEAP_BAD_ALIGN, "block mfn 0x%lx is not aligned to its order %u",
                    mfn, o);
        if (mfn == 0 || mfn_zone(mfn) != z || mfn_zone(last) != z)
            problem(ck, HEAP_BAD_ZONE, "block mfn 0x%lx-0x%lx is not all in zone %u",
                    mfn, last, z);
        if (pdx + n > max_pdx || pdx_to_mfn(pdx + n - 1) != last)
            problem(ck, HEAP_BAD_STATE, "block mfn 0x%lx order %u is not contiguous in the "
                    "frame table", mfn, o);
        if (straddles_xenheap(mfn, last))
            problem(ck, HEAP_BAD_STRADDLE, "free block mfn 0x%lx-0x%lx (order %u, on the %s "
                    "list) spans the xenheap boundary (xenheap mfn 0x%lx-0x%lx)", mfn, last,
                    o, heap_name[h], xenheap_mfn_start, xenheap_mfn_end);
        else if (mfn_heap(mfn) != h)
            problem(ck, HEAP_BAD_STATE, "%s block mfn 0x%lx is on a %s list",
                    heap_name[mfn_heap(mfn)], mfn, heap_name[h]);
        if (o < MAX_ORDER) {
            mfn_t buddy_mfn = mfn ^ n;

            if (mfn_valid(buddy_mfn) && mfn_zone(buddy_mfn) == z) {
                const struct page_info *b = mfn_to_page(buddy_mfn);

                if ((b->count_info & (PGC_state_mask | PGC_head)) == (PGS_free | PGC_head) &&
                    b->order == o)
                    problem(ck, HEAP_BAD_BUDDY, "free buddies mfn 0x%lx and 0x%lx of order %u "
                            "are not merged", mfn, buddy_mfn, o);
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
        unsigned long total = 0;

        for (unsigned int z = 0; z < NR_ZONES; z++) {
            unsigned int orders = heaps[h].orders[z];
            unsigned long pages = 0;

            if ((orders != 0) != ((heaps[h].zones >> z) & 1))
                problem(ck, HEAP_BAD_COUNTERS, "%s zone %u: zone bit disagrees with its "
                        "order bits 0x%x", heap_name[h], z, orders);
            if (orders >> (MAX_ORDER + 1))
                problem(ck, HEAP_BAD_COUNTERS, "%s zone %u: order bits 0x%x above MAX_ORDER",
                        heap_name[h], z, orders);
            for (unsigned int o = 0; o <= MAX_ORDER; o++)
                if (orders & (1u << o))
                    pages += check_list(ck, h, z, o);
            if (pages != heaps[h].avail[z])
                problem(ck, HEAP_BAD_COUNTERS, "%s zone %u: %lu free pages listed, counter "
                        "says %lu", heap_name[h], z, pages, heaps[h].avail[z]);
            total += pages;
        }
        if (total != heaps[h].total_avail)
            problem(ck, HEAP_BAD_COUNTERS, "%s: %lu free pages listed, total counter says %lu",
                    heap_name[h], total, heaps[h].total_avail);
    }
}

static bool is_buffer_mfn(mfn_t mfn)
{
    for (unsigned int i = 0; i < nr_buffer; i++)
        if (buffer_mfn[i] == mfn)
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

    for (unsigned long pdx = 0; pdx < max_pdx; pdx++) {
        struct page_info *pg = pdx_to_page(pdx);
        unsigned int c = read_count_info(pg);
        mfn_t mfn = pdx_to_mfn(pdx);
        bool in_free = pdx < free_end, in_used = pdx < used_end;

        if (c & PGC_listed)
            pg->count_info &= ~PGC_listed;
        switch (c & PGC_state_mask) {
        case PGS_free:
            if (c & PGC_head) {
                if (in_free || in_used)
                    problem(ck, HEAP_BAD_STATE, "free block mfn 0x%lx starts inside another "
                            "block", mfn);
                if (!(c & PGC_listed))
                    problem(ck, HEAP_BAD_LIST, "free block mfn 0x%lx (order %u) is on no list",
                            mfn, pg->order);
                free_end = pdx + (1UL << min(pg->order, (unsigned int)MAX_ORDER));
            } else if (!in_free) {
                problem(ck, HEAP_BAD_STATE, "free page mfn 0x%lx is in no free block", mfn);
            }
            if (mfn == 0)
                problem(ck, HEAP_BAD_ZONE, "mfn 0 is in the heap");
            free_pages[mfn_heap(mfn)]++;
            break;
        case PGS_inuse:
            if (in_free)
                problem(ck, HEAP_BAD_STATE, "page mfn 0x%lx is in use inside a free block", mfn);
            if (c & PGC_head) {
                if (in_used)
                    problem(ck, HEAP_BAD_STATE, "allocation at mfn 0x%lx starts inside another",
                            mfn);
                used_end = pdx + (1UL << min(pg->order, (unsigned int)MAX_ORDER));
            } else if (!in_used) {
                problem(ck, HEAP_BAD_STATE, "page mfn 0x%lx is in use but in no allocation",
                        mfn);
            }
            break;
        case PGS_none:
            if (in_free || in_used)
                problem(ck, HEAP_BAD_STATE, "page mfn 0x%lx (not heap memory) is inside a %s "
                        "block", mfn, in_free ? "free" : "allocated");
            break;
        case PGS_buffer:
            if (in_free || in_used)
                problem(ck, HEAP_BAD_STATE, "buffer page mfn 0x%lx is inside a heap block", mfn);
            if (!is_buffer_mfn(mfn))
                problem(ck, HEAP_BAD_BUFFER, "page mfn 0x%lx is marked as a buffer page but "
                        "was not withheld as one", mfn);
            break;
        }
    }
    if (free_end > max_pdx || used_end > max_pdx)
        problem(ck, HEAP_BAD_STATE, "a block runs past the end of the frame table");
    for (unsigned int h = 0; h < NR_HEAPS; h++)
        if (free_pages[h] != heaps[h].total_avail)
            problem(ck, HEAP_BAD_COUNTERS, "%lu free %s pages in the frame table, counter "
                    "says %lu", free_pages[h], heap_name[h], heaps[h].total_avail);
}

static void check_buffer_and_frametable(struct check *ck)
{
    const struct mm_layout *l = mm_layout();

    for (unsigned int i = 0; i < nr_buffer; i++) {
        mfn_t mfn = buffer_mfn[i];

        if (!is_xen_heap_mfn(mfn) ||
            (mfn != xenheap_mfn_start && mfn != xenheap_mfn_end - 1) ||
            page_state(mfn_to_page(mfn)) != PGS_buffer)
            problem(ck, HEAP_BAD_BUFFER, "buffer page mfn 0x%lx is not a withheld xenheap "
                    "end page", mfn);
    }
    if (!l)
        return;
    for (unsigned int r = 0; r < l->nr_frametable_runs; r++) {
        mfn_t s = paddr_to_mfn(l->frametable_run[r].pa);
        mfn_t e = s + (mfn_t)(l->frametable_run[r].bytes >> PAGE_SHIFT);

        for (mfn_t mfn = s; mfn < e; mfn++)
            if (mfn_valid(mfn) && page_state(mfn_to_page(mfn)) != PGS_none) {
                problem(ck, HEAP_BAD_FRAMETABLE, "frame-table memory mfn 0x%lx is heap "
                        "memory (state %u)", mfn, page_state(mfn_to_page(mfn)));
                break;
            }
    }
}

unsigned int heap_check(void)
{
    struct check ck = { 0, 0 };

    if (!frame_table)
        return 0;
    spin_lock(&heap_lock);
    check_lists(&ck);
    check_pages(&ck);
    check_buffer_and_frametable(&ck);
    spin_unlock(&heap_lock);
    if (ck.reported > HEAP_CHECK_MAX_REPORTS)
        printk("heap_check: %u more problems not shown\n", ck.reported - HEAP_CHECK_MAX_REPORTS);
    return ck.bad;
}
