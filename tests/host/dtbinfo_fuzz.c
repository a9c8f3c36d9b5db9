/*
 * Fuzzing bootinfo_parse with mutated device trees (host only).
 *
 * A valid tree that uses every feature the parser reads is mutated with a
 * fixed-seed PRNG, so a failure is reproducible by iteration number. Each
 * attempt gets a malloc'd buffer of exactly the bytes it claims to have, so
 * AddressSanitizer catches any read past them, and UBSan watches the
 * arithmetic. Beyond "no crash", every successful parse must satisfy the
 * promises of include/dt/bootinfo.h, checked here independently of the parser,
 * and every failure must come with a message.
 *
 * Most mutations hit the structure and strings blocks with values that are
 * likely to matter (lengths, cell counts, tags, offsets); a few hit the
 * header or cut the blob short, which mostly exercises the up-front checks.
 */
#include <dt/bootinfo.h>
#include <lib/lib.h>
#include <libfdt.h>
#include <stdlib.h>
#include <string.h>
#include <test/selftest.h>

#include "bootinfo_promises.h"

#define FUZZ_ITERATIONS 20000
#define FUZZ_SEED 0x9e3779b97f4a7c15ULL

static uint8_t seed_blob[4096] __attribute__((aligned(8)));
static uint8_t work[sizeof(seed_blob)];
static struct bootinfo fuzz_bi;

static uint64_t rng_state;

static uint64_t rng(void)
{
    /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dULL;
}

static uint32_t rng_below(uint32_t n)
{
    return (uint32_t)(rng() % n);
}

/* A property of 32-bit cells given in CPU order. */
static int prop_cells(void *fdt, const char *name, const uint32_t *cells, unsigned int n)
{
    uint8_t raw[64];

    for (unsigned int i = 0; i < n; i++)
        fdt32_st(raw + 4 * i, cells[i]);
    return fdt_property(fdt, name, raw, (int)(4 * n));
}

static int build_seed(void)
{
    static const char pl011[] = "arm,pl011\0arm,primecell";
    static const uint32_t ram[] = { 0, 0x40000000, 0, 0x10000000, 1, 0, 0, 0x10000000 };
    static const uint32_t ram2[] = { 0, 0x60000000, 0, 0x20000000 };
    static const uint32_t resv[] = { 0x70000000, 0x100000 };
    static const uint32_t uart[] = { 0, 0x09000000, 0, 0x1000 };
    static const char kernel[] = "multiboot,kernel\0multiboot,module";
    static const uint32_t module[] = { 0, 0x48000000, 0x100000 };
    void *b = seed_blob;
    int rc = 0;

#define SW(call) do { if (rc >= 0) rc = (call); } while (0)
    SW(fdt_create(b, sizeof(seed_blob)));
    SW(fdt_add_reservemap_entry(b, 0x7f000000, 0x10000));
    SW(fdt_finish_reservemap(b));
    SW(fdt_begin_node(b, ""));
    SW(fdt_property_cell(b, "#address-cells", 2));
    SW(fdt_property_cell(b, "#size-cells", 2));
    SW(fdt_begin_node(b, "memory@40000000"));
    SW(fdt_property_string(b, "device_type", "memory"));
    SW(prop_cells(b, "reg", ram, ARRAY_SIZE(ram)));
    SW(fdt_end_node(b));
    SW(fdt_begin_node(b, "memory@60000000"));
    SW(fdt_property_string(b, "device_type", "memory"));
    SW(prop_cells(b, "reg", ram2, ARRAY_SIZE(ram2)));
    SW(fdt_end_node(b));
    SW(fdt_begin_node(b, "reserved-memory"));
    SW(fdt_property_cell(b, "#address-cells", 1));
    SW(fdt_property_cell(b, "#size-cells", 1));
    SW(fdt_property(b, "ranges", NULL, 0));
    SW(fdt_begin_node(b, "fw@70000000"));
    SW(prop_cells(b, "reg", resv, ARRAY_SIZE(resv)));
    SW(fdt_end_node(b));
    SW(fdt_end_node(b));
    SW(fdt_begin_node(b, "cpus"));
    SW(fdt_property_cell(b, "#address-cells", 1));
    SW(fdt_property_cell(b, "#size-cells", 0));
    for (uint32_t i = 0; i < 2; i++) {
        SW(fdt_begin_node(b, i ? "cpu@1" : "cpu@0"));
        SW(fdt_property_string(b, "device_type", "cpu"));
        SW(fdt_property_cell(b, "reg", i));
        SW(fdt_end_node(b));
    }
    SW(fdt_end_node(b));
    SW(fdt_begin_node(b, "psci"));
    SW(fdt_property_string(b, "method", "smc"));
    SW(fdt_end_node(b));
    SW(fdt_begin_node(b, "aliases"));
    SW(fdt_property_string(b, "serial0", "/pl011@9000000"));
    SW(fdt_end_node(b));
    SW(fdt_begin_node(b, "pl011@9000000"));
    SW(fdt_property(b, "compatible", pl011, sizeof(pl011)));
    SW(prop_cells(b, "reg", uart, ARRAY_SIZE(uart)));
    SW(fdt_end_node(b));
    SW(fdt_begin_node(b, "chosen"));
    SW(fdt_property_string(b, "bootargs", "console=ttyAMA0"));
    SW(fdt_property_string(b, "stdout-path", "serial0:115200n8"));
    SW(fdt_begin_node(b, "module@48000000"));
    SW(fdt_property(b, "compatible", kernel, sizeof(kernel)));
    SW(prop_cells(b, "reg", module, ARRAY_SIZE(module)));   /* /chosen's default 2 + 1 cells */
    SW(fdt_property_string(b, "bootargs", "console=hvc0"));
    SW(fdt_end_node(b));
    SW(fdt_end_node(b));
    SW(fdt_end_node(b));
    SW(fdt_finish(b));
#undef SW
    return rc;
}

static uint32_t interesting(uint32_t totalsize)
{
    static const uint32_t values[] = {
        0, 1, 2, 3, 4, 7, 8, 12, 16, 0x7f, 0x80, 0xff, 0x1000, 0x7fffffff,
        0x80000000, 0xfffffffc, 0xffffffff, FDT_BEGIN_NODE, FDT_END_NODE,
        FDT_PROP, FDT_NOP, FDT_END,
    };
    uint32_t pick = rng_below(ARRAY_SIZE(values) + 2);

    if (pick == ARRAY_SIZE(values))
        return totalsize;
    if (pick == ARRAY_SIZE(values) + 1)
        return (uint32_t)rng();
    return values[pick];
}

/* Where the seed's property values (and its /memreserve/ entry) lie. */
struct value_span {
    uint32_t off, len;
};
static struct value_span spans[64];
static unsigned int nr_spans;

static void find_value_spans(void)
{
    int node = 0, depth = 0, prop;

    nr_spans = 0;
    spans[nr_spans++] = (struct value_span){ fdt_off_mem_rsvmap(seed_blob), 16 };
    for (; node >= 0; node = fdt_next_node(seed_blob, node, &depth)) {
        fdt_for_each_property_offset(prop, seed_blob, node) {
            const char *name;
            int len;
            const void *v = fdt_getprop_by_offset(seed_blob, prop, &name, &len);

            if (v && len > 0 && nr_spans < ARRAY_SIZE(spans))
                spans[nr_spans++] = (struct value_span){
                    (uint32_t)((const uint8_t *)v - seed_blob), (uint32_t)len };
        }
    }
}

/*
 * Mutates buf (size bytes, a copy of the seed) in place; returns the bytes
 * to offer. Property values get the most attention: changing them leaves
 * the structure valid, so the parse goes past fdt_check_full into the code
 * that interprets values.
 */
static size_t mutate(uint8_t *buf, size_t size)
{
    uint32_t struct_off = fdt_off_dt_struct(seed_blob);
    uint32_t struct_end = struct_off + fdt_size_dt_struct(seed_blob);
    unsigned int count = 1 + rng_below(3);
    size_t avail = size;

    for (unsigned int i = 0; i < count; i++) {
        uint32_t kind = rng_below(32), off;

        if (kind < 14) {
            /* inside a property value: a cell, or a single byte of a string */
            const struct value_span *v = &spans[rng_below(nr_spans)];

            if (v->len >= 4 && rng_below(2))
                fdt32_st(buf + v->off + 4 * rng_below(v->len / 4), interesting((uint32_t)size));
            else
                buf[v->off + rng_below(v->len)] = rng_below(4) ? (uint8_t)rng() : 0;
        } else if (kind < 19) {
            /* a whole word of the structure block: tags, lengths, name offsets */
            off = struct_off + 4 * rng_below((struct_end - struct_off) / 4);
            fdt32_st(buf + off, interesting((uint32_t)size));
        } else if (kind < 24) {
            buf[rng_below((uint32_t)size)] ^= (uint8_t)(1u << rng_below(8));
        } else if (kind < 28) {
            buf[rng_below((uint32_t)size)] = (uint8_t)rng();
        } else if (kind < 30) {
            /* a header field */
            off = 4 * rng_below(sizeof(struct fdt_header) / 4);
            fdt32_st(buf + off, interesting((uint32_t)size));
        } else if (kind < 31) {
            /* garbage over a stretch of the structure and strings blocks */
            off = struct_off + rng_below((uint32_t)size - struct_off);
            for (uint32_t n = rng_below(64); n-- && off < size; off++)
                buf[off] = (uint8_t)rng();
        } else {
            avail = rng_below((uint32_t)size + 1);
        }
    }
    return avail;
}

SELFTEST(bootinfo_fuzz, mutated_blobs)
{
    char err[BOOTINFO_ERR_LEN];
    unsigned int passed = 0, failed = 0, broken = 0;
    size_t size;

    if (!EXPECT_EQ(build_seed(), 0))
        return;
    size = fdt_totalsize(seed_blob);
    /* the unmutated seed parses: otherwise the fuzzing would only test errors */
    if (!EXPECT_EQ(bootinfo_parse(seed_blob, size, 0x40000000, 0x40200000, 0x40400000,
                                  &fuzz_bi, err), 0)) {
        selftest_diag("seed: %s", err);
        return;
    }
    EXPECT(bootinfo_check_promises(&fuzz_bi) == NULL);
    EXPECT(fuzz_bi.has_console && fuzz_bi.console_from_stdout_path && fuzz_bi.psci_smc);
    EXPECT_EQ(fuzz_bi.nr_modules, 1);
    find_value_spans();
    if (!EXPECT(nr_spans > 10))
        return;

    rng_state = FUZZ_SEED;
    for (unsigned int iter = 0; iter < FUZZ_ITERATIONS; iter++) {
        const char *why;
        size_t avail;
        uint8_t *copy;
        int rc;

        memcpy(work, seed_blob, size);
        avail = mutate(work, size);
        /* exactly avail bytes (malloc aligns them for libfdt), so ASan sees any read beyond */
        copy = malloc(avail ? avail : 1);
        if (!EXPECT(copy != NULL))
            return;
        memcpy(copy, work, avail);

        memset(err, 0x55, sizeof(err));
        rc = bootinfo_parse(copy, avail, 0x40000000, 0x40200000, 0x40400000, &fuzz_bi, err);
        if (rc == 0) {
            passed++;
            why = bootinfo_check_promises(&fuzz_bi);
        } else if (rc == -1) {
            failed++;
            why = bootinfo_good_message(err, sizeof(err)) ? NULL
                                                           : "error message missing or unprintable";
        } else {
            why = "return value neither 0 nor -1";
        }
        if (why) {
            if (broken++ < 5)
                selftest_diag("iteration %u: %s", iter, why);
        }
        free(copy);
    }
    selftest_diag("%u parsed, %u rejected", passed, failed);
    EXPECT_EQ(broken, 0);
    /* both outcomes must be common, or the mutations are too weak or too strong */
    EXPECT(passed > FUZZ_ITERATIONS / 20);
    EXPECT(failed > FUZZ_ITERATIONS / 20);
}
