/*
 * A domain's life: created with its VCPUs and p2m, started, stopped, taken apart.
 *
 * There is no scheduler. Each VCPU has a physical CPU of its own (VCPU n of a domain runs on
 * CPU first_cpu + n) and runs there, from the moment it is started until it stops, with
 * nothing else on that CPU. This keeps the world switch minimal (the guest's system
 * registers never leave the CPU) and makes every guest exit a plain function call on the
 * guest's own CPU: what a memory subsystem needs to be exercised by real guests, without a
 * scheduler's complexity in the way.
 *
 * Stopping: domain_shutdown() records the first reason and every VCPU returns from its run
 * loop at its next exit. A VCPU's running flag is set by whoever starts it (domain_start, or
 * a PSCI CPU_ON), before its CPU is asked to run it, and cleared (release) by that CPU when
 * its loop ends: a CPU waiting for a domain (domain_wait) watches those flags, and can
 * never see a VCPU that was started but has not yet begun as stopped.
 */
#include <arch/guest.h>
#include <arch/machine.h>
#include <domain/domain.h>
#include <domain/domain_build.h>
#include <domain/hypercall.h>
#include <domain/vcpu.h>
#include <lib/errno.h>
#include <lib/lib.h>
#include <mm/p2m.h>
#include <mm/page_alloc.h>
#include <string.h>

/* The xenheap order that holds a struct vcpu (its mapcache makes it about 16 KiB). */
static unsigned int vcpu_order(void)
{
    unsigned int order = 0;

    while ((PAGE_SIZE << order) < sizeof(struct vcpu))
        order++;
    return order;
}

static void free_vcpus(struct domain *d)
{
    for (unsigned int i = 0; i < MAX_VIRT_CPUS; i++) {
        if (!d->vcpu[i])
            continue;
        vcpu_destroy(d->vcpu[i]);
        free_xenheap_pages(d->vcpu[i], vcpu_order());
        d->vcpu[i] = NULL;
    }
}

int domain_create(struct domain *d, domid_t id, unsigned int max_vcpus,
                  unsigned long max_pages, unsigned int first_cpu)
{
    int rc;

    if (max_vcpus == 0 || max_vcpus > MAX_VIRT_CPUS || first_cpu >= ARCH_MAX_CPUS ||
        max_vcpus > ARCH_MAX_CPUS - first_cpu) {
        printk("domain_create: d%u: %u VCPUs from CPU %u do not fit %u CPUs\n", id, max_vcpus,
               first_cpu, ARCH_MAX_CPUS);
        return -EINVAL;
    }
    domain_init(d, id, max_pages);
    spin_lock_init(&d->lock);
    spin_lock_init(&d->console_lock);
    d->shutdown_code = SHUTDOWN_running;
    d->max_vcpus = max_vcpus;
    rc = p2m_init(d);
    if (rc)
        return rc;
    for (unsigned int i = 0; i < max_vcpus; i++) {
        struct vcpu *v = alloc_xenheap_pages(vcpu_order(), 0);

        if (!v) {
            rc = -ENOMEM;
            goto fail;
        }
        rc = vcpu_init(v, i, d);
        if (rc) {
            free_xenheap_pages(v, vcpu_order());
            goto fail;
        }
        v->processor = first_cpu + i;
        v->power = VCPU_OFF;
        d->vcpu[i] = v;
    }
    return 0;
fail:
    printk("domain_create: d%u: no memory for VCPUs\n", id);
    free_vcpus(d);
    p2m_teardown(d);
    return rc;
}

int domain_destroy(struct domain *d)
{
    for (unsigned int i = 0; i < d->max_vcpus; i++) {
        if (__atomic_load_n(&d->vcpu[i]->running, __ATOMIC_ACQUIRE)) {
            printk("domain_destroy: d%u: VCPU %u still runs on CPU %u\n", d->domain_id, i,
                   d->vcpu[i]->processor);
            return -EBUSY;
        }
    }
    free_vcpus(d);
    return relinquish_memory(d);
}

const char *shutdown_name(int code)
{
    switch (code) {
    case SHUTDOWN_running: return "running";
    case SHUTDOWN_poweroff: return "SYSTEM_OFF";
    case SHUTDOWN_reboot: return "SYSTEM_RESET";
    case SHUTDOWN_crash: return "crashed";
    case SHUTDOWN_halted: return "all VCPUs off";
    case SHUTDOWN_watchdog: return "no verdict in time (watchdog)";
    default: return "unknown";
    }
}

int shutdown_exit_status(int code)
{
    return code == SHUTDOWN_poweroff ? 0 : code > 0 ? code : 5;
}

void domain_shutdown(struct domain *d, int code)
{
    bool first;

    spin_lock(&d->lock);
    first = d->shutdown_code == SHUTDOWN_running;
    if (first)
        __atomic_store_n(&d->shutdown_code, code, __ATOMIC_RELEASE);
    spin_unlock(&d->lock);
    if (!first)
        return;
    printk("d%u: shut down: %s\n", d->domain_id, shutdown_name(code));
    if (d->shutdown_ends_run) {
        guest_console_flush(d);
        printk("d%u: the run %s (status %d)\n", d->domain_id,
               code == SHUTDOWN_poweroff ? "passes" : "fails", shutdown_exit_status(code));
        arch_exit(shutdown_exit_status(code));
    }
}

struct vcpu *domain_vcpu_by_mpidr(struct domain *d, uint32_t mpidr)
{
    uint32_t aff0 = mpidr & 0xff;

    /* Aff1-Aff3 (bits 8-23, 32-39 do not exist here) must be zero. */
    if ((mpidr & 0x00ffff00u) || aff0 >= d->max_vcpus)
        return NULL;
    return d->vcpu[aff0];
}

int domain_start(struct domain *d)
{
    struct vcpu *v = d->vcpu[0];
    int rc;

    spin_lock(&d->lock);
    v->power = VCPU_ON;
    __atomic_store_n(&v->running, true, __ATOMIC_RELEASE);
    spin_unlock(&d->lock);
    if (v->processor == arch_cpu_id())
        return 0;
    rc = arch_vcpu_kick(v);
    if (rc) {
        printk("d%u: CPU %u cannot run VCPU 0 (%d)\n", d->domain_id, v->processor, rc);
        spin_lock(&d->lock);
        v->power = VCPU_OFF;
        __atomic_store_n(&v->running, false, __ATOMIC_RELEASE);
        spin_unlock(&d->lock);
    }
    return rc;
}

int domain_wait(struct domain *d)
{
    for (unsigned int i = 0; i < d->max_vcpus; i++)
        arch_vcpu_wait(d->vcpu[i]);
    /* Every VCPU is out of its loop: none can change the code any more. */
    if (d->shutdown_code == SHUTDOWN_running)
        d->shutdown_code = SHUTDOWN_halted;
    return d->shutdown_code;
}

int domain_run(struct domain *d)
{
    struct vcpu *v = d->vcpu[0];
    int rc = domain_start(d);

    if (rc)
        return rc;
    if (v->processor == arch_cpu_id()) {
        rc = arch_vcpu_run(v);
        if (rc)
            return rc;
    }
    return domain_wait(d);
}
