/*
 * The ARM32 side of the page-table seam (include/arch/pt.h): the real Hyp
 * tables, the real stores, barriers and TLB maintenance.
 *
 * Which instructions, and why (Arm ARM B3.10, B4.2):
 *  - STRD of an aligned 64-bit descriptor is single-copy atomic with LPAE,
 *    so a walker never reads half an entry.
 *  - DSB ISHST after table stores: translation table walks are not ordered
 *    with earlier stores by anything weaker, and ISH because every CPU's
 *    walker reads these tables. The walker snoops the data cache
 *    (ID_MMFR3.CohWalk, checked at boot), so no cache clean is needed. The
 *    ISB that follows makes this CPU's later instructions translate with the
 *    new entries (a DSB alone does not resynchronise the pipeline).
 *  - TLBIMVAHIS per page (or per block): invalidates, on every CPU of the
 *    inner shareable domain, the Hyp TLB entries for that VA from any level
 *    of the walk, so cached table-walk entries go too. For more than
 *    FLUSH_ALL_THRESHOLD entries, one TLBIALLHIS is cheaper than a loop and
 *    just as correct (it removes more than required). Then DSB ISH: the
 *    invalidation is complete on every CPU only when it returns. Then ISB.
 *  - BPIALLIS after an update that changed an executable mapping
 *    (arch_pt_sync_exec, B2.2.6): the branch predictors of every CPU may
 *    hold targets learnt from the old instructions at those addresses.
 *
 * Tables: the shared level-2 tables are static in the image (boot_second
 * from the boot stub for the first GiB, the xenheap's from arch/arm32/mm.c),
 * reached through the root's entries. Level-3 tables from the boot
 * allocator or the heap are reached with map_domain_page(), except that
 * tables inside the image are used at their link address, which costs
 * nothing, and that before this CPU runs a VCPU (early boot: there is no
 * domheap window yet) a table goes through a fixmap slot of its own, as
 * Xen's early page-table code does. common/mm/pt.c maps one table at a time,
 * under its lock, so one slot serves every CPU.
 */
#include <arch/pt.h>
#include <asm/cache.h>
#include <asm/layout.h>
#include <asm/pgtable.h>
#include <asm/setup.h>
#include <asm/sysregs.h>
#include <domain/vcpu.h>
#include <lib/lib.h>
#include <mm/domain_page.h>

/* Above this many TLB entries, invalidate the whole Hyp TLB instead. */
#define FLUSH_ALL_THRESHOLD 64


extern char _start[], _end[];

static bool pa_in_image(paddr_t pa)
{
    return pa >= image_phys_start() && pa < image_phys_end();
}

static lpae_t *image_pa_to_va(paddr_t pa)
{
    return (lpae_t *)(uintptr_t)(pa - phys_offset);
}

/*
 * Root entries 0 and 1 never change once they point to a table (every CPU's
 * root copies them), so the answer is kept: this is on every update's path.
 */
lpae_t *arch_pt_second(unsigned int slot)
{
    static lpae_t *second[2];
    lpae_t e;

    /* Slots 2 and 3 are the per-VCPU domheap window: never common code's. */
    if (slot >= 2)
        return NULL;
    if (likely(second[slot]))
        return second[slot];
    e = read_pte(&boot_root[slot]);
    if (!lpae_is_table(e, 1) || !pa_in_image(lpae_paddr(e)))
        return NULL;
    second[slot] = image_pa_to_va(lpae_paddr(e));
    return second[slot];
}

lpae_t *arch_pt_map_table(paddr_t pa)
{
    if (pa_in_image(pa))
        return image_pa_to_va(pa);
    if (!current_vcpu()) {
        set_fixmap(FIXMAP_PT, pa, false);
        return (lpae_t *)FIXMAP_ADDR(FIXMAP_PT);
    }
    return map_domain_page(paddr_to_mfn(pa));
}

void arch_pt_unmap_table(lpae_t *table)
{
    vaddr_t va = (vaddr_t)table;

    if (va >= (vaddr_t)_start && va < (vaddr_t)_end)
        return;
    if (va == FIXMAP_ADDR(FIXMAP_PT)) {
        clear_fixmap(FIXMAP_PT);
        return;
    }
    unmap_domain_page(table);
}

void arch_pt_write(lpae_t *entry, lpae_t value, vaddr_t va, unsigned int level)
{
    (void)va;
    (void)level;
    write_pte(entry, value);
}

void arch_pt_barrier(void)
{
    dsb(ishst);
    isb();
}

void arch_pt_flush_tlb(vaddr_t va, unsigned long nr, unsigned int level)
{
    unsigned int shift = lpae_level_shift(level);

    if (nr > FLUSH_ALL_THRESHOLD) {
        WRITE_CP32(0, TLBIALLHIS);
    } else {
        for (unsigned long i = 0; i < nr; i++)
            WRITE_CP32((va + (i << shift)) & PAGE_MASK, TLBIMVAHIS);
    }
    dsb(ish);
    isb();
}

void arch_pt_sync_exec(void)
{
    /*
     * The branch predictors may hold targets predicted from the old
     * instructions at the changed addresses (B2.2.6). An L1 instruction
     * cache that is physically tagged (PIPT, VIPT: the Cortex-A15's) looks
     * lines up by physical address, so a new translation never hits old
     * lines; only a virtually tagged one needs invalidating too.
     */
    if (CTR_L1IP(READ_CP32(CTR)) == CTR_L1IP_AIVIVT)
        WRITE_CP32(0, ICIALLUIS);
    WRITE_CP32(0, BPIALLIS);
    dsb(ish);
    isb();
}

void arch_vmap_window(vaddr_t *start, vaddr_t *end)
{
    *start = VMAP_VIRT_START;
    *end = VMAP_VIRT_START + VMAP_VIRT_SIZE;
}
