/*
 * What the memory-management code in common/ needs from the architecture.
 *
 * Common code never uses linker symbols or fixed virtual addresses: it asks
 * these functions. arch/arm32 implements them with LPAE mappings in the
 * layout of asm/layout.h; arch/host fakes them with mmap so that the same
 * setup_mm() runs in host tests.
 */
#ifndef ARCH_MM_H
#define ARCH_MM_H

#include <lib/types.h>

/* The frame-table window is mapped in blocks of this size (an LPAE level-2 block). */
#define FRAMETABLE_GRANULE (2UL << 20)

/* Bytes of virtual address space for the frame table (ARM32: 96 MiB). A
 * multiple of FRAMETABLE_GRANULE. */
size_t arch_frametable_window(void);

/* Start of the frame-table window (ARM32: 0x02000000). */
void *arch_frametable_base(void);

/*
 * Backs [offset, offset + bytes) of the frame-table window with the RAM at
 * pa. offset, pa and bytes are multiples of FRAMETABLE_GRANULE; the RAM comes
 * from alloc_boot_pages(). Called before the heap exists, so an arch that
 * needs page-table pages takes them from the boot allocator too. Panics
 * (naming the range) if it cannot.
 */
void arch_map_frametable(size_t offset, paddr_t pa, size_t bytes);

/* Bytes of virtual address space for the xenheap direct map (ARM32: 1 GiB). */
size_t arch_xenheap_window(void);

/*
 * Maps [start, end) permanently, read-write, and returns the virtual address
 * of start. start and end are 32 MiB aligned and end - start is at most
 * arch_xenheap_window(); ARM32 uses 2 MiB blocks at 0x40000000.
 */
void *arch_map_xenheap(paddr_t start, paddr_t end);

/*
 * Cleans and invalidates the data-cache lines of [va, va + size) to the
 * point of coherency, whatever memory type va is mapped with (maintenance
 * by VA acts on the physical address). vmap uses it around a mapping of RAM
 * that is not write-back: dirty lines written through a write-back alias
 * reach memory before the other mapping is used, and no stale line is left
 * for the next write-back user. ARM32: DCCIMVAC per line, DSB; the host's
 * memory is coherent, so nothing.
 */
void arch_dcache_clean_inval(const void *va, size_t size);

/*
 * Invalidates every instruction cache and branch predictor of the inner shareable domain,
 * and waits for it (DSB, ISB): after code was written for a guest as data, no CPU may
 * fetch an older copy of those physical addresses when the guest turns its I-cache on.
 * ARM32: ICIALLUIS, BPIALLIS; the host has nothing to do.
 */
void arch_icache_invalidate_all(void);

#endif
