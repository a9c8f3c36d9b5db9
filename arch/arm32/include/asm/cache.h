/*
 * Data-cache maintenance by virtual address.
 */
#ifndef ASM_CACHE_H
#define ASM_CACHE_H

#include <asm/sysregs.h>

#define DCCMVAC CP32(0, c7, c10, 1)   /* clean by VA to the point of coherency */

/* Smallest data-cache line, from CTR.DminLine (log2 of words). */
static inline unsigned int dcache_line_bytes(void)
{
    return 4u << ((READ_CP32(CTR) >> 16) & 0xf);
}

/*
 * Writes [va, va + size) back to memory, for an observer that does not look
 * in the caches: a CPU that has not turned its MMU and caches on yet.
 */
static inline void clean_dcache_to_poc(const void *va, size_t size)
{
    uintptr_t line = dcache_line_bytes();
    uintptr_t p = (uintptr_t)va & ~(line - 1);

    dsb(ish);
    for (; p < (uintptr_t)va + size; p += line)
        WRITE_CP32(p, DCCMVAC);
    dsb(ish);
}

#endif
