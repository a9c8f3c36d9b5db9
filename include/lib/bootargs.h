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

#endif
