/*
 * The formatter against the C library's snprintf, for many generated
 * conversions: the C standard defines both outputs, so any difference is a
 * bug in ours (or an extension we did not mean to make).
 */
#include <lib/lib.h>
#include <stdio.h>
#include <string.h>
#include <test/selftest.h>

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

SELFTEST(format, matches_libc)
{
    static const char *const convs[] = { "d", "i", "u", "x", "X", "lx", "llx", "lld", "llu",
                                         "ld", "lu", "zu", "hhx", "hd" };
    static const char *const flags[] = { "", "0", "-", "+", " ", "-0" };
    unsigned int mismatches = 0;

    for (unsigned int i = 0; i < 20000; i++) {
        const char *conv = convs[next() % ARRAY_SIZE(convs)];
        const char *flag = flags[next() % ARRAY_SIZE(flags)];
        unsigned int width = (unsigned int)(next() % 24);
        uint64_t v = next() >> (next() % 64);
        char spec[32], ours[128], theirs[128];
        int n1, n2;

        fmt_snprintf(spec, sizeof(spec), "[%%%s%u%s]", flag, width, conv);
        /* Pass the argument in the type the conversion expects. */
#define BOTH(type)                                                         \
        do {                                                               \
            n1 = fmt_snprintf(ours, sizeof(ours), spec, (type)v);          \
            n2 = snprintf(theirs, sizeof(theirs), spec, (type)v);          \
        } while (0)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        if (strstr(conv, "ll")) BOTH(long long);
        else if (conv[0] == 'l') BOTH(long);
        else if (conv[0] == 'z') BOTH(size_t);
        else BOTH(int);
#pragma GCC diagnostic pop
        if (n1 != n2 || strcmp(ours, theirs) != 0) {
            if (mismatches++ < 5)
                selftest_diag("%s with 0x%llx: ours \"%s\" (%d), libc \"%s\" (%d)", spec,
                              (unsigned long long)v, ours, n1, theirs, n2);
        }
    }
    EXPECT_EQ(mismatches, 0);
}
