/* TEMPORARY shim until the mods branch lands. */
#include <asm/sysregs.h>
#include <domain/domain.h>
#include <lib/errno.h>
#include "zz_tmp_gv2m.h"
int gvirt_to_maddr(struct domain *d, uint32_t va, paddr_t *ma, unsigned int flags)
{
    uint64_t par;
    uint32_t hcr = READ_CP32(HCR);
    uint64_t vttbr = READ_CP64(VTTBR);
    (void)d;
    WRITE_CP64(d->p2m.vttbr, VTTBR);
    WRITE_CP32(hcr | HCR_VM, HCR);
    isb();
    if (flags & GV2M_WRITE) WRITE_CP32(va, ATS12NSOPW); else WRITE_CP32(va, ATS12NSOPR);
    isb();
    par = READ_CP64(PAR);
    WRITE_CP32(hcr, HCR);
    WRITE_CP64(vttbr, VTTBR);
    isb();
    if (par & 1) return -EFAULT;
    *ma = (par & 0xfffffff000ULL) | (va & 0xfff);
    return 0;
}
