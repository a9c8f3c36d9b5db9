/*
 * Reads "key=value" options out of the boot command line.
 */
#include <lib/bootargs.h>
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
