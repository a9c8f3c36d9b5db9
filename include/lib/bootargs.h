/*
 * Boot arguments: "key=value" words separated by spaces, from
 * /chosen/bootargs (QEMU's -append). A key given twice: the last one wins.
 */
#ifndef BOOTARGS_H
#define BOOTARGS_H

#include <lib/types.h>

/* Copies the value of key into out (NUL-terminated, cut to size). Returns
 * whether the key was present; "key" alone counts as present with "". */
bool bootargs_get(const char *args, const char *key, char *out, size_t size);

/*
 * The value of key as a number from min to max, written in decimal digits
 * only: no sign (strtoul would wrap "-1" to ULONG_MAX), no base prefix, no
 * suffix, no spaces. Returns 1 with *out set, 0 if key is absent (*out
 * untouched), or -EINVAL after printing a message naming the key, the value
 * and the range.
 */
int bootargs_get_number(const char *args, const char *key, unsigned long min,
                        unsigned long max, unsigned long *out);

#endif
