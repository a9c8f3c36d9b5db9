/*
 * The test guest's runtime (see runtime.h): hypercalls, PSCI, formatting,
 * timeouts, cache maintenance, and the C library functions libfdt links
 * against. Everything here must be safe on several VCPUs at once: no
 * shared buffers (each line is formatted on the caller's stack and written
 * in one hypercall, so the hypervisor keeps it whole).
 */
#include <stdlib.h>
#include <string.h>
#include "runtime.h"

/* Called by code built with -fstack-protector (libfdt, this guest). */
void __stack_chk_fail(void) __attribute__((noreturn));

#define HYPERCALL_CONSOLE_IO    18
#define CONSOLEIO_WRITE         0

int32_t hyp_console_write(const char *text, uint32_t len)
{
    register uint32_t r0 __asm__("r0") = CONSOLEIO_WRITE;
    register uint32_t r1 __asm__("r1") = len;
    register uint32_t r2 __asm__("r2") = (uint32_t)(uintptr_t)text;
    register uint32_t r12 __asm__("r12") = HYPERCALL_CONSOLE_IO;

    /* Xen may clobber the argument registers (its debug builds do on purpose). */
    __asm__ volatile(".arch_extension virt\n\thvc #0xea1"
                     : "+r"(r0), "+r"(r1), "+r"(r2), "+r"(r12)
                     :
                     : "r3", "r4", "memory");
    return (int32_t)r0;
}

int32_t psci_call(uint32_t fn, uint32_t a1, uint32_t a2, uint32_t a3)
{
    register uint32_t r0 __asm__("r0") = fn;
    register uint32_t r1 __asm__("r1") = a1;
    register uint32_t r2 __asm__("r2") = a2;
    register uint32_t r3 __asm__("r3") = a3;

    /* SMC Calling Convention: r0-r3 may come back changed, r4-r14 kept. */
    __asm__ volatile(".arch_extension virt\n\thvc #0"
                     : "+r"(r0), "+r"(r1), "+r"(r2), "+r"(r3)
                     :
                     : "memory");
    return (int32_t)r0;
}

/* ------------------------------------------------------------ formatting */
struct out {
    char *buf;
    size_t size;
    size_t len;         /* as if the buffer were unlimited, like snprintf */
};

static void put(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static void put_number(struct out *o, unsigned long long v, unsigned int base, bool negative,
                       unsigned int width, char pad)
{
    char digits[24];
    unsigned int n = 0;

    do {
        unsigned int d = (unsigned int)(v % base);

        digits[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v /= base;
    } while (v != 0);
    if (negative)
        width = width > 0 ? width - 1 : 0;
    if (negative && pad == '0')
        put(o, '-');
    for (unsigned int i = n; i < width; i++)
        put(o, pad);
    if (negative && pad != '0')
        put(o, '-');
    while (n > 0)
        put(o, digits[--n]);
}

/* Supports what the guest prints: %d %i %u %x %c %s %%, a 0 flag, a width, l and ll. */
int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = { buf, size, 0 };

    for (const char *p = fmt; *p != '\0'; p++) {
        unsigned int width = 0, longs = 0;
        char pad = ' ';

        if (*p != '%') {
            put(&o, *p);
            continue;
        }
        p++;
        if (*p == '0') {
            pad = '0';
            p++;
        }
        while (*p >= '0' && *p <= '9')
            width = width * 10 + (unsigned int)(*p++ - '0');
        while (*p == 'l') {
            longs++;
            p++;
        }
        switch (*p) {
        case 'd':
        case 'i': {
            long long v = longs >= 2 ? va_arg(ap, long long)
                        : longs == 1 ? va_arg(ap, long) : va_arg(ap, int);
            unsigned long long mag = v < 0 ? 0ULL - (unsigned long long)v
                                           : (unsigned long long)v;

            put_number(&o, mag, 10, v < 0, width, pad);
            break;
        }
        case 'u':
        case 'x': {
            unsigned long long v = longs >= 2 ? va_arg(ap, unsigned long long)
                                 : longs == 1 ? va_arg(ap, unsigned long)
                                 : va_arg(ap, unsigned int);

            put_number(&o, v, *p == 'x' ? 16 : 10, false, width, pad);
            break;
        }
        case 'c':
            put(&o, (char)va_arg(ap, int));
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);

            for (; *s != '\0'; s++)
                put(&o, *s);
            break;
        }
        case '%':
            put(&o, '%');
            break;
        default:        /* not supported: show it rather than guess */
            put(&o, '%');
            if (*p == '\0')
                p--;
            else
                put(&o, *p);
            break;
        }
    }
    if (size > 0)
        buf[o.len < size ? o.len : size - 1] = '\0';
    return (int)o.len;
}

void say(const char *fmt, ...)
{
    char line[320];
    va_list ap;
    uint32_t len, done = 0;

    va_start(ap, fmt);
    fmt_vsnprintf(line, sizeof(line) - 1, fmt, ap);
    va_end(ap);
    len = (uint32_t)strlen(line);
    line[len++] = '\n';
    /* A short write is retried; no progress (or an error) gives up: nowhere to report it. */
    for (int tries = 0; done < len && tries < 8; tries++) {
        int32_t n = hyp_console_write(line + done, len - done);

        if (n <= 0)
            break;
        done += (uint32_t)n;
    }
}

void finish(bool passed)
{
    int32_t r = psci_call(passed ? PSCI_SYSTEM_OFF : PSCI_SYSTEM_RESET, 0, 0, 0);

    say("FAIL finish: PSCI %s returned %d", passed ? "SYSTEM_OFF" : "SYSTEM_RESET", (int)r);
    psci_call(PSCI_SYSTEM_RESET, 0, 0, 0);
    /* Nothing is left to try: the runner's timeout turns this into a failure. */
    for (;;)
        __asm__ volatile("wfi");
}

/* ------------------------------------------------------------ time */
static uint64_t read_cntvct(void)
{
    uint32_t lo, hi;

    __asm__ volatile("isb\n\tmrrc p15, 1, %0, %1, c14" : "=r"(lo), "=r"(hi) :: "memory");
    return (uint64_t)hi << 32 | lo;
}

void deadline_start(struct deadline *d, uint32_t ms)
{
    uint32_t freq;

    __asm__ volatile("mrc p15, 0, %0, c14, c0, 0" : "=r"(freq));
    if (freq == 0)
        freq = 62500000;        /* QEMU's frequency, should nobody have set CNTFRQ */
    d->end = read_cntvct() + (uint64_t)freq / 1000 * ms;
    /*
     * Should the counter not move, stop after this many polls anyway: far
     * more than any wait needs (a poll is a few instructions), far less
     * than the runner's timeout under TCG.
     */
    d->spins_left = 200000000;
}

bool deadline_passed(struct deadline *d)
{
    if (d->spins_left == 0)
        return true;
    d->spins_left--;
    return read_cntvct() >= d->end;
}

/* ------------------------------------------------------------ caches */
void sync_code(uint32_t start, uint32_t len)
{
    uint32_t ctr, line;

    __asm__ volatile("mrc p15, 0, %0, c0, c0, 1" : "=r"(ctr));
    line = 4u << ((ctr >> 16) & 0xf);       /* CTR.DminLine: words per line, log2 */
    for (uint32_t a = start & ~(line - 1); a < start + len; a += line)
        __asm__ volatile("mcr p15, 0, %0, c7, c11, 1" :: "r"(a) : "memory");   /* DCCMVAU */
    dsb();
    __asm__ volatile("mcr p15, 0, %0, c7, c5, 0" :: "r"(0) : "memory");     /* ICIALLU */
    __asm__ volatile("mcr p15, 0, %0, c7, c5, 6" :: "r"(0) : "memory");     /* BPIALL */
    dsb();
    isb();
}

/* ------------------------------------------------------------ C library (for libfdt and us) */
uintptr_t __stack_chk_guard = 0x6e57a11du;

void __stack_chk_fail(void)
{
    say("FAIL stack: the stack protector caught an overwritten stack");
    finish(false);
}

void *memchr(const void *s, int c, size_t n)
{
    const unsigned char *p = s;

    for (size_t i = 0; i < n; i++)
        if (p[i] == (unsigned char)c)
            return (void *)(uintptr_t)(p + i);
    return NULL;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;

    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return 0;
}

void *memcpy(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;

    for (size_t i = 0; i < n; i++)
        d[i] = s[i];
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;

    if (d < s) {
        for (size_t i = 0; i < n; i++)
            d[i] = s[i];
    } else {
        /* Copy from the end so an overlapping source is read before it is written. */
        for (size_t i = n; i > 0; i--)
            d[i - 1] = s[i - 1];
    }
    return dst;
}

void *memset(void *s, int c, size_t n)
{
    unsigned char *p = s;

    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)c;
    return s;
}

char *strchr(const char *s, int c)
{
    for (;; s++) {
        if (*s == (char)c)
            return (char *)(uintptr_t)s;
        if (*s == '\0')
            return NULL;
    }
}

size_t strlen(const char *s)
{
    size_t n = 0;

    while (s[n] != '\0')
        n++;
    return n;
}

size_t strnlen(const char *s, size_t max)
{
    size_t n = 0;

    while (n < max && s[n] != '\0')
        n++;
    return n;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (a[i] != b[i])
            return (unsigned char)a[i] < (unsigned char)b[i] ? -1 : 1;
        if (a[i] == '\0')
            return 0;
    }
    return 0;
}

int strcmp(const char *a, const char *b)
{
    return strncmp(a, b, SIZE_MAX);
}

char *strrchr(const char *s, int c)
{
    const char *last = NULL;

    for (;; s++) {
        if (*s == (char)c)
            last = s;
        if (*s == '\0')
            return (char *)(uintptr_t)last;
    }
}

unsigned long strtoul(const char *s, char **end, int base)
{
    unsigned long v = 0;

    while (*s == ' ' || *s == '\t')
        s++;
    if ((base == 0 || base == 16) && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    } else if (base == 0) {
        base = s[0] == '0' ? 8 : 10;
    }
    for (;; s++) {
        int d;

        if (*s >= '0' && *s <= '9')
            d = *s - '0';
        else if (*s >= 'a' && *s <= 'z')
            d = *s - 'a' + 10;
        else if (*s >= 'A' && *s <= 'Z')
            d = *s - 'A' + 10;
        else
            break;
        if (d >= base)
            break;
        v = v * (unsigned long)base + (unsigned long)d;
    }
    if (end != NULL)
        *end = (char *)(uintptr_t)s;
    return v;
}
