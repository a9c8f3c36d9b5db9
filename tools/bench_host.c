/*
 * Host benchmark driver for callgrind (tools/bench.sh):
 *   bench --list          per line: name, description, operations, units to divide by,
 *                         reference ("-" if none), lock pairs per unit
 *   bench --threads T N   T threads each run N order-0 domheap pairs at once: the rate
 *   bench NAME N          runs NAME's set-up, N operations, tear-down
 * callgrind counts the whole process; running N and 0 operations and
 * subtracting leaves the cost of the operations alone.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <test/bench.h>

/* ITERATIONS: decimal digits only, 0 (callgrind's baseline) to BENCH_MAX_ITERATIONS. */
static bool parse_iterations(const char *s, unsigned long *n)
{
    unsigned long v = 0;

    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        v = v * 10 + (unsigned long)(*s - '0');
        if (v > BENCH_MAX_ITERATIONS)
            return false;
    }
    *n = v;
    return true;
}

int main(int argc, char **argv)
{
    const struct benchmark *b;
    unsigned long n;

    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (b = bench_first(); b; b = bench_next(b))
            printf("%s\t%s\t%lu\t%lu\t%s\t%lu\n", b->name, b->what, b->iterations,
                   b->units ? b->units : 1, b->ref ? b->ref : "-", b->locks);
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "--threads") == 0) {
        unsigned long threads;

        if (!parse_iterations(argv[2], &threads) || !parse_iterations(argv[3], &n) ||
            bench_heap_threads((unsigned int)threads, n) != 0) {
            fprintf(stderr, "bench: --threads T N: T from 1 to %u, N from 0 to %lu\n",
                    BENCH_MAX_THREADS, BENCH_MAX_ITERATIONS);
            return 2;
        }
        return 0;
    }
    if (argc != 3) {
        fprintf(stderr, "usage: bench --list | bench NAME ITERATIONS | bench --threads T N\n");
        return 2;
    }
    b = bench_find(argv[1]);
    if (!b) {
        fprintf(stderr, "bench: no benchmark named %s\n", argv[1]);
        return 2;
    }
    if (!parse_iterations(argv[2], &n)) {
        fprintf(stderr, "bench: ITERATIONS %s is not a whole number from 0 to %lu\n", argv[2],
                BENCH_MAX_ITERATIONS);
        return 2;
    }
    if (b->setup)
        b->setup();
    b->run(n);
    if (b->teardown)
        b->teardown();
    return 0;
}
