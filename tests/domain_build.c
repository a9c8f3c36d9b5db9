/*
 * Building a domain from boot modules (construct_domain() and its loaders in
 * common/domain/domain_build.c) and gvirt_to_maddr(), on both targets.
 *
 * The modules are made by hand: anonymous domheap pages filled with a pattern through
 * map_domain_page(), described by a struct bootmodule that starts and ends off page
 * boundaries. After construct_domain(), the guest's memory is read back page by page
 * through the p2m (p2m_lookup, map_domain_page), independently of the loaders: the kernel's
 * bytes at the entry, the initrd's at initrd_ipa, a valid tree at dtb_ipa that describes
 * the domain, and everywhere else zeros (the heap scrubs what it hands out, and clears a
 * debug build's poison too). Every test ends with the heap's free count exactly as it
 * found it.
 */
#include <arch/p2m.h>
#include <domain/dom0_build.h>
#include <domain/domain.h>
#include <domain/domain_build.h>
#include <domain/guest_dt.h>
#include <lib/errno.h>
#include <lib/lib.h>
#include <libfdt.h>
#include <mm/domain_page.h>
#include <mm/mm.h>
#include <mm/p2m.h>
#include <mm/page_alloc.h>
#include <mm/setup_mm.h>
#include <string.h>
#include <test/selftest.h>

#include "test_dtbs.h"

#define MiB (1ULL << 20)

struct fake_module {
    struct bootmodule m;
    struct page_info *pg;
    unsigned int order;
};

static uint8_t pattern(unsigned int seed, paddr_t i)
{
    return (uint8_t)((i * 7 + (i >> 8) * 13 + seed) | 1);   /* never 0 */
}

/* size bytes of pattern(seed) starting offset bytes into fresh pages. */
static bool fake_module(struct fake_module *f, enum bootmodule_kind kind, paddr_t offset,
                        paddr_t size, unsigned int seed)
{
    paddr_t need = offset + size, base;

    f->order = 0;
    while (((paddr_t)PAGE_SIZE << f->order) < need)
        f->order++;
    f->pg = alloc_domheap_pages(NULL, f->order, MEMF_no_scrub);
    if (!EXPECT(f->pg != NULL))
        return false;
    base = mfn_to_paddr(page_to_mfn(f->pg));
    for (paddr_t i = 0; i < size;) {
        paddr_t pa = base + offset + i;
        uint8_t *p = map_domain_page(paddr_to_mfn(pa));

        for (paddr_t o = pa & (PAGE_SIZE - 1); o < PAGE_SIZE && i < size; o++, i++)
            p[o] = pattern(seed, i);
        unmap_domain_page(p);
    }
    memset(&f->m, 0, sizeof(f->m));
    f->m.kind = kind;
    f->m.start = base + offset;
    f->m.size = size;
    fmt_snprintf(f->m.cmdline, sizeof(f->m.cmdline), "console=hvc0 seed=%u", seed);
    fmt_snprintf(f->m.path, sizeof(f->m.path), "/chosen/fake@%u", seed);
    return true;
}

static void free_module(struct fake_module *f)
{
    if (f->pg)
        free_domheap_pages(f->pg, f->order);
    f->pg = NULL;
}

static void new_kinfo(struct kernel_info *k, struct domain *d, paddr_t mem,
                      const struct bootmodule *kernel, const struct bootmodule *initrd)
{
    memset(k, 0, sizeof(*k));
    k->d = d;
    k->mem_bytes = mem;
    k->nr_vcpus = 2;
    k->give_console = true;
    k->kernel = kernel;
    k->initrd = initrd;
}

static uint8_t guest_dtb[16384] __attribute__((aligned(8)));

static bool page_reads_zero(const void *page)
{
    const unsigned long *w = page;

    for (size_t i = 0; i < PAGE_SIZE / sizeof(*w); i++)
        if (w[i])
            return false;
    return true;
}

/* Does [start, start + size) share a byte with the page at ipa? */
static bool in_page(paddr_t ipa, paddr_t start, paddr_t size)
{
    return size && start < ipa + PAGE_SIZE && ipa < start + size;
}

/*
 * Reads every page of d's banks through the p2m and compares it with what kinfo says
 * should be there. The tree's bytes are gathered into guest_dtb for the caller.
 *
 * A page where nothing was loaded must read all zeros, and a word at a time says whether
 * it does; only the other pages go byte by byte, counting what differs. (Byte by byte
 * everywhere, a 520 MiB guest took QEMU ten seconds.)
 */
static void check_guest_memory(const struct kernel_info *k)
{
    struct domain *d = k->d;
    unsigned long bad_kernel = 0, bad_initrd = 0, not_zero = 0;

    EXPECT(k->dtb_size <= sizeof(guest_dtb));
    for (unsigned int b = 0; b < d->mem.nr_banks; b++) {
        for (paddr_t off = 0; off < d->mem.bank[b].size; off += PAGE_SIZE) {
            paddr_t ipa = d->mem.bank[b].start + off;
            mfn_t m = p2m_lookup(p2m_get_hostp2m(d), gaddr_to_gfn(ipa), NULL);
            const uint8_t *p;

            if (!EXPECT(!mfn_eq(m, INVALID_MFN)))
                return;
            p = map_domain_page(m);
            if (!in_page(ipa, k->kernel_ipa, k->kernel_size) &&
                !(k->initrd && in_page(ipa, k->initrd_ipa, k->initrd_size)) &&
                !in_page(ipa, k->dtb_ipa, k->dtb_size) && page_reads_zero(p)) {
                unmap_domain_page(p);
                continue;
            }
            for (unsigned int i = 0; i < PAGE_SIZE; i++) {
                paddr_t a = ipa + i;

                if (a >= k->kernel_ipa && a < k->kernel_ipa + k->kernel_size)
                    bad_kernel += p[i] != pattern(1, a - k->kernel_ipa);
                else if (k->initrd && a >= k->initrd_ipa && a < k->initrd_ipa + k->initrd_size)
                    bad_initrd += p[i] != pattern(2, a - k->initrd_ipa);
                else if (a >= k->dtb_ipa && a < k->dtb_ipa + k->dtb_size &&
                         a - k->dtb_ipa < sizeof(guest_dtb))
                    guest_dtb[a - k->dtb_ipa] = p[i];
                else
                    not_zero += p[i] != 0;
            }
            unmap_domain_page(p);
        }
    }
    EXPECT_EQ(bad_kernel, 0);
    EXPECT_EQ(bad_initrd, 0);
    EXPECT_EQ(not_zero, 0);
}

/* The tree the guest finds: valid, its memory and /chosen as kinfo says. */
static void check_guest_dtb(const struct kernel_info *k)
{
    const void *fdt = guest_dtb;
    int node, len;
    const uint8_t *v;
    const char *s;

    if (!EXPECT_EQ(fdt_check_full(fdt, (size_t)k->dtb_size), 0))
        return;
    EXPECT_EQ(fdt_totalsize(fdt), k->dtb_size);
    for (unsigned int b = 0; b < k->d->mem.nr_banks; b++) {
        char path[40];

        fmt_snprintf(path, sizeof(path), "/memory@%llx",
                     (unsigned long long)k->d->mem.bank[b].start);
        node = fdt_path_offset(fdt, path);
        v = node >= 0 ? fdt_getprop(fdt, node, "reg", &len) : NULL;
        if (EXPECT(v != NULL) && EXPECT_EQ(len, 16)) {
            EXPECT_EQ(fdt64_ld((const fdt64_t *)v), k->d->mem.bank[b].start);
            EXPECT_EQ(fdt64_ld((const fdt64_t *)(v + 8)), k->d->mem.bank[b].size);
        }
    }
    node = fdt_path_offset(fdt, "/chosen");
    if (!EXPECT(node >= 0))
        return;
    s = fdt_getprop(fdt, node, "bootargs", &len);
    if (EXPECT(s != NULL) && EXPECT(len > 0 && s[len - 1] == '\0'))
        EXPECT_STREQ(s, k->cmdline ? k->cmdline : k->kernel->cmdline);
    v = fdt_getprop(fdt, node, "linux,initrd-start", &len);
    if (!k->initrd) {
        EXPECT(v == NULL);
    } else if (EXPECT(v != NULL) && EXPECT_EQ(len, 8)) {
        EXPECT_EQ(fdt64_ld((const fdt64_t *)v), k->initrd_ipa);
        v = fdt_getprop(fdt, node, "linux,initrd-end", &len);
        if (EXPECT(v != NULL) && EXPECT_EQ(len, 8))
            EXPECT_EQ(fdt64_ld((const fdt64_t *)v), k->initrd_ipa + k->initrd_size);
    }
}

SELFTEST(domain_build, kernel_initrd_and_tree_land_where_placed)
{
    struct fake_module kern = { 0 }, rd = { 0 };
    struct kernel_info k;
    struct domain d;
    unsigned long before;
    paddr_t top;

    if (!EXPECT(mm_layout() != NULL))
        return;
    before = heap_free_pages();
    if (!fake_module(&kern, BOOTMOD_KERNEL, 0x123, 0x5123, 1) ||
        !fake_module(&rd, BOOTMOD_RAMDISK, 0x800, 0x3456, 2))
        goto out;
    domain_init(&d, 40, 1UL << 20);
    if (!EXPECT_EQ(p2m_init(&d), 0))
        goto out;
    new_kinfo(&k, &d, 16 * MiB, &kern.m, &rd.m);
    if (EXPECT_EQ(construct_domain(&k, qemu_virt_dtb), 0)) {
        top = GUEST_RAM0_BASE + 16 * MiB;
        EXPECT_EQ(k.entry, GUEST_RAM0_BASE + 0x8000);
        EXPECT_EQ(k.kernel_ipa, k.entry);
        EXPECT_EQ(k.kernel_size, 0x5123);
        EXPECT_EQ(k.initrd_size, 0x3456);
        EXPECT_EQ(k.initrd_ipa, ROUNDDOWN(top - 0x3456, (paddr_t)PAGE_SIZE));
        EXPECT_EQ(k.dtb_ipa, ROUNDDOWN(k.initrd_ipa - k.dtb_size, (paddr_t)PAGE_SIZE));
        EXPECT(k.dtb_size > 0 && k.dtb_size <= GUEST_DTB_MAX);
        check_guest_memory(&k);
        check_guest_dtb(&k);
    }
    EXPECT_EQ(relinquish_memory(&d), 0);
out:
    free_module(&kern);
    free_module(&rd);
    EXPECT_EQ(heap_free_pages(), before);
}

/* The lowest 512 MiB: a larger guest still gets its tree and initrd below that. */
SELFTEST(domain_build, tree_and_initrd_stay_in_the_first_512m_and_cmdline_wins)
{
    struct fake_module kern = { 0 };
    struct kernel_info k;
    struct domain d;
    unsigned long before;

    if (!EXPECT(mm_layout() != NULL))
        return;
    if (selftest_skip_if_heap_too_big_to_drain())
        return;
    if (avail_domheap_pages() < (520 * MiB + 8 * MiB) / PAGE_SIZE) {
        selftest_skip("needs 600 MiB of domheap");
        return;
    }
    before = heap_free_pages();
    if (!fake_module(&kern, BOOTMOD_KERNEL, 0, 3 * PAGE_SIZE, 1))
        goto out;
    domain_init(&d, 41, 1UL << 20);
    if (!EXPECT_EQ(p2m_init(&d), 0))
        goto out;
    new_kinfo(&k, &d, 520 * MiB, &kern.m, NULL);
    k.cmdline = "the caller's command line";
    k.give_console = false;
    if (EXPECT_EQ(construct_domain(&k, qemu_virt_dtb), 0)) {
        EXPECT_EQ(k.initrd_ipa, 0);
        EXPECT_EQ(k.initrd_size, 0);
        EXPECT_EQ(k.dtb_ipa, ROUNDDOWN(GUEST_RAM0_BASE + 512 * MiB - k.dtb_size,
                                       (paddr_t)PAGE_SIZE));
        check_guest_memory(&k);
        check_guest_dtb(&k);
    }
    EXPECT_EQ(relinquish_memory(&d), 0);
out:
    free_module(&kern);
    EXPECT_EQ(heap_free_pages(), before);
}

/*
 * Direct-mapped: the images land at bank 0's own addresses (IPA == PA). A machine whose
 * RAM lies above 4 GiB (the host's default) is refused: the guest could not reach it.
 */
SELFTEST(domain_build, direct_map)
{
    struct fake_module kern = { 0 };
    struct kernel_info k;
    struct domain d;
    unsigned long before;
    int rc;

    if (!EXPECT(mm_layout() != NULL))
        return;
    before = heap_free_pages();
    if (!fake_module(&kern, BOOTMOD_KERNEL, 0x10, 0x2000, 1))
        goto out;
    domain_init(&d, 42, 1UL << 20);
    if (!EXPECT_EQ(p2m_init(&d), 0))
        goto out;
    new_kinfo(&k, &d, 4 * MiB, &kern.m, NULL);
    k.direct_map = true;
    rc = construct_domain(&k, qemu_virt_dtb);
    if (d.mem.nr_banks && d.mem.bank[0].start + d.mem.bank[0].size > 0x100000000ULL) {
        EXPECT_EQ(rc, -EINVAL);
    } else if (EXPECT_EQ(rc, 0)) {
        EXPECT_EQ(k.entry, d.mem.bank[0].start + 0x8000);
        check_guest_memory(&k);
        check_guest_dtb(&k);
    }
    EXPECT_EQ(relinquish_memory(&d), 0);
out:
    free_module(&kern);
    EXPECT_EQ(heap_free_pages(), before);
}

/* One refused build: the result, and everything back after relinquish_memory. */
static void refused(struct kernel_info *k, struct domain *d, domid_t id, int want)
{
    domain_init(d, id, 1UL << 20);
    if (!EXPECT_EQ(p2m_init(d), 0))
        return;
    EXPECT_EQ(construct_domain(k, qemu_virt_dtb), want);
    EXPECT_EQ(relinquish_memory(d), 0);
}

SELFTEST(domain_build, refusals)
{
    static const uint8_t not_a_tree[64] __attribute__((aligned(8)));
    struct fake_module kern = { 0 };
    struct bootmodule big, empty;
    struct kernel_info k;
    struct domain d;
    unsigned long before;

    if (!EXPECT(mm_layout() != NULL))
        return;
    before = heap_free_pages();
    if (!fake_module(&kern, BOOTMOD_KERNEL, 0, PAGE_SIZE, 1))
        goto out;

    /* no kernel, an empty one, VCPUs out of range: refused before any RAM is taken */
    new_kinfo(&k, &d, MiB, NULL, NULL);
    refused(&k, &d, 43, -EINVAL);
    empty = kern.m;
    empty.size = 0;
    new_kinfo(&k, &d, MiB, &empty, NULL);
    refused(&k, &d, 43, -EINVAL);
    new_kinfo(&k, &d, MiB, &kern.m, NULL);
    k.nr_vcpus = 0;
    refused(&k, &d, 43, -EINVAL);
    k.nr_vcpus = GUEST_MAX_VCPUS + 1;
    refused(&k, &d, 43, -EINVAL);
    /* no RAM asked for: allocate_memory's refusal */
    new_kinfo(&k, &d, 0, &kern.m, NULL);
    refused(&k, &d, 43, -EINVAL);
    /* not a device tree */
    new_kinfo(&k, &d, MiB, &kern.m, NULL);
    domain_init(&d, 43, 1UL << 20);
    if (EXPECT_EQ(p2m_init(&d), 0)) {
        EXPECT_EQ(construct_domain(&k, not_a_tree), -EINVAL);
        EXPECT_EQ(d.tot_pages, 0);
        EXPECT_EQ(relinquish_memory(&d), 0);
    }

    /* a kernel larger than the RAM (its bytes are never read: refused before loading) */
    big = kern.m;
    big.size = 2 * MiB;
    new_kinfo(&k, &d, MiB, &big, NULL);
    refused(&k, &d, 44, -ENOSPC);
    /* an initrd that does not fit beside the kernel */
    new_kinfo(&k, &d, MiB, &kern.m, &big);
    refused(&k, &d, 45, -ENOSPC);
    /* a kernel that leaves less than a page for the tree */
    big.size = MiB - KERNEL_OFFSET - 0x800;
    new_kinfo(&k, &d, MiB, &big, NULL);
    refused(&k, &d, 46, -ENOSPC);
out:
    free_module(&kern);
    EXPECT_EQ(heap_free_pages(), before);
}

SELFTEST(domain_build, gvirt_to_maddr_translates_guest_ram)
{
    struct domain d, none;
    unsigned long before;
    paddr_t ma = 0;
    mfn_t m;

    if (!EXPECT(mm_layout() != NULL))
        return;
    before = heap_free_pages();
    domain_init(&d, 48, 1UL << 20);
    if (!EXPECT_EQ(p2m_init(&d), 0))
        return;
    if (EXPECT_EQ(allocate_memory(&d, 2 * MiB), 0)) {
        m = p2m_lookup(p2m_get_hostp2m(&d), gaddr_to_gfn(GUEST_RAM0_BASE + 0x5000), NULL);
        EXPECT_EQ(gvirt_to_maddr(&d, (uint32_t)GUEST_RAM0_BASE + 0x5abc, &ma, GV2M_WRITE), 0);
        EXPECT_EQ(ma, mfn_to_paddr(m) + 0xabc);
        ma = 0;
        EXPECT_EQ(gvirt_to_maddr(&d, (uint32_t)GUEST_RAM0_BASE + 0x5001, &ma, GV2M_READ), 0);
        EXPECT_EQ(ma, mfn_to_paddr(m) + 1);
        /* just outside the RAM, on both sides */
        EXPECT_EQ(gvirt_to_maddr(&d, (uint32_t)GUEST_RAM0_BASE - 1, &ma, GV2M_READ), -EFAULT);
        EXPECT_EQ(gvirt_to_maddr(&d, (uint32_t)(GUEST_RAM0_BASE + 2 * MiB), &ma, GV2M_WRITE),
                  -EFAULT);
        EXPECT_EQ(gvirt_to_maddr(&d, (uint32_t)GUEST_RAM0_BASE, &ma, 2), -EINVAL);
    }
    domain_init(&none, 49, 16);                 /* no p2m */
    EXPECT_EQ(gvirt_to_maddr(&none, (uint32_t)GUEST_RAM0_BASE, &ma, GV2M_READ), -EINVAL);
    EXPECT_EQ(relinquish_memory(&d), 0);
    EXPECT_EQ(heap_free_pages(), before);
}

/*
 * dom0's options from the command line: numbers strictly in decimal, in range, and a
 * value too long for the reader refused rather than cut short.
 */
SELFTEST(domain_build, dom0_options_are_strict)
{
    static const char *const refused[] = {
        "dom0_max_vcpus=-1", "dom0_max_vcpus=+2", "dom0_max_vcpus=0x2", "dom0_max_vcpus=2x",
        "dom0_max_vcpus=0", "dom0_max_vcpus=9", "dom0_max_vcpus=", "dom0_max_vcpus",
        "dom0_max_vcpus=4294967298", "dom0_mem=-1M", "dom0_mem=0",
        "dom0_mem=00000000000000000000000000000000256M",
        /* Cut to 31 characters, this would read as 4K. */
        "dom0_mem=000000000000000000000000000004KB",
        "dom0_timeout=-1", "dom0_timeout=86401", "dom0_timeout=5s", "dom0_timeout=",
    };
    struct dom0_options o;

    EXPECT_EQ(dom0_options_parse("dom0_max_vcpus=8 dom0_mem=1G", &o), 0);
    EXPECT_EQ(o.vcpus, 8);
    EXPECT_EQ(o.mem, 1ULL << 30);
    EXPECT_EQ(dom0_options_parse("", &o), 0);
    EXPECT_EQ(o.vcpus, 1);
    EXPECT_EQ(o.mem, DOM0_DEFAULT_MEM);
    EXPECT_EQ(o.timeout, DOM0_DEFAULT_TIMEOUT);
    EXPECT_EQ(dom0_options_parse("dom0_timeout=0", &o), 0);
    EXPECT_EQ(o.timeout, 0);
    EXPECT_EQ(dom0_options_parse("dom0_timeout=20", &o), 0);
    EXPECT_EQ(o.timeout, 20);
    for (unsigned int i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        if (!EXPECT_EQ(dom0_options_parse(refused[i], &o), -EINVAL))
            selftest_diag("accepted: %s", refused[i]);
}

/*
 * The GIC as a domain given it finds it: at its CPU interface's address (0x08010000 on
 * QEMU's virt board) the virtual CPU interface GICV (0x08040000), the whole 64 KiB window;
 * its distributor unmapped (each access traps) and recorded for the trap handler.
 */
SELFTEST(domain_build, gic_given_maps_gicv_at_gicc_and_leaves_gicd_to_trap)
{
    struct kernel_info k = { 0 };
    struct domain d;
    p2m_type_t t;
    unsigned long before = heap_free_pages();

    domain_init(&d, 41, 16);
    if (!EXPECT_EQ(p2m_init(&d), 0))
        return;
    k.d = &d;
    k.give_gic_and_timer = true;
    if (EXPECT_EQ(guest_dt_map_devices(&k, qemu_virt_dtb), 0)) {
        for (unsigned long i = 0; i < 16; i++) {
            EXPECT_EQ(mfn_x(p2m_lookup(p2m_get_hostp2m(&d), _gfn(0x08010 + i), &t)), 0x08040 + i);
            EXPECT_EQ(t, p2m_mmio_direct_dev);
        }
        EXPECT(mfn_eq(p2m_lookup(p2m_get_hostp2m(&d), _gfn(0x08000), &t), INVALID_MFN));
        EXPECT(mfn_eq(p2m_lookup(p2m_get_hostp2m(&d), _gfn(0x08030), &t), INVALID_MFN));
        EXPECT(mfn_eq(p2m_lookup(p2m_get_hostp2m(&d), _gfn(0x08040), &t), INVALID_MFN));
        EXPECT_EQ(d.vgic.base, 0x08000000);
        EXPECT_EQ(d.vgic.size, 0x10000);
    }
    EXPECT_EQ(relinquish_memory(&d), 0);
    EXPECT_EQ(heap_free_pages(), before);
}
