/*
 * The test guest's machine-independent code: POSIX cksum, command-line
 * numbers, the RAM pattern. Written for both compilers (the guest's
 * freestanding arm-none-eabi-gcc and the host's gcc, under the host
 * self-tests), so it uses only <stdint.h>-level C and no library calls.
 */
#include "portable.h"

#define CKSUM_POLY 0x04c11db7u

/*
 * One table entry per byte value, MSB first: the byte enters at the top of
 * the register. Built on first use; 1 KiB of bss, which the guest's image
 * carries as zeros like the rest of its bss.
 */
static uint32_t cksum_table[256];
static bool cksum_table_ready;

static void cksum_build_table(void)
{
    for (uint32_t b = 0; b < 256; b++) {
        uint32_t r = b << 24;

        for (int bit = 0; bit < 8; bit++)
            r = (r & 0x80000000u) ? (r << 1) ^ CKSUM_POLY : r << 1;
        cksum_table[b] = r;
    }
    cksum_table_ready = true;
}

static uint32_t cksum_byte(uint32_t crc, uint8_t byte)
{
    return (crc << 8) ^ cksum_table[(crc >> 24) ^ byte];
}

uint32_t posix_cksum(const void *data, size_t len)
{
    const uint8_t *p = data;
    uint32_t crc = 0;

    if (!cksum_table_ready)
        cksum_build_table();
    for (size_t i = 0; i < len; i++)
        crc = cksum_byte(crc, p[i]);
    /* POSIX appends the length, low byte first, stopping once it is used up. */
    for (uint64_t n = len; n != 0; n >>= 8)
        crc = cksum_byte(crc, (uint8_t)(n & 0xff));
    return ~crc;
}

static int digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Parses the value that ends at a space or the end of the string. */
static enum bootarg_result parse_number(const char *s, uint64_t *value)
{
    unsigned int base = 10;
    uint64_t v = 0;
    int digits = 0;

    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    for (; *s != '\0' && *s != ' '; s++) {
        int d = digit_value(*s);

        if (d < 0 || (unsigned int)d >= base)
            return BOOTARG_BAD;
        if (v > (UINT64_MAX - (uint64_t)d) / base)
            return BOOTARG_BAD;     /* would overflow */
        v = v * base + (uint64_t)d;
        digits++;
    }
    if (digits == 0)
        return BOOTARG_BAD;
    *value = v;
    return BOOTARG_OK;
}

enum bootarg_result bootarg_u64(const char *args, const char *key, uint64_t *value)
{
    enum bootarg_result found = BOOTARG_ABSENT;
    size_t keylen = 0;

    while (key[keylen] != '\0')
        keylen++;
    for (const char *w = args; *w != '\0'; w++) {
        size_t i;

        if (w != args && w[-1] != ' ')
            continue;       /* not the start of a word */
        for (i = 0; i < keylen && w[i] == key[i]; i++)
            ;
        if (i == keylen && w[i] == '=')
            found = parse_number(w + i + 1, value);
    }
    return found;
}

/*
 * An invertible 32-bit mixer (xor-shifts and odd multipliers are each
 * invertible), so distinct inputs always give distinct outputs.
 */
static uint32_t mix32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352du;
    x ^= x >> 15;
    x *= 0x846ca68bu;
    x ^= x >> 16;
    return x;
}

uint32_t ram_pattern_key(uint64_t seed)
{
    return mix32((uint32_t)seed ^ mix32((uint32_t)(seed >> 32)));
}

uint32_t ram_pattern_keyed(uint32_t key, uint32_t addr)
{
    return mix32(addr ^ key);
}

uint32_t ram_pattern(uint64_t seed, uint32_t addr)
{
    return ram_pattern_keyed(ram_pattern_key(seed), addr);
}
