/*
 * The world switch and every kind of guest exit, with tiny guests (guest_snippets.S) that
 * run at PL1 under stage 2: PSCI by HVC and by a trapped SMC, SYSTEM_OFF and SYSTEM_RESET
 * as verdicts, console_io, an unknown HVC injected back as an undefined instruction, reads
 * and writes outside the guest's RAM reported and injected as external aborts, a trapped
 * WFI, CPU_ON/CPU_OFF of a second VCPU on a second CPU, and the trapped distributor of a
 * domain given the GIC. Each test builds a domain,
 * runs it to its end, destroys it and checks that the heap and the VMIDs are back where
 * they were.
 */
#include <arch/guest.h>
#include <arch/mm.h>
#include <asm/smp.h>
#include <asm/sysregs.h>
#include <domain/domain.h>
#include <domain/domain_build.h>
#include <domain/vcpu.h>
#include <lib/lib.h>
#include <mm/domain_page.h>
#include <mm/mm.h>
#include <mm/p2m.h>
#include <mm/page_alloc.h>
#include <string.h>
#include <test/selftest.h>

#define SNIPPET(name) extern const char guest_snippet_##name[], guest_snippet_##name##_end[]
SNIPPET(poweroff);
SNIPPET(reset);
SNIPPET(read_outside);
SNIPPET(write_outside);
SNIPPET(psci_queries);
SNIPPET(console);
SNIPPET(unknown_hvc);
SNIPPET(two_vcpus);
SNIPPET(actlr);
SNIPPET(gic_dist);

struct snippet {
    const char *start, *end;
};
#define SNIP(name) ((struct snippet){ guest_snippet_##name, guest_snippet_##name##_end })

#define GUEST_RAM (1UL << 20)

struct run_result {
    int shutdown;           /* the domain's verdict, or a negative errno if it never ran */
    bool balanced;          /* free pages and VMIDs back where they were */
};

/* Puts the snippet at the start of d's RAM, through its p2m, as a builder would. */
static bool load_snippet(struct domain *d, struct snippet s)
{
    size_t len = (size_t)(s.end - s.start);
    p2m_type_t t;
    mfn_t mfn = p2m_lookup(p2m_get_hostp2m(d), gaddr_to_gfn(GUEST_RAM0_BASE), &t);
    char *page;

    if (!EXPECT(len <= PAGE_SIZE) || !EXPECT(!mfn_eq(mfn, INVALID_MFN)))
        return false;
    page = map_domain_page(mfn);
    memcpy(page, s.start, len);
    arch_dcache_clean_inval(page, len);         /* the guest runs with its caches off */
    arch_icache_invalidate_all();               /* and no older code there may be fetched */
    unmap_domain_page(page);
    return true;
}

/*
 * Builds a domain with vcpus VCPUs from this CPU up, runs the snippet, destroys it. With
 * gic, the domain is given QEMU's GIC as dom0 is (its distributor at 0x08000000 trapped).
 */
static struct run_result run_snippet_with(struct snippet s, uint32_t arg, unsigned int vcpus,
                                          bool gic)
{
    static struct domain d;
    unsigned long free_before = heap_free_pages();
    unsigned int vmids = p2m_vmids_in_use();
    struct run_result r = { .shutdown = -1 };

    if (!EXPECT_EQ(domain_create(&d, 30, vcpus, GUEST_RAM / PAGE_SIZE, smp_processor_id()), 0))
        return r;
    if (gic) {
        d.given_gic = true;
        d.vgic = (struct vgic_dist){ .base = 0x08000000, .size = 0x10000,
                                     .kept = arch_gic_kept(),
                                     .first_cpu = smp_processor_id(), .nr_vcpus = vcpus };
    }
    if (EXPECT_EQ(allocate_memory(&d, GUEST_RAM), 0) && load_snippet(&d, s)) {
        vcpu_set_boot_regs(d.vcpu[0], (uint32_t)GUEST_RAM0_BASE, 0, arg, 0);
        r.shutdown = domain_run(&d);
    }
    EXPECT_EQ(domain_destroy(&d), 0);
    r.balanced = heap_free_pages() == free_before && p2m_vmids_in_use() == vmids;
    return r;
}

static struct run_result run_snippet(struct snippet s, uint32_t arg, unsigned int vcpus)
{
    return run_snippet_with(s, arg, vcpus, false);
}

SELFTEST(guest_exits, system_off_is_a_pass)
{
    struct run_result r = run_snippet(SNIP(poweroff), 0, 1);

    EXPECT_EQ(r.shutdown, SHUTDOWN_poweroff);
    EXPECT(r.balanced);
}

SELFTEST(guest_exits, system_reset_is_a_failure)
{
    struct run_result r = run_snippet(SNIP(reset), 0, 1);

    EXPECT_EQ(r.shutdown, SHUTDOWN_reboot);
    EXPECT(r.balanced);
}

SELFTEST(guest_exits, psci_by_hvc_and_smc_and_a_trapped_wfi)
{
    struct run_result r = run_snippet(SNIP(psci_queries), 0, 1);

    EXPECT_EQ(r.shutdown, SHUTDOWN_poweroff);
    EXPECT(r.balanced);
}

SELFTEST(guest_exits, console_io_prints_the_guests_text)
{
    struct run_result r = run_snippet(SNIP(console), 0, 1);

    EXPECT_EQ(r.shutdown, SHUTDOWN_poweroff);
    EXPECT(r.balanced);
}

SELFTEST(guest_exits, unknown_hvc_is_an_undefined_instruction)
{
    struct run_result r = run_snippet(SNIP(unknown_hvc), 0, 1);

    EXPECT_EQ(r.shutdown, SHUTDOWN_poweroff);
    EXPECT(r.balanced);
}

SELFTEST(guest_exits, actlr_reads_the_cpus_and_ignores_writes)
{
    struct run_result r = run_snippet(SNIP(actlr), READ_CP32(ACTLR), 1);

    EXPECT_EQ(r.shutdown, SHUTDOWN_poweroff);
    EXPECT(r.balanced);
}

/* Outside RAM: below it, right after it, and QEMU's GIC distributor (never given). */
static const uint32_t outside[] = {
    (uint32_t)GUEST_RAM0_BASE - 4, (uint32_t)GUEST_RAM0_BASE + GUEST_RAM, 0x08000000u,
};

SELFTEST(guest_exits, read_outside_ram_is_an_injected_external_abort)
{
    for (unsigned int i = 0; i < ARRAY_SIZE(outside); i++) {
        struct run_result r = run_snippet(SNIP(read_outside), outside[i], 1);

        EXPECT_EQ(r.shutdown, SHUTDOWN_poweroff);
        EXPECT(r.balanced);
        /* The snippet set its VBAR: a stopped VCPU leaves the CPU's PL1 state clean. */
        EXPECT_EQ(READ_CP32(NS_VBAR), 0);
    }
}

SELFTEST(guest_exits, write_outside_ram_is_an_injected_external_abort)
{
    for (unsigned int i = 0; i < ARRAY_SIZE(outside); i++) {
        struct run_result r = run_snippet(SNIP(write_outside), outside[i], 1);

        EXPECT_EQ(r.shutdown, SHUTDOWN_poweroff);
        EXPECT(r.balanced);
    }
}

SELFTEST(guest_exits, cpu_on_starts_a_second_vcpu_on_the_next_cpu)
{
    struct run_result r;

    if (nr_online_cpus < 2 || smp_processor_id() + 1 >= nr_online_cpus) {
        selftest_skip("needs a second CPU (boot with SMP=2 or more)");
        return;
    }
    r = run_snippet(SNIP(two_vcpus), 0, 2);
    EXPECT_EQ(r.shutdown, SHUTDOWN_poweroff);
    EXPECT(r.balanced);
}

SELFTEST(guest_exits, gic_distributor_accesses_are_decoded_and_filtered)
{
    struct run_result r;

    if (!arch_gic_kept()) {
        selftest_skip("the tree has no GICv2 with a hypervisor interface");
        return;
    }
    r = run_snippet_with(SNIP(gic_dist), 0x08000000u, 1, true);
    EXPECT_EQ(r.shutdown, SHUTDOWN_poweroff);
    EXPECT(r.balanced);
}
