/*
 * The cost of the heap lock on its own, so that allocator figures can be
 * read with and without it.
 */
#include <lib/spinlock.h>
#include <test/bench.h>

static spinlock_t bench_lock = SPIN_LOCK_UNLOCKED;

static void lock_unlock(unsigned long n)
{
    while (n--) {
        spin_lock(&bench_lock);
        spin_unlock(&bench_lock);
    }
}

static void empty_loop(unsigned long n)
{
    while (n--)
        __asm__ volatile("" ::: "memory");
}

BENCHMARK(loop_overhead, "one iteration of an empty benchmark loop", NULL, empty_loop, NULL);
BENCHMARK(spinlock, "spin_lock + spin_unlock, uncontended", NULL, lock_unlock, NULL);
