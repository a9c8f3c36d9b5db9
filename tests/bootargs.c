/* Tests of the boot command-line reader (common/lib/bootargs.c). */
#include <lib/bootargs.h>
#include <lib/errno.h>
#include <test/selftest.h>

SELFTEST(bootargs, finds_values)
{
    char v[32];

    EXPECT(bootargs_get("test=heap,format seed=7", "test", v, sizeof(v)));
    EXPECT_STREQ(v, "heap,format");
    EXPECT(bootargs_get("test=heap seed=7", "seed", v, sizeof(v)));
    EXPECT_STREQ(v, "7");
    EXPECT(!bootargs_get("testing=1 xtest=2", "test", v, sizeof(v)));
    EXPECT(bootargs_get("  quiet  ", "quiet", v, sizeof(v)));
    EXPECT_STREQ(v, "");
    EXPECT(!bootargs_get("", "test", v, sizeof(v)));
}

SELFTEST(bootargs, last_wins_and_cuts)
{
    char v[4];

    EXPECT(bootargs_get("a=1 a=22", "a", v, sizeof(v)));
    EXPECT_STREQ(v, "22");
    EXPECT(bootargs_get("a=123456", "a", v, sizeof(v)));
    EXPECT_STREQ(v, "123");
}

/*
 * Numbers are decimal digits from min to max, nothing else: "-1" must not
 * wrap to ULONG_MAX (bench_iterations=-1 ran for minutes), nor a cut value
 * read as a smaller number.
 */
SELFTEST(bootargs, numbers_are_strict)
{
    static const char *const refused[] = {
        "n=-1", "n=+5", "n=0x10", "n=12abc", "n=", "n", "n=1.5", "n=1e3", "n=101",
        "n=18446744073709551616", "n=000000000000000000000000000007", "n=0",
    };
    unsigned long v = 77;

    EXPECT_EQ(bootargs_get_number("x=1", "n", 1, 100, &v), 0);
    EXPECT_EQ(v, 77);
    EXPECT_EQ(bootargs_get_number("n=5", "n", 1, 100, &v), 1);
    EXPECT_EQ(v, 5);
    EXPECT_EQ(bootargs_get_number("n=0100", "n", 1, 100, &v), 1);
    EXPECT_EQ(v, 100);
    EXPECT_EQ(bootargs_get_number("n=9", "n", 1, 8, &v), -EINVAL);
    EXPECT_EQ(bootargs_get_number("n=18446744073709551615", "n", 0, ~0UL, &v),
              sizeof(long) == 8 ? 1 : -EINVAL);
    v = 77;
    for (unsigned int i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        if (!EXPECT_EQ(bootargs_get_number(refused[i], "n", 1, 100, &v), -EINVAL))
            selftest_diag("accepted: %s", refused[i]);
    EXPECT_EQ(v, 77);
}
