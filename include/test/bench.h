/*
 * Benchmarks: one source, two ways of counting.
 *
 * A benchmark is a function that performs an operation `iterations` times,
 * registered with BENCHMARK(name) in the "benchmarks" section. It reports
 * no time: the image counts instructions with the PMU under QEMU's
 * `-icount shift=0` (exact and repeatable), the host under callgrind. Both
 * subtract the cost of the harness, so the figure is instructions per
 * operation.
 *
 * Set-up that should not be counted goes in `setup`/`teardown`, which run
 * outside the measured region.
 */
#ifndef BENCH_H
#define BENCH_H

#include <lib/types.h>

struct benchmark {
    const char *name;
    const char *what;                          /* one line: what one operation is */
    void (*setup)(void);
    void (*run)(unsigned long iterations);
    void (*teardown)(void);
    /*
     * For operations too large to repeat bench_iterations times (building a whole domain):
     * iterations, if not 0, is how many to run instead; units, if not 0, is how many units
     * (pages, ...) one operation is, and the figure printed is per unit.
     */
    unsigned long iterations;
    unsigned long units;
    /*
     * For a benchmark measured against a reference doing the same work: the reference's
     * name, and how many spin_lock + spin_unlock pairs one unit takes, so that make bench
     * can print the ratio with the lock's cost (the "spinlock" benchmark) taken out.
     */
    const char *ref;
    unsigned long locks;
};

#define BENCHMARK(id, description, setup_fn, run_fn, teardown_fn)          \
    BENCHMARK_SCALED(id, description, setup_fn, run_fn, teardown_fn, 0, 0)

#define BENCHMARK_SCALED(id, description, setup_fn, run_fn, teardown_fn, n, per) \
    BENCHMARK_AGAINST(id, description, setup_fn, run_fn, teardown_fn, n, per, NULL, 0)

#define BENCHMARK_AGAINST(id, description, setup_fn, run_fn, teardown_fn, n, per, ref_id, nlocks) \
    static const struct benchmark benchmark_desc_##id                      \
        __attribute__((used, section("benchmarks"), aligned(sizeof(void *)))) = \
        { #id, description, setup_fn, run_fn, teardown_fn, n, per, ref_id, nlocks }

/* How many operations to run of b, and how many units those are in all. */
static inline unsigned long bench_iterations_of(const struct benchmark *b, unsigned long asked)
{
    return b->iterations ? b->iterations : asked;
}

static inline unsigned long bench_units_of(const struct benchmark *b, unsigned long asked)
{
    return bench_iterations_of(b, asked) * (b->units ? b->units : 1);
}

const struct benchmark *bench_find(const char *name);
const struct benchmark *bench_first(void);
const struct benchmark *bench_next(const struct benchmark *b);

/*
 * The most operations bench_iterations= may ask for. The image reads a
 * 32-bit PMU counter, so one measured run must stay below 2^32
 * instructions: the costliest benchmark an iteration (vmap_512, about 62000
 * instructions, docs/benchmarks.md) allows about 69000; 50000 leaves room
 * for it to grow, and is 25 times what make bench uses (2000).
 */
#define BENCH_MAX_ITERATIONS 50000UL

/*
 * Runs the benchmarks matching filter (same patterns as tests; empty or
 * "all": every one) and prints "bench NAME: X instructions/op" lines, using
 * arch_instr_counter(). Returns the number run, or -1 without running any
 * if a pattern of filter matches no benchmark (each such pattern is named):
 * a typo must not read as a successful run of nothing.
 */
int bench_run_all(const char *filter, unsigned long iterations);

#ifdef CONFIG_HOST
/*
 * Host only: threads (1 to BENCH_MAX_THREADS) each run n order-0 domheap
 * pairs at once; prints the rate (tests/bench/heap.c). -1 if threads is out
 * of range.
 */
#define BENCH_MAX_THREADS 16
int bench_heap_threads(unsigned int threads, unsigned long n);
#endif

#endif
