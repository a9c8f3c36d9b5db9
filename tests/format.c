/*
 * Tests of the formatter behind printk (common/lib/vsnprintf.c). Each expected
 * string is what the C standard specifies for that conversion; the host
 * build also compares against the C library (tests/host/format_libc.c).
 */
#include <lib/lib.h>
#include <test/selftest.h>

static const char *fmt(char *buf, size_t size, const char *f, ...) __printf(3, 4);
static const char *fmt(char *buf, size_t size, const char *f, ...)
{
    va_list ap;

    va_start(ap, f);
    fmt_vsnprintf(buf, size, f, ap);
    va_end(ap);
    return buf;
}

SELFTEST(format, integers)
{
    char b[64];

    EXPECT_STREQ(fmt(b, sizeof(b), "%d", 0), "0");
    EXPECT_STREQ(fmt(b, sizeof(b), "%d", -42), "-42");
    EXPECT_STREQ(fmt(b, sizeof(b), "%i", 2147483647), "2147483647");
    EXPECT_STREQ(fmt(b, sizeof(b), "%d", (int)0x80000000u), "-2147483648");
    EXPECT_STREQ(fmt(b, sizeof(b), "%u", 4294967295u), "4294967295");
    EXPECT_STREQ(fmt(b, sizeof(b), "%x", 0xdeadbeefu), "deadbeef");
    EXPECT_STREQ(fmt(b, sizeof(b), "%X", 0xdeadbeefu), "DEADBEEF");
    EXPECT_STREQ(fmt(b, sizeof(b), "%lx", 0x12345678UL), "12345678");
    EXPECT_STREQ(fmt(b, sizeof(b), "%llx", 0x1c0000000ULL), "1c0000000");
    EXPECT_STREQ(fmt(b, sizeof(b), "%llx", ~0ULL), "ffffffffffffffff");
    EXPECT_STREQ(fmt(b, sizeof(b), "%lld", -9223372036854775807LL - 1),
                 "-9223372036854775808");
    EXPECT_STREQ(fmt(b, sizeof(b), "%zu", (size_t)4096), "4096");
    EXPECT_STREQ(fmt(b, sizeof(b), "%hhx", 0x1ff), "ff");
}

SELFTEST(format, width_and_padding)
{
    char b[64];

    EXPECT_STREQ(fmt(b, sizeof(b), "[%5d]", 42), "[   42]");
    EXPECT_STREQ(fmt(b, sizeof(b), "[%-5d]", 42), "[42   ]");
    EXPECT_STREQ(fmt(b, sizeof(b), "[%05d]", -42), "[-0042]");
    EXPECT_STREQ(fmt(b, sizeof(b), "[%08x]", 0xbeefu), "[0000beef]");
    EXPECT_STREQ(fmt(b, sizeof(b), "[%016llx]", 0x40000000ULL), "[0000000040000000]");
    EXPECT_STREQ(fmt(b, sizeof(b), "[%*d]", 4, 7), "[   7]");
    EXPECT_STREQ(fmt(b, sizeof(b), "[%2d]", 12345), "[12345]");
    EXPECT_STREQ(fmt(b, sizeof(b), "[%.3d]", 5), "[005]");
}

SELFTEST(format, strings_chars_pointers)
{
    char b[64];

    EXPECT_STREQ(fmt(b, sizeof(b), "%s|%c|%%", "hyp", 'x'), "hyp|x|%");
    EXPECT_STREQ(fmt(b, sizeof(b), "[%6s][%-4s]", "ab", "cd"), "[    ab][cd  ]");
    EXPECT_STREQ(fmt(b, sizeof(b), "[%.2s]", "abcdef"), "[ab]");
    const char *volatile null_string = NULL;   /* hidden from -Wformat-overflow */
    EXPECT_STREQ(fmt(b, sizeof(b), "%s", null_string), "(null)");
    EXPECT_STREQ(fmt(b, sizeof(b), "%p", (void *)0x200000), "0x200000");
    EXPECT_STREQ(fmt(b, sizeof(b), "[%3c]", 'z'), "[  z]");
}

SELFTEST(format, truncation_returns_full_length)
{
    char b[8];
    int n = fmt_snprintf(b, sizeof(b), "%s", "0123456789");

    EXPECT_EQ(n, 10);
    EXPECT_STREQ(b, "0123456");
    EXPECT_EQ(fmt_snprintf(b, 0, "%d", 12345), 5);
    EXPECT_EQ(fmt_snprintf(NULL, 0, "%llx", 0x1000ULL), 4);
}
