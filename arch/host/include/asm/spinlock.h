/*
 * Host ticket lock with GCC's __atomic builtins. Unlike a hypervisor's CPUs, host
 * threads are descheduled: with more threads than free CPUs, the ticket's holder or the
 * next in line may not be running, and every later waiter would spin out its time slice
 * for it (4 threads on 2 CPUs took minutes for what 1 thread does in a few ms). So a
 * waiter gives its CPU away after a while.
 */
#ifndef ASM_SPINLOCK_H
#define ASM_SPINLOCK_H

#include <lib/types.h>
#include <sched.h>

#define HOST_SPINS_BEFORE_YIELD 1024

typedef struct {
    uint16_t owner;   /* ticket being served */
    uint16_t next;    /* next ticket to hand out */
} arch_spinlock_t;

#define ARCH_SPIN_LOCK_UNLOCKED { 0, 0 }

static inline void arch_spin_lock(arch_spinlock_t *l)
{
    uint16_t me = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);
    unsigned int spins = 0;

    while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != me)
        if (++spins % HOST_SPINS_BEFORE_YIELD == 0)
            sched_yield();
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
