/*
 * Domain memory (common/domain/domain_build.c) on both targets: allocate_memory(),
 * allocate_memory_11() and relinquish_memory(). Every test checks that the guest sees
 * exactly the RAM asked for, owned by the domain, and that the heap's free count is back
 * where it was at the end.
 */
#include <domain/domain.h>
#include <domain/domain_build.h>
#include <lib/errno.h>
#include <lib/lib.h>
#include <mm/mm.h>
#include <mm/p2m.h>
#include <mm/page_alloc.h>
#include <mm/setup_mm.h>
#include <test/selftest.h>

#define MiB (1ULL << 20)

static bool heap_is_up(void)
{
    return EXPECT(mm_layout() != NULL);
}

static bool new_domain(struct domain *d, domid_t id, unsigned long max_pages)
{
    domain_init(d, id, max_pages);
    return EXPECT_EQ(p2m_init(d), 0);
}

/* No RAM at this IPA. */
static bool no_ram_at(struct domain *d, paddr_t ipa)
{
    p2m_type_t t;
    mfn_t m = p2m_lookup(p2m_get_hostp2m(d), gaddr_to_gfn(ipa), &t);

    return EXPECT(mfn_eq(m, INVALID_MFN)) & EXPECT_EQ(t, p2m_invalid);
}

/*
 * The banks add up to bytes, every page in them is RAM of d (IPA == PA if identity), the
 * pages just outside them map nothing, and (with max_order) no chunk is larger than that.
 * Returns the order of the first chunk of the first bank.
 */
static unsigned int check_banks(struct domain *d, paddr_t bytes, bool identity)
{
    struct p2m_domain *p2m = p2m_get_hostp2m(d);
    paddr_t sum = 0;
    unsigned long bad = 0;
    unsigned int first = ~0u;

    for (unsigned int b = 0; b < d->mem.nr_banks; b++) {
        const struct guest_mem_bank *bk = &d->mem.bank[b];

        sum += bk->size;
        EXPECT_EQ(bk->start % PAGE_SIZE, 0);
        EXPECT(bk->size > 0);
        if (b > 0)
            EXPECT(d->mem.bank[b - 1].start + d->mem.bank[b - 1].size <= bk->start);
        for (paddr_t off = 0; off < bk->size; off += PAGE_SIZE) {
            p2m_type_t t;
            mfn_t m = p2m_lookup(p2m, gaddr_to_gfn(bk->start + off), &t);

            if (mfn_eq(m, INVALID_MFN) || t != p2m_ram_rw || !mfn_valid(m) ||
                mfn_to_page(m)->u.owner != d ||
                (identity && mfn_to_paddr(m) != bk->start + off))
                bad++;
            else if (b == 0 && off == 0)
                first = mfn_to_page(m)->order;
        }
        if (bk->start >= PAGE_SIZE && (b == 0 || d->mem.bank[b - 1].start +
                                       d->mem.bank[b - 1].size < bk->start))
            no_ram_at(d, bk->start - PAGE_SIZE);
        if (b + 1 == d->mem.nr_banks || bk->start + bk->size < d->mem.bank[b + 1].start)
            no_ram_at(d, bk->start + bk->size);
    }
    EXPECT_EQ(bad, 0);
    EXPECT_EQ(sum, bytes);
    EXPECT_EQ(d->tot_pages, (unsigned long)(bytes >> PAGE_SHIFT));
    return first;
}

/* relinquish_memory gives everything back: pages, tables, the VMID. */
static void relinquish_and_check(struct domain *d, unsigned long free_before,
                                 unsigned int vmids_before)
{
    EXPECT_EQ(relinquish_memory(d), 0);
    EXPECT_EQ(d->tot_pages, 0);
    EXPECT_EQ(d->mem.nr_banks, 0);
    EXPECT_EQ(heap_free_pages(), free_before);
    EXPECT_EQ(p2m_vmids_in_use(), vmids_before);
}

SELFTEST(domain_mem, allocate_memory_maps_exactly_what_was_asked)
{
    struct domain d;
    const paddr_t bytes = 6 * MiB + 3 * PAGE_SIZE;     /* 4 MiB + 2 MiB + 8 KiB + 4 KiB */
    unsigned long before;
    unsigned int vmids;
    struct p2m_domain *p2m = p2m_get_hostp2m(&d);
    unsigned int level;

    if (!heap_is_up())
        return;
    before = heap_free_pages();
    vmids = p2m_vmids_in_use();
    if (!new_domain(&d, 20, 4096))
        return;
    if (!EXPECT_EQ(allocate_memory(&d, bytes), 0))
        goto out;
    EXPECT_EQ(d.mem.nr_banks, 1);
    EXPECT_EQ(d.mem.bank[0].start, GUEST_RAM0_BASE);
    /* A heap just booted has 4 MiB blocks: the first chunk is one, mapped as 2 MiB blocks. */
    EXPECT_EQ(check_banks(&d, bytes, false), 10);
    p2m_lookup_level(p2m, gaddr_to_gfn(GUEST_RAM0_BASE), NULL, &level);
    EXPECT_EQ(level, 2);
    p2m_lookup_level(p2m, gaddr_to_gfn(GUEST_RAM0_BASE + 4 * MiB), NULL, &level);
    EXPECT_EQ(level, 2);
    p2m_lookup_level(p2m, gaddr_to_gfn(GUEST_RAM0_BASE + 6 * MiB), NULL, &level);
    EXPECT_EQ(level, 3);
    no_ram_at(&d, 0);
    no_ram_at(&d, GUEST_RAM1_BASE);
    no_ram_at(&d, 0x100000000ULL);
out:
    relinquish_and_check(&d, before, vmids);
}

SELFTEST(domain_mem, allocate_memory_11_is_identity)
{
    struct domain d;
    const paddr_t bytes = 6 * MiB + PAGE_SIZE;
    unsigned long before;
    unsigned int vmids;

    if (!heap_is_up())
        return;
    before = heap_free_pages();
    vmids = p2m_vmids_in_use();
    if (!new_domain(&d, 21, 4096))
        return;
    if (!EXPECT_EQ(allocate_memory_11(&d, bytes), 0))
        goto out;
    EXPECT(d.mem.nr_banks >= 1);
    EXPECT(d.mem.nr_banks <= 3);
    check_banks(&d, bytes, true);
out:
    relinquish_and_check(&d, before, vmids);
}

SELFTEST(domain_mem, refusals_change_nothing)
{
    struct domain d, none;
    unsigned long before;
    unsigned int vmids;

    if (!heap_is_up())
        return;
    before = heap_free_pages();
    vmids = p2m_vmids_in_use();
    domain_init(&none, 22, 4096);                  /* no p2m */
    EXPECT_EQ(allocate_memory(&none, MiB), -EINVAL);
    EXPECT_EQ(allocate_memory_11(&none, MiB), -EINVAL);
    if (!new_domain(&d, 23, 256))
        return;
    EXPECT_EQ(allocate_memory(&d, 0), -EINVAL);
    EXPECT_EQ(allocate_memory(&d, PAGE_SIZE - 1), -EINVAL);
    EXPECT_EQ(allocate_memory_11(&d, PAGE_SIZE + 1), -EINVAL);
    EXPECT_EQ(allocate_memory(&d, GUEST_RAM0_SIZE + GUEST_RAM1_SIZE + PAGE_SIZE), -EINVAL);
    EXPECT_EQ(allocate_memory(&d, 257 * PAGE_SIZE), -E2BIG);        /* max_pages 256 */
    EXPECT_EQ(allocate_memory_11(&d, 257 * PAGE_SIZE), -E2BIG);
    EXPECT_EQ(d.tot_pages, 0);
    EXPECT_EQ(d.mem.nr_banks, 0);
    no_ram_at(&d, GUEST_RAM0_BASE);
    /* Exactly max_pages is fine; asking again is not. */
    EXPECT_EQ(allocate_memory(&d, 256 * PAGE_SIZE), 0);
    check_banks(&d, 256 * PAGE_SIZE, false);
    EXPECT_EQ(allocate_memory(&d, PAGE_SIZE), -EBUSY);
    EXPECT_EQ(d.tot_pages, 256);
    relinquish_and_check(&d, before, vmids);
}

/*
 * A heap with no free block above order 9 but many free order-9 blocks: every block of
 * order 10 or more is taken, one of them (of order 14 if possible: 32 MiB) is given back and
 * taken again as order-9 blocks, and then the lower half of each pair of buddies is freed:
 * its buddy is held, so it cannot merge. Returns how many were freed (0: not done).
 */
#define HOLD_MAX 256
static struct page_info *held[HOLD_MAX];
static unsigned int held_order[HOLD_MAX];
static unsigned int nr_held;

static void unfragment_heap(void);

static bool hold_all(unsigned int order, unsigned int limit)
{
    for (;;) {
        struct page_info *pg = alloc_domheap_pages(NULL, order, MEMF_no_scrub);

        if (!pg)
            return true;
        if (nr_held == limit) {
            free_domheap_pages(pg, order);
            return false;
        }
        held[nr_held] = pg;
        held_order[nr_held++] = order;
    }
}

static bool is_held(mfn_t mfn)
{
    for (unsigned int i = 0; i < nr_held; i++)
        if (held[i] && mfn_eq(page_to_mfn(held[i]), mfn))
            return true;
    return false;
}

static unsigned int fragment_heap(void)
{
    unsigned int first9, freed = 0, pick = HOLD_MAX;

    nr_held = 0;
    for (unsigned int k = MAX_ORDER; k >= 10; k--)
        if (!hold_all(k, HOLD_MAX / 2))
            goto fail;
    for (unsigned int i = 0; i < nr_held; i++)
        if (pick == HOLD_MAX ||
            (held_order[pick] < 14 ? held_order[i] > held_order[pick]
                                   : held_order[i] >= 14 && held_order[i] < held_order[pick]))
            pick = i;
    if (pick == HOLD_MAX)
        goto fail;
    free_domheap_pages(held[pick], held_order[pick]);
    held[pick] = NULL;
    first9 = nr_held;
    if (!hold_all(9, HOLD_MAX))
        goto fail;
    for (unsigned int i = first9; i < nr_held; i++) {
        mfn_t m = page_to_mfn(held[i]);

        if (!(mfn_x(m) & (1UL << 9)) && is_held(mfn_add(m, 1UL << 9))) {
            free_domheap_pages(held[i], 9);
            held[i] = NULL;
            freed++;
        }
    }
    return freed;
fail:
    unfragment_heap();
    return 0;
}

static void unfragment_heap(void)
{
    for (unsigned int i = 0; i < nr_held; i++)
        if (held[i])
            free_domheap_pages(held[i], held_order[i]);
    nr_held = 0;
}

SELFTEST(domain_mem, fragmented_heap_gives_smaller_chunks)
{
    struct domain d;
    unsigned long before;
    unsigned int vmids, freed;
    struct p2m_domain *p2m = p2m_get_hostp2m(&d);

    if (!heap_is_up())
        return;
    if (selftest_skip_if_heap_too_big_to_drain())
        return;
    before = heap_free_pages();
    vmids = p2m_vmids_in_use();
    freed = fragment_heap();
    if (freed < GUEST_MAX_BANKS + 1) {
        unfragment_heap();
        selftest_skip("too few order-9 blocks to fragment the heap with");
        return;
    }
    if (!new_domain(&d, 24, 1UL << 20))
        goto out;
    /* 8 MiB would be one order-11 chunk; the heap has order-9 blocks at most. */
    if (EXPECT_EQ(allocate_memory(&d, 8 * MiB), 0)) {
        EXPECT_EQ(check_banks(&d, 8 * MiB, false), 9);
        for (paddr_t off = 0; off < 8 * MiB; off += 2 * MiB) {
            unsigned int level;
            mfn_t m = p2m_lookup_level(p2m, gaddr_to_gfn(GUEST_RAM0_BASE + off), NULL, &level);

            EXPECT_EQ(level, 2);
            EXPECT_EQ(mfn_to_page(m)->order, 9);
        }
    }
    EXPECT_EQ(relinquish_memory(&d), 0);
    /* 1:1: the free order-9 blocks are never adjacent, one bank each: too many banks. */
    if (!new_domain(&d, 25, 1UL << 20))
        goto out;
    EXPECT_EQ(allocate_memory_11(&d, (GUEST_MAX_BANKS + 1) * 2 * MiB), -ENOMEM);
    EXPECT_EQ(d.tot_pages, 0);
    EXPECT_EQ(d.mem.nr_banks, 0);
    EXPECT_EQ(allocate_memory_11(&d, GUEST_MAX_BANKS * 2 * MiB), 0);
    EXPECT_EQ(d.mem.nr_banks, GUEST_MAX_BANKS);
    check_banks(&d, GUEST_MAX_BANKS * 2 * MiB, true);
    EXPECT_EQ(relinquish_memory(&d), 0);
out:
    unfragment_heap();
    EXPECT_EQ(heap_free_pages(), before);
    EXPECT_EQ(p2m_vmids_in_use(), vmids);
}

SELFTEST(domain_mem, not_enough_memory_releases_everything)
{
    struct domain d;
    unsigned long before, left;
    unsigned int vmids;

    if (!heap_is_up())
        return;
    if (selftest_skip_if_heap_too_big_to_drain())
        return;
    before = heap_free_pages();
    vmids = p2m_vmids_in_use();
    if (!fragment_heap()) {
        selftest_skip("could not fragment the heap");
        return;
    }
    left = avail_domheap_pages();
    if (!new_domain(&d, 26, left + 16))
        goto out;
    EXPECT_EQ(allocate_memory(&d, (paddr_t)(left + 1) << PAGE_SHIFT), -ENOMEM);
    EXPECT_EQ(d.tot_pages, 0);
    EXPECT_EQ(d.mem.nr_banks, 0);
    no_ram_at(&d, GUEST_RAM0_BASE);
    /* Only the p2m's tables are still taken, until teardown. */
    EXPECT_EQ(avail_domheap_pages(), left - 2 - p2m_get_hostp2m(&d)->nr_tables);
    EXPECT_EQ(allocate_memory_11(&d, (paddr_t)(left + 1) << PAGE_SHIFT), -ENOMEM);
    EXPECT_EQ(d.tot_pages, 0);
    EXPECT_EQ(d.mem.nr_banks, 0);
    EXPECT_EQ(relinquish_memory(&d), 0);
    EXPECT_EQ(avail_domheap_pages(), left);
out:
    unfragment_heap();
    EXPECT_EQ(heap_free_pages(), before);
    EXPECT_EQ(p2m_vmids_in_use(), vmids);
}
