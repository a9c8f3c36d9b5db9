/*
 * What include/dt/bootinfo.h promises about a tree bootinfo_parse() accepted,
 * checked independently of the parser. Shared by the host selftest's mutation
 * fuzzer (dtbinfo_fuzz.c) and the libFuzzer harness (tests/fuzz/dt.c), so
 * both hold the parser to the same promises.
 */
#ifndef BOOTINFO_PROMISES_H
#define BOOTINFO_PROMISES_H

#include <dt/bootinfo.h>
#include <stddef.h>

/* NULL if bi keeps every promise, else what broke. */
const char *bootinfo_check_promises(const struct bootinfo *bi);

/* A one-line message fit for the console: terminated within size, not empty, printable. */
bool bootinfo_good_message(const char *s, size_t size);

#endif
