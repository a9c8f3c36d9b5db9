/*
 * The per-VCPU mapcache behind map_domain_page(): which frame each 4 KiB
 * slot of the VCPU's domheap window maps, and how many users each mapping
 * has. See common/mm/mapcache.c for the design; this is its interface.
 *
 * A struct mapcache lives inside its struct vcpu (include/domain/vcpu.h) and is
 * used only by code running as that VCPU, on one CPU at a time: it has no
 * lock. Nothing here assumes the VCPU is the current one.
 */
#ifndef MAPCACHE_H
#define MAPCACHE_H

#include <lib/lib.h>
#include <lib/types.h>

/*
 * 1024 slots of 4 KiB at the bottom of the domheap window: 4 MiB, two
 * level-3 tables. The window is DOMHEAP_VIRT_START in asm/layout.h; it is
 * spelt out here because the host build has no layout.h, and the image
 * checks that the two agree (arch/arm32/domain_page.c).
 */
#define MAPCACHE_SLOTS 1024u
#define MAPCACHE_VIRT_START ((vaddr_t)0x80000000u)
#define MAPCACHE_VIRT_SIZE ((vaddr_t)MAPCACHE_SLOTS << PAGE_SHIFT)
#define MAPCACHE_VIRT_END (MAPCACHE_VIRT_START + MAPCACHE_VIRT_SIZE)

/* Twice as many buckets as slots: chains stay about one slot long. */
#define MAPCACHE_HASH_BITS 11
#define MAPCACHE_BUCKETS (1u << MAPCACHE_HASH_BITS)

/*
 * Index meaning "no slot": the end of a chain or list, an empty bucket. It
 * is the index of the sentinel, one slot past the real ones, which maps
 * nothing (INVALID_MFN) and has count MAPCACHE_COUNT_MAX, so that the hit
 * path can read the slot an empty bucket names without testing for
 * emptiness first: only INVALID_MFN matches it, and its count sends that to
 * the slow path like any saturated slot.
 */
#define MAPCACHE_NONE MAPCACHE_SLOTS

/*
 * The most references one mapping can have; one more is a panic. A power
 * of two, so that the hit tests it as one bit (in the image, a TST with an
 * immediate): 0xffff needed its constant in a register, and GCC then folded
 * the hit's two tests into a branch-free sequence (issue 14: 50 -> 42 for a
 * map + unmap). 32768 nested mappings of one frame are still far more than
 * any caller makes.
 */
#define MAPCACHE_COUNT_MAX 0x8000u

/*
 * One slot: what a hit reads and writes, and nothing else, so the hit
 * touches one naturally aligned record (8 bytes in the image, 16 on the
 * host) and finds it with a shift. Its state follows from mfn and count:
 *   mfn == INVALID_MFN            free: entry invalid, on the free list;
 *   mfn valid, count == 0         cached: entry still maps mfn, nobody uses
 *                                 it (release policy only): the clock may
 *                                 evict it;
 *   mfn valid, count > 0          in use by count map_domain_page() calls
 *                                 not yet undone; on no list.
 * A slot with a valid mfn is also on the hash chain of its bucket.
 */
struct mapcache_slot {
    mfn_t mfn;
    uint16_t count;
    uint16_t hash_next;     /* next slot in the same bucket */
};

/* A free slot's neighbours on the free list: only misses and the debug
 * policy's last unmaps touch them, so they live apart from the slots. */
struct mapcache_link {
    uint16_t prev, next;
};

struct mapcache {
    /*
     * true: the last unmap of a slot invalidates its entry at once (with its
     * TLB entry), so a use after unmap faults. false: it stays mapped, cached
     * for the next map of the same frame. vcpu_init() sets true in debug
     * builds (CONFIG_DEBUG), false otherwise.
     */
    bool strict;
    uint16_t free_head, free_tail;  /* never-used or invalidated slots, FIFO */
    uint16_t hand;                  /* the clock: where the next eviction looks first */
    /*
     * Statistics, for tests and benchmarks, kept on the slow paths only: a
     * hit counts nowhere (tests see it in the slot's count).
     */
    unsigned long misses;           /* map that wrote an entry */
    unsigned long evictions;        /* misses that displaced a cached frame */
    /* What the hit path reads: the first slot of each chain, the slots. */
    uint16_t bucket[MAPCACHE_BUCKETS];
    struct mapcache_slot slot[MAPCACHE_SLOTS + 1];  /* the last is the sentinel */
    struct mapcache_link link[MAPCACHE_SLOTS];
};

/* Fibonacci hashing: multiply by 2^32 / golden ratio, keep the top bits. An
 * MFN has at most 28 bits, so the 32-bit truncation loses nothing. */
static inline unsigned int mapcache_hash(mfn_t mfn)
{
    return ((uint32_t)mfn_x(mfn) * 0x9e3779b1u) >> (32 - MAPCACHE_HASH_BITS);
}

static inline bool mapcache_va_in_window(vaddr_t va)
{
    return va - MAPCACHE_VIRT_START < MAPCACHE_VIRT_SIZE;
}

static inline vaddr_t mapcache_slot_va(unsigned int slot)
{
    return MAPCACHE_VIRT_START + ((vaddr_t)slot << PAGE_SHIFT);
}

static inline unsigned int mapcache_va_slot(vaddr_t va)
{
    return (unsigned int)((va - MAPCACHE_VIRT_START) >> PAGE_SHIFT);
}

/* Empties mc: every slot free, entries assumed invalid. Called by vcpu_init(). */
void mapcache_init(struct mapcache *mc, bool strict);

/*
 * The slow paths of mapcache_map() and mapcache_unmap() below: everything
 * but a hit on the first slot of a chain. Out of line, so that the hit path
 * saves no registers and pays for none of their checks.
 */
vaddr_t mapcache_map_slow(struct mapcache *mc, mfn_t mfn);
void mapcache_unmap_slow(struct mapcache *mc, vaddr_t va);

/*
 * The hit: mfn is mapped by the first slot of its chain, in use or cached,
 * and can take one more reference. Returns its VA with the count raised, or
 * 0, changing nothing, when the slow path must decide (another frame or the
 * sentinel heads the chain, or the count is saturated). No entry is written
 * and nothing is flushed. mfn needs no check here: a slot holds only a
 * frame its miss checked, and the sentinel, the one slot on a chain that
 * holds INVALID_MFN, is saturated.
 */
static inline vaddr_t mapcache_map_hit(struct mapcache *mc, mfn_t mfn)
{
    unsigned int i = mc->bucket[mapcache_hash(mfn)];
    struct mapcache_slot *s = &mc->slot[i];
    unsigned int count = s->count;

    /*
     * A saturated count (and the sentinel, held at MAPCACHE_COUNT_MAX) goes to the slow
     * path, which refuses it. MAX is a power of two, so the test is one instruction.
     */
    if (!mfn_eq(s->mfn, mfn) || count >= MAPCACHE_COUNT_MAX)
        return 0;
    s->count = (uint16_t)(count + 1);
    return mapcache_slot_va(i);
}

/*
 * Drops one reference: the slot follows from va by arithmetic, and only its
 * count is written; under the release policy the last reference too (the
 * slot stays mapped, cached). Returns false, changing nothing, when the
 * slow path must decide (va outside the window, NULL included; no
 * references; the last one under the debug policy, which clears the entry).
 */
static inline bool mapcache_unmap_hit(struct mapcache *mc, vaddr_t va)
{
    vaddr_t offset = va - MAPCACHE_VIRT_START;
    struct mapcache_slot *s;

    if (offset >= MAPCACHE_VIRT_SIZE)
        return false;
    s = &mc->slot[offset >> PAGE_SHIFT];
    /* strict is 0 or 1: the least count this path may lower. */
    if (s->count <= mc->strict)
        return false;
    s->count--;
    return true;
}

/*
 * Maps mfn in mc's VCPU and returns the slot's VA. A frame that is already
 * mapped (in use or cached) gets the same VA and one more reference, with
 * no entry written and no TLB flush. Otherwise a free slot is taken, or the
 * clock picks a cached slot to evict (break-before-make: its entry is
 * cleared and flushed before the new one is written). Panics if
 * mfn is beyond 40 bits, if its count would pass MAPCACHE_COUNT_MAX, or if
 * every slot is in use (after dumping the slot table).
 */
static inline vaddr_t mapcache_map(struct mapcache *mc, mfn_t mfn)
{
    vaddr_t va = mapcache_map_hit(mc, mfn);

    return likely(va) ? va : mapcache_map_slow(mc, mfn);
}

/*
 * Drops one reference to the mapping that contains va (anywhere in the
 * page). Panics naming va if it is outside the window or its slot has no
 * references (never mapped, or unmapped once too often).
 */
static inline void mapcache_unmap(struct mapcache *mc, vaddr_t va)
{
    if (unlikely(!mapcache_unmap_hit(mc, va)))
        mapcache_unmap_slow(mc, va);
}

/* The frame behind va, which must be in use; panics naming va otherwise. */
mfn_t mapcache_va_to_mfn(const struct mapcache *mc, vaddr_t va);

/* The slot that maps mfn (in use or cached), or MAPCACHE_NONE. */
unsigned int mapcache_lookup(const struct mapcache *mc, mfn_t mfn);

/*
 * Invalidates every cached slot (count 0) and puts it on the free list.
 * Panics, naming the CPU, if mc's VCPU is installed on a CPU other than
 * this one: the invalidation is local (see arch_mapcache_clear).
 */
void mapcache_flush_cached(struct mapcache *mc);

/*
 * Makes sure mc maps mfn nowhere: a cached slot of it is invalidated (entry
 * and this CPU's TLB) and freed; returns false, changing nothing, if a slot
 * maps it with users (count > 0). For callers about to map the frame with
 * other memory attributes (vmap.c). The same check as mapcache_flush_cached.
 */
bool mapcache_forget(struct mapcache *mc, mfn_t mfn);

/*
 * Changes the policy; going strict first drops what is cached. The same
 * check as mapcache_flush_cached, whichever way the policy goes.
 */
void mapcache_set_strict(struct mapcache *mc, bool strict);

/* Slots in use (count > 0), and cached (mapped, count 0): counted, for tests and messages. */
unsigned int mapcache_nr_in_use(const struct mapcache *mc);
unsigned int mapcache_nr_cached(const struct mapcache *mc);

/* The length of the longest hash chain (expected: a few). */
unsigned int mapcache_longest_chain(const struct mapcache *mc);

/*
 * Checks every invariant (free list, chains, states, the sentinel, the
 * clock) and returns 0 or a mask of MAPCACHE_BAD_*, printing each problem
 * found (up to a limit).
 */
#define MAPCACHE_BAD_FREE     (1u << 0)  /* free list: links, a slot that is not free, one missing */
#define MAPCACHE_BAD_HASH     (1u << 2)  /* a chain: wrong bucket, loop, duplicate frame */
#define MAPCACHE_BAD_STATE    (1u << 3)  /* a slot in a state it may not be in; the sentinel, the hand */
unsigned int mapcache_check(const struct mapcache *mc);

/*
 * The frame behind an address from map_domain_page() (current VCPU) or from
 * vmap (map_domain_page_global); panics naming any other address. Image
 * only: arch/arm32/domain_page.c. (Its declaration belongs in domain_page.h.)
 */
mfn_t domain_page_map_to_mfn(const void *va);

/*
 * The slot table: a summary line, then one line per slot that is not free
 * (slot, VA, MFN, count), each handed to sink without a newline, or printed
 * when sink is NULL.
 */
typedef void (*mapcache_dump_sink)(void *ctx, const char *line);
void mapcache_dump(const struct mapcache *mc, mapcache_dump_sink sink, void *ctx);

/*
 * Where the exhaustion panic sends its dump: the console by default (NULL).
 * For tests that check the dump; returns the previous sink and context.
 */
void mapcache_set_panic_dump_sink(mapcache_dump_sink sink, void *ctx,
                                  mapcache_dump_sink *old_sink, void **old_ctx);

#endif
