/*
 * Console selection: the arch starts on an early UART and switches to the one
 * the device tree names once it has been mapped. A UART that stalls or aborts
 * is given up (arch/arm32/console.c says how).
 */
#ifndef CONSOLE_H
#define CONSOLE_H

#include <lib/types.h>

/* Writes go to the PL011 whose registers are mapped at base; name is for messages (kept). */
void console_switch(volatile void *base, const char *name);

/* The UART written to now (NULL when none is left) and its name: for tests that switch. */
volatile void *console_uart(const char **name);

/* How many UARTs have been given up since boot. */
unsigned int console_uarts_given_up(void);

/*
 * For the fault handler, before it reports a fault: if it is a Hyp data
 * abort on the console UART's page, gives that UART up (with a note on what
 * takes over) and returns true.
 */
bool console_fault(uint32_t hsr, vaddr_t far);

#endif
