/*
 * PL011 console and the ways a run ends.
 *
 * The UART needs no initialisation under QEMU (nor after firmware on real
 * boards): we poll FR.TXFF and write DR. It starts as the early UART mapped
 * by the boot stub, and moves to the one the device tree names once that is
 * read. A lock around each call keeps lines from different CPUs whole.
 */
#include <arch/machine.h>
#include <asm/console.h>
#include <asm/layout.h>
#include <asm/traps.h>
#include <lib/lib.h>
#include <lib/psci.h>
#include <lib/spinlock.h>

#define UART_DR     0x00
#define UART_FR     0x18
#define UART_FR_TXFF (1u << 5)

static volatile uint32_t *uart = (volatile uint32_t *)FIXMAP_ADDR(FIXMAP_EARLY_UART);
static spinlock_t console_lock = SPIN_LOCK_UNLOCKED;

static void uart_putc(char c)
{
    while (uart[UART_FR / 4] & UART_FR_TXFF)
        ;
    uart[UART_DR / 4] = (uint32_t)(unsigned char)c;
}

void arch_console_write(const char *s, size_t len)
{
    spin_lock(&console_lock);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\n')
            uart_putc('\r');
        uart_putc(s[i]);
    }
    spin_unlock(&console_lock);
}

void console_switch(volatile void *base)
{
    spin_lock(&console_lock);
    uart = base;
    spin_unlock(&console_lock);
}


void arch_exit(int status)
{
    /* ADP_Stopped_ApplicationExit and the status QEMU should exit with. */
    static uint32_t block[2];

    block[0] = 0x20026;
    block[1] = (uint32_t)status;
    arch_semihost_exit(block);
    /* No semihosting: PSCI can only power off, which QEMU reports as success. */
    if (status)
        printk("exit: status %d, but without -semihosting QEMU can only power off\n", status);
    arch_smc(PSCI_SYSTEM_OFF, 0, 0, 0);
    for (;;)
        __asm__ volatile("wfi");
}

void arch_panic_stop(void)
{
    arch_exit(2);
}
