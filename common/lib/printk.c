/*
 * printk and panic.
 *
 * printk formats a whole message into a buffer first and hands it to the
 * console in one call, so that a console lock held for the call keeps lines
 * from different CPUs apart. Messages longer than the buffer are cut, with
 * a marker, rather than split.
 */
#include <arch/machine.h>
#include <lib/lib.h>

#define PRINTK_BUF 512

static void (*panic_hook)(const char *message);

void vprintk(const char *fmt, va_list ap)
{
    char buf[PRINTK_BUF];
    int n = fmt_vsnprintf(buf, sizeof(buf), fmt, ap);

    if (n < 0)
        return;
    if ((size_t)n >= sizeof(buf)) {
        static const char cut[] = "...[cut]\n";
        n = (int)sizeof(buf) - 1;
        for (size_t i = 0; i < sizeof(cut) - 1; i++)
            buf[sizeof(buf) - sizeof(cut) + i] = cut[i];
    }
    arch_console_write(buf, (size_t)n);
}

void printk(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vprintk(fmt, ap);
    va_end(ap);
}

void panic_at(const char *file, int line, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    fmt_vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);

    /* A test that expects this panic gets control back here. */
    if (panic_hook)
        panic_hook(msg);

    printk("panic: %s:%d: %s\n", file, line, msg);
    arch_panic_stop();
}

void panic_set_hook(void (*hook)(const char *message))
{
    panic_hook = hook;
}
