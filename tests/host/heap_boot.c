/*
 * The boot allocator on its own (sorted ranges, top-of-highest-range
 * allocation, panics), and its handover to the heap in naturally aligned
 * chunks. The unit tests borrow the (closed, empty) boot allocator of the
 * running machine and close it again when done.
 */
#include <mm/boot_alloc.h>
#include <mm/mm.h>
#include <mm/page_alloc.h>
#include <mm/setup_mm.h>
#include <test/hooks.h>
#include <test/selftest.h>

#include "heap_test.h"

#define MiB (1ULL << 20)

static void open_boot_allocator(void)
{
    boot_alloc_reset();
}

/* Back to how the running machine left it: closed and empty. */
static void close_boot_allocator(void)
{
    boot_alloc_reset();
    end_boot_allocator();
}

/* Is range i the frames [start, end)? */
static bool range_is(unsigned int i, unsigned long start, unsigned long end)
{
    mfn_t s, e;

    if (i >= boot_alloc_nr_ranges())
        return false;
    boot_alloc_range(i, &s, &e);
    return mfn_x(s) == start && mfn_x(e) == end;
}

SELFTEST(heap_boot, ranges_are_sorted_and_joined)
{
    open_boot_allocator();
    init_boot_pages(0x30000000ULL, 0x30100000ULL);
    init_boot_pages(0x10000000ULL, 0x10008000ULL);
    init_boot_pages(0x30100000ULL, 0x30200000ULL);     /* joins the first on its right */
    init_boot_pages(0x0fff8000ULL, 0x10000000ULL);     /* joins the second on its left */
    init_boot_pages(0x20000800ULL, 0x20002800ULL);     /* rounded inwards: one page */
    init_boot_pages(0x50000000ULL, 0x50000fffULL);     /* less than a page: nothing */
    init_boot_pages(0x60000000ULL, 0x60000000ULL);     /* empty */
    EXPECT_EQ(boot_alloc_nr_ranges(), 3);
    EXPECT(range_is(0, 0xfff8, 0x10008));
    EXPECT(range_is(1, 0x20001, 0x20002));
    EXPECT(range_is(2, 0x30000, 0x30200));
    EXPECT_EQ(boot_alloc_free_pages(), 16 + 1 + 512);
    /* Filling the gap between two ranges joins all three pieces. */
    init_boot_pages(0x10008000ULL, 0x20001000ULL);
    EXPECT_EQ(boot_alloc_nr_ranges(), 2);
    EXPECT(range_is(0, 0xfff8, 0x20002));
    close_boot_allocator();
}

SELFTEST(heap_boot, allocates_from_the_top_of_the_highest_range)
{
    open_boot_allocator();
    init_boot_pages(0x10000000ULL, 0x10100000ULL);     /* frames 0x10000-0x10100 */
    init_boot_pages(0x20000000ULL, 0x20010000ULL);     /* frames 0x20000-0x20010 */

    EXPECT_EQ(mfn_x(alloc_boot_pages(1, 1)), 0x2000f);
    /* 4 pages aligned to 4 below 0x2000f: 0x20008; the range splits. */
    EXPECT_EQ(mfn_x(alloc_boot_pages(4, 4)), 0x20008);
    EXPECT(range_is(1, 0x20000, 0x20008));
    EXPECT(range_is(2, 0x2000c, 0x2000f));
    /* Neither upper piece holds 16 pages: the lower range's top. */
    EXPECT_EQ(mfn_x(alloc_boot_pages(16, 1)), 0x100f0);
    /* 128 aligned to 128 within [0x10000, 0x100f0): only 0x10000 works. */
    EXPECT_EQ(mfn_x(alloc_boot_pages(0x80, 0x80)), 0x10000);
    EXPECT(range_is(0, 0x10080, 0x100f0));
    EXPECT_EQ(boot_alloc_free_pages(), 0x70 + 8 + 3);
    close_boot_allocator();
}

SELFTEST(heap_boot, overlapping_ranges_panic)
{
    open_boot_allocator();
    init_boot_pages(0x10000000ULL, 0x10100000ULL);
    EXPECT_PANIC("overlaps free range 0x10000000-0x10100000",
                 init_boot_pages(0x100ff000ULL, 0x10200000ULL));
    EXPECT_PANIC("overlaps free range", init_boot_pages(0x0ff00000ULL, 0x10001000ULL));
    EXPECT_PANIC("overlaps free range", init_boot_pages(0x10004000ULL, 0x10005000ULL));
    EXPECT_EQ(boot_alloc_nr_ranges(), 1);
    close_boot_allocator();
}

SELFTEST(heap_boot, impossible_requests_panic)
{
    open_boot_allocator();
    init_boot_pages(0x10001000ULL, 0x10065000ULL);     /* frames 0x10001-0x10065: 100 */
    /* 64 aligned to 64 would have to start at 0x10000 or 0x10040: neither fits. */
    EXPECT_PANIC("cannot allocate 64 pages aligned to 64 pages (100 pages free in 1 ranges, "
                 "the largest 100 pages)", alloc_boot_pages(64, 64));
    EXPECT_PANIC("cannot allocate 101 pages", alloc_boot_pages(101, 1));
    EXPECT_PANIC("power-of-two alignment", alloc_boot_pages(1, 3));
    EXPECT_PANIC("at least one page", alloc_boot_pages(0, 1));
    EXPECT_EQ(boot_alloc_free_pages(), 100);
    close_boot_allocator();
}

SELFTEST(heap_boot, closed_after_end)
{
    open_boot_allocator();
    end_boot_allocator();
    EXPECT_PANIC("after end_boot_allocator", alloc_boot_pages(1, 1));
    EXPECT_PANIC("after end_boot_allocator", init_boot_pages(0x10000000ULL, 0x10001000ULL));
    EXPECT_PANIC("called twice", end_boot_allocator());
    close_boot_allocator();
}

/* Greedy, independently: the largest naturally aligned block at s that fits. */
static void expected_chunks(unsigned long count[], mfn_t start, mfn_t end)
{
    unsigned long s = mfn_x(start), e = mfn_x(end);

    while (s < e) {
        unsigned int o = 0;

        while (o < MAX_ORDER && !(s & (1UL << o)) && s + (2UL << o) <= e)
            o++;
        count[o]++;
        s += 1UL << o;
    }
}

/*
 * One 128 MiB bank at 4 GiB with two odd-sized reservations. The xenheap is
 * the top 32 MiB, the frame table (one group: 512 KiB, one 2 MiB granule)
 * the 2 MiB below it. Each remaining range arrives as the greedy chunks;
 * no two chunks merge, because the ranges are separated by pages that are
 * not free (reservations, frame table, buffer pages).
 */
SELFTEST(heap_boot, handover_in_aligned_chunks)
{
    struct host_machine_config cfg;
    unsigned long want[MAX_ORDER + 1] = { 0 }, got[MAX_ORDER + 1];
    const mfn_t b = _mfn(0x100000);

    heap_test_config(&cfg, 1, mfn_to_paddr(b), 128 * MiB);
    cfg.reserved[0].start = mfn_to_paddr(b);
    cfg.reserved[0].end = mfn_to_paddr(mfn_add(b, 5));
    cfg.reserved[1].start = mfn_to_paddr(mfn_add(b, 0x5003));
    cfg.reserved[1].end = mfn_to_paddr(mfn_add(b, 0x5007));
    cfg.nr_reserved = 2;
    if (!heap_test_boot(&cfg))
        goto out;
    EXPECT_EQ(mm_layout()->frametable_run[0].pa, mfn_to_paddr(mfn_add(b, 0x5e00)));
    expected_chunks(want, mfn_add(b, 5), mfn_add(b, 0x5003));
    expected_chunks(want, mfn_add(b, 0x5007), mfn_add(b, 0x5e00));
    /* The xenheap less its buffer pages. */
    expected_chunks(want, mfn_add(b, 0x6000 + 1), mfn_add(b, 0x8000 - 1));
    heap_test_count_free_blocks(got, MAX_ORDER);
    for (unsigned int o = 0; o <= MAX_ORDER; o++)
        if (!EXPECT_EQ(got[o], want[o]))
            selftest_diag("order %u", o);
    EXPECT_EQ(heap_check(), 0);
out:
    heap_test_restore();
}
