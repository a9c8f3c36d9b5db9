/*
 * Basic types shared by every module.
 *
 * Physical addresses are 64-bit everywhere (LPAE gives 40 bits), even on the
 * 32-bit target: a paddr_t must never pass through a 32-bit integer by
 * accident. Frame numbers (MFNs, 4 KiB units) fit in 28 bits for a 40-bit
 * physical space, so an unsigned long holds one on both targets.
 *
 * mfn_t is a TYPE_SAFE type (lib/typesafe.h): a struct in debug builds, so
 * that an MFN is never taken for a page index or an address by accident;
 * mfn_to_paddr() and paddr_to_mfn() are the way between the two.
 */
#ifndef TYPES_H
#define TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <lib/typesafe.h>

typedef uint64_t paddr_t;      /* physical (machine) address */
typedef uintptr_t vaddr_t;     /* hypervisor virtual address */

/* Machine frame number: paddr >> PAGE_SHIFT. Gives mfn_t, _mfn(), mfn_x(). */
TYPE_SAFE(unsigned long, mfn)

#define PRIpaddr "016llx"

#define PAGE_SHIFT 12
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#define PAGE_MASK (~(PAGE_SIZE - 1))

#define INVALID_MFN _mfn(~0UL)        /* no frame */

static inline mfn_t mfn_add(mfn_t mfn, unsigned long i)
{
    return _mfn(mfn_x(mfn) + i);
}

static inline bool mfn_eq(mfn_t a, mfn_t b)
{
    return mfn_x(a) == mfn_x(b);
}

static inline bool mfn_lt(mfn_t a, mfn_t b)
{
    return mfn_x(a) < mfn_x(b);
}

static inline paddr_t mfn_to_paddr(mfn_t mfn) { return (paddr_t)mfn_x(mfn) << PAGE_SHIFT; }
static inline mfn_t paddr_to_mfn(paddr_t pa) { return _mfn((unsigned long)(pa >> PAGE_SHIFT)); }

#endif
