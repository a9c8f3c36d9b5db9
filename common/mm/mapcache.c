/*
 * The mapcache: which frame each slot of a VCPU's domheap window maps.
 *
 * map_domain_page() needs a temporary mapping of any frame, many times a
 * second, often of a frame that is already mapped. Each VCPU owns 1024
 * slots of 4 KiB at the bottom of its window (VA 0x80000000-0x803fffff) and
 * one page-table entry per slot, so at least 1024 distinct frames can be
 * mapped at once, and a VCPU's mappings are invisible to the other VCPUs.
 *
 * Why 4 KiB slots and not Xen's 2 MiB ones: a 2 MiB block maps the 511
 * frames around the one asked for too, so every user of a mapping could
 * read and write its neighbours (another domain's memory, the frame table);
 * and replacing a 4 KiB slot touches exactly one level-3 entry, which makes
 * break-before-make a single invalidate-flush-write. The cost is the level-3
 * tables (8 KiB per VCPU), which is nothing.
 *
 * Finding a frame's slot: a hash of the MFN (Fibonacci hashing) picks one of
 * 2048 buckets, and the slots of a bucket are chained through the slot array
 * with 16-bit indexes. With at most 1024 frames in 2048 buckets a chain is
 * expected to hold one slot, so the bucket array is in effect a direct-mapped
 * table from frame to slot, and the chains only resolve its collisions. All
 * of a mapcache is one structure with no pointers in it.
 *
 * The hit, a frame that heads its chain (in use or cached), is the common
 * case and is inline in the header (mapcache_map_hit, mapcache_unmap_hit):
 * hash, load the bucket, load the slot, compare, bump the count, return the
 * VA; unmap finds the slot from the VA by arithmetic and lowers its count.
 * An empty bucket names a sentinel slot, so the hit needs no test for it.
 * All else (the rest of a chain, a miss, the debug policy's last unmap,
 * every misuse check) is here, out of line; a hit does none of those checks
 * because none can fail on it (see mapcache_map_hit).
 *
 * Reference counts are 16 bits beside the MFN, not in the entry's four
 * software bits as in Xen: 15 nested mappings of one frame are not many
 * (a frame can be mapped by a caller and again by everything it calls),
 * and a count that saturates is a panic rather than a wrap.
 *
 * Slots are free, cached or in use (see struct mapcache_slot). What happens
 * when the last reference goes depends on the policy:
 *  - release builds keep the mapping (cached, count 0): mapping the same
 *    frame again, the common case, is a hit with no entry written and no
 *    TLB flush, and neither the release nor the reuse touches anything but
 *    the count;
 *  - debug builds (strict) invalidate the entry and flush its TLB entry at
 *    once, so an access through a pointer kept after unmap faults instead of
 *    reaching whatever the slot maps next.
 * A miss takes the oldest free slot: handing out free slots in FIFO order
 * keeps a slot unmapped for as long as possible after a strict unmap, which
 * gives a stale pointer the longest chance to fault. With no free slot, a
 * cached slot is evicted: a clock hand goes round the slots and takes the
 * first without users, then moves past it. That is not the least recently
 * released slot (an LRU list would know it, but keeping one costs every
 * release and reuse two list operations, and they are the common case);
 * a frame evicted while still wanted costs one miss per turn of the hand.
 * Eviction follows break-before-make (Arm ARM, B3.10.1): the old entry is
 * invalidated and its VA flushed
 * from the TLB before the new entry is written, so the CPU never holds two
 * translations for the VA. A free slot needs no flush: an invalid entry is
 * never held in a TLB. When every slot is in use the mapcache panics with
 * the slot table: silently reusing a slot somebody still uses would corrupt
 * memory.
 *
 * A mapcache belongs to one VCPU, which runs on one CPU at a time and is
 * never reentered (no map_domain_page from interrupt handlers): no lock.
 */
#include <arch/machine.h>
#include <domain/domain.h>
#include <domain/vcpu.h>
#include <lib/lib.h>
#include <lib/report.h>
#include <mm/mapcache.h>
#include <mm/pdx.h>
#include <string.h>

BUILD_BUG_ON(MAPCACHE_NONE != MAPCACHE_SLOTS);     /* the sentinel's index */
BUILD_BUG_ON(MAPCACHE_SLOTS > 0xffffu);             /* indexes are 16 bits, the sentinel's too */
BUILD_BUG_ON(MAPCACHE_BUCKETS < MAPCACHE_SLOTS);
BUILD_BUG_ON(MAPCACHE_COUNT_MAX & (MAPCACHE_COUNT_MAX - 1));     /* one bit: see mapcache.h */
BUILD_BUG_ON(MAPCACHE_COUNT_MAX > 0xffffu);         /* counts are 16 bits */
BUILD_BUG_ON(MAPCACHE_VIRT_START & ((2u << 20) - 1));   /* the level-3 tables start a 2 MiB block */

static inline uint16_t idx16(unsigned int i)
{
    return (uint16_t)i;
}

/* --- the free list, doubly linked through the link array ------------------ */

/*
 * With the list's head and tail passed as pointers.
 */
static inline void list_push_tail(struct mapcache *mc, uint16_t *head, uint16_t *tail,
                                  unsigned int i)
{
    struct mapcache_link *l = &mc->link[i];

    l->prev = *tail;
    l->next = MAPCACHE_NONE;
    if (*tail != MAPCACHE_NONE)
        mc->link[*tail].next = idx16(i);
    else
        *head = idx16(i);
    *tail = idx16(i);
}

static inline void list_remove(struct mapcache *mc, uint16_t *head, uint16_t *tail,
                               unsigned int i)
{
    struct mapcache_link *l = &mc->link[i];

    if (l->prev != MAPCACHE_NONE)
        mc->link[l->prev].next = l->next;
    else
        *head = l->next;
    if (l->next != MAPCACHE_NONE)
        mc->link[l->next].prev = l->prev;
    else
        *tail = l->prev;
    l->prev = l->next = MAPCACHE_NONE;
}

#define FREE_LIST(mc) &(mc)->free_head, &(mc)->free_tail

/* --- hash chains ---------------------------------------------------------- */

static void hash_insert(struct mapcache *mc, unsigned int i)
{
    uint16_t *head = &mc->bucket[mapcache_hash(mc->slot[i].mfn)];

    mc->slot[i].hash_next = *head;
    *head = idx16(i);
}

static void hash_remove(struct mapcache *mc, unsigned int i)
{
    uint16_t *link = &mc->bucket[mapcache_hash(mc->slot[i].mfn)];

    while (*link != i) {
        BUG_ON(*link == MAPCACHE_NONE);     /* slot i is not on its chain */
        link = &mc->slot[*link].hash_next;
    }
    *link = mc->slot[i].hash_next;
    mc->slot[i].hash_next = MAPCACHE_NONE;
}

unsigned int mapcache_lookup(const struct mapcache *mc, mfn_t mfn)
{
    unsigned int i = mc->bucket[mapcache_hash(mfn)];

    while (i != MAPCACHE_NONE && !mfn_eq(mc->slot[i].mfn, mfn))
        i = mc->slot[i].hash_next;
    return i;
}

/* --- setup ---------------------------------------------------------------- */

void mapcache_init(struct mapcache *mc, bool strict)
{
    memset(mc, 0, sizeof(*mc));
    mc->strict = strict;
    mc->free_head = mc->free_tail = MAPCACHE_NONE;
    for (unsigned int b = 0; b < MAPCACHE_BUCKETS; b++)
        mc->bucket[b] = MAPCACHE_NONE;
    for (unsigned int i = 0; i < MAPCACHE_SLOTS; i++) {
        mc->slot[i].mfn = INVALID_MFN;
        mc->slot[i].hash_next = MAPCACHE_NONE;
        list_push_tail(mc, FREE_LIST(mc), i);
    }
    /* The sentinel: no frame, saturated, end of every chain. Never written again. */
    mc->slot[MAPCACHE_NONE].mfn = INVALID_MFN;
    mc->slot[MAPCACHE_NONE].count = MAPCACHE_COUNT_MAX;
    mc->slot[MAPCACHE_NONE].hash_next = MAPCACHE_NONE;
}

/* --- the slot table, for panics and tests ---------------------------------- */

static void console_sink(void *ctx, const char *line)
{
    (void)ctx;
    printk("%s\n", line);
}

static mapcache_dump_sink panic_dump_sink;
static void *panic_dump_ctx;

void mapcache_set_panic_dump_sink(mapcache_dump_sink sink, void *ctx,
                                  mapcache_dump_sink *old_sink, void **old_ctx)
{
    if (old_sink)
        *old_sink = panic_dump_sink;
    if (old_ctx)
        *old_ctx = panic_dump_ctx;
    panic_dump_sink = sink;
    panic_dump_ctx = ctx;
}

void mapcache_dump(const struct mapcache *mc, mapcache_dump_sink sink, void *ctx)
{
    char name[24], line[128];

    if (!sink)
        sink = console_sink;
    vcpu_name(mapcache_to_const_vcpu(mc), name, sizeof(name));
    fmt_snprintf(line, sizeof(line),
                 "mapcache of %s: %u slots, %u in use, %u cached, %u free (%s); "
                 "misses %lu, evictions %lu",
                 name, MAPCACHE_SLOTS, mapcache_nr_in_use(mc), mapcache_nr_cached(mc),
                 MAPCACHE_SLOTS - mapcache_nr_in_use(mc) - mapcache_nr_cached(mc),
                 mc->strict ? "strict" : "caching", mc->misses, mc->evictions);
    sink(ctx, line);
    sink(ctx, "  slot  va          mfn         count");
    for (unsigned int i = 0; i < MAPCACHE_SLOTS; i++) {
        const struct mapcache_slot *s = &mc->slot[i];

        if (mfn_eq(s->mfn, INVALID_MFN))
            continue;
        fmt_snprintf(line, sizeof(line), "  %4u  0x%08lx  0x%08lx  %5u%s", i,
                     (unsigned long)mapcache_slot_va(i), mfn_x(s->mfn), s->count,
                     s->count ? "" : " (cached)");
        sink(ctx, line);
    }
}

static void __noreturn exhausted(struct mapcache *mc, mfn_t mfn)
{
    char name[24];

    mapcache_dump(mc, panic_dump_sink, panic_dump_ctx);
    vcpu_name(mapcache_to_vcpu(mc), name, sizeof(name));
    panic("map_domain_page(mfn 0x%lx): %s: all %u mapcache slots are in use "
          "(a missing unmap_domain_page?)", mfn_x(mfn), name, MAPCACHE_SLOTS);
}

/* --- map and unmap -------------------------------------------------------- */

/* Out of line: its message buffer would put a stack canary on the hot path. */
static void __noreturn noinline count_saturated(const struct mapcache *mc,
                                                                 mfn_t mfn, unsigned int i)
{
    char name[24];

    vcpu_name(mapcache_to_const_vcpu(mc), name, sizeof(name));
    panic("map_domain_page(mfn 0x%lx): %s: reference count of va 0x%lx saturated "
          "(%u mappings of one frame)", mfn_x(mfn), name, (unsigned long)mapcache_slot_va(i),
          MAPCACHE_COUNT_MAX);
}

/*
 * The clock: the first slot without users from the hand on, which the hand
 * then moves past; MAPCACHE_NONE, with the hand back where it was, if every
 * slot has users. Only asked when no slot is free, so each slot it looks at
 * maps a frame.
 */
static unsigned int clock_victim(struct mapcache *mc)
{
    for (unsigned int n = 0; n < MAPCACHE_SLOTS; n++) {
        unsigned int i = mc->hand;

        mc->hand = idx16((i + 1) % MAPCACHE_SLOTS);
        if (mc->slot[i].count == 0)
            return i;
    }
    return MAPCACHE_NONE;
}

/*
 * No slot maps mfn yet: take a free one, else evict, else give up. Out of
 * line, so that the other slow paths do not pay for its registers.
 */
static vaddr_t noinline map_miss(struct mapcache *mc, mfn_t mfn)
{
    struct vcpu *v = mapcache_to_vcpu(mc);
    unsigned int i = mc->free_head;
    bool evict = false;

    if (i != MAPCACHE_NONE) {
        list_remove(mc, FREE_LIST(mc), i);
    } else if ((i = clock_victim(mc)) != MAPCACHE_NONE) {
        hash_remove(mc, i);
        mc->evictions++;
        evict = true;
    } else {
        exhausted(mc, mfn);
    }

    mc->slot[i].mfn = mfn;
    mc->slot[i].count = 1;
    hash_insert(mc, i);
    mc->misses++;

    /* Break, then make. */
    if (evict)
        arch_mapcache_clear(v, i);
    arch_mapcache_set(v, i, mfn);
    return mapcache_slot_va(i);
}

vaddr_t mapcache_map_slow(struct mapcache *mc, mfn_t mfn)
{
    struct mapcache_slot *s;
    unsigned int i;

    /* Also rejects INVALID_MFN, which marks free slots and the sentinel. */
    if (unlikely(mfn_x(mfn) >> MFN_BITS))
        panic("map_domain_page(mfn 0x%lx): beyond the 40-bit physical address space",
              mfn_x(mfn));

    i = mapcache_lookup(mc, mfn);
    if (i == MAPCACHE_NONE)
        return map_miss(mc, mfn);

    s = &mc->slot[i];
    if (unlikely(s->count == MAPCACHE_COUNT_MAX))
        count_saturated(mc, mfn, i);
    s->count++;
    return mapcache_slot_va(i);
}

static void __noreturn noinline bad_address(const struct mapcache *mc, const char *caller, vaddr_t va,
                                   const char *why)
{
    char name[24];
    unsigned int i = mapcache_va_slot(va);

    vcpu_name(mapcache_to_const_vcpu(mc), name, sizeof(name));
    if (!mapcache_va_in_window(va))
        panic("%s(0x%lx): %s: outside the map_domain_page window 0x%lx-0x%lx", caller,
              (unsigned long)va, name, (unsigned long)MAPCACHE_VIRT_START,
              (unsigned long)MAPCACHE_VIRT_END - 1);
    if (mfn_eq(mc->slot[i].mfn, INVALID_MFN))
        panic("%s(0x%lx): %s: slot %u maps nothing (%s)", caller, (unsigned long)va, name, i,
              why);
    panic("%s(0x%lx): %s: slot %u (mfn 0x%lx) has no references left (%s)", caller,
          (unsigned long)va, name, i, mfn_x(mc->slot[i].mfn), why);
}

void mapcache_unmap_slow(struct mapcache *mc, vaddr_t va)
{
    struct mapcache_slot *s;
    unsigned int i;

    if (unlikely(!mapcache_va_in_window(va)))
        bad_address(mc, "unmap_domain_page", va, "");
    i = mapcache_va_slot(va);
    s = &mc->slot[i];
    if (unlikely(s->count == 0))
        bad_address(mc, "unmap_domain_page", va, "never mapped, or unmapped twice");

    /* Under the release policy the slot stays mapped, cached, until evicted. */
    if (--s->count || !mc->strict)
        return;
    hash_remove(mc, i);
    s->mfn = INVALID_MFN;
    list_push_tail(mc, FREE_LIST(mc), i);
    arch_mapcache_clear(mapcache_to_vcpu(mc), i);
}

mfn_t mapcache_va_to_mfn(const struct mapcache *mc, vaddr_t va)
{
    if (unlikely(!mapcache_va_in_window(va)))
        bad_address(mc, "domain_page_map_to_mfn", va, "");
    if (unlikely(mc->slot[mapcache_va_slot(va)].count == 0))
        bad_address(mc, "domain_page_map_to_mfn", va, "not a live mapping");
    return mc->slot[mapcache_va_slot(va)].mfn;
}

/*
 * Clearing a slot invalidates only this CPU's TLB (arch_mapcache_clear), which
 * is enough when the VCPU runs here or nowhere: a switch away flushes the
 * whole window. On another CPU, that CPU's TLB would keep the cleared
 * translations, and the mapcache, which has no lock, belongs to the code
 * running there. So anything that changes the mapcache of a VCPU it does not
 * run as first makes sure no other CPU runs it.
 */
static void check_not_installed_elsewhere(const struct mapcache *mc, const char *caller)
{
    const struct vcpu *v = mapcache_to_const_vcpu(mc);
    unsigned int cpu;
    char name[24];

    if (arch_vcpu_installed(v, &cpu) && cpu != arch_cpu_id())
        panic("%s: %s is installed on cpu %u, not this one (cpu %u): only that CPU may change "
              "its mapcache, and this CPU's TLB invalidation would not reach it",
              caller, vcpu_name(v, name, sizeof(name)), cpu, arch_cpu_id());
}

static bool is_cached(const struct mapcache_slot *s)
{
    return s->count == 0 && !mfn_eq(s->mfn, INVALID_MFN);
}

/* Cached slot i becomes free: off its chain, entry invalidated. */
static void drop_cached(struct mapcache *mc, unsigned int i)
{
    hash_remove(mc, i);
    mc->slot[i].mfn = INVALID_MFN;
    list_push_tail(mc, FREE_LIST(mc), i);
    arch_mapcache_clear(mapcache_to_vcpu(mc), i);
}

void mapcache_flush_cached(struct mapcache *mc)
{
    check_not_installed_elsewhere(mc, "mapcache_flush_cached");
    for (unsigned int i = 0; i < MAPCACHE_SLOTS; i++)
        if (is_cached(&mc->slot[i]))
            drop_cached(mc, i);
}

unsigned int mapcache_nr_in_use(const struct mapcache *mc)
{
    unsigned int n = 0;

    for (unsigned int i = 0; i < MAPCACHE_SLOTS; i++)
        n += mc->slot[i].count != 0;
    return n;
}

unsigned int mapcache_nr_cached(const struct mapcache *mc)
{
    unsigned int n = 0;

    for (unsigned int i = 0; i < MAPCACHE_SLOTS; i++)
        n += is_cached(&mc->slot[i]);
    return n;
}

bool mapcache_forget(struct mapcache *mc, mfn_t mfn)
{
    unsigned int i = mapcache_lookup(mc, mfn);

    if (i == MAPCACHE_NONE)
        return true;
    if (mc->slot[i].count)
        return false;
    check_not_installed_elsewhere(mc, "mapcache_forget");
    drop_cached(mc, i);
    return true;
}

void mapcache_set_strict(struct mapcache *mc, bool strict)
{
    check_not_installed_elsewhere(mc, "mapcache_set_strict");
    if (strict)
        mapcache_flush_cached(mc);
    mc->strict = strict;
}

/* --- checks --------------------------------------------------------------- */

unsigned int mapcache_longest_chain(const struct mapcache *mc)
{
    unsigned int longest = 0;

    for (unsigned int b = 0; b < MAPCACHE_BUCKETS; b++) {
        unsigned int n = 0;

        for (unsigned int i = mc->bucket[b]; i != MAPCACHE_NONE && n <= MAPCACHE_SLOTS;
             i = mc->slot[i].hash_next)
            n++;
        longest = max(longest, n);
    }
    return longest;
}

/* Problems printed by mapcache_check before the rest are only counted. */
#define MAPCACHE_CHECK_MAX_SHOWN 8

struct check_state {
    const struct mapcache *mc;
    struct report r;
    uint8_t seen_free[MAPCACHE_SLOTS];  /* times found on the free list */
    uint8_t seen_hash[MAPCACHE_SLOTS];  /* times found on a hash chain */
};

/* Walks the free list: links, no slot twice, each slot free; returns its length. */
static unsigned int check_free_list(struct check_state *st)
{
    const struct mapcache *mc = st->mc;
    struct report *r = &st->r;
    unsigned int prev = MAPCACHE_NONE, n = 0;

    for (unsigned int i = mc->free_head; i != MAPCACHE_NONE; i = mc->link[i].next) {
        const struct mapcache_slot *s;

        if (i >= MAPCACHE_SLOTS || n++ == MAPCACHE_SLOTS) {
            report_problem(r, MAPCACHE_BAD_FREE, "free list: bad index %u or a cycle", i);
            return n;
        }
        s = &mc->slot[i];
        if (mc->link[i].prev != prev)
            report_problem(r, MAPCACHE_BAD_FREE, "free list: slot %u links back to %u, "
                           "expected %u", i, mc->link[i].prev, prev);
        if (st->seen_free[i]++) {
            report_problem(r, MAPCACHE_BAD_FREE, "free list: slot %u is listed twice", i);
            return n;
        }
        if (s->count != 0 || !mfn_eq(s->mfn, INVALID_MFN))
            report_problem(r, MAPCACHE_BAD_FREE, "free list: slot %u has mfn 0x%lx and count %u",
                           i, mfn_x(s->mfn), s->count);
        prev = i;
    }
    if (prev != mc->free_tail)
        report_problem(r, MAPCACHE_BAD_FREE, "free list: ends at slot %u but its tail is %u",
                       prev, mc->free_tail);
    return n;
}

unsigned int mapcache_check(const struct mapcache *mc)
{
    static struct check_state st;   /* too big for a stack; checks do not nest */
    struct report *r = &st.r;
    const struct mapcache_slot *sentinel = &mc->slot[MAPCACHE_NONE];
    unsigned int cached = 0;

    memset(&st, 0, sizeof(st));
    st.mc = mc;
    *r = (struct report)REPORT_INIT("mapcache_check", MAPCACHE_CHECK_MAX_SHOWN);
    check_free_list(&st);

    for (unsigned int b = 0; b < MAPCACHE_BUCKETS; b++) {
        unsigned int n = 0;

        for (unsigned int i = mc->bucket[b]; i != MAPCACHE_NONE; i = mc->slot[i].hash_next) {
            if (i >= MAPCACHE_SLOTS || n++ == MAPCACHE_SLOTS) {
                report_problem(r, MAPCACHE_BAD_HASH, "bucket %u: bad index %u or a cycle", b, i);
                break;
            }
            if (st.seen_hash[i]++) {
                report_problem(r, MAPCACHE_BAD_HASH, "slot %u is on a chain twice", i);
                break;
            }
            if (mfn_eq(mc->slot[i].mfn, INVALID_MFN) || mapcache_hash(mc->slot[i].mfn) != b)
                report_problem(r, MAPCACHE_BAD_HASH, "slot %u (mfn 0x%lx) is in bucket %u", i,
                               mfn_x(mc->slot[i].mfn), b);
        }
    }

    for (unsigned int i = 0; i < MAPCACHE_SLOTS; i++) {
        const struct mapcache_slot *s = &mc->slot[i];
        bool mapped = !mfn_eq(s->mfn, INVALID_MFN);

        cached += is_cached(s);
        if (!mapped && s->count)
            report_problem(r, MAPCACHE_BAD_STATE, "slot %u maps nothing but has count %u", i,
                           s->count);
        if (!mapped && !st.seen_free[i])
            report_problem(r, MAPCACHE_BAD_FREE, "slot %u is free but not on the free list", i);
        if (mapped != (st.seen_hash[i] != 0))
            report_problem(r, MAPCACHE_BAD_HASH, "slot %u (mfn 0x%lx) is %son a chain", i,
                           mfn_x(s->mfn), mapped ? "not " : "");
        if (mapped && mapcache_lookup(mc, s->mfn) != i &&
            mapcache_lookup(mc, s->mfn) != MAPCACHE_NONE)
            report_problem(r, MAPCACHE_BAD_HASH, "mfn 0x%lx is in slots %u and %u", mfn_x(s->mfn),
                           mapcache_lookup(mc, s->mfn), i);
    }

    /* A sentinel that maps a frame or can take a reference would let the hit path use it. */
    if (!mfn_eq(sentinel->mfn, INVALID_MFN) || sentinel->count != MAPCACHE_COUNT_MAX)
        report_problem(r, MAPCACHE_BAD_STATE, "the sentinel slot has mfn 0x%lx and count %u",
                       mfn_x(sentinel->mfn), sentinel->count);
    if (mc->hand >= MAPCACHE_SLOTS)
        report_problem(r, MAPCACHE_BAD_STATE, "the clock hand is at %u", mc->hand);
    if (mc->strict && cached)
        report_problem(r, MAPCACHE_BAD_STATE, "%u slots cached under the strict policy", cached);
    return report_finish(r);
}
