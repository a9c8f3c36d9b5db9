/*
 * Basic types shared by every module.
 *
 * Physical addresses are 64-bit everywhere (LPAE gives 40 bits), even on the
 * 32-bit target: a paddr_t must never pass through a 32-bit integer by
 * accident. Frame numbers (MFNs, 4 KiB units) fit in 28 bits for a 40-bit
 * physical space, so an unsigned long holds one on both targets.
 */
#ifndef TYPES_H
#define TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t paddr_t;      /* physical (machine) address */
typedef uintptr_t vaddr_t;     /* hypervisor virtual address */
typedef unsigned long mfn_t;   /* machine frame number: paddr >> PAGE_SHIFT */

#define PRIpaddr "016llx"

#define PAGE_SHIFT 12
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#define PAGE_MASK (~(PAGE_SIZE - 1))

#define INVALID_MFN (~0UL)

static inline paddr_t mfn_to_paddr(mfn_t mfn) { return (paddr_t)mfn << PAGE_SHIFT; }
static inline mfn_t paddr_to_mfn(paddr_t pa) { return (mfn_t)(pa >> PAGE_SHIFT); }

#endif
