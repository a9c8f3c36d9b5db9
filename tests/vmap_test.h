/*
 * Shared helpers for the page-table and vmap tests.
 *
 * The image sets the vmap region up once at boot (and the console may keep
 * an ioremap in it). Host tests run on fake machines that other tests
 * replace, so each test sets the region up and takes it down again: the
 * bitmap page and every table go back to the heap before the runner
 * compares the heap's free pages, and before any machine swap.
 *
 * The tests predict placement (first fit): they run without the debug
 * builds' quarantine of freed ranges, which the fixture empties and turns
 * off, and turns back on at the end. The quarantine has tests of its own.
 */
#ifndef VMAP_TEST_H
#define VMAP_TEST_H

#include <mm/mm.h>
#include <mm/page_alloc.h>
#include <mm/pt.h>
#include <mm/vmap.h>
#include <test/hooks.h>
#include <test/selftest.h>

struct vmap_fixture {
    struct vm_stats before;
    unsigned int quarantine;        /* the depth to restore */
};

/* False (and a failed check) if there is no vmap region to test. */
static inline bool vmap_test_begin(struct vmap_fixture *fx)
{
#ifdef CONFIG_HOST
    if (!vm_is_ready())
        vm_init();
#endif
    if (!vm_is_ready()) {
        EXPECT(!"the vmap region is not set up: vm_init() must run at boot, after the heap");
        return false;
    }
    fx->quarantine = vm_quarantine_set(0);
    vm_stats(&fx->before);
    return true;
}

/* Every allocation the test made must be gone. */
static inline void vmap_test_end(struct vmap_fixture *fx)
{
    struct vm_stats after;

    vm_stats(&after);
    EXPECT_EQ(after.allocations, fx->before.allocations);
    EXPECT_EQ(after.pages, fx->before.pages);
    EXPECT_EQ(after.bitmap_mapped, fx->before.bitmap_mapped);
    vm_quarantine_set(fx->quarantine);
#ifdef CONFIG_HOST
    /* With the region gone, no level-3 table may be left: they are all the heap's again. */
    EXPECT_EQ(vm_teardown(), 0);
    EXPECT_EQ(pt_heap_tables(), 0);
#endif
}

/*
 * Takes free domheap pages (largest blocks first, without scrubbing) into
 * h until only `keep` are left. For tests of running out of memory.
 */
struct heap_hoard {
    unsigned int n;
    struct {
        struct page_info *pg;
        unsigned int order;
    } block[512];
};

static inline void heap_hoard(struct heap_hoard *h, unsigned long keep)
{
    h->n = 0;
    for (unsigned int order = MAX_ORDER + 1; order-- > 0;) {
        while (h->n < ARRAY_SIZE(h->block) && avail_domheap_pages() >= keep + (1UL << order)) {
            struct page_info *pg = alloc_domheap_pages(NULL, order, MEMF_no_scrub);

            if (!pg)
                break;
            h->block[h->n].pg = pg;
            h->block[h->n].order = order;
            h->n++;
        }
    }
    EXPECT_EQ(avail_domheap_pages(), keep);
}

static inline void heap_hoard_release(struct heap_hoard *h)
{
    while (h->n > 0) {
        h->n--;
        free_domheap_pages(h->block[h->n].pg, h->block[h->n].order);
    }
}

#endif
