/*
 * VCPUs, as far as their domheap window goes: creating one sets up an empty
 * mapcache and asks the arch for the window's page tables; destroying one
 * insists that every map_domain_page() it made was undone, because a
 * mapping left behind would outlive the tables it is written in.
 */
#include <arch/machine.h>
#include <domain/domain.h>
#include <domain/vcpu.h>
#include <lib/lib.h>
#include <string.h>

const char *vcpu_name(const struct vcpu *v, char *buf, size_t size)
{
    if (v->domain)
        fmt_snprintf(buf, size, "d%uv%u", v->domain->domain_id, v->vcpu_id);
    else
        fmt_snprintf(buf, size, "idle-v%u", v->vcpu_id);
    return buf;
}

int vcpu_init(struct vcpu *v, unsigned int vcpu_id, struct domain *d)
{
    memset(v, 0, sizeof(*v));
    v->vcpu_id = vcpu_id;
    v->domain = d;
#ifdef CONFIG_DEBUG
    mapcache_init(&v->mapcache, true);
#else
    mapcache_init(&v->mapcache, false);
#endif
    return arch_vcpu_init(v);
}

void vcpu_destroy(struct vcpu *v)
{
    struct mapcache *mc = &v->mapcache;
    char name[24];
    unsigned int cpu;

    /*
     * First, before anything is cleared: the clearing below invalidates
     * only this CPU's TLB, and the tables are freed after it. A VCPU still
     * installed somewhere would keep using them (on another CPU, with stale
     * translations of the cleared slots; on this one, freed tables).
     */
    if (arch_vcpu_installed(v, &cpu))
        panic("vcpu_destroy: %s is still installed on cpu %u%s; switch that CPU to another "
              "VCPU first", vcpu_name(v, name, sizeof(name)), cpu,
              cpu == arch_cpu_id() ? " (this CPU)" : "");
    if (mapcache_nr_in_use(mc)) {
        unsigned int i = 0;

        while (mc->slot[i].count == 0)
            i++;
        panic("vcpu_destroy: %s still has %u mappings in use, the first at va 0x%lx "
              "(mfn 0x%lx, count %u)", vcpu_name(v, name, sizeof(name)), mapcache_nr_in_use(mc),
              (unsigned long)mapcache_slot_va(i), mfn_x(mc->slot[i].mfn), mc->slot[i].count);
    }
    mapcache_flush_cached(mc);
    arch_vcpu_destroy(v);
}

void vcpu_set_boot_regs(struct vcpu *v, uint32_t entry, uint32_t r0, uint32_t r1,
                        uint32_t r2)
{
    memset(&v->regs, 0, sizeof(v->regs));
    v->regs.r[0] = r0;
    v->regs.r[1] = r1;
    v->regs.r[2] = r2;
    v->regs.pc = entry & ~1u;
    v->regs.cpsr = GUEST_BOOT_CPSR | ((entry & 1u) ? PSR_THUMB : 0);
}
