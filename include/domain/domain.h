/*
 * Domains, as far as memory accounting goes.
 *
 * A domain owns domheap pages: assign_pages() records the owner in each
 * page and counts them in tot_pages, refusing to go past max_pages; freeing
 * a page gives the count back. There is no dynamic allocation in common code,
 * so a struct domain lives wherever its creator puts it (static, xenheap).
 */
#ifndef DOMAIN_H
#define DOMAIN_H

#include <lib/errno.h>
#include <lib/spinlock.h>
#include <lib/types.h>
#include <domain/vgic.h>
#include <mm/p2m.h>

typedef uint16_t domid_t;

struct page_info;

/*
 * The guest's RAM as the guest sees it: up to GUEST_MAX_BANKS ranges of guest-physical
 * addresses, each mapped to RAM the domain owns (domain_build.h fills them; the guest's
 * /memory node is written from them).
 */
#define GUEST_MAX_BANKS 8

struct guest_mem_bank {
    paddr_t start;                /* IPA */
    paddr_t size;                 /* bytes */
};

struct guest_mem {
    unsigned int nr_banks;
    struct guest_mem_bank bank[GUEST_MAX_BANKS];
};

#define MAX_VIRT_CPUS 8

/* Why a domain stopped (Xen's SHUTDOWN_* codes): its verdict. */
#define SHUTDOWN_running  (-1)    /* not shut down (yet) */
#define SHUTDOWN_poweroff 0       /* PSCI SYSTEM_OFF */
#define SHUTDOWN_reboot   1       /* PSCI SYSTEM_RESET */
#define SHUTDOWN_crash    3       /* the hypervisor ended it (an exit it cannot handle) */
#define SHUTDOWN_halted   4       /* every VCPU called CPU_OFF: nothing left to run */
#define SHUTDOWN_watchdog 6       /* no verdict within its watchdog_seconds */

#define GUEST_CONSOLE_LINE 128

struct vcpu;

struct domain {
    domid_t domain_id;
    spinlock_t page_alloc_lock;   /* tot_pages, and the owner field of its pages */
    unsigned long tot_pages;      /* pages assigned to the domain */
    unsigned long max_pages;      /* limit on tot_pages */
    struct p2m_domain p2m;        /* stage-2 translation (mm/p2m.h) */
    struct guest_mem mem;         /* the guest's RAM banks (domain/domain_build.h) */

    /* Running it (domain_create() fills these): */
    spinlock_t lock;              /* VCPU power states, shutdown_code */
    unsigned int max_vcpus;
    struct vcpu *vcpu[MAX_VIRT_CPUS];
    int shutdown_code;            /* SHUTDOWN_running until it stops */
    /*
     * The domain was given the GIC (domain_build.h, give_gic_and_timer): its device
     * interrupts are forwarded to it through the GIC's list registers, its "GICC" is the
     * virtual CPU interface, and its distributor accesses trap and are filtered (vgic).
     */
    bool given_gic;
    struct vgic_dist vgic;
    /*
     * The watchdog of a domain given the GIC: a domain with no verdict watchdog_seconds
     * after its start is ended (SHUTDOWN_watchdog) with what its VCPUs did last; 0: never.
     */
    unsigned int watchdog_seconds;
    uint64_t started_at;          /* arch: the counter when VCPU 0 first ran */
    bool watchdog_fired;          /* set by the one CPU that reports and ends it */
    /*
     * Its shutdown ends the whole run (dom0): the CPU that handles the SYSTEM_OFF or
     * SYSTEM_RESET exits at once with shutdown_exit_status(), without waiting for the
     * domain's other VCPUs, which may be spinning with interrupts off and never exit.
     */
    bool shutdown_ends_run;
    /* console_io output not yet printed: printed a whole line at a time */
    spinlock_t console_lock;
    unsigned int console_len;
    char console_buf[GUEST_CONSOLE_LINE];
};

void domain_init(struct domain *d, domid_t id, unsigned long max_pages);

/*
 * A domain that can run: domain_init(), its p2m (a VMID and a root), and max_vcpus VCPUs
 * from the xenheap, VCPU n to run on physical CPU first_cpu + n. Nothing runs yet and it has
 * no memory (domain_build.h gives it some). Returns 0, or -EINVAL (max_vcpus 0 or above
 * MAX_VIRT_CPUS, or CPUs beyond the machine's), -ENOMEM, -EBUSY (no VMID left); on an
 * error nothing is left allocated.
 */
int domain_create(struct domain *d, domid_t id, unsigned int max_vcpus,
                  unsigned long max_pages, unsigned int first_cpu);

/*
 * Takes apart a domain whose VCPUs have all stopped: its memory and p2m (relinquish_memory:
 * every page freed and scrubbed before reuse, every table, the VMID) and its VCPUs.
 * Returns 0, or -EBUSY (printed, nothing freed) if a VCPU still runs.
 */
int domain_destroy(struct domain *d);

/*
 * Records why d stops (the first reason wins) and tells its VCPUs to stop at their next
 * exit. Prints the reason.
 */
void domain_shutdown(struct domain *d, int code);

/*
 * Starts d's VCPU 0 (its boot registers set by the builder) and runs it on this CPU when
 * it is this CPU's, else asks its CPU to; then waits until every VCPU of d has stopped.
 * Returns the shutdown code (SHUTDOWN_*). domain_start/domain_wait are the two halves, for
 * running several domains at once.
 */
int domain_run(struct domain *d);
int domain_start(struct domain *d);
int domain_wait(struct domain *d);

/* The VCPU whose MPIDR affinity (Aff0 = vcpu_id, Aff1-3 zero) is mpidr, or NULL. */
struct vcpu *domain_vcpu_by_mpidr(struct domain *d, uint32_t mpidr);

/* "SYSTEM_OFF", ...: for messages. */
const char *shutdown_name(int code);

/* The run's exit status for a domain's shutdown code: 0 for SYSTEM_OFF, else non-zero. */
int shutdown_exit_status(int code);

/*
 * Gives the 2^order allocated, anonymous domheap pages at pg to d: pg must
 * head one allocation of exactly that order (not part of one, not several).
 * Returns 0, or -E2BIG (and changes nothing) if d would pass max_pages.
 * Panics, naming the MFN and changing nothing, if pg does not head such an
 * allocation or a page of it already has an owner.
 */
int assign_pages(struct domain *d, struct page_info *pg, unsigned int order);

/* Adds pages (negative: removes) to d->tot_pages; returns the new count. */
unsigned long domain_adjust_tot_pages(struct domain *d, long pages);

#endif
