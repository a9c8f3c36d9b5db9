/*
 * A checker's findings: a mask of the kinds of problem found, and the first
 * few printed, so that a badly damaged structure does not flood the console.
 */
#ifndef LIB_REPORT_H
#define LIB_REPORT_H

#include <lib/lib.h>

struct report {
    const char *who;          /* prefix of each line, e.g. "heap_check" */
    unsigned int max_shown;   /* lines printed before the rest are only counted */
    unsigned int kinds;       /* OR of the kinds reported */
    unsigned int found;       /* problems reported */
};

#define REPORT_INIT(who_, max_) { .who = (who_), .max_shown = (max_) }

void report_problem(struct report *r, unsigned int kind, const char *fmt, ...) __printf(3, 4);

/* Prints "<who>: N more problems not shown" if some were not; returns r->kinds. */
unsigned int report_finish(struct report *r);

#endif
