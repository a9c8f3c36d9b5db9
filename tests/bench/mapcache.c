/*
 * The cost of map_domain_page + unmap_domain_page, one pair an operation.
 *
 * In the image the pairs go through the API itself, on a VCPU of the
 * benchmark's own that is installed on this CPU for the run (real tables;
 * the frames are RAM the benchmark allocates, never accessed). The host's
 * map_domain_page is its RAM arena, so there the same pairs go through the
 * mapcache API on the VCPU (the fake tables): everything but the one load
 * from HTPIDR that finds the mapcache.
 *
 *  - hit:       the frame is already mapped (an outer reference holds it):
 *               bucket, slot, compare, count; no entry written, no TLB flush;
 *  - cached:    the frame was mapped and released (release policy): the
 *               same path as a hit, its count going 0 -> 1 -> 0;
 *  - miss_free: a new frame into a free slot (set: store, DSB, ISB) and its
 *               last unmap under the debug policy (clear: store, DSB,
 *               TLBIMVAH, DSB, ISB);
 *  - miss:      a new frame every time, cycling through twice as many frames
 *               as slots under the release policy, so every map evicts
 *               (the clock's next slot): clear + set;
 *  - naive:     the hit done the way Xen's ARM32 map_domain_page does it,
 *               rewriting the entry and flushing its TLB entry on every map.
 * And the references, what each figure is bounded by:
 *  - ref_mapcache_hit: the least a hit can do: one load finds a per-VCPU
 *               direct-mapped table of 1024 (frame, count) records, compare,
 *               bump the count, return the VA; the unmap finds the record
 *               from the VA and lowers the count. No collisions, no checks,
 *               no slow path: it is wrong for any other use;
 *  - ref_mapcache_pte: the entry work a miss cannot avoid: clear one slot's
 *               entry with its TLB invalidation and barriers, then set it.
 */
#include <domain/vcpu.h>
#include <lib/lib.h>
#include <mm/domain_page.h>
#include <mm/mapcache.h>
#include <mm/mm.h>
#include <mm/page_alloc.h>
#include <test/bench.h>

#define MISS_FRAMES (2 * MAPCACHE_SLOTS)
#define MISS_ORDER 11
BUILD_BUG_ON(MISS_FRAMES != 1u << MISS_ORDER);

static struct vcpu bench_vcpu;
static mfn_t first_frame;
static vaddr_t outer;
static unsigned int next_frame;

static struct mapcache *mc(void)
{
    return &bench_vcpu.mapcache;
}

#ifdef CONFIG_ARM32
static struct vcpu *previous;
static struct page_info *frames;

static void start(bool strict)
{
    frames = alloc_domheap_pages(NULL, MISS_ORDER, MEMF_no_scrub);
    if (!frames || vcpu_init(&bench_vcpu, 0, NULL) != 0)
        panic("bench: no memory for a VCPU's tables or its %u frames", MISS_FRAMES);
    first_frame = page_to_mfn(frames);
    mapcache_set_strict(mc(), strict);
    previous = current_vcpu();
    vcpu_switch_to(&bench_vcpu);
}

static void stop(void)
{
    vcpu_switch_to(previous);
    vcpu_destroy(&bench_vcpu);
    free_domheap_pages(frames, MISS_ORDER);
}

static inline vaddr_t bench_map(mfn_t mfn)
{
    return (vaddr_t)map_domain_page(mfn);
}

static inline void bench_unmap(vaddr_t va)
{
    unmap_domain_page((void *)va);
}
#else
static void start(bool strict)
{
    if (vcpu_init(&bench_vcpu, 0, NULL) != 0)
        panic("bench: no memory for a VCPU's tables");
    first_frame = _mfn(0x100000UL);     /* the host's fake tables map nothing */
    mapcache_set_strict(mc(), strict);
}

static void stop(void)
{
    vcpu_destroy(&bench_vcpu);
}

static inline vaddr_t bench_map(mfn_t mfn)
{
    return mapcache_map(mc(), mfn);
}

static inline void bench_unmap(vaddr_t va)
{
    mapcache_unmap(mc(), va);
}
#endif

static void setup_hit(void)
{
    start(false);
    outer = bench_map(first_frame);
}

static void setup_cached(void)
{
    start(false);
    bench_unmap(bench_map(first_frame));
}

/* Every map takes a free slot, and every unmap frees it again. */
static void setup_miss_free(void)
{
    start(true);
    next_frame = 0;
}

/* Warm up: after one pass over all frames every slot is cached, and each
 * new map evicts the least recently released one. */
static void setup_miss(void)
{
    start(false);
    for (next_frame = 0; next_frame < MISS_FRAMES; next_frame++)
        bench_unmap(bench_map(mfn_add(first_frame, next_frame)));
}

static void teardown(void)
{
    if (outer)
        bench_unmap(outer);
    outer = 0;
    stop();
}

static void run_same_frame(unsigned long n)
{
    while (n--)
        bench_unmap(bench_map(first_frame));
}

static void run_new_frames(unsigned long n)
{
    while (n--)
        bench_unmap(bench_map(mfn_add(first_frame, next_frame++ % MISS_FRAMES)));
}

static void run_naive(unsigned long n)
{
    while (n--) {
        vaddr_t va = bench_map(first_frame);
        unsigned int slot = mapcache_va_slot(va);

        arch_mapcache_clear(&bench_vcpu, slot);
        arch_mapcache_set(&bench_vcpu, slot, first_frame);
        bench_unmap(va);
    }
}

/* --- references ------------------------------------------------------------ */

struct ref_slot {
    mfn_t mfn;
    unsigned int count;
};

static struct ref_slot ref_table[MAPCACHE_SLOTS];
/* Reached through a pointer, as the image reaches the current mapcache. */
static struct ref_slot *volatile ref_current = ref_table;

static inline vaddr_t ref_map(mfn_t mfn)
{
    unsigned int i = mfn_x(mfn) & (MAPCACHE_SLOTS - 1);
    struct ref_slot *s = &ref_current[i];

    if (unlikely(!mfn_eq(s->mfn, mfn)))
        panic("ref_mapcache_hit: mfn 0x%lx is not in the table", mfn_x(mfn));
    s->count++;
    return mapcache_slot_va(i);
}

static inline void ref_unmap(vaddr_t va)
{
    ref_current[mapcache_va_slot(va)].count--;
}

static void setup_ref_hit(void)
{
    unsigned int i = mfn_x(first_frame) & (MAPCACHE_SLOTS - 1);

    ref_table[i] = (struct ref_slot){ first_frame, 1 };
}

static void run_ref_hit(unsigned long n)
{
    while (n--)
        ref_unmap(ref_map(first_frame));
}

/* Slot 0 of the benchmark's VCPU maps a frame; each operation replaces it. */
static void setup_ref_pte(void)
{
    start(false);
    arch_mapcache_set(&bench_vcpu, 0, first_frame);
}

static void run_ref_pte(unsigned long n)
{
    while (n--) {
        arch_mapcache_clear(&bench_vcpu, 0);
        arch_mapcache_set(&bench_vcpu, 0, first_frame);
    }
}

static void teardown_ref_pte(void)
{
    arch_mapcache_clear(&bench_vcpu, 0);
    stop();
}

/* Printed in the reverse order of these lines. */
BENCHMARK(ref_mapcache_pte, "reference for the misses: clear one slot (TLBIMVAH, barriers) + set it",
          setup_ref_pte, run_ref_pte, teardown_ref_pte);
BENCHMARK(mapcache_naive, "as mapcache_hit, but rewriting the PTE and flushing the TLB every map",
          setup_hit, run_naive, teardown);
BENCHMARK(mapcache_miss, "map+unmap of a new frame, evicting a cached one: clear, set",
          setup_miss, run_new_frames, teardown);
BENCHMARK(mapcache_miss_free, "map+unmap of a new frame, free slot (set), debug policy (clear)",
          setup_miss_free, run_new_frames, teardown);
BENCHMARK(mapcache_cached, "map+unmap of a released frame still cached: as a hit, count 0 -> 1 -> 0",
          setup_cached, run_same_frame, teardown);
BENCHMARK(ref_mapcache_hit, "reference for mapcache_hit: direct-mapped (mfn, count), no checks",
          setup_ref_hit, run_ref_hit, NULL);
BENCHMARK(mapcache_hit, "map_domain_page+unmap of a frame already mapped: no PTE write, no flush",
          setup_hit, run_same_frame, teardown);
