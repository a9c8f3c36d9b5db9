/*
 * Self-tests: one source, two targets.
 *
 * A test is a function registered with SELFTEST(suite, name). Registration
 * puts a descriptor in the "selftests" linker section, so the runner finds
 * every test linked into the binary without a central list. The same test
 * files build into the host binary (with sanitizers) and into the image;
 * the runner prints KTAP version 1 on either.
 *
 * Checks do not stop the test: EXPECT* record a failure with file, line and
 * values as a KTAP diagnostic, and return whether they held so a test can
 * bail out with `if (!EXPECT(...)) return;`.
 *
 * EXPECT_PANIC(substring, statement) runs a statement that must end in
 * panic() with a message containing substring; panic() jumps back to the
 * test instead of stopping the system. Locals written inside the statement
 * and read after it must be volatile (it is a setjmp/longjmp pair).
 */
#ifndef SELFTEST_H
#define SELFTEST_H

#include <lib/types.h>

struct selftest {
    const char *suite;
    const char *name;
    void (*fn)(void);
    bool manual;        /* runs only when the filter names it exactly */
};

#define SELFTEST_DEFINE(suite, name, is_manual)                            \
    static void selftest_##suite##_##name(void);                           \
    static const struct selftest selftest_desc_##suite##_##name            \
        __attribute__((used, section("selftests"), aligned(sizeof(void *)))) = \
        { #suite, #name, selftest_##suite##_##name, is_manual };           \
    static void selftest_##suite##_##name(void)

#define SELFTEST(suite, name) SELFTEST_DEFINE(suite, name, false)

/*
 * A test that ends the run on purpose (an unexpected fault, a deliberate
 * failure): the QEMU runner selects it by name in a boot of its own and
 * checks what it prints and how QEMU exits. Never part of "all tests".
 */
#define SELFTEST_MANUAL(suite, name) SELFTEST_DEFINE(suite, name, true)

bool selftest_check(bool ok, const char *file, int line, const char *expr);
bool selftest_check_eq(unsigned long long a, unsigned long long b, bool want_equal,
                       const char *file, int line, const char *ea, const char *eb);
bool selftest_check_str(const char *a, const char *b, const char *file, int line,
                        const char *ea, const char *eb);
void selftest_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Marks the running test as skipped (it cannot run on this machine, e.g. it
 * needs a second CPU): KTAP "ok N name # SKIP reason". Runners count skips
 * apart, never as passes. The test should return right after.
 */
void selftest_skip(const char *reason);

/*
 * For tests that take (nearly) the whole domheap and give it back: in debug builds every
 * freed page is poisoned, so on a big machine (24 GiB at -m 1023G) that writes all of RAM,
 * which costs minutes under QEMU and the host that much memory. Marks the test skipped and
 * returns true when the domheap is larger than 1.5 GiB in a debug build.
 */
bool selftest_skip_if_heap_too_big_to_drain(void);

#define EXPECT(cond) selftest_check(!!(cond), __FILE__, __LINE__, #cond)
#define EXPECT_EQ(a, b) \
    selftest_check_eq((unsigned long long)(a), (unsigned long long)(b), true, __FILE__, __LINE__, #a, #b)
#define EXPECT_NE(a, b) \
    selftest_check_eq((unsigned long long)(a), (unsigned long long)(b), false, __FILE__, __LINE__, #a, #b)
#define EXPECT_STREQ(a, b) selftest_check_str((a), (b), __FILE__, __LINE__, #a, #b)

/* --- expected panics ----------------------------------------------------- */
struct selftest_panic_catch {
    void *jmp[5];             /* __builtin_setjmp buffer */
    const char *want;         /* substring the panic message must contain */
    bool caught;
    char message[256];        /* what panic() said */
};
/* Arms (or, with NULL, disarms) the running CPU's catcher. */
void selftest_panic_expect(struct selftest_panic_catch *c);

void selftest_panic_finish(struct selftest_panic_catch *c, const char *file, int line,
                           const char *stmt);

#define EXPECT_PANIC(substring, stmt)                                      \
    do {                                                                   \
        struct selftest_panic_catch catch_ = { .want = (substring) };      \
        selftest_panic_expect(&catch_);                                    \
        if (__builtin_setjmp(catch_.jmp) == 0) {                           \
            stmt;                                                          \
        }                                                                  \
        selftest_panic_finish(&catch_, __FILE__, __LINE__, #stmt);         \
    } while (0)

/* The filter that selects no test, on purpose. */
#define SELFTEST_NONE "none"

/*
 * Runs the tests whose "suite.name" matches filter (NULL or "" runs all).
 * The filter is a comma-separated list of patterns; a pattern matches a
 * whole suite ("heap"), one test ("heap.split"), or a prefix ending in '*'.
 * Every pattern must match at least one test: if one matches none (a typo),
 * nothing runs, each such pattern is named, and the run fails.
 * SELFTEST_NONE ("none") alone runs no test and passes.
 * Prints KTAP and returns the number of failed tests (1 for a selection
 * that matches nothing).
 */
int selftest_run_all(const char *filter);

#endif
