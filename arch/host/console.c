/*
 * The host build's console and exits: stdout and the process status.
 */
#include <arch/machine.h>
#include <stdio.h>
#include <stdlib.h>

void arch_console_write(const char *s, size_t len)
{
    fwrite(s, 1, len, stdout);
    fflush(stdout);
}

void arch_exit(int status)
{
    fflush(stdout);
    exit(status);
}

unsigned int arch_cpu_id(void)
{
    return 0;
}

void arch_panic_stop(void)
{
    fflush(stdout);
    exit(2);
}
