/*
 * The vmap region (see vmap.h): a bitmap allocator of virtual pages, whose
 * bitmap lives at the start of the region it describes, and the mapping
 * functions built on it.
 *
 * Bit i is set when page i of the region is taken. Pages 0 .. B-1 hold the
 * bitmap itself (B pages for the whole region; their bits are set from the
 * start, whether mapped or not), page B is the bitmap's guard. Every
 * allocation is a run of set bits, and the invariant that makes the bitmap
 * self-describing is:
 *
 *     the bit just before and the bit just after every allocation are clear.
 *
 * The clear bit after an allocation is its guard page; the one before is
 * the guard of whatever precedes it. So an allocation's size is the length
 * of its run of set bits, and an address is the start of an allocation
 * exactly when its bit is set and the previous one is clear: vm_free can
 * tell a real allocation from the middle of one, a guard, or free space.
 * To keep the invariant, a new allocation of n pages at s needs bits
 * s-1 .. s+n clear: n + 2 clear bits, of which the outer two may be shared
 * with neighbours. Consecutive one-page allocations therefore take every
 * other page.
 *
 * The bitmap grows a page at a time (each page describes 128 MiB): only
 * bits below `top` are backed by mapped bitmap pages, and an allocation
 * that needs a bit at or above top maps the next page first. Each bitmap
 * page counts its set bits; when the last mapped page's count drops to
 * zero it is unmapped and its frame returned, so that freeing everything
 * gives the heap back exactly what it had.
 *
 * `low` is a search hint: no allocation can start at or before it (every
 * clear bit below it is a lone guard). An allocation placed right at the
 * first free run after the hint moves it to its own guard; a free moves it
 * down. Filling the region one page at a time is then constant time per
 * allocation.
 *
 * Quarantine (use after free): a freed range is not handed out again at
 * once. Its bits stay set, so no allocation can take it and its guards stay
 * in place, and it waits in a FIFO of the last `depth` frees; the free that
 * finds the FIFO full clears the oldest range's bits. A stale pointer into
 * a range freed less than `depth` frees ago therefore faults (the range is
 * unmapped) instead of reaching the next owner's page, and vm_describe()
 * names it as freed. Only address space waits, never memory: vfree gives
 * the frames back at once. The FIFO is short and bounded (VM_QUARANTINE_MAX
 * ranges): it must not pin much of the region, and the first-fit search
 * steps over each waiting range. When nothing fits, vm_alloc empties the
 * quarantine and searches again before it gives up, so the quarantine never
 * makes an allocation fail. Debug builds quarantine VM_QUARANTINE_MAX
 * frees, release builds none (docs/benchmarks.md has what it costs).
 *
 * Lock order: vm lock, then the page-table lock, then the heap lock. The vm
 * lock is released before any panic, so a caught panic leaves a usable
 * allocator.
 */
#include <arch/mm.h>
#include <arch/pt.h>
#include <domain/vcpu.h>
#include <lib/lib.h>
#include <lib/spinlock.h>
#include <mm/mm.h>
#include <mm/page_alloc.h>
#include <mm/pdx.h>
#include <mm/pt.h>
#include <mm/vmap.h>
#include <string.h>
#include <test/hooks.h>

#define BITS_PER_WORD   (8 * sizeof(unsigned long))
#define BITS_PER_PAGE   (PAGE_SIZE * 8)
/* Enough for a region of the whole 4 GiB: 2^20 pages / 32768 bits per page. */
#define VM_MAX_BITMAP_PAGES 32
/* vfree unmaps this many pages at a time, remembering their frames on the stack. */
#define VFREE_BATCH     32
#ifdef CONFIG_DEBUG
#define VM_QUARANTINE_DEFAULT VM_QUARANTINE_MAX
#else
#define VM_QUARANTINE_DEFAULT 0
#endif

static struct {
    spinlock_t lock;
    bool ready;
    vaddr_t base;                   /* first address of the region */
    unsigned long end;              /* pages in the region */
    unsigned long top;              /* bits backed by mapped bitmap pages */
    unsigned long low;              /* search hint, see above */
    unsigned int bitmap_pages;      /* B */
    unsigned int mapped;            /* bitmap pages mapped: top = min(mapped * 32768, end) */
    unsigned int used[VM_MAX_BITMAP_PAGES];     /* set bits per bitmap page */
    unsigned long allocations, pages;
    /* Freed ranges whose bits are still set, oldest at q_first (see above). */
    struct {
        unsigned long start, pages;
    } quarantine[VM_QUARANTINE_MAX];
    unsigned int q_first, q_count;
    unsigned int q_depth;           /* how many frees wait; at most VM_QUARANTINE_MAX */
} vm = { .lock = SPIN_LOCK_UNLOCKED, .q_depth = VM_QUARANTINE_DEFAULT };

/* --- the bitmap ---------------------------------------------------------------- */

static inline unsigned long *bitmap(void)
{
    return (unsigned long *)vm.base;
}

static inline bool test_bit_(unsigned long i)
{
    return (bitmap()[i / BITS_PER_WORD] >> (i % BITS_PER_WORD)) & 1;
}

/* Sets (or clears) bits [s, s + n), all below top, keeping the per-page counts. */
static void change_range(unsigned long s, unsigned long n, bool set)
{
    unsigned long *map = bitmap();
    unsigned long i = s, end = s + n;

    while (i < end) {
        unsigned long page_end = min(ROUNDDOWN(i, BITS_PER_PAGE) + BITS_PER_PAGE, end);
        unsigned int page = (unsigned int)(i / BITS_PER_PAGE);

        if (set)
            vm.used[page] += (unsigned int)(page_end - i);
        else
            vm.used[page] -= (unsigned int)(page_end - i);
        while (i < page_end) {
            unsigned int bit = i % BITS_PER_WORD;
            unsigned long count = min(page_end - i, (unsigned long)(BITS_PER_WORD - bit));
            unsigned long mask = (count == BITS_PER_WORD ? ~0UL : ((1UL << count) - 1)) << bit;

            if (set)
                map[i / BITS_PER_WORD] |= mask;
            else
                map[i / BITS_PER_WORD] &= ~mask;
            i += count;
        }
    }
}

/* First bit in [from, limit) that is set (want_set) or clear; limit if none. */
static unsigned long find_next(unsigned long from, unsigned long limit, bool want_set)
{
    const unsigned long *map = bitmap();
    unsigned long i = from;

    while (i < limit) {
        unsigned long word = map[i / BITS_PER_WORD];

        if (!want_set)
            word = ~word;
        word &= ~0UL << (i % BITS_PER_WORD);
        if (word) {
            i = ROUNDDOWN(i, BITS_PER_WORD) + (unsigned long)__builtin_ctzl(word);
            return min(i, limit);
        }
        i = ROUNDDOWN(i, BITS_PER_WORD) + BITS_PER_WORD;
    }
    return limit;
}

static vaddr_t page_va(unsigned long i)
{
    return vm.base + (i << PAGE_SHIFT);
}

/* Maps the next bitmap page. Vm lock held. */
static bool grow(void)
{
    unsigned int k = vm.mapped;
    struct page_info *pg;

    BUG_ON(k >= vm.bitmap_pages);
    pg = alloc_domheap_page(NULL, MEMF_no_scrub);   /* cleared below */
    if (!pg)
        return false;
    if (map_pages_to_xen(page_va(k), page_to_mfn(pg), 1, PAGE_HYPERVISOR_RW)) {
        free_domheap_page(pg);
        return false;
    }
    memset((void *)page_va(k), 0, PAGE_SIZE);
    vm.used[k] = 0;
    vm.mapped++;
    vm.top = min((unsigned long)vm.mapped * BITS_PER_PAGE, vm.end);
    return true;
}

/* Unmaps bitmap pages at the end that describe nothing in use. Vm lock held. */
static void shrink(void)
{
    while (vm.mapped > 1 && vm.used[vm.mapped - 1] == 0) {
        unsigned int k = vm.mapped - 1;
        paddr_t pa = pt_translate(page_va(k));

        BUG_ON(pa == PT_NO_PADDR);
        BUG_ON(destroy_xen_mappings(page_va(k), page_va(k + 1)) != 0);
        free_domheap_page(maddr_to_page(pa));
        vm.mapped = k;
        vm.top = (unsigned long)k * BITS_PER_PAGE;
        vm.low = min(vm.low, vm.top);
    }
}

/* --- the quarantine -------------------------------------------------------------- */

/* Whether a freed range waiting in the quarantine starts at page s. */
static bool quarantined(unsigned long s)
{
    for (unsigned int k = 0; k < vm.q_count; k++)
        if (vm.quarantine[(vm.q_first + k) % VM_QUARANTINE_MAX].start == s)
            return true;
    return false;
}

/* Clears the bits of pages [s, s + n): they may be handed out again. Vm lock held. */
static void release_range(unsigned long s, unsigned long n)
{
    change_range(s, n, false);
    vm.low = min(vm.low, s - 1);
    shrink();
}

/* Releases the oldest waiting range. Vm lock held. */
static void quarantine_pop(void)
{
    unsigned long s = vm.quarantine[vm.q_first].start, n = vm.quarantine[vm.q_first].pages;

    vm.q_first = (vm.q_first + 1) % VM_QUARANTINE_MAX;
    vm.q_count--;
    release_range(s, n);
}

/* Releases every waiting range, oldest first. Vm lock held. */
static void quarantine_flush(void)
{
    while (vm.q_count)
        quarantine_pop();
}

/* --- describing an address ----------------------------------------------------------- */

static bool bit_set(unsigned long i)
{
    return i < vm.top && test_bit_(i);
}

/* Start of the run of set bits holding i (i set). */
static unsigned long run_start(unsigned long i)
{
    while (i > 0 && bit_set(i - 1))
        i--;
    return i;
}

static unsigned long run_length(unsigned long s)
{
    return find_next(s, vm.top, false) - s;
}

/* What page i of the region is, in words, for messages. */
static void describe_index(unsigned long i, char *buf, size_t size)
{
    if (i < vm.bitmap_pages) {
        fmt_snprintf(buf, size, "page %lu of the vmap bitmap", i);
    } else if (bit_set(i)) {
        unsigned long s = run_start(i);

        fmt_snprintf(buf, size, "page %lu of the %s%lu-page allocation at 0x%lx%s", i - s,
                     quarantined(s) ? "freed " : "", run_length(s), (unsigned long)page_va(s),
                     quarantined(s) ? " (in quarantine: a use after free)" : "");
    } else if (i > 0 && bit_set(i - 1)) {
        unsigned long s = run_start(i - 1);

        if (s == 0)
            fmt_snprintf(buf, size, "the guard page after the vmap bitmap");
        else
            fmt_snprintf(buf, size, "the guard page after the %s%lu-page allocation at 0x%lx",
                         quarantined(s) ? "freed " : "", run_length(s),
                         (unsigned long)page_va(s));
    } else {
        fmt_snprintf(buf, size, "free vmap space");
    }
}

bool vm_describe(const void *va, char *buf, size_t size)
{
    vaddr_t v = (vaddr_t)va;

    if (!vm.ready || v < vm.base || ((v - vm.base) >> PAGE_SHIFT) >= vm.end)
        return false;
    describe_index((v - vm.base) >> PAGE_SHIFT, buf, size);
    return true;
}

/*
 * The index of the allocation that starts at va, or a panic that says what
 * va is instead. Vm lock held; released before the panic.
 */
static unsigned long allocation_at(const char *who, const void *va)
{
    vaddr_t v = (vaddr_t)va;
    unsigned long i;
    char what[96];

    if (!vm.ready) {
        spin_unlock(&vm.lock);
        panic("%s(%p): vm_init() has not run", who, va);
    }
    if (v < vm.base || ((v - vm.base) >> PAGE_SHIFT) >= vm.end) {
        spin_unlock(&vm.lock);
        panic("%s(%p): not a vmap address (the region is 0x%lx-0x%lx)", who, va,
              (unsigned long)vm.base, (unsigned long)page_va(vm.end));
    }
    i = (v - vm.base) >> PAGE_SHIFT;
    if (v & ~PAGE_MASK) {
        describe_index(i, what, sizeof(what));
        spin_unlock(&vm.lock);
        panic("%s(%p): not page aligned, so not an address vmap handed out (%s)", who, va,
              what);
    }
    if (i < vm.bitmap_pages || !bit_set(i) || bit_set(i - 1)) {
        describe_index(i, what, sizeof(what));
        spin_unlock(&vm.lock);
        panic("%s(%p): not an address vmap handed out: it is %s", who, va, what);
    }
    if (quarantined(i)) {
        unsigned long n = run_length(i);

        spin_unlock(&vm.lock);
        panic("%s(%p): already freed: the %lu-page allocation at %p was freed and waits in "
              "the quarantine; nothing changed", who, va, n, va);
    }
    return i;
}

/* --- what kind an allocation is ------------------------------------------------------ */

/* Each kind, for messages, and the function that frees it. */
static const struct {
    const char *what;
    const char *freed_by;
} kinds[] = {
    [VM_VMAP] = { "a vmap mapping", "vunmap" },
    [VM_VMALLOC] = { "a vmalloc allocation", "vfree" },
    [VM_IOREMAP] = { "an ioremap mapping", "iounmap" },
    [VM_GLOBAL] = { "a map_domain_page_global mapping", "unmap_domain_page_global" },
};

/* The entry that maps page i of the region, and whether it maps it at all. */
static bool page_mapping(unsigned long i, lpae_t *e)
{
    unsigned int level;

    *e = pt_lookup(page_va(i), &level);
    return level && lpae_is_mapping(*e, level);
}

/*
 * The index of the allocation of kind `want` that starts at va, or a panic
 * that says what va is instead (see allocation_at), or what kind of
 * allocation it is and who frees it. The kind is read from the first page:
 * every page of an allocation is mapped with the same tag. Vm lock held;
 * released before the panic.
 */
static unsigned long allocation_of_kind(const char *who, const void *va, enum vm_kind want)
{
    unsigned long s = allocation_at(who, va), n;
    lpae_t e;
    bool mapped = page_mapping(s, &e);

    if (mapped && pt_entry_tag(e) == want)
        return s;
    n = run_length(s);
    spin_unlock(&vm.lock);
    if (!mapped)
        panic("%s(%p): not %s: the %lu-page allocation at 0x%lx has no mapping at its start "
              "(address space from vm_alloc: vm_free frees it); nothing changed", who, va,
              kinds[want].what, n, (unsigned long)page_va(s));
    panic("%s(%p): not %s: the %lu-page allocation at 0x%lx is %s (%s frees it); "
          "nothing changed", who, va, kinds[want].what, n, (unsigned long)page_va(s),
          kinds[pt_entry_tag(e)].what, kinds[pt_entry_tag(e)].freed_by);
}

/* --- the allocator ------------------------------------------------------------------ */

void vm_init(void)
{
    static bool announced;      /* host tests set the region up once per test */
    vaddr_t start, end;
    unsigned long pages;

    if (vm.ready)
        panic("vm_init: the vmap region is already set up");
    arch_vmap_window(&start, &end);
    pages = (end - start) >> PAGE_SHIFT;
    if (!IS_ALIGNED(start, PAGE_SIZE) || end <= start)
        panic("vm_init: bad vmap window 0x%lx-0x%lx", (unsigned long)start, (unsigned long)end);

    spin_lock(&vm.lock);
    memset(vm.used, 0, sizeof(vm.used));
    vm.base = start;
    vm.end = pages;
    vm.bitmap_pages = (unsigned int)((pages + BITS_PER_PAGE - 1) / BITS_PER_PAGE);
    vm.mapped = 0;
    vm.top = 0;
    vm.allocations = vm.pages = 0;
    vm.q_first = vm.q_count = 0;
    if (vm.bitmap_pages > VM_MAX_BITMAP_PAGES || pages < vm.bitmap_pages + 3) {
        spin_unlock(&vm.lock);
        panic("vm_init: a vmap window of %lu pages does not fit the allocator", pages);
    }
    if (!grow()) {
        spin_unlock(&vm.lock);
        panic("vm_init: no memory for the first page of the vmap bitmap");
    }
    change_range(0, vm.bitmap_pages, true);
    vm.low = vm.bitmap_pages;
    vm.ready = true;
    spin_unlock(&vm.lock);
    if (announced)
        return;
    announced = true;
    printk("vmap: region 0x%lx-0x%lx (%lu MiB), bitmap of %u pages, %u mapped\n",
           (unsigned long)start, (unsigned long)end, (unsigned long)((end - start) >> 20),
           vm.bitmap_pages, vm.mapped);
}

bool vm_is_ready(void)
{
    return vm.ready;
}

void *vm_alloc(unsigned int nr, unsigned int align)
{
    unsigned long first, z, set, s, guard;

    if (!vm.ready)
        panic("vm_alloc(%u, %u): vm_init() has not run", nr, align);
    if (align == 0 || (align & (align - 1)))
        panic("vm_alloc(%u, %u): the alignment must be a power of two", nr, align);
    if (nr == 0 || nr >= vm.end || align >= vm.end)
        return NULL;

    spin_lock(&vm.lock);
    for (;;) {
        first = z = find_next(vm.low, vm.top, false);
        for (;;) {
            /* Bits z .. guard must be clear: z the guard before, guard the one after. */
            s = ROUNDUP(z + 1, (unsigned long)align);
            guard = s + nr;
            if (guard >= vm.top)
                break;
            set = find_next(z, guard + 1, true);
            if (set > guard)
                goto found;
            z = find_next(set, vm.top, false);
        }
        /* Nothing fits below top: map another bitmap page, if there is one. */
        if (vm.top < vm.end && grow())
            continue;
        /* Or give the quarantine's ranges back: it delays reuse, it must not refuse. */
        if (!vm.q_count) {
            spin_unlock(&vm.lock);
            return NULL;
        }
        quarantine_flush();
    }

found:
    change_range(s, nr, true);
    /* Placed right after the first clear bit: nothing can start at or below guard now. */
    if (z == first && s == z + 1)
        vm.low = guard;
    vm.allocations++;
    vm.pages += nr;
    spin_unlock(&vm.lock);
    return (void *)page_va(s);
}

/* Frees [s, s + n), through the quarantine if it has room for any. Vm lock held. */
static void free_bits(unsigned long s, unsigned long n)
{
    vm.allocations--;
    vm.pages -= n;
    if (!vm.q_depth) {
        release_range(s, n);
        return;
    }
    if (vm.q_count == vm.q_depth)
        quarantine_pop();
    vm.quarantine[(vm.q_first + vm.q_count) % VM_QUARANTINE_MAX].start = s;
    vm.quarantine[(vm.q_first + vm.q_count) % VM_QUARANTINE_MAX].pages = n;
    vm.q_count++;
}

unsigned int vm_quarantine_set(unsigned int depth)
{
    unsigned int old;

    if (depth > VM_QUARANTINE_MAX)
        panic("vm_quarantine_set(%u): at most %u frees can wait", depth, VM_QUARANTINE_MAX);
    spin_lock(&vm.lock);
    old = vm.q_depth;
    quarantine_flush();
    vm.q_depth = depth;
    spin_unlock(&vm.lock);
    return old;
}

/*
 * The first page of [s, s + n) that is mapped, or s + n. A missing table
 * or an empty 2 MiB entry answers for every page it covers, so a large
 * unmapped allocation costs one lookup per 2 MiB.
 */
static unsigned long first_mapped(unsigned long s, unsigned long n)
{
    unsigned long i = s;

    while (i < s + n) {
        unsigned int level;
        lpae_t e = pt_lookup(page_va(i), &level);

        if (level && lpae_is_mapping(e, level))
            return i;
        if (level == 3)
            i++;
        else        /* on to the next 2 MiB of virtual address */
            i = (unsigned long)((((uint64_t)page_va(i) | (PT_BLOCK_SIZE - 1)) + 1 - vm.base) >>
                                PAGE_SHIFT);
    }
    return s + n;
}

void vm_free(const void *va)
{
    unsigned long s, n, m;
    lpae_t e;

    spin_lock(&vm.lock);
    s = allocation_at("vm_free", va);
    n = run_length(s);
    /* Freeing the address space under a live mapping would hand it to the next allocation. */
    m = first_mapped(s, n);
    if (m < s + n) {
        BUG_ON(!page_mapping(m, &e));
        spin_unlock(&vm.lock);
        panic("vm_free(%p): page %lu (0x%lx) of the %lu-page allocation is still mapped, "
              "as %s: unmap it first (or free it with %s); nothing changed", va, m - s,
              (unsigned long)page_va(m), n, kinds[pt_entry_tag(e)].what,
              kinds[pt_entry_tag(e)].freed_by);
    }
    free_bits(s, n);
    spin_unlock(&vm.lock);
}

unsigned int vm_size(const void *va)
{
    unsigned long n;

    spin_lock(&vm.lock);
    n = run_length(allocation_at("vm_size", va));
    spin_unlock(&vm.lock);
    return (unsigned int)n;
}

/* --- mapping frames ----------------------------------------------------------------- */

/* --- RAM with other memory attributes ---------------------------------------------- */

/*
 * RAM is normally mapped write-back: the xenheap by its direct map, other
 * frames by map_domain_page, the image and the frame table permanently. A
 * second mapping of the same frame as Device or non-cacheable memory gives
 * it mismatched attributes (Arm ARM, "Mismatched memory attributes"): a CPU
 * may allocate cache lines through the write-back alias, even
 * speculatively, and write them back over what went through the other, or
 * the non-cacheable access may miss what sits dirty in the cache. So a frame the frame table describes may be
 * mapped with another memory type only if it is an allocated domheap page
 * that this CPU's mapcache does not map in use (a cached slot of it is
 * dropped first); its lines are cleaned and invalidated after it is mapped
 * and again before it is unmapped (arch_dcache_clean_inval). What the
 * caller must add: no map_domain_page or vmap of the frame while the
 * mapping lives, and no other CPU keeping it cached in its mapcache.
 */
static const char *mt_name(unsigned int mt)
{
    switch (mt) {
    case MT_DEVICE: return "Device memory";
    case MT_NORMAL_NC: return "Normal non-cacheable memory";
    case MT_STRONGLY_ORDERED: return "Strongly-ordered memory";
    default: return "write-back memory";
    }
}

/* Why frame m must not be mapped with another memory type, or NULL. */
static const char *ram_conflict(mfn_t m)
{
    struct vcpu *v = current_vcpu();

    if (!mfn_valid(m))
        return NULL;                /* not RAM the hypervisor describes: MMIO */
    if (is_xen_heap_mfn(m))
        return "xenheap RAM, which the direct map keeps mapped write-back";
    if (page_state(mfn_to_page(m)) != PGS_inuse)
        return "RAM that is not an allocated page (free, reserved or the hypervisor's own), "
               "which the heap or the hypervisor maps write-back";
    if (v && !mapcache_forget(&v->mapcache, m))
        return "mapped write-back by map_domain_page on this CPU";
    return NULL;
}

/* May every frame of the __vmap request be mapped with flags' memory type? */
static bool attributes_match(const mfn_t *mfn, unsigned int granularity, unsigned int nr,
                             unsigned int flags)
{
    unsigned int mt = flags & _PAGE_MT_MASK;

    if (mt == MT_NORMAL)
        return true;
    for (unsigned int k = 0; k < nr; k++) {
        for (unsigned int j = 0; j < granularity; j++) {
            mfn_t m = mfn_add(mfn[k], j);
            const char *why = ram_conflict(m);

            if (why) {
                printk("vmap: refusing to map mfn 0x%lx (pa 0x%llx) as %s: it is %s "
                       "(mismatched memory attributes)\n", mfn_x(m),
                       (unsigned long long)mfn_to_paddr(m), mt_name(mt), why);
                return false;
            }
        }
    }
    return true;
}

/* Cleans and invalidates the cache lines of the RAM pages in [va, va + n pages). */
static void clean_ram_pages(vaddr_t va, unsigned long n)
{
    for (unsigned long k = 0; k < n; k++) {
        vaddr_t page = va + (k << PAGE_SHIFT);
        paddr_t pa = pt_translate(page);

        if (pa != PT_NO_PADDR && mfn_valid(paddr_to_mfn(pa)))
            arch_dcache_clean_inval((const void *)page, PAGE_SIZE);
    }
}

/* __vmap for an allocation of the given kind, recorded in its entries. */
static void *vmap_kind(const mfn_t *mfn, unsigned int granularity, unsigned int nr,
                       unsigned int align, unsigned int flags, enum vm_kind kind)
{
    uint64_t total = (uint64_t)granularity * nr;
    vaddr_t va;

    if (total == 0 || total > UINT32_MAX)
        return NULL;
    flags |= _PAGE_TAG(kind);
    if (!attributes_match(mfn, granularity, nr, flags))
        return NULL;
    va = (vaddr_t)vm_alloc((unsigned int)total, align);
    if (!va)
        return NULL;
    if (map_frames_to_xen(va, mfn, granularity, nr, flags) != 0) {
        BUG_ON(destroy_xen_mappings(va, va + ((vaddr_t)total << PAGE_SHIFT)) != 0);
        vm_free((void *)va);
        return NULL;
    }
    if ((flags & _PAGE_MT_MASK) != MT_NORMAL)
        clean_ram_pages(va, (unsigned long)total);
    return (void *)va;
}

/* The tag is vmap's record of the kind: a caller's would make vunmap misjudge the mapping. */
static bool tag_refused(const char *who, unsigned int flags)
{
    if (!(flags & _PAGE_TAG_MASK))
        return false;
    printk("%s: refusing flags 0x%x: _PAGE_TAG is vmap's own record of the kind of "
           "mapping\n", who, flags);
    return true;
}

void *__vmap(const mfn_t *mfn, unsigned int granularity, unsigned int nr, unsigned int align,
             unsigned int flags)
{
    if (tag_refused("__vmap", flags))
        return NULL;
    return vmap_kind(mfn, granularity, nr, align, flags, VM_VMAP);
}

void *vmap(const mfn_t *mfn, unsigned int nr)
{
    return __vmap(mfn, 1, nr, 1, PAGE_HYPERVISOR);
}

/* Unmaps the allocation of kind `want` at va, whose frames are not its own. */
static void unmap_borrowed(const char *who, const void *va, enum vm_kind want)
{
    unsigned long s, n;
    unsigned int level;

    spin_lock(&vm.lock);
    s = allocation_of_kind(who, va, want);
    n = run_length(s);
    /* One memory type per allocation: its first page tells. */
    if (lpae_attrindx(pt_lookup(page_va(s), &level)) != MT_NORMAL)
        clean_ram_pages(page_va(s), n);
    BUG_ON(destroy_xen_mappings(page_va(s), page_va(s + n)) != 0);
    free_bits(s, n);
    spin_unlock(&vm.lock);
}

void vunmap(const void *va)
{
    unmap_borrowed("vunmap", va, VM_VMAP);
}

/* --- vmalloc ------------------------------------------------------------------------ */

/*
 * Unmaps pages [from, to) of the vmalloc allocation at index s and frees
 * their frames: the frames are read from the entries, the entries destroyed
 * (with their TLB flush), and only then the frames freed, so that no CPU can
 * still reach a frame the heap hands out again. Vm lock held.
 */
static void release_pages(unsigned long s, unsigned long from, unsigned long to)
{
    while (from < to) {
        unsigned long n = min(to - from, (unsigned long)VFREE_BATCH);
        mfn_t mfn[VFREE_BATCH];

        for (unsigned long k = 0; k < n; k++) {
            paddr_t pa = pt_translate(page_va(s + from + k));

            BUG_ON(pa == PT_NO_PADDR);
            mfn[k] = paddr_to_mfn(pa);
        }
        BUG_ON(destroy_xen_mappings(page_va(s + from), page_va(s + from + n)) != 0);
        for (unsigned long k = 0; k < n; k++)
            free_domheap_page(mfn_to_page(mfn[k]));
        from += n;
    }
}

/*
 * Every page of the vmalloc allocation at s owns its frame, or a panic: its
 * first page said vmalloc (allocation_of_kind), but a page unmapped or
 * remapped since by hand must not have a frame freed that is not its own.
 * Vm lock held.
 */
static void check_vmalloc(const char *who, unsigned long s, unsigned long n)
{
    for (unsigned long k = 0; k < n; k++) {
        lpae_t e;
        bool mapped = page_mapping(s + k, &e);

        if (mapped && pt_entry_tag(e) == VM_VMALLOC)
            continue;
        spin_unlock(&vm.lock);
        panic("%s(%p): page %lu of the allocation (0x%lx) is %s: not a vmalloc allocation; "
              "nothing changed", who, (void *)page_va(s), k, (unsigned long)page_va(s + k),
              mapped ? "mapped but not owned by it" : "not mapped");
    }
}

static void *vmalloc_pages(size_t size, bool zero)
{
    unsigned long nr = (unsigned long)(ROUNDUP((uint64_t)size, PAGE_SIZE) >> PAGE_SHIFT);
    vaddr_t va;
    unsigned long i;

    if (nr == 0 || nr > UINT32_MAX)
        return NULL;
    va = (vaddr_t)vm_alloc((unsigned int)nr, 1);
    if (!va)
        return NULL;
    for (i = 0; i < nr; i++) {
        struct page_info *pg = alloc_domheap_page(NULL, 0);

        if (!pg)
            break;
        if (map_pages_to_xen(va + (i << PAGE_SHIFT), page_to_mfn(pg), 1,
                             PAGE_HYPERVISOR | _PAGE_TAG(VM_VMALLOC)) != 0) {
            free_domheap_page(pg);
            break;
        }
    }
    if (i < nr) {
        spin_lock(&vm.lock);
        release_pages((va - vm.base) >> PAGE_SHIFT, 0, i);
        free_bits((va - vm.base) >> PAGE_SHIFT, nr);
        spin_unlock(&vm.lock);
        return NULL;
    }
    if (zero)
        memset((void *)va, 0, nr << PAGE_SHIFT);
    return (void *)va;
}

void *vmalloc(size_t size)
{
    return vmalloc_pages(size, false);
}

void *vzalloc(size_t size)
{
    return vmalloc_pages(size, true);
}

void vfree(void *va)
{
    unsigned long s, n;

    if (!va)
        return;
    spin_lock(&vm.lock);
    s = allocation_of_kind("vfree", va, VM_VMALLOC);
    n = run_length(s);
    check_vmalloc("vfree", s, n);
    release_pages(s, 0, n);
    free_bits(s, n);
    spin_unlock(&vm.lock);
}

/* --- ioremap and global domain pages ------------------------------------------------ */

void *ioremap_attr(paddr_t pa, size_t len, unsigned int flags)
{
    size_t offset = (size_t)(pa & ~(paddr_t)PAGE_MASK);
    uint64_t nr = (offset + (uint64_t)len + PAGE_SIZE - 1) >> PAGE_SHIFT;
    mfn_t mfn;
    uint8_t *va;
    const paddr_t limit = (paddr_t)1 << PADDR_BITS;

    /*
     * Beyond the 40-bit physical address space there is nothing to map, and
     * the image's 32-bit mfn_t would cut such an address to another, real,
     * frame (issue 12: a UART at 0x10000_0900_0000 mapped 0x0900_0000).
     */
    if (len == 0 || pa >= limit || len > limit - pa)
        return NULL;
    if (nr > UINT32_MAX || tag_refused("ioremap_attr", flags))
        return NULL;
    mfn = paddr_to_mfn(pa);
    va = vmap_kind(&mfn, (unsigned int)nr, 1, 1, flags, VM_IOREMAP);
    return va ? va + offset : NULL;
}

void *ioremap(paddr_t pa, size_t len)
{
    return ioremap_attr(pa, len, PAGE_HYPERVISOR_NOCACHE);
}

void *ioremap_wc(paddr_t pa, size_t len)
{
    return ioremap_attr(pa, len, PAGE_HYPERVISOR_WC);
}

void iounmap(const volatile void *va)
{
    unmap_borrowed("iounmap", (const void *)ROUNDDOWN((vaddr_t)va, PAGE_SIZE), VM_IOREMAP);
}

void *map_domain_page_global(mfn_t mfn)
{
    return vmap_kind(&mfn, 1, 1, 1, PAGE_HYPERVISOR, VM_GLOBAL);
}

void unmap_domain_page_global(const void *va)
{
    unmap_borrowed("unmap_domain_page_global", (const void *)ROUNDDOWN((vaddr_t)va, PAGE_SIZE),
                   VM_GLOBAL);
}

/* --- inspection ---------------------------------------------------------------------- */

void vm_stats(struct vm_stats *st)
{
    spin_lock(&vm.lock);
    st->start = vm.base;
    st->end = page_va(vm.end);
    st->bitmap_pages = vm.bitmap_pages;
    st->bitmap_mapped = vm.mapped;
    st->allocations = vm.allocations;
    st->pages = vm.pages;
    st->quarantined = vm.q_count;
    st->highest = vm.top;
    while (st->highest > 0 && !test_bit_(st->highest - 1))
        st->highest--;
    spin_unlock(&vm.lock);
}

bool vm_lock_is_held(void)
{
    return spin_is_locked(&vm.lock);
}

unsigned long vm_teardown(void)
{
    unsigned long live;
    paddr_t pa;

    spin_lock(&vm.lock);
    live = vm.allocations;
    if (!vm.ready || live) {
        spin_unlock(&vm.lock);
        return live;
    }
    quarantine_flush();
    change_range(0, vm.bitmap_pages, false);
    shrink();
    /* shrink() keeps the first bitmap page; it goes too. */
    pa = pt_translate(page_va(0));
    BUG_ON(pa == PT_NO_PADDR);
    BUG_ON(destroy_xen_mappings(page_va(0), page_va(1)) != 0);
    free_domheap_page(maddr_to_page(pa));
    vm.ready = false;
    vm.mapped = 0;
    vm.top = 0;
    spin_unlock(&vm.lock);
    return 0;
}
