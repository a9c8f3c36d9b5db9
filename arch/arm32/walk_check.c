/*
 * The table walker must find a translation table wherever it lies: an LPAE
 * table descriptor holds a 40-bit address (Arm ARM B3.6.1), and this
 * hypervisor takes tables from any RAM, above 4 GiB included (the xenheap,
 * which holds the VCPUs' domheap-window tables, and the heap pages
 * common/mm/pt.c links in).
 *
 * qemu-system-arm 7.2 breaks this: its 32-bit build fetches each descriptor
 * through a 32-bit address, so a table at 0x1_be00_1000 is read at
 * 0xbe00_1000 and the translation comes out wrong, without a fault unless
 * that memory happens to hold zeros. qemu-system-aarch64 -cpu cortex-a15
 * runs the same image correctly, and is what the project runs. Keeping
 * tables below 4 GiB would hide the bug on some machines and not on others
 * (RAM only above 4 GiB), so the boot checks the walker instead and refuses
 * to go on with a walker that gets it wrong.
 */
#include <asm/layout.h>
#include <asm/pgtable.h>
#include <asm/walk_check.h>
#include <arch/pt.h>
#include <lib/lib.h>
#include <dt/bootinfo.h>
#include <string.h>

#define FOUR_GIB ((paddr_t)1 << 32)

paddr_t arch_probe_table_walk(paddr_t table_pa)
{
    unsigned int slot = WALK_PROBE_VA >> LPAE_L2_SHIFT;
    lpae_t *t;
    paddr_t got;

    /* The slot is never mapped: nothing of it can be in any TLB. */
    BUG_ON(pte_valid(read_pte(&boot_second[slot])));
    t = arch_pt_map_table(table_pa);
    memset(t, 0, PAGE_SIZE);
    write_pte(&t[0], table_pa | LPAE_PAGE | LPAE_LO_NORMAL | LPAE_XN);
    arch_pt_unmap_table(t);
    dsb(ishst);
    write_pte(&boot_second[slot], table_pa | LPAE_TABLE);
    dsb(ishst);
    isb();
    got = arch_translate_va(WALK_PROBE_VA);
    /* Removing a live table entry: store, then invalidate what the walk cached. */
    write_pte(&boot_second[slot], 0);
    dsb(ishst);
    flush_xen_tlb_all();
    return got;
}

/*
 * Runs before setup_mm(), on the highest page of usable RAM: nothing is
 * there yet, and the heap clears every boot page before handing it out.
 */
bool check_table_walk_above_4g(const struct bootinfo *bi)
{
    paddr_t top = 0, pa, got;

    for (unsigned int i = 0; i < bi->nr_usable; i++)
        if (bi->usable[i].end - bi->usable[i].start >= PAGE_SIZE)
            top = max(top, ROUNDDOWN(bi->usable[i].end, (paddr_t)PAGE_SIZE));
    if (top <= FOUR_GIB)
        return true;            /* every table lies below 4 GiB: nothing to check */
    pa = top - PAGE_SIZE;
    got = arch_probe_table_walk(pa);
    if (got == pa) {
        printk("mm: table walks above 4 GiB checked: a table at pa 0x%llx is read there\n",
               (unsigned long long)pa);
        return true;
    }
    printk("mm: the table walker does not read a table above 4 GiB where it lies: with a "
           "table at pa 0x%llx, va 0x%lx translates to 0x%llx\n"
           "mm: qemu-system-arm 7.2 has this bug (it fetches descriptors through 32-bit "
           "addresses); run under qemu-system-aarch64 -M virt,virtualization=on -cpu cortex-a15\n",
           (unsigned long long)pa, (unsigned long)WALK_PROBE_VA, (unsigned long long)got);
    return false;
}
