/*
 * The C side of boot, on the boot CPU, with the MMU on and the image at its
 * link address: find and check the device tree, move the console to the UART
 * it names, set up memory (boot allocator, frame table, xenheap, domheap),
 * run the self-tests or benchmarks selected on the command line,
 * and end the run with their verdict.
 */
#include <arch/machine.h>
#include <asm/console.h>
#include <asm/gic.h>
#include <asm/layout.h>
#include <asm/pgtable.h>
#include <asm/pmu.h>
#include <asm/setup.h>
#include <asm/smp.h>
#include <asm/stack_protector.h>
#include <asm/sysregs.h>
#include <asm/walk_check.h>
#include <domain/dom0_build.h>
#include <dt/bootinfo.h>
#include <inttypes.h>
#include <lib/bootargs.h>
#include <lib/lib.h>
#include <mm/pt.h>
#include <mm/setup_mm.h>
#include <mm/vmap.h>
#include <test/bench.h>
#include <test/selftest.h>

extern char _start[], _end[];

uint32_t phys_offset;

static struct bootinfo bootinfo;

const struct bootinfo *boot_info(void);

paddr_t image_phys_start(void) { return (paddr_t)(uintptr_t)_start + phys_offset; }
paddr_t image_phys_end(void) { return (paddr_t)(uintptr_t)_end + phys_offset; }

const struct bootinfo *boot_info(void) { return &bootinfo; }
/* The device tree the hypervisor booted with, mapped for good: guests' trees are made from it. */
static const void *host_fdt;
const void *boot_fdt(void) { return host_fdt; }

static void __noreturn boot_fail(const char *what)
{
    printk("boot: %s\n", what);
    printk("boot: stopping\n");
    arch_exit(1);
}

/*
 * The device tree's window, DTB_VIRT_START: two level-3 tables of the image,
 * linked into empty level-2 entries at boot, so that mapping the blob needs
 * no allocator. A blob of DTB_MAX_SIZE starting anywhere in a page spans at
 * most 513 pages.
 */
static lpae_t dtb_third[2][LPAE_ENTRIES] __attribute__((aligned(4096)));

#define FDT_MAGIC_BE    0xd00dfeedu
#define FDT_HEADER_SIZE 40u     /* struct fdt_header: ten 32-bit fields */

/* A big-endian word at any alignment (HSCTLR.A faults unaligned loads). */
static uint32_t read_be32(const volatile uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Maps the pages holding [pa, pa + bytes) at DTB_VIRT_START + (pa's page offset), read-only. */
static void map_dtb_pages(paddr_t pa, size_t bytes)
{
    paddr_t first = pa & ~(paddr_t)(PAGE_SIZE - 1);
    unsigned long pages = (unsigned long)((ROUNDUP(pa + bytes, (paddr_t)PAGE_SIZE) - first) >>
                                          PAGE_SHIFT);

    if (map_pages_to_xen(DTB_VIRT_START, paddr_to_mfn(first), pages, PAGE_HYPERVISOR_RO) != 0)
        boot_fail("cannot map the device tree");
}

/*
 * Maps the device tree read-only at DTB_VIRT_START, page by page: only the
 * pages the blob occupies, as its header's totalsize says (at most
 * DTB_MAX_SIZE). 2 MiB blocks would also map whatever surrounds the blob,
 * which on a real board can be MMIO or nothing at all, as Normal memory the
 * CPU may read speculatively. Returns the blob's VA and, in avail, how many
 * bytes from there are mapped.
 */
static const void *map_device_tree(paddr_t pa, size_t *avail)
{
    const volatile uint8_t *fdt = (const volatile uint8_t *)(DTB_VIRT_START +
                                                             (uintptr_t)(pa & (PAGE_SIZE - 1)));
    size_t bytes = FDT_HEADER_SIZE;
    uint32_t total;

    BUILD_BUG_ON(DTB_MAX_SIZE + PAGE_SIZE > 2 * LPAE_ENTRIES * PAGE_SIZE);
    BUILD_BUG_ON(DTB_VIRT_SIZE < 2 * LPAE_ENTRIES * PAGE_SIZE);
    for (unsigned int i = 0; i < 2; i++) {
        lpae_t *l2e = &boot_second[(DTB_VIRT_START >> LPAE_L2_SHIFT) + i];

        BUG_ON(pte_valid(read_pte(l2e)));
        write_pte(l2e, image_virt_to_phys(dtb_third[i]) | LPAE_TABLE);
    }
    dsb(ishst);
    isb();

    /* The header first; then as much as it says, if it is a device tree at all. */
    map_dtb_pages(pa, bytes);
    total = read_be32(fdt + 4);
    if (read_be32(fdt) == FDT_MAGIC_BE && total > bytes) {
        bytes = min((size_t)total, (size_t)DTB_MAX_SIZE);
        map_dtb_pages(pa, bytes);
    }
    *avail = bytes;
    return (const void *)fdt;
}

static void check_cpu(void)
{
    uint32_t mmfr3 = READ_CP32(ID_MMFR3);

    printk("cpu: MIDR 0x%08" PRIx32 ", MPIDR 0x%08" PRIx32 "\n", READ_CP32(MIDR), READ_CP32(MPIDR));
    /* Our page-table updates rely on the walker snooping the data cache. */
    if (((mmfr3 >> 20) & 0xf) == 0)
        boot_fail("this CPU's table walks are not coherent with its caches "
                  "(ID_MMFR3.CohWalk = 0); page-table updates would need cache cleaning");
}

/* The console's name in console messages (kept by the console). */
static char console_name[BOOTINFO_PATH_LEN + 40];

static void use_device_tree_console(const struct bootinfo *bi)
{
    if (!bi->has_console) {
        printk("console: the device tree names no usable PL011; staying on the early UART\n");
        return;
    }
    fmt_snprintf(console_name, sizeof(console_name), "the PL011 at 0x%llx (%s)",
                 (unsigned long long)bi->console_base, bi->console_path);
    set_fixmap(FIXMAP_CONSOLE, bi->console_base, true);
    console_switch((volatile void *)(FIXMAP_ADDR(FIXMAP_CONSOLE) +
                                      (uintptr_t)(bi->console_base & 0xfff)), console_name);
}

/*
 * setup_mm with its cost in instructions (exact under qemu -icount shift=0,
 * which make bench uses): the frame table and the heap handover should cost
 * a few stores per RAM page, never a page's worth.
 */
static void measure_setup_mm(const struct bootinfo *bi)
{
    uint32_t start, spent;
    unsigned long pages;

    pmu_init();
    start = pmu_instructions();
    setup_mm(bi);
    spent = pmu_instructions() - start;
    pages = mm_layout()->ram_pages;
    /* PMU cycles are instructions only under -icount shift=0 (make bench). */
    printk("mm: setup_mm took %lu PMU cycles for %lu RAM pages: %lu.%02lu per page "
           "(instructions under qemu -icount shift=0)\n",
           (unsigned long)spent, pages, (unsigned long)(spent / pages),
           (unsigned long)((uint64_t)spent * 100 / pages % 100));
}

/*
 * Once vmap exists, the UART is reached like any other device, through
 * ioremap; its fixmap slot is released.
 */
static void console_to_ioremap(const struct bootinfo *bi)
{
    const char *now;
    char *base;

    /* Not if the tree names none, nor if it has been given up meanwhile. */
    if (!bi->has_console || !console_uart(&now) || now != console_name)
        return;
    base = ioremap(bi->console_base & ~(paddr_t)0xfff, PAGE_SIZE);
    if (!base) {
        printk("console: ioremap of 0x%llx failed; staying on the fixmap\n",
               (unsigned long long)bi->console_base);
        return;
    }
    console_switch(base + (bi->console_base & 0xfff), console_name);
    clear_fixmap(FIXMAP_CONSOLE);
    printk("console: PL011 now reached through ioremap at %p\n", (void *)base);
}

/*
 * Builds dom0 from the boot modules and runs it; its verdict ends the run, on whichever CPU
 * handles its shutdown: SYSTEM_OFF is success (0), anything else a failure with the
 * shutdown code (SYSTEM_RESET 1, crashed 3, every VCPU off 4).
 */
static void __noreturn run_dom0(void)
{
    static struct domain dom0;
    struct dom0_options o;
    int code;

    if (dom0_options_parse(bootinfo.bootargs, &o) || construct_dom0(&dom0, &bootinfo, host_fdt, &o))
        boot_fail("dom0 could not be built");
    dom0.shutdown_ends_run = true;
    code = domain_run(&dom0);
    /* Only when no VCPU shut it down: every VCPU called CPU_OFF, or one could not start. */
    printk("dom0: stopped: %s; the run fails\n", shutdown_name(code));
    arch_exit(shutdown_exit_status(code));
}

/*
 * Built without the stack protector: it is live when the guard changes
 * (asm/stack_protector.h), and boot/head.S, its caller, checks nothing.
 */
void start_hyp(uint32_t offset, uint32_t dtb_hint) __attribute__((no_stack_protector));
void start_hyp(uint32_t offset, uint32_t dtb_hint)
{
    char err[BOOTINFO_ERR_LEN];
    char filter[BOOTINFO_BOOTARGS_LEN];
    paddr_t dtb_pa = dtb_hint ? dtb_hint : DEFAULT_DTB_PA;
    const void *fdt;
    size_t avail;
    int failed;

    phys_offset = offset;
    smp_init_boot_cpu();
    printk("\nhypmem: ARM32 LPAE Hyp-mode memory subsystem\n");
    printk("boot: image at 0x%llx-0x%llx (VA 0x%08lx), Hyp mode, MMU on\n",
           (unsigned long long)image_phys_start(), (unsigned long long)image_phys_end(),
           (unsigned long)(uintptr_t)_start);
    check_cpu();
    smp_check_coherency(0);

    fdt = map_device_tree(dtb_pa, &avail);
    host_fdt = fdt;
    if (bootinfo_parse(fdt, avail, dtb_pa, image_phys_start(), image_phys_end(), &bootinfo,
                       err) != 0) {
        printk("device tree at 0x%llx: %s\n", (unsigned long long)dtb_pa, err);
        boot_fail("cannot continue without a valid device tree");
    }
    /* From the tree's seeds, now that it is known to be sound. */
    __stack_chk_guard = stack_guard_from_boot(fdt);
    use_device_tree_console(&bootinfo);
    bootinfo_print(&bootinfo);
    if (!check_table_walk_above_4g(&bootinfo))
        boot_fail("page tables above 4 GiB would translate wrongly on this machine");
    measure_setup_mm(&bootinfo);
    smp_boot_cpus(&bootinfo);
    vm_init();
    console_to_ioremap(&bootinfo);
    gic_init(host_fdt);

    if (bootargs_get(bootinfo.bootargs, "bench", filter, sizeof(filter))) {
        unsigned long iterations = 1000;

        if (bootargs_get_number(bootinfo.bootargs, "bench_iterations", 1, BENCH_MAX_ITERATIONS,
                                &iterations) < 0)
            boot_fail("bench_iterations must be a number of operations");
        arch_exit(bench_run_all(filter, iterations) < 0 ? 1 : 0);
    }
    if (!bootargs_get(bootinfo.bootargs, "test", filter, sizeof(filter))) {
        if (bootinfo_first_module(&bootinfo, BOOTMOD_KERNEL))
            run_dom0();
        filter[0] = '\0';
    }
    failed = selftest_run_all(filter);
    printk("selftest: %s\n", failed ? "FAILED" : "all passed");
    arch_exit(failed ? 1 : 0);
}
