/*
 * SMP bring-up and the primitives the rest relies on: every CPU the device
 * tree lists is online on its own root table, spinlocks exclude under real
 * contention, and console lines from different CPUs never interleave.
 */
#include <arch/pt.h>
#include <asm/actlr.h>
#include <asm/pgtable.h>
#include <asm/setup.h>
#include <asm/smp.h>
#include <dt/bootinfo.h>
#include <inttypes.h>
#include <lib/lib.h>
#include <lib/spinlock.h>
#include <string.h>
#include <test/selftest.h>

const struct bootinfo *boot_info(void);

/*
 * Every CPU the tree lists is online, by MPIDR, wherever the boot CPU is
 * listed (issue 12: with the boot CPU second, CPU_ON went to the boot CPU
 * and the other never started), plus the boot CPU if it is not listed.
 */
SELFTEST(smp, all_listed_cpus_online)
{
    const struct bootinfo *bi = boot_info();
    bool listed;
    unsigned int want = smp_cpus_to_start(bi, &listed), checked = 1;

    EXPECT_EQ(nr_online_cpus, want);
    EXPECT(pcpu[0].online);
    for (unsigned int t = 0; t < bi->nr_cpus && checked < want; t++) {
        uint32_t mpidr = bi->cpu_mpidr[t];
        bool online = false;

        if ((mpidr & MPIDR_AFFINITY_MASK) == pcpu[0].mpidr)
            continue;
        checked++;
        for (unsigned int i = 1; i < NR_CPUS; i++)
            online |= pcpu[i].online && pcpu[i].mpidr == mpidr;
        if (!online)
            selftest_diag("the CPU with MPIDR 0x%" PRIx32 " is not online", mpidr);
        EXPECT(online);
    }
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

/*
 * Two roots "agree" when no VA is mapped by both to different places: for
 * every VA both translate, the output address and attributes are the same.
 * The walk descends only where the two entries differ and both are valid
 * (an equal entry means an equal subtree); a block facing a table is split
 * into the blocks or pages of the level below, with its own attributes.
 */
struct root_diff {
    unsigned long conflicts;
    vaddr_t first_va;
    lpae_t first_a, first_b;
};

static lpae_t sub_entry(lpae_t block, unsigned int level, unsigned int i)
{
    paddr_t pa = lpae_paddr(block) + ((paddr_t)i << lpae_level_shift(level + 1));

    return pa | (block & ~(LPAE_ADDR_MASK | LPAE_TYPE_MASK)) |
           (level + 1 == 3 ? LPAE_PAGE : LPAE_BLOCK);
}

static void conflict(struct root_diff *d, vaddr_t va, lpae_t a, lpae_t b)
{
    if (d->conflicts++ == 0) {
        d->first_va = va;
        d->first_a = a;
        d->first_b = b;
    }
}

static void compare_entries(lpae_t a, lpae_t b, unsigned int level, vaddr_t va,
                            struct root_diff *d)
{
    lpae_t *ta = NULL, *tb = NULL;

    if (!lpae_is_table(a, level) && !lpae_is_mapping(a, level))
        return;                         /* a maps nothing here */
    if (!lpae_is_table(b, level) && !lpae_is_mapping(b, level))
        return;
    if (a == b)
        return;
    if (lpae_is_mapping(a, level) && lpae_is_mapping(b, level)) {
        if ((a & ~LPAE_TYPE_MASK) != (b & ~LPAE_TYPE_MASK))
            conflict(d, va, a, b);
        return;
    }
    if (lpae_is_table(a, level))
        ta = arch_pt_map_table(lpae_paddr(a));
    if (lpae_is_table(b, level))
        tb = arch_pt_map_table(lpae_paddr(b));
    for (unsigned int i = 0; i < LPAE_ENTRIES; i++)
        compare_entries(ta ? read_pte(&ta[i]) : sub_entry(a, level, i),
                        tb ? read_pte(&tb[i]) : sub_entry(b, level, i), level + 1,
                        va + (vaddr_t)((uint64_t)i << lpae_level_shift(level + 1)), d);
    if (tb)
        arch_pt_unmap_table(tb);
    if (ta)
        arch_pt_unmap_table(ta);
}

/* Compares two roots over the whole 4 GiB of VA. */
static struct root_diff compare_roots(const lpae_t *a, const lpae_t *b)
{
    struct root_diff d = { 0, 0, 0, 0 };

    for (unsigned int i = 0; i < PT_SLOTS; i++)
        compare_entries(read_pte(&a[i]), read_pte(&b[i]), 1,
                        (vaddr_t)((uint64_t)i << LPAE_L1_SHIFT), &d);
    return d;
}

static void report(const char *what, unsigned int cpu, const struct root_diff *d)
{
    selftest_diag("%s and cpu %u's root: %lu conflicting entries, the first at va 0x%08lx "
                  "(0x%016llx against 0x%016llx)", what, cpu, d->conflicts,
                  (unsigned long)d->first_va, (unsigned long long)d->first_a,
                  (unsigned long long)d->first_b);
}

/*
 * A secondary CPU moves from the trampoline root to its own: the two must
 * never map one VA to two places, or its TLB could hold both (Arm ARM:
 * break-before-make; a TLB conflict abort or worse). The trampoline is
 * compared as each CPU left it, identity entry removed. The check itself is
 * checked: the trampoline as it was before the removal does conflict with a
 * root that maps the identity GiB differently.
 */
SELFTEST(smp, trampoline_and_cpu_roots_never_disagree)
{
    static lpae_t with_identity[LPAE_ENTRIES] __attribute__((aligned(4096)));
    paddr_t load = image_phys_start();
    unsigned int slot = (unsigned int)(load >> LPAE_L1_SHIFT);
    struct root_diff d;

    if (nr_online_cpus < 2) {
        selftest_skip("no secondary CPU came up through the trampoline (boot with SMP=2 or more)");
        return;
    }
    for (unsigned int i = 0; i < NR_CPUS; i++) {
        if (!pcpu[i].online)
            continue;
        d = compare_roots(smp_trampoline(), pcpu[i].root);
        if (d.conflicts)
            report("the trampoline", i, &d);
        EXPECT_EQ(d.conflicts, 0);
    }

    memcpy(with_identity, smp_trampoline(), sizeof(with_identity));
    with_identity[slot] = (load & ~(paddr_t)((1UL << LPAE_L1_SHIFT) - 1)) | LPAE_BLOCK |
                          LPAE_LO_NORMAL | LPAE_AP_RO;
    for (unsigned int i = 1; i < NR_CPUS; i++) {
        if (!pcpu[i].online || !lpae_is_table(read_pte(&pcpu[i].root[slot]), 1))
            continue;
        d = compare_roots(with_identity, pcpu[i].root);
        report("the trampoline with its identity GiB", i, &d);
        EXPECT(d.conflicts > 0);
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
