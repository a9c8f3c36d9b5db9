/*
 * The image's benchmark runner: instructions counted by the PMU, which are
 * exact and repeatable under qemu -icount shift=0. The host counts the same
 * benchmarks under callgrind instead (tools/bench.sh, tools/bench_host.c).
 *
 * Instructions per operation = (count for N ops - count for 0 ops) / N:
 * running the same harness with zero iterations measures, and removes, the
 * cost of calling and of reading the counter.
 */
#include <lib/lib.h>
#include <string.h>
#include <test/bench.h>
#include <asm/pmu.h>

static uint32_t measure(const struct benchmark *b, unsigned long iterations)
{
    uint32_t start, end;

    if (b->setup)
        b->setup();
    start = pmu_instructions();
    b->run(iterations);
    end = pmu_instructions();
    if (b->teardown)
        b->teardown();
    return (uint32_t)(end - start);
}

static bool selects_all(const char *filter)
{
    return !filter || !*filter || strcmp(filter, "all") == 0;
}

/* Does the one pattern [p, p + len) match the benchmark called name? */
static bool pattern_matches(const char *p, size_t len, const char *name)
{
    size_t n = strlen(name);

    if (len && p[len - 1] == '*')
        return strncmp(p, name, len - 1) == 0;
    return len == n && strncmp(p, name, n) == 0;
}

static bool matches(const char *filter, const char *name)
{
    const char *p = filter;

    if (selects_all(filter))
        return true;
    while (p && *p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);

        if (len && pattern_matches(p, len, name))
            return true;
        p = end ? end + 1 : NULL;
    }
    return false;
}

/* Names each pattern of filter that matches no benchmark; returns how many. */
static unsigned int patterns_matching_nothing(const char *filter)
{
    const char *p = filter;
    unsigned int bad = 0, patterns = 0;

    if (selects_all(filter))
        return 0;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        bool any = false;

        for (const struct benchmark *b = bench_first(); b && len && !any; b = bench_next(b))
            any = pattern_matches(p, len, b->name);
        if (len) {
            patterns++;
            if (!any) {
                printk("bench: bench=%s: the pattern \"%.*s\" matches no benchmark\n", filter,
                       (int)len, p);
                bad++;
            }
        }
        if (!end)
            break;
        p = end + 1;
    }
    if (!patterns) {
        printk("bench: bench=%s names no benchmark\n", filter);
        bad++;
    }
    return bad;
}

int bench_run_all(const char *filter, unsigned long iterations)
{
    unsigned int count = 0;

    if (patterns_matching_nothing(filter)) {
        printk("bench: nothing run: a selection must name benchmarks that exist "
               "(bench=all runs every one)\n");
        return -1;
    }
    pmu_init();
    printk("bench: counting instructions with the PMU (exact under qemu -icount shift=0)\n");
    for (const struct benchmark *b = bench_first(); b; b = bench_next(b)) {
        uint64_t base, total;   /* wide enough for the x100 below */
        unsigned long n, units;

        if (!matches(filter, b->name))
            continue;
        n = bench_iterations_of(b, iterations);
        units = bench_units_of(b, iterations);
        base = measure(b, 0);
        total = measure(b, n);
        printk("bench %s: %llu.%02llu instructions/op (%lu ops): %s\n", b->name,
               (unsigned long long)((total - base) / units),
               (unsigned long long)(((total - base) * 100 / units) % 100), units, b->what);
        count++;
    }
    printk("bench: %u benchmarks run\n", count);
    return (int)count;
}
