/*
 * The guest's device tree (common/domain/guest_dt.c) on both targets, built from real
 * trees: QEMU's own for virt with two CPUs (tests/dt/qemu-virt-smp2.dts, with a GIC that
 * has a child, the timer, and a PL011 that references a clock), and the hand-written
 * two-banks.dts (aliases, /reserved-memory, /memreserve/) and cells-1.dts (one-cell root).
 * The Makefile compiles them with dtc; they are embedded here with .incbin.
 *
 * Before a tree is used, the test adds what a hypervisor's tree carries and a guest must
 * never see: boot modules and a hypervisor property in /chosen, a /reserved-memory node
 * and a /memreserve/ entry. Each result is then checked with libfdt, independently of how
 * it was made: the exact memory nodes, /chosen's exact properties, the CPUs, PSCI, which
 * device nodes are left, and that every interrupt-parent and clocks phandle resolves.
 */
#include <domain/domain.h>
#include <domain/guest_dt.h>
#include <lib/errno.h>
#include <lib/lib.h>
#include <libfdt.h>
#include <string.h>
#include <test/selftest.h>

#include "test_dtbs.h"

/* Global (tests/test_dtbs.h) but hidden: the symbols stay inside the test binary. */
#define EMBED_DTB(sym, name)                                                   \
    __asm__(".pushsection .rodata\n.balign 8\n.global " #sym "\n.hidden " #sym "\n"  \
            #sym ":\n.incbin \"" TEST_DTB_DIR "/" name ".dtb\"\n.popsection\n")

EMBED_DTB(qemu_virt_dtb, "qemu-virt-smp2");
EMBED_DTB(two_banks_dtb, "two-banks");
EMBED_DTB(cells1_dtb, "cells-1");

static uint8_t host[16384] __attribute__((aligned(8)));
static uint8_t out[16384] __attribute__((aligned(8)));
static struct domain dom;
static struct kernel_info kinfo;
static struct bootmodule kernel_mod, initrd_mod;

/* A copy of src with a hypervisor's additions. False (with a diagnostic) if libfdt fails. */
static bool host_tree(const void *src)
{
    static const char kcompat[] = "multiboot,kernel\0multiboot,module";
    int rc, chosen, rm, n;

    rc = fdt_open_into(src, host, sizeof(host));
    if (!rc)
        rc = fdt_add_mem_rsv(host, 0x7f000000, 0x10000);
    chosen = fdt_path_offset(host, "/chosen");
    if (!rc && chosen == -FDT_ERR_NOTFOUND)
        chosen = fdt_add_subnode(host, 0, "chosen");
    if (!rc && chosen < 0)
        rc = chosen;
    if (!rc)
        rc = fdt_setprop_string(host, chosen, "xen,dom0-bootargs", "hypervisor only");
    n = rc ? rc : fdt_add_subnode(host, chosen, "module@48000000");
    if (n < 0)
        rc = n;
    if (!rc)
        rc = fdt_setprop(host, n, "compatible", kcompat, sizeof(kcompat));
    rm = rc ? rc : fdt_path_offset(host, "/reserved-memory");
    if (!rc && rm == -FDT_ERR_NOTFOUND) {
        rm = fdt_add_subnode(host, 0, "reserved-memory");
        n = rm < 0 ? rm : fdt_add_subnode(host, rm, "hyp@7e000000");
        rc = n < 0 ? n : 0;
    }
    if (rc)
        selftest_diag("preparing the host tree: %s", fdt_strerror(rc));
    return rc == 0;
}

/* A domain with these banks (nothing allocated: make_guest_dt only reads them). */
static void setup(unsigned int nr_banks, unsigned int nr_vcpus, bool console, bool gic,
                  bool initrd)
{
    memset(&dom, 0, sizeof(dom));
    dom.domain_id = 7;
    dom.mem.nr_banks = nr_banks;
    dom.mem.bank[0].start = 0x40000000;
    dom.mem.bank[0].size = 0x10000000;
    dom.mem.bank[1].start = 0x200000000ULL;
    dom.mem.bank[1].size = 0x4000000;
    memset(&kinfo, 0, sizeof(kinfo));
    kernel_mod = (struct bootmodule){ .kind = BOOTMOD_KERNEL, .start = 0x48000000, .size = 1 };
    fmt_snprintf(kernel_mod.cmdline, sizeof(kernel_mod.cmdline), "console=hvc0 from-the-module");
    initrd_mod = (struct bootmodule){ .kind = BOOTMOD_RAMDISK, .start = 0x49000000, .size = 1 };
    kinfo.d = &dom;
    kinfo.nr_vcpus = nr_vcpus;
    kinfo.give_console = console;
    kinfo.give_gic_and_timer = gic;
    kinfo.kernel = &kernel_mod;
    if (initrd) {
        kinfo.initrd = &initrd_mod;
        kinfo.initrd_ipa = 0x4f000000;
        kinfo.initrd_size = 0x123456;
    }
}

static uint32_t cell(const void *fdt, int node, const char *name, unsigned int i)
{
    int len;
    const uint8_t *v = fdt_getprop(fdt, node, name, &len);

    if (!v || len < (int)(4 * (i + 1)))
        return 0xdeadbeef;
    return fdt32_ld((const fdt32_t *)(v + 4 * i));
}

static uint64_t u64_prop(const void *fdt, int node, const char *name)
{
    int len;
    const uint8_t *v = fdt_getprop(fdt, node, name, &len);

    return v && len == 8 ? fdt64_ld((const fdt64_t *)v) : 0xdeadbeefULL;
}

static bool str_prop_is(const void *fdt, int node, const char *name, const char *want)
{
    int len;
    const char *v = fdt_getprop(fdt, node, name, &len);

    if (v && len == (int)strlen(want) + 1 && memcmp(v, want, (size_t)len) == 0)
        return true;
    selftest_diag("%s is \"%.*s\", expected \"%s\"", name, v && len > 0 ? len : 0,
                  v ? v : "", want);
    return false;
}

/* Every interrupt-parent and every clocks phandle of the tree names a node. */
static unsigned int dangling_phandles(const void *fdt)
{
    unsigned int bad = 0;
    int node, depth = 0;

    for (node = 0; node >= 0; node = fdt_next_node(fdt, node, &depth)) {
        int len;
        const uint8_t *v = fdt_getprop(fdt, node, "interrupt-parent", &len);

        if (v && (len != 4 || fdt_node_offset_by_phandle(fdt, fdt32_ld((const fdt32_t *)v)) < 0))
            bad++;
        v = fdt_getprop(fdt, node, "clocks", &len);
        for (int i = 0; v && i + 4 <= len;) {
            int clk = fdt_node_offset_by_phandle(fdt, fdt32_ld((const fdt32_t *)(v + i)));

            if (clk < 0) {
                bad++;
                break;
            }
            i += 4 + 4 * (int)(fdt_getprop(fdt, clk, "#clock-cells", NULL)
                               ? cell(fdt, clk, "#clock-cells", 0) : 0);
        }
    }
    return bad;
}

/* Root children, in order, joined by spaces (memory nodes by name). */
static void root_children(const void *fdt, char *buf, size_t size)
{
    size_t used = 0;
    int node;

    buf[0] = '\0';
    fdt_for_each_subnode(node, fdt, 0) {
        const char *name = fdt_get_name(fdt, node, NULL);
        int n = fmt_snprintf(buf + used, size - used, "%s%s", used ? " " : "", name ? name : "?");

        if (n > 0 && (size_t)n < size - used)
            used += (size_t)n;
    }
}

/* The checks every guest tree must pass; console_reg is the PL011's host reg (2+2 cells). */
static void check_common(const void *fdt, uint64_t console_base)
{
    int node, len, count = 0, prop;
    char name[32];

    if (!EXPECT_EQ(fdt_check_full(fdt, fdt_totalsize(fdt)), 0))
        return;
    EXPECT_EQ(cell(fdt, 0, "#address-cells", 0), 2);
    EXPECT_EQ(cell(fdt, 0, "#size-cells", 0), 2);
    EXPECT_EQ(fdt_num_mem_rsv(fdt), 0);
    EXPECT_EQ(fdt_path_offset(fdt, "/reserved-memory"), -FDT_ERR_NOTFOUND);
    EXPECT_EQ(fdt_path_offset(fdt, "/aliases"), -FDT_ERR_NOTFOUND);
    EXPECT_EQ(fdt_node_offset_by_compatible(fdt, -1, "multiboot,module"), -FDT_ERR_NOTFOUND);
    EXPECT_EQ(dangling_phandles(fdt), 0);

    /* exactly one memory node per bank, with its reg */
    fdt_for_each_subnode(node, fdt, 0) {
        const uint8_t *reg;

        if (!fdt_getprop(fdt, node, "device_type", NULL) ||
            !str_prop_is(fdt, node, "device_type", "memory"))
            continue;
        if (!EXPECT(count < (int)dom.mem.nr_banks))
            break;
        fmt_snprintf(name, sizeof(name), "memory@%llx",
                     (unsigned long long)dom.mem.bank[count].start);
        EXPECT_STREQ(fdt_get_name(fdt, node, NULL), name);
        reg = fdt_getprop(fdt, node, "reg", &len);
        if (EXPECT(reg != NULL) && EXPECT_EQ(len, 16)) {
            EXPECT_EQ(fdt64_ld((const fdt64_t *)reg), dom.mem.bank[count].start);
            EXPECT_EQ(fdt64_ld((const fdt64_t *)(reg + 8)), dom.mem.bank[count].size);
        }
        count++;
    }
    EXPECT_EQ(count, dom.mem.nr_banks);

    /* /chosen: bootargs, the initrd, stdout-path, and nothing else */
    node = fdt_path_offset(fdt, "/chosen");
    if (EXPECT(node >= 0)) {
        EXPECT(str_prop_is(fdt, node, "bootargs",
                           kinfo.cmdline ? kinfo.cmdline : kinfo.kernel->cmdline));
        count = 0;
        fdt_for_each_property_offset(prop, fdt, node)
            count++;
        EXPECT_EQ(count, 1 + (kinfo.initrd ? 2 : 0) + (kinfo.give_console ? 1 : 0));
        EXPECT_EQ(fdt_first_subnode(fdt, node), -FDT_ERR_NOTFOUND);
        if (kinfo.initrd) {
            EXPECT_EQ(u64_prop(fdt, node, "linux,initrd-start"), kinfo.initrd_ipa);
            EXPECT_EQ(u64_prop(fdt, node, "linux,initrd-end"),
                      kinfo.initrd_ipa + kinfo.initrd_size);
        }
        if (kinfo.give_console)
            EXPECT(str_prop_is(fdt, node, "stdout-path", "/pl011@9000000"));
    }

    /* CPUs */
    node = fdt_path_offset(fdt, "/cpus");
    if (EXPECT(node >= 0)) {
        int cpu;

        EXPECT_EQ(cell(fdt, node, "#address-cells", 0), 1);
        EXPECT_EQ(cell(fdt, node, "#size-cells", 0), 0);
        count = 0;
        fdt_for_each_subnode(cpu, fdt, node) {
            fmt_snprintf(name, sizeof(name), "cpu@%d", count);
            EXPECT_STREQ(fdt_get_name(fdt, cpu, NULL), name);
            EXPECT_EQ(cell(fdt, cpu, "reg", 0), count);
            EXPECT(str_prop_is(fdt, cpu, "device_type", "cpu"));
            EXPECT(str_prop_is(fdt, cpu, "compatible", "arm,cortex-a15"));
            EXPECT(str_prop_is(fdt, cpu, "enable-method", "psci"));
            count++;
        }
        EXPECT_EQ(count, kinfo.nr_vcpus);
    }

    node = fdt_path_offset(fdt, "/psci");
    if (EXPECT(node >= 0)) {
        EXPECT(str_prop_is(fdt, node, "method", "hvc"));
        EXPECT_EQ(fdt_node_check_compatible(fdt, node, "arm,psci-0.2"), 0);
        EXPECT_EQ(fdt_node_check_compatible(fdt, node, "arm,psci-1.0"), 0);
    }

    /* the console: present exactly when given, reg unchanged, no interrupts without a GIC */
    node = fdt_node_offset_by_compatible(fdt, -1, "arm,pl011");
    if (!kinfo.give_console) {
        EXPECT_EQ(node, -FDT_ERR_NOTFOUND);
    } else if (EXPECT(node >= 0)) {
        const uint8_t *reg = fdt_getprop(fdt, node, "reg", &len);

        if (EXPECT(reg != NULL) && EXPECT_EQ(len, 16)) {
            EXPECT_EQ(fdt64_ld((const fdt64_t *)reg), console_base);
            EXPECT_EQ(fdt64_ld((const fdt64_t *)(reg + 8)), 0x1000);
        }
        EXPECT_EQ(fdt_node_offset_by_compatible(fdt, node, "arm,pl011"), -FDT_ERR_NOTFOUND);
        EXPECT_EQ(!!fdt_getprop(fdt, node, "interrupts", NULL), kinfo.give_gic_and_timer);
    }
    EXPECT_EQ(!!fdt_getprop(fdt, 0, "interrupt-parent", NULL), kinfo.give_gic_and_timer);
    EXPECT_EQ(fdt_node_offset_by_compatible(fdt, -1, "arm,armv7-timer") >= 0,
              kinfo.give_gic_and_timer);
    EXPECT_EQ(fdt_node_offset_by_compatible(fdt, -1, "arm,cortex-a15-gic") >= 0,
              kinfo.give_gic_and_timer);
}

static bool build(const void *src)
{
    int rc;

    if (!host_tree(src))
        return false;
    rc = make_guest_dt(&kinfo, host, out, sizeof(out));
    return EXPECT_EQ(rc, 0);
}

SELFTEST(guest_dt, qemu_virt_console_initrd_two_banks)
{
    char names[256];

    setup(2, 2, true, false, true);
    if (!build(qemu_virt_dtb))
        return;
    check_common(out, 0x9000000);
    root_children(out, names, sizeof(names));
    EXPECT_STREQ(names, "chosen cpus psci memory@40000000 memory@200000000 pl011@9000000 "
                        "apb-pclk");
    /* what the host's tree had there is gone, and the blob is packed */
    EXPECT_EQ(fdt_path_offset(out, "/intc@8000000"), -FDT_ERR_NOTFOUND);
    EXPECT_EQ(fdt_path_offset(out, "/pcie@10000000"), -FDT_ERR_NOTFOUND);
    EXPECT_EQ(fdt_totalsize(out), fdt_off_dt_strings(out) + fdt_size_dt_strings(out));
    EXPECT(str_prop_is(out, 0, "model", "linux,dummy-virt"));
}

SELFTEST(guest_dt, qemu_virt_gic_and_timer_no_console)
{
    char names[256];

    setup(1, 8, false, true, false);
    kinfo.cmdline = "given by the caller";
    if (!build(qemu_virt_dtb))
        return;
    check_common(out, 0);
    root_children(out, names, sizeof(names));
    EXPECT_STREQ(names, "chosen cpus psci memory@40000000 intc@8000000 timer");
    {
        /* The GIC as dom0 owns it: distributor and CPU interface only, nothing of GICH. */
        static const uint8_t want[] = {
            0, 0, 0, 0, 0x08, 0x00, 0x00, 0x00, 0, 0, 0, 0, 0, 0x01, 0, 0,
            0, 0, 0, 0, 0x08, 0x01, 0x00, 0x00, 0, 0, 0, 0, 0, 0x01, 0, 0,
        };
        int gic = fdt_path_offset(out, "/intc@8000000"), len;
        const void *reg = fdt_getprop(out, gic, "reg", &len);

        EXPECT_EQ(len, sizeof(want));
        EXPECT(reg && len == sizeof(want) && memcmp(reg, want, sizeof(want)) == 0);
        EXPECT(fdt_getprop(out, gic, "interrupts", NULL) == NULL);
        EXPECT_EQ(fdt_first_subnode(out, gic), -FDT_ERR_NOTFOUND);  /* no v2m frame */
        EXPECT(fdt_getprop(out, fdt_path_offset(out, "/timer"), "interrupts", NULL) != NULL);
    }
}

SELFTEST(guest_dt, qemu_virt_everything_given_and_nothing)
{
    char names[256];

    setup(1, 1, true, true, true);
    if (build(qemu_virt_dtb)) {
        check_common(out, 0x9000000);
        root_children(out, names, sizeof(names));
        EXPECT_STREQ(names, "chosen cpus psci memory@40000000 pl011@9000000 intc@8000000 "
                            "timer apb-pclk");
    }
    setup(1, 1, false, false, false);
    if (build(qemu_virt_dtb)) {
        check_common(out, 0);
        root_children(out, names, sizeof(names));
        EXPECT_STREQ(names, "chosen cpus psci memory@40000000");
    }
}

SELFTEST(guest_dt, hand_written_trees)
{
    char names[256];

    /* stdout-path through an alias; /reserved-memory and /memreserve/ of its own */
    setup(2, 1, true, false, false);
    if (build(two_banks_dtb)) {
        check_common(out, 0x9000000);
        root_children(out, names, sizeof(names));
        EXPECT_STREQ(names, "chosen cpus psci memory@40000000 memory@200000000 pl011@9000000");
    }
    /* a one-cell root: the console's reg is re-encoded with two cells, same values */
    setup(1, 3, true, false, true);
    if (build(cells1_dtb))
        check_common(out, 0x9000000);
}

SELFTEST(guest_dt, kept_nodes_listed)
{
    int nodes[GUEST_DT_MAX_KEPT];
    char path[64];

    setup(1, 1, true, true, false);
    if (!host_tree(qemu_virt_dtb) ||
        !EXPECT_EQ(guest_dt_kept_nodes(&kinfo, host, nodes, ARRAY_SIZE(nodes)), 4))
        return;
    EXPECT_EQ(fdt_get_path(host, nodes[0], path, sizeof(path)), 0);
    EXPECT_STREQ(path, "/pl011@9000000");
    EXPECT_EQ(fdt_get_path(host, nodes[1], path, sizeof(path)), 0);
    EXPECT_STREQ(path, "/apb-pclk");
    EXPECT_EQ(fdt_get_path(host, nodes[2], path, sizeof(path)), 0);
    EXPECT_STREQ(path, "/intc@8000000");
    EXPECT_EQ(fdt_get_path(host, nodes[3], path, sizeof(path)), 0);
    EXPECT_STREQ(path, "/timer");
    EXPECT_EQ(guest_dt_kept_nodes(&kinfo, host, nodes, 3), -ENOSPC);
}

SELFTEST(guest_dt, refusals)
{
    int node;

    setup(1, 1, true, false, false);
    if (!host_tree(qemu_virt_dtb))
        return;
    /* a buffer too small for the host's tree */
    EXPECT_EQ(make_guest_dt(&kinfo, host, out, 2048), -ENOSPC);
    EXPECT_EQ(make_guest_dt(&kinfo, host, out + 4, 4096), -EINVAL);
    kinfo.nr_vcpus = 0;
    EXPECT_EQ(make_guest_dt(&kinfo, host, out, sizeof(out)), -EINVAL);
    kinfo.nr_vcpus = GUEST_MAX_VCPUS + 1;
    EXPECT_EQ(make_guest_dt(&kinfo, host, out, sizeof(out)), -EINVAL);
    kinfo.nr_vcpus = 1;
    dom.mem.nr_banks = 0;
    EXPECT_EQ(make_guest_dt(&kinfo, host, out, sizeof(out)), -EINVAL);
    dom.mem.nr_banks = 1;
    EXPECT_EQ(make_guest_dt(&kinfo, NULL, out, sizeof(out)), -EINVAL);
    /* not a tree */
    memset(out, 0, 64);
    EXPECT_EQ(make_guest_dt(&kinfo, out, out + 64, 4096), -EINVAL);

    /* the console asked for, but the host has no PL011 */
    node = fdt_path_offset(host, "/pl011@9000000");
    if (EXPECT(node >= 0) && EXPECT_EQ(fdt_del_node(host, node), 0))
        EXPECT_EQ(make_guest_dt(&kinfo, host, out, sizeof(out)), -EINVAL);
    /* without it asked for, that tree is fine */
    kinfo.give_console = false;
    EXPECT_EQ(make_guest_dt(&kinfo, host, out, sizeof(out)), 0);

    /* the GIC asked for, but the root's interrupt-parent names no node */
    setup(1, 1, false, true, false);
    if (host_tree(qemu_virt_dtb) &&
        EXPECT_EQ(fdt_setprop_u32(host, 0, "interrupt-parent", 0x4242), 0))
        EXPECT_EQ(make_guest_dt(&kinfo, host, out, sizeof(out)), -EINVAL);
}
