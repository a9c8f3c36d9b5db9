/*
 * The vmap region, on the host and in the image: the allocator's placement
 * (guards, fragmentation, alignment), the bitmap growing and shrinking,
 * filling the whole region, vmalloc's pages, and the panics for addresses
 * vmap did not hand out.
 *
 * Placement is predicted from the allocator's rule (first fit from the
 * lowest free page; an allocation of n pages needs n + 2 clear bits, the
 * outer two shared with its neighbours as guards), not from a run. The
 * tests assume that, past the allocations live when they start, the region
 * is empty; every test frees what it allocates.
 */
#include <domain/vcpu.h>
#include <lib/lib.h>
#include <mm/domain_page.h>
#include <mm/mm.h>
#include <mm/page_alloc.h>
#include <mm/pt.h>
#include <mm/vmap.h>
#include <string.h>
#include <test/hooks.h>
#include <test/selftest.h>

#include "vmap_test.h"

#define P(n) ((vaddr_t)(n) * PAGE_SIZE)

static unsigned long region_pages(const struct vm_stats *st)
{
    return (st->end - st->start) >> PAGE_SHIFT;
}

SELFTEST(vmap, map_write_read_unmap)
{
    struct vmap_fixture fx;
    struct page_info *pg;
    mfn_t mfn[2];
    uint32_t *va;

    if (!vmap_test_begin(&fx))
        return;
    pg = alloc_domheap_pages(NULL, 1, 0);
    if (!EXPECT(pg))
        goto out;
    /* Out of order, to see that each frame lands where asked. */
    mfn[0] = mfn_add(page_to_mfn(pg), 1);
    mfn[1] = page_to_mfn(pg);
    va = vmap(mfn, 2);
    if (EXPECT(va)) {
        uint32_t *direct;

        EXPECT_EQ(vm_size(va), 2);
        EXPECT_EQ(pt_translate((vaddr_t)va), mfn_to_paddr(mfn[0]));
        EXPECT_EQ(pt_translate((vaddr_t)va + PAGE_SIZE), mfn_to_paddr(mfn[1]));
        va[0] = 0x12345678;
        va[PAGE_SIZE / 4 + 3] = 0x9abcdef0;
        direct = map_domain_page(mfn[0]);
        EXPECT_EQ(direct[0], 0x12345678);
        unmap_domain_page(direct);
        direct = map_domain_page(mfn[1]);
        EXPECT_EQ(direct[3], 0x9abcdef0);
        unmap_domain_page(direct);
        vunmap(va);
        EXPECT_EQ(pt_translate((vaddr_t)va), PT_NO_PADDR);
    }
    free_domheap_pages(pg, 1);
out:
    vmap_test_end(&fx);
}

SELFTEST(vmap, a_guard_page_follows_every_allocation)
{
    struct vmap_fixture fx;
    struct page_info *pg;
    mfn_t mfn[3];
    uint8_t *a, *b;
    char what[96];

    if (!vmap_test_begin(&fx))
        return;
    pg = alloc_domheap_pages(NULL, 2, 0);
    if (!EXPECT(pg))
        goto out;
    for (unsigned int i = 0; i < 3; i++)
        mfn[i] = mfn_add(page_to_mfn(pg), i);
    a = vmap(mfn, 3);
    b = vmap(mfn, 1);
    if (EXPECT(a) && EXPECT(b)) {
        /* Back to back but for one unmapped page. */
        EXPECT_EQ((vaddr_t)b, (vaddr_t)a + P(4));
        EXPECT_EQ(pt_translate((vaddr_t)a + P(2)), mfn_to_paddr(mfn[2]));
        EXPECT_EQ(pt_translate((vaddr_t)a + P(3)), PT_NO_PADDR);
        EXPECT_EQ(pt_translate((vaddr_t)b + P(1)), PT_NO_PADDR);
        EXPECT(vm_describe(a + P(3), what, sizeof(what)));
        EXPECT(strstr(what, "guard page after the 3-page allocation"));
        EXPECT(vm_describe(a + P(1) + 5, what, sizeof(what)));
        EXPECT(strstr(what, "page 1 of the 3-page allocation"));
    }
    if (b)
        vunmap(b);
    if (a)
        vunmap(a);
    free_domheap_pages(pg, 2);
out:
    vmap_test_end(&fx);
}

SELFTEST(vmap, fragmentation_first_fit_with_guards)
{
    struct vmap_fixture fx;
    uint8_t *a, *b, *c, *d, *e, *f, *g, *h;

    if (!vmap_test_begin(&fx))
        return;
    a = vm_alloc(1, 1);
    b = vm_alloc(3, 1);
    c = vm_alloc(1, 1);
    if (!EXPECT(a && b && c)) {
        vm_free(a);
        vm_free(b);
        vm_free(c);
        return;
    }
    EXPECT_EQ((vaddr_t)b, (vaddr_t)a + P(2));
    EXPECT_EQ((vaddr_t)c, (vaddr_t)b + P(4));

    /* B's hole: B's 3 pages plus the guards on either side, 5 clear pages. */
    vm_free(b);
    d = vm_alloc(3, 1);                 /* needs 5: fits exactly */
    EXPECT_EQ((vaddr_t)d, (vaddr_t)b);
    vm_free(d);
    e = vm_alloc(4, 1);                 /* needs 6: goes after C */
    EXPECT_EQ((vaddr_t)e, (vaddr_t)c + P(2));
    f = vm_alloc(1, 1);                 /* needs 3: the hole's start */
    g = vm_alloc(1, 1);                 /* the hole's last 3 pages */
    h = vm_alloc(1, 1);                 /* the hole is full: after E */
    EXPECT_EQ((vaddr_t)f, (vaddr_t)b);
    EXPECT_EQ((vaddr_t)g, (vaddr_t)b + P(2));
    EXPECT_EQ((vaddr_t)h, (vaddr_t)e + P(5));
    EXPECT_EQ(vm_size(e), 4);
    EXPECT_EQ(vm_size(g), 1);

    /* Freeing in any order merges the space again. */
    vm_free(f);
    vm_free(h);
    vm_free(c);
    vm_free(g);
    vm_free(e);
    vm_free(a);
    d = vm_alloc(12, 1);
    EXPECT_EQ((vaddr_t)d, (vaddr_t)a);
    vm_free(d);
    vmap_test_end(&fx);
}

SELFTEST(vmap, alignment_and_2mb_blocks)
{
    struct vmap_fixture fx;
    struct page_info *pg;
    uint8_t *small, *va;
    unsigned int level;
    mfn_t mfn;

    if (!vmap_test_begin(&fx))
        return;
    pg = alloc_domheap_pages(NULL, 9, MEMF_no_scrub);
    small = vm_alloc(1, 1);             /* so the region is not already aligned by luck */
    if (!EXPECT(pg) || !EXPECT(small))
        goto out;
    mfn = page_to_mfn(pg);
    va = __vmap(&mfn, 512, 1, 512, PAGE_HYPERVISOR | _PAGE_BLOCK);
    if (EXPECT(va)) {
        EXPECT(IS_ALIGNED((vaddr_t)va, PT_BLOCK_SIZE));
        EXPECT_EQ(vm_size(va), 512);
        pt_lookup((vaddr_t)va + P(300), &level);
        EXPECT_EQ(level, 2);
        EXPECT_EQ(pt_translate((vaddr_t)va + P(300) + 4), page_to_maddr(pg) + P(300) + 4);
        vunmap(va);
        EXPECT_EQ(pt_translate((vaddr_t)va), PT_NO_PADDR);
    }
    /* Odd alignments too. */
    va = vm_alloc(3, 64);
    if (EXPECT(va)) {
        EXPECT(IS_ALIGNED((vaddr_t)va, 64 * PAGE_SIZE));
        vm_free(va);
    }
out:
    if (small)
        vm_free(small);
    if (pg)
        free_domheap_pages(pg, 9);
    vmap_test_end(&fx);
}

SELFTEST(vmap, bitmap_grows_on_demand_and_shrinks)
{
    struct vmap_fixture fx;
    struct vm_stats st;
    unsigned long free_before;
    unsigned int level;
    void *big;

    if (!vmap_test_begin(&fx))
        return;
    /* Only the first bitmap page is mapped; the rest of the bitmap's pages are reserved. */
    EXPECT_EQ(fx.before.bitmap_mapped, 1);
    EXPECT(fx.before.bitmap_pages > 1);
    EXPECT(lpae_is_valid(pt_lookup(fx.before.start, &level)));
    EXPECT(!lpae_is_valid(pt_lookup(fx.before.start + P(1), &level)));

    /* Address space only, past what one bitmap page (32768 pages) describes. */
    free_before = heap_free_pages();
    big = vm_alloc(40000, 1);
    if (EXPECT(big)) {
        vm_stats(&st);
        EXPECT_EQ(st.bitmap_mapped, 2);
        EXPECT(lpae_is_valid(pt_lookup(fx.before.start + P(1), &level)));
        /* One page of bitmap; it shares the first bitmap page's level-3 table. */
        EXPECT_EQ(heap_free_pages(), free_before - 1);
        vm_free(big);
    }
    vm_stats(&st);
    EXPECT_EQ(st.bitmap_mapped, 1);
    EXPECT(!lpae_is_valid(pt_lookup(fx.before.start + P(1), &level)));
    EXPECT_EQ(heap_free_pages(), free_before);
    vmap_test_end(&fx);
}

SELFTEST(vmap, filling_the_region_fails_cleanly_and_frees_exactly)
{
    struct vmap_fixture fx;
    struct page_info *pg;
    unsigned long expected, count = 0, free_before, free_full;
    unsigned int order;
    void **ptrs = NULL;
    struct vm_stats st;
    mfn_t mfn;

    if (!vmap_test_begin(&fx))
        return;
    /*
     * From the end of the last live allocation, one-page allocations take
     * every other page (page, guard), and the last one's guard must be in
     * the region: allocation k sits at highest + 1 + 2k, its guard at
     * highest + 2 + 2k < N.
     */
    expected = (region_pages(&fx.before) - fx.before.highest - 1) / 2;
    for (order = 0; (PAGE_SIZE << order) < expected * sizeof(void *); order++)
        ;
    ptrs = alloc_xenheap_pages(order, MEMF_no_scrub);
    pg = alloc_domheap_page(NULL, 0);
    if (!EXPECT(ptrs) || !EXPECT(pg))
        goto out;
    mfn = page_to_mfn(pg);

    free_before = heap_free_pages();
    for (;;) {
        void *va = vmap(&mfn, 1);

        if (!va)
            break;
        if (count == expected) {        /* one too many: stop before overflowing ptrs */
            EXPECT(!"more allocations fit than predicted");
            vunmap(va);
            break;
        }
        ptrs[count++] = va;
    }
    EXPECT_EQ(count, expected);
    vm_stats(&st);
    EXPECT_EQ(st.bitmap_mapped, st.bitmap_pages);
    EXPECT_EQ(st.allocations, fx.before.allocations + count);
    /* Full: everything fails, nothing breaks. */
    EXPECT(vm_alloc(1, 1) == NULL);
    EXPECT(vmalloc(PAGE_SIZE) == NULL);
    EXPECT(ioremap(0x09000000, 4) == NULL);
    free_full = heap_free_pages();
    EXPECT(free_full < free_before);    /* bitmap pages and level-3 tables */
    if (count)
        EXPECT_EQ(pt_translate((vaddr_t)ptrs[count - 1]), mfn_to_paddr(mfn));

    while (count > 0)
        vunmap(ptrs[--count]);
    EXPECT_EQ(heap_free_pages(), free_before);
    vm_stats(&st);
    EXPECT_EQ(st.bitmap_mapped, fx.before.bitmap_mapped);
out:
    if (pg)
        free_domheap_page(pg);
    if (ptrs)
        free_xenheap_pages(ptrs, order);
    vmap_test_end(&fx);
}

SELFTEST(vmap, vmalloc_returns_every_page)
{
    struct vmap_fixture fx;
    unsigned long free_before;
    uint8_t *p;

    if (!vmap_test_begin(&fx))
        return;
    free_before = heap_free_pages();
    p = vmalloc(5 * PAGE_SIZE + 1);
    if (EXPECT(p)) {
        bool same = true;
        unsigned int level;

        EXPECT_EQ(vm_size(p), 6);
        EXPECT(heap_free_pages() <= free_before - 6);
        for (unsigned int i = 0; i < 6; i++) {
            lpae_t e = pt_lookup((vaddr_t)p + P(i), &level);

            EXPECT(lpae_is_mapping(e, level) && pt_entry_tag(e) == VM_VMALLOC);
            EXPECT(!(e & LPAE_AP_RO) && (e & LPAE_XN));
        }
        for (size_t i = 0; i < 6 * PAGE_SIZE; i++)
            p[i] = (uint8_t)(i * 7 + 1);
        for (size_t i = 0; i < 6 * PAGE_SIZE; i++)
            same &= p[i] == (uint8_t)(i * 7 + 1);
        EXPECT(same);
        vfree(p);
    }
    EXPECT_EQ(heap_free_pages(), free_before);

    p = vzalloc(3 * PAGE_SIZE);
    if (EXPECT(p)) {
        bool zero = true;

        for (size_t i = 0; i < 3 * PAGE_SIZE; i++)
            zero &= p[i] == 0;
        EXPECT(zero);
        vfree(p);
    }
    EXPECT_EQ(heap_free_pages(), free_before);
    vfree(NULL);
    EXPECT(vmalloc(0) == NULL);
    vmap_test_end(&fx);
}

SELFTEST(vmap, vmalloc_fails_cleanly_without_memory)
{
    static struct heap_hoard hoard;
    struct vmap_fixture fx;
    struct vm_stats st;

    if (selftest_skip_if_heap_too_big_to_drain())
        return;
    if (!vmap_test_begin(&fx))
        return;
    /* Two pages left: vmalloc takes them, fails on the third, gives them back. */
    heap_hoard(&hoard, 2);
    EXPECT(vmalloc(4 * PAGE_SIZE) == NULL);
    EXPECT_EQ(avail_domheap_pages(), 2);
    vm_stats(&st);
    EXPECT_EQ(st.allocations, fx.before.allocations);
    EXPECT_EQ(st.pages, fx.before.pages);
    heap_hoard_release(&hoard);
    vmap_test_end(&fx);
}

/* --- addresses vmap did not hand out ---------------------------------------------- */

static uint32_t not_vmap;

SELFTEST(vmap, freeing_foreign_addresses_panics_with_the_address)
{
    struct vmap_fixture fx;
    struct page_info *pg;
    uint8_t *p, *io;
    mfn_t mfn[2];

    if (!vmap_test_begin(&fx))
        return;
    pg = alloc_domheap_pages(NULL, 1, 0);
    if (!EXPECT(pg))
        goto out;
    mfn[0] = page_to_mfn(pg);
    mfn[1] = mfn_add(mfn[0], 1);
    p = vmap(mfn, 2);
    io = ioremap(0x09000000, 0x1000);
    if (!EXPECT(p) || !EXPECT(io))
        goto out_free;

    EXPECT_PANIC("not a vmap address", vunmap(NULL));
    EXPECT_PANIC("not a vmap address", vunmap(&not_vmap));
    EXPECT_PANIC("page 1 of the 2-page allocation", vunmap(p + P(1)));
    EXPECT_PANIC("guard page after the 2-page allocation", vunmap(p + P(2)));
    EXPECT_PANIC("not page aligned", vunmap(p + 8));
    EXPECT_PANIC("vmap bitmap", vunmap((void *)fx.before.start));
    EXPECT_PANIC("vm_free", vm_free(p + P(1)));
    EXPECT_PANIC("vm_size", vm_size(p + P(2)));
    /* vfree is for vmalloc: the frames of a vmap or an ioremap are not its to free. */
    EXPECT_PANIC("not a vmalloc allocation", vfree(p));
    EXPECT_PANIC("not a vmalloc allocation", vfree(io));
    EXPECT(!vm_lock_is_held());
    EXPECT(!pt_lock_is_held());
    /* None of that changed anything. */
    EXPECT_EQ(pt_translate((vaddr_t)p + P(1)), mfn_to_paddr(mfn[1]));

    iounmap(io + 0x18);
    vunmap(p);
    EXPECT_PANIC("free vmap space", vunmap(p));        /* twice */
    EXPECT_PANIC("free vmap space", vfree(p));
    EXPECT(!vm_lock_is_held());
    goto out_pages;
out_free:
    if (p)
        vunmap(p);
    if (io)
        iounmap(io);
out_pages:
    free_domheap_pages(pg, 1);
out:
    vmap_test_end(&fx);
}

/*
 * Each kind of allocation is freed by its own function only: vunmap of a
 * vmalloc allocation would leak its pages, vfree of a vmap or a global
 * mapping would free frames the mapping only borrowed, and the others would
 * leave the kinds' bookkeeping (a cache clean, the frames) undone. Every
 * mismatched pair panics naming the address and what it is, and changes
 * nothing; so does vm_free of an allocation that is still mapped.
 */
SELFTEST(vmap, each_kind_is_freed_by_its_own_function)
{
    struct vmap_fixture fx;
    struct vm_stats st;
    struct page_info *pg;
    unsigned long free_before;
    uint8_t *p = NULL, *m = NULL, *io = NULL, *g = NULL;
    char want[96];
    mfn_t mfn;

    if (!vmap_test_begin(&fx))
        return;
    pg = alloc_domheap_page(NULL, 0);
    if (!EXPECT(pg))
        goto out;
    mfn = page_to_mfn(pg);
    p = vmap(&mfn, 1);
    m = vmalloc(2 * PAGE_SIZE);
    io = ioremap(0x09000000, 0x1000);
    g = map_domain_page_global(mfn);
    if (!EXPECT(p) || !EXPECT(m) || !EXPECT(io) || !EXPECT(g))
        goto out_free;
    free_before = heap_free_pages();

    fmt_snprintf(want, sizeof(want), "vunmap(%p): not a vmap mapping: the 2-page "
                 "allocation at %p is a vmalloc allocation (vfree frees it)", (void *)m,
                 (void *)m);
    EXPECT_PANIC(want, vunmap(m));
    EXPECT_PANIC("is a vmalloc allocation (vfree frees it)", iounmap(m));
    EXPECT_PANIC("is a vmalloc allocation (vfree frees it)", unmap_domain_page_global(m));
    EXPECT_PANIC("is an ioremap mapping (iounmap frees it)", vunmap(io));
    EXPECT_PANIC("is an ioremap mapping (iounmap frees it)", unmap_domain_page_global(io));
    EXPECT_PANIC("is an ioremap mapping (iounmap frees it)", vfree(io));
    EXPECT_PANIC("is a vmap mapping (vunmap frees it)", iounmap(p));
    EXPECT_PANIC("is a vmap mapping (vunmap frees it)", unmap_domain_page_global(p));
    EXPECT_PANIC("is a vmap mapping (vunmap frees it)", vfree(p));
    EXPECT_PANIC("is a map_domain_page_global mapping (unmap_domain_page_global frees it)",
                 vunmap(g));
    EXPECT_PANIC("is a map_domain_page_global mapping", iounmap(g));
    EXPECT_PANIC("is a map_domain_page_global mapping", vfree(g));
    fmt_snprintf(want, sizeof(want), "vm_free(%p): page 0 (%p) of the 2-page allocation is "
                 "still mapped, as a vmalloc allocation", (void *)m, (void *)m);
    EXPECT_PANIC(want, vm_free(m));
    EXPECT_PANIC("still mapped, as an ioremap mapping", vm_free(io));
    EXPECT(!vm_lock_is_held());
    EXPECT(!pt_lock_is_held());

    /* Nothing changed: every mapping is there, no page went back to the heap. */
    vm_stats(&st);
    EXPECT_EQ(st.allocations, fx.before.allocations + 4);
    EXPECT_EQ(heap_free_pages(), free_before);
    EXPECT_EQ(pt_translate((vaddr_t)p), page_to_maddr(pg));
    EXPECT_EQ(pt_translate((vaddr_t)g), page_to_maddr(pg));
    EXPECT_EQ(pt_translate((vaddr_t)io), 0x09000000);
    EXPECT_NE(pt_translate((vaddr_t)m + PAGE_SIZE), PT_NO_PADDR);

    /* The tag is vmap's own: a caller cannot pass one to make a mapping look like another. */
    EXPECT(__vmap(&mfn, 1, 1, 1, PAGE_HYPERVISOR | _PAGE_TAG(VM_VMALLOC)) == NULL);
    EXPECT(ioremap_attr(0x09000000, 8, PAGE_HYPERVISOR_NOCACHE | _PAGE_TAG(VM_GLOBAL)) == NULL);
    vm_stats(&st);
    EXPECT_EQ(st.allocations, fx.before.allocations + 4);
out_free:
    if (g)
        unmap_domain_page_global(g);
    if (io)
        iounmap(io);
    if (m)
        vfree(m);
    if (p)
        vunmap(p);
    free_domheap_page(pg);
out:
    vmap_test_end(&fx);
}

SELFTEST(vmap, ioremap_is_device_memory)
{
    struct vmap_fixture fx;
    unsigned int level;
    uint8_t *io;

    if (!vmap_test_begin(&fx))
        return;
    /* Not page aligned, and crossing a page: two pages, the offset kept. */
    io = ioremap(0x09000ff0, 0x20);
    if (EXPECT(io)) {
        lpae_t e;

        EXPECT_EQ((vaddr_t)io & ~PAGE_MASK, 0xff0);
        EXPECT_EQ(vm_size((void *)ROUNDDOWN((vaddr_t)io, PAGE_SIZE)), 2);
        EXPECT_EQ(pt_translate((vaddr_t)io), 0x09000ff0);
        EXPECT_EQ(pt_translate((vaddr_t)io + 0x10), 0x09001000);
        e = pt_lookup((vaddr_t)io, &level);
        EXPECT_EQ(lpae_attrindx(e), MT_DEVICE);
        EXPECT(e & LPAE_XN);
        EXPECT(!(e & LPAE_AP_RO));
        EXPECT_EQ(pt_entry_tag(e), VM_IOREMAP);
        iounmap(io);
    }
    EXPECT(ioremap(0x09000000, 0) == NULL);
    /* nothing at or beyond 2^40 (the image's 32-bit frame numbers would cut it), no wrap */
    EXPECT(ioremap(0x1000009000000ULL, PAGE_SIZE) == NULL);
    EXPECT(ioremap(0xfffffff000ULL, 2 * PAGE_SIZE) == NULL);
    EXPECT(ioremap(~(paddr_t)0 - 0xfff, PAGE_SIZE) == NULL);
    io = ioremap(0xfffffff000ULL, PAGE_SIZE);       /* the last page is fine */
    if (EXPECT(io)) {
        EXPECT_EQ(pt_translate((vaddr_t)io), 0xfffffff000ULL);
        iounmap(io);
    }
    vmap_test_end(&fx);
}

/*
 * Write-combining (Normal non-cacheable) on RAM, not on a device: a page the
 * caller allocated and maps nowhere else. RAM that something maps write-back
 * (the xenheap's direct map, the heap for a free page, map_domain_page in
 * use) is refused: two mappings with mismatched attributes. A mapping this
 * CPU's mapcache only keeps cached is dropped instead.
 */
SELFTEST(vmap, write_combining_on_ram_only_where_nothing_maps_it_write_back)
{
    struct vcpu *v = current_vcpu();       /* NULL on the host: no mapcache there */
    bool was_strict = v && v->mapcache.strict;
    struct vmap_fixture fx;
    struct page_info *pg, *freed;
    uint32_t *wc, *p;
    unsigned int level;
    void *x;

    if (!vmap_test_begin(&fx))
        return;
    pg = alloc_domheap_page(NULL, 0);
    x = alloc_xenheap_page();
    if (!EXPECT(pg) || !EXPECT(x))
        goto out;
    if (v)
        mapcache_set_strict(&v->mapcache, false);     /* so that an unmap leaves it cached */
    p = map_domain_page(page_to_mfn(pg));
    p[3] = 0x3c3c3c3c;
    if (v) {
        /* In use by map_domain_page: refused. */
        EXPECT(ioremap_wc(page_to_maddr(pg), PAGE_SIZE) == NULL);
    }
    unmap_domain_page(p);
    if (v)
        EXPECT_NE(mapcache_lookup(&v->mapcache, page_to_mfn(pg)), MAPCACHE_NONE);

    wc = ioremap_wc(page_to_maddr(pg) + 8, 8);
    if (EXPECT(wc)) {
        wc -= 2;                                    /* the page's start */
        EXPECT_EQ(lpae_attrindx(pt_lookup((vaddr_t)wc, &level)), MT_NORMAL_NC);
        EXPECT_EQ(pt_translate((vaddr_t)wc), page_to_maddr(pg));
        if (v)          /* the cached write-back slot is gone */
            EXPECT_EQ(mapcache_lookup(&v->mapcache, page_to_mfn(pg)), MAPCACHE_NONE);
        EXPECT_EQ(wc[3], 0x3c3c3c3c);               /* written back before it was mapped */
        wc[4] = 0x4b4b4b4b;
        iounmap(wc + 2);
        p = map_domain_page(page_to_mfn(pg));
        EXPECT_EQ(p[4], 0x4b4b4b4b);
        unmap_domain_page(p);
    }

    /* The xenheap is always mapped write-back: neither Device nor write-combining. */
    EXPECT(ioremap_wc(__pa(x), PAGE_SIZE) == NULL);
    EXPECT(ioremap(__pa(x), PAGE_SIZE) == NULL);
    /* Write-back over write-back is no conflict. */
    wc = ioremap_attr(__pa(x), PAGE_SIZE, PAGE_HYPERVISOR_RW);
    if (EXPECT(wc))
        iounmap(wc);
    /* A free page: the heap maps it write-back to scrub it when it is handed out. */
    freed = alloc_domheap_page(NULL, 0);
    if (EXPECT(freed)) {
        paddr_t pa = page_to_maddr(freed);

        free_domheap_page(freed);
        EXPECT(ioremap_wc(pa, PAGE_SIZE) == NULL);
    }
    if (v)
        mapcache_set_strict(&v->mapcache, was_strict);
out:
    if (x)
        free_xenheap_page(x);
    if (pg)
        free_domheap_page(pg);
    vmap_test_end(&fx);
}

SELFTEST(vmap, map_domain_page_global)
{
    struct vmap_fixture fx;
    struct page_info *pg;
    uint32_t *g, *t;

    if (!vmap_test_begin(&fx))
        return;
    pg = alloc_domheap_page(NULL, 0);
    if (!EXPECT(pg))
        goto out;
    g = map_domain_page_global(page_to_mfn(pg));
    if (EXPECT(g)) {
        g[10] = 0xfeedf00d;
        t = map_domain_page(page_to_mfn(pg));
        EXPECT_EQ(t[10], 0xfeedf00d);
        t[11] = 0x0badcafe;
        unmap_domain_page(t);
        EXPECT_EQ(g[11], 0x0badcafe);
        unmap_domain_page_global(g + 11);       /* any address in the page */
        EXPECT_EQ(pt_translate((vaddr_t)g), PT_NO_PADDR);
    }
    free_domheap_page(pg);
out:
    vmap_test_end(&fx);
}

/* --- the quarantine of freed ranges (use after free) ------------------------------ */

/*
 * A freed range waits until `depth` more frees have happened, oldest first;
 * meanwhile its pages and guard are named as freed, a second free of it
 * panics, and allocations go elsewhere.
 */
SELFTEST(vmap, freed_space_waits_in_a_fifo_quarantine)
{
    struct vmap_fixture fx;
    struct vm_stats st;
    uint8_t *x, *f[4], *a = NULL, *b = NULL;
    char what[128];

    if (!vmap_test_begin(&fx))
        return;
    vm_quarantine_set(4);
    x = vm_alloc(2, 1);
    for (unsigned int i = 0; i < 4; i++)
        f[i] = vm_alloc(1, 1);
    if (!EXPECT(x && f[0] && f[1] && f[2] && f[3]))
        goto out;

    vm_free(x);                                 /* waiting: x */
    EXPECT(vm_describe(x + P(1), what, sizeof(what)));
    EXPECT(strstr(what, "page 1 of the freed 2-page allocation at"));
    EXPECT(strstr(what, "in quarantine: a use after free"));
    EXPECT(vm_describe(x + P(2), what, sizeof(what)));
    EXPECT(strstr(what, "the guard page after the freed 2-page allocation"));
    EXPECT_PANIC("already freed", vm_free(x));
    EXPECT_PANIC("already freed", vunmap(x));
    EXPECT(!vm_lock_is_held());
    a = vm_alloc(2, 1);                         /* not in x's place: after f[3] */
    EXPECT_EQ((vaddr_t)a, (vaddr_t)f[3] + P(2));

    vm_free(f[0]);
    vm_free(f[1]);
    vm_free(f[2]);                              /* waiting: x, f0, f1, f2 (full) */
    vm_stats(&st);
    EXPECT_EQ(st.quarantined, 4);
    EXPECT_EQ(st.allocations, fx.before.allocations + 2);   /* a and f[3] */
    vm_free(f[3]);                              /* x, the oldest, goes */
    vm_stats(&st);
    EXPECT_EQ(st.quarantined, 4);
    EXPECT(vm_describe(x, what, sizeof(what)));
    EXPECT(strstr(what, "free vmap space"));
    b = vm_alloc(2, 1);                         /* first fit: x's place again */
    EXPECT_EQ((vaddr_t)b, (vaddr_t)x);
    EXPECT(vm_describe(f[0], what, sizeof(what)));          /* still waiting */
    EXPECT(strstr(what, "freed 1-page allocation"));
out:
    if (a)
        vm_free(a);
    if (b)
        vm_free(b);
    vmap_test_end(&fx);
}

/*
 * With the region full, a range that waits in the quarantine is given back
 * rather than the allocation refused; its guard is still a guard.
 */
SELFTEST(vmap, a_full_region_takes_back_the_quarantine)
{
    struct vmap_fixture fx;
    struct vm_stats st;
    static uint8_t *held[160];
    unsigned int n = 0, chunk = 4096;
    uint8_t *c = NULL, *again;
    char what[128];

    if (!vmap_test_begin(&fx))
        return;
    vm_quarantine_set(4);
    /* Fill: chunks of 4096 pages while they fit, then smaller, down to one page. */
    while (chunk > 0 && n < ARRAY_SIZE(held)) {
        uint8_t *p = vm_alloc(chunk, 1);

        if (p)
            held[n++] = p;
        else
            chunk /= 2;
    }
    if (!EXPECT(chunk == 0)) {
        selftest_diag("the region did not fill within %u allocations", n);
        goto out;
    }
    EXPECT(vm_alloc(1, 1) == NULL);
    for (unsigned int i = 0; i < n; i++) {
        if (vm_size(held[i]) == 4096) {
            c = held[i];
            held[i] = NULL;
            break;
        }
    }
    if (!EXPECT(c))
        goto out;

    vm_free(c);                                 /* it waits; nothing else is free */
    vm_stats(&st);
    EXPECT_EQ(st.quarantined, 1);
    again = vm_alloc(4096, 1);
    EXPECT_EQ((vaddr_t)again, (vaddr_t)c);      /* the quarantine gave it back */
    vm_stats(&st);
    EXPECT_EQ(st.quarantined, 0);
    EXPECT(vm_describe(c + P(4096), what, sizeof(what)));
    EXPECT(strstr(what, "the guard page after the 4096-page allocation"));
    EXPECT(vm_alloc(1, 1) == NULL);             /* and the region is full again */
    if (again)
        vm_free(again);
out:
    while (n > 0)
        if (held[--n])
            vm_free(held[n]);
    vmap_test_end(&fx);
}
