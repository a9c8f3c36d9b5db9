/*
 * Whole guests built from the boot modules, as dom0 is: the runner (tests/run-all.sh)
 * boots the image with the test guest (tests/guest/) as a multiboot,kernel module and an
 * initrd of random bytes whose checksum it passes in the guest's bootargs. The guest checks
 * from inside what it was promised (its RAM and nothing else, zero beyond what was loaded,
 * the initrd intact, PSCI, its UART) and powers off only if all of that held.
 *
 * Here the hypervisor's side: one guest; two built and destroyed in turn, with the heap and
 * VMIDs back where they were; two side by side on two CPUs; one guest with two VCPUs; and
 * with RAM above 4 GiB, a guest whose RAM is all there. Without a kernel module every test
 * is skipped, never passed.
 */
#include <asm/setup.h>
#include <asm/smp.h>
#include <domain/domain.h>
#include <domain/domain_build.h>
#include <domain/vcpu.h>
#include <dt/bootinfo.h>
#include <lib/lib.h>
#include <mm/mm.h>
#include <mm/p2m.h>
#include <mm/page_alloc.h>
#include <test/selftest.h>

const struct bootinfo *boot_info(void);

#define TEST_GUEST_RAM (16ULL << 20)

struct guest {
    struct domain d;
    char cmdline[BOOTINFO_BOOTARGS_LEN + 16];
};

static const struct bootmodule *kernel_module(void)
{
    const struct bootmodule *k = bootinfo_first_module(boot_info(), BOOTMOD_KERNEL);

    if (!k)
        selftest_skip("no guest kernel among the boot modules (tests/run-all.sh gives one)");
    return k;
}

/*
 * Creates and builds g as domain id, VCPU n on CPU first_cpu + n, with the module's
 * bootargs plus a seed of its own (so that two guests write different patterns).
 */
static bool build(struct guest *g, domid_t id, unsigned int vcpus, unsigned int first_cpu)
{
    const struct bootinfo *bi = boot_info();
    struct kernel_info kinfo = {
        .d = &g->d,
        .mem_bytes = TEST_GUEST_RAM,
        .nr_vcpus = vcpus,
        .give_console = id == 1,        /* one guest gets the UART, as dom0 would */
        .kernel = bootinfo_first_module(bi, BOOTMOD_KERNEL),
        .initrd = bootinfo_first_module(bi, BOOTMOD_RAMDISK),
        .cmdline = g->cmdline,
    };

    fmt_snprintf(g->cmdline, sizeof(g->cmdline), "%s seed=%u", kinfo.kernel->cmdline, id);
    if (!EXPECT_EQ(domain_create(&g->d, id, vcpus, TEST_GUEST_RAM >> PAGE_SHIFT, first_cpu), 0))
        return false;
    if (!EXPECT_EQ(construct_domain(&kinfo, boot_fdt()), 0)) {
        EXPECT_EQ(domain_destroy(&g->d), 0);
        return false;
    }
    vcpu_set_boot_regs(g->d.vcpu[0], (uint32_t)kinfo.entry, 0, 0xffffffffu,
                       (uint32_t)kinfo.dtb_ipa);
    return true;
}

/* Builds, runs to its end and destroys one guest; true if it passed its own checks. */
static bool run_one(domid_t id, unsigned int vcpus)
{
    static struct guest g;
    int code;

    if (!build(&g, id, vcpus, smp_processor_id()))
        return false;
    code = domain_run(&g.d);
    EXPECT_EQ(domain_destroy(&g.d), 0);
    return EXPECT_EQ(code, SHUTDOWN_poweroff);
}

SELFTEST(guest, one_vcpu_checks_its_memory_from_inside)
{
    unsigned long before = heap_free_pages();
    unsigned int vmids = p2m_vmids_in_use();

    if (!kernel_module())
        return;
    run_one(1, 1);
    EXPECT_EQ(heap_free_pages(), before);
    EXPECT_EQ(p2m_vmids_in_use(), vmids);
}

SELFTEST(guest, two_built_and_destroyed_in_turn)
{
    unsigned long before = heap_free_pages();
    unsigned int vmids = p2m_vmids_in_use();

    if (!kernel_module())
        return;
    /* The second gets pages the first wrote its pattern into: it must find zeros. */
    run_one(1, 1);
    EXPECT_EQ(heap_free_pages(), before);
    run_one(2, 1);
    EXPECT_EQ(heap_free_pages(), before);
    EXPECT_EQ(p2m_vmids_in_use(), vmids);
}

SELFTEST(guest, ram_above_4g_when_the_machine_has_it)
{
    static struct guest g;
    const struct bootinfo *bi = boot_info();
    unsigned long low = 0;

    if (!kernel_module())
        return;
    if (bi->ram[bi->nr_ram - 1].end <= (1ULL << 32)) {
        selftest_skip("no RAM above 4 GiB (boot with MEM=6G)");
        return;
    }
    if (!build(&g, 1, 1, smp_processor_id()))
        return;
    /* The heap hands out its highest frames first: all of a small guest is above 4 GiB. */
    for (paddr_t off = 0; off < g.d.mem.bank[0].size; off += PAGE_SIZE) {
        p2m_type_t t;
        mfn_t m = p2m_lookup(p2m_get_hostp2m(&g.d), gaddr_to_gfn(g.d.mem.bank[0].start + off), &t);

        if (mfn_to_paddr(m) < (1ULL << 32))
            low++;
    }
    EXPECT_EQ(low, 0);
    EXPECT_EQ(domain_run(&g.d), SHUTDOWN_poweroff);
    EXPECT_EQ(domain_destroy(&g.d), 0);
}

SELFTEST(guest, two_side_by_side_on_two_cpus)
{
    static struct guest a, b;
    unsigned long before = heap_free_pages();
    unsigned int here = smp_processor_id();

    if (!kernel_module())
        return;
    if (here + 1 >= nr_online_cpus) {
        selftest_skip("needs a second CPU (boot with SMP=2 or more)");
        return;
    }
    if (!build(&a, 1, 1, here))
        return;
    if (!build(&b, 2, 1, here + 1)) {
        EXPECT_EQ(domain_destroy(&a.d), 0);
        return;
    }
    if (EXPECT_EQ(domain_start(&b.d), 0)) {
        EXPECT_EQ(domain_run(&a.d), SHUTDOWN_poweroff);
        EXPECT_EQ(domain_wait(&b.d), SHUTDOWN_poweroff);
    }
    EXPECT_EQ(domain_destroy(&a.d), 0);
    EXPECT_EQ(domain_destroy(&b.d), 0);
    EXPECT_EQ(heap_free_pages(), before);
}

SELFTEST(guest, one_guest_with_two_vcpus)
{
    if (!kernel_module())
        return;
    if (smp_processor_id() + 1 >= nr_online_cpus) {
        selftest_skip("needs a second CPU (boot with SMP=2 or more)");
        return;
    }
    run_one(1, 2);
}
