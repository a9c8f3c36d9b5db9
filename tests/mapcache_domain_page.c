/*
 * map_domain_page() in the image: the current VCPU's window, through the
 * real MMU. A frame written through its xenheap address reads the same
 * through its map_domain_page() address; contents survive a remap; the
 * hardware translates the slot to the frame; in debug builds an access
 * after the last unmap faults. (The host has no per-VCPU window: its
 * map_domain_page() is the RAM arena, and the slot algorithm is tested
 * through the mapcache API in mapcache_basic.c.)
 */
#ifdef CONFIG_ARM32
#include <asm/pgtable.h>
#include <asm/smp.h>
#include <asm/traps.h>
#include <domain/vcpu.h>
#include <lib/lib.h>
#include <mm/domain_page.h>
#include <mm/mapcache.h>
#include <mm/mm.h>
#include <mm/page_alloc.h>
#include <mm/vmap.h>
#include <test/selftest.h>

static bool have_window(void)
{
    return EXPECT(current_vcpu() != NULL);
}

SELFTEST(mapcache_image, reaches_the_frame)
{
    volatile uint32_t *x, *p;
    mfn_t mfn;

    if (!have_window())
        return;
    x = alloc_xenheap_page();
    if (!EXPECT(x != NULL))
        return;
    mfn = virt_to_mfn((void *)x);
    x[0] = 0x11223344;
    x[1023] = 0x55667788;
    p = map_domain_page(mfn);
    EXPECT(mapcache_va_in_window((vaddr_t)p));
    EXPECT_EQ(arch_translate_va((vaddr_t)&p[5]), mfn_to_paddr(mfn) + 20);
    EXPECT_EQ(mfn_x(domain_page_map_to_mfn((const void *)&p[77])), mfn_x(mfn));
    EXPECT_EQ(p[0], 0x11223344);
    EXPECT_EQ(p[1023], 0x55667788);
    p[1] = 0xa5a5f00d;
    EXPECT_EQ(x[1], 0xa5a5f00d);                  /* two aliases of one frame */
    unmap_domain_page((const void *)p);
    free_xenheap_page((void *)x);
}

SELFTEST(mapcache_image, contents_survive_remap)
{
    struct page_info *pg = alloc_domheap_page(NULL, 0);
    uint32_t *p, *q, *r;
    mfn_t mfn;
    bool ok = true;

    if (!have_window() || !EXPECT(pg != NULL))
        return;
    mfn = page_to_mfn(pg);
    p = map_domain_page(mfn);
    for (unsigned int i = 0; i < PAGE_SIZE / 4; i++)
        p[i] = i * 0x9e3779b1u ^ (uint32_t)mfn_x(mfn);
    unmap_domain_page(p);
    q = map_domain_page(mfn);
    r = map_domain_page(mfn);                     /* nested: the same address */
    EXPECT_EQ((vaddr_t)r, (vaddr_t)q);
    for (unsigned int i = 0; i < PAGE_SIZE / 4 && ok; i++)
        ok &= EXPECT_EQ(r[i], i * 0x9e3779b1u ^ (uint32_t)mfn_x(mfn));
    unmap_domain_page(r);
    unmap_domain_page(q);
    free_domheap_page(pg);
}

SELFTEST(mapcache_image, two_frames_two_addresses)
{
    struct page_info *pg = alloc_domheap_pages(NULL, 1, 0);
    uint32_t *a, *b;

    if (!have_window() || !EXPECT(pg != NULL))
        return;
    a = map_domain_page(page_to_mfn(pg));
    b = map_domain_page(mfn_add(page_to_mfn(pg), 1));
    EXPECT_NE((vaddr_t)a, (vaddr_t)b);
    a[0] = 1;
    b[0] = 2;
    EXPECT_EQ(a[0], 1);
    EXPECT_EQ(arch_translate_va((vaddr_t)b), page_to_maddr(pg) + PAGE_SIZE);
    unmap_domain_page(a);
    unmap_domain_page(b);
    free_domheap_pages(pg, 1);
}

/*
 * The hit through the API, on this CPU's VCPU: map_domain_page finds the
 * mapcache from HTPIDR, and a frame already mapped costs no TLB
 * invalidation (arch_mapcache_clear counts each TLBIMVAH it issues) and
 * leaves its entry as it was.
 */
SELFTEST(mapcache_image, hit_does_no_tlb_maintenance)
{
    struct page_info *pg = alloc_domheap_page(NULL, 0);
    struct vcpu *v = current_vcpu();
    unsigned long flushes;
    uint32_t *outer;
    lpae_t entry;
    bool ok = true;

    if (!have_window() || !EXPECT(pg != NULL))
        return;
    EXPECT(this_pcpu()->mapcache == &v->mapcache);
    outer = map_domain_page(page_to_mfn(pg));
    entry = read_pte(&v->arch.third[mapcache_va_slot((vaddr_t)outer)]);
    flushes = v->arch.tlb_flushes;
    for (unsigned int i = 0; i < 1000 && ok; i++) {
        uint32_t *p = map_domain_page(page_to_mfn(pg));

        ok &= EXPECT_EQ((vaddr_t)p, (vaddr_t)outer);
        p[i] = i;
        unmap_domain_page(p);
    }
    EXPECT_EQ(v->arch.tlb_flushes, flushes);
    EXPECT_EQ(read_pte(&v->arch.third[mapcache_va_slot((vaddr_t)outer)]), entry);
    EXPECT_EQ(outer[999], 999);
    unmap_domain_page(outer);
    free_domheap_page(pg);
}

/* What a CPU without a VCPU points to: every lookup misses, and it stays empty. */
SELFTEST(mapcache_image, no_vcpu_mapcache_never_hits)
{
    struct mapcache *mc = &mapcache_of_no_vcpu;

    EXPECT_EQ(mapcache_map_hit(mc, _mfn(0)), 0);
    EXPECT_EQ(mapcache_map_hit(mc, page_to_mfn(frame_table)), 0);
    EXPECT(!mapcache_unmap_hit(mc, MAPCACHE_VIRT_START));
    EXPECT(!mapcache_unmap_hit(mc, mapcache_slot_va(MAPCACHE_SLOTS - 1)));
    EXPECT_EQ(mapcache_map_hit(mc, INVALID_MFN), 0);   /* the sentinel */
    EXPECT_EQ(mapcache_nr_in_use(mc) + mapcache_nr_cached(mc), 0);
    EXPECT_EQ(mapcache_check(mc), 0);
    for (unsigned int i = 0; i < NR_CPUS; i++)
        if (pcpu[i].online && EXPECT(pcpu[i].current != NULL))
            EXPECT(pcpu[i].mapcache == &pcpu[i].current->mapcache);
}

SELFTEST(mapcache_image, access_after_unmap)
{
    struct page_info *pg = alloc_domheap_page(NULL, 0);
    uint32_t *p, v = 0;

    if (!have_window() || !EXPECT(pg != NULL))
        return;
    p = map_domain_page(page_to_mfn(pg));
    p[3] = 0x600df00d;
    unmap_domain_page(p);
#ifdef CONFIG_DEBUG
    /* Strict: the entry and its TLB entry went with the last unmap. */
    EXPECT_EQ(arch_probe_read32(&p[3], &v), -14);
    EXPECT_EQ(arch_translate_va((vaddr_t)p), ~(paddr_t)0);
#else
    /* Caching: the slot still maps the frame until it is evicted. */
    EXPECT_EQ(arch_probe_read32(&p[3], &v), 0);
    EXPECT_EQ(v, 0x600df00d);
#endif
    free_domheap_page(pg);
}

/* domain_page_map_to_mfn also answers for map_domain_page_global (vmap) addresses. */
SELFTEST(mapcache_image, map_to_mfn_of_global_mapping)
{
    struct page_info *pg = alloc_domheap_page(NULL, 0);
    struct vm_stats st;
    uint8_t *g, *l;

    if (!EXPECT(pg != NULL))
        return;
    vm_stats(&st);
    if (!EXPECT(st.bitmap_mapped > 0)) {
        selftest_diag("the vmap region is not set up: vm_init() must run at boot");
        free_domheap_page(pg);
        return;
    }
    g = map_domain_page_global(page_to_mfn(pg));
    l = map_domain_page(page_to_mfn(pg));
    if (EXPECT(g != NULL)) {
        EXPECT(!mapcache_va_in_window((vaddr_t)g));
        EXPECT_EQ(mfn_x(domain_page_map_to_mfn(g + 0x234)), mfn_x(page_to_mfn(pg)));
        g[5] = 0x5a;
        EXPECT_EQ(l[5], 0x5a);                    /* the same frame, two mappings */
        unmap_domain_page_global(g);
    }
    unmap_domain_page(l);
    free_domheap_page(pg);
}

SELFTEST(mapcache_image, misuse_reported)
{
    char want[48];
    unsigned int unused = 0;
    struct mapcache *mc;

    unmap_domain_page(NULL);                      /* allowed, as in Xen */
    if (!have_window())
        return;
    mc = &current_vcpu()->mapcache;
    while (mc->slot[unused].count)                /* a slot nobody up the stack holds */
        unused++;
    fmt_snprintf(want, sizeof(want), "unmap_domain_page(0x%lx)",
                 (unsigned long)mapcache_slot_va(unused));
    EXPECT_PANIC(want, unmap_domain_page((void *)mapcache_slot_va(unused)));
    EXPECT_PANIC("unmap_domain_page(0x80400000)", unmap_domain_page((void *)0x80400000));
    EXPECT_PANIC("map_domain_page(mfn 0x9000): pa 0x9000000 is not RAM",
                 map_domain_page(_mfn(0x9000)));
    EXPECT_PANIC("domain_page_map_to_mfn(0x1000): not a map_domain_page or vmap address",
                 domain_page_map_to_mfn((void *)0x1000));
    EXPECT_EQ(mapcache_check(mc), 0);
}
#endif
