/*
 * The guest's device tree: a copy of the host's, cut down to what the guest is given
 * (include/domain/guest_dt.h says what that is).
 *
 * Why edit a copy rather than write a tree from nothing: a passed-through device keeps
 * its node exactly as the board describes it (compatible strings, clocks, properties we
 * know nothing about), and the root keeps the board's identity. The price is that the
 * edits must leave nothing dangling, so the rule is simple: every host node goes except
 * the few kept on purpose (and their ancestors, so their paths stay valid), and the nodes
 * the guest's machine needs (memory, chosen, cpus, psci) are written new.
 *
 * Kept nodes are recognised by path, because deleting nodes moves every later offset.
 * The host tree has passed bootinfo_parse() (fdt_check_full and the checks on memory,
 * cpus and console), so only what is read here for the first time (clocks phandles, the
 * root's interrupt-parent, reg re-encoding) is checked here.
 */
#include <domain/guest_dt.h>
#include <dt/bootinfo.h>
#include <lib/errno.h>
#include <lib/lib.h>
#include <libfdt.h>
#include <string.h>

struct kept {
    unsigned int n;
    int host_node[GUEST_DT_MAX_KEPT];
    char path[GUEST_DT_MAX_KEPT][BOOTINFO_PATH_LEN];
    int console;                    /* index of the console in path[], -1 if none */
    int gic;                        /* index of the interrupt controller, -1 if none */
};

/*
 * Of a GICv2's reg (distributor, CPU interface, hypervisor interface GICH, virtual CPU
 * interface GICV), a domain given the GIC sees the first two: GICH is the hypervisor's, and
 * the guest's CPU interface is GICV, at the CPU interface's address (map_gic below).
 */
#define GIC_REGS_GIVEN 2

/* A libfdt failure: printed with libfdt's own words; NOSPACE is the caller's buffer. */
static int fdt_fail(const char *what, const char *where, int rc)
{
    printk("make_guest_dt: %s%s%s: %s\n", what, where ? " " : "", where ? where : "",
           fdt_strerror(rc));
    return rc == -FDT_ERR_NOSPACE ? -ENOSPC : -EINVAL;
}

static int keep(struct kept *k, const void *host, int node)
{
    int rc;

    for (unsigned int i = 0; i < k->n; i++)
        if (k->host_node[i] == node)     /* e.g. a clock named twice */
            return 0;
    if (k->n == GUEST_DT_MAX_KEPT) {
        printk("make_guest_dt: more than %d host nodes to keep\n", GUEST_DT_MAX_KEPT);
        return -EINVAL;
    }
    rc = fdt_get_path(host, node, k->path[k->n], BOOTINFO_PATH_LEN);
    if (rc)
        return fdt_fail("cannot get the path of a kept node", NULL, rc);
    k->host_node[k->n++] = node;
    return 0;
}

/* The node a phandle names, as a libfdt result; prints who used it if none does. */
static int phandle_node(const void *host, uint32_t ph, const char *user, const char *prop)
{
    int node = fdt_node_offset_by_phandle(host, ph);

    if (node < 0)
        printk("make_guest_dt: %s: %s names phandle 0x%x: %s\n", user, prop, (unsigned int)ph,
               fdt_strerror(node));
    return node;
}

/*
 * The clock providers a kept node's "clocks" names. Each entry is a phandle followed by
 * as many cells as the provider's #clock-cells says (0 when absent).
 */
static int keep_clocks(struct kept *k, const void *host, int node, const char *path)
{
    int len, rc;
    const uint8_t *v = fdt_getprop(host, node, "clocks", &len);
    unsigned int cells, i = 0;

    if (!v)
        return len == -FDT_ERR_NOTFOUND ? 0 : fdt_fail("cannot read clocks of", path, len);
    cells = (unsigned int)len / 4;
    while (i < cells) {
        int clk = phandle_node(host, fdt32_ld((const fdt32_t *)(v + 4 * i)), path, "clocks");
        const uint8_t *cc;
        int cclen;

        if (clk < 0)
            return -EINVAL;
        cc = fdt_getprop(host, clk, "#clock-cells", &cclen);
        i += 1 + (cc && cclen == 4 ? fdt32_ld((const fdt32_t *)cc) : 0);
        rc = keep(k, host, clk);
        if (rc)
            return rc;
    }
    return 0;
}

static int collect_kept(const struct kernel_info *kinfo, const void *host, struct kept *k)
{
    int node, rc;

    k->n = 0;
    k->console = -1;
    k->gic = -1;
    if (kinfo->give_console) {
        node = bootinfo_console_node(host);
        if (node < 0) {
            printk("make_guest_dt: d%u: the console is to be given, but the host tree has "
                   "no PL011 console\n", kinfo->d->domain_id);
            return -EINVAL;
        }
        k->console = (int)k->n;
        rc = keep(k, host, node);
        if (!rc)
            rc = keep_clocks(k, host, node, k->path[k->console]);
        if (rc)
            return rc;
    }
    if (kinfo->give_gic_and_timer) {
        int len;
        const uint8_t *ip = fdt_getprop(host, 0, "interrupt-parent", &len);

        if (!ip || len != 4) {
            printk("make_guest_dt: the GIC is to be given, but the host root has no "
                   "interrupt-parent naming it\n");
            return -EINVAL;
        }
        node = phandle_node(host, fdt32_ld((const fdt32_t *)ip), "/", "interrupt-parent");
        if (node < 0)
            return -EINVAL;
        if (fdt_node_check_compatible(host, node, "arm,cortex-a15-gic") &&
            fdt_node_check_compatible(host, node, "arm,gic-400")) {
            printk("make_guest_dt: the interrupt controller %s is not a GICv2 "
                   "(arm,cortex-a15-gic or arm,gic-400): only a GICv2 can be passed through\n",
                   fdt_get_name(host, node, NULL));
            return -EINVAL;
        }
        k->gic = (int)k->n;
        rc = keep(k, host, node);
        if (rc)
            return rc;
        for (node = fdt_node_offset_by_compatible(host, -1, "arm,armv7-timer"); node >= 0;
             node = fdt_node_offset_by_compatible(host, node, "arm,armv7-timer")) {
            rc = keep(k, host, node);
            if (rc)
                return rc;
        }
    }
    return 0;
}

int guest_dt_kept_nodes(const struct kernel_info *kinfo, const void *host_fdt, int *nodes,
                        unsigned int max)
{
    static struct kept k;       /* paths are large; domains are built by one CPU at a time */
    int rc = collect_kept(kinfo, host_fdt, &k);

    if (rc)
        return rc;
    if (k.n > max) {
        printk("guest_dt_kept_nodes: %u nodes kept, room for %u\n", k.n, max);
        return -ENOSPC;
    }
    for (unsigned int i = 0; i < k.n; i++)
        nodes[i] = k.host_node[i];
    return (int)k.n;
}

enum fate { DELETE, KEEP, ANCESTOR };

/* Whether path p lies at or below path top. */
static bool at_or_below(const char *p, const char *top)
{
    size_t n = strlen(top);

    return strncmp(p, top, n) == 0 && (p[n] == '\0' || p[n] == '/');
}

static enum fate fate_of(const struct kept *k, const char *path)
{
    enum fate f = DELETE;

    for (unsigned int i = 0; i < k->n; i++) {
        if (at_or_below(path, k->path[i]))
            return KEEP;
        if (at_or_below(k->path[i], path))
            f = ANCESTOR;
    }
    return f;
}

/*
 * Deletes every child of parent that is neither kept nor above a kept node, then does the
 * same below the children that are above one. A deletion moves the later offsets, so the
 * search for the next victim starts again from the first child each time (trees have a
 * few dozen nodes).
 */
static int prune(void *fdt, int parent, const struct kept *k)
{
    char path[BOOTINFO_PATH_LEN];
    int node, rc;

    for (;;) {
        int victim = -1;

        fdt_for_each_subnode(node, fdt, parent) {
            rc = fdt_get_path(fdt, node, path, sizeof(path));
            if (rc)
                return fdt_fail("cannot get a node's path", NULL, rc);
            if (fate_of(k, path) == DELETE) {
                victim = node;
                break;
            }
        }
        if (victim < 0)
            break;
        rc = fdt_del_node(fdt, victim);
        if (rc)
            return fdt_fail("cannot delete", path, rc);
    }
    fdt_for_each_subnode(node, fdt, parent) {
        rc = fdt_get_path(fdt, node, path, sizeof(path));
        if (rc)
            return fdt_fail("cannot get a node's path", NULL, rc);
        /* Only this node's insides change: its own offset, and so the walk, stay valid. */
        if (fate_of(k, path) == ANCESTOR && (rc = prune(fdt, node, k)) != 0)
            return rc;
    }
    return 0;
}

static int delprop(void *fdt, int node, const char *name, const char *where)
{
    int rc = fdt_delprop(fdt, node, name);

    return rc && rc != -FDT_ERR_NOTFOUND ? fdt_fail("cannot delete a property of", where, rc)
                                         : 0;
}

static uint64_t read_cells(const uint8_t *v, unsigned int n)
{
    uint64_t x = 0;

    for (unsigned int i = 0; i < n; i++)
        x = x << 32 | fdt32_ld((const fdt32_t *)(v + 4 * i));
    return x;
}

/*
 * The root's children are read with the root's cells, which become 2 and 2: re-encode the
 * reg of a kept child written with other cells. A non-empty "ranges" would need the same
 * and more (child cells too); no board we boot has one on a node worth keeping: refused.
 */
static int recode_root_child(void *fdt, const char *path, unsigned int ac, unsigned int sc)
{
    uint8_t out[16 * 4 * 4];        /* up to 16 (address, size) pairs of 2 + 2 cells */
    int node = fdt_path_offset(fdt, path), len;
    const uint8_t *v;
    size_t n = 0;

    if (node < 0)
        return fdt_fail("cannot find kept node", path, node);
    v = fdt_getprop(fdt, node, "ranges", &len);
    if (v && len > 0) {
        printk("make_guest_dt: %s: kept node with a \"ranges\" under a root with "
               "#address-cells %u, #size-cells %u; only 2 and 2 can be passed through\n",
               path, ac, sc);
        return -EINVAL;
    }
    v = fdt_getprop(fdt, node, "reg", &len);
    if (!v)
        return 0;
    if (len < 0 || (unsigned int)len % (4 * (ac + sc)) ||
        (unsigned int)len / (ac + sc) * 4 > sizeof(out)) {
        printk("make_guest_dt: %s: reg of %d bytes cannot be read with #address-cells %u, "
               "#size-cells %u (or has more than 16 entries)\n", path, len, ac, sc);
        return -EINVAL;
    }
    for (int off = 0; off < len; off += (int)(4 * (ac + sc))) {
        fdt64_st(out + n, read_cells(v + off, ac));
        fdt64_st(out + n + 8, read_cells(v + off + 4 * ac, sc));
        n += 16;
    }
    len = fdt_setprop(fdt, node, "reg", out, (int)n);
    return len ? fdt_fail("cannot rewrite reg of", path, len) : 0;
}

/* The root's cells as the host gives them (the DT specification's 2 and 1 when absent). */
static unsigned int root_cells(const void *fdt, const char *name, unsigned int dflt)
{
    int len;
    const uint8_t *v = fdt_getprop(fdt, 0, name, &len);

    return v && len == 4 ? fdt32_ld((const fdt32_t *)v) : dflt;
}

/*
 * The GIC as a domain given it sees it: the distributor and CPU interface only
 * (GIC_REGS_GIVEN), without the maintenance interrupt (GICH's) and without child frames
 * (a GICv2m MSI frame is not passed through). Its reg is in the host's cells here.
 */
static int trim_gic(void *fdt, const char *path, unsigned int ac, unsigned int sc)
{
    int node = fdt_path_offset(fdt, path), len, child, rc;
    int entry = (int)(4 * (ac + sc));

    if (node < 0)
        return fdt_fail("cannot find kept node", path, node);
    if (!fdt_getprop(fdt, node, "reg", &len) || len < GIC_REGS_GIVEN * entry) {
        printk("make_guest_dt: %s: a GICv2 needs a distributor and a CPU interface in its "
               "reg\n", path);
        return -EINVAL;
    }
    {
        uint8_t given[GIC_REGS_GIVEN * 4 * 4];  /* at most 2 + 2 cells an entry */

        memcpy(given, fdt_getprop(fdt, node, "reg", NULL), (size_t)(GIC_REGS_GIVEN * entry));
        rc = fdt_setprop(fdt, node, "reg", given, GIC_REGS_GIVEN * entry);
    }
    if (rc)
        return fdt_fail("cannot shorten reg of", path, rc);
    rc = delprop(fdt, node, "interrupts", path);
    while (!rc && (child = fdt_first_subnode(fdt, node)) >= 0)
        if ((rc = fdt_del_node(fdt, child)))
            return fdt_fail("cannot delete a child of", path, rc);
    return rc;
}

static int fix_root_and_kept(void *fdt, const struct kernel_info *kinfo, const struct kept *k)
{
    unsigned int ac = root_cells(fdt, "#address-cells", 2);
    unsigned int sc = root_cells(fdt, "#size-cells", 1);
    int rc;

    if (ac < 1 || ac > 2 || sc < 1 || sc > 2) {
        printk("make_guest_dt: host root has #address-cells %u, #size-cells %u "
               "(need 1 or 2)\n", ac, sc);
        return -EINVAL;
    }
    /* In the host's cells, before the kept nodes' reg is re-encoded below. */
    if (k->gic >= 0 && (rc = trim_gic(fdt, k->path[k->gic], ac, sc)))
        return rc;
    for (unsigned int i = 0; i < k->n; i++) {
        const char *p = k->path[i];
        int node = fdt_path_offset(fdt, p);

        if (node < 0)
            return fdt_fail("cannot find kept node", p, node);
        if (!kinfo->give_gic_and_timer &&
            ((rc = delprop(fdt, node, "interrupts", p)) ||
             (rc = delprop(fdt, node, "interrupt-parent", p)) ||
             (rc = delprop(fdt, node, "interrupts-extended", p))))
            return rc;
        if ((ac != 2 || sc != 2) && strchr(p + 1, '/') == NULL &&
            (rc = recode_root_child(fdt, p, ac, sc)))
            return rc;
    }
    rc = fdt_setprop_u32(fdt, 0, "#address-cells", 2);
    if (!rc)
        rc = fdt_setprop_u32(fdt, 0, "#size-cells", 2);
    if (rc)
        return fdt_fail("cannot set the root's cells", NULL, rc);
    if (!kinfo->give_gic_and_timer)
        return delprop(fdt, 0, "interrupt-parent", "/");
    return 0;
}

/*
 * New nodes: fdt_add_subnode() puts a node before its existing siblings, so lists are
 * added last to first to read in order.
 */
static int add_memory(void *fdt, const struct guest_mem *mem)
{
    for (unsigned int b = mem->nr_banks; b-- > 0;) {
        char name[32];
        uint8_t reg[16];
        int node, rc;

        fmt_snprintf(name, sizeof(name), "memory@%llx", (unsigned long long)mem->bank[b].start);
        node = fdt_add_subnode(fdt, 0, name);
        if (node < 0)
            return fdt_fail("cannot add", name, node);
        fdt64_st(reg, mem->bank[b].start);
        fdt64_st(reg + 8, mem->bank[b].size);
        rc = fdt_setprop_string(fdt, node, "device_type", "memory");
        if (!rc)
            rc = fdt_setprop(fdt, node, "reg", reg, sizeof(reg));
        if (rc)
            return fdt_fail("cannot fill", name, rc);
    }
    return 0;
}

static int add_cpus(void *fdt, unsigned int nr)
{
    int cpus = fdt_add_subnode(fdt, 0, "cpus"), rc;

    if (cpus < 0)
        return fdt_fail("cannot add", "/cpus", cpus);
    rc = fdt_setprop_u32(fdt, cpus, "#address-cells", 1);
    if (!rc)
        rc = fdt_setprop_u32(fdt, cpus, "#size-cells", 0);
    if (rc)
        return fdt_fail("cannot fill", "/cpus", rc);
    for (unsigned int i = nr; i-- > 0;) {
        char name[16];
        int cpu;

        fmt_snprintf(name, sizeof(name), "cpu@%u", i);
        cpu = fdt_add_subnode(fdt, cpus, name);
        if (cpu < 0)
            return fdt_fail("cannot add", name, cpu);
        rc = fdt_setprop_string(fdt, cpu, "device_type", "cpu");
        if (!rc)
            rc = fdt_setprop_string(fdt, cpu, "compatible", "arm,cortex-a15");
        if (!rc)
            rc = fdt_setprop_u32(fdt, cpu, "reg", i);
        if (!rc)
            rc = fdt_setprop_string(fdt, cpu, "enable-method", "psci");
        if (rc)
            return fdt_fail("cannot fill", name, rc);
    }
    return 0;
}

static int add_psci(void *fdt)
{
    static const char compat[] = "arm,psci-1.0\0arm,psci-0.2\0arm,psci";
    int node = fdt_add_subnode(fdt, 0, "psci"), rc;

    if (node < 0)
        return fdt_fail("cannot add", "/psci", node);
    rc = fdt_setprop(fdt, node, "compatible", compat, sizeof(compat));
    if (!rc)
        rc = fdt_setprop_string(fdt, node, "method", "hvc");
    return rc ? fdt_fail("cannot fill", "/psci", rc) : 0;
}

static int add_chosen(void *fdt, const struct kernel_info *kinfo, const struct kept *k)
{
    const char *cmdline = kinfo->cmdline ? kinfo->cmdline
                                         : kinfo->kernel ? kinfo->kernel->cmdline : "";
    int node = fdt_add_subnode(fdt, 0, "chosen"), rc;

    if (node < 0)
        return fdt_fail("cannot add", "/chosen", node);
    rc = fdt_setprop_string(fdt, node, "bootargs", cmdline);
    if (!rc && kinfo->initrd) {
        rc = fdt_setprop_u64(fdt, node, "linux,initrd-start", kinfo->initrd_ipa);
        if (!rc)
            rc = fdt_setprop_u64(fdt, node, "linux,initrd-end",
                                 kinfo->initrd_ipa + kinfo->initrd_size);
    }
    if (!rc && k->console >= 0)
        rc = fdt_setprop_string(fdt, node, "stdout-path", k->path[k->console]);
    return rc ? fdt_fail("cannot fill", "/chosen", rc) : 0;
}

int make_guest_dt(const struct kernel_info *kinfo, const void *host_fdt, void *buf,
                  size_t size)
{
    static struct kept k;       /* as in guest_dt_kept_nodes() */
    int rc;

    if (!kinfo || !kinfo->d || !host_fdt || !buf) {
        printk("make_guest_dt: kinfo %p, its domain, host tree %p and buffer %p are required\n",
               (const void *)kinfo, host_fdt, buf);
        return -EINVAL;
    }
    if ((uintptr_t)buf & 7 || size > INT32_MAX) {
        printk("make_guest_dt: d%u: buffer %p (%zu bytes) is not 8-byte aligned or too big\n",
               kinfo->d->domain_id, buf, size);
        return -EINVAL;
    }
    if (kinfo->nr_vcpus < 1 || kinfo->nr_vcpus > GUEST_MAX_VCPUS) {
        printk("make_guest_dt: d%u: %u VCPUs (1 to %d)\n", kinfo->d->domain_id,
               kinfo->nr_vcpus, GUEST_MAX_VCPUS);
        return -EINVAL;
    }
    if (kinfo->d->mem.nr_banks == 0) {
        printk("make_guest_dt: d%u: the domain has no RAM to describe\n", kinfo->d->domain_id);
        return -EINVAL;
    }
    rc = fdt_check_header(host_fdt);
    if (rc)
        return fdt_fail("host tree", NULL, rc);
    rc = collect_kept(kinfo, host_fdt, &k);
    if (rc)
        return rc;
    /* From here on host_fdt may be overwritten (if it is buf): only buf is read. */
    rc = fdt_open_into(host_fdt, buf, (int)size);
    if (rc)
        return fdt_fail("cannot copy the host tree into the buffer", NULL, rc);
    while ((rc = fdt_num_mem_rsv(buf)) > 0) {
        rc = fdt_del_mem_rsv(buf, rc - 1);
        if (rc)
            return fdt_fail("cannot delete a /memreserve/ entry", NULL, rc);
    }
    if (rc < 0)
        return fdt_fail("cannot read the /memreserve/ entries", NULL, rc);
    rc = prune(buf, 0, &k);
    if (!rc)
        rc = fix_root_and_kept(buf, kinfo, &k);
    if (!rc)
        rc = add_memory(buf, &kinfo->d->mem);
    if (!rc)
        rc = add_psci(buf);
    if (!rc)
        rc = add_cpus(buf, kinfo->nr_vcpus);
    if (!rc)
        rc = add_chosen(buf, kinfo, &k);
    if (rc)
        return rc;
    rc = fdt_pack(buf);
    return rc ? fdt_fail("cannot pack the tree", NULL, rc) : 0;
}

/* The host root's cells, checked: 0, or -EINVAL naming what cannot be read. */
static int host_cells(const struct domain *d, const void *host_fdt, const char *path,
                      unsigned int *ac, unsigned int *sc)
{
    *ac = root_cells(host_fdt, "#address-cells", 2);
    *sc = root_cells(host_fdt, "#size-cells", 1);
    if (*ac < 1 || *ac > 2 || *sc < 1 || *sc > 2) {
        printk("construct_domain: d%u: root cells %u/%u: %s's reg cannot be read\n",
               d->domain_id, *ac, *sc, path);
        return -EINVAL;
    }
    return 0;
}

/*
 * Entry i of node's reg in *base and *size: 0, or -EINVAL (printed) when there is no such
 * entry, or it is empty or beyond the IPA space.
 */
static int reg_entry(const struct domain *d, const void *host_fdt, int node, const char *path,
                     unsigned int i, uint64_t *base, uint64_t *size)
{
    unsigned int ac, sc;
    const uint8_t *v;
    int len, rc = host_cells(d, host_fdt, path, &ac, &sc);

    if (rc)
        return rc;
    v = fdt_getprop(host_fdt, node, "reg", &len);
    if (!v || len <= 0 || (unsigned int)len % (4 * (ac + sc)) ||
        (unsigned int)len / (4 * (ac + sc)) <= i) {
        printk("construct_domain: d%u: %s: no reg entry %u to pass through\n", d->domain_id,
               path, i);
        return -EINVAL;
    }
    v += i * 4 * (ac + sc);
    *base = read_cells(v, ac);
    *size = read_cells(v + 4 * ac, sc);
    if (*size == 0 || *base + *size < *base || *base + *size > (1ULL << P2M_IPA_BITS)) {
        printk("construct_domain: d%u: %s: reg 0x%llx+0x%llx is empty or beyond the "
               "%u-bit IPA space\n", d->domain_id, path, (unsigned long long)*base,
               (unsigned long long)*size, P2M_IPA_BITS);
        return -EINVAL;
    }
    return 0;
}

/* Maps [pa, pa + size) at IPA ipa as Device memory, page-rounded. */
static int map_device(struct domain *d, const char *path, uint64_t ipa, uint64_t pa,
                      uint64_t size)
{
    uint64_t first = pa >> PAGE_SHIFT, end = (pa + size + PAGE_SIZE - 1) >> PAGE_SHIFT;
    int rc = map_regions_p2mt(d, _gfn((unsigned long)(ipa >> PAGE_SHIFT)),
                              (unsigned long)(end - first), _mfn((unsigned long)first),
                              p2m_mmio_direct_dev);

    if (rc)
        printk("construct_domain: d%u: %s: cannot map 0x%llx+0x%llx at IPA 0x%llx (%d)\n",
               d->domain_id, path, (unsigned long long)pa, (unsigned long long)size,
               (unsigned long long)ipa, rc);
    return rc;
}

/* Maps all of node's reg at IPA == PA. */
static int map_node_regs(struct domain *d, const void *host_fdt, int node, const char *path)
{
    unsigned int ac, sc, entries;
    uint64_t base, size;
    int len = 0, rc = host_cells(d, host_fdt, path, &ac, &sc);

    fdt_getprop(host_fdt, node, "reg", &len);
    entries = len > 0 ? (unsigned int)len / (4 * (ac + sc)) : 0;
    /* Entry 0 is read even when there is none, for reg_entry's report. */
    for (unsigned int i = 0; !rc && (i == 0 || i < entries); i++) {
        rc = reg_entry(d, host_fdt, node, path, i, &base, &size);
        if (!rc)
            rc = map_device(d, path, base, base, size);
    }
    return rc;
}

/*
 * The GIC of a domain given it: its CPU interface (reg entry 1) is the GIC's virtual CPU
 * interface GICV (entry 3) mapped at the CPU interface's address, so that the guest's
 * acknowledge, EOI and priority mask reach the list registers the hypervisor fills with no
 * trap; its distributor (entry 0) stays unmapped: every access traps and is filtered
 * (domain/vgic.h), and d->vgic records where it is.
 */
static int map_gic(struct domain *d, const void *host_fdt, int node, const char *path)
{
    uint64_t gicd, gicd_size, gicc, gicc_size, gicv, gicv_size;
    int rc = reg_entry(d, host_fdt, node, path, 0, &gicd, &gicd_size);

    if (!rc)
        rc = reg_entry(d, host_fdt, node, path, 1, &gicc, &gicc_size);
    if (!rc)
        rc = reg_entry(d, host_fdt, node, path, 3, &gicv, &gicv_size);
    if (rc) {
        printk("construct_domain: d%u: %s: a GICv2 given to a guest needs its distributor, "
               "CPU interface and virtual CPU interface in reg (entries 0, 1 and 3)\n",
               d->domain_id, path);
        return rc;
    }
    if (gicv_size < gicc_size) {
        printk("construct_domain: d%u: %s: the virtual CPU interface (0x%llx bytes) is "
               "smaller than the CPU interface it stands for (0x%llx)\n", d->domain_id, path,
               (unsigned long long)gicv_size, (unsigned long long)gicc_size);
        return -EINVAL;
    }
    d->vgic.base = gicd;
    d->vgic.size = gicd_size;
    return map_device(d, path, gicc, gicv, gicc_size);
}

/*
 * Maps what the guest is given: the console's registers at IPA == PA, as Device memory it
 * cannot execute, and the GIC as map_gic() says.
 */
int guest_dt_map_devices(const struct kernel_info *kinfo, const void *host_fdt)
{
    static struct kept k;
    int rc = collect_kept(kinfo, host_fdt, &k);

    if (!rc && k.console >= 0)
        rc = map_node_regs(kinfo->d, host_fdt, k.host_node[k.console], k.path[k.console]);
    if (!rc && k.gic >= 0)
        rc = map_gic(kinfo->d, host_fdt, k.host_node[k.gic], k.path[k.gic]);
    return rc;
}
