/*
 * The fault decoder's names, as a table (issue 12: FSC 0x14-0x17, a
 * synchronous external abort on a table walk, read as "other fault"). Such
 * faults cannot be provoked on QEMU at will, so the decoder is checked on
 * values: every long-descriptor FSC the ARM ARM defines for Hyp aborts
 * (B3.13.3, HSR ISS for aborts) and some it does not.
 */
#include <asm/traps.h>
#include <lib/lib.h>
#include <test/selftest.h>

SELFTEST(traps, fault_status_names)
{
    static const struct {
        uint32_t fsc;
        const char *name;
    } table[] = {
        { 0x04, "translation fault" }, { 0x05, "translation fault" },
        { 0x06, "translation fault" }, { 0x07, "translation fault" },
        { 0x09, "access flag fault" }, { 0x0b, "access flag fault" },
        { 0x0d, "permission fault" }, { 0x0f, "permission fault" },
        { 0x10, "synchronous external abort" },
        { 0x14, "synchronous external abort on a table walk" },
        { 0x15, "synchronous external abort on a table walk" },
        { 0x16, "synchronous external abort on a table walk" },
        { 0x17, "synchronous external abort on a table walk" },
        { 0x1c, "synchronous parity error on a table walk" },
        { 0x1f, "synchronous parity error on a table walk" },
        { 0x21, "alignment fault" },
        { 0x30, "TLB conflict abort" },
        { 0x00, "other fault" }, { 0x3f, "other fault" },
    };

    for (unsigned int i = 0; i < ARRAY_SIZE(table); i++) {
        const char *got = fault_status_name(table[i].fsc);

        if (!EXPECT_STREQ(got, table[i].name))
            selftest_diag("FSC 0x%02x", (unsigned int)table[i].fsc);
    }
}
