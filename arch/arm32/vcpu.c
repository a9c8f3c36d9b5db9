/*
 * The ARM side of the per-VCPU domheap window (include/arch/mapcache.h) and
 * switching a CPU from one VCPU to another.
 *
 * Each VCPU owns a level-2 table for VA 0x80000000-0xbfffffff whose first
 * two entries point to two level-3 tables: 1024 slots of 4 KiB at
 * 0x80000000. vcpu_switch_to(v) puts v's level-2 table in root entry 2 of
 * the running CPU's own root table, so another CPU, with another root,
 * never sees it.
 *
 * TLB maintenance follows from that privacy. Hyp mode has no ASIDs, so the
 * window's translations of the old VCPU must leave this CPU's TLB when
 * another is installed: break-before-make on the root entry with a local
 * TLBIALLH. Since a VCPU runs on one CPU at a time and every switch away
 * flushes, a VCPU's window is cached in at most one TLB, the current CPU's:
 * clearing a slot needs only a local TLBI by VA, never a broadcast.
 */
#include <asm/layout.h>
#include <asm/pgtable.h>
#include <asm/smp.h>
#include <domain/vcpu.h>
#include <lib/errno.h>
#include <lib/lib.h>
#include <mm/mapcache.h>
#include <mm/mm.h>
#include <mm/page_alloc.h>
#include <string.h>

#define WINDOW_ROOT_SLOT (DOMHEAP_VIRT_START >> LPAE_L1_SHIFT)   /* 2 */
#define THIRD_TABLES ((MAPCACHE_SLOTS + LPAE_ENTRIES - 1) / LPAE_ENTRIES)

BUILD_BUG_ON(MAPCACHE_VIRT_START != DOMHEAP_VIRT_START);
BUILD_BUG_ON(THIRD_TABLES != 2);          /* one order-1 xenheap allocation below */

int arch_vcpu_init(struct vcpu *v)
{
    lpae_t *second = alloc_xenheap_pages(0, 0);
    lpae_t *third = alloc_xenheap_pages(1, 0);

    if (!second || !third) {
        if (second)
            free_xenheap_pages(second, 0);
        if (third)
            free_xenheap_pages(third, 1);
        return -ENOMEM;
    }
    memset(second, 0, PAGE_SIZE);
    memset(third, 0, 2 * PAGE_SIZE);
    for (unsigned int i = 0; i < THIRD_TABLES; i++)
        second[i] = (__pa(third) + (paddr_t)i * PAGE_SIZE) | LPAE_TABLE;
    dsb(ishst);
    v->arch.second = second;
    v->arch.third = third;
    return 0;
}

bool arch_vcpu_installed(const struct vcpu *v, unsigned int *cpu)
{
    for (unsigned int i = 0; i < NR_CPUS; i++)
        if (pcpu[i].online && pcpu[i].current == v) {
            *cpu = i;
            return true;
        }
    return false;
}

void arch_vcpu_destroy(struct vcpu *v)
{
    unsigned int cpu;

    /* vcpu_destroy() checked this before clearing anything; tables in use stay. */
    if (arch_vcpu_installed(v, &cpu))
        panic("arch_vcpu_destroy: the VCPU is still installed on cpu %u", cpu);
    free_xenheap_pages(v->arch.third, 1);
    free_xenheap_pages(v->arch.second, 0);
    v->arch.third = v->arch.second = NULL;
}

void arch_mapcache_set(struct vcpu *v, unsigned int slot, mfn_t mfn)
{
    lpae_t e = mfn_to_paddr(mfn) | LPAE_PAGE | LPAE_LO_NORMAL | ((lpae_t)LPAE_HI_XN << 32);

    BUG_ON(slot >= MAPCACHE_SLOTS);
    /* The entry is invalid and in no TLB (the mapcache guarantees it): no flush. */
    write_pte(&v->arch.third[slot], e);
    dsb(ishst);
    isb();
}

void arch_mapcache_clear(struct vcpu *v, unsigned int slot)
{
    BUG_ON(slot >= MAPCACHE_SLOTS);
    write_pte(&v->arch.third[slot], 0);
    dsb(ishst);
    /* Local is enough: only this CPU can hold the VCPU's window (see above). */
    WRITE_CP32(MAPCACHE_VIRT_START + ((vaddr_t)slot << PAGE_SHIFT), TLBIMVAH);
    dsb(ish);
    isb();
    v->arch.tlb_flushes++;
}

struct vcpu *current_vcpu(void)
{
    struct pcpu *c = this_pcpu();

    return c ? c->current : NULL;
}

void vcpu_switch_to(struct vcpu *v)
{
    struct pcpu *c = this_pcpu();
    volatile lpae_t *entry = &c->root[WINDOW_ROOT_SLOT];
    unsigned int cpu;

    if (c->current == v)
        return;
    if (arch_vcpu_installed(v, &cpu))
        panic("vcpu_switch_to: the VCPU is already installed on cpu %u; switch that CPU "
              "away first", cpu);
    /* Break: no entry, and nothing of the old window left in this CPU's TLB. */
    write_pte(entry, 0);
    dsb(ishst);
    WRITE_CP32(0, TLBIALLH);
    dsb(ish);
    /* Make: the new VCPU's window. */
    write_pte(entry, __pa(v->arch.second) | LPAE_TABLE);
    dsb(ishst);
    isb();
    c->current = v;
    c->mapcache = &v->mapcache;
}
