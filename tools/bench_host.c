/*
 * Host benchmark driver for callgrind (tools/bench.sh):
 *   bench --list          name, description, operations and units to divide by, per line
 *   bench NAME N          runs NAME's set-up, N operations, tear-down
 * callgrind counts the whole process; running N and 0 operations and
 * subtracting leaves the cost of the operations alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <test/bench.h>

int main(int argc, char **argv)
{
    const struct benchmark *b;

    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (b = bench_first(); b; b = bench_next(b))
            printf("%s\t%s\t%lu\t%lu\n", b->name, b->what, b->iterations,
                   b->units ? b->units : 1);
        return 0;
    }
    if (argc != 3) {
        fprintf(stderr, "usage: bench --list | bench NAME ITERATIONS\n");
        return 2;
    }
    b = bench_find(argv[1]);
    if (!b) {
        fprintf(stderr, "bench: no benchmark named %s\n", argv[1]);
        return 2;
    }
    if (b->setup)
        b->setup();
    b->run(strtoul(argv[2], NULL, 0));
    if (b->teardown)
        b->teardown();
    return 0;
}
