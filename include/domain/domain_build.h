/*
 * A domain's RAM: taken from the domheap, owned by the domain (assign_pages, so it counts
 * against max_pages), mapped into its p2m as p2m_ram_rw and recorded as banks in d->mem.
 *
 * The guest memory map used by allocate_memory() (the IPA layout of QEMU's virt board and
 * of Xen's ARM guests):
 *   [0, 1 GiB)              nothing: kept for the devices a guest is given (GIC, UART, ...)
 *   [1 GiB, 4 GiB)          bank 0, the first 3 GiB of RAM: reachable by a guest without
 *                           LPAE, and where a zImage expects RAM
 *   [4 GiB, 8 GiB)          nothing: room for more device windows later
 *   [8 GiB, 1 TiB)          bank 1, whatever does not fit in bank 0
 * Both banks are 1 GiB aligned, so every chunk (a power of two of at most 1 GiB, placed
 * largest first) lands at an IPA aligned to its own size, as its frames are: the p2m maps
 * 1 GiB and 2 MiB chunks as blocks.
 *
 * None of this takes a lock: a domain is built (and taken apart) by one CPU, before it runs
 * (and after it stopped).
 */
#ifndef DOMAIN_BUILD_H
#define DOMAIN_BUILD_H

#include <domain/domain.h>
#include <lib/types.h>

#define GUEST_RAM0_BASE     0x40000000ULL       /* 1 GiB */
#define GUEST_RAM0_SIZE     0xc0000000ULL       /* 3 GiB, up to 4 GiB */
#define GUEST_RAM1_BASE     0x200000000ULL      /* 8 GiB */
#define GUEST_RAM1_SIZE     ((1ULL << P2M_IPA_BITS) - GUEST_RAM1_BASE)

/*
 * Gives d `bytes` of RAM at the banks above, in the largest naturally aligned chunks the
 * domheap has (up to 1 GiB; a smaller order when no block of the larger one is free), from
 * anywhere in RAM. d's p2m must be initialised and d must have no RAM yet.
 * Returns 0; -EINVAL for bytes 0, not a multiple of PAGE_SIZE or larger than the map;
 * -EBUSY if d has RAM already; -E2BIG if d's max_pages would be passed; -ENOMEM when the
 * heap (or the p2m's tables) run out: then every page taken is freed and unmapped again.
 * Refusals print why.
 */
int allocate_memory(struct domain *d, paddr_t bytes);

/*
 * The same with guest-physical == machine-physical (a direct-mapped dom0): each chunk is
 * mapped at IPA == PA. Chunks are naturally aligned blocks of up to 1 GiB (so the p2m uses
 * 1 GiB and 2 MiB blocks); chunks that touch an existing bank extend it, others open a new
 * bank, and the banks end sorted by address. A fragmented heap gives smaller chunks and
 * more banks: past GUEST_MAX_BANKS the request fails with -ENOMEM (everything released).
 * Other results as allocate_memory().
 */
int allocate_memory_11(struct domain *d, paddr_t bytes);

/*
 * Takes d's RAM away: every chunk in d's banks is unmapped from the p2m and freed to the
 * heap (which marks it for scrubbing before anyone else gets it), the banks are emptied,
 * then p2m_teardown() frees the p2m's tables and the VMID. Returns 0, or -EBUSY (printed)
 * if d still owns pages afterwards that were not in its banks.
 */
int relinquish_memory(struct domain *d);

#endif
