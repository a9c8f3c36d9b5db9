/*
 * Secondary CPU bring-up and per-CPU state.
 *
 * Each CPU gets its own level-1 (root) table. Entries 0 and 1 (the first
 * GiB, with the image, fixmap, DT and frame table; and the xenheap) point to
 * level-2 tables shared by all CPUs, so every CPU sees the same hypervisor.
 * Entries 2 and 3 (the domheap window) belong to whichever VCPU the CPU runs:
 * that is what makes map_domain_page private to a VCPU.
 *
 * Start-up protocol: the boot CPU fills in the roots and a trampoline
 * root, cleans them to the point of coherency (the new CPU reads them with
 * its caches off), then asks PSCI CPU_ON to start the CPU at secondary_entry
 * with its index as context id, and waits for it to say it is online.
 *
 * The trampoline maps the shared first GiB and the identity GiB of the
 * image, which the new CPU needs to turn its MMU on. Its own root maps that
 * GiB differently (the xenheap, at load 0x40200000), so moving from one root
 * to the other is break-before-make (boot/head.S, secondary_virt): the new
 * CPU removes the identity entry from the trampoline, invalidates its TLB,
 * and only then installs its own root. CPUs start one at a time, and the
 * boot CPU writes the identity entry again before each CPU_ON.
 */
#include <arch/machine.h>
#include <asm/actlr.h>
#include <asm/cache.h>
#include <asm/layout.h>
#include <asm/setup.h>
#include <asm/smp.h>
#include <asm/traps.h>
#include <domain/vcpu.h>
#include <dt/bootinfo.h>
#include <inttypes.h>
#include <lib/errno.h>
#include <lib/lib.h>
#include <lib/psci.h>

struct pcpu pcpu[NR_CPUS] = { [0 ... NR_CPUS - 1] = { .mapcache = &mapcache_of_no_vcpu } };
unsigned int nr_online_cpus = 1;

static lpae_t cpu_root[NR_CPUS][LPAE_ENTRIES] __attribute__((aligned(4096)));
static lpae_t trampoline_root[LPAE_ENTRIES] __attribute__((aligned(4096)));
/* Each CPU's idle VCPU: what runs, and owns the domheap window, when nothing else does. */
static struct vcpu idle_vcpu[NR_CPUS];

/*
 * Read by secondary_entry (boot/head.S), with the MMU off for the first.
 * 32 bits suffice: these are addresses inside the image, which runs at its
 * physical address with the MMU off and so lies below 4 GiB.
 */
uint32_t smp_trampoline_root_pa;
uint32_t smp_root_pa[NR_CPUS];

extern char secondary_entry[];

void start_secondary(unsigned int cpu);

BUILD_BUG_ON(NR_CPUS > ARCH_MAX_CPUS);
/* boot/head.S maps a stack slot for each CPU: STACK_TOP(i) is CPU i's stack. */
BUILD_BUG_ON(NR_CPUS != STACK_CPUS);
BUILD_BUG_ON(STACK_CPUS * STACK_SLOT_SIZE > STACKS_VIRT_SIZE);
BUILD_BUG_ON(STACK_SLOT_SIZE != 2 * STACK_SIZE);

unsigned int arch_cpu_id(void)
{
    struct pcpu *c = this_pcpu();

    return c ? c->id : 0;
}

static bool coherency_warned[NR_CPUS];

void smp_check_coherency(unsigned int cpu)
{
    uint32_t actlr;
    char why[64];

    if ((READ_CP32(MIDR) & MIDR_PART_MASK) != MIDR_CORTEX_A15)
        return;
    actlr = READ_CP32(ACTLR);
    if (actlr & ACTLR_A15_SMP)
        return;
    /* Why the boot stub could not set it (boot/head.S, cpu_join_smp). */
    if (!(READ_CP32(ID_PFR1) & ID_PFR1_SECURITY))
        fmt_snprintf(why, sizeof(why), "no Security Extensions: written, not kept");
    else if (!(READ_CP32(NSACR) & NSACR_NS_SMP))
        fmt_snprintf(why, sizeof(why), "NSACR.NS_SMP is 0: only Secure firmware may set it");
    else
        fmt_snprintf(why, sizeof(why), "NSACR.NS_SMP is 1: written, not kept");
    printk("cpu %u: warning: ACTLR.SMP reads 0 on this Cortex-A15 (ACTLR 0x%08" PRIx32 "; %s): "
           "the CPU is outside the coherency domain, so its caches, TLB maintenance broadcasts "
           "and exclusives are not coherent with the other CPUs (QEMU always reads 0 and "
           "models no caches: harmless there)\n", cpu, actlr, why);
    coherency_warned[cpu] = true;
}

bool smp_coherency_warned(unsigned int cpu)
{
    return cpu < NR_CPUS && coherency_warned[cpu];
}

const lpae_t *smp_trampoline(void)
{
    return trampoline_root;
}

/* The trampoline for the next CPU_ON; no CPU uses it meanwhile. */
static void arm_trampoline(paddr_t load)
{
    write_pte(&trampoline_root[0], read_pte(&boot_root[0]));
    /* The stub's identity page, through the boot CPU's identity tables (head.S). */
    write_pte(&trampoline_root[load >> LPAE_L1_SHIFT],
              image_virt_to_phys(boot_identity_second) | LPAE_TABLE);
    clean_dcache_to_poc(trampoline_root, sizeof(trampoline_root));
}

void smp_init_boot_cpu(void)
{
    mapcache_init(&mapcache_of_no_vcpu, false);
    pcpu[0].id = 0;
    pcpu[0].mpidr = READ_CP32(MPIDR) & MPIDR_AFFINITY_MASK;
    pcpu[0].online = true;
    pcpu[0].root = boot_root;
    WRITE_CP32((uintptr_t)&pcpu[0], HTPIDR);
    isb();
}

static void init_idle_vcpu(unsigned int cpu)
{
    if (vcpu_init(&idle_vcpu[cpu], cpu, NULL) != 0)
        panic("smp: no memory for cpu %u's idle VCPU", cpu);
    pcpu[cpu].idle = &idle_vcpu[cpu];
}

static uint64_t now(void)
{
    isb();
    return READ_CP64(CNTPCT);
}

/* Starts the tree's CPU mpidr as CPU i and waits (a second at most) until it is online. */
static void start_cpu(unsigned int i, uint32_t mpidr, paddr_t load, uint32_t freq)
{
    struct pcpu *c = &pcpu[i];
    int32_t rc;
    uint64_t deadline;

    c->id = i;
    c->mpidr = mpidr;
    c->root = cpu_root[i];
    cpu_root[i][0] = boot_root[0];
    cpu_root[i][1] = boot_root[1];
    init_idle_vcpu(i);
    smp_root_pa[i] = (uint32_t)image_virt_to_phys(cpu_root[i]);
    clean_dcache_to_poc(cpu_root[i], sizeof(cpu_root[i]));
    clean_dcache_to_poc(c, sizeof(*c));
    arm_trampoline(load);

    rc = (int32_t)arch_smc(PSCI_CPU_ON, c->mpidr,
                           (uint32_t)image_virt_to_phys(secondary_entry), i);
    if (rc != 0) {
        printk("smp: PSCI CPU_ON for cpu %u (MPIDR 0x%" PRIx32 ") failed: %" PRId32 " %s\n",
               i, c->mpidr, rc, psci_error_name(rc));
        return;
    }
    deadline = now() + freq;                      /* one second */
    while (!__atomic_load_n(&c->online, __ATOMIC_ACQUIRE) && now() < deadline)
        ;
    if (!c->online)
        printk("smp: cpu %u (MPIDR 0x%" PRIx32 ") did not come online within a second\n",
               i, c->mpidr);
}

unsigned int smp_cpus_to_start(const struct bootinfo *bi, bool *boot_cpu_listed)
{
    unsigned int n = 1;             /* the boot CPU, listed or not */

    *boot_cpu_listed = false;
    for (unsigned int t = 0; t < bi->nr_cpus; t++) {
        if ((bi->cpu_mpidr[t] & MPIDR_AFFINITY_MASK) == pcpu[0].mpidr)
            *boot_cpu_listed = true;
        else
            n++;
    }
    return min(n, (unsigned int)NR_CPUS);
}

/*
 * The boot CPU may be any node of /cpus, not only the first: every CPU
 * whose MPIDR affinity is not the boot CPU's is started, in tree order, as
 * CPU 1, 2, ... A tree that does not list the boot CPU at all is warned of,
 * and its CPUs started all the same.
 */
void smp_boot_cpus(const struct bootinfo *bi)
{
    bool listed;
    unsigned int n = smp_cpus_to_start(bi, &listed), next = 1;
    uint32_t freq = READ_CP32(CNTFRQ);
    paddr_t load = image_phys_start();

    smp_trampoline_root_pa = (uint32_t)image_virt_to_phys(trampoline_root);
    clean_dcache_to_poc(&smp_trampoline_root_pa, sizeof(smp_trampoline_root_pa));

    /* From here on map_domain_page works on this CPU. */
    init_idle_vcpu(0);
    vcpu_switch_to(pcpu[0].idle);

    if (bi->nr_cpus && !listed)
        printk("smp: warning: the boot CPU (MPIDR affinity 0x%" PRIx32 ") is not in /cpus\n",
               pcpu[0].mpidr);
    for (unsigned int t = 0; t < bi->nr_cpus && next < n; t++)
        if ((bi->cpu_mpidr[t] & MPIDR_AFFINITY_MASK) != pcpu[0].mpidr)
            start_cpu(next++, bi->cpu_mpidr[t], load, freq);
    printk("smp: %u of %u CPUs online\n", nr_online_cpus, n);
}

static void run_work(struct pcpu *c)
{
    unsigned int seq = __atomic_load_n(&c->work_seq, __ATOMIC_ACQUIRE);

    c->work(c->id, c->work_arg);
    __atomic_store_n(&c->done_seq, seq, __ATOMIC_RELEASE);
    dsb(ish);
    __asm__ volatile("sev");
}

void start_secondary(unsigned int cpu)
{
    struct pcpu *c = &pcpu[cpu];

    WRITE_CP32((uintptr_t)c, HTPIDR);
    isb();
    smp_check_coherency(cpu);
    vcpu_switch_to(c->idle);
    printk("smp: cpu %u (MPIDR 0x%" PRIx32 ") online, root table at pa 0x%" PRIx32 "\n", cpu,
           c->mpidr, smp_root_pa[cpu]);
    __atomic_fetch_add(&nr_online_cpus, 1, __ATOMIC_RELAXED);
    __atomic_store_n(&c->online, true, __ATOMIC_RELEASE);

    for (;;) {
        while (__atomic_load_n(&c->work_seq, __ATOMIC_ACQUIRE) ==
               __atomic_load_n(&c->done_seq, __ATOMIC_RELAXED))
            __asm__ volatile("wfe");
        run_work(c);
    }
}

static void wait_for(struct pcpu *c)
{
    while (__atomic_load_n(&c->done_seq, __ATOMIC_ACQUIRE) !=
           __atomic_load_n(&c->work_seq, __ATOMIC_RELAXED))
        __asm__ volatile("wfe");
}

void smp_call_on(unsigned int cpu, void (*fn)(unsigned int cpu, void *arg), void *arg)
{
    struct pcpu *c = &pcpu[cpu];

    BUG_ON(cpu >= NR_CPUS || !c->online || cpu == smp_processor_id());
    c->work = fn;
    c->work_arg = arg;
    __atomic_fetch_add(&c->work_seq, 1, __ATOMIC_RELEASE);
    dsb(ish);
    __asm__ volatile("sev");
    wait_for(c);
}

int smp_post_work(unsigned int cpu, void (*fn)(unsigned int cpu, void *arg), void *arg)
{
    struct pcpu *c = &pcpu[cpu];
    int rc = 0;

    if (cpu >= NR_CPUS || cpu == smp_processor_id())
        return -EBUSY;
    spin_lock(&c->post_lock);
    if (!__atomic_load_n(&c->online, __ATOMIC_ACQUIRE) ||
        __atomic_load_n(&c->done_seq, __ATOMIC_ACQUIRE) != c->work_seq) {
        rc = -EBUSY;
    } else {
        c->work = fn;
        c->work_arg = arg;
        __atomic_fetch_add(&c->work_seq, 1, __ATOMIC_RELEASE);
        dsb(ish);
        __asm__ volatile("sev");
    }
    spin_unlock(&c->post_lock);
    return rc;
}

void smp_call_all(void (*fn)(unsigned int cpu, void *arg), void *arg)
{
    for (unsigned int i = 1; i < NR_CPUS; i++) {
        if (!pcpu[i].online)
            continue;
        pcpu[i].work = fn;
        pcpu[i].work_arg = arg;
        __atomic_fetch_add(&pcpu[i].work_seq, 1, __ATOMIC_RELEASE);
    }
    dsb(ish);
    __asm__ volatile("sev");
    fn(0, arg);
    for (unsigned int i = 1; i < NR_CPUS; i++)
        if (pcpu[i].online)
            wait_for(&pcpu[i]);
}
