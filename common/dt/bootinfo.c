/*
 * Boot information from the flattened device tree.
 *
 * The loader (QEMU here) describes the machine in a DTB: where RAM is, which
 * parts of it are already spoken for, how many CPUs there are, where the
 * console UART sits and how PSCI is reached. This module reads all of that
 * once, at boot, into a plain struct bootinfo, so that nothing later needs
 * libfdt or has to trust the blob again. That includes the boot modules
 * (kernel, ramdisk) under /chosen that a domain is built from: they are
 * reserved like the image, so that no heap hands their RAM out before they
 * have been copied.
 *
 * The blob is untrusted input. Before any node is looked at, the header is
 * checked against the bytes actually available and fdt_check_full() walks
 * the whole structure block, so later libfdt calls stay inside the blob.
 * Property values are another matter: libfdt hands them over unchecked, so
 * every length is checked here before a cell is read, strings are only used
 * after a NUL has been found inside the property, and cells are read byte by
 * byte, which assumes nothing about alignment (the image runs with alignment
 * checking on). Names and strings from the blob are printed with control
 * characters replaced, so a hostile tree cannot drive the console.
 *
 * Every failure leaves a one-line message naming the node and the problem,
 * so that a bad boot can be diagnosed from the console alone. Which problems
 * are fatal and which are warnings is listed in include/dt/bootinfo.h.
 */
#include <dt/bootinfo.h>
#include <lib/lib.h>
#include <libfdt.h>
#include <string.h>

struct parser {
    const void *fdt;
    struct bootinfo *bi;
    char *err;
    /* node each RAM bank came from, kept parallel to bi->ram[] for messages */
    int ram_node[BOOTINFO_MAX_BANKS];
};

/* The (#address-cells, #size-cells) pair a bus gives its children's reg. */
struct cells {
    unsigned int addr;
    unsigned int size;
};

/* Walks the (address, size) entries of one reg property. */
struct reg_iter {
    const uint8_t *cur;
    const uint8_t *end;
    struct cells cells;
};

/* Text from the blob goes to the console: no control characters. */
static void scrub(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
            *s = '?';
}

static int fail(struct parser *p, const char *fmt, ...) __printf(2, 3);
static int fail(struct parser *p, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fmt_vsnprintf(p->err, BOOTINFO_ERR_LEN, fmt, ap);
    va_end(ap);
    scrub(p->err);
    return -1;
}

static void warn(struct parser *p, const char *fmt, ...) __printf(2, 3);
static void warn(struct parser *p, const char *fmt, ...)
{
    struct bootinfo *bi = p->bi;
    va_list ap;

    if (!bi)        /* a lookup outside bootinfo_parse (bootinfo_console_node) */
        return;
    if (bi->nr_warnings < BOOTINFO_MAX_WARNINGS) {
        va_start(ap, fmt);
        fmt_vsnprintf(bi->warning[bi->nr_warnings], BOOTINFO_ERR_LEN, fmt, ap);
        va_end(ap);
        scrub(bi->warning[bi->nr_warnings]);
    }
    bi->nr_warnings++;
}

static uint32_t be32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* Big-endian number of 1 or 2 cells (callers have checked n). */
static uint64_t read_number(const uint8_t *b, unsigned int n)
{
    uint64_t v = 0;

    for (unsigned int i = 0; i < n; i++)
        v = v << 32 | be32(b + 4 * i);
    return v;
}

/*
 * Whether [base, base + size) lies in the 40-bit LPAE physical address
 * space without wrapping: what must hold before any address from the tree
 * becomes a frame number (mfn_t is 32 bits in the image, so a larger one
 * would be silently cut to another, real, frame).
 */
static bool pa_range_ok(uint64_t base, uint64_t size)
{
    return base < BOOTINFO_PA_LIMIT && size <= BOOTINFO_PA_LIMIT - base;
}

static bool overlaps(paddr_t s1, paddr_t e1, paddr_t s2, paddr_t e2)
{
    return s1 < e2 && s2 < e1;
}

/*
 * The node's full path for a message. A path too long for the buffer (or a
 * node libfdt cannot place) still gets a recognisable name.
 */
static const char *node_path(const void *fdt, int node, char *buf, size_t size)
{
    const char *name;
    int len;

    if (fdt_get_path(fdt, node, buf, (int)size) != 0) {
        name = fdt_get_name(fdt, node, &len);
        if (name)
            fmt_snprintf(buf, size, ".../%.*s", len, name);
        else
            fmt_snprintf(buf, size, "<node at offset %d>", node);
    }
    scrub(buf);
    return buf;
}

/* True if the property is exactly the string want (with its NUL). */
static bool prop_is(const void *fdt, int node, const char *name, const char *want)
{
    size_t n = strlen(want) + 1;
    int len;
    const char *v = fdt_getprop(fdt, node, name, &len);

    return v && len >= 0 && (size_t)len == n && memcmp(v, want, n) == 0;
}

/* DT convention: a node without "status", or with "okay"/"ok", is in use. */
static bool node_enabled(const void *fdt, int node)
{
    int len;

    if (!fdt_getprop(fdt, node, "status", &len))
        return true;
    return prop_is(fdt, node, "status", "okay") || prop_is(fdt, node, "status", "ok");
}

/*
 * Reads one #address-cells/#size-cells property of bus; absent means the DT
 * specification's default.
 */
static int read_cells_prop(struct parser *p, int bus, const char *name,
                           unsigned int dflt, unsigned int *out)
{
    char path[BOOTINFO_PATH_LEN];
    int len;
    const uint8_t *v = fdt_getprop(p->fdt, bus, name, &len);

    if (!v) {
        if (len != -FDT_ERR_NOTFOUND)
            return fail(p, "%s: cannot read %s: %s",
                        node_path(p->fdt, bus, path, sizeof(path)), name,
                        fdt_strerror(len));
        *out = dflt;
        return 0;
    }
    if (len != 4)
        return fail(p, "%s: %s is %d bytes, not 4",
                    node_path(p->fdt, bus, path, sizeof(path)), name, len);
    *out = be32(v);
    return 0;
}

/*
 * The cells bus gives to user's reg. Only 1 and 2 make sense for addresses
 * and sizes that fit paddr_t; the message names the node whose reg could not
 * be read, the bus and the value.
 */
static int bus_cells(struct parser *p, int bus, int user, struct cells *c)
{
    char upath[BOOTINFO_PATH_LEN], bpath[BOOTINFO_PATH_LEN];

    if (read_cells_prop(p, bus, "#address-cells", 2, &c->addr) ||
        read_cells_prop(p, bus, "#size-cells", 1, &c->size))
        return -1;
    if (c->addr != 1 && c->addr != 2)
        return fail(p, "%s: unsupported #address-cells=%u in %s (need 1 or 2)",
                    node_path(p->fdt, user, upath, sizeof(upath)), c->addr,
                    node_path(p->fdt, bus, bpath, sizeof(bpath)));
    if (c->size != 1 && c->size != 2)
        return fail(p, "%s: unsupported #size-cells=%u in %s (need 1 or 2)",
                    node_path(p->fdt, user, upath, sizeof(upath)), c->size,
                    node_path(p->fdt, bus, bpath, sizeof(bpath)));
    return 0;
}

/*
 * Prepares to walk node's reg, decoded with bus's cells. *present says
 * whether there is a reg at all; a length that is not a whole number of
 * entries is an error.
 */
static int reg_begin(struct parser *p, int node, int bus, struct reg_iter *it,
                     bool *present)
{
    char path[BOOTINFO_PATH_LEN];
    const uint8_t *v;
    unsigned int entry;
    int len;

    *present = false;
    if (bus_cells(p, bus, node, &it->cells))
        return -1;
    v = fdt_getprop(p->fdt, node, "reg", &len);
    if (!v) {
        if (len == -FDT_ERR_NOTFOUND)
            return 0;
        return fail(p, "%s: cannot read reg: %s",
                    node_path(p->fdt, node, path, sizeof(path)), fdt_strerror(len));
    }
    entry = (it->cells.addr + it->cells.size) * 4;
    if (len < 0 || (unsigned int)len % entry != 0)
        return fail(p, "%s: reg is %d bytes, not a multiple of %u "
                    "(#address-cells=%u, #size-cells=%u)",
                    node_path(p->fdt, node, path, sizeof(path)), len, entry,
                    it->cells.addr, it->cells.size);
    it->cur = v;
    it->end = v + len;
    *present = true;
    return 0;
}

static bool reg_next(struct reg_iter *it, uint64_t *base, uint64_t *size)
{
    if (it->cur >= it->end)
        return false;
    *base = read_number(it->cur, it->cells.addr);
    it->cur += 4 * it->cells.addr;
    *size = read_number(it->cur, it->cells.size);
    it->cur += 4 * it->cells.size;
    return true;
}

/* ------------------------------------------------------------------ header */

static int check_blob(struct parser *p, size_t avail)
{
    unsigned int magic, totalsize;
    int rc;

    /* libfdt's read-only calls refuse a blob that is not 8-byte aligned. */
    if ((uintptr_t)p->fdt & 7)
        return fail(p, "device tree at %p is not 8-byte aligned", p->fdt);
    if (avail < sizeof(magic))
        return fail(p, "truncated: only %zu bytes available, not even a magic number",
                    avail);
    magic = be32(p->fdt);
    if (magic != FDT_MAGIC)
        return fail(p, magic == 0 ? "no device tree: bad magic 0x%08x (expected 0x%08x), the "
                                    "memory there reads as zeros"
                                  : "bad magic 0x%08x (expected 0x%08x)",
                    magic, FDT_MAGIC);
    /* fdt_check_header reads the whole header: make sure it is there. */
    if (avail < sizeof(struct fdt_header))
        return fail(p, "truncated: only %zu bytes available, the header alone is %zu",
                    avail, sizeof(struct fdt_header));
    rc = fdt_check_header(p->fdt);
    if (rc == -FDT_ERR_BADVERSION)
        return fail(p, "unsupported device tree version %u (last compatible version %u)",
                    (unsigned int)fdt_version(p->fdt),
                    (unsigned int)fdt_last_comp_version(p->fdt));
    if (rc == -FDT_ERR_TRUNCATED)
        return fail(p, "truncated: the header's blocks run past its totalsize of %u bytes",
                    (unsigned int)fdt_totalsize(p->fdt));
    if (rc)
        return fail(p, "bad device tree header: %s", fdt_strerror(rc));
    /*
     * libfdt still accepts the pre-2007 formats (versions 2 to 15), but
     * 1.6.1's fdt_check_full() dereferences NULL on them when the root
     * node's name has no '/'. Nothing we boot produces them: refuse them.
     */
    if (fdt_version(p->fdt) < 16)
        return fail(p, "unsupported device tree version %u (need 16 or later)",
                    (unsigned int)fdt_version(p->fdt));
    totalsize = fdt_totalsize(p->fdt);
    if (totalsize > avail)
        return fail(p, "truncated: header says %u bytes, only %zu available",
                    totalsize, avail);
    /*
     * The format puts the reservation block on 8 bytes and the structure
     * block on 4. libfdt loads structure words directly, so a blob that
     * breaks this would take an alignment fault in the image.
     */
    if (fdt_off_mem_rsvmap(p->fdt) & 7)
        return fail(p, "bad device tree header: reservation block at offset 0x%x "
                    "is not 8-byte aligned", (unsigned int)fdt_off_mem_rsvmap(p->fdt));
    if (fdt_off_dt_struct(p->fdt) & 3)
        return fail(p, "bad device tree header: structure block at offset 0x%x "
                    "is not 4-byte aligned", (unsigned int)fdt_off_dt_struct(p->fdt));
    rc = fdt_check_full(p->fdt, totalsize);
    if (rc)
        return fail(p, "malformed device tree (fdt_check_full: %s)", fdt_strerror(rc));
    return 0;
}

/* ------------------------------------------------------------------- RAM */

static void sort_ram(struct parser *p)
{
    struct bootinfo *bi = p->bi;

    for (unsigned int i = 1; i < bi->nr_ram; i++) {
        struct mem_range r = bi->ram[i];
        int node = p->ram_node[i];
        unsigned int j = i;

        for (; j > 0 && bi->ram[j - 1].start > r.start; j--) {
            bi->ram[j] = bi->ram[j - 1];
            p->ram_node[j] = p->ram_node[j - 1];
        }
        bi->ram[j] = r;
        p->ram_node[j] = node;
    }
}

static int add_ram(struct parser *p, int node, uint64_t base, uint64_t size)
{
    struct bootinfo *bi = p->bi;
    char path[BOOTINFO_PATH_LEN];

    if (size == 0)
        return 0;
    if (!pa_range_ok(base, size))
        return fail(p, "%s: RAM at 0x%llx size 0x%llx goes beyond the 40-bit "
                    "physical address limit",
                    node_path(p->fdt, node, path, sizeof(path)),
                    (unsigned long long)base, (unsigned long long)size);
    if (bi->nr_ram == BOOTINFO_MAX_BANKS)
        return fail(p, "%s: too many RAM banks (at most %d)",
                    node_path(p->fdt, node, path, sizeof(path)), BOOTINFO_MAX_BANKS);
    bi->ram[bi->nr_ram].start = base;
    bi->ram[bi->nr_ram].end = base + size;
    p->ram_node[bi->nr_ram] = node;
    bi->nr_ram++;
    return 0;
}

/*
 * Memory nodes are children of the root (DT specification, "/memory"),
 * recognised by device_type, not by name. Looking only there also means the
 * root's cells apply and no bus translation is ever needed.
 */
static int parse_memory(struct parser *p)
{
    struct bootinfo *bi = p->bi;
    char path[BOOTINFO_PATH_LEN], path2[BOOTINFO_PATH_LEN];
    int node;

    fdt_for_each_subnode(node, p->fdt, 0) {
        struct reg_iter it;
        uint64_t base, size;
        bool present;

        if (!prop_is(p->fdt, node, "device_type", "memory") || !node_enabled(p->fdt, node))
            continue;
        if (reg_begin(p, node, 0, &it, &present))
            return -1;
        if (!present)
            return fail(p, "%s: device_type is \"memory\" but there is no reg",
                        node_path(p->fdt, node, path, sizeof(path)));
        while (reg_next(&it, &base, &size))
            if (add_ram(p, node, base, size))
                return -1;
    }
    if (node != -FDT_ERR_NOTFOUND)
        return fail(p, "/: cannot walk the root's children: %s", fdt_strerror(node));
    if (bi->nr_ram == 0)
        return fail(p, "no RAM: no node with device_type \"memory\" has a non-empty reg");

    sort_ram(p);
    for (unsigned int i = 1; i < bi->nr_ram; i++) {
        const struct mem_range *a = &bi->ram[i - 1], *b = &bi->ram[i];

        if (b->start < a->end)
            return fail(p, "RAM banks overlap: 0x%llx-0x%llx (%s) and 0x%llx-0x%llx (%s)",
                        (unsigned long long)a->start, (unsigned long long)a->end,
                        node_path(p->fdt, p->ram_node[i - 1], path, sizeof(path)),
                        (unsigned long long)b->start, (unsigned long long)b->end,
                        node_path(p->fdt, p->ram_node[i], path2, sizeof(path2)));
    }
    return 0;
}

/*
 * Device nodes must not lie in RAM. A tree that names RAM where a device is
 * (RAM at 0 or at 0x08000000 over QEMU's GIC and UART) or a device inside
 * RAM contradicts itself, and the parser cannot tell which node is wrong:
 * trusting the RAM hands device registers to the heap (an external abort
 * much later, in whatever touches them first), trusting the device writes
 * into heap pages. So it is refused, naming both nodes.
 *
 * Checked: every enabled node with a compatible and a reg that is not
 * memory, whose reg is in the root's address space: a child of the root, or
 * of nodes whose "ranges" is empty (identity, as QEMU's GIC gives its v2m
 * frame). Behind a bus that translates, an address would need the bus's
 * ranges applied; those nodes are not checked. /chosen (boot modules) and
 * /reserved-memory describe what lies in RAM and are left out, as are
 * nodes deeper than DEVICE_DEPTH_MAX and nodes whose reg cannot be read
 * (the hypervisor does not use them).
 */
#define DEVICE_DEPTH_MAX 16

static int check_device_reg(struct parser *p, int node, int bus)
{
    const struct bootinfo *bi = p->bi;
    char path[BOOTINFO_PATH_LEN], ram_path[BOOTINFO_PATH_LEN];
    struct reg_iter it;
    uint64_t base, size;
    bool present;

    if (reg_begin(p, node, bus, &it, &present)) {
        p->err[0] = '\0';
        return 0;
    }
    while (present && reg_next(&it, &base, &size)) {
        /* a reg that wraps reaches the top of the address space */
        uint64_t end = size > ~base ? ~(uint64_t)0 : base + size;

        for (unsigned int i = 0; i < bi->nr_ram; i++)
            if (overlaps(base, end, bi->ram[i].start, bi->ram[i].end))
                return fail(p, "%s: reg 0x%llx-0x%llx lies in RAM 0x%llx-0x%llx (%s): "
                            "the tree names RAM where a device is",
                            node_path(p->fdt, node, path, sizeof(path)),
                            (unsigned long long)base, (unsigned long long)end,
                            (unsigned long long)bi->ram[i].start,
                            (unsigned long long)bi->ram[i].end,
                            node_path(p->fdt, p->ram_node[i], ram_path, sizeof(ram_path)));
    }
    return 0;
}

static int check_devices_outside_ram(struct parser *p)
{
    const void *fdt = p->fdt;
    /* at[d]: the node last seen at depth d; plain[d]: its children's reg are root addresses */
    int at[DEVICE_DEPTH_MAX + 1];
    bool plain[DEVICE_DEPTH_MAX + 1];
    int chosen = fdt_path_offset(fdt, "/chosen");
    int reserved = fdt_path_offset(fdt, "/reserved-memory");
    int depth = 0, node;
    int len;

    at[0] = 0;
    plain[0] = true;
    for (node = fdt_next_node(fdt, 0, &depth); node >= 0 && depth > 0;
         node = fdt_next_node(fdt, node, &depth)) {
        bool in_root_space, enabled;

        if (depth > DEVICE_DEPTH_MAX)
            continue;
        in_root_space = plain[depth - 1];
        enabled = node_enabled(fdt, node);
        at[depth] = node;
        plain[depth] = in_root_space && enabled && node != chosen && node != reserved &&
                       fdt_getprop(fdt, node, "ranges", &len) && len == 0;
        if (!in_root_space || !enabled || node == chosen || node == reserved ||
            prop_is(fdt, node, "device_type", "memory") ||
            !fdt_getprop(fdt, node, "compatible", &len))
            continue;
        if (check_device_reg(p, node, at[depth - 1]))
            return -1;
    }
    if (node < 0 && node != -FDT_ERR_NOTFOUND)
        return fail(p, "cannot walk the tree's nodes: %s", fdt_strerror(node));
    return 0;
}

/* -------------------------------------------------------------- reserved */

static int add_reserved(struct parser *p, uint64_t start, uint64_t size,
                        enum reserved_kind kind, const char *where)
{
    struct bootinfo *bi = p->bi;

    if (size == 0)
        return 0;
    /* An exclusive end must be representable. */
    if (size > ~start)
        return fail(p, "%s: reserved range at 0x%llx size 0x%llx wraps around",
                    where, (unsigned long long)start, (unsigned long long)size);
    /*
     * Nothing the machine can address lies there: the tree is wrong, as it
     * would be for RAM, and is refused the same way rather than trusted
     * about the rest.
     */
    if (!pa_range_ok(start, size))
        return fail(p, "%s: reserved range at 0x%llx size 0x%llx goes beyond the 40-bit "
                    "physical address limit", where, (unsigned long long)start,
                    (unsigned long long)size);
    if (bi->nr_reserved == BOOTINFO_MAX_RESERVED)
        return fail(p, "%s: too many reserved ranges (at most %d)",
                    where, BOOTINFO_MAX_RESERVED);
    bi->reserved[bi->nr_reserved].start = start;
    bi->reserved[bi->nr_reserved].end = start + size;
    bi->reserved[bi->nr_reserved].kind = kind;
    bi->nr_reserved++;
    return 0;
}

static int parse_memreserve(struct parser *p)
{
    char where[40];
    int n = fdt_num_mem_rsv(p->fdt);

    if (n < 0)
        return fail(p, "memory reservation block: %s", fdt_strerror(n));
    for (int i = 0; i < n; i++) {
        uint64_t addr, size;
        int rc = fdt_get_mem_rsv(p->fdt, i, &addr, &size);

        fmt_snprintf(where, sizeof(where), "/memreserve/ entry %d", i);
        if (rc)
            return fail(p, "%s: %s", where, fdt_strerror(rc));
        if (add_reserved(p, addr, size, RESV_MEMRESERVE, where))
            return -1;
    }
    return 0;
}

/*
 * Children of /reserved-memory with a reg are carved out whatever their
 * flags (no-map, reusable): the hypervisor has no use for memory that
 * firmware or a guest may own. Children with only "size" (and perhaps
 * "alloc-ranges") ask the OS to allocate a region; nothing sits there yet,
 * so there is nothing to carve.
 */
static int parse_reserved_memory(struct parser *p)
{
    char path[BOOTINFO_PATH_LEN];
    int rm = fdt_path_offset(p->fdt, "/reserved-memory");
    int child;

    if (rm == -FDT_ERR_NOTFOUND)
        return 0;
    if (rm < 0)
        return fail(p, "/reserved-memory: %s", fdt_strerror(rm));
    fdt_for_each_subnode(child, p->fdt, rm) {
        struct reg_iter it;
        uint64_t base, size;
        bool present;

        if (!node_enabled(p->fdt, child))
            continue;
        if (reg_begin(p, child, rm, &it, &present))
            return -1;
        if (!present)
            continue;
        node_path(p->fdt, child, path, sizeof(path));
        while (reg_next(&it, &base, &size))
            if (add_reserved(p, base, size, RESV_RESERVED_MEMORY, path))
                return -1;
    }
    if (child != -FDT_ERR_NOTFOUND)
        return fail(p, "/reserved-memory: cannot walk its children: %s",
                    fdt_strerror(child));
    return 0;
}

static void sort_reserved(struct bootinfo *bi)
{
    for (unsigned int i = 1; i < bi->nr_reserved; i++) {
        struct reserved_range r = bi->reserved[i];
        unsigned int j = i;

        for (; j > 0 && bi->reserved[j - 1].start > r.start; j--)
            bi->reserved[j] = bi->reserved[j - 1];
        bi->reserved[j] = r;
    }
}

/* ------------------------------------------------------------------- CPUs */

static int parse_cpus(struct parser *p)
{
    struct bootinfo *bi = p->bi;
    char path[BOOTINFO_PATH_LEN];
    int cpus = fdt_path_offset(p->fdt, "/cpus");
    unsigned int addr_cells = 0;
    int node;

    /*
     * As Xen does: a tree that names no CPU (11 of Debian's 898 ARM32 trees
     * have no /cpus) still has the CPU that is running this code.
     */
    if (cpus == -FDT_ERR_NOTFOUND) {
        warn(p, "no /cpus node: running on the boot CPU alone");
        return 0;
    }
    if (cpus < 0)
        return fail(p, "/cpus: %s", fdt_strerror(cpus));

    fdt_for_each_subnode(node, p->fdt, cpus) {
        const uint8_t *reg;
        uint64_t mpidr;
        int len;

        if (!prop_is(p->fdt, node, "device_type", "cpu"))
            continue;
        bi->nr_cpus_in_tree++;
        if (bi->nr_cpus == BOOTINFO_MAX_CPUS)
            continue;
        /* A cpu's reg is its MPIDR affinity, #address-cells of /cpus wide. */
        if (!addr_cells) {
            if (read_cells_prop(p, cpus, "#address-cells", 2, &addr_cells))
                return -1;
            if (addr_cells != 1 && addr_cells != 2)
                return fail(p, "%s: unsupported #address-cells=%u in /cpus (need 1 or 2)",
                            node_path(p->fdt, node, path, sizeof(path)), addr_cells);
        }
        reg = fdt_getprop(p->fdt, node, "reg", &len);
        if (!reg)
            return fail(p, "%s: cpu node without reg",
                        node_path(p->fdt, node, path, sizeof(path)));
        if (len < 0 || (unsigned int)len < 4 * addr_cells)
            return fail(p, "%s: reg is %d bytes, need %u (#address-cells=%u)",
                        node_path(p->fdt, node, path, sizeof(path)), len,
                        4 * addr_cells, addr_cells);
        mpidr = read_number(reg, addr_cells);
        if (mpidr > UINT32_MAX)
            return fail(p, "%s: MPIDR 0x%llx does not fit in 32 bits",
                        node_path(p->fdt, node, path, sizeof(path)),
                        (unsigned long long)mpidr);
        bi->cpu_mpidr[bi->nr_cpus++] = (uint32_t)mpidr;
    }
    if (node != -FDT_ERR_NOTFOUND)
        return fail(p, "/cpus: cannot walk its children: %s", fdt_strerror(node));
    if (bi->nr_cpus_in_tree == 0)
        warn(p, "/cpus: no node with device_type \"cpu\": running on the boot CPU alone");
    if (bi->nr_cpus_in_tree > BOOTINFO_MAX_CPUS)
        warn(p, "/cpus: %u CPUs, only the first %d are used",
             bi->nr_cpus_in_tree, BOOTINFO_MAX_CPUS);
    return 0;
}

/* ---------------------------------------------------------------- chosen */

/*
 * An over-long command line is cut with a warning (the hypervisor still
 * boots and the log says so); one without a terminating NUL is malformed
 * and an error, since where it ends cannot be known.
 */
static int parse_bootargs(struct parser *p, int chosen)
{
    struct bootinfo *bi = p->bi;
    const char *v;
    size_t n;
    int len;

    if (chosen < 0)
        return 0;
    v = fdt_getprop(p->fdt, chosen, "bootargs", &len);
    if (!v) {
        if (len == -FDT_ERR_NOTFOUND)
            return 0;
        return fail(p, "/chosen: cannot read bootargs: %s", fdt_strerror(len));
    }
    if (len <= 0)
        return 0;
    if (!memchr(v, '\0', (size_t)len))
        return fail(p, "/chosen: bootargs is not NUL-terminated (%d bytes)", len);
    n = strlen(v);
    if (n >= sizeof(bi->bootargs)) {
        warn(p, "/chosen: bootargs is %zu characters, cut to %zu",
             n, sizeof(bi->bootargs) - 1);
        n = sizeof(bi->bootargs) - 1;
    }
    memcpy(bi->bootargs, v, n);
    bi->bootargs[n] = '\0';
    return 0;
}

/*
 * Resolves "alias" or "alias/sub/path" through /aliases. libfdt 1.6.1's own
 * alias lookup hands back the property without checking that it is a
 * string, so the value is validated here before it is used as a path.
 */
static int lookup_alias(struct parser *p, const char *name, size_t namelen)
{
    const char *slash = memchr(name, '/', namelen);
    size_t alias_len = slash ? (size_t)(slash - name) : namelen;
    size_t target_len, rest_len = namelen - alias_len;
    char joined[BOOTINFO_PATH_LEN];
    const char *target;
    int aliases, len;

    aliases = fdt_path_offset(p->fdt, "/aliases");
    if (aliases < 0)
        return aliases;
    target = fdt_getprop_namelen(p->fdt, aliases, name, (int)alias_len, &len);
    if (!target)
        return len;
    if (len < 2 || target[0] != '/' || !memchr(target, '\0', (size_t)len))
        return -FDT_ERR_BADPATH;
    target_len = strlen(target);
    if (!slash)
        return fdt_path_offset_namelen(p->fdt, target, (int)target_len);
    if (target_len + rest_len >= sizeof(joined))
        return -FDT_ERR_BADPATH;
    memcpy(joined, target, target_len);
    memcpy(joined + target_len, slash, rest_len);
    return fdt_path_offset_namelen(p->fdt, joined, (int)(target_len + rest_len));
}

/*
 * The node /chosen/stdout-path names, if it is a PL011; else a negative
 * value (with a warning when the property exists but cannot be used).
 * The value is "path-or-alias[:options]", e.g. "serial0:115200n8".
 */
static int stdout_path_node(struct parser *p, int chosen)
{
    const char *prop = "stdout-path";
    char path[BOOTINFO_PATH_LEN];
    const char *v, *colon;
    size_t namelen;
    int len, node;

    v = fdt_getprop(p->fdt, chosen, prop, &len);
    if (!v) {
        prop = "linux,stdout-path";    /* the older name */
        v = fdt_getprop(p->fdt, chosen, prop, &len);
    }
    if (!v)
        return -FDT_ERR_NOTFOUND;
    if (len <= 0 || !memchr(v, '\0', (size_t)len)) {
        warn(p, "/chosen: %s is not a NUL-terminated string", prop);
        return -FDT_ERR_BADVALUE;
    }
    colon = strchr(v, ':');
    namelen = colon ? (size_t)(colon - v) : strlen(v);
    if (namelen == 0)
        node = -FDT_ERR_BADPATH;
    else if (v[0] == '/')
        node = fdt_path_offset_namelen(p->fdt, v, (int)namelen);
    else
        node = lookup_alias(p, v, namelen);
    if (node < 0) {
        warn(p, "/chosen: %s \"%.*s\" names no node", prop, (int)namelen, v);
        return node;
    }
    if (fdt_node_check_compatible(p->fdt, node, "arm,pl011") != 0) {
        warn(p, "/chosen: %s names %s, which is not an \"arm,pl011\"", prop,
             node_path(p->fdt, node, path, sizeof(path)));
        return -FDT_ERR_NOTFOUND;
    }
    return node;
}

static int first_pl011(const void *fdt)
{
    int node = fdt_node_offset_by_compatible(fdt, -1, "arm,pl011");

    while (node >= 0 && !node_enabled(fdt, node))
        node = fdt_node_offset_by_compatible(fdt, node, "arm,pl011");
    return node;
}

/* The console's node: the PL011 stdout-path names, else the first enabled "arm,pl011". */
static int console_node(struct parser *p, int chosen, bool *from_stdout_path)
{
    int node = -FDT_ERR_NOTFOUND;

    if (chosen >= 0)
        node = stdout_path_node(p, chosen);
    *from_stdout_path = node >= 0;
    if (node < 0)
        node = first_pl011(p->fdt);
    return node;
}

int bootinfo_console_node(const void *fdt)
{
    char err[BOOTINFO_ERR_LEN];
    struct parser p = { .fdt = fdt, .bi = NULL, .err = err };
    bool from_stdout_path;
    int chosen = fdt_path_offset(fdt, "/chosen");

    return console_node(&p, chosen, &from_stdout_path);
}

/*
 * The console's reg is read with its parent's cells and taken as a
 * physical address as it stands: on QEMU virt the PL011 is a child of the
 * root (no "ranges" to apply). A UART behind a bus whose "ranges" actually
 * translate would be misplaced; no board we boot has one. Problems here are
 * warnings: the hypervisor can run without a console from the tree.
 */
static int parse_console(struct parser *p, int chosen)
{
    struct bootinfo *bi = p->bi;
    char path[BOOTINFO_PATH_LEN], ram_path[BOOTINFO_PATH_LEN];
    struct reg_iter it;
    uint64_t base, size;
    bool present;
    int node, parent;
    bool from_stdout_path;

    node = console_node(p, chosen, &from_stdout_path);
    if (node < 0)
        return 0;

    node_path(p->fdt, node, path, sizeof(path));
    parent = fdt_parent_offset(p->fdt, node);
    if (parent < 0) {
        warn(p, "%s: cannot find its parent (%s); no console", path, fdt_strerror(parent));
        return 0;
    }
    if (reg_begin(p, node, parent, &it, &present)) {
        warn(p, "%s; no console", p->err);
        p->err[0] = '\0';
        return 0;
    }
    if (!present || !reg_next(&it, &base, &size)) {
        warn(p, "%s: PL011 without a reg entry; no console", path);
        return 0;
    }
    if (!pa_range_ok(base, size)) {
        warn(p, "%s: PL011 at 0x%llx size 0x%llx lies beyond the 40-bit physical address "
             "limit; no console", path, (unsigned long long)base, (unsigned long long)size);
        return 0;
    }
    /*
     * The console is reached through one mapped page and its registers up
     * to FR: a reg that does not hold them there would make the first
     * write fault.
     */
    if ((base & 3) || size < PL011_REGS_USED || (base & 0xfff) + PL011_REGS_USED > 0x1000) {
        warn(p, "%s: PL011 at 0x%llx size 0x%llx: its registers (0x%x bytes) are not "
             "word-aligned inside one 4 KiB page; no console", path,
             (unsigned long long)base, (unsigned long long)size, PL011_REGS_USED);
        return 0;
    }
    /* A UART inside RAM is a tree that contradicts itself: see check_devices_outside_ram. */
    for (unsigned int i = 0; i < bi->nr_ram; i++)
        if (overlaps(base, base + size, bi->ram[i].start, bi->ram[i].end))
            return fail(p, "%s: PL011 at 0x%llx-0x%llx lies in RAM 0x%llx-0x%llx (%s)", path,
                        (unsigned long long)base, (unsigned long long)(base + size),
                        (unsigned long long)bi->ram[i].start,
                        (unsigned long long)bi->ram[i].end,
                        node_path(p->fdt, p->ram_node[i], ram_path, sizeof(ram_path)));
    bi->has_console = true;
    bi->console_from_stdout_path = from_stdout_path;
    bi->console_base = base;
    bi->console_size = size;
    node_path(p->fdt, node, bi->console_path, sizeof(bi->console_path));
    return 0;
}

static void parse_psci(struct parser *p)
{
    int psci = fdt_path_offset(p->fdt, "/psci");

    p->bi->psci_smc = psci >= 0 && prop_is(p->fdt, psci, "method", "smc");
}

/* --------------------------------------------------------------- modules */

/*
 * The kind a /chosen child's compatible list gives it, or -1 if it is no
 * boot module. Kernel and ramdisk win over the generic "multiboot,module",
 * which Xen's binding lets a node list as well.
 */
static int module_kind(const void *fdt, int node)
{
    if (fdt_node_check_compatible(fdt, node, "multiboot,kernel") == 0)
        return BOOTMOD_KERNEL;
    if (fdt_node_check_compatible(fdt, node, "multiboot,ramdisk") == 0)
        return BOOTMOD_RAMDISK;
    if (fdt_node_check_compatible(fdt, node, "multiboot,module") == 0)
        return BOOTMOD_OTHER;
    return -1;
}

/* The module's bootargs: as /chosen's, cut with a warning, refused without a NUL. */
static int module_bootargs(struct parser *p, int node, struct bootmodule *m)
{
    const char *v;
    size_t n;
    int len;

    v = fdt_getprop(p->fdt, node, "bootargs", &len);
    if (!v) {
        if (len == -FDT_ERR_NOTFOUND)
            return 0;
        return fail(p, "%s: cannot read bootargs: %s", m->path, fdt_strerror(len));
    }
    if (len <= 0)
        return 0;
    if (!memchr(v, '\0', (size_t)len))
        return fail(p, "%s: bootargs is not NUL-terminated (%d bytes)", m->path, len);
    n = strlen(v);
    if (n >= sizeof(m->cmdline)) {
        warn(p, "%s: bootargs is %zu characters, cut to %zu", m->path, n,
             sizeof(m->cmdline) - 1);
        n = sizeof(m->cmdline) - 1;
    }
    memcpy(m->cmdline, v, n);
    m->cmdline[n] = '\0';
    return 0;
}

/*
 * Where a module may lie: wholly inside one RAM bank (a domain is given its
 * contents by copying from RAM), and on nothing else the hypervisor or
 * another module needs. /memreserve/ and /reserved-memory ranges are not
 * checked: a loader may well have reserved the module's memory itself.
 */
static int check_module_place(struct parser *p, const struct bootmodule *m)
{
    const struct bootinfo *bi = p->bi;
    paddr_t end = m->start + m->size;
    bool in_ram = false;

    for (unsigned int i = 0; i < bi->nr_ram; i++)
        in_ram |= m->start >= bi->ram[i].start && end <= bi->ram[i].end;
    if (!in_ram)
        return fail(p, "%s: module at 0x%llx-0x%llx is not inside one RAM bank", m->path,
                    (unsigned long long)m->start, (unsigned long long)end);
    for (unsigned int i = 0; i < bi->nr_modules; i++) {
        const struct bootmodule *o = &bi->module[i];

        if (overlaps(m->start, end, o->start, o->start + o->size))
            return fail(p, "%s: module at 0x%llx-0x%llx overlaps %s at 0x%llx-0x%llx",
                        m->path, (unsigned long long)m->start, (unsigned long long)end,
                        o->path, (unsigned long long)o->start,
                        (unsigned long long)(o->start + o->size));
    }
    for (unsigned int i = 0; i < bi->nr_reserved; i++) {
        const struct reserved_range *r = &bi->reserved[i];

        if ((r->kind == RESV_IMAGE || r->kind == RESV_DTB) &&
            overlaps(m->start, end, r->start, r->end))
            return fail(p, "%s: module at 0x%llx-0x%llx overlaps the %s at 0x%llx-0x%llx",
                        m->path, (unsigned long long)m->start, (unsigned long long)end,
                        r->kind == RESV_IMAGE ? "hypervisor image" : "device tree blob",
                        (unsigned long long)r->start, (unsigned long long)r->end);
    }
    return 0;
}

static int parse_module(struct parser *p, int chosen, int node, enum bootmodule_kind kind)
{
    struct bootinfo *bi = p->bi;
    struct bootmodule *m;
    struct reg_iter it;
    uint64_t base, size, more_base, more_size;
    bool present;
    char path[BOOTINFO_PATH_LEN];

    node_path(p->fdt, node, path, sizeof(path));
    if (bi->nr_modules == BOOTINFO_MAX_MODULES)
        return fail(p, "%s: too many boot modules (at most %d)", path, BOOTINFO_MAX_MODULES);
    if (reg_begin(p, node, chosen, &it, &present))
        return -1;
    if (!present || !reg_next(&it, &base, &size))
        return fail(p, "%s: boot module without a reg entry", path);
    if (reg_next(&it, &more_base, &more_size))
        return fail(p, "%s: boot module with more than one reg entry", path);
    if (size == 0)
        return fail(p, "%s: boot module at 0x%llx has size 0", path, (unsigned long long)base);
    if (!pa_range_ok(base, size))
        return fail(p, "%s: module at 0x%llx size 0x%llx goes beyond the 40-bit "
                    "physical address limit", path, (unsigned long long)base,
                    (unsigned long long)size);

    m = &bi->module[bi->nr_modules];
    memset(m, 0, sizeof(*m));
    m->kind = kind;
    m->start = base;
    m->size = size;
    memcpy(m->path, path, sizeof(m->path));
    if (module_bootargs(p, node, m) || check_module_place(p, m) ||
        add_reserved(p, base, size, RESV_MODULE, path))
        return -1;
    bi->nr_modules++;
    return 0;
}

static int parse_modules(struct parser *p, int chosen)
{
    int node;

    if (chosen < 0)
        return 0;
    fdt_for_each_subnode(node, p->fdt, chosen) {
        int kind = module_kind(p->fdt, node);

        if (kind < 0 || !node_enabled(p->fdt, node))
            continue;
        if (parse_module(p, chosen, node, (enum bootmodule_kind)kind))
            return -1;
    }
    if (node != -FDT_ERR_NOTFOUND)
        return fail(p, "/chosen: cannot walk its children: %s", fdt_strerror(node));
    return 0;
}

const struct bootmodule *bootinfo_first_module(const struct bootinfo *bi,
                                               enum bootmodule_kind kind)
{
    for (unsigned int i = 0; i < bi->nr_modules; i++)
        if (bi->module[i].kind == kind)
            return &bi->module[i];
    return NULL;
}

/* ------------------------------------------------------------ usable RAM */

static int add_usable(struct parser *p, paddr_t start, paddr_t end)
{
    struct bootinfo *bi = p->bi;

    start = ROUNDUP(start, PAGE_SIZE);
    end = ROUNDDOWN(end, PAGE_SIZE);
    if (start >= end)
        return 0;
    if (bi->nr_usable == BOOTINFO_MAX_BANKS)
        return fail(p, "too many usable RAM ranges after carving out reserved memory "
                    "(at most %d)", BOOTINFO_MAX_BANKS);
    bi->usable[bi->nr_usable].start = start;
    bi->usable[bi->nr_usable].end = end;
    bi->nr_usable++;
    return 0;
}

/*
 * Banks are sorted and disjoint, reserved ranges sorted by start (they may
 * overlap each other), so one pass per bank leaves the pieces in order.
 */
static int carve_usable(struct parser *p)
{
    const struct bootinfo *bi = p->bi;

    for (unsigned int b = 0; b < bi->nr_ram; b++) {
        paddr_t cur = bi->ram[b].start, end = bi->ram[b].end;

        for (unsigned int r = 0; r < bi->nr_reserved && cur < end; r++) {
            const struct reserved_range *res = &bi->reserved[r];

            if (res->end <= cur)
                continue;
            if (res->start >= end)
                break;
            if (res->start > cur && add_usable(p, cur, res->start))
                return -1;
            cur = res->end;
        }
        if (cur < end && add_usable(p, cur, end))
            return -1;
    }
    return 0;
}

/* ----------------------------------------------------------------- entry */

int bootinfo_parse(const void *fdt, size_t avail, paddr_t fdt_pa,
                   paddr_t image_start, paddr_t image_end,
                   struct bootinfo *bi, char err[BOOTINFO_ERR_LEN])
{
    struct parser p = { .fdt = fdt, .bi = bi, .err = err };
    int chosen;

    if (!bi || !err)
        panic("bootinfo_parse: bi %p and err %p must not be NULL", (void *)bi, (void *)err);
    if (image_end < image_start)
        panic("bootinfo_parse: image range 0x%llx-0x%llx ends before it starts",
              (unsigned long long)image_start, (unsigned long long)image_end);
    memset(bi, 0, sizeof(*bi));
    err[0] = '\0';

    if (!fdt)
        return fail(&p, "no device tree (NULL pointer)");
    if (check_blob(&p, avail) || parse_memory(&p) || check_devices_outside_ram(&p) ||
        parse_memreserve(&p) || parse_reserved_memory(&p))
        return -1;

    if (fdt_pa != BOOTINFO_PA_UNKNOWN) {
        unsigned int size = fdt_totalsize(fdt);

        if (fdt_pa > ~(paddr_t)0 - size)
            panic("bootinfo_parse: DTB at 0x%llx size 0x%x wraps around",
                  (unsigned long long)fdt_pa, size);
        if (add_reserved(&p, fdt_pa, size, RESV_DTB, "dtb"))
            return -1;
    }
    if (add_reserved(&p, image_start, image_end - image_start, RESV_IMAGE, "image"))
        return -1;
    chosen = fdt_path_offset(fdt, "/chosen");
    if (chosen < 0 && chosen != -FDT_ERR_NOTFOUND)
        return fail(&p, "/chosen: %s", fdt_strerror(chosen));
    /* After the image and the DTB: modules must not overlap them. */
    if (parse_modules(&p, chosen))
        return -1;
    sort_reserved(bi);

    if (parse_cpus(&p))
        return -1;
    if (parse_bootargs(&p, chosen))
        return -1;
    if (parse_console(&p, chosen))
        return -1;
    parse_psci(&p);
    return carve_usable(&p);
}

const char *reserved_kind_name(enum reserved_kind kind)
{
    switch (kind) {
    case RESV_MEMRESERVE:
        return "memreserve";
    case RESV_RESERVED_MEMORY:
        return "reserved-memory";
    case RESV_DTB:
        return "dtb";
    case RESV_IMAGE:
        return "image";
    case RESV_MODULE:
        return "module";
    }
    return "unknown";
}

const char *bootmodule_kind_name(enum bootmodule_kind kind)
{
    switch (kind) {
    case BOOTMOD_KERNEL:
        return "kernel";
    case BOOTMOD_RAMDISK:
        return "ramdisk";
    case BOOTMOD_OTHER:
        return "module";
    }
    return "unknown";
}

/* Exact size in the largest unit that divides it: "1024 MiB", "4 KiB", "100 bytes". */
static const char *size_text(paddr_t bytes, char *buf, size_t size)
{
    if (bytes && IS_ALIGNED(bytes, (paddr_t)1 << 20))
        fmt_snprintf(buf, size, "%llu MiB", (unsigned long long)(bytes >> 20));
    else if (bytes && IS_ALIGNED(bytes, (paddr_t)1 << 10))
        fmt_snprintf(buf, size, "%llu KiB", (unsigned long long)(bytes >> 10));
    else
        fmt_snprintf(buf, size, "%llu bytes", (unsigned long long)bytes);
    return buf;
}

void bootinfo_print(const struct bootinfo *bi)
{
    char sz[32], cpus[BOOTINFO_MAX_CPUS * 12 + 1];
    size_t used = 0;

    for (unsigned int i = 0; i < bi->nr_ram; i++)
        printk("RAM bank %u: 0x%016llx-0x%016llx (%s)\n", i,
               (unsigned long long)bi->ram[i].start, (unsigned long long)bi->ram[i].end,
               size_text(bi->ram[i].end - bi->ram[i].start, sz, sizeof(sz)));
    for (unsigned int i = 0; i < bi->nr_reserved; i++)
        printk("reserved: 0x%016llx - 0x%016llx (%s)\n",
               (unsigned long long)bi->reserved[i].start,
               (unsigned long long)bi->reserved[i].end,
               reserved_kind_name(bi->reserved[i].kind));
    for (unsigned int i = 0; i < bi->nr_usable; i++)
        printk("usable %u: 0x%016llx-0x%016llx (%s)\n", i,
               (unsigned long long)bi->usable[i].start, (unsigned long long)bi->usable[i].end,
               size_text(bi->usable[i].end - bi->usable[i].start, sz, sizeof(sz)));

    cpus[0] = '\0';
    for (unsigned int i = 0; i < bi->nr_cpus && used < sizeof(cpus); i++) {
        int n = fmt_snprintf(cpus + used, sizeof(cpus) - used, " 0x%x", (unsigned int)bi->cpu_mpidr[i]);

        if (n > 0)
            used += (size_t)n;
    }
    printk("CPUs: %u in the tree, using %u, MPIDR%s\n", bi->nr_cpus_in_tree, bi->nr_cpus, cpus);
    printk("bootargs: \"%s\"\n", bi->bootargs);
    if (bi->has_console)
        printk("console: PL011 at 0x%llx size 0x%llx (%s, %s)\n",
               (unsigned long long)bi->console_base, (unsigned long long)bi->console_size,
               bi->console_path,
               bi->console_from_stdout_path ? "from stdout-path" : "first \"arm,pl011\"");
    else
        printk("console: no PL011 in the device tree\n");
    printk("PSCI: %s\n", bi->psci_smc ? "method smc" : "no smc method");
    for (unsigned int i = 0; i < bi->nr_modules; i++) {
        const struct bootmodule *m = &bi->module[i];

        printk("module %u: %s 0x%016llx-0x%016llx (%s) %s bootargs \"%s\"\n", i,
               bootmodule_kind_name(m->kind), (unsigned long long)m->start,
               (unsigned long long)(m->start + m->size), size_text(m->size, sz, sizeof(sz)),
               m->path, m->cmdline);
    }
    for (unsigned int i = 0; i < bi->nr_warnings && i < BOOTINFO_MAX_WARNINGS; i++)
        printk("warning: %s\n", bi->warning[i]);
    if (bi->nr_warnings > BOOTINFO_MAX_WARNINGS)
        printk("warning: %u more warnings not kept\n", bi->nr_warnings - BOOTINFO_MAX_WARNINGS);
}
