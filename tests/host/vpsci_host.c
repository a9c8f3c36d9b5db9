/*
 * PSCI emulation and hypercalls on the host, where no guest runs: the handlers are called
 * with a struct guest_regs as a guest's exit would leave it, and arch_vcpu_kick() only
 * records what CPU_ON asked for (arch/host/guest.c). The image runs the same paths from
 * real guests (tests/arm32/guest_exits.c); here every refusal is reached.
 */
#include <domain/domain.h>
#include <domain/domain_build.h>
#include <domain/hypercall.h>
#include <domain/vcpu.h>
#include <domain/vpsci.h>
#include <host/guest.h>
#include <lib/errno.h>
#include <lib/psci.h>
#include <mm/domain_page.h>
#include <mm/mm.h>
#include <mm/p2m.h>
#include <mm/page_alloc.h>
#include <string.h>
#include <test/selftest.h>

static struct domain dom;

struct fixture {
    unsigned long free_before;
    unsigned int vmids;
};

static bool begin(struct fixture *fx, unsigned int vcpus)
{
    fx->free_before = heap_free_pages();
    fx->vmids = p2m_vmids_in_use();
    memset(&host_kicks, 0, sizeof(host_kicks));
    if (!EXPECT_EQ(domain_create(&dom, 40, vcpus, 256, 0), 0))
        return false;
    return EXPECT_EQ(allocate_memory(&dom, 256 * PAGE_SIZE), 0);
}

static void end(const struct fixture *fx)
{
    EXPECT_EQ(domain_destroy(&dom), 0);
    EXPECT_EQ(heap_free_pages(), fx->free_before);
    EXPECT_EQ(p2m_vmids_in_use(), fx->vmids);
}

/* Calls PSCI function fn(a1, a2, a3) from VCPU v; returns r0, *carries_on whether v goes on. */
static int32_t psci(unsigned int v, uint32_t fn, uint32_t a1, uint32_t a2, uint32_t a3,
                    bool *carries_on)
{
    struct guest_regs regs = { .r = { fn, a1, a2, a3 } };
    bool on = vpsci_call(dom.vcpu[v], &regs);

    if (carries_on)
        *carries_on = on;
    return (int32_t)regs.r[0];
}

SELFTEST(vpsci_host, queries)
{
    struct fixture fx;

    if (!begin(&fx, 1))
        goto out;
    EXPECT_EQ(psci(0, PSCI_VERSION, 0, 0, 0, NULL), PSCI_VERSION_1_0);
    EXPECT_EQ(psci(0, PSCI_FEATURES, PSCI_CPU_ON, 0, 0, NULL), PSCI_SUCCESS);
    EXPECT_EQ(psci(0, PSCI_FEATURES, PSCI_SYSTEM_RESET, 0, 0, NULL), PSCI_SUCCESS);
    EXPECT_EQ(psci(0, PSCI_FEATURES, PSCI_CPU_SUSPEND, 0, 0, NULL), PSCI_NOT_SUPPORTED);
    EXPECT_EQ(psci(0, PSCI_FEATURES, 0xc4000003u, 0, 0, NULL), PSCI_NOT_SUPPORTED);
    EXPECT_EQ(psci(0, PSCI_MIGRATE_INFO_TYPE, 0, 0, 0, NULL), PSCI_TOS_NOT_PRESENT);
    EXPECT_EQ(psci(0, PSCI_CPU_SUSPEND, 0, 0, 0, NULL), PSCI_NOT_SUPPORTED);
    EXPECT_EQ(psci(0, 0xc4000003u, 1, 0, 0, NULL), PSCI_NOT_SUPPORTED);   /* SMC64 CPU_ON */
    EXPECT_EQ(dom.shutdown_code, SHUTDOWN_running);
out:
    end(&fx);
}

SELFTEST(vpsci_host, cpu_on_checks_then_starts_the_vcpu)
{
    struct fixture fx;
    const uint32_t entry = (uint32_t)GUEST_RAM0_BASE + 0x100;
    bool on;

    if (!begin(&fx, 2))
        goto out;
    dom.vcpu[0]->power = VCPU_ON;
    EXPECT_EQ(psci(0, PSCI_CPU_ON, 2, entry, 7, NULL), PSCI_INVALID_PARAMETERS);
    EXPECT_EQ(psci(0, PSCI_CPU_ON, 0x101, entry, 7, NULL), PSCI_INVALID_PARAMETERS);
    EXPECT_EQ(psci(0, PSCI_CPU_ON, 1, 0x1000, 7, NULL), PSCI_INVALID_ADDRESS);
    EXPECT_EQ(psci(0, PSCI_CPU_ON, 1, (uint32_t)GUEST_RAM0_BASE + 256 * PAGE_SIZE, 7, NULL),
              PSCI_INVALID_ADDRESS);
    EXPECT_EQ(psci(0, PSCI_CPU_ON, 0, entry, 7, NULL), PSCI_ALREADY_ON);
    EXPECT_EQ(host_kicks.count, 0);
    EXPECT_EQ(psci(0, PSCI_AFFINITY_INFO, 1, 0, 0, NULL), PSCI_AFFINITY_OFF);

    EXPECT_EQ(psci(0, PSCI_CPU_ON, 1, entry | 1, 7, &on), PSCI_SUCCESS);
    EXPECT(on);
    EXPECT_EQ(host_kicks.count, 1);
    EXPECT(host_kicks.last == dom.vcpu[1]);
    EXPECT_EQ(dom.vcpu[1]->regs.pc, entry);                  /* bit 0: Thumb */
    EXPECT_EQ(dom.vcpu[1]->regs.cpsr, GUEST_BOOT_CPSR | PSR_THUMB);
    EXPECT_EQ(dom.vcpu[1]->regs.r[0], 7);
    EXPECT_EQ(psci(0, PSCI_AFFINITY_INFO, 1, 0, 0, NULL), PSCI_AFFINITY_ON);
    EXPECT_EQ(psci(0, PSCI_AFFINITY_INFO, 1, 1, 0, NULL), PSCI_INVALID_PARAMETERS);
    EXPECT_EQ(psci(0, PSCI_CPU_ON, 1, entry, 7, NULL), PSCI_ALREADY_ON);

    /* CPU_OFF: the caller stops; while its loop has not ended, CPU_ON says ON_PENDING. */
    psci(1, PSCI_CPU_OFF, 0, 0, 0, &on);
    EXPECT(!on);
    EXPECT_EQ(psci(0, PSCI_AFFINITY_INFO, 1, 0, 0, NULL), PSCI_AFFINITY_OFF);
    EXPECT_EQ(psci(0, PSCI_CPU_ON, 1, entry, 7, NULL), PSCI_ON_PENDING);
    dom.vcpu[1]->running = false;                             /* its CPU left the loop */

    /* A CPU that cannot take the VCPU: INTERNAL_FAILURE, and the VCPU stays off. */
    host_kicks.result = -EBUSY;
    EXPECT_EQ(psci(0, PSCI_CPU_ON, 1, entry, 7, NULL), PSCI_INTERNAL_FAILURE);
    EXPECT_EQ(dom.vcpu[1]->power, VCPU_OFF);
    EXPECT(!dom.vcpu[1]->running);
    host_kicks.result = 0;
    dom.vcpu[0]->running = false;
out:
    end(&fx);
}

SELFTEST(vpsci_host, system_off_and_reset_shut_the_domain_down_once)
{
    struct fixture fx;
    bool on = true;

    if (!begin(&fx, 1))
        goto out;
    psci(0, PSCI_SYSTEM_RESET, 0, 0, 0, &on);
    EXPECT(!on);
    EXPECT_EQ(dom.shutdown_code, SHUTDOWN_reboot);
    psci(0, PSCI_SYSTEM_OFF, 0, 0, 0, &on);                   /* the first reason stays */
    EXPECT(!on);
    EXPECT_EQ(dom.shutdown_code, SHUTDOWN_reboot);
out:
    end(&fx);
}

/* Writes text into d's RAM at IPA ipa, through the p2m. */
static void put_guest_text(paddr_t ipa, const char *text, size_t len)
{
    p2m_type_t t;
    mfn_t mfn = p2m_lookup(p2m_get_hostp2m(&dom), gaddr_to_gfn(ipa), &t);
    char *page = map_domain_page(mfn);

    memcpy(page + (ipa & (PAGE_SIZE - 1)), text, len);
    unmap_domain_page(page);
}

static long console_io(uint32_t cmd, uint32_t len, uint32_t gva)
{
    struct guest_regs regs = { .r = { cmd, len, gva } };

    regs.r[12] = __HYPERVISOR_console_io;
    do_hypercall(dom.vcpu[0], &regs);
    return (int32_t)regs.r[0];
}

SELFTEST(vpsci_host, console_io_reads_guest_memory_across_pages)
{
    struct fixture fx;
    const paddr_t ipa = GUEST_RAM0_BASE + PAGE_SIZE - 6;    /* the text spans two pages */
    const char text[] = "hello\nacross pages";
    struct guest_regs regs = { .r = { 0 } };

    if (!begin(&fx, 1))
        goto out;
    put_guest_text(ipa, text, 6);
    put_guest_text(ipa + 6, text + 6, sizeof(text) - 7);
    EXPECT_EQ(console_io(CONSOLEIO_write, sizeof(text) - 1, (uint32_t)ipa), sizeof(text) - 1);
    EXPECT_EQ(dom.console_len, strlen("across pages"));      /* waiting for its newline */
    guest_console_flush(&dom);
    EXPECT_EQ(dom.console_len, 0);
    EXPECT_EQ(console_io(CONSOLEIO_write, 0, (uint32_t)ipa), 0);
    EXPECT_EQ(console_io(1, 4, (uint32_t)ipa), -ENOSYS);     /* CONSOLEIO_read: not here */
    /* Outside the guest's RAM: nothing to read. */
    EXPECT_EQ(console_io(CONSOLEIO_write, 4, 0x1000), -EFAULT);
    /* Partly outside: the part inside is taken. */
    put_guest_text(GUEST_RAM0_BASE + 256 * PAGE_SIZE - 8, "the end\n", 8);
    EXPECT_EQ(console_io(CONSOLEIO_write, 16, (uint32_t)(GUEST_RAM0_BASE + 256 * PAGE_SIZE - 8)),
              8);
    guest_console_flush(&dom);
    regs.r[12] = 99;
    do_hypercall(dom.vcpu[0], &regs);
    EXPECT_EQ((int32_t)regs.r[0], -ENOSYS);
out:
    end(&fx);
}
