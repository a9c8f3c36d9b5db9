/*
 * Page-table updates and the vmap region through the real MMU: what the
 * software walk (pt_lookup) says must be what the hardware does. Reads,
 * writes and instruction fetches go through the fault-tolerant probes, and
 * every fault is checked for its class, kind, level and address; the level
 * must be the one where the software walk stops too.
 */
#include <asm/cache.h>
#include <asm/layout.h>
#include <asm/pgtable.h>
#include <asm/smp.h>
#include <asm/sysregs.h>
#include <asm/traps.h>
#include <lib/lib.h>
#include <mm/domain_page.h>
#include <mm/mm.h>
#include <mm/page_alloc.h>
#include <mm/pt.h>
#include <mm/vmap.h>
#include <string.h>
#include <test/selftest.h>

#include "../vmap_test.h"

#define WNR (1u << 6)   /* HSR ISS: the abort was a write */

static bool faulted_at(uint32_t ec, uint32_t fsc_type, vaddr_t far)
{
    uint32_t fsc = last_fault.hsr & 0x3f;
    unsigned int level;
    bool ok = true;

    ok &= EXPECT_EQ(HSR_EC(last_fault.hsr), ec);
    ok &= EXPECT_EQ(FSC_TYPE(fsc), fsc_type);
    ok &= EXPECT_EQ(ec == HSR_EC_DABT_HYP ? last_fault.hdfar : last_fault.hifar, far);
    if (fsc_type == FSC_TRANSLATION) {
        /* The hardware stopped where the software walk stops. */
        pt_lookup(far, &level);
        ok &= EXPECT_EQ(FSC_LEVEL(fsc), level);
    }
    return ok;
}

/* The PAR after a Hyp read translation: bits [63:56] are the HMAIR byte used. */
static uint64_t par_of(vaddr_t va)
{
    WRITE_CP32(va, ATS1HR);
    isb();
    return READ_CP64(PAR);
}

SELFTEST(vmap_mmu, map_read_modify_unmap)
{
    struct vmap_fixture fx;
    struct page_info *pg;
    uint32_t *direct, v = 0;
    vaddr_t va = 0;
    paddr_t pa;

    if (!vmap_test_begin(&fx))
        return;
    pg = alloc_domheap_page(NULL, 0);
    if (!EXPECT(pg))
        goto out;
    pa = page_to_maddr(pg);
    direct = map_domain_page(page_to_mfn(pg));
    direct[0] = 0x600dcafe;
    unmap_domain_page(direct);

    va = (vaddr_t)vm_alloc(1, 1);
    if (!EXPECT(va))
        goto out;
    EXPECT_EQ(map_pages_to_xen(va, page_to_mfn(pg), 1, PAGE_HYPERVISOR_RW), 0);
    EXPECT_EQ(arch_translate_va(va + 0x10), pa + 0x10);
    EXPECT_EQ(pt_translate(va + 0x10), pa + 0x10);
    EXPECT_EQ(par_of(va) >> 56, 0xff);                  /* Normal write-back */

    /* Two aliases of one frame. */
    EXPECT_EQ(arch_probe_read32((void *)va, &v), 0);
    EXPECT_EQ(v, 0x600dcafe);
    EXPECT_EQ(arch_probe_write32((void *)(va + 4), 0x1234abcd), 0);
    direct = map_domain_page(page_to_mfn(pg));
    EXPECT_EQ(direct[1], 0x1234abcd);
    unmap_domain_page(direct);

    /* Read-only: reads work, writes fault as permission faults. */
    EXPECT_EQ(modify_xen_mappings(va, va + PAGE_SIZE, PAGE_HYPERVISOR_RO), 0);
    EXPECT_EQ(arch_probe_write32((void *)(va + 8), 1), -14);
    faulted_at(HSR_EC_DABT_HYP, FSC_PERMISSION, va + 8);
    EXPECT(last_fault.hsr & WNR);
    EXPECT_EQ(arch_probe_read32((void *)(va + 4), &v), 0);
    EXPECT_EQ(v, 0x1234abcd);
    /* And back. */
    EXPECT_EQ(modify_xen_mappings(va, va + PAGE_SIZE, PAGE_HYPERVISOR_RW), 0);
    EXPECT_EQ(arch_probe_write32((void *)(va + 8), 2), 0);

    /* Unmapped: a translation fault. */
    EXPECT_EQ(destroy_xen_mappings(va, va + PAGE_SIZE), 0);
    EXPECT_EQ(arch_translate_va(va), PT_NO_PADDR);
    EXPECT_EQ(arch_probe_read32((void *)va, &v), -14);
    faulted_at(HSR_EC_DABT_HYP, FSC_TRANSLATION, va);
out:
    if (va)
        vm_free((void *)va);
    if (pg)
        free_domheap_page(pg);
    vmap_test_end(&fx);
}

SELFTEST(vmap_mmu, guard_page_faults)
{
    struct vmap_fixture fx;
    uint32_t *p, v;
    char what[96];

    if (!vmap_test_begin(&fx))
        return;
    p = vmalloc(2 * PAGE_SIZE);
    if (EXPECT(p)) {
        vaddr_t guard = (vaddr_t)p + 2 * PAGE_SIZE;

        p[0] = 1;
        p[2 * PAGE_SIZE / 4 - 1] = 2;                   /* the last word is mapped */
        EXPECT_EQ(arch_probe_read32((void *)guard, &v), -14);
        faulted_at(HSR_EC_DABT_HYP, FSC_TRANSLATION, guard);
        EXPECT_EQ(arch_probe_write32((void *)(guard + 0x20), 3), -14);
        faulted_at(HSR_EC_DABT_HYP, FSC_TRANSLATION, guard + 0x20);
        EXPECT(vm_describe((void *)last_fault.hdfar, what, sizeof(what)));
        EXPECT(strstr(what, "guard page after the 2-page allocation"));
        vfree(p);
        /* After vfree, the pages are gone from the TLB too. */
        EXPECT_EQ(arch_probe_read32(p, &v), -14);
        faulted_at(HSR_EC_DABT_HYP, FSC_TRANSLATION, (vaddr_t)p);
    }
    vmap_test_end(&fx);
}

SELFTEST(vmap_mmu, block_mapping_and_split)
{
    struct vmap_fixture fx;
    struct page_info *pg = NULL;
    static const unsigned int probe_pages[] = { 0, 1, 299, 300, 301, 511 };
    vaddr_t va = 0;
    paddr_t pa;
    uint32_t v;

    if (!vmap_test_begin(&fx))
        return;
    va = (vaddr_t)vm_alloc(PT_BLOCK_PAGES, PT_BLOCK_PAGES);
    pg = alloc_domheap_pages(NULL, 9, MEMF_no_scrub);
    if (!EXPECT(va) || !EXPECT(pg))
        goto out;
    pa = page_to_maddr(pg);
    for (unsigned int i = 0; i < ARRAY_SIZE(probe_pages); i++) {
        uint32_t *d = map_domain_page(mfn_add(page_to_mfn(pg), probe_pages[i]));

        d[5] = 0xb10c0000 + probe_pages[i];
        unmap_domain_page(d);
    }
    EXPECT_EQ(map_pages_to_xen(va, page_to_mfn(pg), PT_BLOCK_PAGES, PAGE_HYPERVISOR | _PAGE_BLOCK), 0);
    EXPECT_EQ(arch_translate_va(va + 0x123458), pa + 0x123458);
    for (unsigned int i = 0; i < ARRAY_SIZE(probe_pages); i++) {
        EXPECT_EQ(arch_probe_read32((void *)(va + probe_pages[i] * PAGE_SIZE + 20), &v), 0);
        EXPECT_EQ(v, 0xb10c0000 + probe_pages[i]);
    }

    /* Unmapping one page splits the block; only that page faults. */
    EXPECT_EQ(destroy_xen_mappings(va + 300 * PAGE_SIZE, va + 301 * PAGE_SIZE), 0);
    EXPECT_EQ(arch_probe_read32((void *)(va + 300 * PAGE_SIZE + 20), &v), -14);
    faulted_at(HSR_EC_DABT_HYP, FSC_TRANSLATION, va + 300 * PAGE_SIZE + 20);
    EXPECT_EQ(FSC_LEVEL(last_fault.hsr & 0x3f), 3);
    for (unsigned int i = 0; i < ARRAY_SIZE(probe_pages); i++) {
        if (probe_pages[i] == 300)
            continue;
        EXPECT_EQ(arch_probe_read32((void *)(va + probe_pages[i] * PAGE_SIZE + 20), &v), 0);
        EXPECT_EQ(v, 0xb10c0000 + probe_pages[i]);
        EXPECT_EQ(arch_translate_va(va + probe_pages[i] * PAGE_SIZE),
                  pa + probe_pages[i] * PAGE_SIZE);
    }
    EXPECT_EQ(destroy_xen_mappings(va, va + PT_BLOCK_SIZE), 0);
    EXPECT_EQ(arch_probe_read32((void *)va, &v), -14);
    faulted_at(HSR_EC_DABT_HYP, FSC_TRANSLATION, va);
    EXPECT_EQ(FSC_LEVEL(last_fault.hsr & 0x3f), 2);     /* the emptied table was freed */
out:
    if (va)
        vm_free((void *)va);
    if (pg)
        free_domheap_pages(pg, 9);
    vmap_test_end(&fx);
}

/* PL011 identification registers (PL011 TRM, 3.3): fixed values any PL011 returns. */
#define UARTPERIPHID0 0xfe0
#define UARTPCELLID0  0xff0

SELFTEST(vmap_mmu, ioremap_reaches_the_uart)
{
    struct vmap_fixture fx;
    uint8_t *io;
    uint32_t v = 0;

    if (!vmap_test_begin(&fx))
        return;
    io = ioremap(EARLY_UART_PA, PAGE_SIZE);
    if (EXPECT(io)) {
        EXPECT_EQ(arch_translate_va((vaddr_t)io), EARLY_UART_PA);
        EXPECT_EQ(par_of((vaddr_t)io) >> 56, 0x04);     /* HMAIR0's Device byte */
        EXPECT_EQ(arch_probe_read32(io + UARTPERIPHID0, &v), 0);
        EXPECT_EQ(v & 0xff, 0x11);
        EXPECT_EQ(arch_probe_read32(io + UARTPCELLID0, &v), 0);
        EXPECT_EQ(v & 0xff, 0x0d);
        iounmap(io + UARTPCELLID0);
        EXPECT_EQ(arch_probe_read32(io + UARTPERIPHID0, &v), -14);
        faulted_at(HSR_EC_DABT_HYP, FSC_TRANSLATION, (vaddr_t)io + UARTPERIPHID0);
    }
    vmap_test_end(&fx);
}

/* Write-combining goes on RAM (a page nothing else maps), never over the live UART. */
SELFTEST(vmap_mmu, write_combining_ram_through_the_mmu)
{
    struct vmap_fixture fx;
    struct page_info *pg;
    uint32_t *wc, *d, v = 0;

    if (!vmap_test_begin(&fx))
        return;
    pg = alloc_domheap_page(NULL, 0);
    if (!EXPECT(pg))
        goto out;
    d = map_domain_page(page_to_mfn(pg));
    d[0] = 0x0dd0beef;
    unmap_domain_page(d);
    wc = ioremap_wc(page_to_maddr(pg), PAGE_SIZE);
    if (EXPECT(wc)) {
        EXPECT_EQ(par_of((vaddr_t)wc) >> 56, 0x44);    /* HMAIR0's Normal non-cacheable byte */
        EXPECT_EQ(arch_probe_read32(wc, &v), 0);
        EXPECT_EQ(v, 0x0dd0beef);
        EXPECT_EQ(arch_probe_write32(wc + 1, 0xfeedface), 0);
        iounmap(wc);
        d = map_domain_page(page_to_mfn(pg));
        EXPECT_EQ(d[1], 0xfeedface);
        unmap_domain_page(d);
    }
    free_domheap_page(pg);
out:
    vmap_test_end(&fx);
}

/* A function in a page we map ourselves: "mov r0, #42; bx lr". */
static const uint32_t return_42[] = { 0xe3a0002a, 0xe12fff1e };

SELFTEST(vmap_mmu, execute_only_where_allowed)
{
    struct vmap_fixture fx;
    struct page_info *pg;
    uint32_t *code;
    void *rx, *rw;
    mfn_t mfn;

    if (!vmap_test_begin(&fx))
        return;
    pg = alloc_domheap_page(NULL, 0);
    if (!EXPECT(pg))
        goto out;
    mfn = page_to_mfn(pg);
    code = map_domain_page(mfn);
    memcpy(code, return_42, sizeof(return_42));
    /* Instructions written as data: to the point of unification, then no stale I-cache. */
    sync_code_for_all_cpus(code, sizeof(return_42));
    unmap_domain_page(code);

    rx = __vmap(&mfn, 1, 1, 1, PAGE_HYPERVISOR_RX);
    rw = __vmap(&mfn, 1, 1, 1, PAGE_HYPERVISOR_RW);
    EXPECT(__vmap(&mfn, 1, 1, 1, MT_NORMAL) == NULL);   /* W+X: refused */
    if (EXPECT(rx) && EXPECT(rw)) {
        EXPECT_EQ(arch_probe_exec((void (*)(void))rx), 0);
        EXPECT_EQ(((uint32_t (*)(void))rx)(), 42);
        EXPECT_EQ(arch_probe_exec((void (*)(void))rw), -14);
        faulted_at(HSR_EC_IABT_HYP, FSC_PERMISSION, (vaddr_t)rw);
        EXPECT_EQ(arch_probe_write32(rx, 0), -14);      /* and RX is not writable */
        faulted_at(HSR_EC_DABT_HYP, FSC_PERMISSION, (vaddr_t)rx);
    }
    if (rx)
        vunmap(rx);
    if (rw)
        vunmap(rw);
    free_domheap_page(pg);
out:
    vmap_test_end(&fx);
}

/* "mov r0, #imm8; bx lr" */
static void write_return(uint32_t *code, uint8_t value)
{
    code[0] = 0xe3a00000u | value;
    code[1] = 0xe12fff1eu;
}

struct remote_code {
    void *rx;
    int probe;
    uint32_t result;
};

static void run_code_there(unsigned int cpu, void *arg)
{
    struct remote_code *c = arg;

    (void)cpu;
    /* Instructions this CPU fetched before the invalidation are not affected by it. */
    isb();
    c->probe = arch_probe_exec((void (*)(void))c->rx);
    c->result = c->probe == 0 ? ((uint32_t (*)(void))c->rx)() : 0;
}

/*
 * Code written on one CPU and run on another: clean to the point of
 * unification, then ICIALLUIS and BPIALLIS reach every CPU's instruction
 * cache and predictors (sync_code_for_all_cpus). Rewritten in place, the
 * other CPU runs the new instructions. QEMU models no caches, so this shows
 * the sequence works rather than that it is needed.
 */
SELFTEST(vmap_mmu, code_written_here_runs_on_another_cpu)
{
    static struct remote_code c;
    struct vmap_fixture fx;
    unsigned int cpu = NR_CPUS;
    struct page_info *pg;
    uint32_t *code;
    mfn_t mfn;

    for (unsigned int i = 0; i < NR_CPUS && cpu == NR_CPUS; i++)
        if (pcpu[i].online && i != smp_processor_id())
            cpu = i;
    if (cpu == NR_CPUS) {
        selftest_skip("needs a second CPU (boot with SMP=2 or more)");
        return;
    }
    if (!vmap_test_begin(&fx))
        return;
    pg = alloc_domheap_page(NULL, 0);
    if (!EXPECT(pg))
        goto out;
    mfn = page_to_mfn(pg);
    c.rx = __vmap(&mfn, 1, 1, 1, PAGE_HYPERVISOR_RX);
    if (!EXPECT(c.rx))
        goto out_page;
    for (uint8_t value = 42; value < 45; value++) {
        code = map_domain_page(mfn);
        write_return(code, value);
        sync_code_for_all_cpus(code, 2 * sizeof(*code));
        unmap_domain_page(code);
        smp_call_on(cpu, run_code_there, &c);
        EXPECT_EQ(c.probe, 0);
        EXPECT_EQ(c.result, value);
    }
    vunmap(c.rx);
out_page:
    free_domheap_page(pg);
out:
    vmap_test_end(&fx);
}

struct global_check {
    vaddr_t va;
    paddr_t want;
    paddr_t seen[NR_CPUS];
    uint32_t value[NR_CPUS];
};

static void check_global_on_cpu(unsigned int cpu, void *arg)
{
    struct global_check *c = arg;

    c->seen[cpu] = arch_translate_va(c->va);
    if (c->seen[cpu] == c->want)
        c->value[cpu] = *(volatile uint32_t *)c->va;
}

SELFTEST(vmap_mmu, global_mapping_on_every_cpu)
{
    static struct global_check check;
    struct vmap_fixture fx;
    struct page_info *pg;
    uint32_t *g;

    if (!vmap_test_begin(&fx))
        return;
    pg = alloc_domheap_page(NULL, 0);
    if (!EXPECT(pg))
        goto out;
    g = map_domain_page_global(page_to_mfn(pg));
    if (EXPECT(g)) {
        g[0] = 0x61006100;
        dsb(ish);
        memset(&check, 0, sizeof(check));
        check.va = (vaddr_t)g;
        check.want = page_to_maddr(pg);
        smp_call_all(check_global_on_cpu, &check);
        for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++) {
            if (!pcpu[cpu].online)
                continue;
            EXPECT_EQ(check.seen[cpu], check.want);
            EXPECT_EQ(check.value[cpu], 0x61006100);
        }
        selftest_diag("checked on %u CPU(s)", nr_online_cpus);
        unmap_domain_page_global(g);
        EXPECT_EQ(arch_translate_va((vaddr_t)g), PT_NO_PADDR);
    }
    free_domheap_page(pg);
out:
    vmap_test_end(&fx);
}
