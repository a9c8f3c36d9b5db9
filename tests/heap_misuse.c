/*
 * Death tests: every misuse of the heap API ends in a panic that names the
 * page (MFN and physical address) and says what is wrong, with the heap
 * lock released and the heap unchanged, so the test goes on after catching
 * it and cleans up.
 */
#include <domain/domain.h>
#include <mm/domain_page.h>
#include <mm/mm.h>
#include <mm/page_alloc.h>
#include <mm/setup_mm.h>
#include <test/hooks.h>
#include <test/selftest.h>

static bool heap_is_up(void)
{
    return EXPECT(mm_layout() != NULL);
}

/* After a caught panic: the lock is free and nothing changed. */
static void expect_heap_intact(unsigned long free_before)
{
    EXPECT(!heap_lock_is_held());
    EXPECT_EQ(heap_free_pages(), free_before);
    EXPECT_EQ(heap_check(), 0);
}

SELFTEST(heap_misuse, double_free_domheap)
{
    struct page_info *volatile pg;
    unsigned long before;

    if (!heap_is_up())
        return;
    pg = alloc_domheap_pages(NULL, 0, 0);
    if (!EXPECT(pg != NULL))
        return;
    free_domheap_pages(pg, 0);
    before = heap_free_pages();
    EXPECT_PANIC("is already free", free_domheap_pages(pg, 0));
    expect_heap_intact(before);
}

SELFTEST(heap_misuse, double_free_xenheap)
{
    void *volatile va;
    unsigned long before;

    if (!heap_is_up())
        return;
    va = alloc_xenheap_pages(1, 0);
    if (!EXPECT(va != NULL))
        return;
    free_xenheap_pages(va, 1);
    before = heap_free_pages();
    EXPECT_PANIC("is already free", free_xenheap_pages(va, 1));
    expect_heap_intact(before);
}

SELFTEST(heap_misuse, message_names_mfn_and_pa)
{
    struct page_info *volatile pg;
    char want[80];

    if (!heap_is_up())
        return;
    pg = alloc_domheap_pages(NULL, 0, 0);
    if (!EXPECT(pg != NULL))
        return;
    free_domheap_pages(pg, 0);
    fmt_snprintf(want, sizeof(want), "page mfn 0x%lx (pa 0x%llx)", mfn_x(page_to_mfn(pg)),
                 (unsigned long long)page_to_maddr(pg));
    EXPECT_PANIC(want, free_domheap_pages(pg, 0));
}

SELFTEST(heap_misuse, wrong_order)
{
    struct page_info *volatile pg;
    unsigned long before;

    if (!heap_is_up())
        return;
    pg = alloc_domheap_pages(NULL, 2, 0);
    if (!EXPECT(pg != NULL))
        return;
    before = heap_free_pages();
    EXPECT_PANIC("was allocated with order 2 but is freed with order 0",
                 free_domheap_pages(pg, 0));
    EXPECT_PANIC("was allocated with order 2 but is freed with order 3",
                 free_domheap_pages(pg, 3));
    expect_heap_intact(before);
    free_domheap_pages(pg, 2);
}

SELFTEST(heap_misuse, tail_page_of_an_allocation)
{
    struct page_info *volatile pg;
    unsigned long before;

    if (!heap_is_up())
        return;
    pg = alloc_domheap_pages(NULL, 1, 0);
    if (!EXPECT(pg != NULL))
        return;
    before = heap_free_pages();
    EXPECT_PANIC("is not the first page of an allocation", free_domheap_pages(pg + 1, 0));
    expect_heap_intact(before);
    free_domheap_pages(pg, 1);
}

/* A free page that was handed out as part of nothing: a tail of a free block. */
SELFTEST(heap_misuse, free_page_never_allocated)
{
    struct page_info *volatile pg;
    unsigned long before;

    if (!heap_is_up())
        return;
    pg = alloc_domheap_pages(NULL, 1, 0);
    if (!EXPECT(pg != NULL))
        return;
    free_domheap_pages(pg, 1);      /* pg + 1 is now a free page no one holds */
    before = heap_free_pages();
    EXPECT_PANIC("is already free (double free, or never allocated)",
                 free_domheap_pages(pg + 1, 0));
    expect_heap_intact(before);
}

/* Memory that never was heap memory: the frame table's own pages. */
SELFTEST(heap_misuse, not_heap_memory)
{
    unsigned long before;
    mfn_t mfn;

    if (!heap_is_up())
        return;
    mfn = paddr_to_mfn(mm_layout()->frametable_run[0].pa);
    if (!EXPECT(mfn_valid(mfn)))
        return;
    before = heap_free_pages();
    EXPECT_PANIC("is not heap memory: it was never allocated",
                 free_domheap_pages(mfn_to_page(mfn), 0));
    expect_heap_intact(before);
}

SELFTEST(heap_misuse, not_a_page_info)
{
    struct page_info fake = { .count_info = PGS_inuse | PGC_head };

    if (!heap_is_up())
        return;
    EXPECT_PANIC("is not a page_info in the frame table", free_domheap_pages(&fake, 0));
    EXPECT(!heap_lock_is_held());
}

SELFTEST(heap_misuse, order_above_max)
{
    struct page_info *volatile pg;

    if (!heap_is_up())
        return;
    pg = alloc_domheap_pages(NULL, 0, 0);
    if (!EXPECT(pg != NULL))
        return;
    EXPECT_PANIC("is above MAX_ORDER", free_domheap_pages(pg, MAX_ORDER + 1));
    free_domheap_pages(pg, 0);
}

SELFTEST(heap_misuse, xenheap_page_through_domheap_api)
{
    void *volatile va;
    unsigned long before;

    if (!heap_is_up())
        return;
    va = alloc_xenheap_pages(0, 0);
    if (!EXPECT(va != NULL))
        return;
    before = heap_free_pages();
    EXPECT_PANIC("is a xenheap page", free_domheap_pages(virt_to_page(va), 0));
    expect_heap_intact(before);
    free_xenheap_pages(va, 0);
}

SELFTEST(heap_misuse, domheap_page_through_xenheap_api)
{
    struct page_info *volatile pg;
    void *volatile va;
    unsigned long before;

    if (!heap_is_up())
        return;
    pg = alloc_domheap_pages(NULL, 0, 0);
    if (!EXPECT(pg != NULL))
        return;
    va = map_domain_page(page_to_mfn(pg));
    before = heap_free_pages();
    EXPECT_PANIC("is not the address of a xenheap page", free_xenheap_pages(va, 0));
    expect_heap_intact(before);
    unmap_domain_page(va);
    free_domheap_pages(pg, 0);
}

SELFTEST(heap_misuse, misaligned_xenheap_address)
{
    char *volatile va;

    if (!heap_is_up())
        return;
    va = alloc_xenheap_pages(0, 0);
    if (!EXPECT(va != NULL))
        return;
    EXPECT_PANIC("is not the address of a xenheap page", free_xenheap_pages(va + 8, 0));
    free_xenheap_pages(va, 0);
}

SELFTEST(heap_misuse, buffer_page)
{
    const struct mm_layout *l = mm_layout();
    unsigned long before;

    if (!heap_is_up() || !EXPECT(l->nr_buffer_pages > 0))
        return;
    before = heap_free_pages();
    for (unsigned int i = 0; i < l->nr_buffer_pages; i++) {
        mfn_t mfn = l->buffer_mfn[i];

        EXPECT_PANIC("is the xenheap buffer page", free_domheap_pages(mfn_to_page(mfn), 0));
        EXPECT_PANIC("is the xenheap buffer page", free_xenheap_pages(mfn_to_virt(mfn), 0));
    }
    expect_heap_intact(before);
}

SELFTEST(heap_misuse, assign_xenheap_page)
{
    struct domain d;
    void *volatile va;

    if (!heap_is_up())
        return;
    domain_init(&d, 3, 100);
    va = alloc_xenheap_pages(0, 0);
    if (!EXPECT(va != NULL))
        return;
    EXPECT_PANIC("is a xenheap page", assign_pages(&d, virt_to_page(va), 0));
    EXPECT_EQ(d.tot_pages, 0);
    EXPECT(!spin_is_locked(&d.page_alloc_lock));
    free_xenheap_pages(va, 0);
}

SELFTEST(heap_misuse, assign_owned_page)
{
    struct domain a, b;
    struct page_info *volatile pg;

    if (!heap_is_up())
        return;
    domain_init(&a, 4, 100);
    domain_init(&b, 5, 100);
    pg = alloc_domheap_pages(&a, 1, 0);
    if (!EXPECT(pg != NULL))
        return;
    EXPECT_PANIC("already has an owner", assign_pages(&b, pg, 1));
    EXPECT(pg[0].u.owner == &a && pg[1].u.owner == &a);
    EXPECT_EQ(b.tot_pages, 0);
    free_domheap_pages(pg, 1);
    EXPECT_EQ(a.tot_pages, 0);
}

/* Found by make fuzz: a domain at its limit answered -E2BIG and hid the misuse. */
SELFTEST(heap_misuse, assign_owned_page_to_full_domain)
{
    struct domain a, full;
    struct page_info *volatile pg;

    if (!heap_is_up())
        return;
    domain_init(&a, 6, 100);
    domain_init(&full, 7, 1);
    pg = alloc_domheap_pages(&a, 1, 0);
    if (!EXPECT(pg != NULL))
        return;
    EXPECT_PANIC("already has an owner", assign_pages(&full, pg, 1));
    EXPECT(pg[0].u.owner == &a && pg[1].u.owner == &a);
    EXPECT_EQ(full.tot_pages, 0);
    free_domheap_pages(pg, 1);
}

/*
 * assign_pages takes one allocation of exactly the order given, as the heap
 * recorded it: anything else would be freed later with the wrong order, or
 * count pages twice. Each refusal names the MFN and leaves the domain and
 * the pages as they were.
 */
static void expect_assign_refused(struct domain *d, struct page_info *pg, unsigned int order,
                                  const char *why)
{
    char want[160];
    mfn_t mfn = page_to_mfn(pg);

    fmt_snprintf(want, sizeof(want), "assign_pages: page mfn 0x%lx (pa 0x%llx) %s (domain %u, "
                 "order %u)", mfn_x(mfn), (unsigned long long)mfn_to_paddr(mfn), why,
                 d->domain_id, order);
    EXPECT_PANIC(want, assign_pages(d, pg, order));
    EXPECT_EQ(d->tot_pages, 0);
    EXPECT(!spin_is_locked(&d->page_alloc_lock));
    /* A free page's owner field is its free-list link: only allocated pages have owners. */
    for (unsigned long i = 0; i < (1UL << order) && page_state(pg) == PGS_inuse; i++)
        EXPECT(pg[i].u.owner == NULL);
}

SELFTEST(heap_misuse, assign_two_allocations_as_one)
{
    struct page_info *pg[8];
    struct domain d;
    unsigned int n, a = 0, b = 0;
    bool found = false;

    if (!heap_is_up())
        return;
    domain_init(&d, 6, 100);
    /* Order-0 allocations split from one block: two of them are neighbours. */
    for (n = 0; n < 8; n++)
        if (!EXPECT((pg[n] = alloc_domheap_pages(NULL, 0, 0)) != NULL))
            goto out;
    for (a = 0; a < n && !found; a++)
        for (b = 0; b < n && !found; b++)
            found = pg[b] == pg[a] + 1;
    if (EXPECT(found))
        expect_assign_refused(&d, pg[a - 1], 1, "heads an allocation of order 0, not 1");
out:
    while (n-- > 0)
        free_domheap_pages(pg[n], 0);
    EXPECT_EQ(heap_check(), 0);
}

SELFTEST(heap_misuse, assign_part_of_an_allocation)
{
    struct page_info *pg;
    struct domain d;

    if (!heap_is_up())
        return;
    domain_init(&d, 7, 100);
    pg = alloc_domheap_pages(NULL, 3, 0);
    if (!EXPECT(pg != NULL))
        return;
    expect_assign_refused(&d, pg, 0, "heads an allocation of order 3, not 0");
    expect_assign_refused(&d, pg, 2, "heads an allocation of order 3, not 2");
    expect_assign_refused(&d, pg + 1, 0, "is not the first page of an allocation");
    expect_assign_refused(&d, pg + 4, 2, "is not the first page of an allocation");
    EXPECT_PANIC("assign_pages: order 19 is above MAX_ORDER (18) (domain 7)",
                 assign_pages(&d, pg, MAX_ORDER + 1));
    /* The whole block, as allocated, is accepted. */
    EXPECT_EQ(assign_pages(&d, pg, 3), 0);
    EXPECT_EQ(d.tot_pages, 8);
    free_domheap_pages(pg, 3);
    EXPECT_EQ(d.tot_pages, 0);
}

SELFTEST(heap_misuse, assign_free_page)
{
    struct page_info *pg;
    struct domain d;

    if (!heap_is_up())
        return;
    domain_init(&d, 8, 100);
    pg = alloc_domheap_pages(NULL, 0, 0);
    if (!EXPECT(pg != NULL))
        return;
    free_domheap_pages(pg, 0);
    expect_assign_refused(&d, pg, 0, "is not an allocated page");
    EXPECT_EQ(heap_check(), 0);
}

#ifdef CONFIG_DEBUG
/* Debug builds check that __va/__pa and friends stay inside the xenheap. */
SELFTEST(heap_misuse, domheap_frame_as_xenheap_address)
{
    struct page_info *volatile pg;

    if (!heap_is_up())
        return;
    pg = alloc_domheap_pages(NULL, 0, 0);
    if (!EXPECT(pg != NULL))
        return;
    EXPECT_PANIC("is not in the xenheap", (void)page_to_virt(pg));
    EXPECT_PANIC("is not a xenheap address", (void)__pa((const void *)pg));
    free_domheap_pages(pg, 0);
}
#endif
