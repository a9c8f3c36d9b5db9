/*
 * Physical CPUs: per-CPU data, bring-up through PSCI, and running a function
 * on every CPU at once (for tests and benchmarks).
 *
 * Each CPU finds its struct pcpu through HTPIDR, the Hyp-mode software
 * thread ID register, which nothing else uses.
 */
#ifndef ASM_SMP_H
#define ASM_SMP_H

#include <asm/layout.h>
#include <asm/pgtable.h>
#include <asm/sysregs.h>
#include <lib/spinlock.h>
#include <lib/types.h>

#define NR_CPUS 8
/* Each CPU's stack and its guard: asm/layout.h, STACK_*. */

#define HTPIDR CP32(4, c13, c0, 2)

struct vcpu;
struct bootinfo;
struct mapcache;

struct pcpu {
    unsigned int id;
    uint32_t mpidr;
    bool online;
    lpae_t *root;               /* this CPU's level-1 table */
    struct vcpu *current;       /* the VCPU whose domheap window is installed */
    /*
     * current's mapcache, or mapcache_of_no_vcpu while there is none: one
     * load from HTPIDR's pcpu, never NULL, so map_domain_page's hit path
     * needs no test (arch/arm32/domain_page.c).
     */
    struct mapcache *mapcache;
    struct vcpu *idle;
    /* smp_call_all: a new work_seq asks for a run of work(id, work_arg). */
    void (*work)(unsigned int cpu, void *arg);
    void *work_arg;
    unsigned int work_seq;
    unsigned int done_seq;
    spinlock_t post_lock;       /* smp_post_work: one poster at a time */
    /* The guest VCPU this CPU runs (arch/arm32/guest.c), and what its last exit was. */
    struct vcpu *guest;
    uint32_t guest_hyp_sp;      /* Hyp SP at guest_enter(): where an exit unwinds to */
    uint32_t exit_hsr, exit_hdfar, exit_hifar, exit_hpfar;
};

extern struct pcpu pcpu[NR_CPUS];

/*
 * The mapcache a CPU without a VCPU points to: empty (set up by
 * smp_init_boot_cpu, before any map_domain_page), so every map and unmap on
 * it misses, and the slow path says there is no VCPU. Nothing else writes it.
 */
extern struct mapcache mapcache_of_no_vcpu;
extern unsigned int nr_online_cpus;

static inline struct pcpu *this_pcpu(void)
{
    return (struct pcpu *)(uintptr_t)READ_CP32(HTPIDR);
}

static inline unsigned int smp_processor_id(void)
{
    return this_pcpu()->id;
}

void smp_init_boot_cpu(void);

/*
 * The root table secondary CPUs turn their MMU on with. Each removes its
 * identity entry before moving to its own root; after the bring-up it is
 * left as the last CPU left it.
 */
const lpae_t *smp_trampoline(void);

/*
 * Warns, naming the CPU, when ACTLR.SMP reads 0 on a Cortex-A15 (the boot
 * stub sets it where NSACR allows): that CPU is outside the coherency
 * domain. QEMU always reads 0: a warning, not a failure. Runs on `cpu`.
 */
void smp_check_coherency(unsigned int cpu);
/* Whether smp_check_coherency() warned about that CPU. */
bool smp_coherency_warned(unsigned int cpu);
void smp_boot_cpus(const struct bootinfo *bi);

/* MPIDR's affinity fields (Aff2.Aff1.Aff0): what a /cpus node's reg holds on ARM32. */
#define MPIDR_AFFINITY_MASK 0x00ffffffu

/*
 * How many CPUs smp_boot_cpus() brings online at most: the boot CPU and every
 * CPU of the tree whose MPIDR affinity is another, NR_CPUS at most.
 * *boot_cpu_listed says whether the tree lists the boot CPU.
 */
unsigned int smp_cpus_to_start(const struct bootinfo *bi, bool *boot_cpu_listed);

/*
 * Asks an idle CPU (online, not running work) to run fn(cpu, arg) and returns at once.
 * Returns 0, or -EBUSY if the CPU is this one, offline or busy.
 */
int smp_post_work(unsigned int cpu, void (*fn)(unsigned int cpu, void *arg), void *arg);

/* Runs fn(cpu, arg) on every online CPU, this one included, and waits for all. */
void smp_call_all(void (*fn)(unsigned int cpu, void *arg), void *arg);

/*
 * Inside an smp_call_all() function: returns once every online CPU has
 * arrived, so that tests start their CPUs together (a fast CPU could
 * otherwise finish before a slow one begins, and nothing would overlap).
 * *arrived must be 0 before the call.
 */
static inline void smp_rendezvous(unsigned int *arrived)
{
    __atomic_fetch_add(arrived, 1, __ATOMIC_ACQ_REL);
    while (__atomic_load_n(arrived, __ATOMIC_ACQUIRE) < nr_online_cpus)
        ;
}

/* Runs fn(cpu, arg) on one other online CPU and waits for it. */
void smp_call_on(unsigned int cpu, void (*fn)(unsigned int cpu, void *arg), void *arg);

#endif
