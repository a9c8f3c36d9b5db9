/*
 * The test guest's small runtime: the console hypercall, PSCI calls, a
 * formatter, timeouts, barriers and cache maintenance. A freestanding guest
 * has no C library, and libfdt's needs (mem*, str*, the stack protector)
 * are met in runtime.c too.
 */
#ifndef GUEST_RUNTIME_H
#define GUEST_RUNTIME_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PSCI_VERSION        0x84000000u
#define PSCI_CPU_OFF        0x84000002u
#define PSCI_CPU_ON         0x84000003u
#define PSCI_SYSTEM_OFF     0x84000008u
#define PSCI_SYSTEM_RESET   0x84000009u
#define PSCI_FEATURES       0x8400000au

#define PSCI_SUCCESS            0
#define PSCI_NOT_SUPPORTED      (-1)
#define PSCI_INVALID_PARAMETERS (-2)
#define PSCI_ALREADY_ON         (-4)
#define PSCI_ON_PENDING         (-5)

/* Xen's console_io hypercall (CONSOLEIO_write): returns bytes written or -errno. */
int32_t hyp_console_write(const char *text, uint32_t len);
/* A PSCI call through HVC #0 (SMC32 calling convention); returns r0. */
int32_t psci_call(uint32_t fn, uint32_t a1, uint32_t a2, uint32_t a3);

int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
/* Formats one line and hands it to the console in one hypercall. */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Ends the run: SYSTEM_OFF when passed, SYSTEM_RESET otherwise. */
void finish(bool passed) __attribute__((noreturn));

/* Timeouts on the virtual counter, with an iteration cap in case it stands still. */
struct deadline {
    uint64_t end;
    uint32_t spins_left;
};
void deadline_start(struct deadline *d, uint32_t ms);
bool deadline_passed(struct deadline *d);

static inline void dmb(void) { __asm__ volatile("dmb ish" ::: "memory"); }
static inline void dsb(void) { __asm__ volatile("dsb ish" ::: "memory"); }
static inline void isb(void) { __asm__ volatile("isb" ::: "memory"); }
static inline void sev(void) { __asm__ volatile("sev" ::: "memory"); }

static inline uint32_t read_mpidr(void)
{
    uint32_t v;

    __asm__ volatile("mrc p15, 0, %0, c0, c0, 5" : "=r"(v));
    return v;
}

/*
 * Makes code written as data at [start, start + len) executable, as the
 * Arm ARM asks: clean the data cache to the point of unification by line,
 * DSB, invalidate the instruction cache and the branch predictors, DSB,
 * ISB. With the caches off it changes nothing under QEMU, but a guest on
 * real hardware may still hold lines from before.
 */
void sync_code(uint32_t start, uint32_t len);

#endif
