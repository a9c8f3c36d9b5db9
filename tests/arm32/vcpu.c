/*
 * "The page is then accessible within the current VCPU until a corresponding
 * unmap call": the tests that make that sentence literal, with real CPUs,
 * real page tables and real TLBs.
 *
 *  - two VCPUs on one CPU see their own frame at the same address;
 *  - a VCPU that moves to another CPU takes its mappings with it;
 *  - what one CPU maps is not reachable from another;
 *  - a VCPU another CPU runs cannot be destroyed or have its slots cleared
 *    from here (the clearing's TLB invalidation is local);
 *  - an initrd_load-style copy into domheap frames above 4 GiB, a page at
 *    a time through map_domain_page;
 *  - every CPU at once allocating, mapping, writing, checking, unmapping
 *    and freeing, and the heap whole at the end.
 */
#include <asm/pgtable.h>
#include <asm/smp.h>
#include <domain/vcpu.h>
#include <lib/lib.h>
#include <mm/domain_page.h>
#include <mm/mm.h>
#include <mm/page_alloc.h>
#include <string.h>
#include <test/selftest.h>

static struct vcpu vcpu_a, vcpu_b;

static struct page_info *alloc_filled(uint32_t pattern)
{
    struct page_info *pg = alloc_domheap_pages(NULL, 0, 0);
    uint32_t *p;

    if (!pg)
        return NULL;
    p = map_domain_page(page_to_mfn(pg));
    for (unsigned int i = 0; i < PAGE_SIZE / 4; i++)
        p[i] = pattern ^ i;
    unmap_domain_page(p);
    return pg;
}

static bool holds(const uint32_t *p, uint32_t pattern)
{
    for (unsigned int i = 0; i < PAGE_SIZE / 4; i++)
        if (p[i] != (pattern ^ i))
            return false;
    return true;
}

SELFTEST(vcpu, two_vcpus_on_one_cpu_see_their_own_frame)
{
    struct vcpu *idle = current_vcpu();
    struct page_info *pa = alloc_filled(0xaaaa0000), *pb = alloc_filled(0xbbbb0000);
    uint32_t *va_a, *va_b;

    if (!EXPECT(pa && pb) || !EXPECT_EQ(vcpu_init(&vcpu_a, 1, NULL), 0))
        goto out_pages;
    if (!EXPECT_EQ(vcpu_init(&vcpu_b, 2, NULL), 0))
        goto out_a;

    vcpu_switch_to(&vcpu_a);
    EXPECT(this_pcpu()->mapcache == &vcpu_a.mapcache);  /* what map_domain_page reads */
    va_a = map_domain_page(page_to_mfn(pa));
    vcpu_switch_to(&vcpu_b);
    EXPECT(this_pcpu()->mapcache == &vcpu_b.mapcache);
    va_b = map_domain_page(page_to_mfn(pb));
    /* Both fresh VCPUs used their first slot: the same VA, two frames. */
    EXPECT_EQ((uintptr_t)va_a, (uintptr_t)va_b);
    for (unsigned int round = 0; round < 3; round++) {
        vcpu_switch_to(&vcpu_a);
        EXPECT(holds(va_a, 0xaaaa0000));
        EXPECT_EQ(mfn_x(domain_page_map_to_mfn(va_a)), mfn_x(page_to_mfn(pa)));
        vcpu_switch_to(&vcpu_b);
        EXPECT(holds(va_b, 0xbbbb0000));
        EXPECT_EQ(mfn_x(domain_page_map_to_mfn(va_b)), mfn_x(page_to_mfn(pb)));
    }
    unmap_domain_page(va_b);
    vcpu_switch_to(&vcpu_a);
    unmap_domain_page(va_a);
    vcpu_switch_to(idle);
    vcpu_destroy(&vcpu_b);
out_a:
    vcpu_destroy(&vcpu_a);
out_pages:
    if (pa)
        free_domheap_pages(pa, 0);
    if (pb)
        free_domheap_pages(pb, 0);
}

struct move_ctx {
    struct vcpu *v;
    uint32_t *va;
    uint32_t pattern;
    bool seen;
    paddr_t translation;
};

static void read_as_vcpu(unsigned int cpu, void *arg)
{
    struct move_ctx *m = arg;
    struct vcpu *idle = current_vcpu();

    (void)cpu;
    vcpu_switch_to(m->v);
    m->seen = holds(m->va, m->pattern);
    unmap_domain_page(m->va);          /* the unmap happens on the new CPU */
    vcpu_switch_to(idle);
}

static unsigned int other_cpu(void)
{
    for (unsigned int i = 0; i < NR_CPUS; i++)
        if (pcpu[i].online && i != smp_processor_id())
            return i;
    return NR_CPUS;
}

SELFTEST(vcpu, a_vcpu_moved_to_another_cpu_keeps_its_mappings)
{
    unsigned int cpu = other_cpu();
    struct vcpu *idle = current_vcpu();
    struct move_ctx m = { .v = &vcpu_a, .pattern = 0x5eed0000 };
    struct page_info *pg;

    if (cpu == NR_CPUS) {
        selftest_skip("needs a second CPU (boot with SMP=2 or more)");
        return;
    }
    pg = alloc_filled(m.pattern);
    if (!EXPECT(pg) || !EXPECT_EQ(vcpu_init(&vcpu_a, 1, NULL), 0))
        goto out;
    vcpu_switch_to(&vcpu_a);
    m.va = map_domain_page(page_to_mfn(pg));
    vcpu_switch_to(idle);               /* leave this CPU... */
    smp_call_on(cpu, read_as_vcpu, &m); /* ...and run on the other one */
    EXPECT(m.seen);
    vcpu_destroy(&vcpu_a);
out:
    if (pg)
        free_domheap_pages(pg, 0);
}

static void install_there(unsigned int cpu, void *arg)
{
    (void)cpu;
    vcpu_switch_to(arg ? arg : this_pcpu()->idle);
}

/*
 * A VCPU that another CPU runs: this CPU must not clear its slots (its local
 * TLBIMVAH would leave the other CPU's TLB stale) nor free its tables. Both
 * are refused before anything changes; the cached slot still maps its frame.
 */
SELFTEST(vcpu, no_clearing_of_a_vcpu_installed_on_another_cpu)
{
    unsigned int cpu = other_cpu();
    struct page_info *pg;
    lpae_t slot_entry;
    uint32_t *va;

    if (cpu == NR_CPUS) {
        selftest_skip("needs a second CPU (boot with SMP=2 or more)");
        return;
    }
    pg = alloc_filled(0xc0de0000);
    if (!EXPECT(pg) || !EXPECT_EQ(vcpu_init(&vcpu_a, 1, NULL), 0))
        goto out;
    mapcache_set_strict(&vcpu_a.mapcache, false);   /* installed nowhere: allowed */
    va = (uint32_t *)mapcache_map(&vcpu_a.mapcache, page_to_mfn(pg));
    mapcache_unmap(&vcpu_a.mapcache, (vaddr_t)va);  /* cached: the entry stays */
    slot_entry = read_pte(&vcpu_a.arch.third[mapcache_va_slot((vaddr_t)va)]);
    EXPECT(pte_valid(slot_entry));

    smp_call_on(cpu, install_there, &vcpu_a);
    EXPECT_PANIC("vcpu_destroy: idle-v1 is still installed on cpu", vcpu_destroy(&vcpu_a));
    EXPECT_PANIC("mapcache_set_strict: idle-v1 is installed on cpu",
                 mapcache_set_strict(&vcpu_a.mapcache, true));
    EXPECT_EQ(read_pte(&vcpu_a.arch.third[mapcache_va_slot((vaddr_t)va)]), slot_entry);
    EXPECT_EQ(mapcache_nr_cached(&vcpu_a.mapcache), 1);
    smp_call_on(cpu, install_there, NULL);          /* back to its idle VCPU */
    vcpu_destroy(&vcpu_a);
out:
    if (pg)
        free_domheap_pages(pg, 0);
}

static void translate_there(unsigned int cpu, void *arg)
{
    struct move_ctx *m = arg;

    (void)cpu;
    m->translation = arch_translate_va((vaddr_t)m->va);
}

SELFTEST(vcpu, a_mapping_on_one_cpu_is_not_visible_on_another)
{
    unsigned int cpu = other_cpu();
    struct move_ctx m = { 0 };
    struct page_info *pg;

    if (cpu == NR_CPUS) {
        selftest_skip("needs a second CPU (boot with SMP=2 or more)");
        return;
    }
    pg = alloc_filled(0x0b5e0000);
    if (!EXPECT(pg))
        return;
    m.va = map_domain_page(page_to_mfn(pg));
    EXPECT_EQ(arch_translate_va((vaddr_t)m.va), page_to_maddr(pg));
    smp_call_on(cpu, translate_there, &m);
    /* There: a fault, or whatever that CPU's own VCPU keeps in the slot. */
    EXPECT_NE(m.translation, page_to_maddr(pg));
    unmap_domain_page(m.va);
    free_domheap_pages(pg, 0);
}

/*
 * Xen's initrd_load, the seed's example: copy a blob to a guest address a
 * piece at a time, each piece through a fresh map_domain_page of the frame
 * it lands in, starting at an offset inside the first frame.
 */
#define BLOB_LEN (5 * PAGE_SIZE + 123)
#define LOAD_OFFSET 0x234               /* into the first frame */
static uint8_t blob[BLOB_LEN];

SELFTEST(vcpu, initrd_load_style_copy_above_4g)
{
    struct page_info *dst = alloc_domheap_pages(NULL, 3, 0);   /* 8 frames */
    size_t offs;
    bool above_4g;

    if (!EXPECT(dst))
        return;
    above_4g = page_to_maddr(dst) >= ((paddr_t)1 << 32);
    if (!above_4g)
        selftest_diag("no RAM above 4 GiB here: the copy lands at 0x%llx",
                      (unsigned long long)page_to_maddr(dst));
    for (size_t i = 0; i < BLOB_LEN; i++)
        blob[i] = (uint8_t)(i * 7 + (i >> 8));

    for (offs = 0; offs < BLOB_LEN;) {
        size_t at = LOAD_OFFSET + offs;
        size_t s = at & (PAGE_SIZE - 1);
        size_t l = min(PAGE_SIZE - s, BLOB_LEN - offs);
        uint8_t *page = map_domain_page(mfn_add(page_to_mfn(dst), at / PAGE_SIZE));

        memcpy(page + s, blob + offs, l);
        unmap_domain_page(page);
        offs += l;
    }
    /* Verify byte for byte, again through map_domain_page. */
    for (offs = 0; offs < BLOB_LEN; offs++) {
        size_t at = LOAD_OFFSET + offs;
        const uint8_t *page = map_domain_page(mfn_add(page_to_mfn(dst), at / PAGE_SIZE));
        bool same = page[at & (PAGE_SIZE - 1)] == blob[offs];

        unmap_domain_page(page);
        if (!EXPECT(same)) {
            selftest_diag("first difference at blob offset %zu", offs);
            break;
        }
    }
    free_domheap_pages(dst, 3);
}

/* --- every CPU at once -------------------------------------------------- */
#define STRESS_ROUNDS 150
static unsigned int stress_mismatches, stress_failed_allocs;
static unsigned int stress_arrived;

static void stress(unsigned int cpu, void *arg)
{
    (void)arg;
    smp_rendezvous(&stress_arrived);
    for (unsigned int r = 0; r < STRESS_ROUNDS; r++) {
        unsigned int order = r % 3;
        struct page_info *pg = alloc_domheap_pages(NULL, order, 0);
        uint32_t tag = (cpu << 24) | (r << 4);

        if (!pg) {
            __atomic_fetch_add(&stress_failed_allocs, 1, __ATOMIC_RELAXED);
            continue;
        }
        for (unsigned int i = 0; i < (1u << order); i++) {
            uint32_t *p = map_domain_page(mfn_add(page_to_mfn(pg), i));
            for (unsigned int w = 0; w < PAGE_SIZE / 4; w += 16)
                p[w] = tag + i + w;
            unmap_domain_page(p);
        }
        for (unsigned int i = 0; i < (1u << order); i++) {
            const uint32_t *p = map_domain_page(mfn_add(page_to_mfn(pg), i));
            for (unsigned int w = 0; w < PAGE_SIZE / 4; w += 16)
                if (p[w] != tag + i + w) {
                    __atomic_fetch_add(&stress_mismatches, 1, __ATOMIC_RELAXED);
                    break;
                }
            unmap_domain_page(p);
        }
        free_domheap_pages(pg, order);
    }
}

SELFTEST(vcpu, every_cpu_maps_and_frees_at_once)
{
    unsigned long before = heap_free_pages();

    stress_mismatches = stress_failed_allocs = stress_arrived = 0;
    smp_call_all(stress, NULL);
    selftest_diag("%u CPUs x %u rounds of alloc, map, write, check, unmap, free",
                  nr_online_cpus, STRESS_ROUNDS);
    EXPECT_EQ(stress_mismatches, 0);
    EXPECT_EQ(stress_failed_allocs, 0);
    EXPECT_EQ(heap_free_pages(), before);
    EXPECT_EQ(heap_check(), 0);
}
