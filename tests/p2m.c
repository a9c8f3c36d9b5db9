/*
 * The p2m (common/mm/p2m.c) on both targets: the image's arch writes real stage-2
 * descriptors into domheap pages, the host's records them as well (tests/host/p2m_host.c
 * checks the order). Machine frames given to p2m_set_entry as RAM or MMIO are only numbers
 * to it: the blocks below use MFNs that need not be RAM, and nothing here accesses them.
 * guest_physmap_add_page checks frames of RAM against the heap (its own test below).
 */
#include <domain/domain.h>
#include <lib/errno.h>
#include <lib/lib.h>
#include <mm/domain_page.h>
#include <mm/mm.h>
#include <mm/p2m.h>
#include <mm/page_alloc.h>
#include <mm/setup_mm.h>
#include <test/selftest.h>

#define PAGES_2M  (1UL << 9)
#define PAGES_1G  (1UL << 18)

static bool heap_is_up(void)
{
    return EXPECT(mm_layout() != NULL);
}

/* A fresh domain with its p2m; false (after reporting) if that fails. */
static bool domain_with_p2m(struct domain *d, domid_t id)
{
    domain_init(d, id, 1024);
    return EXPECT_EQ(p2m_init(d), 0);
}

/* gfn maps mfn with type t through an entry of `level`. */
static bool maps(struct p2m_domain *p2m, gfn_t gfn, mfn_t mfn, p2m_type_t t, unsigned int level)
{
    p2m_type_t got;
    unsigned int l;
    mfn_t m = p2m_lookup_level(p2m, gfn, &got, &l);
    bool ok = EXPECT_EQ(mfn_x(m), mfn_x(mfn));

    ok &= EXPECT_EQ(got, t);
    ok &= EXPECT_EQ(l, level);
    return ok;
}

static bool unmapped(struct p2m_domain *p2m, gfn_t gfn)
{
    p2m_type_t t = p2m_ram_rw;
    bool ok = EXPECT(mfn_eq(p2m_lookup(p2m, gfn, &t), INVALID_MFN));

    return ok & EXPECT_EQ(t, p2m_invalid);
}

SELFTEST(p2m, vtcr_vttbr_and_root)
{
    struct domain d;
    unsigned long before;
    struct p2m_domain *p2m;

    if (!heap_is_up())
        return;
    /* T0SZ -8 (0b1000, S = 1), SL0 = level 1, WBWA walks, inner shareable, RES1 bit 31. */
    EXPECT_EQ(P2M_VTCR, 0x80003558u);
    EXPECT_EQ(P2M_VTCR & 0x1f, 24);
    before = avail_domheap_pages();
    if (!domain_with_p2m(&d, 7))
        return;
    p2m = p2m_get_hostp2m(&d);
    EXPECT_EQ(avail_domheap_pages(), before - 2);
    EXPECT_EQ(mfn_x(p2m->root) & 1, 0);                       /* 8 KiB aligned */
    EXPECT_EQ(p2m->vttbr & 0x000000ffffffffffULL, mfn_to_paddr(p2m->root));
    EXPECT_EQ(p2m->vttbr >> VTTBR_VMID_SHIFT, p2m->vmid);
    EXPECT_NE(p2m->vmid, 0);
    for (unsigned int i = 0; i < 2; i++) {                   /* both root pages zeroed */
        const lpae_t *t = map_domain_page(mfn_add(p2m->root, i));
        unsigned int nonzero = 0;

        for (unsigned int j = 0; j < LPAE_ENTRIES; j++)
            nonzero += t[j] != 0;
        unmap_domain_page(t);
        EXPECT_EQ(nonzero, 0);
    }
    EXPECT_EQ(p2m_init(&d), -EINVAL);                        /* twice */
    p2m_teardown(&d);
    EXPECT_EQ(avail_domheap_pages(), before);
}

SELFTEST(p2m, pages_map_lookup_remove)
{
    struct domain d;
    struct p2m_domain *p2m = p2m_get_hostp2m(&d);
    struct page_info *pg;
    unsigned long before;
    gfn_t g = _gfn(0x80000);        /* IPA 2 GiB */
    mfn_t m;
    lpae_t e;
    unsigned int level;

    if (!heap_is_up())
        return;
    before = avail_domheap_pages();
    pg = alloc_domheap_pages(NULL, 2, 0);
    if (!EXPECT(pg != NULL))
        return;
    m = page_to_mfn(pg);
    if (!domain_with_p2m(&d, 8))
        goto out;
    EXPECT_EQ(guest_physmap_add_page(&d, gfn_add(g, 1), mfn_add(m, 1), 0), 0);
    EXPECT_EQ(guest_physmap_add_page(&d, gfn_add(g, 2), mfn_add(m, 2), 1), 0);
    EXPECT_EQ(p2m->nr_tables, 2);                           /* levels 2 and 3 */
    unmapped(p2m, g);
    for (unsigned int i = 1; i < 4; i++)
        maps(p2m, gfn_add(g, i), mfn_add(m, i), p2m_ram_rw, 3);
    unmapped(p2m, gfn_add(g, 4));
    unmapped(p2m, gfn_add(g, PAGES_1G));

    /* The descriptor: page, Normal WB, S2AP RW, inner shareable, AF, executable. */
    e = p2m_get_entry(p2m, gfn_add(g, 1), &level);
    EXPECT_EQ(level, 3);
    EXPECT_EQ(e & 3, 3);
    EXPECT_EQ(e & LPAE_ADDR_MASK, mfn_to_paddr(mfn_add(m, 1)));
    EXPECT_EQ(e & S2_MEMATTR_MASK, S2_MEMATTR(0xf));
    EXPECT_EQ(e & (S2_AP_READ | S2_AP_WRITE), S2_AP_READ | S2_AP_WRITE);
    EXPECT_EQ(e & S2_SH_INNER, S2_SH_INNER);
    EXPECT(e & S2_AF);
    EXPECT(!(e & S2_XN));

    /* Removal checks what is mapped. */
    EXPECT_EQ(guest_physmap_remove_page(&d, gfn_add(g, 2), mfn_add(m, 1), 0), -EINVAL);
    maps(p2m, gfn_add(g, 2), mfn_add(m, 2), p2m_ram_rw, 3);
    EXPECT_EQ(guest_physmap_remove_page(&d, gfn_add(g, 2), mfn_add(m, 2), 0), 0);
    unmapped(p2m, gfn_add(g, 2));
    maps(p2m, gfn_add(g, 3), mfn_add(m, 3), p2m_ram_rw, 3);
    EXPECT_EQ(p2m_set_entry(p2m, g, 4, INVALID_MFN, p2m_invalid), 0);
    for (unsigned int i = 0; i < 4; i++)
        unmapped(p2m, gfn_add(g, i));
    p2m_teardown(&d);
out:
    free_domheap_pages(pg, 2);
    EXPECT_EQ(avail_domheap_pages(), before);
}

/*
 * guest_physmap_add_page maps RAM the heap says the guest may have: allocated domheap pages
 * of the domain or of nobody. A free page (the heap would hand it to someone else under
 * the guest), a xenheap page and another domain's page are refused, naming the MFN, with
 * nothing mapped.
 */
SELFTEST(p2m, physmap_add_takes_only_allocated_domheap_pages)
{
    struct domain d, other;
    struct p2m_domain *p2m = p2m_get_hostp2m(&d);
    struct page_info *mine, *anon, *theirs = NULL, *freed;
    const gfn_t g = _gfn(0x80000);
    unsigned long before;
    void *x;

    if (!heap_is_up())
        return;
    before = avail_domheap_pages();
    if (!domain_with_p2m(&d, 13))
        return;
    domain_init(&other, 14, 16);
    mine = alloc_domheap_pages(&d, 1, 0);
    anon = alloc_domheap_pages(NULL, 0, 0);
    freed = alloc_domheap_pages(NULL, 0, 0);
    x = alloc_xenheap_page();
    if (!EXPECT(mine) || !EXPECT(anon) || !EXPECT(freed) || !EXPECT(x))
        goto out;
    theirs = alloc_domheap_pages(&other, 0, 0);
    if (!EXPECT(theirs))
        goto out;
    free_domheap_pages(freed, 0);

    EXPECT_EQ(guest_physmap_add_page(&d, g, page_to_mfn(freed), 0), -EINVAL);
    EXPECT_EQ(guest_physmap_add_page(&d, g, virt_to_mfn(x), 0), -EINVAL);
    EXPECT_EQ(guest_physmap_add_page(&d, g, page_to_mfn(theirs), 0), -EINVAL);
    EXPECT_EQ(guest_physmap_add_page(&d, g, page_to_mfn(mine), MAX_ORDER + 1), -EINVAL);
    unmapped(p2m, g);
    EXPECT_EQ(p2m->nr_tables, 0);

    /* The domain's own pages, part of them or all, and an anonymous page are RAM it may map. */
    EXPECT_EQ(guest_physmap_add_page(&d, g, page_to_mfn(mine), 1), 0);
    EXPECT_EQ(guest_physmap_add_page(&d, gfn_add(g, 2), page_to_mfn(anon), 0), 0);
    EXPECT_EQ(guest_physmap_add_page(&d, gfn_add(g, 3), mfn_add(page_to_mfn(mine), 1), 0), 0);
    maps(p2m, gfn_add(g, 1), mfn_add(page_to_mfn(mine), 1), p2m_ram_rw, 3);
    maps(p2m, gfn_add(g, 2), page_to_mfn(anon), p2m_ram_rw, 3);
    EXPECT_EQ(p2m_set_entry(p2m, g, 4, INVALID_MFN, p2m_invalid), 0);
out:
    p2m_teardown(&d);
    if (theirs)
        free_domheap_pages(theirs, 0);
    if (x)
        free_xenheap_page(x);
    if (anon)
        free_domheap_pages(anon, 0);
    if (mine)
        free_domheap_pages(mine, 1);
    EXPECT_EQ(d.tot_pages, 0);
    EXPECT_EQ(avail_domheap_pages(), before);
}

SELFTEST(p2m, blocks_where_aligned)
{
    struct domain d;
    struct p2m_domain *p2m = p2m_get_hostp2m(&d);
    unsigned long before;
    const mfn_t m2 = _mfn(0x40200);       /* PA 1 GiB + 2 MiB: 2 MiB aligned */
    const mfn_t m1 = _mfn(0x100000);      /* PA 4 GiB: 1 GiB aligned */
    unsigned int level;
    lpae_t e;

    if (!heap_is_up())
        return;
    before = avail_domheap_pages();
    if (!domain_with_p2m(&d, 9))
        return;
    /* 2 MiB, aligned: one block at level 2. */
    EXPECT_EQ(p2m_set_entry(p2m, _gfn(0x200), PAGES_2M, m2, p2m_ram_rw), 0);
    maps(p2m, _gfn(0x200), m2, p2m_ram_rw, 2);
    maps(p2m, _gfn(0x3ff), mfn_add(m2, 0x1ff), p2m_ram_rw, 2);
    EXPECT_EQ(p2m->nr_tables, 1);
    e = p2m_get_entry(p2m, _gfn(0x300), &level);
    EXPECT_EQ(e & 3, 1);                                     /* block */
    /* The same but the MFN one page off the IPA's alignment: pages. */
    EXPECT_EQ(p2m_set_entry(p2m, _gfn(0x400), PAGES_2M, mfn_add(m2, 1), p2m_ram_rw), 0);
    maps(p2m, _gfn(0x400), mfn_add(m2, 1), p2m_ram_rw, 3);
    maps(p2m, _gfn(0x5ff), mfn_add(m2, 0x200), p2m_ram_rw, 3);
    /* Aligned, but the caller asks for pages. */
    EXPECT_EQ(p2m_set_entry_limit(p2m, _gfn(0x600), PAGES_2M, m2, p2m_ram_rw, P2M_PAGES_ONLY), 0);
    maps(p2m, _gfn(0x7ff), mfn_add(m2, 0x1ff), p2m_ram_rw, 3);
    /* 1 GiB of MMIO at IPA 8 GiB: one level-1 block, Device, XN. */
    EXPECT_EQ(map_regions_p2mt(&d, _gfn(2 * PAGES_1G * 4), PAGES_1G, m1, p2m_mmio_direct_dev), 0);
    maps(p2m, _gfn(8 * PAGES_1G + 12345), mfn_add(m1, 12345), p2m_mmio_direct_dev, 1);
    e = p2m_get_entry(p2m, _gfn(8 * PAGES_1G), &level);
    EXPECT_EQ(e & S2_MEMATTR_MASK, S2_MEMATTR(0x1));
    EXPECT(e & S2_XN);
    EXPECT_EQ(e & 3, 1);
    /* 1 GiB + 2 MiB + 1 page at an aligned IPA, limited to 2 MiB: blocks then a page. */
    EXPECT_EQ(p2m_set_entry_limit(p2m, _gfn(16 * PAGES_1G), PAGES_1G + PAGES_2M + 1, m1,
                                  p2m_ram_rw, P2M_UP_TO_2M), 0);
    maps(p2m, _gfn(16 * PAGES_1G), m1, p2m_ram_rw, 2);
    maps(p2m, _gfn(17 * PAGES_1G), mfn_add(m1, PAGES_1G), p2m_ram_rw, 2);
    maps(p2m, _gfn(17 * PAGES_1G + PAGES_2M), mfn_add(m1, PAGES_1G + PAGES_2M), p2m_ram_rw, 3);
    unmapped(p2m, _gfn(17 * PAGES_1G + PAGES_2M + 1));
    /* The last GiB of the 40-bit space. */
    EXPECT_EQ(p2m_set_entry(p2m, _gfn(P2M_MAX_GFN - PAGES_1G), PAGES_1G, m1, p2m_ram_rw), 0);
    maps(p2m, _gfn(P2M_MAX_GFN - 1), mfn_add(m1, PAGES_1G - 1), p2m_ram_rw, 1);
    p2m_teardown(&d);
    EXPECT_EQ(avail_domheap_pages(), before);
}

SELFTEST(p2m, split_block_and_table_to_block)
{
    struct domain d;
    struct p2m_domain *p2m = p2m_get_hostp2m(&d);
    unsigned long before;
    const mfn_t m1 = _mfn(0x100000);
    const gfn_t g = _gfn(PAGES_1G);     /* IPA 1 GiB */

    if (!heap_is_up())
        return;
    before = avail_domheap_pages();
    if (!domain_with_p2m(&d, 10))
        return;
    EXPECT_EQ(p2m_set_entry(p2m, g, PAGES_1G, m1, p2m_ram_rw), 0);
    EXPECT_EQ(p2m->nr_tables, 0);
    /* Remove one page inside: the GiB becomes 2 MiB blocks, one of them pages. */
    EXPECT_EQ(guest_physmap_remove_page(&d, gfn_add(g, 0x12345), mfn_add(m1, 0x12345), 0), 0);
    EXPECT_EQ(p2m->nr_tables, 2);
    unmapped(p2m, gfn_add(g, 0x12345));
    maps(p2m, gfn_add(g, 0x12344), mfn_add(m1, 0x12344), p2m_ram_rw, 3);
    maps(p2m, gfn_add(g, 0x12346), mfn_add(m1, 0x12346), p2m_ram_rw, 3);
    maps(p2m, gfn_add(g, 0), m1, p2m_ram_rw, 2);
    maps(p2m, gfn_add(g, PAGES_1G - 1), mfn_add(m1, PAGES_1G - 1), p2m_ram_rw, 2);
    /* Remove a whole 2 MiB block in the middle, and one whole GiB: tables go too. */
    EXPECT_EQ(p2m_set_entry(p2m, gfn_add(g, PAGES_2M), PAGES_2M, INVALID_MFN, p2m_invalid), 0);
    unmapped(p2m, gfn_add(g, PAGES_2M + 7));
    EXPECT_EQ(p2m_set_entry(p2m, g, PAGES_1G, INVALID_MFN, p2m_invalid), 0);
    EXPECT_EQ(p2m->nr_tables, 0);
    unmapped(p2m, gfn_add(g, 0x12344));

    /* A page, removed: its tables stay, empty; a block over them replaces them. */
    EXPECT_EQ(p2m_set_entry(p2m, g, 1, m1, p2m_ram_rw), 0);
    EXPECT_EQ(p2m_set_entry(p2m, g, 1, INVALID_MFN, p2m_invalid), 0);
    EXPECT_EQ(p2m->nr_tables, 2);
    EXPECT_EQ(p2m_set_entry(p2m, g, PAGES_2M, m1, p2m_ram_rw), 0);
    maps(p2m, gfn_add(g, 5), mfn_add(m1, 5), p2m_ram_rw, 2);
    EXPECT_EQ(p2m->nr_tables, 1);
    EXPECT_EQ(p2m_set_entry(p2m, g, PAGES_2M, INVALID_MFN, p2m_invalid), 0);
    EXPECT_EQ(p2m_set_entry(p2m, g, PAGES_1G, m1, p2m_ram_rw), 0);
    maps(p2m, gfn_add(g, 5), mfn_add(m1, 5), p2m_ram_rw, 1);
    EXPECT_EQ(p2m->nr_tables, 0);
    p2m_teardown(&d);
    EXPECT_EQ(avail_domheap_pages(), before);
}

SELFTEST(p2m, misuse_refused)
{
    struct domain d, never;
    struct p2m_domain *p2m = p2m_get_hostp2m(&d);
    unsigned long before;
    const mfn_t m = _mfn(0x40000);

    if (!heap_is_up())
        return;
    before = avail_domheap_pages();
    domain_init(&never, 11, 0);
    EXPECT_EQ(guest_physmap_add_page(&never, _gfn(0), m, 0), -EINVAL);   /* no p2m_init */
    EXPECT(mfn_eq(p2m_lookup(p2m_get_hostp2m(&never), _gfn(0), NULL), INVALID_MFN));
    if (!domain_with_p2m(&d, 12))
        return;
    /* Outside the 40-bit IPA space, or running past its end. */
    EXPECT_EQ(p2m_set_entry(p2m, _gfn(P2M_MAX_GFN), 1, m, p2m_ram_rw), -EINVAL);
    EXPECT_EQ(p2m_set_entry(p2m, _gfn(P2M_MAX_GFN - 1), 2, m, p2m_ram_rw), -EINVAL);
    EXPECT(mfn_eq(p2m_lookup(p2m, _gfn(P2M_MAX_GFN), NULL), INVALID_MFN));
    /* An MFN beyond 40 bits. */
    EXPECT_EQ(p2m_set_entry(p2m, _gfn(0), 1, _mfn(1UL << 28), p2m_ram_rw), -EINVAL);
    EXPECT_EQ(p2m_set_entry(p2m, _gfn(0), 2, _mfn((1UL << 28) - 1), p2m_ram_rw), -EINVAL);
    /* Bad types. */
    EXPECT_EQ(p2m_set_entry(p2m, _gfn(0), 1, m, p2m_nr_types), -EINVAL);
    EXPECT_EQ(p2m_set_entry(p2m, _gfn(0), 1, m, p2m_invalid), -EINVAL);
    EXPECT_EQ(map_regions_p2mt(&d, _gfn(0), 1, m, p2m_ram_rw), -EINVAL);
    EXPECT_EQ(p2m->nr_tables, 0);                           /* nothing was built */
    /* Overlaps: nothing changes, not even the free part of the range. */
    EXPECT_EQ(p2m_set_entry(p2m, _gfn(0x10), 1, m, p2m_ram_rw), 0);
    EXPECT_EQ(p2m_set_entry(p2m, _gfn(0x10), 1, mfn_add(m, 1), p2m_ram_rw), -EBUSY);
    maps(p2m, _gfn(0x10), m, p2m_ram_rw, 3);
    EXPECT_EQ(p2m_set_entry(p2m, _gfn(0), 0x20, m, p2m_ram_rw), -EBUSY);
    unmapped(p2m, _gfn(0));
    unmapped(p2m, _gfn(0x1f));
    EXPECT_EQ(p2m_set_entry(p2m, _gfn(0), PAGES_1G, _mfn(0), p2m_ram_rw), -EBUSY);
    unmapped(p2m, _gfn(0));
    /* Removing what is not mapped is fine (nothing to do); removing the wrong MFN is not. */
    EXPECT_EQ(p2m_set_entry(p2m, _gfn(0x100000), 8, INVALID_MFN, p2m_invalid), 0);
    EXPECT_EQ(guest_physmap_remove_page(&d, _gfn(0x11), m, 0), -EINVAL);
    p2m_teardown(&d);
    p2m_teardown(&d);                                       /* a second one does nothing */
    EXPECT_EQ(avail_domheap_pages(), before);
}

SELFTEST(p2m, vmids_allocated_and_exhausted)
{
    static uint8_t taken[P2M_NR_VMIDS];
    struct domain d;
    unsigned int n = 0, in_use;
    unsigned long before;
    uint8_t v;

    if (!heap_is_up())
        return;
    in_use = p2m_vmids_in_use();
    while (n < P2M_NR_VMIDS && p2m_alloc_vmid(&v) == 0) {
        EXPECT_NE(v, 0);
        taken[n++] = v;
    }
    EXPECT_EQ(n + in_use, P2M_NR_VMIDS - 1);                /* 1..255 */
    EXPECT_EQ(p2m_vmids_in_use(), P2M_NR_VMIDS - 1);
    EXPECT_EQ(p2m_alloc_vmid(&v), -EBUSY);
    before = avail_domheap_pages();
    domain_init(&d, 13, 0);
    EXPECT_EQ(p2m_init(&d), -EBUSY);                        /* and keeps nothing */
    EXPECT_EQ(avail_domheap_pages(), before);
    EXPECT_EQ(d.p2m.vmid, 0);
    /* One back: the next domain gets exactly that one. */
    p2m_free_vmid(taken[n / 2]);
    EXPECT_EQ(p2m_init(&d), 0);
    EXPECT_EQ(d.p2m.vmid, taken[n / 2]);
    p2m_teardown(&d);
    for (unsigned int i = 0; i < n; i++)
        if (i != n / 2)
            p2m_free_vmid(taken[i]);
    EXPECT_EQ(p2m_vmids_in_use(), in_use);
    EXPECT_EQ(avail_domheap_pages(), before);
}

SELFTEST(p2m, teardown_frees_every_table)
{
    struct domain d;
    struct p2m_domain *p2m = p2m_get_hostp2m(&d);
    unsigned long before, tables;

    if (!heap_is_up())
        return;
    before = avail_domheap_pages();
    if (!domain_with_p2m(&d, 14))
        return;
    /* Pages spread over many GiBs and 2 MiB regions, blocks, MMIO. */
    for (unsigned long i = 0; i < 40; i++)
        EXPECT_EQ(p2m_set_entry(p2m, _gfn(i * (PAGES_1G / 2 + PAGES_2M + 3)), 3,
                                _mfn(0x40000 + i * 3), p2m_ram_rw), 0);
    EXPECT_EQ(p2m_set_entry(p2m, _gfn(600 * PAGES_1G), PAGES_1G, _mfn(0x100000), p2m_ram_rw), 0);
    EXPECT_EQ(map_regions_p2mt(&d, _gfn(700 * PAGES_1G + 1), 16, _mfn(0x8000),
                               p2m_mmio_direct_dev), 0);
    tables = p2m->nr_tables;
    EXPECT(tables >= 40);
    EXPECT_EQ(avail_domheap_pages(), before - 2 - tables);
    p2m_teardown(&d);
    EXPECT_EQ(avail_domheap_pages(), before);
    /* And a second life with the same struct. */
    if (domain_with_p2m(&d, 14)) {
        EXPECT_EQ(p2m_set_entry(p2m, _gfn(0), 1, _mfn(0x40000), p2m_ram_rw), 0);
        p2m_teardown(&d);
    }
    EXPECT_EQ(avail_domheap_pages(), before);
}
