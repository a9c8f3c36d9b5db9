/*
 * How the test guest reports: each check prints exactly one verdict line,
 * "ok NAME" or "FAIL NAME: first problem", and counts towards the final
 * "guest: all passed" / "guest: N failed". Further problems of the same
 * check go out as "# NAME: ..." lines, a few at most, so a broken RAM of
 * millions of words still reports in a handful of lines and in little time
 * (nothing is formatted past the cap).
 */
#ifndef GUEST_CHECKS_H
#define GUEST_CHECKS_H

#include <stdbool.h>
#include <stdint.h>

struct check {
    const char *name;
    uint32_t problems;
    char first[200];
};

void check_begin(struct check *c, const char *name);
void problem(struct check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints the verdict line; returns whether the check passed. */
bool check_end(struct check *c);

/* The PSCI and SMP checks (smp.c). fdt is the guest's device tree. */
void check_psci(const void *fdt);

#endif
