/* Tests of the boot command-line reader (common/lib/bootargs.c). */
#include <lib/bootargs.h>
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
