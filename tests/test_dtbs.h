/*
 * Device trees embedded in the test binaries (tests/guest_dt.c holds them; the Makefile
 * compiles tests/dt/<name>.dts with dtc): 8-byte aligned, read-only.
 */
#ifndef TEST_DTBS_H
#define TEST_DTBS_H

#include <lib/types.h>

/* QEMU 7.2's own tree for virt, -m 1G -smp 2 (tests/dt/qemu-virt-smp2.dts). */
extern const uint8_t qemu_virt_dtb[] __attribute__((visibility("hidden")));
extern const uint8_t two_banks_dtb[] __attribute__((visibility("hidden")));
extern const uint8_t cells1_dtb[] __attribute__((visibility("hidden")));

#endif
