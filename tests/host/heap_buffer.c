/*
 * The one-page buffer at the ends of the xenheap is load-bearing.
 *
 * The merge rule checks "free, same order, same address-width zone", not
 * which heap a frame belongs to. A xenheap block and a domheap block merge
 * across a boundary B when both are free, of the same order k, and buddies;
 * blocks of order k on either side of B are buddies only when B is an odd
 * multiple of 2^k. The xenheap is 32 MiB (2^13 pages) aligned, so:
 *
 *  - a boundary that is an odd multiple of 32 MiB (aligned to no larger
 *    order) lets the xenheap's first or last 32 MiB merge with 32 MiB of
 *    free domheap: these layouts straddle without the buffer;
 *  - a boundary aligned to 2^k with k above every xenheap block's order
 *    cannot straddle, buffer or not.
 *
 * Each layout puts the frame table in a small high bank, so that free
 * domheap memory really touches the xenheap (otherwise the frame table,
 * allocated right below the xenheap, would insulate it).
 */
#include <mm/mm.h>
#include <mm/page_alloc.h>
#include <mm/setup_mm.h>
#include <test/hooks.h>
#include <test/selftest.h>

#include "heap_test.h"

#define MiB (1ULL << 20)

/* 128 MiB at 4 GiB and 8 MiB at 16 GiB: xenheap [4G + 96M, 4G + 128M),
 * frames 0x106000-0x108000; 0x106000 = 0x83 * 2^13, an odd multiple. */
static void layout_low_boundary(struct host_machine_config *cfg)
{
    heap_test_config(cfg, 2, 0x100000000ULL, 128 * MiB, 0x400000000ULL, 8 * MiB);
}

/* 1056 MiB + an adjacent 32 MiB bank + 8 MiB far away: 1096 MiB of RAM
 * wants a 64 MiB xenheap; it goes to the top of the big bank, frames
 * 0x13e000-0x142000. Both ends are odd multiples of 2^13, and the adjacent
 * bank is free domheap right above the xenheap. */
static void layout_both_boundaries(struct host_machine_config *cfg)
{
    heap_test_config(cfg, 3, 0x100000000ULL, 1056 * MiB, 0x142000000ULL, 32 * MiB,
                     0x200000000ULL, 8 * MiB);
}

/* 160 MiB at 4 GiB: the xenheap is frames 0x108000-0x10a000; 0x108000 is
 * 2^15-aligned, more than any xenheap block (order 13) can match. */
static void layout_aligned_boundary(struct host_machine_config *cfg)
{
    heap_test_config(cfg, 2, 0x100000000ULL, 160 * MiB, 0x400000000ULL, 8 * MiB);
}

static bool boot_with_buffer(void (*layout)(struct host_machine_config *), bool buffer)
{
    struct host_machine_config cfg;
    bool ok;

    layout(&cfg);
    heap_set_xenheap_buffer(buffer);
    ok = heap_test_boot(&cfg);
    heap_set_xenheap_buffer(true);
    return ok;
}

/* Is frame mfn the first page of a free block of this order? */
static bool is_free_head(unsigned long mfn, unsigned int order)
{
    const struct page_info *pg = mfn_to_page(_mfn(mfn));

    return (pg->count_info & (PGC_state_mask | PGC_head)) == (PGS_free | PGC_head) &&
           pg->order == order;
}

SELFTEST(heap_buffer, low_boundary_with_buffer)
{
    const struct mm_layout *l;

    if (!boot_with_buffer(layout_low_boundary, true))
        goto out;
    l = mm_layout();
    EXPECT_EQ(l->xenheap_start, 0x106000000ULL);
    EXPECT_EQ(l->frametable_run[0].pa, 0x400600000ULL);
    EXPECT_EQ(l->nr_buffer_pages, 2);
    EXPECT_EQ(mfn_x(l->buffer_mfn[0]), 0x106000);
    EXPECT_EQ(mfn_x(l->buffer_mfn[1]), 0x107fff);
    EXPECT_EQ(heap_check(), 0);
    /* The domheap side keeps its own blocks: [0x100000, 0x104000) order 14
     * and [0x104000, 0x106000) order 13, unmerged with anything xenheap. */
    EXPECT(is_free_head(0x100000, 14));
    EXPECT(is_free_head(0x104000, 13));
out:
    heap_test_restore();
}

/*
 * Without the buffer, the domheap block [0x104000, 0x106000) and the xenheap
 * block [0x106000, 0x108000) are order-13 buddies: they merge, then with
 * [0x100000, 0x104000) into one order-15 block holding the whole xenheap, on
 * the domheap's list. heap_check catches it, and the domheap really hands
 * out xenheap frames.
 */
SELFTEST(heap_buffer, low_boundary_without_buffer_straddles)
{
    struct page_info *pg;

    if (!boot_with_buffer(layout_low_boundary, false))
        goto out;
    EXPECT_EQ(mm_layout()->nr_buffer_pages, 0);
    EXPECT(is_free_head(0x100000, 15));
    EXPECT(heap_check() & HEAP_BAD_STRADDLE);
    pg = alloc_domheap_pages(NULL, 15, MEMF_no_scrub);
    if (EXPECT(pg != NULL)) {
        EXPECT_EQ(mfn_x(page_to_mfn(pg)), 0x100000);
        EXPECT(is_xen_heap_page(pg + 0x6000));     /* a xenheap frame, from the domheap */
        free_domheap_pages(pg, 15);
    }
out:
    heap_test_restore();
}

SELFTEST(heap_buffer, both_boundaries_with_buffer)
{
    const struct mm_layout *l;

    if (!boot_with_buffer(layout_both_boundaries, true))
        goto out;
    l = mm_layout();
    EXPECT_EQ(l->xenheap_start, 0x13e000000ULL);
    EXPECT_EQ(l->xenheap_end, 0x142000000ULL);
    EXPECT_EQ(l->frametable_run[0].pa, 0x200200000ULL);
    EXPECT_EQ(l->nr_buffer_pages, 2);
    EXPECT_EQ(heap_check(), 0);
    /* The adjacent bank stays a domheap block of its own. */
    EXPECT(is_free_head(0x142000, 13));
out:
    heap_test_restore();
}

/*
 * Without the buffer: below, [0x13c000, 0x13e000) merges with the xenheap's
 * [0x13e000, 0x140000) and on up to [0x100000, 0x140000) (order 18); above,
 * the xenheap's [0x140000, 0x142000) merges with the adjacent bank's
 * [0x142000, 0x144000) into an order-14 block on the xenheap's list.
 */
SELFTEST(heap_buffer, both_boundaries_without_buffer_straddle)
{
    if (!boot_with_buffer(layout_both_boundaries, false))
        goto out;
    EXPECT(is_free_head(0x100000, 18));
    EXPECT(is_free_head(0x140000, 14));
    EXPECT(heap_check() & HEAP_BAD_STRADDLE);
    /* The xenheap now hands out domheap frames too. */
    {
        void *va = alloc_xenheap_pages(14, MEMF_no_scrub);

        if (EXPECT(va != NULL)) {
            EXPECT_EQ(mfn_x(virt_to_mfn(va)), 0x140000);
            EXPECT(!is_xen_heap_mfn(mfn_add(virt_to_mfn(va), 0x3000)));
            free_xenheap_pages(va, 14);
        }
    }
out:
    heap_test_restore();
}

/* A boundary aligned above every xenheap block's order needs no buffer. */
SELFTEST(heap_buffer, aligned_boundary_cannot_straddle)
{
    if (!boot_with_buffer(layout_aligned_boundary, false))
        goto out;
    EXPECT_EQ(mm_layout()->xenheap_start, 0x108000000ULL);
    EXPECT(is_free_head(0x100000, 15));
    EXPECT(is_free_head(0x108000, 13));
    EXPECT_EQ(heap_check(), 0);
out:
    heap_test_restore();
}

/*
 * At run time too: take every free page of both heaps one at a time, give
 * them back in a scrambled order (every merge the rules allow happens), and
 * the heap ends exactly as booted. With the buffer, nothing straddles at any
 * point; without it, the straddling blocks form again.
 */
static struct page_info *all_pages[40000];

static void churn(void)
{
    unsigned long n = 0, x = 12345;

    for (;;) {
        struct page_info *pg = alloc_domheap_pages(NULL, 0, MEMF_no_scrub);
        void *va;

        if (!pg) {
            va = alloc_xenheap_pages(0, MEMF_no_scrub);
            if (!va)
                break;
            pg = virt_to_page(va);
        }
        if (!EXPECT(n < ARRAY_SIZE(all_pages)))
            break;
        all_pages[n++] = pg;
    }
    EXPECT_EQ(heap_free_pages(), 0);
    for (unsigned long i = n; i > 1; i--) {         /* Fisher-Yates */
        unsigned long j;
        struct page_info *t;

        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        j = x % i;
        t = all_pages[i - 1];
        all_pages[i - 1] = all_pages[j];
        all_pages[j] = t;
    }
    for (unsigned long i = 0; i < n; i++) {
        if (is_xen_heap_page(all_pages[i]))
            free_xenheap_pages(page_to_virt(all_pages[i]), 0);
        else
            free_domheap_pages(all_pages[i], 0);
        if (i == n / 2)
            EXPECT_EQ(heap_check() & HEAP_BAD_STRADDLE, 0);
    }
}

SELFTEST(heap_buffer, churn_with_buffer_never_straddles)
{
    unsigned long before[MAX_ORDER + 1], after[MAX_ORDER + 1];

    if (!boot_with_buffer(layout_low_boundary, true))
        goto out;
    heap_test_count_free_blocks(before, MAX_ORDER);
    churn();
    heap_test_count_free_blocks(after, MAX_ORDER);
    for (unsigned int o = 0; o <= MAX_ORDER; o++)
        EXPECT_EQ(after[o], before[o]);
    EXPECT_EQ(heap_check(), 0);
out:
    heap_test_restore();
}

/*
 * Without the buffer, taking every page and giving each back builds the
 * straddling block again: the merge rule alone cannot keep the heaps apart.
 * (Splitting the straddling block puts each half on its own heap's list, so
 * both heaps are drained; each page goes back through its heap's API.)
 */
SELFTEST(heap_buffer, churn_without_buffer_straddles_again)
{
    unsigned long n = 0;

    if (!boot_with_buffer(layout_low_boundary, false))
        goto out;
    for (;;) {
        struct page_info *pg = alloc_domheap_pages(NULL, 0, MEMF_no_scrub);
        void *va;

        if (!pg) {
            va = alloc_xenheap_pages(0, MEMF_no_scrub);
            if (!va)
                break;
            pg = virt_to_page(va);
        }
        if (!EXPECT(n < ARRAY_SIZE(all_pages)))
            break;
        all_pages[n++] = pg;
    }
    EXPECT_EQ(n, 0x8000 + 0x800 - 0x200);   /* both banks, less the frame table */
    EXPECT_EQ(heap_check() & HEAP_BAD_STRADDLE, 0);  /* nothing free, nothing straddles */
    while (n) {
        struct page_info *pg = all_pages[--n];

        if (is_xen_heap_page(pg))
            free_xenheap_pages(page_to_virt(pg), 0);
        else
            free_domheap_pages(pg, 0);
    }
    EXPECT(is_free_head(0x100000, 15));
    EXPECT(heap_check() & HEAP_BAD_STRADDLE);
out:
    heap_test_restore();
}
