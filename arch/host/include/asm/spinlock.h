/*
 * Host ticket lock with GCC's __atomic builtins (sequentially consistent
 * enough for tests; the host build runs single-threaded tests today).
 */
#ifndef ASM_SPINLOCK_H
#define ASM_SPINLOCK_H

#include <lib/types.h>

typedef struct {
    uint16_t owner;   /* ticket being served */
    uint16_t next;    /* next ticket to hand out */
} arch_spinlock_t;

#define ARCH_SPIN_LOCK_UNLOCKED { 0, 0 }

static inline void arch_spin_lock(arch_spinlock_t *l)
{
    uint16_t me = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);

    while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != me)
        ;
}

static inline void arch_spin_unlock(arch_spinlock_t *l)
{
    __atomic_store_n(&l->owner, (uint16_t)(l->owner + 1), __ATOMIC_RELEASE);
}

static inline bool arch_spin_is_locked(arch_spinlock_t *l)
{
    return __atomic_load_n(&l->owner, __ATOMIC_RELAXED) !=
           __atomic_load_n(&l->next, __ATOMIC_RELAXED);
}

#endif
