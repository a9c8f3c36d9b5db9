/*
 * Model-based test: a million random heap operations (fixed seed), each
 * checked against a simple reference model that knows only which frames are
 * free, which heap each belongs to, and who holds what.
 *
 * The model predicts every outcome independently of the allocator's lists:
 *  - a successful allocation must be 2^k model-free frames of the right
 *    heap, aligned to 2^k, below the MEMF_bits limit, owned as asked;
 *  - a failed one is right only if the domain was at its limit or no such
 *    block of free frames exists in the model. A buddy heap that always
 *    merges free buddies can serve any aligned run of free frames (the run's
 *    halves would be free buddies), so "no block" is exact, not a guess;
 *  - frame contents: a new allocation never shows an earlier owner's data,
 *    and a frame's data survives until it is freed (no block is handed out
 *    twice).
 * heap_check() runs every CHECK_EVERY operations, with a full comparison of
 * every frame's state and of the counters.
 *
 * Machine: 192 MiB across 4 GiB (two zones), an adjacent 16 MiB bank, and
 * 4 MiB far up that takes the frame table. The xenheap is the highest
 * aligned 32 MiB that fits, [4G + 96M, 4G + 128M), so free domheap memory
 * touches it from below and from above (the 16 MiB bank): both buffer pages
 * (see heap_buffer.c) are under load the whole time.
 */
#include <domain/domain.h>
#include <mm/domain_page.h>
#include <mm/mm.h>
#include <mm/page_alloc.h>
#include <mm/setup_mm.h>
#include <string.h>
#include <test/selftest.h>

#include "heap_test.h"

#define MiB (1ULL << 20)
#define OPERATIONS 1000000UL
#define CHECK_EVERY 1000UL
#define MAX_TEST_ORDER 10

/* The model's frames: the banks joined where adjacent. The model counts
 * frames as plain numbers; mfn_t is for what goes to and from the heap. */
#define MODEL_FIRST 0xfc000UL           /* bank 0 and 1: [0xfc000, 0x109000) */
#define MODEL_LAST_LOW 0x109000UL
#define MODEL_HIGH 0x300000UL           /* bank 2: [0x300000, 0x300400) */
#define MODEL_HIGH_END 0x300400UL
#define XEN_START 0x106000UL            /* [4G + 96M, 4G + 128M): as high as 32 MiB fits */
#define XEN_END 0x108000UL
#define FRAMETABLE 0x300200UL           /* 2 MiB granule at the top of bank 2 */

#define NR_LOW (MODEL_LAST_LOW - MODEL_FIRST)
#define NR_FRAMES (NR_LOW + (MODEL_HIGH_END - MODEL_HIGH))

enum { M_NONE, M_FREE, M_USED };

struct live {
    mfn_t mfn;
    unsigned int order;
    bool xen;
    int domain;             /* -1: anonymous */
    uint64_t tag;
};

static uint8_t state[NR_FRAMES];
static uint64_t free_bits[2][(NR_FRAMES + 63) / 64];  /* [xen] bit i: frame i free */
static struct live live[NR_FRAMES];
static unsigned long nr_live;
static unsigned long model_free[2];
static struct domain doms[2];
static unsigned long model_tot[2];
static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next_random(void)
{
    /* xorshift64* */
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545f4914f6cdd1dULL;
}

static unsigned long below(unsigned long n)
{
    return (unsigned long)(next_random() % n);
}

static long frame_index(mfn_t mfn)
{
    unsigned long f = mfn_x(mfn);

    if (f >= MODEL_FIRST && f < MODEL_LAST_LOW)
        return (long)(f - MODEL_FIRST);
    if (f >= MODEL_HIGH && f < MODEL_HIGH_END)
        return (long)(NR_LOW + f - MODEL_HIGH);
    return -1;
}

static mfn_t index_frame(unsigned long i)
{
    return _mfn(i < NR_LOW ? MODEL_FIRST + i : MODEL_HIGH + (i - NR_LOW));
}

static bool frame_is_xen(mfn_t mfn)
{
    return mfn_x(mfn) >= XEN_START && mfn_x(mfn) < XEN_END;
}

/* Not heap memory at boot: the xenheap's buffer pages. */
static bool frame_is_buffer(mfn_t mfn)
{
    return mfn_x(mfn) == XEN_START || mfn_x(mfn) == XEN_END - 1;
}

static void set_state(unsigned long i, uint8_t s)
{
    bool xen = frame_is_xen(index_frame(i));

    if (state[i] == M_FREE) {
        free_bits[xen][i / 64] &= ~(1ULL << (i % 64));
        model_free[xen]--;
    }
    state[i] = s;
    if (s == M_FREE) {
        free_bits[xen][i / 64] |= 1ULL << (i % 64);
        model_free[xen]++;
    }
}

/* The boot state, from the layout rules alone. */
static void model_init(void)
{
    memset(state, M_NONE, sizeof(state));
    memset(free_bits, 0, sizeof(free_bits));
    model_free[0] = model_free[1] = 0;
    for (unsigned long i = 0; i < NR_FRAMES; i++) {
        mfn_t mfn = index_frame(i);

        if (frame_is_buffer(mfn) || mfn_x(mfn) >= FRAMETABLE)
            continue;           /* buffer pages; the frame table */
        set_state(i, M_FREE);
    }
    nr_live = 0;
}

/* Is [i, i + n) all free in the given heap's bitmap? n a power of two, i aligned. */
static bool run_free(const uint64_t *bits, unsigned long i, unsigned long n)
{
    if (n >= 64) {
        for (unsigned long w = i / 64; w < (i + n) / 64; w++)
            if (bits[w] != ~0ULL)
                return false;
        return true;
    }
    {
        uint64_t mask = (n == 64 ? ~0ULL : ((1ULL << n) - 1)) << (i % 64);

        return (bits[i / 64] & mask) == mask;
    }
}

/* Could a perfect buddy heap serve 2^order frames of this heap below frame limit? */
static bool model_has_block(bool xen, unsigned int order, unsigned long limit)
{
    unsigned long n = 1UL << order;
    const struct { unsigned long first, count, base; } ranges[2] = {
        { 0, NR_LOW, MODEL_FIRST },
        { NR_LOW, MODEL_HIGH_END - MODEL_HIGH, MODEL_HIGH },
    };

    for (unsigned int r = 0; r < 2; r++) {
        /* Both bases are 2^14 aligned: frame alignment is index alignment. */
        for (unsigned long off = 0; off + n <= ranges[r].count; off += n) {
            if (ranges[r].base + off + n > limit)
                break;
            if (run_free(free_bits[xen], ranges[r].first + off, n))
                return true;
        }
    }
    return false;
}

static void *map(mfn_t mfn)
{
    return frame_is_xen(mfn) ? mfn_to_virt(mfn) : map_domain_page(mfn);
}

static void unmap(mfn_t mfn, void *va)
{
    if (!frame_is_xen(mfn))
        unmap_domain_page(va);
}

#ifdef CONFIG_DEBUG
static const bool debug_build = true;
#else
static const bool debug_build = false;
#endif

/*
 * A new allocation holds zeroes (it was scrubbed) or, in debug builds, the
 * poison written when it was last freed: never an earlier holder's tag. The
 * xenheap is the exception in release builds: its pages only ever hold the
 * hypervisor's own data, so they are not scrubbed between uses (as in Xen).
 */
static bool contents_are_clean(mfn_t mfn)
{
    const uint64_t *va = map(mfn);
    uint64_t first = va[0], last = va[PAGE_SIZE / 8 - 1];
    const uint64_t poison = 0x0101010101010101ULL * PAGE_POISON_BYTE;

    unmap(mfn, (void *)va);
    return (first == 0 && last == 0) || (first == poison && last == poison);
}

static void write_tag(mfn_t mfn, uint64_t tag)
{
    uint64_t *va = map(mfn);

    va[0] = tag;
    va[PAGE_SIZE / 8 - 1] = ~tag;
    unmap(mfn, va);
}

static bool tag_intact(mfn_t mfn, uint64_t tag)
{
    const uint64_t *va = map(mfn);
    bool ok = va[0] == tag && va[PAGE_SIZE / 8 - 1] == ~tag;

    unmap(mfn, (void *)va);
    return ok;
}

static unsigned int random_order(void)
{
    unsigned long r = below(100);

    if (r < 60)
        return 0;
    if (r < 90)
        return 1 + (unsigned int)below(3);
    if (r < 99)
        return 4 + (unsigned int)below(3);
    return 7 + (unsigned int)below(MAX_TEST_ORDER - 6);
}

static bool do_alloc(uint64_t op)
{
    bool xen = below(4) == 0;
    unsigned int order = random_order();
    unsigned long n = 1UL << order;
    unsigned int memflags = 0, bits = 0;
    int dom = xen ? -1 : (int)below(3) - 1;
    mfn_t mfn;
    unsigned long limit = ~0UL;     /* frames at or above it are out of reach */
    long first;

    if (below(100) < 15)
        bits = 32;                     /* the part of bank 0 below 4 GiB: domheap only */
    else if (below(100) < 2)
        bits = 30;                     /* no RAM at all */
    if (bits) {
        memflags |= MEMF_bits(bits);
        limit = 1UL << (bits - PAGE_SHIFT);
    }
    if (below(100) < 20)
        memflags |= MEMF_no_scrub;

    if (xen) {
        void *va = alloc_xenheap_pages(order, memflags);

        if (!va)
            return EXPECT(!model_has_block(true, order, limit));
        mfn = virt_to_mfn(va);
    } else {
        struct page_info *pg = alloc_domheap_pages(dom < 0 ? NULL : &doms[dom], order, memflags);
        bool over = dom >= 0 && model_tot[dom] + n > doms[dom].max_pages;

        if (!pg) {
            if (over)
                return EXPECT_EQ(doms[dom].tot_pages, model_tot[dom]);
            return EXPECT(!model_has_block(false, order, limit));
        }
        if (!EXPECT(!over))
            return false;
        mfn = page_to_mfn(pg);
        for (unsigned long i = 0; i < n; i++)
            if (!EXPECT(pg[i].u.owner == (dom < 0 ? NULL : &doms[dom])))
                return false;
    }

    first = frame_index(mfn);
    if (!EXPECT(first >= 0) || !EXPECT_EQ(mfn_x(mfn) & (n - 1), 0) ||
        !EXPECT(mfn_x(mfn) + n <= limit))
        return false;
    for (unsigned long i = 0; i < n; i++) {
        if (!EXPECT_EQ(state[first + i], M_FREE) ||
            !EXPECT(frame_is_xen(mfn_add(mfn, i)) == xen))
            return false;
        if (!(memflags & MEMF_no_scrub) && (!xen || debug_build) &&
            !EXPECT(contents_are_clean(mfn_add(mfn, i))))
            return false;
        set_state((unsigned long)first + i, M_USED);
        write_tag(mfn_add(mfn, i), op ^ i);
    }
    if (dom >= 0)
        model_tot[dom] += n;
    live[nr_live++] = (struct live){ mfn, order, xen, dom, op };
    return true;
}

static bool do_free(unsigned long which)
{
    struct live l = live[which];
    unsigned long n = 1UL << l.order;
    long first = frame_index(l.mfn);

    live[which] = live[--nr_live];
    for (unsigned long i = 0; i < n; i++)
        if (!EXPECT(tag_intact(mfn_add(l.mfn, i), l.tag ^ i)))
            return false;
    if (l.xen)
        free_xenheap_pages(mfn_to_virt(l.mfn), l.order);
    else
        free_domheap_pages(mfn_to_page(l.mfn), l.order);
    for (unsigned long i = 0; i < n; i++)
        set_state((unsigned long)first + i, M_FREE);
    if (l.domain >= 0) {
        model_tot[l.domain] -= n;
        return EXPECT_EQ(doms[l.domain].tot_pages, model_tot[l.domain]);
    }
    return true;
}

/* Everything the allocator says against everything the model says. */
static bool full_check(void)
{
    bool ok = EXPECT_EQ(heap_check(), 0);

    ok &= EXPECT_EQ(avail_xenheap_pages(), model_free[1]);
    ok &= EXPECT_EQ(avail_domheap_pages(), model_free[0]);
    ok &= EXPECT_EQ(doms[0].tot_pages, model_tot[0]);
    ok &= EXPECT_EQ(doms[1].tot_pages, model_tot[1]);
    ok &= EXPECT_EQ(host_domain_page_mappings(), 0);
    for (unsigned long i = 0; i < NR_FRAMES && ok; i++) {
        mfn_t mfn = index_frame(i);
        unsigned int s = page_state(mfn_to_page(mfn));
        unsigned int want = state[i] == M_FREE ? PGS_free : state[i] == M_USED ? PGS_inuse
                          : frame_is_buffer(mfn) ? PGS_buffer : PGS_none;

        if (!EXPECT_EQ(s, want)) {
            selftest_diag("frame 0x%lx", mfn_x(mfn));
            ok = false;
        }
    }
    return ok;
}

SELFTEST(heap_model, million_random_operations)
{
    struct host_machine_config cfg;
    unsigned long allocs = 0, failures = 0, frees = 0;
    unsigned long boot_blocks[MAX_ORDER + 1], end_blocks[MAX_ORDER + 1];

    heap_test_config(&cfg, 3, 0xfc000000ULL, 192 * MiB, 0x108000000ULL, 16 * MiB,
                     0x300000000ULL, 4 * MiB);
    if (!heap_test_boot(&cfg))
        goto out;
    if (!EXPECT_EQ(mm_layout()->xenheap_start, mfn_to_paddr(_mfn(XEN_START))) ||
        !EXPECT_EQ(mm_layout()->frametable_run[0].pa, mfn_to_paddr(_mfn(FRAMETABLE))))
        goto out;
    model_init();
    domain_init(&doms[0], 1, 3000);
    domain_init(&doms[1], 2, 30000);
    model_tot[0] = model_tot[1] = 0;
    if (!full_check())
        goto out;
    heap_test_count_free_blocks(boot_blocks, MAX_ORDER);

    for (uint64_t op = 1; op <= OPERATIONS; op++) {
        unsigned long free_now = model_free[0] + model_free[1];
        /* Drift towards half full, so both plenty and scarcity happen. */
        bool alloc = nr_live == 0 || below(NR_FRAMES) < free_now;
        bool ok;

        if (alloc) {
            unsigned long before = nr_live;

            ok = do_alloc(op);
            allocs++;
            failures += nr_live == before;
        } else {
            ok = do_free(below(nr_live));
            frees++;
        }
        if (!ok) {
            selftest_diag("operation %llu went wrong", (unsigned long long)op);
            goto out;
        }
        if (op % CHECK_EVERY == 0 && !full_check()) {
            selftest_diag("after operation %llu", (unsigned long long)op);
            goto out;
        }
    }
    selftest_diag("%lu allocations (%lu refused), %lu frees", allocs, failures, frees);
    EXPECT(failures > 1000);            /* scarcity really happened */

    while (nr_live)
        if (!do_free(nr_live - 1))
            goto out;
    full_check();
    /* All frames back: full merging leaves exactly the boot blocks. */
    heap_test_count_free_blocks(end_blocks, MAX_ORDER);
    for (unsigned int o = 0; o <= MAX_ORDER; o++)
        EXPECT_EQ(end_blocks[o], boot_blocks[o]);
out:
    heap_test_restore();
}
