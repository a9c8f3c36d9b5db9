/*
 * The host side of the page-table seam (include/arch/pt.h), plus the
 * recording and the software MMU described in arch/host/include/host/pt.h.
 *
 * The software MMU in brief: the vmap window's host addresses start out
 * PROT_NONE. A SIGSEGV there is a TLB miss: walk the tables the way the
 * hardware would (straight to physical memory, no map_domain_page), and if
 * the entry is valid and points at fake RAM, map the same page of the RAM's
 * memory file at the faulting address (read-only if the entry says so);
 * then return and let the access retry. A flush puts PROT_NONE back over
 * the range. A page that is aliased and still faults can only be a write
 * to a read-only entry: a permission fault.
 *
 * host/machine.h gives the RAM's host address, not its file, so the file is
 * found the way a debugger would: the inode of the mapping that holds that
 * address (/proc/self/maps), then the open file with that inode
 * (/proc/self/fd). (Duplicating the mapping with mremap(old_size = 0) would
 * be simpler, but valgrind, which the host benchmarks run under, refuses
 * it.)
 *
 * Only touched pages are aliased, so filling the whole window with mappings
 * costs the host nothing until they are used (the kernel's limit on mappings
 * per process would not allow one host mapping per vmap page).
 */
#define _GNU_SOURCE
#include <arch/pt.h>
#include <dirent.h>
#include <fcntl.h>
#include <host/machine.h>
#include <host/pt.h>
#include <lib/errno.h>
#include <lib/lib.h>
#include <mm/domain_page.h>
#include <mm/vmap.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define WINDOW_PAGES ((HOST_VMAP_END - HOST_VMAP_START) >> PAGE_SHIFT)
#define BITS_PER_WORD (8 * sizeof(unsigned long))

/* The shared level-2 tables of slots 0 and 1 (the image's are static too). */
static lpae_t host_second[2][LPAE_ENTRIES] __attribute__((aligned(4096)));

static struct host_pt_event *log_buf;
static unsigned int log_capacity, log_count;
static bool log_overflow;

static bool window_reserved, window_ready;
static unsigned long aliased[WINDOW_PAGES / BITS_PER_WORD];
static unsigned long nr_aliased;
static struct sigaction previous_segv;

struct host_fault host_last_fault;
static sigjmp_buf probe_env;
static volatile sig_atomic_t probe_active;

/* --- recording ------------------------------------------------------------------- */

static void record(enum host_pt_event_kind kind, const lpae_t *entry, lpae_t old, lpae_t value,
                   vaddr_t va, unsigned long nr, unsigned int level)
{
    unsigned int live = 0;

    if (!log_buf)
        return;
    if (log_count == log_capacity) {
        log_overflow = true;
        return;
    }
    if (kind == HOST_PT_WRITE && lpae_is_table(old, level)) {
        const lpae_t *below = host_machine_ram(lpae_paddr(old));

        for (unsigned int i = 0; below && i < LPAE_ENTRIES; i++)
            live += lpae_is_valid(below[i]);
    }
    log_buf[log_count++] = (struct host_pt_event){ kind, entry, old, value, va, nr, level, live };
}

void host_pt_log_start(struct host_pt_event *buf, unsigned int capacity)
{
    log_buf = buf;
    log_capacity = capacity;
    log_count = 0;
    log_overflow = false;
}

unsigned int host_pt_log_stop(bool *overflow)
{
    log_buf = NULL;
    if (overflow)
        *overflow = log_overflow;
    return log_count;
}

/* --- the software TLB ------------------------------------------------------------ */

static void drop_aliases(vaddr_t start, vaddr_t end)
{
    unsigned long first, last, any = 0;

    if (!window_ready || end <= HOST_VMAP_START || start >= HOST_VMAP_END || !nr_aliased)
        return;
    start = max(start, HOST_VMAP_START);
    end = min(end, HOST_VMAP_END);
    first = (start - HOST_VMAP_START) >> PAGE_SHIFT;
    last = (end - 1 - HOST_VMAP_START) >> PAGE_SHIFT;
    for (unsigned long i = first; i <= last;) {
        unsigned long *word = &aliased[i / BITS_PER_WORD];
        unsigned long n = min(last + 1 - i, BITS_PER_WORD - i % BITS_PER_WORD);
        unsigned long mask = (n == BITS_PER_WORD ? ~0UL : (1UL << n) - 1) << (i % BITS_PER_WORD);

        any += (unsigned long)__builtin_popcountl(*word & mask);
        *word &= ~mask;
        i += n;
    }
    if (!any)
        return;
    nr_aliased -= any;
    start = HOST_VMAP_START + (first << PAGE_SHIFT);
    end = HOST_VMAP_START + ((last + 1) << PAGE_SHIFT);
    if (mmap((void *)start, end - start, PROT_NONE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0) == MAP_FAILED)
        panic("host MMU: cannot drop the host mappings of 0x%lx-0x%lx", (unsigned long)start,
              (unsigned long)end);
}

/* The file behind the RAM mapping at host address ram, and the offset of ram in it. */
static int ram_file(const void *ram, off_t *offset)
{
    static struct { uintptr_t start, end; off_t offset; ino_t ino; int fd; } cache[8];
    static unsigned int next;
    uintptr_t a = (uintptr_t)ram;
    unsigned long start, end, off, ino;
    char line[512];
    struct stat st;
    bool found = false;
    FILE *maps;
    DIR *fds;
    struct dirent *d;
    int fd = -1;

    for (unsigned int i = 0; i < ARRAY_SIZE(cache); i++) {
        if (cache[i].end && a >= cache[i].start && a < cache[i].end &&
            fstat(cache[i].fd, &st) == 0 && st.st_ino == cache[i].ino) {
            *offset = cache[i].offset + (off_t)(a - cache[i].start);
            return cache[i].fd;
        }
    }
    maps = fopen("/proc/self/maps", "r");
    if (!maps)
        return -1;
    while (!found && fgets(line, sizeof(line), maps))
        found = sscanf(line, "%lx-%lx %*s %lx %*s %lu", &start, &end, &off, &ino) == 4 &&
                a >= start && a < end && ino != 0;
    fclose(maps);
    fds = found ? opendir("/proc/self/fd") : NULL;
    while (fds && fd < 0 && (d = readdir(fds))) {
        int n = atoi(d->d_name);

        if (d->d_name[0] != '.' && n != dirfd(fds) && fstat(n, &st) == 0 &&
            st.st_ino == (ino_t)ino && S_ISREG(st.st_mode))
            fd = n;
    }
    if (fds)
        closedir(fds);
    if (fd < 0)
        return -1;
    cache[next].start = start;
    cache[next].end = end;
    cache[next].offset = (off_t)off;
    cache[next].ino = (ino_t)ino;
    cache[next].fd = fd;
    next = (next + 1) % ARRAY_SIZE(cache);
    *offset = (off_t)off + (off_t)(a - start);
    return fd;
}

/* Makes host page `page` show the RAM page at host address ram. */
static bool alias(vaddr_t page, const void *ram, bool read_only)
{
    off_t offset;
    int fd = ram_file(ram, &offset);

    return fd >= 0 && mmap((void *)page, PAGE_SIZE, read_only ? PROT_READ : PROT_READ | PROT_WRITE,
                           MAP_SHARED | MAP_FIXED, fd, offset) != MAP_FAILED;
}

/* The hardware walk: physical memory directly, no locks, no map_domain_page. */
static lpae_t hardware_walk(vaddr_t va, unsigned int *level)
{
    lpae_t e = host_second[va >> LPAE_L1_SHIFT][lpae_index(2, va)];
    const lpae_t *third;

    *level = 2;
    if (!lpae_is_table(e, 2))
        return e;
    third = host_machine_ram(lpae_paddr(e));
    *level = 3;
    return third ? third[lpae_index(3, va)] : 0;
}

static bool under_valgrind;
#define VALGRIND_HINT "host MMU: under valgrind, the software MMU needs " \
                      "--px-file-backed=allregs-at-mem-access\n"

static void report_and_die(const struct host_fault *f)
{
    static const char *const kind[] = { "translation", "permission", "non-RAM" };
    char what[120] = "";
    char line[300];
    int n;

    vm_describe((const void *)f->va, what, sizeof(what));
    n = snprintf(line, sizeof(line),
                 "host MMU: unexpected %s fault at va 0x%lx (level %u)%s%s\n", kind[f->kind],
                 (unsigned long)f->va, f->level, what[0] ? ": " : "", what);
    if (n > 0)
        (void)!write(STDERR_FILENO, line, (size_t)min(n, (int)sizeof(line) - 1));
    /*
     * Valgrind resumes a handled fault with registers as they were at the
     * start of the faulting block unless told to keep them exact; the
     * access then retries from a wrong address, which lands here.
     */
    if (under_valgrind)
        (void)!write(STDERR_FILENO, VALGRIND_HINT, sizeof(VALGRIND_HINT) - 1);
}

static void segv_handler(int sig, siginfo_t *si, void *context)
{
    vaddr_t a = (vaddr_t)si->si_addr;

    if (window_ready && a >= HOST_VMAP_START && a < HOST_VMAP_END) {
        vaddr_t page = a & PAGE_MASK;
        unsigned long i = (page - HOST_VMAP_START) >> PAGE_SHIFT;
        unsigned long bit = 1UL << (i % BITS_PER_WORD);
        struct host_fault f = { .va = a };
        unsigned int level;
        lpae_t e = hardware_walk(page, &level);

        f.level = level;
        if (aliased[i / BITS_PER_WORD] & bit) {
            f.kind = HOST_FAULT_PERMISSION;
        } else if (!lpae_is_mapping(e, level)) {
            f.kind = HOST_FAULT_TRANSLATION;
        } else {
            paddr_t pa = (lpae_paddr(e) & ~(paddr_t)(lpae_level_size(level) - 1)) |
                         (page & (lpae_level_size(level) - 1));
            void *ram = host_machine_ram(pa);

            f.kind = HOST_FAULT_NOT_RAM;
            if (ram && alias(page, ram, e & LPAE_AP_RO)) {
                aliased[i / BITS_PER_WORD] |= bit;
                nr_aliased++;
                return;     /* the access retries through the new "TLB entry" */
            }
        }
        if (probe_active) {
            f.count = host_last_fault.count + 1;
            host_last_fault = f;
            probe_active = 0;
            siglongjmp(probe_env, 1);
        }
        report_and_die(&f);
    }

    /* Not ours (or fatal): whoever handled SIGSEGV before (ASan) reports it. */
    sigaction(SIGSEGV, &previous_segv, NULL);
    if ((previous_segv.sa_flags & SA_SIGINFO) && previous_segv.sa_sigaction)
        previous_segv.sa_sigaction(sig, si, context);
    /* With the default action restored, returning re-executes the access and dies. */
}

/*
 * The window is reserved before main() (and before the constructor that
 * builds the test machine): under valgrind, the host's own mappings start
 * low in the address space and could otherwise take these addresses first.
 * The signal handler is installed on first use, after the sanitizers have
 * installed theirs, so that faults outside the window still reach them.
 */
__attribute__((constructor(101))) static void reserve_window(void)
{
    void *p = mmap((void *)HOST_VMAP_START, HOST_VMAP_END - HOST_VMAP_START, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
    const char *preload = getenv("LD_PRELOAD");

    under_valgrind = preload && strstr(preload, "vgpreload");
    if (p == (void *)HOST_VMAP_START)
        window_reserved = true;
    else if (p != MAP_FAILED)
        munmap(p, HOST_VMAP_END - HOST_VMAP_START);     /* an old kernel took it as a hint */
}

static void window_init(void)
{
    struct sigaction sa;

    if (window_ready)
        return;
    if (!window_reserved) {
        fprintf(stderr, "host MMU: cannot reserve host addresses 0x%lx-0x%lx for the vmap "
                "window (something else is mapped there)\n", HOST_VMAP_START, HOST_VMAP_END);
        exit(3);
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = segv_handler;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &previous_segv);
    window_ready = true;
}

unsigned long host_mmu_cached_pages(void)
{
    return nr_aliased;
}

int host_probe_read32(const volatile void *va, uint32_t *value)
{
    if (sigsetjmp(probe_env, 1))
        return -EFAULT;
    probe_active = 1;
    *value = *(const volatile uint32_t *)va;
    probe_active = 0;
    return 0;
}

int host_probe_write32(volatile void *va, uint32_t value)
{
    if (sigsetjmp(probe_env, 1))
        return -EFAULT;
    probe_active = 1;
    *(volatile uint32_t *)va = value;
    probe_active = 0;
    return 0;
}

/* --- arch/pt.h -------------------------------------------------------------------- */

lpae_t *arch_pt_second(unsigned int slot)
{
    return slot < 2 ? host_second[slot] : NULL;
}

lpae_t *arch_pt_map_table(paddr_t pa)
{
    return map_domain_page(paddr_to_mfn(pa));
}

void arch_pt_unmap_table(lpae_t *table)
{
    unmap_domain_page(table);
}

void arch_pt_write(lpae_t *entry, lpae_t value, vaddr_t va, unsigned int level)
{
    record(HOST_PT_WRITE, entry, *entry, value, va, 1, level);
    __atomic_store_n(entry, value, __ATOMIC_RELAXED);
}

void arch_pt_barrier(void)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    record(HOST_PT_DSB, NULL, 0, 0, 0, 0, 0);
}

void arch_pt_flush_tlb(vaddr_t va, unsigned long nr, unsigned int level)
{
    record(HOST_PT_TLBI, NULL, 0, 0, va, nr, level);
    drop_aliases(va, va + (nr << lpae_level_shift(level)));
    record(HOST_PT_DSB, NULL, 0, 0, 0, 0, 0);
}

void arch_pt_sync_exec(void)
{
    record(HOST_PT_SYNC_EXEC, NULL, 0, 0, 0, 0, 0);
}

void arch_vmap_window(vaddr_t *start, vaddr_t *end)
{
    window_init();
    *start = HOST_VMAP_START;
    *end = HOST_VMAP_END;
}
