/*
 * The console must never wait for ever (issue 12): a UART whose transmit
 * FIFO never drains is given up after a bounded number of polls, and output
 * goes on on the early UART.
 */
#include <asm/console.h>
#include <asm/layout.h>
#include <lib/lib.h>
#include <test/selftest.h>

SELFTEST(console, a_uart_that_never_drains_is_given_up)
{
    /* A "PL011" in RAM whose registers all read ones: FR.TXFF is set for ever. */
    static uint32_t fake[8];
    const char *name, *now;
    volatile void *saved = console_uart(&name);
    unsigned int given_up = console_uarts_given_up();

    for (unsigned int i = 0; i < ARRAY_SIZE(fake); i++)
        fake[i] = 0xffffffff;
    console_switch(fake, "a fake PL011 whose registers read all ones");
    printk("console test: this line cannot be written\n");     /* must return */

    EXPECT_EQ(console_uarts_given_up(), given_up + 1);
    EXPECT(console_uart(&now) == (volatile void *)FIXMAP_ADDR(FIXMAP_EARLY_UART));
    EXPECT_STREQ(now, "the early UART");
    EXPECT_EQ(fake[0], 0xffffffff);                 /* nothing was written to DR */
    console_switch(saved, name);
    printk("console test: back on %s\n", name);
}
