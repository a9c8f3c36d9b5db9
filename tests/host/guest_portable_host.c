/*
 * The test guest's machine-independent code (tests/guest/portable.c, the
 * very file the guest links) on the host: its cksum against coreutils'
 * `cksum` run on generated files, its bootargs parser on the cases the
 * runner and the guest rely on, and the two promises of its RAM pattern.
 * A wrong CRC here would make every initrd check in a guest fail or, worse,
 * pass for the wrong reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <test/selftest.h>
#include "../guest/portable.h"

/* What `cksum FILE` prints first, or -1 if it cannot be run. */
static long long coreutils_cksum(const unsigned char *data, size_t len)
{
    char path[] = "/tmp/hypmem-cksum-XXXXXX", cmd[64];
    long long sum = -1;
    int fd = mkstemp(path);
    FILE *p;

    if (fd < 0)
        return -1;
    if (write(fd, data, len) == (ssize_t)len) {
        snprintf(cmd, sizeof(cmd), "cksum %s", path);
        p = popen(cmd, "r");
        if (p != NULL) {
            if (fscanf(p, "%lld", &sum) != 1)
                sum = -1;
            pclose(p);
        }
    }
    close(fd);
    unlink(path);
    return sum;
}

SELFTEST(guest, cksum_matches_coreutils)
{
    /* Lengths around the ones where the appended length needs another byte. */
    static const size_t lengths[] = { 0, 1, 2, 3, 255, 256, 257, 4096, 65535, 65536, 65537,
                                      1000003 };
    unsigned char *buf = malloc(1000003);
    unsigned int seed = 12345;

    if (!EXPECT(buf != NULL))
        return;
    for (size_t i = 0; i < 1000003; i++) {
        seed = seed * 1103515245u + 12345u;
        buf[i] = (unsigned char)(seed >> 16);
    }
    for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
        long long want = coreutils_cksum(buf, lengths[i]);

        if (want < 0) {
            selftest_skip("cannot run cksum");
            free(buf);
            return;
        }
        if (!EXPECT_EQ(posix_cksum(buf, lengths[i]), want))
            selftest_diag("length %zu", lengths[i]);
    }
    free(buf);
    /* The check value of this CRC: POSIX cksum of "123456789". */
    EXPECT_EQ(posix_cksum("123456789", 9), 930766865u);
}

SELFTEST(guest, bootargs_numbers)
{
    uint64_t v = 0;

    EXPECT_EQ(bootarg_u64("seed=42", "seed", &v), BOOTARG_OK);
    EXPECT_EQ(v, 42);
    EXPECT_EQ(bootarg_u64("a=1 poke=0x3ffffffc b", "poke", &v), BOOTARG_OK);
    EXPECT_EQ(v, 0x3ffffffc);
    EXPECT_EQ(bootarg_u64("initrd_cksum=4294967295 initrd_len=3000001", "initrd_cksum", &v),
              BOOTARG_OK);
    EXPECT_EQ(v, 4294967295u);
    EXPECT_EQ(bootarg_u64("initrd_cksum=4294967295 initrd_len=3000001", "initrd_len", &v),
              BOOTARG_OK);
    EXPECT_EQ(v, 3000001);
    /* The last occurrence wins. */
    EXPECT_EQ(bootarg_u64("seed=1 seed=2", "seed", &v), BOOTARG_OK);
    EXPECT_EQ(v, 2);
    /* Only whole words: "xseed=" and "seed2=" are other keys. */
    EXPECT_EQ(bootarg_u64("xseed=5 seed2=6", "seed", &v), BOOTARG_ABSENT);
    EXPECT_EQ(bootarg_u64("", "seed", &v), BOOTARG_ABSENT);
    EXPECT_EQ(bootarg_u64("seed", "seed", &v), BOOTARG_ABSENT);
    /* Malformed values are reported, not read as 0. */
    EXPECT_EQ(bootarg_u64("seed=", "seed", &v), BOOTARG_BAD);
    EXPECT_EQ(bootarg_u64("seed=12a", "seed", &v), BOOTARG_BAD);
    EXPECT_EQ(bootarg_u64("poke=0x", "poke", &v), BOOTARG_BAD);
    EXPECT_EQ(bootarg_u64("poke=0xfg", "poke", &v), BOOTARG_BAD);
    EXPECT_EQ(bootarg_u64("n=18446744073709551616", "n", &v), BOOTARG_BAD);
    EXPECT_EQ(bootarg_u64("n=18446744073709551615", "n", &v), BOOTARG_OK);
    EXPECT_EQ(v, UINT64_MAX);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

SELFTEST(guest, ram_pattern_tells_addresses_and_seeds_apart)
{
    /* 16 MiB of guest RAM at 1 GiB, word by word: no two addresses alike, no seed alike. */
    enum { WORDS = 4 * 1024 * 1024 };
    uint32_t *seen = malloc(WORDS * sizeof(*seen));
    uint32_t same_for_two_seeds = 0, repeats = 0;

    if (!EXPECT(seen != NULL))
        return;
    for (uint32_t k = 0; k < WORDS; k++) {
        uint32_t a = 0x40000000u + 4 * k;

        seen[k] = ram_pattern(1, a);
        if (ram_pattern(2, a) == seen[k])
            same_for_two_seeds++;
    }
    qsort(seen, WORDS, sizeof(*seen), cmp_u32);
    for (uint32_t k = 1; k < WORDS; k++)
        if (seen[k] == seen[k - 1])
            repeats++;
    free(seen);
    EXPECT_EQ(same_for_two_seeds, 0);
    EXPECT_EQ(repeats, 0);
}
