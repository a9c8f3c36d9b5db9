/*
 * Reads "key=value" options out of the boot command line.
 */
#include <lib/bootargs.h>
#include <lib/errno.h>
#include <lib/lib.h>
#include <string.h>

bool bootargs_get(const char *args, const char *key, char *out, size_t size)
{
    size_t klen = strlen(key);
    bool found = false;
    const char *p = args;

    while (p && *p) {
        const char *end;
        size_t wlen;

        while (*p == ' ')
            p++;
        end = strchr(p, ' ');
        wlen = end ? (size_t)(end - p) : strlen(p);
        if (wlen >= klen && strncmp(p, key, klen) == 0 && (wlen == klen || p[klen] == '=')) {
            const char *v = wlen == klen ? p + wlen : p + klen + 1;
            size_t vlen = (size_t)(p + wlen - v);

            found = true;
            if (size) {
                if (vlen >= size)
                    vlen = size - 1;
                memcpy(out, v, vlen);
                out[vlen] = '\0';
            }
        }
        p = end;
    }
    return found;
}

int bootargs_get_number(const char *args, const char *key, unsigned long min,
                        unsigned long max, unsigned long *out)
{
    /* 20 digits hold any unsigned long; a longer value is cut, and so refused below. */
    char value[24];
    const char *p = value;
    unsigned long v = 0;
    bool fits = true;

    if (!bootargs_get(args, key, value, sizeof(value)))
        return 0;
    if (strlen(value) == sizeof(value) - 1)
        fits = false;
    if (*p == '\0')
        fits = false;
    for (; *p && fits; p++) {
        unsigned long d;

        if (*p < '0' || *p > '9') {
            fits = false;
            break;
        }
        d = (unsigned long)(*p - '0');
        /* v * 10 + d <= max, asked without overflowing. */
        if (d > max || v > (max - d) / 10)
            fits = false;
        else
            v = v * 10 + d;
    }
    if (!fits || v < min) {
        printk("bootargs: %s=%s%s is not a whole number from %lu to %lu (decimal digits "
               "only)\n", key, value, strlen(value) == sizeof(value) - 1 ? "..." : "", min,
               max);
        return -EINVAL;
    }
    *out = v;
    return 1;
}
