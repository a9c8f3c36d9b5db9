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
 *
 * gvirt_to_maddr() lets the MMU translate a guest address: the stage-2 walk is the
 * hardware's reading of the tables common/mm/p2m.c wrote, so what a loader writes through
 * it is exactly what the guest will find at that address.
 */
#include <arch/p2m.h>
#include <asm/pgtable.h>
#include <asm/smp.h>
#include <asm/sysregs.h>
#include <domain/vcpu.h>
#include <domain/domain.h>
#include <lib/errno.h>
#include <lib/lib.h>

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

#define PAR_F       1ULL                        /* the translation faulted */
#define PAR_PA_MASK 0x000000fffffff000ULL       /* PA[39:12], long-descriptor format */
#define SCTLR_M     1u

int gvirt_to_maddr(struct domain *d, uint32_t va, paddr_t *ma, unsigned int flags)
{
    uint64_t old_vttbr, old_par, par;
    uint32_t old_vtcr, old_hcr;

    if (flags != GV2M_READ && flags != GV2M_WRITE) {
        printk("gvirt_to_maddr: d%u: flags 0x%x are neither GV2M_READ nor GV2M_WRITE\n",
               d->domain_id, flags);
        return -EINVAL;
    }
    if (d->p2m.vmid == 0) {
        printk("gvirt_to_maddr: d%u: the domain has no p2m\n", d->domain_id);
        return -EINVAL;
    }
    /*
     * Stage 1 is whatever this CPU's PL1 registers hold: d's own when this CPU runs a VCPU
     * of d (an exit being handled: a hypercall's buffer), else it must be off, or the
     * translation would use another context's tables.
     */
    if ((READ_CP32(NS_SCTLR) & SCTLR_M) && !(this_pcpu()->guest && this_pcpu()->guest->domain == d)) {
        printk("gvirt_to_maddr: d%u: va 0x%08x: the Non-secure PL1 MMU is on (SCTLR.M), so "
               "stage 1 is not this domain's (this CPU does not run it)\n",
               d->domain_id, (unsigned int)va);
        return -EINVAL;
    }
    old_hcr = READ_CP32(HCR);
    old_vtcr = READ_CP32(VTCR);
    old_vttbr = READ_CP64(VTTBR);
    old_par = READ_CP64(PAR);
    WRITE_CP32(P2M_VTCR, VTCR);
    WRITE_CP64(d->p2m.vttbr, VTTBR);
    WRITE_CP32(old_hcr | HCR_VM, HCR);
    isb();
    if (flags == GV2M_WRITE)
        WRITE_CP32(va, ATS12NSOPW);
    else
        WRITE_CP32(va, ATS12NSOPR);
    isb();
    par = READ_CP64(PAR);
    WRITE_CP32(old_hcr, HCR);
    WRITE_CP64(old_vttbr, VTTBR);
    WRITE_CP32(old_vtcr, VTCR);
    WRITE_CP64(old_par, PAR);
    isb();
    if (par & PAR_F)
        return -EFAULT;
    *ma = (par & PAR_PA_MASK) | (va & (PAGE_SIZE - 1));
    return 0;
}
