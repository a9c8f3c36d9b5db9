/*
 * setup_mm() on fake machines of chosen shapes: RAM above 4 GiB, sparse
 * banks, more RAM than the frame-table window can describe, RAM beyond 40
 * bits, RAM at physical 0, machines too small to boot. Each expectation is
 * worked out from the rules in setup_mm.h and pdx.h, in the comments next to
 * it; each test puts the default machine back when it is done.
 */
#include <mm/boot_alloc.h>
#include <mm/domain_page.h>
#include <mm/mm.h>
#include <mm/page_alloc.h>
#include <mm/setup_mm.h>
#include <string.h>
#include <test/selftest.h>

#include "heap_test.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)
#define PAGES(bytes) ((unsigned long)((bytes) >> PAGE_SHIFT))

/* The default machine (host/machine.h): 1 GiB at 33 GiB, first 4 MiB less
 * the gap [1 MiB, 2 MiB) reserved. */
SELFTEST(heap_layout, default_machine_above_4g)
{
    const struct mm_layout *l = mm_layout();
    const paddr_t base = HOST_DEFAULT_RAM_BASE;

    if (!EXPECT(l != NULL))
        return;
    EXPECT_EQ(l->ram_pages, PAGES(GiB));
    EXPECT_EQ(l->ignored_pages, 0);
    /* 1 GiB / 32 = 32 MiB, the top 32 MiB-aligned 32 MiB of the bank. */
    EXPECT_EQ(l->xenheap_start, base + GiB - 32 * MiB);
    EXPECT_EQ(l->xenheap_end, base + GiB);
    /* 1 GiB is 8 PDX groups: 8 * 32768 page_info * 16 bytes = 4 MiB. */
    EXPECT_EQ(l->pdx_groups, 8);
    EXPECT_EQ(l->frametable_bytes, 4 * MiB);
    /* From the top of the highest boot range, which ends at the xenheap. */
    EXPECT_EQ(l->nr_frametable_runs, 1);
    EXPECT_EQ(l->frametable_run[0].pa, base + GiB - 32 * MiB - 4 * MiB);
    /* Below the xenheap is domheap, above it no RAM: both ends withheld. */
    EXPECT_EQ(l->nr_buffer_pages, 2);
    EXPECT_EQ(mfn_to_paddr(l->buffer_mfn[0]), base + GiB - 32 * MiB);
    EXPECT_EQ(mfn_to_paddr(l->buffer_mfn[1]), base + GiB - PAGE_SIZE);
    EXPECT_EQ(l->xenheap_free_pages, PAGES(32 * MiB) - 2);
    /* Usable: [1 MiB, 2 MiB) and [4 MiB, 1 GiB), less the xenheap and frame table. */
    EXPECT_EQ(l->domheap_free_pages,
              PAGES(1 * MiB) + PAGES(GiB - 4 * MiB) - PAGES(32 * MiB) - PAGES(4 * MiB));
    EXPECT_EQ(avail_domheap_pages(), l->domheap_free_pages);
    EXPECT_EQ(avail_xenheap_pages(), l->xenheap_free_pages);
    /* Reserved memory has page_info but is not heap memory. */
    EXPECT_EQ(page_state(maddr_to_page(base)), PGS_none);
    EXPECT_EQ(page_state(maddr_to_page(base + 3 * MiB)), PGS_none);
    EXPECT_EQ(page_state(maddr_to_page(base + 1 * MiB)), PGS_free);
    EXPECT_EQ(boot_alloc_nr_ranges(), 0);
    EXPECT_EQ(heap_check(), 0);
}

/* Two 256 MiB banks 508 GiB apart: a frame table indexed by MFN would need
 * 2 GiB for the span; with PDX groups it is 4 groups = 2 MiB. */
SELFTEST(heap_layout, sparse_banks_cost_what_they_hold)
{
    struct host_machine_config cfg;
    const struct mm_layout *l;
    const paddr_t b0 = 0x100000000ULL, b1 = 0x8000000000ULL;

    heap_test_config(&cfg, 2, b0, 256 * MiB, b1, 256 * MiB);
    if (!heap_test_boot(&cfg))
        goto out;
    l = mm_layout();
    EXPECT_EQ(l->pdx_groups, 4);
    EXPECT_EQ(l->frametable_bytes, 2 * MiB);
    EXPECT_EQ(max_pdx, 4 * PDX_GROUP_PAGES);
    EXPECT_EQ(l->ram_pages, PAGES(512 * MiB));
    /* The hole has no page_info; both banks do, and translate both ways. */
    EXPECT(!mfn_valid(paddr_to_mfn(b0 + 256 * MiB)));
    EXPECT(!mfn_valid(paddr_to_mfn(b1 - PAGE_SIZE)));
    EXPECT(!mfn_valid(paddr_to_mfn(b1 + 256 * MiB)));
    for (paddr_t pa = b0; pa < b1 + 256 * MiB; pa += 64 * MiB) {
        if (pa == b0 + 256 * MiB)
            pa = b1;
        EXPECT(mfn_valid(paddr_to_mfn(pa)));
        EXPECT_EQ(mfn_to_paddr(pdx_to_mfn(mfn_to_pdx(paddr_to_mfn(pa)))), pa);
    }
    /* Groups keep address order: the second bank's first page follows the first's last. */
    EXPECT_EQ(pdx_x(mfn_to_pdx(paddr_to_mfn(b1))), 2 * PDX_GROUP_PAGES);
    /* The xenheap goes to the top of the higher bank, the frame table below it. */
    EXPECT_EQ(l->xenheap_start, b1 + 256 * MiB - 32 * MiB);
    EXPECT_EQ(l->frametable_run[0].pa, b1 + 256 * MiB - 32 * MiB - 2 * MiB);
    EXPECT_EQ(l->domheap_free_pages, PAGES(512 * MiB - 32 * MiB - 2 * MiB));

    /* Both banks serve allocations; the highest zone first. */
    {
        struct page_info *pg = alloc_domheap_pages(NULL, 0, 0);
        struct page_info *low = alloc_domheap_pages(NULL, 0, MEMF_bits(39));

        EXPECT(pg && page_to_maddr(pg) >= b1);
        EXPECT(low && page_to_maddr(low) < b0 + 256 * MiB);
        if (pg)
            free_domheap_pages(pg, 0);
        if (low)
            free_domheap_pages(low, 0);
    }
    EXPECT_EQ(heap_check(), 0);
out:
    heap_test_restore();
}

/*
 * qemu -m 1023G: RAM from 1 GiB to 1024 GiB. The 96 MiB window holds 6M
 * page_info = 192 groups of 128 MiB = 24 GiB, so RAM at and above
 * 1 GiB + 24 GiB is ignored (999 GiB), with a warning, and the machine boots
 * on the rest with a 768 MiB xenheap (24 GiB / 32), placed as high as it
 * goes: at the top of the RAM it keeps. Boot touches only the frame table,
 * never the RAM it describes.
 */
SELFTEST(heap_layout, more_ram_than_the_window)
{
    struct host_machine_config cfg;
    const struct mm_layout *l;

    heap_test_config(&cfg, 1, 1 * GiB, 1023 * GiB);
    if (!heap_test_boot(&cfg))
        goto out;
    l = mm_layout();
    EXPECT_EQ(l->covered_end, 25 * GiB);
    EXPECT_EQ(l->ram_pages, PAGES(24 * GiB));
    EXPECT_EQ(l->ignored_pages, PAGES(999 * GiB));
    EXPECT_EQ(l->frametable_bytes, 96 * MiB);
    EXPECT_EQ(l->xenheap_end - l->xenheap_start, 768 * MiB);
    EXPECT_EQ(l->xenheap_end, 25 * GiB);
    EXPECT(!mfn_valid(paddr_to_mfn(25 * GiB)));
    EXPECT_EQ(l->domheap_free_pages, PAGES(24 * GiB - 768 * MiB - 96 * MiB));
    /* Resident: the frame table, nothing else of the 1023 GiB. */
    EXPECT(host_machine_resident_pages() <= PAGES(96 * MiB) + 16);
    EXPECT_EQ(heap_check(), 0);
out:
    heap_test_restore();
}

/* LPAE addresses are 40 bits: RAM above that is ignored, not a crash. */
SELFTEST(heap_layout, ram_beyond_40_bits_is_ignored)
{
    struct host_machine_config cfg;
    const struct mm_layout *l;
    const paddr_t top = 1ULL << 40;

    heap_test_config(&cfg, 2, 0x100000000ULL, 128 * MiB, top - 64 * MiB, 128 * MiB);
    if (!heap_test_boot(&cfg))
        goto out;
    l = mm_layout();
    EXPECT_EQ(l->ram_pages, PAGES(128 * MiB + 64 * MiB));
    EXPECT_EQ(l->ignored_pages, PAGES(64 * MiB));
    /* The highest aligned 32 MiB below 2^40: [2^40 - 32M, 2^40). */
    EXPECT_EQ(l->xenheap_end, top);
    EXPECT(!mfn_valid(paddr_to_mfn(top)));
    EXPECT_EQ(heap_check(), 0);
out:
    heap_test_restore();
}

/* RAM at physical 0: MFN 0 never enters the heap, and nothing breaks. */
SELFTEST(heap_layout, mfn0_stays_out)
{
    struct host_machine_config cfg;
    const struct mm_layout *l;

    heap_test_config(&cfg, 1, 0ULL, 128 * MiB);
    if (!heap_test_boot(&cfg))
        goto out;
    l = mm_layout();
    EXPECT_EQ(page_state(mfn_to_page(_mfn(0))), PGS_none);
    EXPECT_EQ(page_state(mfn_to_page(_mfn(1))), PGS_free);
    /* 128 MiB less the 32 MiB xenheap, the 2 MiB frame table, and MFN 0. */
    EXPECT_EQ(l->domheap_free_pages, PAGES(128 * MiB - 32 * MiB - 2 * MiB) - 1);
    /* Zone 1 holds MFN 1 alone; ask for it by address width. */
    {
        struct page_info *pg = alloc_domheap_pages(NULL, 0, MEMF_bits(PAGE_SHIFT + 1));

        if (EXPECT(pg != NULL)) {
            EXPECT_EQ(mfn_x(page_to_mfn(pg)), 1);
            free_domheap_pages(pg, 0);
        }
        EXPECT(alloc_domheap_pages(NULL, 1, MEMF_bits(PAGE_SHIFT + 1)) == NULL);
    }
    EXPECT_EQ(heap_check(), 0);
out:
    heap_test_restore();
}

/* RAM below and above 4 GiB: MEMF_bits(32) gets the low bank only. */
SELFTEST(heap_layout, memf_bits_picks_low_memory)
{
    struct host_machine_config cfg;
    struct page_info *pg[4];
    const paddr_t low = 0x80000000ULL, high = 0x100000000ULL;

    heap_test_config(&cfg, 2, low, 256 * MiB, high, 256 * MiB);
    if (!heap_test_boot(&cfg))
        goto out;
    /* Unrestricted: the highest zone first. */
    pg[0] = alloc_domheap_pages(NULL, 4, 0);
    pg[1] = alloc_domheap_pages(NULL, 4, MEMF_bits(32));
    pg[2] = alloc_domheap_pages(NULL, 0, MEMF_bits(31));   /* nothing below 2 GiB */
    pg[3] = alloc_domheap_pages(NULL, 9, MEMF_bits(32));
    EXPECT(pg[0] && page_to_maddr(pg[0]) >= high);
    EXPECT(pg[1] && page_to_maddr(pg[1]) >= low && page_to_maddr(pg[1]) < high);
    EXPECT(pg[2] == NULL);
    EXPECT(pg[3] && page_to_maddr(pg[3]) + 512 * PAGE_SIZE <= high);
    if (pg[0])
        free_domheap_pages(pg[0], 4);
    if (pg[1])
        free_domheap_pages(pg[1], 4);
    if (pg[3])
        free_domheap_pages(pg[3], 9);
    /* The xenheap follows the same rule with its own memory: its 32 MiB lie
     * at the top of RAM, in the high bank, so MEMF_bits(32) finds none of it. */
    {
        void *x = alloc_xenheap_pages(0, MEMF_bits(33));

        EXPECT(x && __pa(x) >= high + 224 * MiB && __pa(x) < high + 256 * MiB);
        EXPECT(alloc_xenheap_pages(0, MEMF_bits(32)) == NULL);
        if (x)
            free_xenheap_pages(x, 0);
    }
    EXPECT_EQ(heap_check(), 0);
out:
    heap_test_restore();
}

/* Boot writes page_info, never the pages: an 8 GiB machine keeps its RAM
 * untouched except for the frame table (8 GiB / 4 KiB * 16 bytes = 32 MiB). */
SELFTEST(heap_layout, boot_touches_no_heap_page)
{
    struct host_machine_config cfg;
    unsigned long resident;
    struct page_info *pg;

    heap_test_config(&cfg, 1, 0x200000000ULL, 8 * GiB);
    if (!heap_test_boot(&cfg))
        goto out;
    resident = host_machine_resident_pages();
    EXPECT_EQ(mm_layout()->frametable_bytes, 32 * MiB);
    EXPECT(resident >= PAGES(32 * MiB));
    EXPECT(resident <= PAGES(32 * MiB) + 16);
    /* The first allocation scrubs (touches) exactly its own page. */
    pg = alloc_domheap_pages(NULL, 0, 0);
    if (EXPECT(pg != NULL)) {
        EXPECT_EQ(host_machine_resident_pages(), resident + 1);
        free_domheap_pages(pg, 0);
    }
out:
    heap_test_restore();
}

/* Boot memory holds what the last user left: cleared on first use, unless
 * the caller says it overwrites it (MEMF_no_scrub). */
SELFTEST(heap_layout, boot_memory_is_scrubbed_lazily)
{
    struct host_machine_config cfg;
    struct page_info *pg, *raw;
    uint8_t *xen;

    heap_test_config(&cfg, 1, 0x100000000ULL, 128 * MiB);
    cfg.fill_ram = true;
    cfg.fill_byte = 0x3c;
    if (!heap_test_boot(&cfg))
        goto out;
    pg = alloc_domheap_pages(NULL, 1, 0);
    raw = alloc_domheap_pages(NULL, 1, MEMF_no_scrub);
    xen = alloc_xenheap_pages(0, 0);
    if (EXPECT(pg && raw && xen)) {
        const uint8_t *a = host_machine_ram(page_to_maddr(pg));
        const uint8_t *b = host_machine_ram(page_to_maddr(raw));
        bool zero = true, old = true, xzero = true;

        for (size_t i = 0; i < 2 * PAGE_SIZE; i++) {
            zero &= a[i] == 0;
            old &= b[i] == 0x3c;
        }
        for (size_t i = 0; i < PAGE_SIZE; i++)
            xzero &= xen[i] == 0;
        EXPECT(zero);
        EXPECT(old);
        EXPECT(xzero);
    }
    if (pg)
        free_domheap_pages(pg, 1);
    if (raw)
        free_domheap_pages(raw, 1);
    free_xenheap_pages(xen, 0);
out:
    heap_test_restore();
}

/* Tear down and boot the same layout again: the same heap. */
SELFTEST(heap_layout, recreate_gives_the_same_heap)
{
    struct mm_layout first = *mm_layout();
    const struct mm_layout *again;

    host_machine_destroy();
    EXPECT(!host_machine_present());
    EXPECT(mm_layout() == NULL);
    EXPECT_EQ(heap_check(), 0);
    heap_test_restore();
    again = mm_layout();
    if (!EXPECT(again != NULL))
        return;
    EXPECT_EQ(again->domheap_free_pages, first.domheap_free_pages);
    EXPECT_EQ(again->xenheap_start, first.xenheap_start);
    EXPECT_EQ(again->frametable_run[0].pa, first.frametable_run[0].pa);
    EXPECT_EQ(heap_free_pages(), first.domheap_free_pages + first.xenheap_free_pages);
}

/* Too little RAM for a 32 MiB xenheap: a panic that says so. */
SELFTEST(heap_layout, too_small_for_a_xenheap)
{
    struct host_machine_config cfg;

    heap_test_config(&cfg, 1, 0x100000000ULL, 24 * MiB);
    EXPECT_PANIC("no usable RAM range holds a 32 MiB xenheap", host_machine_create(&cfg));
    heap_test_restore();
}

/* The xenheap fits but then nothing is left for the frame table. */
SELFTEST(heap_layout, no_room_for_the_frame_table)
{
    struct host_machine_config cfg;

    heap_test_config(&cfg, 1, 0x100000000ULL, 33 * MiB);
    EXPECT_PANIC("alloc_boot_pages: cannot allocate 512 pages aligned to 512 pages",
                 host_machine_create(&cfg));
    heap_test_restore();
}

/*
 * 1.5 GiB wants a 64 MiB xenheap (48 MiB rounded up), but one reserved page
 * at 40 MiB into every 64 MiB leaves no 32 MiB-aligned 64 MiB run, so it
 * takes 32 MiB, as high as it fits: the holes are at 1448 MiB and 1512 MiB,
 * so the highest aligned 32 MiB run is [1472 MiB, 1504 MiB).
 */
SELFTEST(heap_layout, xenheap_shrinks_to_fit)
{
    struct host_machine_config cfg;
    const struct mm_layout *l;
    const paddr_t base = 0x100000000ULL;

    heap_test_config(&cfg, 1, base, 1536 * MiB);
    for (unsigned int m = 0; m < 24; m++) {
        cfg.reserved[m].start = base + m * 64 * MiB + 40 * MiB;
        cfg.reserved[m].end = cfg.reserved[m].start + PAGE_SIZE;
    }
    cfg.nr_reserved = 24;
    if (!heap_test_boot(&cfg))
        goto out;
    l = mm_layout();
    EXPECT_EQ(l->xenheap_start, base + 1472 * MiB);
    EXPECT_EQ(l->xenheap_end, base + 1504 * MiB);
    EXPECT_EQ(heap_check(), 0);
out:
    heap_test_restore();
}
