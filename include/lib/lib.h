/*
 * Small freestanding library: formatted output, panics and assertions,
 * and the helpers every module needs.
 *
 * BUG_ON is for corrupted internal state and is always checked. ASSERT is a
 * debug-build invariant check (CONFIG_DEBUG). Neither is ever used for
 * external input such as the device tree: that gets an error message.
 */
#ifndef LIB_H
#define LIB_H

#include <lib/types.h>
#include <stdarg.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define min(a, b) ((a) < (b) ? (a) : (b))
#define max(a, b) ((a) > (b) ? (a) : (b))
#define ROUNDUP(x, a) (((x) + (a) - 1) & ~((__typeof__(x))(a) - 1))
#define ROUNDDOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))
#define IS_ALIGNED(x, a) (((x) & ((__typeof__(x))(a) - 1)) == 0)

#define BUILD_BUG_ON(cond) _Static_assert(!(cond), #cond)

/* For the few functions that a benchmark shows must be inlined, or must not. */
#define always_inline inline __attribute__((__always_inline__))
#define noinline __attribute__((__noinline__))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define __printf(a, b) __attribute__((format(printf, a, b)))
#define __noreturn __attribute__((noreturn))

/* Formatter: %d %i %u %x %X %lx %llx %p %s %c, field width, '0' and '-' flags. */
int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int fmt_snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);

/* Whole lines go to the console at once, so CPUs never interleave inside a line. */
void printk(const char *fmt, ...) __printf(1, 2);
void vprintk(const char *fmt, va_list ap);

/* Prints "panic: <where>: <why>", then stops the system with a failure status. */
void panic_at(const char *file, int line, const char *fmt, ...) __printf(3, 4) __noreturn;

/*
 * A function panic_at() calls with the message before it prints and stops;
 * if it returns, the panic goes on. The test runner sets one that jumps back
 * into a test that expects the panic (EXPECT_PANIC).
 */
void panic_set_hook(void (*hook)(const char *message));
#define panic(...) panic_at(__FILE__, __LINE__, __VA_ARGS__)

#define BUG_ON(cond)                                                      \
    do {                                                                  \
        if (unlikely(cond))                                               \
            panic_at(__FILE__, __LINE__, "BUG: %s", #cond);               \
    } while (0)

/* 1 in debug builds (the default), 0 in release builds: for checks in plain C. */
#ifdef CONFIG_DEBUG
#define DEBUG_BUILD 1
#else
#define DEBUG_BUILD 0
#endif

#ifdef CONFIG_DEBUG
#define ASSERT(cond)                                                      \
    do {                                                                  \
        if (unlikely(!(cond)))                                            \
            panic_at(__FILE__, __LINE__, "assertion failed: %s", #cond);  \
    } while (0)
#else
#define ASSERT(cond) do { (void)sizeof(cond); } while (0)
#endif

#endif
