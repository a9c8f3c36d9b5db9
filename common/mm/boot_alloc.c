/*
 * Boot allocator (see boot_alloc.h): a sorted array of free frame ranges.
 *
 * Ranges are kept in frame numbers, sorted, non-overlapping, with adjacent
 * ranges joined, so "the top of the highest range" is the last entry and a
 * request scans at most every range once. An allocation from the middle of
 * a range (because of alignment) splits it in two; the array is sized for
 * the device tree's ranges plus such splits.
 */
#include <lib/lib.h>
#include <mm/boot_alloc.h>
#include <mm/page_alloc.h>
#include <string.h>
#include <test/hooks.h>

struct boot_range {
    mfn_t start, end;       /* [start, end) */
};

static unsigned long range_pages(const struct boot_range *r)
{
    return mfn_x(r->end) - mfn_x(r->start);
}

static struct boot_range ranges[BOOT_MAX_RANGES];
static unsigned int nr_ranges;
static bool boot_allocator_closed;

static void insert_range(unsigned int at, mfn_t start, mfn_t end)
{
    if (nr_ranges == BOOT_MAX_RANGES)
        panic("boot allocator: more than %u free ranges (adding frames 0x%lx-0x%lx)",
              BOOT_MAX_RANGES, mfn_x(start), mfn_x(end));
    memmove(&ranges[at + 1], &ranges[at], (nr_ranges - at) * sizeof(ranges[0]));
    ranges[at].start = start;
    ranges[at].end = end;
    nr_ranges++;
}

static void remove_range(unsigned int at)
{
    nr_ranges--;
    memmove(&ranges[at], &ranges[at + 1], (nr_ranges - at) * sizeof(ranges[0]));
}

void init_boot_pages(paddr_t ps, paddr_t pe)
{
    mfn_t start = paddr_to_mfn(ROUNDUP(ps, (paddr_t)PAGE_SIZE));
    mfn_t end = paddr_to_mfn(ROUNDDOWN(pe, (paddr_t)PAGE_SIZE));
    unsigned int i;

    if (boot_allocator_closed)
        panic("init_boot_pages(0x%llx, 0x%llx) after end_boot_allocator()",
              (unsigned long long)ps, (unsigned long long)pe);
    if (ps >= pe || !mfn_lt(start, end))
        return;

    /* i: the first range that starts after the new one. */
    for (i = 0; i < nr_ranges && !mfn_lt(start, ranges[i].start); i++)
        ;
    if ((i > 0 && mfn_lt(start, ranges[i - 1].end)) ||
        (i < nr_ranges && mfn_lt(ranges[i].start, end))) {
        const struct boot_range *r = (i > 0 && mfn_lt(start, ranges[i - 1].end)) ? &ranges[i - 1]
                                                                                  : &ranges[i];
        panic("init_boot_pages: 0x%llx-0x%llx overlaps free range 0x%llx-0x%llx",
              (unsigned long long)ps, (unsigned long long)pe,
              (unsigned long long)mfn_to_paddr(r->start),
              (unsigned long long)mfn_to_paddr(r->end));
    }

    if (i > 0 && mfn_eq(ranges[i - 1].end, start)) {
        ranges[i - 1].end = end;
        if (i < nr_ranges && mfn_eq(ranges[i].start, end)) {
            ranges[i - 1].end = ranges[i].end;
            remove_range(i);
        }
    } else if (i < nr_ranges && mfn_eq(ranges[i].start, end)) {
        ranges[i].start = start;
    } else {
        insert_range(i, start, end);
    }
}

mfn_t alloc_boot_pages(unsigned long nr_pfns, unsigned long pfn_align)
{
    if (boot_allocator_closed)
        panic("alloc_boot_pages(%lu, %lu) after end_boot_allocator()", nr_pfns, pfn_align);
    if (nr_pfns == 0 || pfn_align == 0 || (pfn_align & (pfn_align - 1)))
        panic("alloc_boot_pages(%lu, %lu): need at least one page and a power-of-two alignment",
              nr_pfns, pfn_align);

    for (unsigned int i = nr_ranges; i-- > 0;) {
        struct boot_range *r = &ranges[i];
        mfn_t pg, end = r->end;

        if (range_pages(r) < nr_pfns)
            continue;
        pg = _mfn(ROUNDDOWN(mfn_x(end) - nr_pfns, pfn_align));
        if (mfn_lt(pg, r->start))
            continue;
        /* Keep [start, pg) here and [pg + nr, end) after it. */
        r->end = pg;
        if (mfn_lt(mfn_add(pg, nr_pfns), end))
            insert_range(i + 1, mfn_add(pg, nr_pfns), end);
        if (mfn_eq(ranges[i].start, ranges[i].end))
            remove_range(i);
        return pg;
    }

    {
        unsigned long largest = 0;

        for (unsigned int i = 0; i < nr_ranges; i++)
            largest = max(largest, range_pages(&ranges[i]));
        panic("alloc_boot_pages: cannot allocate %lu pages aligned to %lu pages "
              "(%lu pages free in %u ranges, the largest %lu pages)",
              nr_pfns, pfn_align, boot_alloc_free_pages(), nr_ranges, largest);
    }
}

void end_boot_allocator(void)
{
    if (boot_allocator_closed)
        panic("end_boot_allocator() called twice");
    /* Closed first: nothing may allocate from ranges being handed over. */
    boot_allocator_closed = true;
    for (unsigned int i = 0; i < nr_ranges; i++)
        init_domheap_pages(mfn_to_paddr(ranges[i].start), mfn_to_paddr(ranges[i].end));
    nr_ranges = 0;
}

unsigned int boot_alloc_nr_ranges(void)
{
    return nr_ranges;
}

void boot_alloc_range(unsigned int i, mfn_t *start, mfn_t *end)
{
    BUG_ON(i >= nr_ranges);
    *start = ranges[i].start;
    *end = ranges[i].end;
}

unsigned long boot_alloc_free_pages(void)
{
    unsigned long n = 0;

    for (unsigned int i = 0; i < nr_ranges; i++)
        n += range_pages(&ranges[i]);
    return n;
}

void boot_alloc_reset(void)
{
    nr_ranges = 0;
    boot_allocator_closed = false;
}
