/*
 * The libc string functions the image needs (libfdt's list and ours).
 * Built only for the image: the host build uses its own libc.
 *
 * memcpy and memset move 32-bit words when both ends allow it, because page
 * clearing and copying go through them; everything else is byte by byte.
 * This file is compiled with -fno-tree-loop-distribute-patterns so that GCC
 * does not turn these loops back into calls to themselves.
 */
#include <lib/lib.h>
#include <stdlib.h>
#include <string.h>

#define WORD sizeof(unsigned long)

/*
 * Stores w over blocks * 32 bytes at p (word aligned): eight registers per STM, three
 * instructions per 32 bytes instead of seven per 16 (make bench: domain_build_256m, whose
 * cost is mostly scrubbing pages, does 1401 fewer instructions per page).
 */
static void set_32_byte_blocks(unsigned long *p, unsigned long w, size_t blocks)
{
    /* Named registers: GCC would otherwise give the eight equal values one register. */
    register unsigned long a __asm__("r4") = w, b __asm__("r5") = w, c __asm__("r6") = w;
    register unsigned long d __asm__("r7") = w, e __asm__("r8") = w, f __asm__("r9") = w;
    register unsigned long g __asm__("r10") = w, h __asm__("r11") = w;

    __asm__ volatile("1: stmia %0!, {%2, %3, %4, %5, %6, %7, %8, %9}\n"
                     "   subs %1, %1, #1\n"
                     "   bne 1b"
                     : "+r"(p), "+r"(blocks)
                     : "r"(a), "r"(b), "r"(c), "r"(d), "r"(e), "r"(f), "r"(g), "r"(h)
                     : "memory", "cc");
}

void *memset(void *s, int c, size_t n)
{
    unsigned char *p = s;
    unsigned long w = (unsigned char)c;

    w |= w << 8;
    w |= w << 16;
    while (n && ((uintptr_t)p & (WORD - 1))) {
        *p++ = (unsigned char)c;
        n--;
    }
    if (n >= 32) {
        set_32_byte_blocks((unsigned long *)(void *)p, w, n / 32);
        p += n & ~(size_t)31;
        n &= 31;
    }
    for (; n >= WORD; n -= WORD, p += WORD)
        *(unsigned long *)(void *)p = w;
    while (n--)
        *p++ = (unsigned char)c;
    return s;
}

void *memcpy(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;

    if ((((uintptr_t)d ^ (uintptr_t)s) & (WORD - 1)) == 0) {
        while (n && ((uintptr_t)d & (WORD - 1))) {
            *d++ = *s++;
            n--;
        }
        for (; n >= 4 * WORD; n -= 4 * WORD, d += 4 * WORD, s += 4 * WORD) {
            unsigned long *dw = (unsigned long *)(void *)d;
            const unsigned long *sw = (const unsigned long *)(const void *)s;
            dw[0] = sw[0]; dw[1] = sw[1]; dw[2] = sw[2]; dw[3] = sw[3];
        }
        for (; n >= WORD; n -= WORD, d += WORD, s += WORD)
            *(unsigned long *)(void *)d = *(const unsigned long *)(const void *)s;
    }
    while (n--)
        *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;

    if (d == s || n == 0)
        return dst;
    if (d < s || d >= s + n)
        return memcpy(dst, src, n);
    while (n--)                 /* overlapping, destination above: copy downwards */
        d[n] = s[n];
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *p = a, *q = b;

    for (; n; n--, p++, q++)
        if (*p != *q)
            return *p - *q;
    return 0;
}

void *memchr(const void *s, int c, size_t n)
{
    const unsigned char *p = s;

    for (; n; n--, p++)
        if (*p == (unsigned char)c)
            return (void *)(uintptr_t)p;
    return NULL;
}

size_t strlen(const char *s)
{
    const char *p = s;

    while (*p)
        p++;
    return (size_t)(p - s);
}

size_t strnlen(const char *s, size_t max)
{
    size_t n = 0;

    while (n < max && s[n])
        n++;
    return n;
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b)
            return (unsigned char)*a - (unsigned char)*b;
        if (!*a)
            break;
    }
    return 0;
}

char *strchr(const char *s, int c)
{
    for (;; s++) {
        if (*s == (char)c)
            return (char *)(uintptr_t)s;
        if (!*s)
            return NULL;
    }
}

char *strrchr(const char *s, int c)
{
    const char *last = NULL;

    for (;; s++) {
        if (*s == (char)c)
            last = s;
        if (!*s)
            return (char *)(uintptr_t)last;
    }
}

char *strstr(const char *hay, const char *needle)
{
    size_t n = strlen(needle);

    for (; *hay; hay++)
        if (strncmp(hay, needle, n) == 0)
            return (char *)(uintptr_t)hay;
    return n == 0 ? (char *)(uintptr_t)hay : NULL;
}

static int digit_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'z') return c - 'a' + 10;
    if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
    return 99;
}

/* Like the C library's: optional sign, "0x" for base 16 or 0, saturating at ULONG_MAX. */
unsigned long strtoul(const char *s, char **end, int base)
{
    const char *p = s;
    unsigned long v = 0;
    bool neg = false, overflow = false, any = false;

    while (*p == ' ' || (*p >= '\t' && *p <= '\r'))
        p++;
    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    if ((base == 0 || base == 16) && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') &&
        digit_value(p[2]) < 16) {
        p += 2;
        base = 16;
    } else if (base == 0) {
        base = p[0] == '0' ? 8 : 10;
    }
    for (;; p++) {
        int d = digit_value(*p);
        if (d >= base)
            break;
        any = true;
        if (v > (~0UL - (unsigned long)d) / (unsigned long)base)
            overflow = true;
        v = v * (unsigned long)base + (unsigned long)d;
    }
    if (end)
        *end = (char *)(uintptr_t)(any ? p : s);
    if (overflow)
        return ~0UL;
    return neg ? 0UL - v : v;
}
