/*
 * The ARM32 side of the p2m seam (include/arch/p2m.h).
 *
 * Stores: STRD of an aligned descriptor (write_pte) is single-copy atomic with LPAE.
 * Barrier: DSB ISHST, so that every CPU's stage-2 walker sees earlier table stores (the
 * walker snoops the data cache: ID_MMFR3.CohWalk is checked at boot). No ISB: this CPU
 * does not translate through stage 2 in Hyp mode.
 *
 * TLB maintenance for one VMID. ARMv7 has no invalidation by IPA (TLBIIPAS2 is ARMv8), so
 * the choice is between
 *   - TLBIALLIS executed in Hyp mode, which removes, on every CPU of the inner shareable
 *     domain, the Non-secure PL1&0 entries (stage 1, stage 2 and combined) tagged with the
 *     VMID currently in VTTBR; and
 *   - TLBIALLNSNHIS, which removes those of every VMID.
 * We use TLBIALLIS with the domain's VTTBR installed for the duration: it costs other
 * guests nothing, where TLBIALLNSNHIS would empty every guest's TLB on every unmap. The
 * previous VTTBR is put back afterwards (ISB after each VTTBR write, so the TLBI uses the
 * new VMID and later code the old one). The hypervisor runs these sequences with
 * interrupts masked (it takes none in Hyp mode), so nothing can run a guest on this CPU
 * between the two VTTBR writes; with HCR.VM clear the temporary VTTBR translates nothing.
 */
#include <arch/p2m.h>
#include <asm/pgtable.h>
#include <asm/sysregs.h>

void arch_p2m_write(lpae_t *entry, lpae_t value, paddr_t ipa, unsigned int level)
{
    (void)ipa;
    (void)level;
    write_pte(entry, value);
}

void arch_p2m_barrier(void)
{
    dsb(ishst);
}

void arch_p2m_flush_vmid(uint64_t vttbr)
{
    uint64_t old = READ_CP64(VTTBR);

    if (old != vttbr) {
        WRITE_CP64(vttbr, VTTBR);
        isb();
    }
    WRITE_CP32(0, TLBIALLIS);
    dsb(ish);
    if (old != vttbr) {
        WRITE_CP64(old, VTTBR);
        isb();
    }
}
