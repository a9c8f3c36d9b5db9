/*
 * Console selection: the arch starts on an early UART and switches to the one
 * the device tree names once it has been mapped.
 */
#ifndef CONSOLE_H
#define CONSOLE_H

void console_switch(volatile void *base);

#endif
