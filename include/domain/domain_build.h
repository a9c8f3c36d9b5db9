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
#include <dt/bootinfo.h>
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

/*
 * Building a domain from boot modules (construct_domain() below).
 *
 * Placement, in guest-physical addresses (IPA) of bank 0, after Linux's ARM boot
 * protocol (Documentation/arch/arm/booting.rst: kernel in the first 128 MiB of RAM, the
 * device tree and the initrd where the kernel will not overwrite them and in lowmem, the
 * tree 8-byte aligned and at most 2 MiB):
 *
 *   bank 0 start                            the first 0x8000 bytes stay empty (Linux
 *                                           puts its page tables below a zImage)
 *   bank 0 start + KERNEL_OFFSET            the kernel image, exactly its module's bytes;
 *                                           entry = kernel_ipa, its first byte
 *   ...                                     free: room for a zImage to decompress into
 *   top - initrd - DT (page aligned)        the device tree (dtb_ipa, dtb_size)
 *   top - initrd (page aligned)             the initrd (initrd_ipa, initrd_size)
 *   top = bank 0 start + min(bank 0 size, 512 MiB)
 *
 * Both the tree and the initrd thus lie in the first 512 MiB of RAM (a Linux guest's
 * lowmem) and as far above the kernel as that allows. The kernel is given only its own
 * size: the room a zImage needs for decompressing is not reserved, it is whatever lies
 * between the kernel and the tree. When the kernel, the tree and the initrd do not fit
 * that way, construct_domain() refuses with -ENOSPC and prints the sizes. Everything
 * else in the guest's RAM is what the heap hands out: zeros, or in debug builds the
 * poison a freed page was filled with (include/mm/page_alloc.h); never old data.
 *
 * The guest runs its first instructions with its MMU off, so its virtual addresses are
 * its IPAs: everything must lie below 4 GiB (bank 0 of allocate_memory() always does;
 * a direct-mapped domain whose bank 0 lies higher is refused with -EINVAL).
 */
#define KERNEL_OFFSET       0x8000ULL
#define GUEST_LOWMEM_LIMIT  (512ULL << 20)      /* tree and initrd within this of bank 0 */
#define GUEST_DTB_MAX       (2ULL << 20)        /* Linux's limit on the tree's size */
#define GUEST_MAX_VCPUS     8

struct kernel_info {
    struct domain *d;                  /* domain_init()'d and p2m_init()'d, nothing more */
    paddr_t mem_bytes;                 /* RAM to give the domain */
    bool direct_map;                   /* allocate_memory_11 instead of allocate_memory */
    unsigned int nr_vcpus;             /* 1..GUEST_MAX_VCPUS */
    bool give_console;                 /* pass the host's console PL011 through (IPA == PA) */
    bool give_gic_and_timer;           /* keep the GIC and timer nodes (a Linux dom0) */
    const struct bootmodule *kernel;   /* required */
    const struct bootmodule *initrd;   /* NULL: none */
    const char *cmdline;               /* NULL: the kernel module's own bootargs */
    /* filled by construct_domain(): */
    paddr_t entry;                     /* IPA where the kernel starts: its first byte */
    paddr_t kernel_ipa, kernel_size;
    paddr_t dtb_ipa, dtb_size;
    paddr_t initrd_ipa, initrd_size;   /* 0, 0 without an initrd */
};

/*
 * Gives kinfo->d its RAM (allocate_memory() or, with direct_map, allocate_memory_11()),
 * places the kernel, the initrd and the guest's device tree as above, builds the tree
 * from host_fdt (make_guest_dt(), domain/guest_dt.h) in a scratch buffer from the
 * xenheap, and copies the three into the guest's RAM (kernel_load(), initrd_load(),
 * dtb_load()). Fills kinfo's output fields. host_fdt is the tree bootinfo_parse()
 * accepted.
 *
 * Returns 0, or a negative errno with a printed message: -EINVAL for a missing domain,
 * tree or kernel, a kernel or initrd of size 0, nr_vcpus out of range, bank 0 above
 * 4 GiB; -ENOSPC when the images do not fit (sizes printed); what allocate_memory*,
 * make_guest_dt() or the loaders return otherwise. On failure the domain keeps whatever
 * RAM it was given: the caller takes it back with relinquish_memory(), as after a
 * domain's life. The scratch buffer is always freed.
 */
int construct_domain(struct kernel_info *kinfo, const void *host_fdt);

/*
 * The loaders: each copies bytes that lie in machine memory (a boot module, in reserved
 * RAM that no heap owns, at any byte alignment) into the guest's RAM at the IPA kinfo
 * gives, page by page through gvirt_to_maddr() (guest VA == IPA, the guest's MMU is
 * still off) and map_domain_page(). 0, or a negative errno with a printed message naming
 * what was being loaded and the IPA that could not be written (-EFAULT when it is not
 * the domain's RAM).
 */
int kernel_load(const struct kernel_info *kinfo);
int initrd_load(const struct kernel_info *kinfo);           /* 0 and nothing without initrd */
/* dtb: kinfo->dtb_size bytes of a tree in the xenheap (construct_domain's scratch). */
int dtb_load(const struct kernel_info *kinfo, const void *dtb);

#endif
