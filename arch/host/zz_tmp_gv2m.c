#include <arch/zz_tmp_gv2m.h>
#include <domain/domain.h>
#include <lib/errno.h>
int gvirt_to_maddr(struct domain *d, uint32_t va, paddr_t *ma, unsigned int flags)
{
    p2m_type_t t; (void)flags;
    mfn_t m = p2m_lookup(p2m_get_hostp2m(d), _gfn(va >> 12), &t);
    if (mfn_eq(m, INVALID_MFN)) return -EFAULT;
    *ma = mfn_to_paddr(m) | (va & 0xfff);
    return 0;
}
