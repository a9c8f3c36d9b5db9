/*
 * SMP bring-up and the primitives the rest relies on: every CPU the device
 * tree lists is online on its own root table, spinlocks exclude under real
 * contention, and console lines from different CPUs never interleave.
 */
#include <asm/actlr.h>
#include <asm/setup.h>
#include <asm/smp.h>
#include <dt/bootinfo.h>
#include <inttypes.h>
#include <lib/lib.h>
#include <lib/spinlock.h>
#include <test/selftest.h>

const struct bootinfo *boot_info(void);

SELFTEST(smp, all_listed_cpus_online)
{
    unsigned int want = min(boot_info()->nr_cpus, (unsigned int)NR_CPUS);

    EXPECT_EQ(nr_online_cpus, want);
    for (unsigned int i = 0; i < want; i++)
        EXPECT(pcpu[i].online);
}

static uint64_t seen_httbr[NR_CPUS];

static void read_httbr(unsigned int cpu, void *arg)
{
    (void)arg;
    seen_httbr[cpu] = READ_CP64(HTTBR);
}

SELFTEST(smp, each_cpu_has_its_own_root_table)
{
    smp_call_all(read_httbr, NULL);
    for (unsigned int i = 0; i < NR_CPUS; i++) {
        if (!pcpu[i].online)
            continue;
        EXPECT_EQ(seen_httbr[i], image_virt_to_phys(pcpu[i].root));
        for (unsigned int j = 0; j < i; j++)
            if (pcpu[j].online)
                EXPECT_NE(seen_httbr[i], seen_httbr[j]);
    }
}

static uint32_t seen_actlr[NR_CPUS];
static uint32_t seen_midr[NR_CPUS];

static void read_actlr(unsigned int cpu, void *arg)
{
    (void)arg;
    seen_actlr[cpu] = READ_CP32(ACTLR);
    seen_midr[cpu] = READ_CP32(MIDR);
}

/*
 * Every Cortex-A15 is in the coherency domain (ACTLR.SMP, which the boot
 * stub sets where NSACR allows), or the boot warned, naming that CPU. QEMU
 * reads 0 and ignores the write, so there each CPU must have been warned of.
 */
SELFTEST(smp, actlr_smp_set_or_warned)
{
    smp_call_all(read_actlr, NULL);
    for (unsigned int i = 0; i < NR_CPUS; i++) {
        if (!pcpu[i].online || (seen_midr[i] & MIDR_PART_MASK) != MIDR_CORTEX_A15)
            continue;
        if (seen_actlr[i] & ACTLR_A15_SMP)
            continue;
        selftest_diag("cpu %u: ACTLR 0x%08" PRIx32 ", SMP clear", i, seen_actlr[i]);
        EXPECT(smp_coherency_warned(i));
    }
}

#define LOCK_ROUNDS 5000
static spinlock_t counter_lock = SPIN_LOCK_UNLOCKED;
static unsigned int counter;          /* plain: only the lock protects it */
static unsigned int per_cpu_done[NR_CPUS];

static unsigned int arrived;

static void hammer_lock(unsigned int cpu, void *arg)
{
    (void)arg;
    smp_rendezvous(&arrived);
    for (unsigned int i = 0; i < LOCK_ROUNDS; i++) {
        spin_lock(&counter_lock);
        /* A non-atomic read-modify-write with a window in it: lost updates
         * would show if two CPUs were ever inside at once. */
        unsigned int v = counter;
        for (volatile unsigned int delay = 0; delay < 16; delay++)
            ;
        counter = v + 1;
        spin_unlock(&counter_lock);
    }
    per_cpu_done[cpu] = LOCK_ROUNDS;
}

SELFTEST(smp, spinlock_excludes_under_contention)
{
    unsigned int want = 0;

    counter = 0;
    arrived = 0;
    smp_call_all(hammer_lock, NULL);
    for (unsigned int i = 0; i < NR_CPUS; i++)
        if (pcpu[i].online) {
            EXPECT_EQ(per_cpu_done[i], LOCK_ROUNDS);
            want += LOCK_ROUNDS;
        }
    EXPECT_EQ(counter, want);
    EXPECT(!spin_is_locked(&counter_lock));
}

/* The runner checks that every such line arrives whole (tests/run-all.sh). */
static void print_lines(unsigned int cpu, void *arg)
{
    (void)arg;
    for (unsigned int i = 0; i < 10; i++)
        printk("smp-line cpu=%u n=%u abcdefghijklmnopqrstuvwxyz0123456789 end\n", cpu, i);
}

SELFTEST(smp, console_lines_stay_whole)
{
    smp_call_all(print_lines, NULL);
    EXPECT(true);       /* the verdict is the runner's: see tests/run-all.sh */
}
