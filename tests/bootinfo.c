/*
 * Tests of the device-tree boot information (common/dt/bootinfo.c).
 *
 * Each test builds its tree in memory with libfdt's sequential-write API,
 * so the same tests run on the host and in the image. Expected values are
 * read off the tree the test wrote (addresses, sizes, the blob's totalsize)
 * or follow from the rules in include/dt/bootinfo.h: banks sorted, usable
 * pieces cut around every reserved range and shrunk to whole 4 KiB pages.
 */
#include <dt/bootinfo.h>
#include <lib/lib.h>
#include <libfdt.h>
#include <string.h>
#include <test/selftest.h>
#include "test_dtbs.h"

#define MiB(x) ((uint64_t)(x) << 20)
#define GiB(x) ((uint64_t)(x) << 30)

static uint8_t blob[8192] __attribute__((aligned(8)));
static uint8_t shifted[sizeof(blob) + 8] __attribute__((aligned(8)));
static struct bootinfo bi;
static char err[BOOTINFO_ERR_LEN];
static int build_rc;            /* first libfdt error while building a tree */

/* ------------------------------------------------------------ tree builder */

static void sw(int rc)
{
    if (rc < 0 && build_rc == 0)
        build_rc = rc;
}

struct rsv {
    uint64_t addr, size;
};

static void tree_begin_rsv(const struct rsv *rsv, unsigned int nr_rsv,
                           uint32_t addr_cells, uint32_t size_cells)
{
    build_rc = 0;
    sw(fdt_create(blob, sizeof(blob)));
    for (unsigned int i = 0; i < nr_rsv; i++)
        sw(fdt_add_reservemap_entry(blob, rsv[i].addr, rsv[i].size));
    sw(fdt_finish_reservemap(blob));
    sw(fdt_begin_node(blob, ""));
    sw(fdt_property_cell(blob, "#address-cells", addr_cells));
    sw(fdt_property_cell(blob, "#size-cells", size_cells));
}

static void tree_begin(uint32_t addr_cells, uint32_t size_cells)
{
    tree_begin_rsv(NULL, 0, addr_cells, size_cells);
}

static bool tree_end(void)
{
    sw(fdt_end_node(blob));
    sw(fdt_finish(blob));
    if (build_rc)
        selftest_diag("building the tree failed: %s", fdt_strerror(build_rc));
    return build_rc == 0;
}

static void node_begin(const char *name)
{
    sw(fdt_begin_node(blob, name));
}

static void node_end(void)
{
    sw(fdt_end_node(blob));
}

static void prop_str(const char *name, const char *value)
{
    sw(fdt_property_string(blob, name, value));
}

static void prop_u32(const char *name, uint32_t value)
{
    sw(fdt_property_cell(blob, name, value));
}

static void prop_raw(const char *name, const void *value, int len)
{
    sw(fdt_property(blob, name, value, len));
}

/* Appends v as n big-endian cells (more than 2 cells: zero-extended). */
static size_t put_cells(uint8_t *out, uint64_t v, unsigned int n)
{
    for (unsigned int k = n; k-- > 0;)
        fdt32_st(out + 4 * (n - 1 - k), k >= 2 ? 0 : (uint32_t)(v >> (32 * k)));
    return 4 * n;
}

/* reg of n (address, size) pairs, encoded with the given cells. */
static void prop_reg(unsigned int addr_cells, unsigned int size_cells,
                     const uint64_t *pairs, unsigned int n)
{
    static uint8_t cells[2048];
    size_t len = 0;

    if (n * 4 * (addr_cells + size_cells) > sizeof(cells)) {
        sw(-FDT_ERR_NOSPACE);
        return;
    }
    for (unsigned int i = 0; i < n; i++) {
        len += put_cells(cells + len, pairs[2 * i], addr_cells);
        len += put_cells(cells + len, pairs[2 * i + 1], size_cells);
    }
    prop_raw("reg", cells, (int)len);
}

static void memory_node(const char *name, unsigned int addr_cells, unsigned int size_cells,
                        const uint64_t *pairs, unsigned int n)
{
    node_begin(name);
    prop_str("device_type", "memory");
    prop_reg(addr_cells, size_cells, pairs, n);
    node_end();
}

/* /cpus with n cortex-a15 nodes whose reg (MPIDR) is mpidr[i], or i if mpidr is NULL. */
static void cpus_node_mpidr(unsigned int n, const uint32_t *mpidr)
{
    char name[16];

    node_begin("cpus");
    prop_u32("#address-cells", 1);
    prop_u32("#size-cells", 0);
    for (unsigned int i = 0; i < n; i++) {
        uint32_t reg = mpidr ? mpidr[i] : i;

        fmt_snprintf(name, sizeof(name), "cpu@%x", (unsigned int)reg);
        node_begin(name);
        prop_str("device_type", "cpu");
        prop_str("compatible", "arm,cortex-a15");
        prop_u32("reg", reg);
        node_end();
    }
    node_end();
}

static void cpus_node(unsigned int n)
{
    cpus_node_mpidr(n, NULL);
}

static void pl011_node(const char *name, unsigned int addr_cells, unsigned int size_cells,
                       uint64_t base, uint64_t size, bool enabled)
{
    static const char compat[] = "arm,pl011\0arm,primecell";
    const uint64_t reg[] = { base, size };

    node_begin(name);
    prop_raw("compatible", compat, sizeof(compat));
    prop_reg(addr_cells, size_cells, reg, 1);
    if (!enabled)
        prop_str("status", "disabled");
    node_end();
}

/* The smallest tree that parses: 1 GiB at 0x40000000 and one CPU. */
static void minimal_body(void)
{
    static const uint64_t ram[] = { 0x40000000, GiB(1) };

    memory_node("memory@40000000", 2, 2, ram, 1);
    cpus_node(1);
}

static bool parse_blob(const void *fdt, size_t avail, paddr_t fdt_pa,
                       paddr_t image_start, paddr_t image_end)
{
    int rc = bootinfo_parse(fdt, avail, fdt_pa, image_start, image_end, &bi, err);

    if (rc != 0 && rc != -1)
        selftest_diag("bootinfo_parse returned %d", rc);
    return rc == 0;
}

/* Parses blob, expecting success. */
static bool parse_ok(void)
{
    if (parse_blob(blob, sizeof(blob), BOOTINFO_PA_UNKNOWN, 0, 0))
        return true;
    selftest_diag("unexpected error: %s", err);
    return false;
}

/* Parses blob, expecting failure; err holds the message. */
static bool parse_fails(void)
{
    if (!parse_blob(blob, sizeof(blob), BOOTINFO_PA_UNKNOWN, 0, 0))
        return true;
    selftest_diag("parse succeeded, an error was expected");
    return false;
}

static bool has(const char *haystack, const char *needle)
{
    if (strstr(haystack, needle))
        return true;
    selftest_diag("\"%s\" does not contain \"%s\"", haystack, needle);
    return false;
}

static bool range_is(const struct mem_range *r, paddr_t start, paddr_t end)
{
    bool ok = EXPECT_EQ(r->start, start);

    return EXPECT_EQ(r->end, end) && ok;
}

/* ------------------------------------------------------------------- RAM */

SELFTEST(bootinfo, one_bank)
{
    tree_begin(2, 2);
    minimal_body();
    if (!EXPECT(tree_end()) || !EXPECT(parse_ok()))
        return;

    EXPECT_EQ(bi.nr_ram, 1);
    range_is(&bi.ram[0], 0x40000000, 0x40000000 + GiB(1));
    EXPECT_EQ(bi.nr_reserved, 0);
    EXPECT_EQ(bi.nr_usable, 1);
    range_is(&bi.usable[0], 0x40000000, 0x40000000 + GiB(1));
    EXPECT_EQ(bi.nr_cpus, 1);
    EXPECT_EQ(bi.nr_cpus_in_tree, 1);
    EXPECT_EQ(bi.cpu_mpidr[0], 0);
    EXPECT_STREQ(bi.bootargs, "");
    EXPECT(!bi.has_console);
    EXPECT(!bi.psci_smc);
    EXPECT_EQ(bi.nr_warnings, 0);
}

SELFTEST(bootinfo, several_nodes_several_entries)
{
    /* given out of order, across nodes whose names say nothing */
    static const uint64_t ram_a[] = { 0x80000000, MiB(256), 0x60000000, MiB(16) };
    static const uint64_t ram_b[] = { 0x40000000, MiB(256), 0x50000000, 0,
                                      0x50000000, MiB(128) };
    static const uint64_t not_ram[] = { 0x10000000, MiB(16) };

    tree_begin(2, 2);
    memory_node("ram@80000000", 2, 2, ram_a, 2);
    /* named like memory, but without device_type "memory": not RAM */
    node_begin("memory@10000000");
    prop_reg(2, 2, not_ram, 1);
    node_end();
    memory_node("dram", 2, 2, ram_b, 3);
    /* a disabled memory node does not count */
    node_begin("memory@c0000000");
    prop_str("device_type", "memory");
    prop_str("status", "disabled");
    prop_reg(2, 2, not_ram, 1);
    node_end();
    cpus_node(1);
    if (!EXPECT(tree_end()) || !EXPECT(parse_ok()))
        return;

    /* zero-size entry dropped, adjacent banks kept apart, sorted */
    if (!EXPECT_EQ(bi.nr_ram, 4))
        return;
    range_is(&bi.ram[0], 0x40000000, 0x50000000);
    range_is(&bi.ram[1], 0x50000000, 0x58000000);
    range_is(&bi.ram[2], 0x60000000, 0x61000000);
    range_is(&bi.ram[3], 0x80000000, 0x90000000);
    if (!EXPECT_EQ(bi.nr_usable, 4))
        return;
    for (unsigned int i = 0; i < 4; i++)
        range_is(&bi.usable[i], bi.ram[i].start, bi.ram[i].end);
}

SELFTEST(bootinfo, cells_one_and_two)
{
    static const uint64_t ram[] = { 0x40000000, 0x20000000 };
    static const uint64_t high[] = { 0x100000000ULL, MiB(256) };
    static const uint64_t big[] = { 0x40000000, GiB(4) };

    /* #address-cells = #size-cells = 1 */
    tree_begin(1, 1);
    memory_node("memory@40000000", 1, 1, ram, 1);
    cpus_node(1);
    if (EXPECT(tree_end()) && EXPECT(parse_ok()) && EXPECT_EQ(bi.nr_ram, 1))
        range_is(&bi.ram[0], 0x40000000, 0x60000000);

    /* 2 address cells, 1 size cell */
    tree_begin(2, 1);
    memory_node("memory@100000000", 2, 1, high, 1);
    cpus_node(1);
    if (EXPECT(tree_end()) && EXPECT(parse_ok()) && EXPECT_EQ(bi.nr_ram, 1))
        range_is(&bi.ram[0], 0x100000000ULL, 0x110000000ULL);

    /* 1 address cell, 2 size cells: a 4 GiB size needs the upper cell */
    tree_begin(1, 2);
    memory_node("memory@40000000", 1, 2, big, 1);
    cpus_node(1);
    if (EXPECT(tree_end()) && EXPECT(parse_ok()) && EXPECT_EQ(bi.nr_ram, 1))
        range_is(&bi.ram[0], 0x40000000, 0x140000000ULL);
}

SELFTEST(bootinfo, ram_above_4g)
{
    /* QEMU -m 6G, plus a bank that ends exactly at the 40-bit limit */
    static const uint64_t ram[] = { 0x40000000, 0x180000000ULL,
                                    0xff00000000ULL, GiB(4) };

    tree_begin(2, 2);
    memory_node("memory@40000000", 2, 2, ram, 2);
    cpus_node(1);
    if (!EXPECT(tree_end()) || !EXPECT(parse_ok()) || !EXPECT_EQ(bi.nr_ram, 2))
        return;
    range_is(&bi.ram[0], 0x40000000, 0x1c0000000ULL);
    range_is(&bi.ram[1], 0xff00000000ULL, BOOTINFO_PA_LIMIT);
    EXPECT_EQ(bi.nr_usable, 2);
    range_is(&bi.usable[1], 0xff00000000ULL, BOOTINFO_PA_LIMIT);
}

SELFTEST(bootinfo, ram_beyond_40_bits)
{
    static const uint64_t crossing[] = { 0xff00000000ULL, GiB(4) + 0x1000 };
    static const uint64_t beyond[] = { BOOTINFO_PA_LIMIT, GiB(1) };
    static const uint64_t wrapping[] = { 0xffffffffffff0000ULL, 0x20000 };

    tree_begin(2, 2);
    memory_node("memory@ff00000000", 2, 2, crossing, 1);
    cpus_node(1);
    if (EXPECT(tree_end()) && EXPECT(parse_fails()))
        EXPECT_STREQ(err, "/memory@ff00000000: RAM at 0xff00000000 size 0x100001000 "
                          "goes beyond the 40-bit physical address limit");

    tree_begin(2, 2);
    memory_node("memory@10000000000", 2, 2, beyond, 1);
    cpus_node(1);
    if (EXPECT(tree_end()) && EXPECT(parse_fails()))
        EXPECT(has(err, "40-bit"));

    tree_begin(2, 2);
    memory_node("memory", 2, 2, wrapping, 1);
    cpus_node(1);
    if (EXPECT(tree_end()) && EXPECT(parse_fails()))
        EXPECT(has(err, "40-bit"));
}

SELFTEST(bootinfo, overlapping_banks)
{
    static const uint64_t a[] = { 0x40000000, MiB(512) };
    static const uint64_t b[] = { 0x50000000, MiB(256) };

    tree_begin(2, 2);
    memory_node("memory@50000000", 2, 2, b, 1);
    memory_node("memory@40000000", 2, 2, a, 1);
    cpus_node(1);
    if (EXPECT(tree_end()) && EXPECT(parse_fails()))
        EXPECT_STREQ(err, "RAM banks overlap: 0x40000000-0x60000000 (/memory@40000000) "
                          "and 0x50000000-0x60000000 (/memory@50000000)");
}

SELFTEST(bootinfo, too_many_banks)
{
    static uint64_t ram[2 * (BOOTINFO_MAX_BANKS + 1)];

    for (unsigned int i = 0; i < BOOTINFO_MAX_BANKS + 1; i++) {
        ram[2 * i] = 0x40000000 + MiB(2) * i;
        ram[2 * i + 1] = MiB(1);
    }
    tree_begin(2, 2);
    memory_node("memory@40000000", 2, 2, ram, BOOTINFO_MAX_BANKS);
    cpus_node(1);
    if (EXPECT(tree_end()) && EXPECT(parse_ok()))
        EXPECT_EQ(bi.nr_ram, BOOTINFO_MAX_BANKS);

    tree_begin(2, 2);
    memory_node("memory@40000000", 2, 2, ram, BOOTINFO_MAX_BANKS + 1);
    cpus_node(1);
    if (EXPECT(tree_end()) && EXPECT(parse_fails()))
        EXPECT_STREQ(err, "/memory@40000000: too many RAM banks (at most 64)");
}

SELFTEST(bootinfo, reg_length_mismatch)
{
    static const uint8_t five_cells[20];
    static const uint8_t three_cells[12];

    tree_begin(2, 2);
    node_begin("memory@40000000");
    prop_str("device_type", "memory");
    prop_raw("reg", five_cells, sizeof(five_cells));
    node_end();
    cpus_node(1);
    if (EXPECT(tree_end()) && EXPECT(parse_fails()))
        EXPECT_STREQ(err, "/memory@40000000: reg is 20 bytes, not a multiple of 16 "
                          "(#address-cells=2, #size-cells=2)");

    tree_begin(1, 1);
    node_begin("memory@40000000");
    prop_str("device_type", "memory");
    prop_raw("reg", three_cells, sizeof(three_cells));
    node_end();
    cpus_node(1);
    if (EXPECT(tree_end()) && EXPECT(parse_fails()))
        EXPECT_STREQ(err, "/memory@40000000: reg is 12 bytes, not a multiple of 8 "
                          "(#address-cells=1, #size-cells=1)");
}

SELFTEST(bootinfo, unsupported_cells)
{
    static const uint64_t ram[] = { 0x40000000, GiB(1) };
    static const uint8_t eight[8];

    tree_begin(3, 2);
    memory_node("memory@40000000", 3, 2, ram, 1);
    cpus_node(1);
    if (EXPECT(tree_end()) && EXPECT(parse_fails()))
        EXPECT_STREQ(err, "/memory@40000000: unsupported #address-cells=3 in / (need 1 or 2)");

    tree_begin(2, 0);
    memory_node("memory@40000000", 2, 0, ram, 1);
    cpus_node(1);
    if (EXPECT(tree_end()) && EXPECT(parse_fails()))
        EXPECT_STREQ(err, "/memory@40000000: unsupported #size-cells=0 in / (need 1 or 2)");

    /* a cells property that is not one cell */
    build_rc = 0;
    sw(fdt_create(blob, sizeof(blob)));
    sw(fdt_finish_reservemap(blob));
    sw(fdt_begin_node(blob, ""));
    prop_raw("#address-cells", eight, sizeof(eight));
    prop_u32("#size-cells", 2);
    memory_node("memory@40000000", 2, 2, ram, 1);
    cpus_node(1);
    if (EXPECT(tree_end()) && EXPECT(parse_fails()))
        EXPECT_STREQ(err, "/: #address-cells is 8 bytes, not 4");
}

SELFTEST(bootinfo, no_memory)
{
    static const uint64_t empty[] = { 0x40000000, 0 };

    tree_begin(2, 2);
    cpus_node(1);
    if (EXPECT(tree_end()) && EXPECT(parse_fails()))
        EXPECT(has(err, "no RAM"));

    /* only zero-size entries */
    tree_begin(2, 2);
    memory_node("memory@40000000", 2, 2, empty, 1);
    cpus_node(1);
    if (EXPECT(tree_end()) && EXPECT(parse_fails()))
        EXPECT(has(err, "no RAM"));

    tree_begin(2, 2);
    node_begin("memory@40000000");
    prop_str("device_type", "memory");
    node_end();
    cpus_node(1);
    if (EXPECT(tree_end()) && EXPECT(parse_fails()))
        EXPECT_STREQ(err, "/memory@40000000: device_type is \"memory\" but there is no reg");
}

/* -------------------------------------------------------------- reserved */

SELFTEST(bootinfo, memreserve)
{
    /* one smaller than a page and not page-aligned, one a byte over a page */
    static const struct rsv rsv[] = { { 0x48000000, 0x1001 }, { 0x40000800, 0x100 } };

    tree_begin_rsv(rsv, ARRAY_SIZE(rsv), 2, 2);
    minimal_body();
    if (!EXPECT(tree_end()) || !EXPECT(parse_ok()) || !EXPECT_EQ(bi.nr_reserved, 2))
        return;

    EXPECT_EQ(bi.reserved[0].start, 0x40000800);
    EXPECT_EQ(bi.reserved[0].end, 0x40000900);
    EXPECT_EQ(bi.reserved[0].kind, RESV_MEMRESERVE);
    EXPECT_EQ(bi.reserved[1].start, 0x48000000);
    EXPECT_EQ(bi.reserved[1].end, 0x48001001);
    EXPECT_EQ(bi.reserved[1].kind, RESV_MEMRESERVE);
    /* the piece below 0x40000800 is less than a page and disappears; the
     * byte over the page at 0x48000000 costs the whole next page */
    if (!EXPECT_EQ(bi.nr_usable, 2))
        return;
    range_is(&bi.usable[0], 0x40001000, 0x48000000);
    range_is(&bi.usable[1], 0x48002000, 0x80000000);
}

SELFTEST(bootinfo, reserved_memory_children)
{
    static const uint64_t fw[] = { 0x50000000, MiB(1) };
    static const uint64_t pool[] = { 0x60000000, 0x2000, 0x7ffff000, 0x1000 };
    static const uint64_t off[] = { 0x70000000, 0x1000 };

    tree_begin(2, 2);
    minimal_body();
    /* its own cells differ from the root's: they must be the ones used */
    node_begin("reserved-memory");
    prop_u32("#address-cells", 1);
    prop_u32("#size-cells", 1);
    prop_raw("ranges", NULL, 0);
    node_begin("fw@50000000");
    prop_reg(1, 1, fw, 1);
    prop_raw("no-map", NULL, 0);
    node_end();
    node_begin("pool");
    prop_reg(1, 1, pool, 2);
    node_end();
    node_begin("cma");          /* dynamic: only a size, nothing placed yet */
    prop_u32("size", 0x4000000);
    node_end();
    node_begin("off@70000000");
    prop_reg(1, 1, off, 1);
    prop_str("status", "disabled");
    node_end();
    node_end();
    if (!EXPECT(tree_end()) || !EXPECT(parse_ok()) || !EXPECT_EQ(bi.nr_reserved, 3))
        return;

    EXPECT_EQ(bi.reserved[0].start, 0x50000000);
    EXPECT_EQ(bi.reserved[0].end, 0x50100000);
    EXPECT_EQ(bi.reserved[1].start, 0x60000000);
    EXPECT_EQ(bi.reserved[1].end, 0x60002000);
    EXPECT_EQ(bi.reserved[2].start, 0x7ffff000);
    EXPECT_EQ(bi.reserved[2].end, 0x80000000);
    for (unsigned int i = 0; i < 3; i++)
        EXPECT_EQ(bi.reserved[i].kind, RESV_RESERVED_MEMORY);
    if (!EXPECT_EQ(bi.nr_usable, 3))
        return;
    range_is(&bi.usable[0], 0x40000000, 0x50000000);
    range_is(&bi.usable[1], 0x50100000, 0x60000000);
    range_is(&bi.usable[2], 0x60002000, 0x7ffff000);
}

SELFTEST(bootinfo, reserved_memory_errors)
{
    static const uint64_t fw[] = { 0x50000000, MiB(1) };

    tree_begin(2, 2);
    minimal_body();
    node_begin("reserved-memory");
    prop_u32("#address-cells", 1);
    prop_u32("#size-cells", 3);
    node_begin("fw@50000000");
    prop_reg(1, 3, fw, 1);
    node_end();
    node_end();
    if (EXPECT(tree_end()) && EXPECT(parse_fails()))
        EXPECT_STREQ(err, "/reserved-memory/fw@50000000: unsupported #size-cells=3 "
                          "in /reserved-memory (need 1 or 2)");

    /* a 2+2-cell reg under a 1+1-cell /reserved-memory: 16 is a multiple of 8,
     * so that reads as two entries; 12 bytes is not */
    tree_begin(2, 2);
    minimal_body();
    node_begin("reserved-memory");
    prop_u32("#address-cells", 1);
    prop_u32("#size-cells", 1);
    node_begin("fw@50000000");
    prop_reg(1, 2, fw, 1);
    node_end();
    node_end();
    if (EXPECT(tree_end()) && EXPECT(parse_fails()))
        EXPECT_STREQ(err, "/reserved-memory/fw@50000000: reg is 12 bytes, not a multiple "
                          "of 8 (#address-cells=1, #size-cells=1)");
}

SELFTEST(bootinfo, dtb_and_image_carved_out)
{
    const paddr_t dtb = 0x40000000, image = 0x40200000, image_end = 0x40300123;
    paddr_t dtb_end;

    tree_begin(2, 2);
    minimal_body();
    if (!EXPECT(tree_end()))
        return;
    dtb_end = dtb + fdt_totalsize(blob);
    if (!EXPECT(parse_blob(blob, sizeof(blob), dtb, image, image_end)) ||
        !EXPECT_EQ(bi.nr_reserved, 2))
        return;

    EXPECT_EQ(bi.reserved[0].start, dtb);
    EXPECT_EQ(bi.reserved[0].end, dtb_end);
    EXPECT_EQ(bi.reserved[0].kind, RESV_DTB);
    EXPECT_EQ(bi.reserved[1].start, image);
    EXPECT_EQ(bi.reserved[1].end, image_end);
    EXPECT_EQ(bi.reserved[1].kind, RESV_IMAGE);
    EXPECT_STREQ(reserved_kind_name(bi.reserved[0].kind), "dtb");
    EXPECT_STREQ(reserved_kind_name(bi.reserved[1].kind), "image");
    if (!EXPECT_EQ(bi.nr_usable, 2))
        return;
    range_is(&bi.usable[0], ROUNDUP(dtb_end, PAGE_SIZE), image);
    range_is(&bi.usable[1], ROUNDUP(image_end, PAGE_SIZE), 0x80000000);

    /* without an address, the blob is not reserved */
    if (EXPECT(parse_blob(blob, sizeof(blob), BOOTINFO_PA_UNKNOWN, image, image_end)))
        EXPECT_EQ(bi.nr_reserved, 1);
}

SELFTEST(bootinfo, overlapping_reservations)
{
    /* the image lies inside a /memreserve/ range, which overlaps the DTB's page */
    static const struct rsv rsv[] = { { 0x40000000, MiB(5) } };
    const paddr_t dtb = 0x40000000;

    tree_begin_rsv(rsv, ARRAY_SIZE(rsv), 2, 2);
    minimal_body();
    if (!EXPECT(tree_end()) ||
        !EXPECT(parse_blob(blob, sizeof(blob), dtb, 0x40200000, 0x40300000)) ||
        !EXPECT_EQ(bi.nr_reserved, 3))
        return;
    if (!EXPECT_EQ(bi.nr_usable, 1))
        return;
    range_is(&bi.usable[0], 0x40500000, 0x80000000);
    EXPECT_STREQ(reserved_kind_name(RESV_MEMRESERVE), "memreserve");
    EXPECT_STREQ(reserved_kind_name(RESV_RESERVED_MEMORY), "reserved-memory");
}

SELFTEST(bootinfo, too_many_reserved)
{
    static struct rsv rsv[BOOTINFO_MAX_RESERVED + 1];

    for (unsigned int i = 0; i < ARRAY_SIZE(rsv); i++) {
        rsv[i].addr = 0x40000000 + MiB(1) * i;
        rsv[i].size = 0x1000;
    }
    tree_begin_rsv(rsv, BOOTINFO_MAX_RESERVED, 2, 2);
    minimal_body();
    if (EXPECT(tree_end()) && EXPECT(parse_ok()))
        EXPECT_EQ(bi.nr_reserved, BOOTINFO_MAX_RESERVED);

    tree_begin_rsv(rsv, ARRAY_SIZE(rsv), 2, 2);
    minimal_body();
    if (EXPECT(tree_end()) && EXPECT(parse_fails()))
        EXPECT_STREQ(err, "/memreserve/ entry 32: too many reserved ranges (at most 32)");
}

SELFTEST(bootinfo, too_many_usable)
{
    /* 40 banks; the first 30 each split in two by a reservation: 70 pieces */
    static uint64_t ram[2 * 40];
    static struct rsv rsv[30];

    for (unsigned int i = 0; i < 40; i++) {
        ram[2 * i] = 0x40000000 + MiB(1) * i;
        ram[2 * i + 1] = 0x80000;
    }
    for (unsigned int i = 0; i < ARRAY_SIZE(rsv); i++) {
        rsv[i].addr = ram[2 * i] + 0x40000;
        rsv[i].size = 0x1000;
    }
    tree_begin_rsv(rsv, ARRAY_SIZE(rsv), 2, 2);
    memory_node("memory@40000000", 2, 2, ram, 40);
    cpus_node(1);
    if (EXPECT(tree_end()) && EXPECT(parse_fails()))
        EXPECT(has(err, "too many usable RAM ranges"));

    /* 24 split banks: 48 + 16 = 64 pieces, exactly the limit */
    tree_begin_rsv(rsv, 24, 2, 2);
    memory_node("memory@40000000", 2, 2, ram, 40);
    cpus_node(1);
    if (EXPECT(tree_end()) && EXPECT(parse_ok()))
        EXPECT_EQ(bi.nr_usable, BOOTINFO_MAX_BANKS);
}

/* ------------------------------------------------------------ bad blobs */

SELFTEST(bootinfo, bad_magic)
{
    tree_begin(2, 2);
    minimal_body();
    if (!EXPECT(tree_end()))
        return;
    memcpy(blob, "XXXX", 4);
    if (EXPECT(parse_fails()))
        EXPECT_STREQ(err, "bad magic 0x58585858 (expected 0xd00dfeed)");
}

SELFTEST(bootinfo, bad_version)
{
    tree_begin(2, 2);
    minimal_body();
    if (!EXPECT(tree_end()))
        return;
    fdt_set_version(blob, 1);
    if (EXPECT(parse_fails()))
        EXPECT(has(err, "version 1"));

    /*
     * An old format libfdt would accept, on which 1.6.1's fdt_check_full()
     * dereferences NULL (the root's name has no '/'): it must not get there.
     */
    fdt_set_version(blob, 15);
    fdt_set_last_comp_version(blob, 2);
    if (EXPECT(parse_fails()))
        EXPECT_STREQ(err, "unsupported device tree version 15 (need 16 or later)");
}

SELFTEST(bootinfo, truncated)
{
    char want[BOOTINFO_ERR_LEN];
    uint32_t size;

    tree_begin(2, 2);
    minimal_body();
    if (!EXPECT(tree_end()))
        return;
    size = fdt_totalsize(blob);

    EXPECT(parse_blob(blob, size, BOOTINFO_PA_UNKNOWN, 0, 0));
    EXPECT(!parse_blob(blob, size - 1, BOOTINFO_PA_UNKNOWN, 0, 0));
    fmt_snprintf(want, sizeof(want), "truncated: header says %u bytes, only %u available",
                 (unsigned int)size, (unsigned int)size - 1);
    EXPECT_STREQ(err, want);

    EXPECT(!parse_blob(blob, 20, BOOTINFO_PA_UNKNOWN, 0, 0));
    EXPECT_STREQ(err, "truncated: only 20 bytes available, the header alone is 40");
    EXPECT(!parse_blob(blob, 0, BOOTINFO_PA_UNKNOWN, 0, 0));
    EXPECT(has(err, "truncated"));
    EXPECT(!parse_blob(NULL, 0, BOOTINFO_PA_UNKNOWN, 0, 0));
    EXPECT(has(err, "no device tree"));
}

SELFTEST(bootinfo, corrupted_structure_block)
{
    int node, prop;

    /* a node's BEGIN_NODE tag replaced by a value that is no tag */
    tree_begin(2, 2);
    minimal_body();
    if (!EXPECT(tree_end()))
        return;
    node = fdt_path_offset(blob, "/memory@40000000");
    if (!EXPECT(node > 0))
        return;
    fdt32_st(blob + fdt_off_dt_struct(blob) + node, 0x7);
    if (EXPECT(parse_fails()))
        EXPECT(has(err, "malformed device tree (fdt_check_full"));

    /* a property whose name points outside the strings block */
    tree_begin(2, 2);
    minimal_body();
    if (!EXPECT(tree_end()))
        return;
    prop = fdt_first_property_offset(blob, 0);
    if (!EXPECT(prop > 0))
        return;
    fdt32_st(blob + fdt_off_dt_struct(blob) + prop + 8, 0x7fffff00);
    if (EXPECT(parse_fails()))
        EXPECT(has(err, "malformed device tree"));

    /* a property length running past the structure block */
    tree_begin(2, 2);
    minimal_body();
    if (!EXPECT(tree_end()))
        return;
    prop = fdt_first_property_offset(blob, 0);
    if (!EXPECT(prop > 0))
        return;
    fdt32_st(blob + fdt_off_dt_struct(blob) + prop + 4, 0x10000);
    if (EXPECT(parse_fails()))
        EXPECT(has(err, "malformed device tree"));
}

SELFTEST(bootinfo, misaligned_blocks)
{
    uint32_t off;

    /* moved by 2 bytes: still inside the blob, but no longer on a word */
    tree_begin(2, 2);
    minimal_body();
    if (!EXPECT(tree_end()))
        return;
    off = fdt_off_dt_struct(blob);
    fdt_set_off_dt_struct(blob, off + 2);
    if (EXPECT(parse_fails()))
        EXPECT(has(err, "structure block at offset"));

    fdt_set_off_dt_struct(blob, off);
    fdt_set_off_mem_rsvmap(blob, fdt_off_mem_rsvmap(blob) + 4);
    if (EXPECT(parse_fails()))
        EXPECT(has(err, "reservation block at offset"));
}

SELFTEST(bootinfo, misaligned_blob)
{
    uint32_t size;

    tree_begin(2, 2);
    minimal_body();
    if (!EXPECT(tree_end()))
        return;
    size = fdt_totalsize(blob);
    memcpy(shifted + 4, blob, size);
    EXPECT(!parse_blob(shifted + 4, size, BOOTINFO_PA_UNKNOWN, 0, 0));
    EXPECT(has(err, "not 8-byte aligned"));
}

/* --------------------------------------------------------------- console */

SELFTEST(bootinfo, console_stdout_path_with_options)
{
    tree_begin(2, 2);
    minimal_body();
    /* the first PL011 in tree order is not the one stdout-path names */
    pl011_node("pl011@9040000", 2, 2, 0x9040000, 0x1000, true);
    pl011_node("pl011@9000000", 2, 2, 0x9000000, 0x1000, true);
    node_begin("chosen");
    prop_str("stdout-path", "/pl011@9000000:115200n8");
    node_end();
    if (!EXPECT(tree_end()) || !EXPECT(parse_ok()) || !EXPECT(bi.has_console))
        return;
    EXPECT(bi.console_from_stdout_path);
    EXPECT_EQ(bi.console_base, 0x9000000);
    EXPECT_EQ(bi.console_size, 0x1000);
    EXPECT_STREQ(bi.console_path, "/pl011@9000000");
    EXPECT_EQ(bi.nr_warnings, 0);
}

SELFTEST(bootinfo, console_through_alias)
{
    tree_begin(2, 2);
    minimal_body();
    node_begin("aliases");
    prop_str("serial0", "/pl011@9000000");
    prop_str("serial1", "/pl011@9040000");
    node_end();
    pl011_node("pl011@9000000", 2, 2, 0x9000000, 0x1000, true);
    pl011_node("pl011@9040000", 2, 2, 0x9040000, 0x2000, true);
    node_begin("chosen");
    prop_str("stdout-path", "serial1:115200n8");
    node_end();
    if (!EXPECT(tree_end()) || !EXPECT(parse_ok()) || !EXPECT(bi.has_console))
        return;
    EXPECT(bi.console_from_stdout_path);
    EXPECT_EQ(bi.console_base, 0x9040000);
    EXPECT_EQ(bi.console_size, 0x2000);
    EXPECT_STREQ(bi.console_path, "/pl011@9040000");
    EXPECT_EQ(bi.nr_warnings, 0);

    /* an alias followed by a path below the node it names */
    tree_begin(2, 2);
    minimal_body();
    node_begin("aliases");
    prop_str("soc", "/soc");
    node_end();
    node_begin("soc");
    prop_u32("#address-cells", 1);
    prop_u32("#size-cells", 1);
    pl011_node("pl011@1c090000", 1, 1, 0x1c090000, 0x1000, true);
    pl011_node("pl011@1c0a0000", 1, 1, 0x1c0a0000, 0x1000, true);
    node_end();
    node_begin("chosen");
    prop_str("stdout-path", "soc/pl011@1c0a0000:38400");
    node_end();
    if (!EXPECT(tree_end()) || !EXPECT(parse_ok()) || !EXPECT(bi.has_console))
        return;
    EXPECT(bi.console_from_stdout_path);
    EXPECT_EQ(bi.console_base, 0x1c0a0000);
    EXPECT_STREQ(bi.console_path, "/soc/pl011@1c0a0000");
    EXPECT_EQ(bi.nr_warnings, 0);
}

SELFTEST(bootinfo, console_compatible_fallback)
{
    static const char ns16550[] = "ns16550a";

    tree_begin(2, 2);
    minimal_body();
    node_begin("serial@1000000");
    prop_raw("compatible", ns16550, sizeof(ns16550));
    node_end();
    pl011_node("pl011@9020000", 2, 2, 0x9020000, 0x1000, false);
    /* a PL011 on a bus with one-cell addresses and sizes */
    node_begin("soc");
    prop_u32("#address-cells", 1);
    prop_u32("#size-cells", 1);
    prop_raw("ranges", NULL, 0);
    pl011_node("pl011@1c090000", 1, 1, 0x1c090000, 0x1000, true);
    node_end();
    node_begin("chosen");
    prop_str("bootargs", "quiet");
    node_end();
    if (!EXPECT(tree_end()) || !EXPECT(parse_ok()) || !EXPECT(bi.has_console))
        return;
    EXPECT(!bi.console_from_stdout_path);
    EXPECT_EQ(bi.console_base, 0x1c090000);
    EXPECT_EQ(bi.console_size, 0x1000);
    EXPECT_STREQ(bi.console_path, "/soc/pl011@1c090000");
    EXPECT_EQ(bi.nr_warnings, 0);
}

SELFTEST(bootinfo, console_bad_stdout_path_falls_back)
{
    static const char *const paths[] = { "/nonexistent:115200", "serial7",
                                         "/serial@1000000" };
    static const char *const warnings[] = {
        "/chosen: stdout-path \"/nonexistent\" names no node",
        "/chosen: stdout-path \"serial7\" names no node",
        "/chosen: stdout-path names /serial@1000000, which is not an \"arm,pl011\"",
    };
    static const char ns16550[] = "ns16550a";

    for (unsigned int i = 0; i < ARRAY_SIZE(paths); i++) {
        tree_begin(2, 2);
        minimal_body();
        node_begin("serial@1000000");
        prop_raw("compatible", ns16550, sizeof(ns16550));
        node_end();
        pl011_node("pl011@9000000", 2, 2, 0x9000000, 0x1000, true);
        node_begin("chosen");
        prop_str("stdout-path", paths[i]);
        node_end();
        if (!EXPECT(tree_end()) || !EXPECT(parse_ok()))
            continue;
        EXPECT(bi.has_console);
        EXPECT(!bi.console_from_stdout_path);
        EXPECT_EQ(bi.console_base, 0x9000000);
        if (EXPECT_EQ(bi.nr_warnings, 1))
            EXPECT_STREQ(bi.warning[0], warnings[i]);
    }
}

SELFTEST(bootinfo, console_absent_or_broken)
{
    static const uint8_t six[6];

    tree_begin(2, 2);
    minimal_body();
    if (EXPECT(tree_end()) && EXPECT(parse_ok())) {
        EXPECT(!bi.has_console);
        EXPECT_EQ(bi.nr_warnings, 0);
    }

    /* a broken console reg is a warning, not an error */
    tree_begin(2, 2);
    minimal_body();
    node_begin("pl011@9000000");
    prop_str("compatible", "arm,pl011");
    prop_raw("reg", six, sizeof(six));
    node_end();
    if (EXPECT(tree_end()) && EXPECT(parse_ok())) {
        EXPECT(!bi.has_console);
        if (EXPECT_EQ(bi.nr_warnings, 1))
            EXPECT(has(bi.warning[0], "/pl011@9000000: reg is 6 bytes"));
    }
}

/* ------------------------------------------------- bootargs, CPUs, PSCI */

SELFTEST(bootinfo, bootargs)
{
    static char longer[BOOTINFO_BOOTARGS_LEN + 44 + 1];

    tree_begin(2, 2);
    minimal_body();
    node_begin("chosen");
    prop_str("bootargs", "selftest=bootinfo seed=42");
    node_end();
    if (EXPECT(tree_end()) && EXPECT(parse_ok())) {
        EXPECT_STREQ(bi.bootargs, "selftest=bootinfo seed=42");
        EXPECT_EQ(bi.nr_warnings, 0);
    }

    /* longer than the buffer: cut to what fits, with a warning */
    memset(longer, 'a', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    tree_begin(2, 2);
    minimal_body();
    node_begin("chosen");
    prop_str("bootargs", longer);
    node_end();
    if (EXPECT(tree_end()) && EXPECT(parse_ok())) {
        EXPECT_EQ(strlen(bi.bootargs), BOOTINFO_BOOTARGS_LEN - 1);
        EXPECT_EQ(memcmp(bi.bootargs, longer, BOOTINFO_BOOTARGS_LEN - 1), 0);
        if (EXPECT_EQ(bi.nr_warnings, 1))
            EXPECT_STREQ(bi.warning[0], "/chosen: bootargs is 300 characters, cut to 255");
    }

    /* no NUL inside the property: an error */
    tree_begin(2, 2);
    minimal_body();
    node_begin("chosen");
    prop_raw("bootargs", "abc", 3);
    node_end();
    if (EXPECT(tree_end()) && EXPECT(parse_fails()))
        EXPECT_STREQ(err, "/chosen: bootargs is not NUL-terminated (3 bytes)");
}

SELFTEST(bootinfo, cpu_counting)
{
    static const uint32_t mpidr[] = { 0x0, 0x1, 0x100, 0x101 };

    tree_begin(2, 2);
    {
        static const uint64_t ram[] = { 0x40000000, GiB(1) };

        memory_node("memory@40000000", 2, 2, ram, 1);
    }
    node_begin("cpus");
    prop_u32("#address-cells", 1);
    prop_u32("#size-cells", 0);
    node_begin("cpu-map");      /* no device_type: not a CPU */
    node_end();
    for (unsigned int i = 0; i < ARRAY_SIZE(mpidr); i++) {
        char name[16];

        fmt_snprintf(name, sizeof(name), "cpu@%x", (unsigned int)mpidr[i]);
        node_begin(name);
        prop_str("device_type", "cpu");
        prop_u32("reg", mpidr[i]);
        node_end();
    }
    node_begin("l2-cache");
    prop_str("device_type", "cache");
    node_end();
    node_end();
    if (!EXPECT(tree_end()) || !EXPECT(parse_ok()) || !EXPECT_EQ(bi.nr_cpus, 4))
        return;
    EXPECT_EQ(bi.nr_cpus_in_tree, 4);
    for (unsigned int i = 0; i < ARRAY_SIZE(mpidr); i++)
        EXPECT_EQ(bi.cpu_mpidr[i], mpidr[i]);
    EXPECT_EQ(bi.nr_warnings, 0);
}

SELFTEST(bootinfo, more_cpus_than_kept)
{
    const unsigned int n = BOOTINFO_MAX_CPUS + 2;

    tree_begin(2, 2);
    {
        static const uint64_t ram[] = { 0x40000000, GiB(1) };

        memory_node("memory@40000000", 2, 2, ram, 1);
    }
    cpus_node(n);
    if (!EXPECT(tree_end()) || !EXPECT(parse_ok()))
        return;
    EXPECT_EQ(bi.nr_cpus, BOOTINFO_MAX_CPUS);
    EXPECT_EQ(bi.nr_cpus_in_tree, n);
    for (unsigned int i = 0; i < BOOTINFO_MAX_CPUS; i++)
        EXPECT_EQ(bi.cpu_mpidr[i], i);
    if (EXPECT_EQ(bi.nr_warnings, 1))
        EXPECT_STREQ(bi.warning[0], "/cpus: 10 CPUs, only the first 8 are used");
}

SELFTEST(bootinfo, cpu_errors)
{
    static const uint64_t ram[] = { 0x40000000, GiB(1) };
    static const uint64_t wide[] = { 0x100000000ULL, 0 };


    tree_begin(2, 2);
    memory_node("memory@40000000", 2, 2, ram, 1);
    node_begin("cpus");
    node_begin("cpu@0");
    prop_str("device_type", "cpu");
    node_end();
    node_end();
    if (EXPECT(tree_end()) && EXPECT(parse_fails()))
        EXPECT_STREQ(err, "/cpus/cpu@0: cpu node without reg");

    /* two address cells (as on arm64) are read, but an MPIDR must fit 32 bits */
    tree_begin(2, 2);
    memory_node("memory@40000000", 2, 2, ram, 1);
    node_begin("cpus");
    prop_u32("#address-cells", 2);
    prop_u32("#size-cells", 0);
    node_begin("cpu@100000000");
    prop_str("device_type", "cpu");
    prop_reg(2, 0, wide, 1);
    node_end();
    node_end();
    if (EXPECT(tree_end()) && EXPECT(parse_fails()))
        EXPECT_STREQ(err, "/cpus/cpu@100000000: MPIDR 0x100000000 does not fit in 32 bits");
}

/* As Xen: a tree that names no CPU boots on the boot CPU alone, with a warning. */
SELFTEST(bootinfo, no_cpus_runs_on_the_boot_cpu)
{
    static const uint64_t ram[] = { 0x40000000, GiB(1) };

    tree_begin(2, 2);
    memory_node("memory@40000000", 2, 2, ram, 1);
    if (EXPECT(tree_end()) && EXPECT(parse_ok())) {
        EXPECT_EQ(bi.nr_cpus, 0);
        EXPECT_EQ(bi.nr_cpus_in_tree, 0);
        if (EXPECT_EQ(bi.nr_warnings, 1))
            EXPECT_STREQ(bi.warning[0], "no /cpus node: running on the boot CPU alone");
    }

    tree_begin(2, 2);
    memory_node("memory@40000000", 2, 2, ram, 1);
    cpus_node(0);
    if (EXPECT(tree_end()) && EXPECT(parse_ok())) {
        EXPECT_EQ(bi.nr_cpus, 0);
        if (EXPECT_EQ(bi.nr_warnings, 1))
            EXPECT_STREQ(bi.warning[0], "/cpus: no node with device_type \"cpu\": "
                                        "running on the boot CPU alone");
    }
}

SELFTEST(bootinfo, psci_method)
{
    static const char *const methods[] = { "smc", "hvc" };

    for (unsigned int i = 0; i < ARRAY_SIZE(methods); i++) {
        tree_begin(2, 2);
        minimal_body();
        node_begin("psci");
        prop_str("compatible", "arm,psci-0.2");
        prop_str("method", methods[i]);
        node_end();
        if (EXPECT(tree_end()) && EXPECT(parse_ok()))
            EXPECT_EQ(bi.psci_smc, i == 0);
    }
}

/* ------------------------------------------------------------ boot modules */

static const char compat_kernel[] = "multiboot,kernel\0multiboot,module";
static const char compat_ramdisk[] = "multiboot,ramdisk\0multiboot,module";
static const char compat_module[] = "multiboot,module";

/* A /chosen child with the given compatible list (with its NULs), one reg entry, bootargs. */
static void module_node(const char *name, const char *compat, int compat_len,
                        unsigned int addr_cells, unsigned int size_cells,
                        uint64_t base, uint64_t size, const char *bootargs)
{
    const uint64_t reg[] = { base, size };

    node_begin(name);
    prop_raw("compatible", compat, compat_len);
    prop_reg(addr_cells, size_cells, reg, 1);
    if (bootargs)
        prop_str("bootargs", bootargs);
    node_end();
}

#define KERNEL(name, ac, sc, base, size, args) \
    module_node(name, compat_kernel, sizeof(compat_kernel), ac, sc, base, size, args)
#define RAMDISK(name, ac, sc, base, size) \
    module_node(name, compat_ramdisk, sizeof(compat_ramdisk), ac, sc, base, size, NULL)
#define OTHER(name, ac, sc, base, size) \
    module_node(name, compat_module, sizeof(compat_module), ac, sc, base, size, NULL)

/* /chosen with the given cells (0: leave the property out) around the modules body() adds. */
static void chosen_begin(uint32_t addr_cells, uint32_t size_cells)
{
    node_begin("chosen");
    if (addr_cells)
        prop_u32("#address-cells", addr_cells);
    if (size_cells)
        prop_u32("#size-cells", size_cells);
}

SELFTEST(bootmodules, kinds_ranges_bootargs_and_reservations)
{
    const struct bootmodule *k, *r;

    tree_begin(2, 2);
    minimal_body();
    chosen_begin(1, 1);
    prop_str("bootargs", "hypervisor options");
    KERNEL("module@48000000", 1, 1, 0x48000123, 0x200000, "console=ttyAMA0 root=/dev/ram");
    OTHER("module@4a000000", 1, 1, 0x4a000000, 0x1000);
    RAMDISK("module@49000000", 1, 1, 0x49000000, 0x345678);
    /* not a module: no multiboot compatible */
    node_begin("other");
    prop_str("compatible", "vendor,thing");
    node_end();
    node_end();
    if (!EXPECT(tree_end()) || !EXPECT(parse_ok()) || !EXPECT_EQ(bi.nr_modules, 3))
        return;
    EXPECT_STREQ(bi.bootargs, "hypervisor options");
    EXPECT_EQ(bi.module[0].kind, BOOTMOD_KERNEL);
    EXPECT_EQ(bi.module[0].start, 0x48000123);
    EXPECT_EQ(bi.module[0].size, 0x200000);
    EXPECT_STREQ(bi.module[0].cmdline, "console=ttyAMA0 root=/dev/ram");
    EXPECT_STREQ(bi.module[0].path, "/chosen/module@48000000");
    EXPECT_EQ(bi.module[1].kind, BOOTMOD_OTHER);
    EXPECT_STREQ(bi.module[1].cmdline, "");
    EXPECT_EQ(bi.module[2].kind, BOOTMOD_RAMDISK);
    EXPECT_EQ(bi.module[2].size, 0x345678);

    k = bootinfo_first_module(&bi, BOOTMOD_KERNEL);
    r = bootinfo_first_module(&bi, BOOTMOD_RAMDISK);
    EXPECT(k == &bi.module[0]);
    EXPECT(r == &bi.module[2]);
    EXPECT(bootinfo_first_module(&bi, BOOTMOD_OTHER) == &bi.module[1]);
    EXPECT_STREQ(bootmodule_kind_name(BOOTMOD_KERNEL), "kernel");
    EXPECT_STREQ(bootmodule_kind_name(BOOTMOD_RAMDISK), "ramdisk");
    EXPECT_STREQ(bootmodule_kind_name(BOOTMOD_OTHER), "module");
    EXPECT_STREQ(reserved_kind_name(RESV_MODULE), "module");

    /* reserved, sorted, and cut out of usable RAM (a partial page at either end goes too) */
    if (!EXPECT_EQ(bi.nr_reserved, 3))
        return;
    for (unsigned int i = 0; i < 3; i++)
        EXPECT_EQ(bi.reserved[i].kind, RESV_MODULE);
    EXPECT_EQ(bi.reserved[0].start, 0x48000123);
    EXPECT_EQ(bi.reserved[0].end, 0x48200123);
    EXPECT_EQ(bi.reserved[1].start, 0x49000000);
    EXPECT_EQ(bi.reserved[1].end, 0x49345678);
    EXPECT_EQ(bi.reserved[2].start, 0x4a000000);
    if (EXPECT_EQ(bi.nr_usable, 4)) {
        range_is(&bi.usable[0], 0x40000000, 0x48000000);
        range_is(&bi.usable[1], 0x48201000, 0x49000000);
        range_is(&bi.usable[2], 0x49346000, 0x4a000000);
        range_is(&bi.usable[3], 0x4a001000, 0x80000000);
    }
}

SELFTEST(bootmodules, default_cells_disabled_and_none)
{
    static const char disabled_compat[] = "multiboot,ramdisk";

    /* /chosen without cell properties: 2 address cells and 1 size cell */
    tree_begin(2, 2);
    minimal_body();
    chosen_begin(0, 0);
    KERNEL("kernel", 2, 1, 0x50000000, 0x1000, NULL);
    node_begin("ramdisk");
    prop_raw("compatible", disabled_compat, sizeof(disabled_compat));
    prop_reg(2, 1, (const uint64_t[]){ 0x60000000, 0x1000 }, 1);
    prop_str("status", "disabled");
    node_end();
    node_end();
    if (EXPECT(tree_end()) && EXPECT(parse_ok()) && EXPECT_EQ(bi.nr_modules, 1)) {
        EXPECT_EQ(bi.module[0].start, 0x50000000);
        EXPECT_EQ(bi.module[0].size, 0x1000);
        EXPECT(bootinfo_first_module(&bi, BOOTMOD_RAMDISK) == NULL);
    }

    /* no /chosen at all */
    tree_begin(2, 2);
    minimal_body();
    if (EXPECT(tree_end()) && EXPECT(parse_ok())) {
        EXPECT_EQ(bi.nr_modules, 0);
        EXPECT(bootinfo_first_module(&bi, BOOTMOD_KERNEL) == NULL);
    }
}

SELFTEST(bootmodules, long_bootargs_are_cut_with_a_warning)
{
    static char longer[BOOTINFO_BOOTARGS_LEN + 10];

    memset(longer, 'k', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    tree_begin(2, 2);
    minimal_body();
    chosen_begin(2, 2);
    KERNEL("k", 2, 2, 0x50000000, 0x1000, longer);
    node_end();
    if (EXPECT(tree_end()) && EXPECT(parse_ok()) && EXPECT_EQ(bi.nr_modules, 1)) {
        EXPECT_EQ(strlen(bi.module[0].cmdline), BOOTINFO_BOOTARGS_LEN - 1);
        if (EXPECT_EQ(bi.nr_warnings, 1))
            EXPECT_STREQ(bi.warning[0], "/chosen/k: bootargs is 265 characters, cut to 255");
    }
}

/* One tree with a kernel of the given reg in the 1 GiB minimal machine; the parse must fail. */
static bool one_module_fails(unsigned int ac, unsigned int sc, uint64_t base, uint64_t size)
{
    tree_begin(2, 2);
    minimal_body();
    chosen_begin(ac, sc);
    KERNEL("kernel@0", ac, sc, base, size, NULL);
    node_end();
    return EXPECT(tree_end()) && EXPECT(parse_fails());
}

SELFTEST(bootmodules, bad_reg_refused)
{
    if (one_module_fails(2, 2, 0x50000000, 0))
        EXPECT_STREQ(err, "/chosen/kernel@0: boot module at 0x50000000 has size 0");
    if (one_module_fails(2, 2, 0xfffff00000ULL, 0x200000))
        EXPECT_STREQ(err, "/chosen/kernel@0: module at 0xfffff00000 size 0x200000 goes "
                          "beyond the 40-bit physical address limit");
    if (one_module_fails(2, 2, 0xffffffffffff0000ULL, 0x20000))
        EXPECT(has(err, "goes beyond the 40-bit physical address limit"));

    /* reg of the wrong length for /chosen's cells */
    tree_begin(2, 2);
    minimal_body();
    chosen_begin(1, 1);
    KERNEL("kernel@0", 2, 1, 0x50000000, 0x1000, NULL);
    node_end();
    if (EXPECT(tree_end()) && EXPECT(parse_fails()))
        EXPECT_STREQ(err, "/chosen/kernel@0: reg is 12 bytes, not a multiple of 8 "
                          "(#address-cells=1, #size-cells=1)");

    /* no reg, two entries, unsupported cells */
    tree_begin(2, 2);
    minimal_body();
    chosen_begin(1, 1);
    node_begin("kernel@0");
    prop_raw("compatible", compat_kernel, sizeof(compat_kernel));
    node_end();
    node_end();
    if (EXPECT(tree_end()) && EXPECT(parse_fails()))
        EXPECT_STREQ(err, "/chosen/kernel@0: boot module without a reg entry");

    tree_begin(2, 2);
    minimal_body();
    chosen_begin(1, 1);
    node_begin("kernel@0");
    prop_raw("compatible", compat_kernel, sizeof(compat_kernel));
    prop_reg(1, 1, (const uint64_t[]){ 0x50000000, 0x1000, 0x51000000, 0x1000 }, 2);
    node_end();
    node_end();
    if (EXPECT(tree_end()) && EXPECT(parse_fails()))
        EXPECT_STREQ(err, "/chosen/kernel@0: boot module with more than one reg entry");

    tree_begin(2, 2);
    minimal_body();
    chosen_begin(3, 1);
    KERNEL("kernel@0", 3, 1, 0x50000000, 0x1000, NULL);
    node_end();
    if (EXPECT(tree_end()) && EXPECT(parse_fails()))
        EXPECT_STREQ(err, "/chosen/kernel@0: unsupported #address-cells=3 in /chosen "
                          "(need 1 or 2)");
}

SELFTEST(bootmodules, placement_refused)
{
    static const uint64_t ram[] = { 0x40000000, MiB(256), 0x60000000, MiB(256) };

    /* below RAM, past its end, across the hole between two banks */
    if (one_module_fails(2, 2, 0x3ffff000, 0x2000))
        EXPECT_STREQ(err, "/chosen/kernel@0: module at 0x3ffff000-0x40001000 is not inside "
                          "one RAM bank");
    if (one_module_fails(2, 2, 0x7ffff000, 0x1001))
        EXPECT(has(err, "is not inside one RAM bank"));
    tree_begin(2, 2);
    memory_node("memory@40000000", 2, 2, ram, 2);
    cpus_node(1);
    chosen_begin(2, 2);
    KERNEL("kernel@0", 2, 2, 0x4ffff000, 0x10002000, NULL);
    node_end();
    if (EXPECT(tree_end()) && EXPECT(parse_fails()))
        EXPECT_STREQ(err, "/chosen/kernel@0: module at 0x4ffff000-0x60001000 is not inside "
                          "one RAM bank");

    /* two modules sharing a byte */
    tree_begin(2, 2);
    minimal_body();
    chosen_begin(2, 2);
    KERNEL("kernel", 2, 2, 0x50000000, 0x1001, NULL);
    RAMDISK("ramdisk", 2, 2, 0x50001000, 0x1000);
    node_end();
    if (EXPECT(tree_end()) && EXPECT(parse_fails()))
        EXPECT_STREQ(err, "/chosen/ramdisk: module at 0x50001000-0x50002000 overlaps "
                          "/chosen/kernel at 0x50000000-0x50001001");

    /* over the image, over the DTB */
    tree_begin(2, 2);
    minimal_body();
    chosen_begin(2, 2);
    KERNEL("kernel", 2, 2, 0x402ff000, 0x2000, NULL);
    node_end();
    if (EXPECT(tree_end())) {
        EXPECT(!parse_blob(blob, sizeof(blob), BOOTINFO_PA_UNKNOWN, 0x40200000, 0x40300000));
        EXPECT_STREQ(err, "/chosen/kernel: module at 0x402ff000-0x40301000 overlaps the "
                          "hypervisor image at 0x40200000-0x40300000");
        EXPECT(!parse_blob(blob, sizeof(blob), 0x402ff800, 0, 0));
        EXPECT(has(err, "overlaps the device tree blob at 0x402ff800-"));
        /* just after the image: fine */
        EXPECT(parse_blob(blob, sizeof(blob), BOOTINFO_PA_UNKNOWN, 0x40200000, 0x402ff000));
    }
}

SELFTEST(bootmodules, unterminated_bootargs_and_too_many)
{
    char name[24];

    tree_begin(2, 2);
    minimal_body();
    chosen_begin(2, 2);
    node_begin("kernel");
    prop_raw("compatible", compat_kernel, sizeof(compat_kernel));
    prop_reg(2, 2, (const uint64_t[]){ 0x50000000, 0x1000 }, 1);
    prop_raw("bootargs", "root", 4);
    node_end();
    node_end();
    if (EXPECT(tree_end()) && EXPECT(parse_fails()))
        EXPECT_STREQ(err, "/chosen/kernel: bootargs is not NUL-terminated (4 bytes)");

    for (unsigned int n = BOOTINFO_MAX_MODULES; n <= BOOTINFO_MAX_MODULES + 1; n++) {
        tree_begin(2, 2);
        minimal_body();
        chosen_begin(2, 2);
        for (unsigned int i = 0; i < n; i++) {
            fmt_snprintf(name, sizeof(name), "module@%u", i);
            OTHER(name, 2, 2, 0x50000000 + MiB(1) * i, 0x1000);
        }
        node_end();
        if (!EXPECT(tree_end()))
            continue;
        if (n == BOOTINFO_MAX_MODULES) {
            if (EXPECT(parse_ok()))
                EXPECT_EQ(bi.nr_modules, BOOTINFO_MAX_MODULES);
        } else if (EXPECT(parse_fails())) {
            EXPECT_STREQ(err, "/chosen/module@8: too many boot modules (at most 8)");
        }
    }
}

/* ------------------------------------- addresses beyond 40 bits, devices in RAM */

/* A node compatible with compat whose reg is n (address, size) pairs in the root's cells. */
static void device_node(const char *name, const char *compat, const uint64_t *reg,
                        unsigned int n)
{
    node_begin(name);
    prop_str("compatible", compat);
    prop_reg(2, 2, reg, n);
    node_end();
}

/*
 * Issue 12: a console above 2^40 was kept and mapped at its address cut to
 * 32 bits of frame number (0x10000_0900_0000 became 0x0900_0000). It must
 * be dropped with a warning, as a console that cannot be used; so must one
 * whose registers do not fit in the page it is reached through.
 */
SELFTEST(bootinfo, console_address_checked)
{
    static const struct {
        uint64_t base, size;
        const char *warning;
    } cases[] = {
        { 0x1000009000000ULL, 0x1000,
          "/pl011: PL011 at 0x1000009000000 size 0x1000 lies beyond the 40-bit physical "
          "address limit; no console" },
        { 0xfffffffffffff000ULL, 0x1000,
          "/pl011: PL011 at 0xfffffffffffff000 size 0x1000 lies beyond the 40-bit physical "
          "address limit; no console" },
        { 0xfffffff000ULL, 0x2000,
          "/pl011: PL011 at 0xfffffff000 size 0x2000 lies beyond the 40-bit physical "
          "address limit; no console" },
        { 0x9000ff0, 0x1000,
          "/pl011: PL011 at 0x9000ff0 size 0x1000: its registers (0x1c bytes) are not "
          "word-aligned inside one 4 KiB page; no console" },
        { 0x9000002, 0x1000,
          "/pl011: PL011 at 0x9000002 size 0x1000: its registers (0x1c bytes) are not "
          "word-aligned inside one 4 KiB page; no console" },
        { 0x9000000, 0x18,
          "/pl011: PL011 at 0x9000000 size 0x18: its registers (0x1c bytes) are not "
          "word-aligned inside one 4 KiB page; no console" },
    };

    for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++) {
        tree_begin(2, 2);
        minimal_body();
        pl011_node("pl011", 2, 2, cases[i].base, cases[i].size, true);
        if (!EXPECT(tree_end()) || !EXPECT(parse_ok()))
            continue;
        EXPECT(!bi.has_console);
        if (EXPECT_EQ(bi.nr_warnings, 1))
            EXPECT_STREQ(bi.warning[0], cases[i].warning);
    }

    /* the last page below 2^40 is fine */
    tree_begin(2, 2);
    minimal_body();
    pl011_node("pl011", 2, 2, 0xfffffff000ULL, 0x1000, true);
    if (EXPECT(tree_end()) && EXPECT(parse_ok()) && EXPECT(bi.has_console))
        EXPECT_EQ(bi.console_base, 0xfffffff000ULL);
}

/* /memreserve/ and /reserved-memory: no wrap (as before) and nothing beyond 2^40. */
SELFTEST(bootinfo, reserved_beyond_40_bits)
{
    static const struct rsv high[] = { { 0xfffffff000ULL, 0x2000 } };
    static const uint64_t crossing[] = { 0xffff000000ULL, 0x2000000 };

    tree_begin_rsv(high, 1, 2, 2);
    minimal_body();
    if (EXPECT(tree_end()) && EXPECT(parse_fails()))
        EXPECT_STREQ(err, "/memreserve/ entry 0: reserved range at 0xfffffff000 size 0x2000 "
                          "goes beyond the 40-bit physical address limit");

    tree_begin(2, 2);
    minimal_body();
    node_begin("reserved-memory");
    prop_u32("#address-cells", 2);
    prop_u32("#size-cells", 2);
    prop_raw("ranges", NULL, 0);
    node_begin("fw@ffff000000");
    prop_reg(2, 2, crossing, 1);
    node_end();
    node_end();
    if (EXPECT(tree_end()) && EXPECT(parse_fails()))
        EXPECT_STREQ(err, "/reserved-memory/fw@ffff000000: reserved range at 0xffff000000 "
                          "size 0x2000000 goes beyond the 40-bit physical address limit");
}

/* Issue 12: a PL011 inside RAM was used, its "registers" heap pages; refused, naming both. */
SELFTEST(bootinfo, console_in_ram_refused)
{
    tree_begin(2, 2);
    minimal_body();
    pl011_node("pl011@50000000", 2, 2, 0x50000000, 0x1000, true);
    node_begin("chosen");
    prop_str("stdout-path", "/pl011@50000000");
    node_end();
    if (EXPECT(tree_end()) && EXPECT(parse_fails()))
        EXPECT_STREQ(err, "/pl011@50000000: reg 0x50000000-0x50001000 lies in RAM "
                          "0x40000000-0x80000000 (/memory@40000000): the tree names RAM "
                          "where a device is");

    /* behind a bus whose ranges translate: the device walk leaves it, the console check not */
    tree_begin(2, 2);
    minimal_body();
    node_begin("soc");
    prop_u32("#address-cells", 1);
    prop_u32("#size-cells", 1);
    {
        static const uint32_t ranges[] = { 0, 0, 0, 0 };

        prop_raw("ranges", ranges, sizeof(ranges));
    }
    pl011_node("pl011@7fff0000", 1, 1, 0x7fff0000, 0x1000, true);
    node_end();
    if (EXPECT(tree_end()) && EXPECT(parse_fails()))
        EXPECT_STREQ(err, "/soc/pl011@7fff0000: PL011 at 0x7fff0000-0x7fff1000 lies in RAM "
                          "0x40000000-0x80000000 (/memory@40000000)");
}

/*
 * Issue 12: RAM at 0, or at 0x08000000 over QEMU's GIC and UART, passed
 * set-up and ended in an external abort in the self-tests.
 */
SELFTEST(bootinfo, ram_over_devices_refused)
{
    static const uint64_t ram0[] = { 0, GiB(1) };
    static const uint64_t ram8[] = { 0x08000000, GiB(1) };
    static const uint64_t gic[] = { 0x08000000, 0x10000, 0x08010000, 0x10000 };
    static const uint64_t v2m[] = { 0x08020000, 0x1000 };
    static const uint64_t rtc[] = { 0x09010000, 0x1000 };

    tree_begin(2, 2);
    memory_node("memory@0", 2, 2, ram0, 1);
    cpus_node(1);
    device_node("pl031@9010000", "arm,pl031", rtc, 1);
    if (EXPECT(tree_end()) && EXPECT(parse_fails()))
        EXPECT_STREQ(err, "/pl031@9010000: reg 0x9010000-0x9011000 lies in RAM "
                          "0x0-0x40000000 (/memory@0): the tree names RAM where a device is");

    tree_begin(2, 2);
    memory_node("memory@8000000", 2, 2, ram8, 1);
    cpus_node(1);
    device_node("intc@8000000", "arm,cortex-a15-gic", gic, 2);
    if (EXPECT(tree_end()) && EXPECT(parse_fails()))
        EXPECT_STREQ(err, "/intc@8000000: reg 0x8000000-0x8010000 lies in RAM "
                          "0x8000000-0x48000000 (/memory@8000000): the tree names RAM where "
                          "a device is");

    /* the GIC's v2m child, through the GIC's empty ranges, is a root address too */
    tree_begin(2, 2);
    memory_node("memory@8000000", 2, 2, ram8, 1);
    cpus_node(1);
    node_begin("intc");
    prop_str("compatible", "arm,cortex-a15-gic");
    prop_u32("#address-cells", 2);
    prop_u32("#size-cells", 2);
    prop_raw("ranges", NULL, 0);
    device_node("v2m@8020000", "arm,gic-v2m-frame", v2m, 1);
    node_end();
    if (EXPECT(tree_end()) && EXPECT(parse_fails()))
        EXPECT(has(err, "/intc/v2m@8020000: reg 0x8020000-0x8021000 lies in RAM"));

    /* a reg that wraps still lies in RAM */
    {
        static const uint64_t wrap[] = { 0x7ffff000, 0xffffffffffff0000ULL };

        tree_begin(2, 2);
        minimal_body();
        device_node("dev", "vendor,dev", wrap, 1);
        if (EXPECT(tree_end()) && EXPECT(parse_fails()))
            EXPECT(has(err, "/dev: reg 0x7ffff000-0xffffffffffffffff lies in RAM"));
    }
}

/* What the device walk must leave alone: these all overlap RAM and parse. */
SELFTEST(bootinfo, ram_over_devices_what_is_not_a_device)
{
    static const uint64_t in_ram[] = { 0x50000000, 0x1000 };
    static const uint32_t bus_ranges[] = { 0x0, 0x0, 0x9000000, 0x1000000 };

    tree_begin(2, 2);
    minimal_body();
    /* disabled */
    node_begin("disabled@50000000");
    prop_str("compatible", "vendor,dev");
    prop_str("status", "disabled");
    prop_reg(2, 2, in_ram, 1);
    node_end();
    /* no compatible */
    node_begin("nocompat@50000000");
    prop_reg(2, 2, in_ram, 1);
    node_end();
    /* what /reserved-memory and /chosen describe lies in RAM by design */
    node_begin("reserved-memory");
    prop_u32("#address-cells", 2);
    prop_u32("#size-cells", 2);
    prop_raw("ranges", NULL, 0);
    device_node("pool@50000000", "shared-dma-pool", in_ram, 1);
    node_end();
    node_begin("chosen");
    prop_u32("#address-cells", 2);
    prop_u32("#size-cells", 2);
    prop_raw("ranges", NULL, 0);
    device_node("framebuffer@50001000", "simple-framebuffer", in_ram, 1);
    node_end();
    /* behind a bus that translates: its children's reg are not root addresses */
    node_begin("soc");
    prop_str("compatible", "simple-bus");
    prop_u32("#address-cells", 1);
    prop_u32("#size-cells", 1);
    prop_raw("ranges", bus_ranges, sizeof(bus_ranges));
    node_begin("dev@50000000");
    prop_str("compatible", "vendor,dev");
    prop_reg(1, 1, in_ram, 1);
    node_end();
    node_end();
    /* a bus without ranges: nothing under it is mapped at all */
    node_begin("i2c");
    prop_str("compatible", "vendor,i2c");
    prop_u32("#address-cells", 1);
    prop_u32("#size-cells", 0);
    node_begin("eeprom@50");
    prop_str("compatible", "atmel,24c02");
    prop_u32("reg", 0x50);
    node_end();
    node_end();
    if (EXPECT(tree_end()) && EXPECT(parse_ok()))
        EXPECT_EQ(bi.nr_warnings, 0);

    /* QEMU's own tree: flash, GIC, UART, PCIe and all, none of it in RAM */
    EXPECT(parse_blob(qemu_virt_dtb, fdt_totalsize(qemu_virt_dtb), BOOTINFO_PA_UNKNOWN, 0, 0));
}
