/*
 * Data-cache maintenance by virtual address.
 */
#ifndef ASM_CACHE_H
#define ASM_CACHE_H

#include <asm/sysregs.h>

#define DCCMVAC CP32(0, c7, c10, 1)   /* clean by VA to the point of coherency */
#define DCCMVAU CP32(0, c7, c11, 1)   /* clean by VA to the point of unification */
#define ICIALLUIS CP32(0, c7, c1, 0)  /* invalidate all I-caches, inner shareable */
#define BPIALLIS CP32(0, c7, c1, 6)   /* invalidate all branch predictors, inner shareable */

/* CTR.L1Ip: the L1 instruction cache's indexing and tagging. */
#define CTR_L1IP(ctr)   (((ctr) >> 14) & 3)
#define CTR_L1IP_AIVIVT 1u             /* ASID-tagged virtually indexed, virtually tagged */

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

/*
 * Makes instructions just written as data at [va, va + size) (through a
 * write-back mapping) executable on every CPU, as the Arm ARM's sequence for
 * self- and cross-modifying code asks (B2.2.6, and the rules for concurrent
 * modification and execution of instructions): clean the data cache
 * to the point of unification by VA, DSB, then invalidate the instruction
 * caches and branch predictors of the whole inner shareable domain
 * (ICIALLUIS, BPIALLIS), DSB to wait for that everywhere, ISB. A CPU other
 * than this one must still execute an ISB (or take an exception) before it
 * branches to the code, because instructions it has already fetched are not
 * affected.
 */
static inline void sync_code_for_all_cpus(const void *va, size_t size)
{
    uintptr_t line = dcache_line_bytes();
    uintptr_t p = (uintptr_t)va & ~(line - 1);

    dsb(ish);
    for (; p < (uintptr_t)va + size; p += line)
        WRITE_CP32(p, DCCMVAU);
    dsb(ish);
    WRITE_CP32(0, ICIALLUIS);
    WRITE_CP32(0, BPIALLIS);
    dsb(ish);
    isb();
}

#endif
