/*
 * Stack overflow and stack smashing (issue 12): the stacks' layout and the
 * protector's guard as normal tests; an overflow on the boot CPU and on a
 * second CPU, and a smashed frame, as crash.* tests that tests/run-all.sh
 * runs in boots of their own and checks the report and exit status of.
 */
#include <arch/mm.h>
#include <asm/layout.h>
#include <asm/setup.h>
#include <asm/smp.h>
#include <asm/stack_protector.h>
#include <asm/traps.h>
#include <lib/lib.h>
#include <mm/pt.h>
#include <string.h>
#include <test/selftest.h>

static uint32_t current_sp(void)
{
    uint32_t sp;

    __asm__ volatile("mov %0, sp" : "=r"(sp));
    return sp;
}

static bool in_image(paddr_t pa)
{
    return pa != PT_NO_PADDR && pa >= image_phys_start() && pa < image_phys_end();
}

static void check_stack_layout(unsigned int cpu, void *arg)
{
    bool *ok = arg;
    uint32_t sp = current_sp();
    vaddr_t slot = STACKS_VIRT_START + cpu * STACK_SLOT_SIZE;
    bool good = sp > STACK_BOTTOM(cpu) && sp < STACK_TOP(cpu);

    /*
     * The stack and the emergency page are mapped, to pages of the image (which the
     * heap never hands out); every page of the hole is unmapped.
     */
    for (vaddr_t va = STACK_BOTTOM(cpu); va < STACK_TOP(cpu); va += PAGE_SIZE)
        good &= in_image(pt_translate(va));
    good &= in_image(pt_translate(slot));
    for (vaddr_t va = slot + EMERGENCY_STACK_SIZE; va < STACK_BOTTOM(cpu); va += PAGE_SIZE)
        good &= pt_translate(va) == PT_NO_PADDR;
    ok[cpu] = good;
}

SELFTEST(stack, each_cpu_runs_on_its_slot_above_an_unmapped_hole)
{
    bool ok[NR_CPUS] = { false };
    uint32_t value;

    smp_call_all(check_stack_layout, ok);
    for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++)
        if (pcpu[cpu].online && !EXPECT(ok[cpu]))
            selftest_diag("cpu %u: SP outside its stack, or a page mapped wrongly", cpu);
    /* The page right below this CPU's stack faults. */
    EXPECT_EQ(arch_probe_read32((const void *)(STACK_BOTTOM(smp_processor_id()) - 4), &value),
              -14);
}

SELFTEST(stack, the_guard_is_not_the_link_time_value)
{
    /* start_hyp() replaced it from the tree's seeds and CNTPCT. */
    EXPECT_NE(__stack_chk_guard, STACK_GUARD_LINK_VALUE);
}

/* --- crash tests: each ends the run ---------------------------------------------- */

static volatile bool keep_recursing = true;
static volatile unsigned int deepest;

/* 264 bytes or so a call, until the stack runs out. */
static noinline unsigned int recurse(unsigned int depth)
{
    volatile uint8_t frame[256];

    frame[0] = (uint8_t)depth;
    deepest = depth;
    if (keep_recursing)
        return recurse(depth + 1) + frame[0];
    return frame[0];
}

/* Expected: "stack overflow on CPU 0" and status 2 (tests/run-all.sh). */
SELFTEST_MANUAL(crash, stack_overflow)
{
    printk("crash: recursing until the stack of CPU %u overflows\n", smp_processor_id());
    recurse(0);
    EXPECT(false);              /* not reached */
}

static void recurse_on(unsigned int cpu, void *arg)
{
    (void)arg;
    printk("crash: recursing until the stack of CPU %u overflows\n", cpu);
    recurse(0);
}

/* Expected at SMP=2: "stack overflow on CPU 1" and status 2. */
SELFTEST_MANUAL(crash, stack_overflow_cpu1)
{
    if (!EXPECT(nr_online_cpus >= 2 && pcpu[1].online)) {
        selftest_diag("needs a second CPU (SMP=2)");
        return;
    }
    smp_call_on(1, recurse_on, NULL);
    EXPECT(false);              /* not reached: CPU 1's report ends the run */
}

static char *volatile smash_target;

/* Writes 32 bytes into a 16-byte array: over the guard the protector put above it. */
static noinline void smash(void)
{
    char buf[16];

    smash_target = buf;
    memset(smash_target, 'x', 32);
    printk("crash: wrote 32 bytes into a 16-byte array at %p\n", (void *)buf);
}

/* Expected: "stack smashing detected on CPU 0" and status 2. */
SELFTEST_MANUAL(crash, stack_smash)
{
    smash();
    EXPECT(false);              /* not reached: the check on smash()'s return stops the run */
}
