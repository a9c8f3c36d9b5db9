/*
 * The image's own memset (arch/arm32/string.c), whose bulk path stores 32 bytes per
 * instruction: every start alignment and every length up to a few blocks, and a whole
 * page, set exactly the bytes asked for and not one byte around them.
 */
#include <string.h>
#include <test/selftest.h>

static unsigned char area[4096 + 64];

static bool set_exactly(size_t offset, size_t len, int c)
{
    size_t bad = 0;

    for (size_t i = 0; i < sizeof(area); i++)
        area[i] = (unsigned char)(i * 7 + 1);
    if (memset(area + offset, c, len) != area + offset)
        return false;
    for (size_t i = 0; i < sizeof(area); i++) {
        bool inside = i >= offset && i < offset + len;

        if (area[i] != (inside ? (unsigned char)c : (unsigned char)(i * 7 + 1)))
            bad++;
    }
    return bad == 0;
}

SELFTEST(string, memset_every_alignment_and_length)
{
    unsigned int failures = 0;

    for (size_t offset = 0; offset < 8; offset++)
        for (size_t len = 0; len <= 140; len++)
            failures += !set_exactly(offset, len, 0xa5);
    EXPECT_EQ(failures, 0);
    EXPECT(set_exactly(0, 4096, 0));
    EXPECT(set_exactly(3, 4096 + 29, 0x5a));
}
