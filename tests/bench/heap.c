/*
 * Heap benchmarks, next to a minimal buddy allocator doing the same work:
 * the common case (below), the general path (split, merge, a random mix,
 * fill and drain: further down), and the lock under contention.
 *
 * Common case: one operation is an allocation and the free that gives it back. The
 * set-up takes eight blocks of the order measured and gives back every
 * second one: their buddies stay held, so the free list of that order holds
 * four blocks that cannot merge. Every operation then finds a block at the
 * head of a list that stays non-empty and gives it back without a merge:
 * the common case of a busy heap, and the same path in both allocators.
 *
 * The reference ("ref_buddy_*") is the smallest useful intrusive buddy: one
 * free list per order, 32-bit links in a per-page array, a loop to find the
 * first non-empty order, merge while the buddy is a free block of the same
 * order. No zones, no heaps, no lock, no per-page state, no counters, no
 * checks. Its allocation and free are calls taking the order as an
 * argument, as the heap's API is. The heap's figures include its lock; the
 * "spinlock" benchmark gives its cost, and make bench prints each ratio
 * with and without it (BENCHMARK_AGAINST's lock pairs).
 */
#include <lib/lib.h>
#include <mm/mm.h>
#include <mm/page_alloc.h>
#include <test/bench.h>
#ifdef CONFIG_HOST
#include <host/machine.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#endif

/* --- the heap ------------------------------------------------------------ */

#define HELD 8

static struct page_info *held_page[HELD];

#ifdef CONFIG_HOST
static bool made_machine;
#endif

/* The image boots with its heap; a host benchmark makes the default machine. */
static void heap_up(void)
{
#ifdef CONFIG_HOST
    if (!host_machine_present()) {
        if (host_machine_create_default() != 0)
            panic("bench: cannot create the host machine");
        made_machine = true;
    }
#endif
}

static void heap_down(void)
{
#ifdef CONFIG_HOST
    if (made_machine)
        host_machine_destroy();
    made_machine = false;
#endif
}

static void domheap_setup(unsigned int order)
{
    heap_up();
    for (unsigned int i = 0; i < HELD; i++)
        if (!(held_page[i] = alloc_domheap_pages(NULL, order, MEMF_no_scrub)))
            panic("bench: no order-%u domheap blocks", order);
    for (unsigned int i = 1; i < HELD; i += 2)
        free_domheap_pages(held_page[i], order);
}

static void domheap_teardown(unsigned int order)
{
    for (unsigned int i = 0; i < HELD; i += 2)
        free_domheap_pages(held_page[i], order);
    heap_down();
}

static void domheap_run(unsigned int order, unsigned long n)
{
    while (n--) {
        struct page_info *pg = alloc_domheap_pages(NULL, order, MEMF_no_scrub);

        free_domheap_pages(pg, order);
    }
}

static void order0_setup(void) { domheap_setup(0); }
static void order0_teardown(void) { domheap_teardown(0); }
static void order0_run(unsigned long n) { domheap_run(0, n); }
static void order9_setup(void) { domheap_setup(9); }
static void order9_teardown(void) { domheap_teardown(9); }
static void order9_run(unsigned long n) { domheap_run(9, n); }

static void *held_va[HELD];

static void xenheap_setup(void)
{
    heap_up();
    for (unsigned int i = 0; i < HELD; i++)
        if (!(held_va[i] = alloc_xenheap_pages(0, MEMF_no_scrub)))
            panic("bench: no xenheap pages");
    for (unsigned int i = 1; i < HELD; i += 2)
        free_xenheap_pages(held_va[i], 0);
}

static void xenheap_teardown(void)
{
    for (unsigned int i = 0; i < HELD; i += 2)
        free_xenheap_pages(held_va[i], 0);
    heap_down();
}

static void xenheap_run(unsigned long n)
{
    while (n--)
        free_xenheap_pages(alloc_xenheap_pages(0, MEMF_no_scrub), 0);
}

BENCHMARK_AGAINST(heap_order0, "alloc_domheap_pages + free_domheap_pages, order 0, buddy held",
                  order0_setup, order0_run, order0_teardown, 0, 0, "ref_buddy_order0", 2);
BENCHMARK_AGAINST(heap_order9, "alloc_domheap_pages + free_domheap_pages, order 9, buddy held",
                  order9_setup, order9_run, order9_teardown, 0, 0, "ref_buddy_order9", 2);
BENCHMARK_AGAINST(heap_xen_order0, "alloc_xenheap_pages + free_xenheap_pages, order 0, buddy held",
                  xenheap_setup, xenheap_run, xenheap_teardown, 0, 0, "ref_buddy_order0", 2);

/* --- the reference buddy ------------------------------------------------- */

#define REF_MAX_TOP 14                  /* manages up to 2^14 pages */
#define REF_NONE 0xffffffffu

struct ref_page {
    unsigned int next, prev;
    unsigned char order;
    unsigned char free;
};

static struct ref_page *ref;            /* 2^REF_MAX_TOP entries, from the xenheap */
static unsigned int ref_head[REF_MAX_TOP + 1];
static unsigned int ref_top;            /* the order of the one block it starts with */
static unsigned int ref_held[HELD], ref_meta_order;

static always_inline void ref_push(unsigned int i, unsigned int order)
{
    ref[i].free = 1;
    ref[i].order = (unsigned char)order;
    ref[i].prev = REF_NONE;
    ref[i].next = ref_head[order];
    if (ref_head[order] != REF_NONE)
        ref[ref_head[order]].prev = i;
    ref_head[order] = i;
}

static always_inline void ref_unlink(unsigned int i, unsigned int order)
{
    if (ref[i].prev != REF_NONE)
        ref[ref[i].prev].next = ref[i].next;
    else
        ref_head[order] = ref[i].next;
    if (ref[i].next != REF_NONE)
        ref[ref[i].next].prev = ref[i].prev;
    ref[i].free = 0;
}

/* Out of line, like the heap's API; its list operations inline, like the heap's. */
static noinline unsigned int ref_alloc(unsigned int order)
{
    unsigned int o, i, top = ref_top;

    for (o = order; o <= top && ref_head[o] == REF_NONE; o++)
        ;
    if (o > top)
        return REF_NONE;
    i = ref_head[o];
    ref_unlink(i, o);
    while (o > order) {
        o--;
        ref_push(i + (1u << o), o);
    }
    ref[i].order = (unsigned char)order;
    return i;
}

static noinline void ref_free(unsigned int i, unsigned int order)
{
    unsigned int top = ref_top;

    while (order < top) {
        unsigned int buddy = i ^ (1u << order);

        if (!ref[buddy].free || ref[buddy].order != order)
            break;
        ref_unlink(buddy, order);
        i &= ~(1u << order);
        order++;
    }
    ref_push(i, order);
}

/* The reference with one free block of 2^top pages. */
static void ref_up(unsigned int top)
{
    size_t bytes = (1u << REF_MAX_TOP) * sizeof(struct ref_page);

    heap_up();
    for (ref_meta_order = 0; (PAGE_SIZE << ref_meta_order) < bytes; ref_meta_order++)
        ;
    ref = alloc_xenheap_pages(ref_meta_order, 0);
    if (!ref)
        panic("bench: no xenheap memory for the reference buddy");
    ref_top = top;
    for (unsigned int o = 0; o <= REF_MAX_TOP; o++)
        ref_head[o] = REF_NONE;
    for (unsigned int i = 0; i < 1u << top; i++)
        ref[i].free = 0;
    ref_push(0, top);
}

static void ref_setup(unsigned int order)
{
    ref_up(13);
    for (unsigned int i = 0; i < HELD; i++)
        ref_held[i] = ref_alloc(order);
    for (unsigned int i = 1; i < HELD; i += 2)
        ref_free(ref_held[i], order);
}

static void ref_teardown(void)
{
    free_xenheap_pages(ref, ref_meta_order);
    ref = NULL;
    heap_down();
}

static void ref_run(unsigned int order, unsigned long n)
{
    while (n--)
        ref_free(ref_alloc(order), order);
}

static void ref0_setup(void) { ref_setup(0); }
static void ref0_run(unsigned long n) { ref_run(0, n); }
static void ref9_setup(void) { ref_setup(9); }
static void ref9_run(unsigned long n) { ref_run(9, n); }

BENCHMARK(ref_buddy_order0, "minimal buddy (no lock, no checks): alloc + free, order 0",
          ref0_setup, ref0_run, ref_teardown);
BENCHMARK(ref_buddy_order9, "minimal buddy (no lock, no checks): alloc + free, order 9",
          ref9_setup, ref9_run, ref_teardown);

/*
 * --- the general path ----------------------------------------------------
 *
 * Three workloads, each run on the domheap, on the xenheap and on the
 * reference, from the same state: one free block of 2^top pages whose
 * buddy is held, and nothing else free. The heap gets there by allocating
 * that block, then every other free block it has (the "drain"), then giving
 * the block back; the reference starts that way. Block for block, both
 * then split, merge and list the same blocks in the same order: only their
 * bookkeeping differs.
 *
 *  - split_merge: an order-0 allocation and its free; each allocation
 *    splits the whole block down to one page, each free merges it back up.
 *  - mix: a fixed pseudo-random sequence over 128 slots, each with an order
 *    from 0 to 4: a step frees its slot's block if it holds one, else
 *    allocates it. Half the steps allocate, half free, at a steady state
 *    reached in the set-up (one pass over the sequence). One operation is
 *    one step.
 *  - fill: allocate every page of the block one at a time, then free them
 *    all in the same order. One unit is a page allocated and freed.
 *
 * The domheap's block is 64 MiB (top 14); the xenheap's 8 MiB (top 11), the
 * largest whole block a 32 MiB xenheap has once its buffer pages are
 * withheld.
 */
#define DOM_TOP 14
#define XEN_TOP 11
BUILD_BUG_ON(DOM_TOP > REF_MAX_TOP || XEN_TOP > REF_MAX_TOP);

enum bench_heap { ON_DOMHEAP, ON_XENHEAP, ON_REF };

/* A block: a page_info, a xenheap address or a reference index. */
typedef uintptr_t block_t;

static always_inline block_t no_block(enum bench_heap h)
{
    return h == ON_REF ? REF_NONE : 0;
}

static always_inline block_t block_alloc(enum bench_heap h, unsigned int order)
{
    switch (h) {
    case ON_DOMHEAP:
        return (block_t)alloc_domheap_pages(NULL, order, MEMF_no_scrub);
    case ON_XENHEAP:
        return (block_t)alloc_xenheap_pages(order, MEMF_no_scrub);
    case ON_REF:
        break;
    }
    return ref_alloc(order);
}

static always_inline void block_free(enum bench_heap h, block_t b, unsigned int order)
{
    switch (h) {
    case ON_DOMHEAP:
        free_domheap_pages((struct page_info *)b, order);
        return;
    case ON_XENHEAP:
        free_xenheap_pages((void *)b, order);
        return;
    case ON_REF:
        break;
    }
    ref_free((unsigned int)b, order);
}

#define MAX_DRAINED 4096

static block_t drained[MAX_DRAINED];
static unsigned char drained_order[MAX_DRAINED];
static unsigned int nr_drained;

/* Leaves heap h (or the reference) with one free block of 2^top pages, its buddy held. */
static void general_up(enum bench_heap h, unsigned int top)
{
    block_t b, keep;

    if (h == ON_REF) {
        ref_up(top);
        return;
    }
    heap_up();
    keep = block_alloc(h, top);
    if (keep == no_block(h))
        panic("bench: no free order-%u block to benchmark on", top);
    nr_drained = 0;
    for (unsigned int o = MAX_ORDER + 1; o-- > 0;)
        while ((b = block_alloc(h, o)) != no_block(h)) {
            if (nr_drained == MAX_DRAINED)
                panic("bench: more than %u free blocks to take out of the heap", MAX_DRAINED);
            drained[nr_drained] = b;
            drained_order[nr_drained++] = (unsigned char)o;
        }
    block_free(h, keep, top);
}

static void general_down(enum bench_heap h)
{
    if (h == ON_REF) {
        ref_teardown();
        return;
    }
    for (unsigned int i = 0; i < nr_drained; i++)
        block_free(h, drained[i], drained_order[i]);
    nr_drained = 0;
    heap_down();
}

static always_inline void split_merge_run(enum bench_heap h, unsigned long n)
{
    while (n--)
        block_free(h, block_alloc(h, 0), 0);
}

#define MIX_SLOTS 128
#define MIX_STEPS 4096

static unsigned char mix_slot[MIX_STEPS], mix_order[MIX_SLOTS];
static block_t mix_block[MIX_SLOTS];
static unsigned int mix_next;

static always_inline void mix_run(enum bench_heap h, unsigned long n)
{
    while (n--) {
        unsigned int s = mix_slot[mix_next++ % MIX_STEPS];

        if (mix_block[s] != no_block(h)) {
            block_free(h, mix_block[s], mix_order[s]);
            mix_block[s] = no_block(h);
        } else {
            mix_block[s] = block_alloc(h, mix_order[s]);
        }
    }
}

static void mix_up(enum bench_heap h, unsigned int top)
{
    uint32_t x = 2463534242u;           /* xorshift32: the same sequence every time */

    general_up(h, top);
    for (unsigned int i = 0; i < MIX_STEPS; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        mix_slot[i] = (unsigned char)(x % MIX_SLOTS);
        if (i < MIX_SLOTS)
            mix_order[i] = (unsigned char)((x >> 8) % 5);
    }
    for (unsigned int s = 0; s < MIX_SLOTS; s++)
        mix_block[s] = no_block(h);
    mix_next = 0;
    mix_run(h, MIX_STEPS);
}

static void mix_down(enum bench_heap h)
{
    for (unsigned int s = 0; s < MIX_SLOTS; s++)
        if (mix_block[s] != no_block(h))
            block_free(h, mix_block[s], mix_order[s]);
    general_down(h);
}

static block_t fill_block[1u << DOM_TOP];

static always_inline void fill_run(enum bench_heap h, unsigned int top, unsigned long n)
{
    while (n--) {
        for (unsigned int i = 0; i < 1u << top; i++)
            fill_block[i] = block_alloc(h, 0);
        for (unsigned int i = 0; i < 1u << top; i++)
            block_free(h, fill_block[i], 0);
    }
}

/* Each workload on each heap: set-up, run and tear-down functions, and the entry. */
#define GENERAL_BENCH(heap, h, top)                                                         \
    static void split_##heap##_up(void) { general_up(h, top); }                            \
    static void split_##heap##_down(void) { general_down(h); }                             \
    static void split_##heap##_run(unsigned long n) { split_merge_run(h, n); }             \
    static void mix_##heap##_up(void) { mix_up(h, top); }                                  \
    static void mix_##heap##_down(void) { mix_down(h); }                                   \
    static void mix_##heap##_run(unsigned long n) { mix_run(h, n); }                       \
    static void fill_##heap##_run(unsigned long n) { fill_run(h, top, n); }

GENERAL_BENCH(dom, ON_DOMHEAP, DOM_TOP)
GENERAL_BENCH(xen, ON_XENHEAP, XEN_TOP)
GENERAL_BENCH(ref, ON_REF, DOM_TOP)
GENERAL_BENCH(ref_xen, ON_REF, XEN_TOP)

#define FILL_ROUNDS 2

BENCHMARK_AGAINST(heap_split_merge, "domheap, one free 64 MiB block: order-0 alloc (splits it "
                  "all the way) + free (merges it back)", split_dom_up, split_dom_run,
                  split_dom_down, 0, 0, "ref_split_merge", 2);
BENCHMARK_AGAINST(heap_xen_split_merge, "xenheap, one free 8 MiB block: order-0 alloc (splits "
                  "it all the way) + free (merges it back)", split_xen_up, split_xen_run,
                  split_xen_down, 0, 0, "ref_xen_split_merge", 2);
BENCHMARK(ref_split_merge, "minimal buddy, as heap_split_merge (64 MiB)", split_ref_up,
          split_ref_run, split_ref_down);
BENCHMARK(ref_xen_split_merge, "minimal buddy, as heap_xen_split_merge (8 MiB)",
          split_ref_xen_up, split_ref_xen_run, split_ref_xen_down);

BENCHMARK_AGAINST(heap_mix, "domheap in 64 MiB: one step of a random mix of orders 0-4, "
                  "half allocs, half frees, steady state", mix_dom_up, mix_dom_run, mix_dom_down,
                  0, 0, "ref_mix", 1);
BENCHMARK_AGAINST(heap_xen_mix, "xenheap in 8 MiB: one step of a random mix of orders 0-4, "
                  "half allocs, half frees, steady state", mix_xen_up, mix_xen_run, mix_xen_down,
                  0, 0, "ref_xen_mix", 1);
BENCHMARK(ref_mix, "minimal buddy, as heap_mix (64 MiB)", mix_ref_up, mix_ref_run, mix_ref_down);
BENCHMARK(ref_xen_mix, "minimal buddy, as heap_xen_mix (8 MiB)", mix_ref_xen_up,
          mix_ref_xen_run, mix_ref_xen_down);

BENCHMARK_AGAINST(heap_fill, "domheap: fill 64 MiB with order-0 pages, then free them all "
                  "(per page)", split_dom_up, fill_dom_run, split_dom_down, FILL_ROUNDS,
                  1u << DOM_TOP, "ref_fill", 2);
BENCHMARK_AGAINST(heap_xen_fill, "xenheap: fill 8 MiB with order-0 pages, then free them all "
                  "(per page)", split_xen_up, fill_xen_run, split_xen_down, FILL_ROUNDS,
                  1u << XEN_TOP, "ref_xen_fill", 2);
BENCHMARK_SCALED(ref_fill, "minimal buddy, as heap_fill (64 MiB)", split_ref_up, fill_ref_run,
                 split_ref_down, FILL_ROUNDS, 1u << DOM_TOP);
BENCHMARK_SCALED(ref_xen_fill, "minimal buddy, as heap_xen_fill (8 MiB)", split_ref_xen_up,
                 fill_ref_xen_run, split_ref_xen_down, FILL_ROUNDS, 1u << XEN_TOP);

#ifdef CONFIG_ARM32
#include <asm/smp.h>

/*
 * --- the lock under contention, in the image -----------------------------
 *
 * As heap_order0, on every online CPU at once (smp_call_all); the PMU
 * counts the boot CPU's instructions, its waits for the lock included.
 * make bench boots with 1, 2 and 4 CPUs. Under QEMU's -icount the CPUs take
 * turns, so a CPU descheduled while it holds the lock makes the others spin
 * for the rest of their turn: the figure shows that the lock is contended,
 * not what a real machine would lose.
 */
static void order0_pairs(unsigned int cpu, void *arg)
{
    (void)cpu;
    domheap_run(0, *(const unsigned long *)arg);
}

static void smp_order0_run(unsigned long n)
{
    smp_call_all(order0_pairs, &n);
}

BENCHMARK(heap_smp_order0, "as heap_order0, on every online CPU at once (the boot CPU's count)",
          order0_setup, smp_order0_run, order0_teardown);
#endif

#ifdef CONFIG_HOST
/*
 * --- host threads --------------------------------------------------------
 *
 * The host library's heap hammered by several threads at once, with the
 * host's real atomics in the lock (tools/bench_host.c: bench --threads T N).
 * This one is a wall-clock rate, not an instruction count: callgrind runs
 * one thread at a time, so it cannot show contention.
 */
static pthread_barrier_t threads_start;

static void *thread_pairs(void *arg)
{
    unsigned long n = *(const unsigned long *)arg;

    pthread_barrier_wait(&threads_start);
    while (n--) {
        struct page_info *pg = alloc_domheap_pages(NULL, 0, MEMF_no_scrub);

        if (!pg)
            panic("bench: the domheap is empty");
        free_domheap_pages(pg, 0);
    }
    return NULL;
}

static double seconds_now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int bench_heap_threads(unsigned int threads, unsigned long n)
{
    pthread_t tid[BENCH_MAX_THREADS];
    double start, elapsed;

    if (threads == 0 || threads > BENCH_MAX_THREADS)
        return -1;
    heap_up();
    pthread_barrier_init(&threads_start, NULL, threads + 1);
    for (unsigned int i = 0; i < threads; i++)
        if (pthread_create(&tid[i], NULL, thread_pairs, &n) != 0)
            panic("bench: cannot start thread %u", i);
    start = seconds_now();
    pthread_barrier_wait(&threads_start);
    for (unsigned int i = 0; i < threads; i++)
        pthread_join(tid[i], NULL);
    elapsed = seconds_now() - start;
    pthread_barrier_destroy(&threads_start);
    heap_down();
    printf("heap_threads %u: %.2f million order-0 pairs/s in all, %.1f ns per pair per thread\n",
           threads, (double)(threads * n) / elapsed / 1e6, elapsed * 1e9 / (double)n);
    return 0;
}
#endif
