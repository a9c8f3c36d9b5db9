/*
 * map_domain_page() for the image: a slot of the current VCPU's mapcache.
 *
 * The mapping lives in the VCPU's own domheap window, so it is valid for
 * that VCPU only, until unmap_domain_page(); see common/mm/mapcache.c for how
 * slots are found, shared and recycled. This file only picks the VCPU and
 * checks what callers pass.
 *
 * The host build has its own map_domain_page() (arch/host/mm.c): host
 * memory cannot be mapped per VCPU, so host tests drive the mapcache API on
 * VCPUs they create.
 */
#include <asm/layout.h>
#include <asm/smp.h>
#include <domain/vcpu.h>
#include <lib/lib.h>
#include <mm/domain_page.h>
#include <mm/mapcache.h>
#include <mm/pdx.h>
#include <mm/pt.h>

BUILD_BUG_ON(MAPCACHE_VIRT_START != DOMHEAP_VIRT_START);
BUILD_BUG_ON(MAPCACHE_VIRT_SIZE > DOMHEAP_VIRT_SIZE);

/* See asm/smp.h: empty, so that every lookup in it misses. */
struct mapcache mapcache_of_no_vcpu;

static struct vcpu *mapping_vcpu(const char *caller, unsigned long what)
{
    struct vcpu *v = current_vcpu();

    if (unlikely(!v))
        panic("%s(0x%lx): this CPU runs no VCPU yet, so it has no domheap window", caller,
              what);
    return v;
}

/* This CPU's mapcache, for the slow paths: panics, naming caller, if it runs no VCPU. */
static struct mapcache *mapping_mapcache(const char *caller, unsigned long what)
{
    struct mapcache *mc = this_pcpu()->mapcache;

    if (unlikely(mc == &mapcache_of_no_vcpu))
        mapping_vcpu(caller, what);
    return mc;
}

/* Out of line: a hit never comes here, and pays for none of these checks. */
static void *noinline map_domain_page_slow(mfn_t mfn)
{
    struct mapcache *mc = mapping_mapcache("map_domain_page", mfn_x(mfn));

    if (unlikely(!mfn_valid(mfn)))
        panic("map_domain_page(mfn 0x%lx): pa 0x%llx is not RAM", mfn_x(mfn),
              (unsigned long long)mfn_to_paddr(mfn));
    return (void *)mapcache_map_slow(mc, mfn);
}

static void noinline unmap_domain_page_slow(const void *va)
{
    /* As in Xen, NULL is "nothing was mapped", so cleanup paths need no test. */
    if (!va)
        return;
    mapcache_unmap_slow(mapping_mapcache("unmap_domain_page", (vaddr_t)va), (vaddr_t)va);
}

/*
 * The hit path: the current VCPU's mapcache in one load from HTPIDR's pcpu,
 * then the inline hit of mapcache_map(). A frame that hits was checked by
 * the miss that mapped it, so mfn_valid() is only asked on the slow path.
 */
void *map_domain_page(mfn_t mfn)
{
    vaddr_t va = mapcache_map_hit(this_pcpu()->mapcache, mfn);

    return likely(va) ? (void *)va : map_domain_page_slow(mfn);
}

void unmap_domain_page(const void *va)
{
    /* NULL is outside the window: the slow path returns on it. */
    if (unlikely(!mapcache_unmap_hit(this_pcpu()->mapcache, (vaddr_t)va)))
        unmap_domain_page_slow(va);
}

mfn_t domain_page_map_to_mfn(const void *ptr)
{
    vaddr_t va = (vaddr_t)ptr;
    paddr_t pa;

    if (mapcache_va_in_window(va))
        return mapcache_va_to_mfn(&mapping_vcpu("domain_page_map_to_mfn", va)->mapcache, va);

    /* map_domain_page_global() and other vmap addresses: the shared tables say. */
    pa = pt_translate(va);
    if (pa == PT_NO_PADDR)
        panic("domain_page_map_to_mfn(0x%lx): not a map_domain_page or vmap address",
              (unsigned long)va);
    return paddr_to_mfn(pa);
}
