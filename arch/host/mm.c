/*
 * The host's memory "hardware": fake machines for setup_mm() and the arch
 * side of common/'s memory code (arch/mm.h, mm/domain_page.h). See
 * host/machine.h for what is faked and how.
 *
 * Everything here checks its arguments the way the hardware would not: a
 * frame-table granule outside RAM, a map_domain_page() of a hole, an unmap
 * of something never mapped all panic with the address, so host tests catch
 * what would be silent corruption on the image.
 */
#define _GNU_SOURCE
#include <arch/mm.h>
#include <host/machine.h>
#include <lib/lib.h>
#include <mm/domain_page.h>
#include <mm/setup_mm.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <test/hooks.h>
#include <unistd.h>

#define DEFAULT_FRAMETABLE_WINDOW (96UL << 20)
#define XENHEAP_WINDOW (1UL << 30)

struct host_bank {
    paddr_t start, end;
    int fd;
    uint8_t *va;
};

static struct {
    bool present;
    unsigned int nr_banks;
    struct host_bank bank[HOST_MAX_BANKS];
    uint8_t *window;
    size_t window_size;
    struct bootinfo bi;
    const void *slot[HOST_DOMAIN_PAGE_SLOTS];   /* map_domain_page()'d pages */
    unsigned int nr_mapped;
} machine;

static struct host_bank *bank_of_pa(paddr_t pa, paddr_t len)
{
    for (unsigned int i = 0; i < machine.nr_banks; i++) {
        struct host_bank *b = &machine.bank[i];

        if (pa >= b->start && pa < b->end && len <= b->end - pa)
            return b;
    }
    return NULL;
}

static struct host_bank *bank_of_va(const void *va)
{
    for (unsigned int i = 0; i < machine.nr_banks; i++) {
        struct host_bank *b = &machine.bank[i];
        const uint8_t *p = va;

        if (p >= b->va && (paddr_t)(p - b->va) < b->end - b->start)
            return b;
    }
    return NULL;
}

/* --- arch/mm.h ------------------------------------------------------------ */

size_t arch_frametable_window(void)
{
    return machine.window_size;
}

void *arch_frametable_base(void)
{
    return machine.window;
}

void arch_map_frametable(size_t offset, paddr_t pa, size_t bytes)
{
    struct host_bank *b = bank_of_pa(pa, bytes);

    if (!IS_ALIGNED(offset, FRAMETABLE_GRANULE) || !IS_ALIGNED(pa, (paddr_t)FRAMETABLE_GRANULE) ||
        !IS_ALIGNED(bytes, FRAMETABLE_GRANULE) || bytes == 0)
        panic("arch_map_frametable: offset 0x%zx, pa 0x%llx, 0x%zx bytes: not in whole granules",
              offset, (unsigned long long)pa, bytes);
    if (offset > machine.window_size || bytes > machine.window_size - offset)
        panic("arch_map_frametable: 0x%zx bytes at offset 0x%zx run past the window (0x%zx)",
              bytes, offset, machine.window_size);
    if (!b)
        panic("arch_map_frametable: pa 0x%llx-0x%llx is not RAM", (unsigned long long)pa,
              (unsigned long long)(pa + bytes));
    /* MAP_POPULATE: setup_mm() clears all of it at once, and one populate costs less than a
     * fault per page (it halves the fuzzer's reboot, tests/fuzz/mm.c) */
    if (mmap(machine.window + offset, bytes, PROT_READ | PROT_WRITE,
             MAP_SHARED | MAP_FIXED | MAP_POPULATE, b->fd, (off_t)(pa - b->start)) == MAP_FAILED)
        panic("arch_map_frametable: cannot map pa 0x%llx at window offset 0x%zx",
              (unsigned long long)pa, offset);
}

size_t arch_xenheap_window(void)
{
    return XENHEAP_WINDOW;
}

void *arch_map_xenheap(paddr_t start, paddr_t end)
{
    struct host_bank *b = bank_of_pa(start, end - start);

    if (start >= end || end - start > XENHEAP_WINDOW ||
        !IS_ALIGNED(start, (paddr_t)XENHEAP_ALIGN) || !IS_ALIGNED(end, (paddr_t)XENHEAP_ALIGN))
        panic("arch_map_xenheap: 0x%llx-0x%llx is not a 32 MiB aligned range of at most 1 GiB",
              (unsigned long long)start, (unsigned long long)end);
    if (!b)
        panic("arch_map_xenheap: 0x%llx-0x%llx is not inside one RAM bank",
              (unsigned long long)start, (unsigned long long)end);
    return b->va + (start - b->start);
}

void arch_icache_invalidate_all(void)
{
}

void arch_dcache_clean_inval(const void *va, size_t size)
{
    (void)va;
    (void)size;
}

/* --- domain_page.h -------------------------------------------------------- */

void *map_domain_page(mfn_t mfn)
{
    paddr_t pa = mfn_to_paddr(mfn);
    struct host_bank *b = bank_of_pa(pa, PAGE_SIZE);
    void *va;

    if (!b)
        panic("map_domain_page: mfn 0x%lx (pa 0x%llx) is not RAM", mfn_x(mfn),
              (unsigned long long)pa);
    if (machine.nr_mapped == HOST_DOMAIN_PAGE_SLOTS)
        panic("map_domain_page: mfn 0x%lx: all %u slots are in use (a missing unmap?)", mfn_x(mfn),
              HOST_DOMAIN_PAGE_SLOTS);
    va = b->va + (pa - b->start);
    for (unsigned int i = 0; i < HOST_DOMAIN_PAGE_SLOTS; i++) {
        if (!machine.slot[i]) {
            machine.slot[i] = va;
            break;
        }
    }
    machine.nr_mapped++;
    return va;
}

void unmap_domain_page(const void *va)
{
    const void *page = (const void *)ROUNDDOWN((uintptr_t)va, PAGE_SIZE);

    /* As in Xen (and the image), NULL means nothing was mapped. */
    if (!va)
        return;
    if (bank_of_va(va)) {
        for (unsigned int i = 0; i < HOST_DOMAIN_PAGE_SLOTS; i++) {
            if (machine.slot[i] == page) {
                machine.slot[i] = NULL;
                machine.nr_mapped--;
                return;
            }
        }
    }
    panic("unmap_domain_page: %p is not a mapped domain page", va);
}

unsigned int host_domain_page_mappings(void)
{
    return machine.nr_mapped;
}

/* --- the machine ---------------------------------------------------------- */

void host_machine_default_config(struct host_machine_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->nr_banks = 1;
    cfg->bank[0].start = HOST_DEFAULT_RAM_BASE;
    cfg->bank[0].end = HOST_DEFAULT_RAM_BASE + HOST_DEFAULT_RAM_SIZE;
    /* Where QEMU would put the device tree and the image. */
    cfg->nr_reserved = 2;
    cfg->reserved[0].start = HOST_DEFAULT_RAM_BASE;
    cfg->reserved[0].end = HOST_DEFAULT_RAM_BASE + (1ULL << 20);
    cfg->reserved[1].start = HOST_DEFAULT_RAM_BASE + (2ULL << 20);
    cfg->reserved[1].end = HOST_DEFAULT_RAM_BASE + (4ULL << 20);
}

static void sort_ranges(struct mem_range *r, unsigned int n)
{
    for (unsigned int i = 1; i < n; i++) {
        struct mem_range x = r[i];
        unsigned int j = i;

        for (; j > 0 && r[j - 1].start > x.start; j--)
            r[j] = r[j - 1];
        r[j] = x;
    }
}

/* What a device-tree parser would produce for these banks and reservations. */
static void build_bootinfo(const struct host_machine_config *cfg)
{
    struct bootinfo *bi = &machine.bi;
    struct mem_range resv[HOST_MAX_RESERVED];

    memset(bi, 0, sizeof(*bi));
    for (unsigned int i = 0; i < cfg->nr_banks; i++)
        bi->ram[i] = cfg->bank[i];
    bi->nr_ram = cfg->nr_banks;
    sort_ranges(bi->ram, bi->nr_ram);

    memcpy(resv, cfg->reserved, cfg->nr_reserved * sizeof(resv[0]));
    sort_ranges(resv, cfg->nr_reserved);
    for (unsigned int i = 0; i < cfg->nr_reserved; i++) {
        bi->reserved[i].start = resv[i].start;
        bi->reserved[i].end = resv[i].end;
        bi->reserved[i].kind = RESV_RESERVED_MEMORY;
    }
    bi->nr_reserved = cfg->nr_reserved;

    for (unsigned int i = 0; i < bi->nr_ram; i++) {
        paddr_t cur = bi->ram[i].start, end = bi->ram[i].end;

        for (unsigned int r = 0; r <= cfg->nr_reserved && cur < end; r++) {
            paddr_t hole_start = r < cfg->nr_reserved ? resv[r].start : end;
            paddr_t hole_end = r < cfg->nr_reserved ? resv[r].end : end;
            paddr_t s = ROUNDUP(cur, (paddr_t)PAGE_SIZE);
            paddr_t e = ROUNDDOWN(min(hole_start, end), (paddr_t)PAGE_SIZE);

            if (hole_end <= cur)
                continue;
            if (s < e && bi->nr_usable < BOOTINFO_MAX_BANKS) {
                bi->usable[bi->nr_usable].start = s;
                bi->usable[bi->nr_usable].end = e;
                bi->nr_usable++;
            }
            cur = max(cur, hole_end);
        }
    }
    bi->nr_cpus = bi->nr_cpus_in_tree = 1;
}

static int check_config(const struct host_machine_config *cfg)
{
    if (cfg->nr_banks == 0 || cfg->nr_banks > HOST_MAX_BANKS ||
        cfg->nr_reserved > HOST_MAX_RESERVED) {
        printk("host_machine: %u banks and %u reserved ranges (1..%u and 0..%u allowed)\n",
               cfg->nr_banks, cfg->nr_reserved, HOST_MAX_BANKS, HOST_MAX_RESERVED);
        return -1;
    }
    for (unsigned int i = 0; i < cfg->nr_banks; i++) {
        const struct mem_range *b = &cfg->bank[i];

        if (b->start >= b->end || !IS_ALIGNED(b->start, (paddr_t)PAGE_SIZE) ||
            !IS_ALIGNED(b->end, (paddr_t)PAGE_SIZE)) {
            printk("host_machine: bank %u 0x%llx-0x%llx is empty or not page aligned\n", i,
                   (unsigned long long)b->start, (unsigned long long)b->end);
            return -1;
        }
        for (unsigned int j = 0; j < i; j++) {
            if (b->start < cfg->bank[j].end && cfg->bank[j].start < b->end) {
                printk("host_machine: banks %u and %u overlap\n", j, i);
                return -1;
            }
        }
    }
    if (cfg->frametable_window % FRAMETABLE_GRANULE) {
        printk("host_machine: the frame-table window must be whole 2 MiB granules\n");
        return -1;
    }
    return 0;
}

int host_machine_create(const struct host_machine_config *cfg)
{
    host_machine_destroy();
    if (check_config(cfg))
        return -1;

    machine.present = true;
    for (unsigned int i = 0; i < cfg->nr_banks; i++) {
        struct host_bank *b = &machine.bank[i];
        size_t size = (size_t)(cfg->bank[i].end - cfg->bank[i].start);
        char name[32];

        b->start = cfg->bank[i].start;
        b->end = cfg->bank[i].end;
        b->va = MAP_FAILED;
        machine.nr_banks++;
        fmt_snprintf(name, sizeof(name), "hypmem-ram%u", i);
        b->fd = memfd_create(name, MFD_CLOEXEC);
        if (b->fd < 0 || ftruncate(b->fd, (off_t)size) != 0) {
            perror("host_machine: memfd");
            goto fail;
        }
        b->va = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, b->fd, 0);
        if (b->va == MAP_FAILED) {
            perror("host_machine: mmap RAM");
            goto fail;
        }
        if (cfg->fill_ram)
            memset(b->va, cfg->fill_byte, size);
    }

    machine.window_size = cfg->frametable_window ? cfg->frametable_window
                                                 : DEFAULT_FRAMETABLE_WINDOW;
    machine.window = mmap(NULL, machine.window_size, PROT_NONE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (machine.window == MAP_FAILED) {
        machine.window = NULL;
        perror("host_machine: mmap frame-table window");
        goto fail;
    }

    build_bootinfo(cfg);
    setup_mm(&machine.bi);
    return 0;

fail:
    host_machine_destroy();
    return -1;
}

int host_machine_reboot(void)
{
    if (!machine.present) {
        printk("host_machine_reboot: there is no machine to reboot\n");
        return -1;
    }
    teardown_mm();
    /* the frame table's granules go, as a fresh window would have none */
    if (mmap(machine.window, machine.window_size, PROT_NONE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0) == MAP_FAILED) {
        perror("host_machine: mmap frame-table window");
        return -1;
    }
    memset(machine.slot, 0, sizeof(machine.slot));
    machine.nr_mapped = 0;
    setup_mm(&machine.bi);
    return 0;
}

int host_machine_create_default(void)
{
    struct host_machine_config cfg;

    host_machine_default_config(&cfg);
    return host_machine_create(&cfg);
}

void host_machine_destroy(void)
{
    if (!machine.present)
        return;
    teardown_mm();
    if (machine.window)
        munmap(machine.window, machine.window_size);
    for (unsigned int i = 0; i < machine.nr_banks; i++) {
        struct host_bank *b = &machine.bank[i];

        if (b->va != MAP_FAILED)
            munmap(b->va, (size_t)(b->end - b->start));
        if (b->fd >= 0)
            close(b->fd);
    }
    memset(&machine, 0, sizeof(machine));
}

bool host_machine_present(void)
{
    return machine.present;
}

const struct bootinfo *host_machine_bootinfo(void)
{
    return machine.present ? &machine.bi : NULL;
}

void *host_machine_ram(paddr_t pa)
{
    struct host_bank *b = bank_of_pa(pa, 1);

    return b ? b->va + (pa - b->start) : NULL;
}

unsigned long host_machine_resident_pages(void)
{
    unsigned long resident = 0;

    /* A memory file's allocated blocks are exactly the pages ever touched. */
    for (unsigned int i = 0; i < machine.nr_banks; i++) {
        struct stat st;

        if (fstat(machine.bank[i].fd, &st) != 0)
            panic("host_machine: fstat of bank %u failed", i);
        resident += (unsigned long)st.st_blocks * 512 / PAGE_SIZE;
    }
    return resident;
}
