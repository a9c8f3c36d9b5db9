/*
 * A small printf-style formatter for the console and the tests.
 *
 * Supports %d %i %u %x %X %o %c %s %p %%, the length modifiers h, hh, l, ll
 * and z, a field width (digits or '*'), a precision for %s and integers, and
 * the flags '0', '-', ' ' and '+'. Like C99's vsnprintf it returns the length
 * the whole output would have had, and always NUL-terminates when size > 0.
 * No floating point: the hypervisor never prints any.
 */
#include <lib/lib.h>

struct out {
    char *buf;
    size_t size;
    size_t len;     /* characters produced so far, written or not */
};

static void put(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static void pad(struct out *o, char c, int n)
{
    while (n-- > 0)
        put(o, c);
}

struct spec {
    bool left, zero, plus, space;
    int width;
    int precision;  /* -1: none */
};

static void put_string(struct out *o, const char *s, const struct spec *sp)
{
    size_t n = 0;

    if (!s)
        s = "(null)";
    while (s[n] && (sp->precision < 0 || n < (size_t)sp->precision))
        n++;
    if (!sp->left)
        pad(o, ' ', sp->width - (int)n);
    for (size_t i = 0; i < n; i++)
        put(o, s[i]);
    if (sp->left)
        pad(o, ' ', sp->width - (int)n);
}

static void put_number(struct out *o, unsigned long long v, bool negative,
                       unsigned int base, bool upper, const char *prefix,
                       const struct spec *sp)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[24];
    int nd = 0, zeros = 0, width;
    char sign = negative ? '-' : sp->plus ? '+' : sp->space ? ' ' : 0;
    int plen = prefix ? 2 : 0;

    do {
        tmp[nd++] = digits[v % base];
        v /= base;
    } while (v);
    if (sp->precision == 0 && nd == 1 && tmp[0] == '0')
        nd = 0;                                  /* "%.0d" of 0 prints nothing */
    if (sp->precision > nd)
        zeros = sp->precision - nd;

    width = nd + zeros + (sign ? 1 : 0) + plen;
    if (sp->zero && !sp->left && sp->precision < 0 && sp->width > width) {
        zeros += sp->width - width;
        width = sp->width;
    }
    if (!sp->left)
        pad(o, ' ', sp->width - width);
    if (sign)
        put(o, sign);
    if (prefix) {
        put(o, prefix[0]);
        put(o, prefix[1]);
    }
    pad(o, '0', zeros);
    while (nd)
        put(o, tmp[--nd]);
    if (sp->left)
        pad(o, ' ', sp->width - width);
}

int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = { buf, size, 0 };

    for (; *fmt; fmt++) {
        struct spec sp = { .precision = -1 };
        int lng = 0;            /* -2 hh, -1 h, 1 l, 2 ll, 3 z */

        if (*fmt != '%') {
            put(&o, *fmt);
            continue;
        }
        fmt++;
        for (;; fmt++) {
            if (*fmt == '-') sp.left = true;
            else if (*fmt == '0') sp.zero = true;
            else if (*fmt == '+') sp.plus = true;
            else if (*fmt == ' ') sp.space = true;
            else break;
        }
        if (*fmt == '*') {
            sp.width = va_arg(ap, int);
            if (sp.width < 0) {
                sp.left = true;
                sp.width = -sp.width;
            }
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9')
            sp.width = sp.width * 10 + (*fmt++ - '0');
        if (*fmt == '.') {
            fmt++;
            sp.precision = 0;
            if (*fmt == '*') {
                sp.precision = va_arg(ap, int);
                fmt++;
            }
            while (*fmt >= '0' && *fmt <= '9')
                sp.precision = sp.precision * 10 + (*fmt++ - '0');
        }
        for (;; fmt++) {
            if (*fmt == 'l') lng = lng == 1 ? 2 : 1;
            else if (*fmt == 'h') lng = lng == -1 ? -2 : -1;
            else if (*fmt == 'z') lng = 3;
            else break;
        }

        switch (*fmt) {
        case 'd':
        case 'i': {
            long long v = lng == 2 ? va_arg(ap, long long)
                        : lng == 1 ? va_arg(ap, long)
                        : lng == 3 ? (long long)va_arg(ap, size_t)
                        : va_arg(ap, int);
            if (lng == -1) v = (short)v;
            if (lng == -2) v = (signed char)v;
            put_number(&o, v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v,
                       v < 0, 10, false, NULL, &sp);
            break;
        }
        case 'u':
        case 'x':
        case 'X':
        case 'o': {
            unsigned long long v = lng == 2 ? va_arg(ap, unsigned long long)
                                 : lng == 1 ? va_arg(ap, unsigned long)
                                 : lng == 3 ? va_arg(ap, size_t)
                                 : va_arg(ap, unsigned int);
            unsigned int base = *fmt == 'u' ? 10 : *fmt == 'o' ? 8 : 16;
            if (lng == -1) v = (unsigned short)v;
            if (lng == -2) v = (unsigned char)v;
            sp.plus = sp.space = false;
            put_number(&o, v, false, base, *fmt == 'X', NULL, &sp);
            break;
        }
        case 'p': {
            struct spec p = sp;
            p.plus = p.space = false;
            put_number(&o, (uintptr_t)va_arg(ap, void *), false, 16, false, "0x", &p);
            break;
        }
        case 'c': {
            char c = (char)va_arg(ap, int);
            if (!sp.left)
                pad(&o, ' ', sp.width - 1);
            put(&o, c);
            if (sp.left)
                pad(&o, ' ', sp.width - 1);
            break;
        }
        case 's':
            put_string(&o, va_arg(ap, const char *), &sp);
            break;
        case '%':
            put(&o, '%');
            break;
        case '\0':
            fmt--;              /* a lone '%' at the end: stop cleanly */
            break;
        default:                /* unknown conversion: show it as written */
            put(&o, '%');
            put(&o, *fmt);
            break;
        }
    }
    if (size)
        buf[o.len < size ? o.len : size - 1] = '\0';
    return o.len > 0x7fffffff ? 0x7fffffff : (int)o.len;
}

int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = fmt_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
