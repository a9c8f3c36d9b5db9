/*
 * The cost of map_domain_page + unmap_domain_page in the mapcache, on a VCPU
 * of the benchmark's own (in the image: real tables, never installed, so
 * the frames named are never accessed; on the host: the fake tables).
 *
 *  - hit:    the frame is already mapped (an outer reference holds it): a
 *            hash lookup and a count, no entry written, no TLB flush;
 *  - cached: the frame was mapped and released (caching policy): the same,
 *            plus taking the slot off the LRU list and putting it back;
 *  - miss:   a new frame every time, cycling through twice as many frames
 *            as slots, so every map evicts: clear + TLB flush + set;
 *  - naive:  the hit case done the way Xen's ARM32 map_domain_page does it,
 *            rewriting the entry and flushing its TLB entry on every map:
 *            what the hit path saves.
 * All four run under the caching (release) policy.
 */
#include <domain/vcpu.h>
#include <lib/lib.h>
#include <mm/mapcache.h>
#include <test/bench.h>

#define BENCH_MFN _mfn(0x100000UL)
#define MISS_FRAMES (2 * MAPCACHE_SLOTS)

static struct vcpu bench_vcpu;
static vaddr_t outer;
static unsigned int next_frame;

static struct mapcache *mc(void)
{
    return &bench_vcpu.mapcache;
}

static void start(void)
{
    if (vcpu_init(&bench_vcpu, 0, NULL) != 0)
        panic("bench: no memory for a VCPU's tables");
    mapcache_set_strict(mc(), false);
}

static void setup_hit(void)
{
    start();
    outer = mapcache_map(mc(), BENCH_MFN);
}

static void setup_cached(void)
{
    start();
    mapcache_unmap(mc(), mapcache_map(mc(), BENCH_MFN));
}

/* Warm up: after one pass over all frames every slot is cached, and each
 * new map evicts the least recently released one. */
static void setup_miss(void)
{
    start();
    for (next_frame = 0; next_frame < MISS_FRAMES; next_frame++)
        mapcache_unmap(mc(), mapcache_map(mc(), mfn_add(BENCH_MFN, next_frame)));
}

static void teardown(void)
{
    if (outer)
        mapcache_unmap(mc(), outer);
    outer = 0;
    vcpu_destroy(&bench_vcpu);
}

static void run_same_frame(unsigned long n)
{
    while (n--)
        mapcache_unmap(mc(), mapcache_map(mc(), BENCH_MFN));
}

static void run_miss(unsigned long n)
{
    while (n--) {
        mfn_t mfn = mfn_add(BENCH_MFN, next_frame++ % MISS_FRAMES);

        mapcache_unmap(mc(), mapcache_map(mc(), mfn));
    }
}

static void run_naive(unsigned long n)
{
    while (n--) {
        vaddr_t va = mapcache_map(mc(), BENCH_MFN);
        unsigned int slot = mapcache_va_slot(va);

        arch_mapcache_clear(&bench_vcpu, slot);
        arch_mapcache_set(&bench_vcpu, slot, BENCH_MFN);
        mapcache_unmap(mc(), va);
    }
}

BENCHMARK(mapcache_hit, "map_domain_page+unmap of a frame already mapped (no PTE write, no flush)",
          setup_hit, run_same_frame, teardown);
BENCHMARK(mapcache_cached, "map_domain_page+unmap of a released frame still cached",
          setup_cached, run_same_frame, teardown);
BENCHMARK(mapcache_miss, "map_domain_page+unmap of a new frame: evict (clear, TLB flush), set",
          setup_miss, run_miss, teardown);
BENCHMARK(mapcache_naive, "as mapcache_hit, but rewriting the PTE and flushing the TLB every map",
          setup_hit, run_naive, teardown);
