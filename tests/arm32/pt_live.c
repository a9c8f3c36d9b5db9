/*
 * The always-mapped regions (image, frame table, xenheap, device tree) are
 * used by every CPU all the time, so page-table updates never break a live
 * entry there (common/mm/pt.c, check_live): splitting a 2 MiB block into
 * pages, merging pages into a block or remapping would make the entry
 * invalid for a moment, and a CPU touching it then takes a translation
 * fault. These tests ask for exactly that on the real regions and check
 * the refusal; then one CPU asks again and again, and does what is allowed
 * in the vmap window, while another CPU reads the xenheap: no fault at all.
 */
#include <asm/layout.h>
#include <asm/pgtable.h>
#include <asm/smp.h>
#include <asm/traps.h>
#include <dt/bootinfo.h>
#include <lib/lib.h>
#include <mm/mm.h>
#include <mm/page_alloc.h>
#include <mm/pt.h>
#include <mm/vmap.h>
#include <string.h>
#include <test/hooks.h>
#include <test/selftest.h>

#include "../vmap_test.h"

#define BLOCK PT_BLOCK_SIZE

extern char _start[];

/* rc is a refusal of a live break that says what, and the entry for va is as it was. */
static bool refused(int rc, const char *what, vaddr_t va, lpae_t before)
{
    char msg[PT_REFUSAL_LEN];
    unsigned int level;
    bool ok = true;

    pt_last_refusal(msg, sizeof(msg));
    ok &= EXPECT_EQ(rc, -EBUSY);
    ok &= EXPECT(strstr(msg, what) != NULL);
    ok &= EXPECT_EQ(pt_lookup(va, &level), before);
    if (!ok)
        selftest_diag("refusal said: %s", msg);
    return ok;
}

SELFTEST(pt_live, always_mapped_regions_refuse_breaks)
{
    uint8_t *x = alloc_xenheap_pages(9, 0);
    vaddr_t xva = (vaddr_t)x, ft = FRAMETABLE_VIRT_START, text = (vaddr_t)_start;
    struct page_info *pg = alloc_domheap_page(NULL, 0);
    unsigned int level;
    lpae_t e;
    uint32_t v;

    if (!EXPECT(x) || !EXPECT(pg) || !EXPECT(IS_ALIGNED(xva, BLOCK)))
        goto out;

    /* The xenheap: 2 MiB blocks. No page of one can change on its own. */
    e = pt_lookup(xva, &level);
    EXPECT_EQ(level, 2);
    refused(modify_xen_mappings(xva + PAGE_SIZE, xva + 2 * PAGE_SIZE, PAGE_HYPERVISOR_RO),
            "would split the live 2 MiB block", xva, e);
    refused(destroy_xen_mappings(xva, xva + PAGE_SIZE), "would split the live 2 MiB block",
            xva, e);
    refused(map_pages_to_xen(xva, virt_to_mfn(x), 1, PAGE_HYPERVISOR_RW),
            "would split the live 2 MiB block", xva, e);
    refused(map_pages_to_xen(xva, virt_to_mfn(x), 512, PAGE_HYPERVISOR_RO | _PAGE_BLOCK),
            "would remap the live 2 MiB block", xva, e);
    /* Still there, for everyone. */
    x[PAGE_SIZE + 8] = 0x5a;
    EXPECT_EQ(arch_probe_read32(x + PAGE_SIZE + 8, &v), 0);
    EXPECT_EQ(v & 0xff, 0x5a);

    /* The frame table: blocks too. */
    e = pt_lookup(ft, &level);
    EXPECT_EQ(level, 2);
    refused(destroy_xen_mappings(ft + PAGE_SIZE, ft + 2 * PAGE_SIZE),
            "would split the live 2 MiB block at va 0x2000000", ft, e);

    /* The image: pages of a level-3 table; its text cannot be pointed elsewhere. */
    e = pt_lookup(text, &level);
    EXPECT_EQ(level, 3);
    refused(map_pages_to_xen(text, page_to_mfn(pg), 1, PAGE_HYPERVISOR_RX),
            "would remap the live page at va 0x200000", text, e);
    EXPECT_EQ(arch_probe_read32((const void *)text, &v), 0);
    EXPECT_EQ(pt_translate(text), lpae_paddr(e));
out:
    if (pg)
        free_domheap_page(pg);
    if (x)
        free_xenheap_pages(x, 9);
}

const struct bootinfo *boot_info(void);

/*
 * The device tree is mapped with 4 KiB pages, exactly those the blob
 * occupies: no 2 MiB block reaching over whatever lies around it (MMIO on
 * some boards). Those pages are live and cannot be remapped either.
 */
SELFTEST(pt_live, device_tree_mapped_page_by_page)
{
    const struct bootinfo *bi = boot_info();
    const struct reserved_range *dtb = NULL;
    struct page_info *pg = alloc_domheap_page(NULL, 0);
    vaddr_t va, last;
    unsigned int level;
    paddr_t first;
    lpae_t e;

    for (unsigned int i = 0; i < bi->nr_reserved && !dtb; i++)
        if (bi->reserved[i].kind == RESV_DTB)
            dtb = &bi->reserved[i];
    if (!EXPECT(dtb) || !EXPECT(pg))
        goto out;
    first = dtb->start & ~(paddr_t)(PAGE_SIZE - 1);
    va = DTB_VIRT_START + (vaddr_t)(dtb->start - first);
    last = DTB_VIRT_START + (vaddr_t)(ROUNDUP(dtb->end, (paddr_t)PAGE_SIZE) - first);
    selftest_diag("device tree at pa 0x%llx-0x%llx, mapped at 0x%lx-0x%lx",
                  (unsigned long long)dtb->start, (unsigned long long)dtb->end,
                  (unsigned long)va, (unsigned long)last);
    for (vaddr_t p = DTB_VIRT_START; p < last; p += PAGE_SIZE) {
        e = pt_lookup(p, &level);
        if (!EXPECT_EQ(level, 3) || !EXPECT(e & LPAE_AP_RO) || !EXPECT(e & LPAE_XN) ||
            !EXPECT_EQ(arch_translate_va(p), first + (p - DTB_VIRT_START)))
            break;
    }
    /* Nothing after the blob's last page, nor in the rest of the window. */
    EXPECT_EQ(arch_translate_va(last), PT_NO_PADDR);
    EXPECT_EQ(pt_translate(last), PT_NO_PADDR);
    EXPECT_EQ(pt_translate(DTB_VIRT_START + DTB_VIRT_SIZE - PAGE_SIZE), PT_NO_PADDR);

    e = pt_lookup(DTB_VIRT_START, &level);
    refused(map_pages_to_xen(DTB_VIRT_START, page_to_mfn(pg), 1, PAGE_HYPERVISOR_RO),
            "would remap the live page at va 0xc00000", DTB_VIRT_START, e);
out:
    if (pg)
        free_domheap_page(pg);
}

/* --- under concurrent use ------------------------------------------------- */

#define ROUNDS 3000
#define READ_OFFSET (5 * PAGE_SIZE + 0x40)

struct live_run {
    uint8_t *x;                 /* a 2 MiB xenheap block */
    vaddr_t vmap_va;            /* a 2 MiB block in the vmap window */
    mfn_t vmap_mfn;
    unsigned int reader;        /* the CPU that reads */
    unsigned int arrived;
    bool done;
    /* results */
    unsigned int refusals, other_errors, vmap_errors;
    unsigned long reads, faults, wrong;
    uint32_t first_fault_hsr, first_fault_far;
};

static void writer(struct live_run *r)
{
    vaddr_t x = (vaddr_t)r->x;

    pt_set_quiet(true);
    for (unsigned int i = 0; i < ROUNDS; i++) {
        /* Split one page of the xenheap block off, then merge it back: refused. */
        int rc = modify_xen_mappings(x + PAGE_SIZE, x + 2 * PAGE_SIZE, PAGE_HYPERVISOR_RO);

        r->refusals += rc == -EBUSY;
        r->other_errors += rc != 0 && rc != -EBUSY;
        rc = map_pages_to_xen(x, virt_to_mfn(r->x), 512, PAGE_HYPERVISOR_RW | _PAGE_BLOCK);
        r->other_errors += rc != 0;

        /* The same in the vmap window, where the caller owns the addresses: allowed. */
        r->vmap_errors += modify_xen_mappings(r->vmap_va + PAGE_SIZE, r->vmap_va + 2 * PAGE_SIZE,
                                              PAGE_HYPERVISOR_RO) != 0;
        r->vmap_errors += map_pages_to_xen(r->vmap_va, r->vmap_mfn, 512,
                                           PAGE_HYPERVISOR_RW | _PAGE_BLOCK) != 0;
    }
    pt_set_quiet(false);
    __atomic_store_n(&r->done, true, __ATOMIC_RELEASE);
}

static void reader(struct live_run *r)
{
    const uint32_t *p = (const uint32_t *)(r->x + READ_OFFSET);

    while (!__atomic_load_n(&r->done, __ATOMIC_ACQUIRE)) {
        uint32_t v = 0;

        if (arch_probe_read32(p, &v) != 0) {
            if (!r->faults++) {
                r->first_fault_hsr = last_fault.hsr;
                r->first_fault_far = last_fault.hdfar;
            }
        } else if (v != 0x1ead0000) {
            r->wrong++;
        }
        r->reads++;
        /*
         * A hint on hardware and under multi-threaded TCG; with more vCPUs
         * than host cores, QEMU runs them in turn (tests/qemu.sh), and this
         * hands the turn back to the writer instead of spinning out a slice.
         */
        __asm__ volatile("yield");
    }
}

static void live_run_on(unsigned int cpu, void *arg)
{
    struct live_run *r = arg;

    if (cpu != 0 && cpu != r->reader)
        return;
    /* Only the two taking part: smp_rendezvous would wait for every CPU. */
    __atomic_fetch_add(&r->arrived, 1, __ATOMIC_ACQ_REL);
    while (__atomic_load_n(&r->arrived, __ATOMIC_ACQUIRE) < 2)
        ;
    if (cpu == 0)
        writer(r);
    else
        reader(r);
}

SELFTEST(pt_live, no_fault_while_another_cpu_reads_the_xenheap)
{
    static struct live_run r;
    struct vmap_fixture fx;
    struct page_info *pg = NULL;

    memset(&r, 0, sizeof(r));
    r.reader = NR_CPUS;
    for (unsigned int i = 1; i < NR_CPUS && r.reader == NR_CPUS; i++)
        if (pcpu[i].online)
            r.reader = i;
    if (r.reader == NR_CPUS || smp_processor_id() != 0) {
        selftest_skip("needs a second CPU (boot with SMP=2 or more)");
        return;
    }
    if (!vmap_test_begin(&fx))
        return;
    r.x = alloc_xenheap_pages(9, 0);
    r.vmap_va = (vaddr_t)vm_alloc(PT_BLOCK_PAGES, PT_BLOCK_PAGES);
    pg = alloc_domheap_pages(NULL, 9, MEMF_no_scrub);
    if (!EXPECT(r.x) || !EXPECT(r.vmap_va) || !EXPECT(pg) ||
        !EXPECT(IS_ALIGNED((vaddr_t)r.x, BLOCK)))
        goto out;
    r.vmap_mfn = page_to_mfn(pg);
    EXPECT_EQ(map_pages_to_xen(r.vmap_va, r.vmap_mfn, 512, PAGE_HYPERVISOR_RW | _PAGE_BLOCK), 0);
    *(volatile uint32_t *)(r.x + READ_OFFSET) = 0x1ead0000;
    dsb(ish);

    smp_call_all(live_run_on, &r);

    selftest_diag("cpu 0: %u rounds of a refused xenheap split and merge and an allowed vmap "
                  "split and merge; cpu %u: %lu reads of the xenheap block, %lu faults",
                  ROUNDS, r.reader, r.reads, r.faults);
    if (r.faults)
        selftest_diag("first fault: HSR 0x%08x at 0x%08x", (unsigned int)r.first_fault_hsr,
                      (unsigned int)r.first_fault_far);
    EXPECT_EQ(r.faults, 0);
    EXPECT_EQ(r.wrong, 0);
    EXPECT(r.reads > ROUNDS);           /* the reads overlapped the updates */
    EXPECT_EQ(r.refusals, ROUNDS);
    EXPECT_EQ(r.other_errors, 0);
    EXPECT_EQ(r.vmap_errors, 0);
    EXPECT_EQ(destroy_xen_mappings(r.vmap_va, r.vmap_va + BLOCK), 0);
out:
    if (pg)
        free_domheap_pages(pg, 9);
    if (r.vmap_va)
        vm_free((void *)r.vmap_va);
    if (r.x)
        free_xenheap_pages(r.x, 9);
    vmap_test_end(&fx);
}
