/*
 * The fixmap: one level-3 table (2 MiB of VA at FIXMAP_VIRT_START) whose
 * 4 KiB slots the hypervisor points at devices and at frames it needs to
 * reach before any other mapping scheme exists.
 *
 * Reusing a slot follows break-before-make (ARM ARM B3.10.1): the old entry
 * is invalidated and its TLB entry flushed everywhere before the new one is
 * written, so no CPU can ever hold two translations for the slot. A slot
 * that was empty needs no flush, because faulting entries are never cached
 * in a TLB.
 */
#include <asm/layout.h>
#include <asm/pgtable.h>
#include <lib/lib.h>
#include <mm/pdx.h>

void set_fixmap(unsigned int slot, paddr_t pa, bool device)
{
    volatile lpae_t *pte = &boot_third_fixmap[slot];
    lpae_t v = (pa & ~0xfffULL) | LPAE_PAGE | (device ? LPAE_LO_DEVICE : LPAE_LO_NORMAL) |
               ((lpae_t)LPAE_HI_XN << 32);

    BUG_ON(slot >= LPAE_ENTRIES);
    /* Bits above 39 are not address bits in a descriptor: callers range-check first. */
    BUG_ON(pa >= ((paddr_t)1 << PADDR_BITS));
    if (pte_valid(read_pte(pte)))
        clear_fixmap(slot);
    write_pte(pte, v);
    dsb(ishst);
    isb();
}

void clear_fixmap(unsigned int slot)
{
    BUG_ON(slot >= LPAE_ENTRIES);
    write_pte(&boot_third_fixmap[slot], 0);
    dsb(ishst);
    flush_xen_tlb_va(FIXMAP_ADDR(slot));
}

paddr_t arch_translate_va(vaddr_t va)
{
    uint64_t par;

    WRITE_CP32(va, ATS1HR);
    isb();
    par = READ_CP64(PAR);
    if (par & 1)                        /* PAR.F: the translation faulted */
        return ~(paddr_t)0;
    return (par & 0x000000fffffff000ULL) | (va & 0xfff);
}
