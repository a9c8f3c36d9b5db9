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

/* One conversion's flags, field width, precision and length modifier. */
struct spec {
    bool left, zero, plus, space;
    int width;
    int precision;  /* -1: none */
    int length;     /* -2 hh, -1 h, 0 none, 1 l, 2 ll, 3 z */
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

/* A number written in the format, or taken from the arguments for '*'. */
static int read_count(const char **fmt, va_list *ap)
{
    int n = 0;

    if (**fmt == '*') {
        (*fmt)++;
        return va_arg(*ap, int);
    }
    while (**fmt >= '0' && **fmt <= '9')
        n = n * 10 + (*(*fmt)++ - '0');
    return n;
}

/* Reads what follows '%' up to the conversion character, which it returns a pointer to. */
static const char *parse_spec(const char *fmt, struct spec *sp, va_list *ap)
{
    for (;; fmt++) {
        if (*fmt == '-') sp->left = true;
        else if (*fmt == '0') sp->zero = true;
        else if (*fmt == '+') sp->plus = true;
        else if (*fmt == ' ') sp->space = true;
        else break;
    }
    sp->width = read_count(&fmt, ap);
    if (sp->width < 0) {            /* from '*': a negative width means '-' */
        sp->left = true;
        sp->width = -sp->width;
    }
    if (*fmt == '.') {
        fmt++;
        sp->precision = read_count(&fmt, ap);
    }
    for (;; fmt++) {
        if (*fmt == 'l') sp->length = sp->length == 1 ? 2 : 1;
        else if (*fmt == 'h') sp->length = sp->length == -1 ? -2 : -1;
        else if (*fmt == 'z') sp->length = 3;
        else break;
    }
    return fmt;
}

static long long signed_arg(const struct spec *sp, va_list *ap)
{
    switch (sp->length) {
    case -2: return (signed char)va_arg(*ap, int);
    case -1: return (short)va_arg(*ap, int);
    case 1: return va_arg(*ap, long);
    case 2: return va_arg(*ap, long long);
    case 3: return (long long)va_arg(*ap, size_t);
    default: return va_arg(*ap, int);
    }
}

static unsigned long long unsigned_arg(const struct spec *sp, va_list *ap)
{
    switch (sp->length) {
    case -2: return (unsigned char)va_arg(*ap, unsigned int);
    case -1: return (unsigned short)va_arg(*ap, unsigned int);
    case 1: return va_arg(*ap, unsigned long);
    case 2: return va_arg(*ap, unsigned long long);
    case 3: return va_arg(*ap, size_t);
    default: return va_arg(*ap, unsigned int);
    }
}

static void put_char(struct out *o, char c, const struct spec *sp)
{
    if (!sp->left)
        pad(o, ' ', sp->width - 1);
    put(o, c);
    if (sp->left)
        pad(o, ' ', sp->width - 1);
}

/* Writes one conversion. False for a lone '%' at the end of the format. */
static bool put_conversion(struct out *o, char conv, struct spec *sp, va_list *ap)
{
    switch (conv) {
    case 'd':
    case 'i': {
        long long v = signed_arg(sp, ap);

        put_number(o, v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v, v < 0, 10,
                   false, NULL, sp);
        return true;
    }
    case 'u':
    case 'x':
    case 'X':
    case 'o':
        sp->plus = sp->space = false;
        put_number(o, unsigned_arg(sp, ap), false, conv == 'u' ? 10 : conv == 'o' ? 8 : 16,
                   conv == 'X', NULL, sp);
        return true;
    case 'p':
        sp->plus = sp->space = false;
        put_number(o, (uintptr_t)va_arg(*ap, void *), false, 16, false, "0x", sp);
        return true;
    case 'c':
        put_char(o, (char)va_arg(*ap, int), sp);
        return true;
    case 's':
        put_string(o, va_arg(*ap, const char *), sp);
        return true;
    case '%':
        put(o, '%');
        return true;
    case '\0':
        return false;
    default:                /* unknown conversion: show it as written */
        put(o, '%');
        put(o, conv);
        return true;
    }
}

int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = { buf, size, 0 };
    va_list args;

    va_copy(args, ap);
    for (; *fmt; fmt++) {
        struct spec sp = { .precision = -1 };

        if (*fmt != '%') {
            put(&o, *fmt);
            continue;
        }
        fmt = parse_spec(fmt + 1, &sp, &args);
        if (!put_conversion(&o, *fmt, &sp, &args))
            break;
    }
    va_end(args);
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
