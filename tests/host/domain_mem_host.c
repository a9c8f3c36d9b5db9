/*
 * Domain memory on fake machines with RAM below and above 4 GiB: allocate_memory() and
 * allocate_memory_11() take the frames above 4 GiB first (the heap's highest zone), in
 * chunks as large as the request allows, and relinquish_memory() gives every page back.
 */
#include <domain/domain.h>
#include <domain/domain_build.h>
#include <mm/mm.h>
#include <mm/p2m.h>
#include <mm/page_alloc.h>
#include <test/selftest.h>

#include "heap_test.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

/* Every page of every bank is d's, above 4 GiB, and (identity) at IPA == PA. */
static void check_high_banks(struct domain *d, paddr_t bytes, bool identity)
{
    paddr_t sum = 0;
    unsigned long bad = 0;

    for (unsigned int b = 0; b < d->mem.nr_banks; b++) {
        const struct guest_mem_bank *bk = &d->mem.bank[b];

        sum += bk->size;
        for (paddr_t off = 0; off < bk->size; off += PAGE_SIZE) {
            p2m_type_t t;
            mfn_t m = p2m_lookup(p2m_get_hostp2m(d), gaddr_to_gfn(bk->start + off), &t);

            if (mfn_eq(m, INVALID_MFN) || t != p2m_ram_rw || mfn_to_paddr(m) < 4 * GiB ||
                mfn_to_page(m)->u.owner != d || (identity && mfn_to_paddr(m) != bk->start + off))
                bad++;
        }
    }
    EXPECT_EQ(bad, 0);
    EXPECT_EQ(sum, bytes);
}

SELFTEST(domain_mem_host, ram_above_4g_is_used_in_large_chunks)
{
    struct host_machine_config cfg;
    struct domain d;
    unsigned long before;
    unsigned int level;
    mfn_t m;

    heap_test_config(&cfg, 2, 0x80000000ULL, 256 * MiB, 0x200000000ULL, 256 * MiB);
    if (!heap_test_boot(&cfg))
        goto out;
    before = heap_free_pages();
    domain_init(&d, 30, 1UL << 20);
    if (!EXPECT_EQ(p2m_init(&d), 0))
        goto out;
    /* 64 MiB + 4 KiB: one order-14 chunk then a page, both from above 4 GiB. */
    if (EXPECT_EQ(allocate_memory(&d, 64 * MiB + PAGE_SIZE), 0)) {
        EXPECT_EQ(d.mem.nr_banks, 1);
        EXPECT_EQ(d.mem.bank[0].start, GUEST_RAM0_BASE);
        check_high_banks(&d, 64 * MiB + PAGE_SIZE, false);
        m = p2m_lookup_level(p2m_get_hostp2m(&d), gaddr_to_gfn(GUEST_RAM0_BASE), NULL, &level);
        EXPECT_EQ(mfn_to_page(m)->order, 14);
        EXPECT_EQ(level, 2);
    }
    EXPECT_EQ(relinquish_memory(&d), 0);
    EXPECT_EQ(heap_free_pages(), before);

    domain_init(&d, 31, 1UL << 20);
    if (!EXPECT_EQ(p2m_init(&d), 0))
        goto out;
    if (EXPECT_EQ(allocate_memory_11(&d, 64 * MiB), 0)) {
        EXPECT_EQ(d.mem.nr_banks, 1);
        EXPECT(d.mem.bank[0].start >= 4 * GiB);
        EXPECT_EQ(d.mem.bank[0].start % (64 * MiB), 0);
        check_high_banks(&d, 64 * MiB, true);
    }
    EXPECT_EQ(relinquish_memory(&d), 0);
    EXPECT_EQ(heap_free_pages(), before);
    EXPECT_EQ(heap_check(), 0);
out:
    heap_test_restore();
}

/* More than the RAM above 4 GiB: the rest comes from below, still in one guest bank. */
SELFTEST(domain_mem_host, spills_below_4g_when_high_ram_runs_out)
{
    struct host_machine_config cfg;
    struct domain d;
    unsigned long before, low = 0;

    heap_test_config(&cfg, 2, 0x80000000ULL, 256 * MiB, 0x200000000ULL, 128 * MiB);
    if (!heap_test_boot(&cfg))
        goto out;
    before = heap_free_pages();
    domain_init(&d, 32, 1UL << 20);
    if (!EXPECT_EQ(p2m_init(&d), 0))
        goto out;
    if (EXPECT_EQ(allocate_memory(&d, 192 * MiB), 0)) {
        EXPECT_EQ(d.mem.nr_banks, 1);
        EXPECT_EQ(d.mem.bank[0].size, 192 * MiB);
        for (paddr_t off = 0; off < 192 * MiB; off += PAGE_SIZE) {
            mfn_t m = p2m_lookup(p2m_get_hostp2m(&d), gaddr_to_gfn(GUEST_RAM0_BASE + off), NULL);

            EXPECT(mfn_to_page(m)->u.owner == &d);
            low += mfn_to_paddr(m) < 4 * GiB;
        }
        /* The high bank cannot give 192 MiB (less its xenheap, frame table, p2m tables). */
        EXPECT(low > 64 * MiB / PAGE_SIZE);
        EXPECT(low < 192 * MiB / PAGE_SIZE);
    }
    EXPECT_EQ(relinquish_memory(&d), 0);
    EXPECT_EQ(heap_free_pages(), before);
out:
    heap_test_restore();
}
