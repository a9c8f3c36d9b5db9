/*
 * Spinlocks: a ticket lock, so that waiting CPUs are served in order.
 *
 * The architecture supplies the atomic parts (asm/spinlock.h): on ARMv7 an
 * LDREX/STREX loop to take a ticket, DMB after acquiring and before
 * releasing, WFE while waiting and SEV after release; on the host, GCC's
 * __atomic builtins. The lock word: next ticket in the high half, the ticket
 * now being served in the low half. Free when the two are equal.
 */
#ifndef SPINLOCK_H
#define SPINLOCK_H

#include <asm/spinlock.h>

typedef struct {
    arch_spinlock_t raw;
} spinlock_t;

#define SPIN_LOCK_UNLOCKED { ARCH_SPIN_LOCK_UNLOCKED }

static inline void spin_lock_init(spinlock_t *l) { l->raw = (arch_spinlock_t)ARCH_SPIN_LOCK_UNLOCKED; }
static inline void spin_lock(spinlock_t *l) { arch_spin_lock(&l->raw); }
static inline void spin_unlock(spinlock_t *l) { arch_spin_unlock(&l->raw); }
static inline bool spin_is_locked(spinlock_t *l) { return arch_spin_is_locked(&l->raw); }

#endif
