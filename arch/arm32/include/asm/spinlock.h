/*
 * ARMv7 ticket lock.
 *
 * Taking a ticket is an LDREX/STREX loop on the whole 32-bit word (next in
 * the high half). The DMB after we see our ticket served orders the critical
 * section after the acquisition; the DMB before the release store orders it
 * before the hand-over (ARM ARM A3.8, "Memory barriers"). Waiters sleep in WFE;
 * the releaser's DSB + SEV wakes them (a store alone need not, since the
 * waiters hold no exclusive monitor on the lock).
 */
#ifndef ASM_SPINLOCK_H
#define ASM_SPINLOCK_H

#include <lib/types.h>

typedef struct {
    union {
        uint32_t word;
        struct {
            uint16_t owner;   /* ticket being served (low half) */
            uint16_t next;    /* next ticket to hand out (high half) */
        } t;
    };
} arch_spinlock_t;

#define ARCH_SPIN_LOCK_UNLOCKED { { 0 } }

static inline void arch_spin_lock(arch_spinlock_t *l)
{
    uint32_t old, tmp, fail;

    __asm__ volatile(
        "1: ldrex   %0, [%3]\n"
        "   add     %1, %0, #0x10000\n"
        "   strex   %2, %1, [%3]\n"
        "   teq     %2, #0\n"
        "   bne     1b\n"
        : "=&r"(old), "=&r"(tmp), "=&r"(fail)
        : "r"(&l->word)
        : "cc", "memory");

    while ((uint16_t)(old >> 16) != __atomic_load_n(&l->t.owner, __ATOMIC_RELAXED))
        __asm__ volatile("wfe" ::: "memory");
    __asm__ volatile("dmb ish" ::: "memory");
}

static inline void arch_spin_unlock(arch_spinlock_t *l)
{
    __asm__ volatile("dmb ish" ::: "memory");
    __atomic_store_n(&l->t.owner, (uint16_t)(l->t.owner + 1), __ATOMIC_RELAXED);
    __asm__ volatile("dsb ish\n sev" ::: "memory");
}

static inline bool arch_spin_is_locked(arch_spinlock_t *l)
{
    uint32_t w = __atomic_load_n(&l->word, __ATOMIC_RELAXED);

    return (uint16_t)w != (uint16_t)(w >> 16);
}

#endif
