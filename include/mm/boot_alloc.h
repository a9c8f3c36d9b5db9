/*
 * Boot allocator: the memory allocator before the heap exists.
 *
 * Early boot needs memory (the frame table, page tables for the arch's
 * mappings) before there is a frame table to run a buddy heap on. Like Xen,
 * the boot allocator is a small static array of free page ranges, sorted by
 * address; it allocates from the top of the highest range that can satisfy a
 * request, so early allocations cluster at the top of RAM and leave low
 * memory (which address-limited callers may need) in large pieces.
 *
 * end_boot_allocator() hands every range that is left to the domheap, in
 * naturally aligned chunks of up to MAX_ORDER pages: a few list operations
 * per chunk rather than one free per page (Xen measured 1445 ms -> 96 ms for
 * 90 GB). After that, the boot allocator refuses to work.
 *
 * Boot runs on one CPU: there is no lock.
 */
#ifndef BOOT_ALLOC_H
#define BOOT_ALLOC_H

#include <lib/types.h>

#define BOOT_MAX_RANGES 128

/* Adds the pages inside [ps, pe) (rounded inwards to pages). Ranges must not
 * overlap ranges already added; adjacent ones are joined. */
void init_boot_pages(paddr_t ps, paddr_t pe);

/* nr_pfns pages whose first frame is a multiple of pfn_align (a power of
 * two). Panics, saying what was asked and what is free, if it cannot. */
mfn_t alloc_boot_pages(unsigned long nr_pfns, unsigned long pfn_align);

/* Hands every remaining page to the domheap; the boot allocator is closed. */
void end_boot_allocator(void);

/* Introspection, for the boot log and tests. */
unsigned int boot_alloc_nr_ranges(void);
void boot_alloc_range(unsigned int i, mfn_t *start, mfn_t *end);
unsigned long boot_alloc_free_pages(void);

#endif
