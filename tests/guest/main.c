/*
 * The test guest: checks from inside a domain that the hypervisor gave it
 * exactly what it promised, and says so through the console hypercall.
 *
 * It runs with the MMU off (VA == IPA), so it can reach RAM below 4 GiB,
 * which is where test guests get theirs. In order:
 *   entry      the registers and state of Linux's zImage boot protocol;
 *   bootargs   the numbers it was given (seed=, initrd_cksum=, initrd_len=, poke=);
 *   dt         the device tree's shape: banks, initrd, what lies where;
 *   ram_zero   every page of every bank reads, and reads zero outside the
 *              kernel, the tree and the initrd: nothing of a previous owner;
 *   ram_writable  every free page holds a seed- and address-dependent
 *              pattern written to all of them first (so aliased pages show);
 *   ram_bounds the word just below and just above each bank aborts, with
 *              the DFAR and DFSR the hypervisor promises, for a read and a write;
 *   gic        QEMU's GIC distributor aborts when the tree does not give it; when it
 *              does (a dom0), the distributor and the CPU interface (the virtual one)
 *              read without a fault and the distributor hides the hypervisor's own
 *              PPIs (25, 26); its hypervisor interface (GICH) always aborts;
 *   exec       code written to the last free page runs;
 *   initrd     its length and POSIX cksum match the bootargs;
 *   PSCI and SMP (smp.c), then the passed-through UART and poke=.
 * It ends with SYSTEM_OFF when every check passed, SYSTEM_RESET otherwise; with hang=1 it
 * gives no verdict at all and spins for ever with its interrupts masked: a hung dom0, for
 * the hypervisor's watchdog to end.
 * Every wait is bounded; an unexpected exception ends the run as a failure.
 */
#include <libfdt.h>
#include <string.h>
#include "checks.h"
#include "guest.h"
#include "portable.h"
#include "runtime.h"

#define PAGE_SIZE       4096u
#define WORDS_PER_PAGE  (PAGE_SIZE / 4)
#define FOUR_GIB        0x100000000ull
#define MAX_BANKS       8
#define MAX_DEVICES     64      /* QEMU's own tree has about 45 */
#define MAX_DETAILS     6

/* QEMU virt's GIC distributor: never given to a test guest. */
#define GICD_IPA        0x08000000u
#define GICH_IPA        0x08030000u     /* QEMU's GIC hypervisor interface: never given */
#define GICC_IPA        0x08010000u     /* its CPU interface: the virtual one, when given */
#define GICD_ISENABLER0 0x100u
#define HYP_PPIS        ((1u << 25) | (1u << 26))   /* maintenance, Hyp timer: the hypervisor's */

/* Short-descriptor DFSR: FS[4] is bit 10, FS[3:0] bits 3:0; LPAE bit 9; WnR bit 11. */
#define FSR_FS_MASK         0x040fu
#define FSR_LPAE            (1u << 9)
#define FSR_WNR             (1u << 11)
#define FS_SYNC_EXTERNAL    0x008u

#define PL011_DR    0x00
#define PL011_FR    0x18
#define PL011_TXFF  (1u << 5)

struct range {
    uint64_t start, end;        /* end exclusive */
};

struct entry_state boot_entry;
struct exec_probe exec_probe;

static const void *fdt;
static struct range banks[MAX_BANKS];
static unsigned int nr_banks;
static struct range devices[MAX_DEVICES];   /* root-level nodes with reg, memory aside */
static unsigned int nr_devices;
static struct range image, dtb, initrd;
static bool have_initrd;
static const char *bootargs = "";
static uint64_t seed = 1;
static uint32_t checks_failed;

/* ------------------------------------------------------------ reporting */
void check_begin(struct check *c, const char *name)
{
    c->name = name;
    c->problems = 0;
    c->first[0] = '\0';
}

void problem(struct check *c, const char *fmt, ...)
{
    char text[sizeof(c->first)];
    va_list ap;

    if (c->problems <= MAX_DETAILS) {
        va_start(ap, fmt);
        fmt_vsnprintf(text, sizeof(text), fmt, ap);
        va_end(ap);
        if (c->problems == 0)
            memcpy(c->first, text, sizeof(text));
        else if (c->problems < MAX_DETAILS)
            say("# %s: also: %s", c->name, text);
        else
            say("# %s: further problems not shown", c->name);
    }
    c->problems++;
}

bool check_end(struct check *c)
{
    if (c->problems == 0) {
        say("ok %s", c->name);
        return true;
    }
    checks_failed++;
    if (c->problems == 1)
        say("FAIL %s: %s", c->name, c->first);
    else
        say("FAIL %s: %s (%u problems in all)", c->name, c->first, (unsigned int)c->problems);
    return false;
}

static void __attribute__((noreturn)) conclude(void)
{
    if (checks_failed == 0)
        say("guest: all passed");
    else
        say("guest: %u failed", (unsigned int)checks_failed);
    finish(checks_failed == 0);
}

void guest_unexpected(uint32_t kind, const uint32_t *regs, uint32_t lr, uint32_t spsr)
{
    static const char *const names[] = {
        "reset", "undefined instruction", "supervisor call", "prefetch abort",
        "data abort", "unused vector", "IRQ", "FIQ",
    };
    uint32_t dfar, dfsr, ifar, ifsr;
    /* The preferred return address: LR - 8 for a data abort, LR - 4 for the rest (ARM state). */
    uint32_t at = lr - (kind == EXC_DABT ? 8 : 4);

    __asm__ volatile("mrc p15, 0, %0, c6, c0, 0" : "=r"(dfar));
    __asm__ volatile("mrc p15, 0, %0, c5, c0, 0" : "=r"(dfsr));
    __asm__ volatile("mrc p15, 0, %0, c6, c0, 2" : "=r"(ifar));
    __asm__ volatile("mrc p15, 0, %0, c5, c0, 1" : "=r"(ifsr));
    say("FAIL exception: unexpected %s on cpu %u at 0x%08lx (LR 0x%08lx, SPSR 0x%08lx)",
        kind < 8 ? names[kind] : "?", (unsigned int)(read_mpidr() & 0xff), at, lr, spsr);
    say("# DFAR 0x%08lx DFSR 0x%08lx IFAR 0x%08lx IFSR 0x%08lx", dfar, dfsr, ifar, ifsr);
    for (unsigned int i = 0; i < 12; i += 4)
        say("# r%u 0x%08lx  r%u 0x%08lx  r%u 0x%08lx  r%u 0x%08lx", i, regs[i], i + 1, regs[i + 1],
            i + 2, regs[i + 2], i + 3, regs[i + 3]);
    say("# r12 0x%08lx", regs[12]);
    checks_failed++;
    conclude();
}

/* ------------------------------------------------------------ ranges */
static bool contains(const struct range *r, uint64_t a)
{
    return a >= r->start && a < r->end;
}

static bool overlaps(const struct range *r, uint64_t start, uint64_t end)
{
    return r->start < end && start < r->end;
}

/* Inside the kernel image, the device tree or the initrd: may hold data. */
static bool loaded(uint64_t a)
{
    return contains(&image, a) || contains(&dtb, a) || (have_initrd && contains(&initrd, a));
}

static bool page_holds_loaded(uint64_t page)
{
    uint64_t end = page + PAGE_SIZE;

    return overlaps(&image, page, end) || overlaps(&dtb, page, end) ||
           (have_initrd && overlaps(&initrd, page, end));
}

static bool given(uint64_t a)
{
    for (unsigned int i = 0; i < nr_banks; i++)
        if (contains(&banks[i], a))
            return true;
    for (unsigned int i = 0; i < nr_devices; i++)
        if (contains(&devices[i], a))
            return true;
    return false;
}

static bool inside_a_bank(const struct range *r)
{
    for (unsigned int i = 0; i < nr_banks; i++)
        if (r->start >= banks[i].start && r->end <= banks[i].end)
            return true;
    return false;
}

/* The part of a bank this guest can reach with its MMU off: below 4 GiB. */
static uint64_t reachable_end(const struct range *b)
{
    return b->end < FOUR_GIB ? b->end : FOUR_GIB;
}

static volatile uint32_t *word_at(uint64_t a)
{
    return (volatile uint32_t *)(uintptr_t)a;
}

/* ------------------------------------------------------------ entry */
static bool check_entry(void)
{
    const struct entry_state *e = &boot_entry;
    struct check c;
    struct probe_fault f;
    uint32_t first;
    bool dt_ok = false;

    say("# entry: r0 0x%08lx r1 0x%08lx r2 0x%08lx CPSR 0x%08lx SCTLR 0x%08lx, at 0x%08lx",
        e->r0, e->r1, e->r2, e->cpsr, e->sctlr, e->load_addr);
    check_begin(&c, "entry");
    if (e->r0 != 0)
        problem(&c, "r0 = 0x%08lx, expected 0", e->r0);
    if (e->r1 != 0xffffffffu)
        problem(&c, "r1 = 0x%08lx, expected 0xffffffff (a device tree in r2)", e->r1);
    if (e->r2 % 8 != 0) {
        problem(&c, "r2 = 0x%08lx is not 8-byte aligned as a device tree must be", e->r2);
    } else {
        probe_read32(e->r2, &first, &f);
        if (f.faulted) {
            problem(&c, "r2 = 0x%08lx cannot be read (DFSR 0x%03lx)", e->r2, f.fsr);
        } else {
            int err = fdt_check_header((const void *)(uintptr_t)e->r2);

            if (err != 0)
                problem(&c, "r2 = 0x%08lx holds no valid device tree: %s", e->r2,
                        fdt_strerror(err));
            else
                dt_ok = true;
        }
    }
    if ((e->cpsr & 0x1f) != 0x13)
        problem(&c, "CPSR 0x%08lx: mode 0x%02lx, expected SVC (0x13)", e->cpsr, e->cpsr & 0x1f);
    if ((e->cpsr & 0x1ff) != 0x1d3)
        problem(&c, "CPSR 0x%08lx: expected A, I and F masked, ARM state, SVC (low bits 0x1d3)",
                e->cpsr);
    if (e->sctlr & (1u << 0))
        problem(&c, "SCTLR 0x%08lx: the MMU is on", e->sctlr);
    if (e->sctlr & (1u << 2))
        problem(&c, "SCTLR 0x%08lx: the data cache is on", e->sctlr);
    if (e->sctlr & (1u << 1))
        problem(&c, "SCTLR 0x%08lx: alignment checking is on", e->sctlr);
    if (e->sctlr & (1u << 13))
        problem(&c, "SCTLR 0x%08lx: high vectors (V = 1): this guest's vectors are at VBAR",
                e->sctlr);
    if (e->load_addr != e->link_addr)
        problem(&c, "running at 0x%08lx, linked at 0x%08lx", e->load_addr, e->link_addr);
    check_end(&c);
    return dt_ok;
}

/* ------------------------------------------------------------ bootargs */
static uint64_t want_initrd_cksum, want_initrd_len, poke_addr;
static bool want_initrd_check, want_poke;

static uint64_t hang;         /* hang=: spin instead of giving a verdict */

static void check_bootargs(void)
{
    struct check c;
    enum bootarg_result rc, rl, rp, rs;

    check_begin(&c, "bootargs");
    rs = bootarg_u64(bootargs, "seed", &seed);
    if (rs == BOOTARG_BAD)
        problem(&c, "seed= is not a number");
    if (rs != BOOTARG_OK)
        seed = 1;
    rc = bootarg_u64(bootargs, "initrd_cksum", &want_initrd_cksum);
    rl = bootarg_u64(bootargs, "initrd_len", &want_initrd_len);
    if (rc == BOOTARG_BAD || rl == BOOTARG_BAD)
        problem(&c, "initrd_cksum= or initrd_len= is not a number");
    else if ((rc == BOOTARG_OK) != (rl == BOOTARG_OK))
        problem(&c, "initrd_cksum= and initrd_len= come together or not at all");
    else if (rc == BOOTARG_OK && want_initrd_cksum > 0xffffffffu)
        problem(&c, "initrd_cksum=%llu does not fit in 32 bits",
                (unsigned long long)want_initrd_cksum);
    want_initrd_check = rc == BOOTARG_OK && rl == BOOTARG_OK;
    rp = bootarg_u64(bootargs, "poke", &poke_addr);
    if (rp == BOOTARG_BAD)
        problem(&c, "poke= is not a number");
    want_poke = rp == BOOTARG_OK;
    if (bootarg_u64(bootargs, "hang", &hang) == BOOTARG_BAD)
        problem(&c, "hang= is not a number");
    say("# bootargs \"%s\": seed %llu%s", bootargs, (unsigned long long)seed,
        rs == BOOTARG_OK ? "" : " (no seed=: the default)");
    check_end(&c);
}

/* ------------------------------------------------------------ device tree */
static uint64_t read_cells(const fdt32_t *p, int n)
{
    uint64_t v = 0;

    for (int i = 0; i < n; i++)
        v = v << 32 | fdt32_to_cpu(p[i]);
    return v;
}

/* Appends the reg ranges of node to list; returns how many it could not hold. */
static unsigned int add_reg(int node, int ac, int sc, struct range *list, unsigned int *nr,
                            unsigned int max, struct check *c)
{
    int len;
    const fdt32_t *reg = fdt_getprop(fdt, node, "reg", &len);
    unsigned int dropped = 0;
    int entry = (ac + sc) * 4;

    if (reg == NULL || entry == 0)
        return 0;
    if (len % entry != 0)
        problem(c, "%s: reg of %d bytes is no whole number of (address, size) entries",
                fdt_get_name(fdt, node, NULL), len);
    for (int off = 0; off + entry <= len; off += entry) {
        const fdt32_t *p = reg + off / 4;
        uint64_t start = read_cells(p, ac), size = read_cells(p + ac, sc);

        if (*nr == max) {
            dropped++;
            continue;
        }
        list[*nr].start = start;
        list[*nr].end = start + size;
        (*nr)++;
    }
    return dropped;
}

static bool is_memory_node(int node)
{
    const char *name = fdt_get_name(fdt, node, NULL);
    const char *type = fdt_getprop(fdt, node, "device_type", NULL);

    return (type != NULL && strcmp(type, "memory") == 0) ||
           (name != NULL && strncmp(name, "memory", 6) == 0 && (name[6] == '@' || name[6] == '\0'));
}

/* A 32- or 64-bit /chosen property, as Linux reads linux,initrd-*. */
static bool chosen_number(int chosen, const char *prop, uint64_t *v)
{
    int len;
    const fdt32_t *p = fdt_getprop(fdt, chosen, prop, &len);

    if (p == NULL || (len != 4 && len != 8))
        return false;
    *v = read_cells(p, len / 4);
    return true;
}

static void check_dt(void)
{
    struct check c;
    int ac = fdt_address_cells(fdt, 0), sc = fdt_size_cells(fdt, 0);
    int node, chosen;
    unsigned int dropped = 0, dropped_devices = 0;

    check_begin(&c, "dt");
    if (ac != 2 || sc != 2)
        problem(&c, "root #address-cells %d, #size-cells %d, expected 2 and 2", ac, sc);
    if (ac < 1 || ac > 2 || sc < 1 || sc > 2) {
        problem(&c, "cannot read reg with these cell counts");
        check_end(&c);
        return;
    }
    fdt_for_each_subnode(node, fdt, 0) {
        if (is_memory_node(node))
            dropped += add_reg(node, ac, sc, banks, &nr_banks, MAX_BANKS, &c);
        else
            dropped_devices += add_reg(node, ac, sc, devices, &nr_devices, MAX_DEVICES, &c);
    }
    if (dropped != 0)
        problem(&c, "%u memory banks beyond the %d this guest checks", dropped, MAX_BANKS);
    /* Without them the guest could take a given device for a hole that must abort. */
    if (dropped_devices != 0)
        problem(&c, "%u device ranges beyond the %d this guest records", dropped_devices,
                MAX_DEVICES);
    if (nr_banks == 0)
        problem(&c, "no /memory node with a reg");
    for (unsigned int i = 0; i < nr_banks; i++) {
        const struct range *b = &banks[i];

        say("# bank %u: 0x%llx-0x%llx (%llu KiB)", i, (unsigned long long)b->start,
            (unsigned long long)b->end - 1, (unsigned long long)(b->end - b->start) / 1024);
        if (b->end <= b->start || b->start % PAGE_SIZE != 0 || b->end % PAGE_SIZE != 0)
            problem(&c, "bank %u (0x%llx, size 0x%llx) is empty or not page aligned", i,
                    (unsigned long long)b->start, (unsigned long long)(b->end - b->start));
        for (unsigned int j = 0; j < i; j++)
            if (overlaps(&banks[j], b->start, b->end))
                problem(&c, "banks %u and %u overlap", j, i);
    }
    for (unsigned int i = 0; i < nr_devices; i++)
        say("# device: 0x%llx-0x%llx", (unsigned long long)devices[i].start,
            (unsigned long long)devices[i].end - 1);

    chosen = fdt_path_offset(fdt, "/chosen");
    if (chosen < 0) {
        problem(&c, "no /chosen node");
    } else {
        int len;
        const char *args = fdt_getprop(fdt, chosen, "bootargs", &len);
        uint64_t s, e;
        bool has_s = chosen_number(chosen, "linux,initrd-start", &s);
        bool has_e = chosen_number(chosen, "linux,initrd-end", &e);

        if (args != NULL && len > 0 && args[len - 1] == '\0')
            bootargs = args;
        else if (args != NULL)
            problem(&c, "/chosen/bootargs is not a string");
        if (has_s != has_e) {
            problem(&c, "/chosen has only one of linux,initrd-start and linux,initrd-end");
        } else if (has_s) {
            initrd.start = s;
            initrd.end = e;
            have_initrd = e >= s;
            say("# initrd: 0x%llx-0x%llx (%llu bytes)", (unsigned long long)s,
                (unsigned long long)e, (unsigned long long)(e - s));
            if (e < s)
                problem(&c, "initrd ends (0x%llx) before it starts (0x%llx)",
                        (unsigned long long)e, (unsigned long long)s);
            else if (!inside_a_bank(&initrd) && e > s)
                problem(&c, "the initrd 0x%llx-0x%llx is not inside one RAM bank",
                        (unsigned long long)s, (unsigned long long)e);
        }
    }
    if (!inside_a_bank(&image))
        problem(&c, "the kernel 0x%llx-0x%llx is not inside one RAM bank",
                (unsigned long long)image.start, (unsigned long long)image.end);
    if (!inside_a_bank(&dtb))
        problem(&c, "the device tree 0x%llx-0x%llx is not inside one RAM bank",
                (unsigned long long)dtb.start, (unsigned long long)dtb.end);
    if (overlaps(&image, dtb.start, dtb.end))
        problem(&c, "the device tree overlaps the kernel");
    if (have_initrd && (overlaps(&initrd, image.start, image.end) ||
                        overlaps(&initrd, dtb.start, dtb.end)))
        problem(&c, "the initrd overlaps the kernel or the device tree");
    check_end(&c);
}

/* ------------------------------------------------------------ RAM */
/* Whether page can be read; reports it in c when not. */
static bool page_readable(struct check *c, uint64_t page)
{
    struct probe_fault f;
    uint32_t v;

    probe_read32((uint32_t)page, &v, &f);
    if (f.faulted)
        problem(c, "page 0x%08lx cannot be read (DFAR 0x%08lx DFSR 0x%03lx)", (uint32_t)page,
                f.far, f.fsr);
    return !f.faulted;
}

static void check_ram_zero(void)
{
    struct check c;
    uint32_t pages = 0, nonzero = 0;

    check_begin(&c, "ram_zero");
    for (unsigned int i = 0; i < nr_banks; i++) {
        const struct range *b = &banks[i];

        if (b->end > FOUR_GIB)
            problem(&c, "bank %u: 0x%llx-0x%llx lies above 4 GiB, out of reach with the MMU "
                    "off: not checked", i, (unsigned long long)(b->start > FOUR_GIB ? b->start
                    : FOUR_GIB), (unsigned long long)b->end - 1);
        for (uint64_t p = b->start; p < reachable_end(b); p += PAGE_SIZE) {
            volatile uint32_t *w = word_at(p);
            bool partly_loaded = page_holds_loaded(p);

            if (!page_readable(&c, p))
                continue;
            pages++;
            for (uint32_t k = 0; k < WORDS_PER_PAGE; k++) {
                uint32_t v;

                if (partly_loaded && loaded(p + 4 * k))
                    continue;
                v = w[k];
                if (v != 0) {
                    nonzero++;
                    problem(&c, "0x%08lx reads 0x%08lx, not 0: data of a previous owner?",
                            (uint32_t)p + 4 * k, v);
                }
            }
        }
    }
    say("# ram_zero: %u pages read, %u non-zero words outside the kernel, tree and initrd",
        (unsigned int)pages, (unsigned int)nonzero);
    check_end(&c);
}

/* Free pages: readable, and holding nothing that was loaded. */
static bool page_free(uint64_t page)
{
    struct probe_fault f;
    uint32_t v;

    if (page_holds_loaded(page))
        return false;
    probe_read32((uint32_t)page, &v, &f);
    return !f.faulted;
}

/*
 * Writes the pattern to every free page, then reads them all back: two
 * IPAs backed by one frame would show the later page's words in the
 * earlier one.
 */
static void check_ram_writable(void)
{
    struct check c;
    uint32_t pages = 0, key = ram_pattern_key(seed);

    check_begin(&c, "ram_writable");
    for (unsigned int i = 0; i < nr_banks; i++) {
        for (uint64_t p = banks[i].start; p < reachable_end(&banks[i]); p += PAGE_SIZE) {
            volatile uint32_t *w = word_at(p);
            struct probe_fault f;

            if (!page_free(p))
                continue;
            probe_write32((uint32_t)p, ram_pattern_keyed(key, (uint32_t)p), &f);
            if (f.faulted) {
                problem(&c, "page 0x%08lx cannot be written (DFSR 0x%03lx)", (uint32_t)p, f.fsr);
                continue;
            }
            for (uint32_t k = 1; k < WORDS_PER_PAGE; k++)
                w[k] = ram_pattern_keyed(key, (uint32_t)p + 4 * k);
            pages++;
        }
    }
    for (unsigned int i = 0; i < nr_banks; i++) {
        for (uint64_t p = banks[i].start; p < reachable_end(&banks[i]); p += PAGE_SIZE) {
            volatile uint32_t *w = word_at(p);

            if (!page_free(p))
                continue;
            for (uint32_t k = 0; k < WORDS_PER_PAGE; k++) {
                uint32_t a = (uint32_t)p + 4 * k, want = ram_pattern_keyed(key, a), got = w[k];

                if (got != want)
                    problem(&c, "0x%08lx reads 0x%08lx after 0x%08lx was written", a, got, want);
            }
        }
    }
    say("# ram_writable: %u free pages written and read back with seed %llu",
        (unsigned int)pages, (unsigned long long)seed);
    if (pages == 0)
        problem(&c, "no free page to write");
    check_end(&c);
}

static void expect_fault(struct check *c, const struct probe_fault *f, uint32_t addr, bool write)
{
    const char *what = write ? "write" : "read";

    if (!f->faulted) {
        problem(c, "a %s of 0x%08lx did not abort", what, addr);
        return;
    }
    if (f->far != addr)
        problem(c, "a %s of 0x%08lx aborted with DFAR 0x%08lx", what, addr, f->far);
    if ((f->fsr & FSR_FS_MASK) != FS_SYNC_EXTERNAL || (f->fsr & FSR_LPAE))
        problem(c, "a %s of 0x%08lx aborted with DFSR 0x%03lx, not a short-descriptor "
                "synchronous external abort (FS 0b01000)", what, addr, f->fsr);
    if (((f->fsr & FSR_WNR) != 0) != write)
        problem(c, "a %s of 0x%08lx aborted with DFSR 0x%03lx: WnR says %s", what, addr, f->fsr,
                (f->fsr & FSR_WNR) ? "write" : "read");
}

/*
 * Reads addr, then writes back whatever the read returned (so that an
 * address wrongly mapped loses nothing); both must abort.
 */
static void expect_abort(struct check *c, uint32_t addr, bool also_write)
{
    struct probe_fault f;
    uint32_t v = 0;

    probe_read32(addr, &v, &f);
    expect_fault(c, &f, addr, false);
    if (also_write) {
        probe_write32(addr, v, &f);
        expect_fault(c, &f, addr, true);
    }
}

static void touch_outside(struct check *c, uint64_t a, const char *where, unsigned int bank)
{
    if (a >= FOUR_GIB) {
        say("# ram_bounds: 0x%llx (%s bank %u) is above 4 GiB: not touched",
            (unsigned long long)a, where, bank);
        return;
    }
    if (given(a)) {
        say("# ram_bounds: 0x%08lx (%s bank %u) belongs to another bank or a device: not touched",
            (uint32_t)a, where, bank);
        return;
    }
    say("# ram_bounds: touching 0x%08lx (%s bank %u): a read and a write must both abort",
        (uint32_t)a, where, bank);
    expect_abort(c, (uint32_t)a, true);
}

static void check_ram_bounds(void)
{
    struct check c;

    check_begin(&c, "ram_bounds");
    for (unsigned int i = 0; i < nr_banks; i++) {
        if (banks[i].start >= 4)
            touch_outside(&c, banks[i].start - 4, "below", i);
        touch_outside(&c, banks[i].end, "above", i);
    }
    check_end(&c);

    check_begin(&c, "gic");
    if (given(GICD_IPA)) {
        struct probe_fault f;
        uint32_t v = 0;

        say("# gic: the tree gives the GIC: reading 0x%08x (its distributor) must not fault",
            GICD_IPA);
        probe_read32(GICD_IPA, &v, &f);
        if (f.faulted)
            problem(&c, "reading the given distributor at 0x%08x faulted", GICD_IPA);
        /*
         * The hypervisor has its Hyp timer and maintenance interrupt enabled on this CPU;
         * the distributor it lets the guest see never shows them.
         */
        say("# gic: ISENABLER0 must not show the hypervisor's PPIs 25 and 26");
        probe_read32(GICD_IPA + GICD_ISENABLER0, &v, &f);
        if (f.faulted)
            problem(&c, "reading ISENABLER0 at 0x%08x faulted", GICD_IPA + GICD_ISENABLER0);
        else if (v & HYP_PPIS)
            problem(&c, "ISENABLER0 reads 0x%08lx: the hypervisor's PPIs show", (unsigned long)v);
        say("# gic: reading 0x%08x (the CPU interface: the virtual one) must not fault",
            GICC_IPA);
        probe_read32(GICC_IPA, &v, &f);
        if (f.faulted)
            problem(&c, "reading the given CPU interface at 0x%08x faulted", GICC_IPA);
    } else {
        say("# gic: reading 0x%08x (QEMU's GIC distributor, not given), which must abort",
            GICD_IPA);
        expect_abort(&c, GICD_IPA, false);
    }
    /* Even a guest given the GIC must not reach the hypervisor's interface to it. */
    say("# gic: reading 0x%08x (the GIC's hypervisor interface), which must abort", GICH_IPA);
    if (given(GICH_IPA))
        problem(&c, "the tree gives 0x%08x, the GIC's hypervisor interface", GICH_IPA);
    else
        expect_abort(&c, GICH_IPA, false);
    check_end(&c);
}

/*
 * mov r0, #42; bx lr, as words: executable code is only what the CPU
 * fetches, so it must not come from this image (the hypervisor could map
 * the kernel's pages executable and the rest not).
 */
static const uint32_t answer_code[] = { 0xe3a0002au, 0xe12fff1eu };

static void check_exec(void)
{
    struct check c;
    uint64_t page = 0;

    check_begin(&c, "exec");
    for (unsigned int i = 0; i < nr_banks; i++)
        for (uint64_t p = banks[i].start; p < reachable_end(&banks[i]); p += PAGE_SIZE)
            if (p > page && page_free(p))
                page = p;
    if (page == 0) {
        problem(&c, "no free page to run code in");
    } else {
        volatile uint32_t *w = word_at(page);
        uint32_t r;

        for (unsigned int k = 0; k < 2; k++)
            w[k] = answer_code[k];
        sync_code((uint32_t)page, sizeof(answer_code));
        say("# exec: calling mov r0, #42; bx lr at 0x%08lx", (uint32_t)page);
        r = probe_exec((uint32_t)page);
        if (exec_probe.fault.faulted)
            problem(&c, "fetching from 0x%08lx aborted (IFAR 0x%08lx IFSR 0x%03lx)",
                    (uint32_t)page, exec_probe.fault.far, exec_probe.fault.fsr);
        else if (r != 42)
            problem(&c, "the code at 0x%08lx returned %u, expected 42", (uint32_t)page,
                    (unsigned int)r);
    }
    check_end(&c);
}

static void check_initrd(void)
{
    struct check c;

    if (!want_initrd_check) {
        say("# initrd: no initrd_cksum= and initrd_len= in bootargs: not checked");
        return;
    }
    check_begin(&c, "initrd");
    if (!have_initrd) {
        problem(&c, "bootargs give initrd_cksum= but /chosen has no initrd");
    } else if (initrd.end - initrd.start != want_initrd_len) {
        problem(&c, "the initrd is %llu bytes, initrd_len= says %llu",
                (unsigned long long)(initrd.end - initrd.start),
                (unsigned long long)want_initrd_len);
    } else if (initrd.end > FOUR_GIB) {
        problem(&c, "the initrd lies above 4 GiB, out of reach with the MMU off");
    } else {
        uint32_t sum = posix_cksum((const void *)(uintptr_t)initrd.start,
                                   (size_t)(initrd.end - initrd.start));

        say("# initrd: cksum %u over %llu bytes", (unsigned int)sum,
            (unsigned long long)(initrd.end - initrd.start));
        if (sum != want_initrd_cksum)
            problem(&c, "cksum %u, initrd_cksum= says %llu", (unsigned int)sum,
                    (unsigned long long)want_initrd_cksum);
    }
    check_end(&c);
}

/* ------------------------------------------------------------ UART */
static int stdout_node(void)
{
    int chosen = fdt_path_offset(fdt, "/chosen"), len;
    const char *path = chosen < 0 ? NULL : fdt_getprop(fdt, chosen, "stdout-path", &len);
    const char *colon;
    int namelen;

    if (path == NULL)
        return -1;
    /* "path[:options]"; a path not starting with '/' is an alias. */
    colon = strchr(path, ':');
    namelen = colon != NULL ? (int)(colon - path) : (int)strlen(path);
    if (path[0] != '/') {
        path = fdt_get_alias_namelen(fdt, path, namelen);
        if (path == NULL)
            return -1;
        namelen = (int)strlen(path);
    }
    return fdt_path_offset_namelen(fdt, path, namelen);
}

static void check_uart(void)
{
    static const char hello[] = "testguest: hello through the passed-through UART\n";
    struct check c;
    int node = stdout_node(), len;
    const fdt32_t *reg;
    uint32_t base;

    if (node < 0) {
        say("# uart: /chosen/stdout-path names no node: no UART given");
        return;
    }
    check_begin(&c, "uart");
    reg = fdt_getprop(fdt, node, "reg", &len);
    if (fdt_node_check_compatible(fdt, node, "arm,pl011") != 0) {
        problem(&c, "stdout-path names %s, which is no arm,pl011", fdt_get_name(fdt, node, NULL));
    } else if (reg == NULL || len < 16 || read_cells(reg, 2) >= FOUR_GIB) {
        problem(&c, "the PL011 has no usable reg");
    } else {
        base = (uint32_t)read_cells(reg, 2);
        say("# uart: writing a line to the PL011 at 0x%08lx", base);
        for (const char *s = hello; *s != '\0' && c.problems == 0; s++) {
            struct probe_fault f;
            uint32_t fr = PL011_TXFF;

            for (uint32_t tries = 0; tries < 1000000 && (fr & PL011_TXFF); tries++) {
                probe_read32(base + PL011_FR, &fr, &f);
                if (f.faulted) {
                    problem(&c, "reading UARTFR at 0x%08lx aborted", base + PL011_FR);
                    break;
                }
            }
            if (c.problems != 0)
                break;
            if (fr & PL011_TXFF) {
                problem(&c, "UARTFR.TXFF stayed set: the transmit FIFO never drained");
                break;
            }
            probe_write32(base + PL011_DR, (uint8_t)*s, &f);
            if (f.faulted)
                problem(&c, "writing UARTDR at 0x%08lx aborted", base + PL011_DR);
        }
    }
    check_end(&c);
}

static void check_poke(void)
{
    struct check c;

    if (!want_poke)
        return;
    check_begin(&c, "poke");
    if (poke_addr > 0xfffffffcu || poke_addr % 4 != 0) {
        problem(&c, "poke=0x%llx is not an aligned address below 4 GiB",
                (unsigned long long)poke_addr);
    } else {
        say("# poke: reading 0x%08lx, which must abort", (uint32_t)poke_addr);
        expect_abort(&c, (uint32_t)poke_addr, false);
    }
    check_end(&c);
}

void guest_main(void)
{
    say("testguest: checking what the hypervisor gave this domain");
    if (!check_entry())
        conclude();     /* without a device tree nothing else can be checked */
    fdt = (const void *)(uintptr_t)boot_entry.r2;
    image.start = (uintptr_t)_start;
    image.end = (uintptr_t)_image_end;
    dtb.start = boot_entry.r2;
    dtb.end = dtb.start + fdt_totalsize(fdt);
    check_dt();
    check_bootargs();
    if (nr_banks == 0)
        conclude();
    check_ram_zero();
    check_ram_writable();
    check_ram_bounds();
    check_exec();
    check_initrd();
    check_psci(fdt);
    check_uart();
    check_poke();
    if (hang) {
        say("testguest: hang=%llu: no verdict; spinning for ever with interrupts masked",
            (unsigned long long)hang);
        __asm__ volatile("cpsid if");
        for (;;)
            __asm__ volatile("" ::: "memory");
    }
    conclude();
}
