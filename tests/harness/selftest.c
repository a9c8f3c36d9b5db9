/*
 * Self-test runner: finds every SELFTEST in the "selftests" linker section,
 * runs those the filter selects, and reports in KTAP version 1:
 *
 *   KTAP version 1
 *   1..N
 *   # <diagnostics of a failing check>
 *   ok 1 suite.name
 *   not ok 2 suite.name
 *
 * A test fails if any of its checks failed, or if it did not leave the
 * heap's free pages as it found it.
 */
#include <arch/machine.h>
#include <lib/lib.h>
#include <mm/page_alloc.h>
#include <string.h>
#include <test/selftest.h>

/* Weak: a binary with no test at all still links, and runs none. */
extern const struct selftest __start_selftests[] __attribute__((weak));
extern const struct selftest __stop_selftests[] __attribute__((weak));

static unsigned int checks_failed;
static const char *skip_reason;
/* Per CPU: a panic on another CPU must never jump into this CPU's test. */
static struct selftest_panic_catch *panic_catcher[ARCH_MAX_CPUS];

static void selftest_panic_hook(const char *message);

void selftest_panic_expect(struct selftest_panic_catch *c)
{
    panic_set_hook(selftest_panic_hook);
    panic_catcher[arch_cpu_id() % ARCH_MAX_CPUS] = c;
}

void selftest_diag(const char *fmt, ...)
{
    char buf[400];
    va_list ap;

    va_start(ap, fmt);
    fmt_vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    printk("# %s\n", buf);
}

void selftest_skip(const char *reason)
{
    skip_reason = reason;
}

bool selftest_skip_if_heap_too_big_to_drain(void)
{
    if (!DEBUG_BUILD || avail_domheap_pages() <= (1536UL << 20) / PAGE_SIZE)
        return false;
    selftest_skip("draining more than 1.5 GiB of heap would poison all of it");
    return true;
}

bool selftest_check(bool ok, const char *file, int line, const char *expr)
{
    if (!ok) {
        checks_failed++;
        selftest_diag("%s:%d: check failed: %s", file, line, expr);
    }
    return ok;
}

bool selftest_check_eq(unsigned long long a, unsigned long long b, bool want_equal,
                       const char *file, int line, const char *ea, const char *eb)
{
    if ((a == b) != want_equal) {
        checks_failed++;
        selftest_diag("%s:%d: expected %s %s %s, got 0x%llx and 0x%llx", file, line,
                      ea, want_equal ? "==" : "!=", eb, a, b);
        return false;
    }
    return true;
}

bool selftest_check_str(const char *a, const char *b, const char *file, int line,
                        const char *ea, const char *eb)
{
    if (strcmp(a, b) != 0) {
        checks_failed++;
        selftest_diag("%s:%d: expected %s == %s, got \"%s\" and \"%s\"", file, line,
                      ea, eb, a, b);
        return false;
    }
    return true;
}

/* panic_at()'s hook: if this CPU's test expects a panic, jumps back to it. */
static void selftest_panic_hook(const char *message)
{
    struct selftest_panic_catch *c = panic_catcher[arch_cpu_id() % ARCH_MAX_CPUS];
    size_t i;

    if (!c)
        return;
    selftest_panic_expect(NULL);
    for (i = 0; i + 1 < sizeof(c->message) && message[i]; i++)
        c->message[i] = message[i];
    c->message[i] = '\0';
    c->caught = true;
    __builtin_longjmp(c->jmp, 1);
}

void selftest_panic_finish(struct selftest_panic_catch *c, const char *file, int line,
                           const char *stmt)
{
    selftest_panic_expect(NULL);
    if (!c->caught) {
        checks_failed++;
        selftest_diag("%s:%d: expected a panic containing \"%s\" from: %s", file, line,
                      c->want, stmt);
        return;
    }
    if (!strstr(c->message, c->want)) {
        checks_failed++;
        selftest_diag("%s:%d: panic said \"%s\", expected it to contain \"%s\"", file,
                      line, c->message, c->want);
        return;
    }
    selftest_diag("expected panic: %s", c->message);
}

/* Does "suite.name" match one comma-separated pattern list? */
static bool pattern_matches(const char *pat, size_t len, const struct selftest *t)
{
    size_t slen = strlen(t->suite);
    char full[128];

    if (len > 0 && pat[len - 1] == '*') {
        fmt_snprintf(full, sizeof(full), "%s.%s", t->suite, t->name);
        return strncmp(full, pat, len - 1) == 0;
    }
    if (len == slen && strncmp(pat, t->suite, slen) == 0)
        return true;
    fmt_snprintf(full, sizeof(full), "%s.%s", t->suite, t->name);
    return strlen(full) == len && strncmp(full, pat, len) == 0;
}

static bool exactly_named(const char *filter, const struct selftest *t)
{
    char full[128];
    const char *p = filter;
    size_t n = (size_t)fmt_snprintf(full, sizeof(full), "%s.%s", t->suite, t->name);

    while (p && *p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);

        if (len == n && strncmp(p, full, n) == 0)
            return true;
        p = end ? end + 1 : NULL;
    }
    return false;
}

static bool selected(const char *filter, const struct selftest *t)
{
    const char *p = filter;

    if (t->manual)
        return filter && exactly_named(filter, t);
    if (!filter || !*filter)
        return true;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);

        if (len && pattern_matches(p, len, t))
            return true;
        if (!end)
            break;
        p = end + 1;
    }
    return false;
}

/* Does the one pattern [pat, pat + len) select t (a manual test only by its exact name)? */
static bool pattern_selects(const char *pat, size_t len, const struct selftest *t)
{
    char full[128];
    size_t n;

    if (!t->manual)
        return pattern_matches(pat, len, t);
    n = (size_t)fmt_snprintf(full, sizeof(full), "%s.%s", t->suite, t->name);
    return len == n && strncmp(pat, full, n) == 0;
}

/*
 * Counts the patterns of filter that select no test, naming each if report.
 * A typo ("MMU", "mmu.", "heap.splt") would otherwise run fewer tests than
 * meant, or none, and still pass.
 */
static unsigned int patterns_matching_nothing(const char *filter, bool report)
{
    const char *p = filter;
    unsigned int bad = 0;

    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        bool any = false;

        for (const struct selftest *t = __start_selftests; t < __stop_selftests && !any; t++)
            any = len && pattern_selects(p, len, t);
        if (len && !any) {
            if (report)
                selftest_diag("test=%s: the pattern \"%.*s\" matches no test", filter,
                              (int)len, p);
            bad++;
        }
        if (!end)
            break;
        p = end + 1;
    }
    return bad;
}

int selftest_run_all(const char *filter)
{
    const struct selftest *t;
    unsigned int n = 0, i = 0;
    int failed = 0;

    printk("KTAP version 1\n");
    /* "none" runs nothing on purpose (a boot measured without tests: tools/bench.sh). */
    if (filter && strcmp(filter, SELFTEST_NONE) == 0) {
        printk("1..0\n");
        selftest_diag("test=%s: no test run, as asked", SELFTEST_NONE);
        return 0;
    }
    for (t = __start_selftests; t < __stop_selftests; t++)
        if (selected(filter, t))
            n++;
    /* Nothing runs: a selection with a typo fails before it can pass for less. */
    if (filter && *filter && (n == 0 || patterns_matching_nothing(filter, false))) {
        printk("1..0\n");
        patterns_matching_nothing(filter, true);
        selftest_diag("test=%s: no test runs and the run fails: a selection must name tests "
                      "that exist (test=%s runs none on purpose)", filter, SELFTEST_NONE);
        return 1;
    }
    printk("1..%u\n", n);

    for (t = __start_selftests; t < __stop_selftests; t++) {
        unsigned long before, after;

        if (!selected(filter, t))
            continue;
        i++;
        checks_failed = 0;
        skip_reason = NULL;
        before = heap_free_pages();
        t->fn();
        after = heap_free_pages();
        if (after != before) {
            checks_failed++;
            selftest_diag("%s.%s left the heap with %lu free pages, found it with %lu",
                          t->suite, t->name, after, before);
        }
        if (checks_failed) {
            failed++;
            printk("not ok %u %s.%s\n", i, t->suite, t->name);
        } else if (skip_reason) {
            printk("ok %u %s.%s # SKIP %s\n", i, t->suite, t->name, skip_reason);
        } else {
            printk("ok %u %s.%s\n", i, t->suite, t->name);
        }
    }
    return failed;
}
