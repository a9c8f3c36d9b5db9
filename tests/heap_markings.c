/*
 * heap_check() against damage to the markings the allocator's fast paths
 * trust: each frame's zone in count_info, and PGC_xen_heap on xenheap
 * allocations. A wrong zone would put a freed block on the wrong list; a
 * wrong heap bit would let a domheap page be freed as a xenheap page.
 */
#include <lib/lib.h>
#include <mm/mm.h>
#include <mm/page_alloc.h>
#include <test/selftest.h>

SELFTEST(heap_markings, wrong_zone_is_found)
{
    struct page_info *pg = alloc_domheap_pages(NULL, 1, MEMF_no_scrub);
    unsigned int saved;

    if (!EXPECT(pg))
        return;
    EXPECT_EQ(heap_check(), 0);
    saved = pg[1].count_info;                    /* a tail page */
    pg[1].count_info ^= PGC_zone(1);
    EXPECT(heap_check() & HEAP_BAD_STATE);
    pg[1].count_info = saved;
    EXPECT_EQ(heap_check(), 0);
    free_domheap_pages(pg, 1);
}

SELFTEST(heap_markings, wrong_heap_bit_is_found)
{
    struct page_info *pg = alloc_domheap_pages(NULL, 0, MEMF_no_scrub);
    void *x = alloc_xenheap_pages(0, 0);
    struct page_info *xp;

    if (!EXPECT(pg) || !EXPECT(x))
        goto out;
    xp = virt_to_page(x);
    pg->count_info |= PGC_xen_heap;              /* a domheap page claiming the xenheap */
    EXPECT(heap_check() & HEAP_BAD_STATE);
    pg->count_info &= ~PGC_xen_heap;
    xp->count_info &= ~PGC_xen_heap;             /* a xenheap page denying it */
    EXPECT(heap_check() & HEAP_BAD_STATE);
    xp->count_info |= PGC_xen_heap;
    EXPECT_EQ(heap_check(), 0);
out:
    if (pg)
        free_domheap_pages(pg, 0);
    if (x)
        free_xenheap_pages(x, 0);
}
