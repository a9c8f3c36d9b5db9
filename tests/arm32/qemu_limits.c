/*
 * What QEMU (7.2, the version this project runs on) does differently from
 * the architecture, shown rather than assumed. Run by name:
 *   make run MEM=6G APPEND=test=qemu.table_above_4g
 *
 * The Arm ARM lets an LPAE table descriptor point to a next-level table
 * anywhere in the 40-bit physical space. QEMU 7.2's walker, in Hyp mode,
 * fails to use a level-3 table above 4 GiB: the translation faults at
 * level 3, while the same code with the table below 4 GiB translates. This
 * is why setup_mm() places the xenheap (where our page tables come from)
 * below 4 GiB when it can. Block mappings above 4 GiB work.
 */
#include <asm/pgtable.h>
#include <lib/lib.h>
#include <mm/domain_page.h>
#include <mm/mm.h>
#include <mm/page_alloc.h>
#include <string.h>
#include <test/selftest.h>

SELFTEST_MANUAL(qemu, table_above_4g)
{
    unsigned int idx = 3;                     /* level-2 entry for VA 0x00600000: unused */
    vaddr_t va = (vaddr_t)idx << LPAE_L2_SHIFT;
    struct page_info *pg = alloc_domheap_pages(NULL, 0, 0);
    paddr_t table, target;
    lpae_t *t;

    if (!EXPECT(pg != NULL))
        return;
    table = page_to_maddr(pg);
    if (table < ((paddr_t)1 << 32)) {
        selftest_diag("no RAM above 4 GiB came back (boot with MEM=6G); nothing to show");
        free_domheap_pages(pg, 0);
        return;
    }
    /* The table maps its own frame at va: translating va must give table. */
    t = map_domain_page(page_to_mfn(pg));
    memset(t, 0, PAGE_SIZE);
    t[0] = table | LPAE_PAGE | LPAE_LO_NORMAL | ((lpae_t)LPAE_HI_XN << 32);
    unmap_domain_page(t);
    dsb(ish);
    write_pte(&boot_second[idx], table | LPAE_TABLE);
    dsb(ish);
    flush_xen_tlb_all();
    target = arch_translate_va(va);
    selftest_diag("level-3 table at pa 0x%llx: va 0x%lx translates to 0x%llx",
                  (unsigned long long)table, (unsigned long)va, (unsigned long long)target);
    write_pte(&boot_second[idx], 0);
    dsb(ish);
    flush_xen_tlb_all();
    free_domheap_pages(pg, 0);
    /* The architecture says this holds; QEMU 7.2 fails it. */
    EXPECT_EQ(target, table);
}
