/*
 * PSCI emulation for guests (include/domain/vpsci.h).
 *
 * The state it works on is each VCPU's power state (OFF or ON) under the domain's lock:
 * CPU_ON moves a VCPU from OFF to ON and asks its physical CPU to run it; CPU_OFF moves the
 * caller back to OFF and ends its run loop. The hypervisor's own PSCI (the firmware's) is
 * never involved: the physical CPUs stay on, idle, between their VCPUs.
 */
#include <domain/domain.h>
#include <domain/vcpu.h>
#include <domain/vpsci.h>
#include <lib/lib.h>
#include <lib/psci.h>

static bool in_guest_ram(const struct domain *d, uint32_t ipa)
{
    for (unsigned int i = 0; i < d->mem.nr_banks; i++)
        if (ipa >= d->mem.bank[i].start && ipa - d->mem.bank[i].start < d->mem.bank[i].size)
            return true;
    return false;
}

static int32_t cpu_on(struct vcpu *caller, uint32_t mpidr, uint32_t entry, uint32_t context)
{
    struct domain *d = caller->domain;
    struct vcpu *v = domain_vcpu_by_mpidr(d, mpidr);
    int32_t rc = PSCI_SUCCESS;

    if (!v)
        return PSCI_INVALID_PARAMETERS;
    if (!in_guest_ram(d, entry & ~1u))
        return PSCI_INVALID_ADDRESS;
    spin_lock(&d->lock);
    if (v->power == VCPU_ON)
        rc = PSCI_ALREADY_ON;
    else if (__atomic_load_n(&v->running, __ATOMIC_ACQUIRE))
        rc = PSCI_ON_PENDING;          /* it called CPU_OFF and has not left its loop yet */
    else {
        vcpu_set_boot_regs(v, entry, context, 0, 0);
        v->power = VCPU_ON;
        __atomic_store_n(&v->running, true, __ATOMIC_RELEASE);
    }
    spin_unlock(&d->lock);
    if (rc != PSCI_SUCCESS)
        return rc;
    if (arch_vcpu_kick(v)) {
        printk("d%uv%u: CPU_ON of VCPU %u: its CPU %u cannot take it\n", d->domain_id,
               caller->vcpu_id, v->vcpu_id, v->processor);
        spin_lock(&d->lock);
        v->power = VCPU_OFF;
        __atomic_store_n(&v->running, false, __ATOMIC_RELEASE);
        spin_unlock(&d->lock);
        return PSCI_INTERNAL_FAILURE;
    }
    return PSCI_SUCCESS;
}

static int32_t affinity_info(struct domain *d, uint32_t mpidr, uint32_t level)
{
    struct vcpu *v = domain_vcpu_by_mpidr(d, mpidr);

    if (!v || level != 0)
        return PSCI_INVALID_PARAMETERS;
    return __atomic_load_n(&v->power, __ATOMIC_ACQUIRE) == VCPU_ON ? PSCI_AFFINITY_ON
                                                                   : PSCI_AFFINITY_OFF;
}

static int32_t features(uint32_t fn)
{
    switch (fn) {
    case PSCI_VERSION:
    case PSCI_CPU_OFF:
    case PSCI_CPU_ON:
    case PSCI_AFFINITY_INFO:
    case PSCI_MIGRATE_INFO_TYPE:
    case PSCI_SYSTEM_OFF:
    case PSCI_SYSTEM_RESET:
    case PSCI_FEATURES:
        return PSCI_SUCCESS;
    default:
        return PSCI_NOT_SUPPORTED;
    }
}

bool vpsci_call(struct vcpu *v, struct guest_regs *regs)
{
    struct domain *d = v->domain;
    uint32_t fn = regs->r[0];
    int32_t rc;

    switch (fn) {
    case PSCI_VERSION:
        rc = (int32_t)PSCI_VERSION_1_0;
        break;
    case PSCI_FEATURES:
        rc = features(regs->r[1]);
        break;
    case PSCI_MIGRATE_INFO_TYPE:
        rc = PSCI_TOS_NOT_PRESENT;
        break;
    case PSCI_CPU_ON:
        rc = cpu_on(v, regs->r[1], regs->r[2], regs->r[3]);
        break;
    case PSCI_AFFINITY_INFO:
        rc = affinity_info(d, regs->r[1], regs->r[2]);
        break;
    case PSCI_CPU_OFF:
        spin_lock(&d->lock);
        v->power = VCPU_OFF;
        spin_unlock(&d->lock);
        return false;                   /* CPU_OFF does not return to its caller */
    case PSCI_SYSTEM_OFF:
        domain_shutdown(d, SHUTDOWN_poweroff);
        return false;
    case PSCI_SYSTEM_RESET:
        domain_shutdown(d, SHUTDOWN_reboot);
        return false;
    default:
        rc = PSCI_NOT_SUPPORTED;
        break;
    }
    regs->r[0] = (uint32_t)rc;
    return true;
}
