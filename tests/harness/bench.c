/*
 * The benchmark registry: BENCHMARK() entries in the "benchmarks" section,
 * looked up by name. The runners that count them are per target: the PMU
 * in the image (tests/arm32/bench_pmu.c), callgrind on the host
 * (tools/bench_host.c driven by tools/bench.sh).
 */
#include <lib/lib.h>
#include <string.h>
#include <test/bench.h>

extern const struct benchmark __start_benchmarks[] __attribute__((weak));
extern const struct benchmark __stop_benchmarks[] __attribute__((weak));

const struct benchmark *bench_first(void)
{
    return &__start_benchmarks[0] < &__stop_benchmarks[0] ? __start_benchmarks : NULL;
}

const struct benchmark *bench_next(const struct benchmark *b)
{
    return b + 1 < &__stop_benchmarks[0] ? b + 1 : NULL;
}

const struct benchmark *bench_find(const char *name)
{
    for (const struct benchmark *b = bench_first(); b; b = bench_next(b))
        if (strcmp(b->name, name) == 0)
            return b;
    return NULL;
}
