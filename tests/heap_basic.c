/*
 * Tests of the buddy heap through its public API, on whatever machine the
 * binary runs on (the image's RAM from the device tree, or the host's
 * default fake machine). Expected values come from the buddy rules, not from
 * a previous run: an order-k block is 2^k pages aligned to 2^k; a free undoes
 * the allocation it matches, so the next identical request gets the same
 * block back; merged buddies leave one free block of the next order.
 */
#include <domain/domain.h>
#include <mm/domain_page.h>
#include <mm/mm.h>
#include <mm/page_alloc.h>
#include <mm/setup_mm.h>
#include <string.h>
#include <test/selftest.h>

static bool heap_is_up(void)
{
    return EXPECT(mm_layout() != NULL);
}

/* Every page of an allocation is in use, only the first is the head. */
static bool allocation_is_whole(const struct page_info *pg, unsigned int order)
{
    for (unsigned long i = 0; i < (1UL << order); i++) {
        unsigned int want = PGS_inuse | (i == 0 ? PGC_head : 0);

        if ((pg[i].count_info & (PGC_state_mask | PGC_head)) != want)
            return false;
    }
    return pg->order == order;
}

SELFTEST(heap, alloc_free_order0)
{
    unsigned long before;
    struct page_info *pg;

    if (!heap_is_up())
        return;
    before = avail_domheap_pages();
    pg = alloc_domheap_pages(NULL, 0, 0);
    if (!EXPECT(pg != NULL))
        return;
    EXPECT_EQ(avail_domheap_pages(), before - 1);
    EXPECT(allocation_is_whole(pg, 0));
    EXPECT(pg->u.owner == NULL);
    EXPECT(!is_xen_heap_page(pg));
    EXPECT_NE(mfn_x(page_to_mfn(pg)), 0);
    EXPECT_EQ(heap_check(), 0);

    free_domheap_pages(pg, 0);
    EXPECT_EQ(avail_domheap_pages(), before);
    EXPECT_EQ(page_state(pg), PGS_free);
    EXPECT_EQ(heap_check(), 0);
}

SELFTEST(heap, orders_are_aligned_and_whole)
{
    if (!heap_is_up())
        return;
    for (unsigned int order = 0; order <= 10; order++) {
        unsigned long before = avail_domheap_pages();
        struct page_info *pg = alloc_domheap_pages(NULL, order, MEMF_no_scrub);
        mfn_t mfn;

        if (!EXPECT(pg != NULL))
            return;
        mfn = page_to_mfn(pg);
        EXPECT_EQ(mfn_x(mfn) & ((1UL << order) - 1), 0);
        EXPECT(allocation_is_whole(pg, order));
        EXPECT_EQ(avail_domheap_pages(), before - (1UL << order));
        /* The block is contiguous in the frame table and in frame numbers. */
        EXPECT_EQ(mfn_x(page_to_mfn(pg + (1UL << order) - 1)),
                  mfn_x(mfn_add(mfn, (1UL << order) - 1)));
        free_domheap_pages(pg, order);
        EXPECT_EQ(avail_domheap_pages(), before);
    }
    EXPECT_EQ(heap_check(), 0);
}

SELFTEST(heap, order_above_max_fails)
{
    if (!heap_is_up())
        return;
    EXPECT(alloc_domheap_pages(NULL, MAX_ORDER + 1, 0) == NULL);
    EXPECT(alloc_xenheap_pages(MAX_ORDER + 1, 0) == NULL);
}

/*
 * A free exactly undoes its allocation (the split halves merge back and the
 * block returns to the head of its list), so asking again gives the same
 * block: the allocator is LIFO, which keeps recently used memory hot.
 */
SELFTEST(heap, free_undoes_alloc)
{
    if (!heap_is_up())
        return;
    for (unsigned int order = 0; order <= 6; order += 3) {
        struct page_info *a = alloc_domheap_pages(NULL, order, 0), *b;

        if (!EXPECT(a != NULL))
            return;
        free_domheap_pages(a, order);
        b = alloc_domheap_pages(NULL, order, 0);
        EXPECT(b == a);
        if (b)
            free_domheap_pages(b, order);
    }
}

/* Two free buddies become one free block of the next order. */
SELFTEST(heap, buddies_merge)
{
    struct page_info *pages[64];
    unsigned int n, lo = 0, hi = 0;
    bool found = false;

    if (!heap_is_up())
        return;
    /* Splitting a block hands out its halves in turn: a pair of buddies
     * turns up among the first few order-0 allocations. */
    for (n = 0; n < ARRAY_SIZE(pages) && !found; n++) {
        pages[n] = alloc_domheap_pages(NULL, 0, MEMF_no_scrub);
        if (!EXPECT(pages[n] != NULL))
            break;
        for (unsigned int i = 0; i < n; i++) {
            if ((mfn_x(page_to_mfn(pages[i])) ^ mfn_x(page_to_mfn(pages[n]))) == 1) {
                lo = mfn_lt(page_to_mfn(pages[i]), page_to_mfn(pages[n])) ? i : n;
                hi = lo == i ? n : i;
                found = true;
            }
        }
    }
    if (EXPECT(found)) {
        struct page_info *low = pages[lo], *high = pages[hi];

        /* Free all but the pair, then the pair. */
        for (unsigned int i = 0; i < n; i++)
            if (i != lo && i != hi)
                free_domheap_pages(pages[i], 0);
        free_domheap_pages(high, 0);
        EXPECT_EQ(page_state(high), PGS_free);
        free_domheap_pages(low, 0);
        EXPECT_EQ(low->count_info & (PGC_state_mask | PGC_head), PGS_free | PGC_head);
        EXPECT(low->order >= 1);
        EXPECT_EQ(high->count_info & (PGC_state_mask | PGC_head), PGS_free);
    } else {
        for (unsigned int i = 0; i < n; i++)
            if (pages[i])
                free_domheap_pages(pages[i], 0);
    }
    EXPECT_EQ(heap_check(), 0);
}

SELFTEST(heap, memf_bits_limits_addresses)
{
    struct page_info *pg, *low;
    unsigned int zone;
    mfn_t mfn;

    if (!heap_is_up())
        return;
    EXPECT(alloc_domheap_pages(NULL, 0, MEMF_bits(PAGE_SHIFT)) == NULL);

    /* Unrestricted, the highest zone with memory: zone = fls(mfn). */
    pg = alloc_domheap_pages(NULL, 0, 0);
    if (!EXPECT(pg != NULL))
        return;
    mfn = page_to_mfn(pg);
    zone = (unsigned int)(8 * sizeof(unsigned long)) - (unsigned int)__builtin_clzl(mfn_x(mfn));
    free_domheap_pages(pg, 0);

    /* Limited to that zone's addresses, it must still succeed (pg is free). */
    low = alloc_domheap_pages(NULL, 0, MEMF_bits(zone + PAGE_SHIFT));
    if (EXPECT(low != NULL)) {
        EXPECT(page_to_maddr(low) + PAGE_SIZE <= (1ULL << (zone + PAGE_SHIFT)));
        free_domheap_pages(low, 0);
    }
    /* Below it, anything returned is below the limit. */
    low = alloc_domheap_pages(NULL, 2, MEMF_bits(zone - 1 + PAGE_SHIFT));
    if (low) {
        EXPECT(page_to_maddr(low) + 4 * PAGE_SIZE <= (1ULL << (zone - 1 + PAGE_SHIFT)));
        free_domheap_pages(low, 2);
    }
}

SELFTEST(heap, xenheap_alloc_and_translate)
{
    unsigned long before;
    uint8_t *va;
    mfn_t mfn;

    if (!heap_is_up())
        return;
    before = avail_xenheap_pages();
    va = alloc_xenheap_pages(2, 0);
    if (!EXPECT(va != NULL))
        return;
    EXPECT_EQ(avail_xenheap_pages(), before - 4);
    EXPECT(is_xen_heap_virt(va));
    mfn = virt_to_mfn(va);
    EXPECT(is_xen_heap_mfn(mfn));
    EXPECT_EQ(mfn_x(mfn) & 3, 0);
    EXPECT(mfn_to_virt(mfn) == va);
    EXPECT(__va(__pa(va)) == va);
    EXPECT_EQ(__pa(va + 5000), mfn_to_paddr(mfn) + 5000);
    EXPECT(is_xen_heap_page(virt_to_page(va)));
    EXPECT(page_to_virt(virt_to_page(va + 3 * PAGE_SIZE)) == va + 3 * PAGE_SIZE);
    EXPECT(allocation_is_whole(virt_to_page(va), 2));

    /* It is memory: write it all, read it back. */
    memset(va, 0x5a, 4 * PAGE_SIZE);
    EXPECT_EQ(va[0], 0x5a);
    EXPECT_EQ(va[4 * PAGE_SIZE - 1], 0x5a);

    free_xenheap_pages(va, 2);
    EXPECT_EQ(avail_xenheap_pages(), before);
    free_xenheap_pages(NULL, 0);    /* allowed, does nothing */
    EXPECT_EQ(heap_check(), 0);
}

SELFTEST(heap, heaps_do_not_mix)
{
    struct page_info *pg;
    void *va;

    if (!heap_is_up())
        return;
    pg = alloc_domheap_pages(NULL, 3, MEMF_no_scrub);
    va = alloc_xenheap_pages(3, MEMF_no_scrub);
    if (EXPECT(pg != NULL)) {
        for (unsigned int i = 0; i < 8; i++)
            EXPECT(!is_xen_heap_page(pg + i));
        free_domheap_pages(pg, 3);
    }
    if (EXPECT(va != NULL)) {
        for (unsigned int i = 0; i < 8; i++)
            EXPECT(is_xen_heap_mfn(mfn_add(virt_to_mfn(va), i)));
        free_xenheap_pages(va, 3);
    }
}

SELFTEST(heap, domain_accounting)
{
    struct domain d;
    struct page_info *a, *b, *c;

    if (!heap_is_up())
        return;
    domain_init(&d, 1, 6);
    a = alloc_domheap_pages(&d, 2, 0);       /* 4 pages */
    if (!EXPECT(a != NULL))
        return;
    EXPECT_EQ(d.tot_pages, 4);
    for (unsigned int i = 0; i < 4; i++)
        EXPECT(a[i].u.owner == &d);

    b = alloc_domheap_pages(&d, 1, 0);       /* 6: exactly the limit */
    EXPECT(b != NULL);
    EXPECT_EQ(d.tot_pages, 6);

    {
        unsigned long before = avail_domheap_pages();

        c = alloc_domheap_pages(&d, 0, 0);   /* 7 > 6 */
        EXPECT(c == NULL);
        EXPECT_EQ(d.tot_pages, 6);
        EXPECT_EQ(avail_domheap_pages(), before);
    }

    free_domheap_pages(a, 2);
    EXPECT_EQ(d.tot_pages, 2);
    if (b)
        free_domheap_pages(b, 1);
    EXPECT_EQ(d.tot_pages, 0);
    EXPECT_EQ(heap_check(), 0);
}

SELFTEST(heap, assign_pages_limit)
{
    struct domain d;
    struct page_info *pg;

    if (!heap_is_up())
        return;
    domain_init(&d, 2, 3);
    pg = alloc_domheap_pages(NULL, 2, 0);    /* anonymous, 4 pages */
    if (!EXPECT(pg != NULL))
        return;
    EXPECT_EQ(assign_pages(&d, pg, 2), -E2BIG);
    EXPECT_EQ(d.tot_pages, 0);
    EXPECT(pg->u.owner == NULL);
    d.max_pages = 4;
    EXPECT_EQ(assign_pages(&d, pg, 2), 0);
    EXPECT_EQ(d.tot_pages, 4);
    EXPECT(pg[3].u.owner == &d);
    free_domheap_pages(pg, 2);
    EXPECT_EQ(d.tot_pages, 0);
}

SELFTEST(heap, anonymous_pages_have_no_owner)
{
    struct page_info *pg;

    if (!heap_is_up())
        return;
    pg = alloc_domheap_pages(NULL, 1, 0);
    if (!EXPECT(pg != NULL))
        return;
    EXPECT(pg[0].u.owner == NULL);
    EXPECT(pg[1].u.owner == NULL);
    free_domheap_pages(pg, 1);
}

/* The boot log's numbers: what is free adds up. */
SELFTEST(heap, layout_is_consistent)
{
    const struct mm_layout *l = mm_layout();

    if (!heap_is_up())
        return;
    EXPECT(l->xenheap_end - l->xenheap_start >= XENHEAP_MIN);
    EXPECT(l->xenheap_end - l->xenheap_start <= XENHEAP_MAX);
    EXPECT_EQ(l->xenheap_start % XENHEAP_ALIGN, 0);
    EXPECT_EQ(l->xenheap_end % XENHEAP_ALIGN, 0);
    EXPECT_EQ(l->xenheap_free_pages + l->nr_buffer_pages,
              (l->xenheap_end - l->xenheap_start) >> PAGE_SHIFT);
    EXPECT_EQ(l->frametable_bytes % (2UL << 20), 0);
    EXPECT(l->frametable_bytes >= max_pdx * sizeof(struct page_info));
    EXPECT(l->frametable_bytes < max_pdx * sizeof(struct page_info) + (2UL << 20));
    EXPECT(l->ram_pages <= max_pdx);
    for (unsigned int i = 0; i < l->nr_buffer_pages; i++)
        EXPECT_EQ(page_state(mfn_to_page(l->buffer_mfn[i])), PGS_buffer);
    EXPECT_EQ(heap_check(), 0);
}

/*
 * Domheap memory above 4 GiB, reached only through map_domain_page: an
 * unrestricted allocation takes the highest zone first, so on a machine with
 * RAM up there (the host's, -m 6G, -m 1023G) the pages must come from above
 * 4 GiB; every page is written through a temporary mapping and read back
 * through another.
 */
SELFTEST(heap, domheap_above_4g_written_and_read_back)
{
    const struct mm_layout *l = mm_layout();
    bool ram_above_4g = l->usable_end > ((paddr_t)1 << 32);
    struct page_info *pg = alloc_domheap_pages(NULL, 4, 0);      /* 16 pages */
    paddr_t pa;

    if (!EXPECT(pg))
        return;
    pa = page_to_maddr(pg);
    if (ram_above_4g)
        EXPECT(pa >= ((paddr_t)1 << 32));
    else
        selftest_diag("no RAM above 4 GiB on this machine: pages at 0x%llx",
                      (unsigned long long)pa);
    for (unsigned int i = 0; i < 16; i++) {
        uint64_t *p = map_domain_page(mfn_add(page_to_mfn(pg), i));

        for (unsigned int w = 0; w < PAGE_SIZE / 8; w++)
            p[w] = (pa + (paddr_t)i * PAGE_SIZE) ^ w;
        unmap_domain_page(p);
    }
    for (unsigned int i = 0; i < 16; i++) {
        const uint64_t *p = map_domain_page(mfn_add(page_to_mfn(pg), i));
        unsigned int bad = 0;

        for (unsigned int w = 0; w < PAGE_SIZE / 8; w++)
            bad += p[w] != ((pa + (paddr_t)i * PAGE_SIZE) ^ w);
        unmap_domain_page(p);
        EXPECT_EQ(bad, 0);
    }
    free_domheap_pages(pg, 4);
}
