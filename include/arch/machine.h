/*
 * What common code needs from the architecture, in one place.
 * arch/arm32 implements it for the image, arch/host for the x86-64 host build.
 * The seam is link time plus the include path: no function-pointer tables.
 */
#ifndef ARCH_H
#define ARCH_H

#include <lib/types.h>

/* Writes bytes to the console. Callers pass whole lines; see printk. */
void arch_console_write(const char *s, size_t len);

/* Ends the run with a status: 0 is success. Never returns. */
void arch_exit(int status) __attribute__((noreturn));

/* The running CPU's index (0 on the host and before SMP is up). */
unsigned int arch_cpu_id(void);
#define ARCH_MAX_CPUS 8

/* Stops after a panic (the message is already printed). Never returns. */
void arch_panic_stop(void) __attribute__((noreturn));

#endif
