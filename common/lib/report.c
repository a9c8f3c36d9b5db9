/*
 * Problem reports for the checkers (heap_check, mapcache_check): each
 * problem is counted and its kind recorded; only the first max_shown are
 * printed.
 */
#include <lib/report.h>

void report_problem(struct report *r, unsigned int kind, const char *fmt, ...)
{
    char msg[200];
    va_list ap;

    r->kinds |= kind;
    if (r->found++ >= r->max_shown)
        return;
    va_start(ap, fmt);
    fmt_vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    printk("%s: %s\n", r->who, msg);
}

unsigned int report_finish(struct report *r)
{
    if (r->found > r->max_shown)
        printk("%s: %u more problems not shown\n", r->who, r->found - r->max_shown);
    return r->kinds;
}
