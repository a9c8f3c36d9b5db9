/*
 * Scrubbing and poisoning: a page never reaches a new owner with an old
 * owner's data, and (debug builds) a write to a freed page is reported with
 * its page and offset when the page is next allocated.
 *
 * The tests get the same page back by freeing and allocating again: a free
 * undoes its allocation (see heap.free_undoes_alloc).
 */
#include <domain/domain.h>
#include <mm/domain_page.h>
#include <mm/mm.h>
#include <mm/page_alloc.h>
#include <mm/setup_mm.h>
#include <string.h>
#include <test/hooks.h>
#include <test/selftest.h>

#define SECRET 0x77

static bool heap_is_up(void)
{
    return EXPECT(mm_layout() != NULL);
}

static void fill_frame(mfn_t mfn, uint8_t byte)
{
    void *va = map_domain_page(mfn);

    memset(va, byte, PAGE_SIZE);
    unmap_domain_page(va);
}

/* Is every byte of the frame equal to byte? */
static bool frame_is(mfn_t mfn, uint8_t byte)
{
    const uint8_t *va = map_domain_page(mfn);
    bool same = true;

    for (size_t i = 0; i < PAGE_SIZE && same; i++)
        same = va[i] == byte;
    unmap_domain_page(va);
    return same;
}

static bool frame_holds(mfn_t mfn, uint8_t byte)
{
    const uint8_t *va = map_domain_page(mfn);
    bool found = memchr(va, byte, PAGE_SIZE) != NULL;

    unmap_domain_page(va);
    return found;
}

SELFTEST(heap_scrub, freed_page_is_marked)
{
    struct page_info *pg;
    mfn_t mfn;

    if (!heap_is_up())
        return;
    pg = alloc_domheap_pages(NULL, 0, 0);
    if (!EXPECT(pg != NULL))
        return;
    mfn = page_to_mfn(pg);
    fill_frame(mfn, SECRET);
    free_domheap_pages(pg, 0);
#ifdef CONFIG_DEBUG
    EXPECT(pg->count_info & PGC_poisoned);
    EXPECT(frame_is(mfn, PAGE_POISON_BYTE));    /* the secret is gone already */
#else
    EXPECT(pg->count_info & PGC_need_scrub);
#endif
}

SELFTEST(heap_scrub, new_owner_never_sees_old_data)
{
    struct domain d1, d2;
    struct page_info *pg, *again;
    mfn_t mfn;

    if (!heap_is_up())
        return;
    domain_init(&d1, 10, 16);
    domain_init(&d2, 11, 16);
    pg = alloc_domheap_pages(&d1, 1, 0);
    if (!EXPECT(pg != NULL))
        return;
    mfn = page_to_mfn(pg);
    fill_frame(mfn, SECRET);
    fill_frame(mfn_add(mfn, 1), SECRET);
    free_domheap_pages(pg, 1);

    again = alloc_domheap_pages(&d2, 1, 0);
    if (!EXPECT(again == pg)) {
        if (again)
            free_domheap_pages(again, 1);
        return;
    }
    EXPECT(again->u.owner == &d2);
    EXPECT(!frame_holds(mfn, SECRET));
    EXPECT(!frame_holds(mfn_add(mfn, 1), SECRET));
    /* A scrubbed allocation is all zeros, in debug builds too (poison checked, then cleared). */
    EXPECT(frame_is(mfn, 0));
    EXPECT(frame_is(mfn_add(mfn, 1), 0));
    EXPECT_EQ(again->count_info & (PGC_need_scrub | PGC_poisoned), 0);
    free_domheap_pages(again, 1);
    EXPECT_EQ(d1.tot_pages + d2.tot_pages, 0);
}

/* MEMF_no_scrub: the caller overwrites the page, so it is not cleared. */
SELFTEST(heap_scrub, no_scrub_skips_clearing)
{
    struct page_info *pg, *again;
    mfn_t mfn;

    if (!heap_is_up())
        return;
    pg = alloc_domheap_pages(NULL, 0, 0);
    if (!EXPECT(pg != NULL))
        return;
    mfn = page_to_mfn(pg);
    fill_frame(mfn, SECRET);
    free_domheap_pages(pg, 0);
    again = alloc_domheap_pages(NULL, 0, MEMF_no_scrub);
    if (!EXPECT(again == pg)) {
        if (again)
            free_domheap_pages(again, 0);
        return;
    }
#ifdef CONFIG_DEBUG
    EXPECT(frame_is(mfn, PAGE_POISON_BYTE));    /* poisoned at free, checked, left */
#else
    EXPECT(frame_is(mfn, SECRET));              /* marked, but not cleared */
#endif
    EXPECT_EQ(again->count_info & (PGC_need_scrub | PGC_poisoned), 0);
    free_domheap_pages(again, 0);
}

#ifdef CONFIG_DEBUG
SELFTEST(heap_scrub, write_after_free_domheap)
{
    struct page_info *pg;
    volatile struct page_info *again = NULL;
    char want[96];
    uint8_t *va;
    mfn_t mfn;

    if (!heap_is_up())
        return;
    pg = alloc_domheap_pages(NULL, 0, 0);
    if (!EXPECT(pg != NULL))
        return;
    mfn = page_to_mfn(pg);
    free_domheap_pages(pg, 0);

    va = map_domain_page(mfn);      /* the bug under test: a stale pointer */
    va[0x123] = 0x42;
    unmap_domain_page(va);

    fmt_snprintf(want, sizeof(want), "write after free: page mfn 0x%lx (pa 0x%llx) offset 0x123 "
                 "holds 0x42", mfn_x(mfn), (unsigned long long)mfn_to_paddr(mfn));
    EXPECT_PANIC(want, again = alloc_domheap_pages(NULL, 0, 0));
    EXPECT(again == NULL);
    EXPECT(!heap_lock_is_held());
    /* The panic came after the page was taken: it is allocated, give it back. */
    EXPECT_EQ(page_state(pg), PGS_inuse);
    free_domheap_pages(pg, 0);
    EXPECT_EQ(heap_check(), 0);
}

SELFTEST(heap_scrub, write_after_free_xenheap)
{
    uint8_t *va;
    void *volatile again = NULL;

    if (!heap_is_up())
        return;
    va = alloc_xenheap_pages(0, 0);
    if (!EXPECT(va != NULL))
        return;
    free_xenheap_pages(va, 0);
    va[PAGE_SIZE - 1] = 0;          /* the bug under test */
    EXPECT_PANIC("offset 0xfff holds 0x00", again = alloc_xenheap_pages(0, 0));
    EXPECT(again == NULL);
    free_xenheap_pages(va, 0);
    EXPECT_EQ(heap_check(), 0);
}
#endif
