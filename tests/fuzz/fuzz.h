/*
 * The entry points every harness in tests/fuzz/ provides, as libFuzzer names
 * them. The same harness links either with libFuzzer (clang, make fuzz) or
 * with replay.c (gcc, make test), which feeds it the files of a corpus.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reports a broken promise, then aborts: libFuzzer saves the input as a crash. */
static inline __attribute__((format(printf, 1, 2), noreturn)) void fuzz_fail(const char *fmt, ...)
{
    va_list ap;

    fflush(stdout);
    fprintf(stderr, "fuzz: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    abort();
}

#endif
