/*
 * PL011 console and the ways a run ends.
 *
 * The UART needs no initialisation under QEMU (nor after firmware on real
 * boards): we poll FR.TXFF and write DR. It starts as the early UART mapped
 * by the boot stub, and moves to the one the device tree names once that is
 * read. A lock around each call keeps lines from different CPUs whole.
 *
 * The console must never be what stops a report from coming out:
 *  - a fault or a panic on the CPU that holds the lock (inside the UART
 *    code itself) writes without it: waiting would be waiting for itself;
 *  - a UART whose transmit FIFO never drains is waited for a bounded number
 *    of polls, then given up;
 *  - a UART whose registers abort is given up by the fault handler
 *    (console_fault) before it reports the fault, so the report does not
 *    fault again.
 * Giving up on a UART falls back to the early UART if that is another one
 * and has not failed itself, otherwise to no output at all, and says so once
 * on what is left.
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

/*
 * How many times FR is read while TXFF stays set before the UART is given
 * up. A FIFO slot frees within one character time; at 1200 baud, slower
 * than any console we expect, a character (10 bits) takes 8.3 ms. A poll is
 * a load from a Device mapping, which goes out to the interconnect and back:
 * even at 2.5 GHz that is well over 10 cycles, so more than 4 ns. 8.3 ms /
 * 4 ns is about 2.08 million polls: 2^21 never gives up on a UART that is
 * merely slow. Under QEMU a poll costs about 0.1 us, so a UART that never
 * drains costs a fraction of a second, once.
 */
#define UART_TXFF_POLLS (1ul << 21)

static volatile uint32_t *const early_uart = (volatile uint32_t *)FIXMAP_ADDR(FIXMAP_EARLY_UART);
static volatile uint32_t *uart = (volatile uint32_t *)FIXMAP_ADDR(FIXMAP_EARLY_UART);
static const char *uart_name = "the early UART";
static bool early_uart_failed;
static unsigned int uarts_given_up;
static spinlock_t console_lock = SPIN_LOCK_UNLOCKED;
/* The CPU inside the console's critical section, or -1. Only that CPU writes its own id. */
static int console_owner = -1;

static void emit(const char *s, size_t len);

/* False if TXFF stayed set for UART_TXFF_POLLS reads: the UART does not drain. */
static bool uart_putc(char c)
{
    for (unsigned long polls = 0; uart[UART_FR / 4] & UART_FR_TXFF; polls++)
        if (polls == UART_TXFF_POLLS)
            return false;
    uart[UART_DR / 4] = (uint32_t)(unsigned char)c;
    return true;
}

/*
 * Leaves the current UART for good (see the top of the file), with a note
 * on the UART that takes over. Called with the console held by this CPU.
 */
static void give_up(const char *why)
{
    char note[200];
    const char *bad_name = uart_name;
    int n;

    if (uart == early_uart)
        early_uart_failed = true;
    uarts_given_up++;
    uart = early_uart_failed ? NULL : early_uart;
    uart_name = "the early UART";
    n = fmt_snprintf(note, sizeof(note), "\nconsole: %s %s; given up, %s\n", bad_name, why,
                     uart ? "back on the early UART" : "no console left");
    /* If the early UART stalls too, emit gives it up in turn: uart becomes NULL, and that ends it. */
    if (n > 0)
        emit(note, min((size_t)n, sizeof(note) - 1));
}

static void emit(const char *s, size_t len)
{
    for (size_t i = 0; i < len && uart; i++) {
        if ((s[i] == '\n' && !uart_putc('\r')) || !uart_putc(s[i])) {
            give_up("does not drain: FR.TXFF stayed set for 2^21 polls");
            return;
        }
    }
}

/*
 * Takes the console for this CPU. Returns false, without taking the lock,
 * when this CPU already holds it: a fault or a panic inside the console's
 * own code, whose report must still come out (and which ends the run).
 */
static bool console_enter(void)
{
    int me = (int)arch_cpu_id();

    if (__atomic_load_n(&console_owner, __ATOMIC_RELAXED) == me)
        return false;
    spin_lock(&console_lock);
    __atomic_store_n(&console_owner, me, __ATOMIC_RELAXED);
    return true;
}

static void console_leave(bool locked)
{
    if (!locked)
        return;
    __atomic_store_n(&console_owner, -1, __ATOMIC_RELAXED);
    spin_unlock(&console_lock);
}

void arch_console_write(const char *s, size_t len)
{
    bool locked = console_enter();

    emit(s, len);
    console_leave(locked);
}

void console_switch(volatile void *base, const char *name)
{
    bool locked = console_enter();

    uart = base;
    uart_name = name;
    console_leave(locked);
}

volatile void *console_uart(const char **name)
{
    *name = uart_name;
    return uart;
}

unsigned int console_uarts_given_up(void)
{
    return uarts_given_up;
}

bool console_fault(uint32_t hsr, vaddr_t far)
{
    bool locked, ours;

    if (HSR_EC(hsr) != HSR_EC_DABT_HYP)
        return false;
    locked = console_enter();
    ours = uart && (far & ~(vaddr_t)0xfff) == ((vaddr_t)uart & ~(vaddr_t)0xfff);
    if (ours)
        give_up("aborts on access");
    console_leave(locked);
    return ours;
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
