/*
 * Fake machines for the host build (libhypmem.a): RAM, frame-table window
 * and xenheap mapping made with mmap, then the normal boot path, setup_mm(),
 * run on them. Tests, benchmarks and fuzzers drive the real allocator this
 * way, with any RAM layout, including RAM above 4 GiB and sparse banks.
 *
 * How the fake hardware works:
 *  - each RAM bank is a sparse memory file (memfd) mapped MAP_NORESERVE:
 *    a 16 GiB or 1 TiB machine costs the host only the pages touched, and
 *    host_machine_resident_pages() says how many that is;
 *  - the frame-table window is reserved address space; arch_map_frametable()
 *    maps the bank's file at the chosen RAM there, so the frame table really
 *    lives in (aliases) the fake RAM the boot allocator gave it, and a
 *    frame-table access outside the mapped granules faults;
 *  - the xenheap "mapping" is the bank's own host address, and
 *    map_domain_page(mfn) is the host address of that frame, after checking
 *    that it is RAM; at most HOST_DOMAIN_PAGE_SLOTS mappings may be
 *    outstanding at once, as with the image's per-CPU slots.
 *
 * One machine exists at a time. Typical use:
 *
 *     struct host_machine_config cfg;
 *     host_machine_default_config(&cfg);     // or fill in banks yourself
 *     cfg.bank[0] = (struct mem_range){ 0x100000000ULL, 0x140000000ULL };
 *     if (host_machine_create(&cfg))
 *         ...                                 // the host could not back it
 *     p = alloc_domheap_pages(NULL, 0, 0);   // the real allocator
 *     ...
 *     host_machine_destroy();
 */
#ifndef HOST_MACHINE_H
#define HOST_MACHINE_H

#include <dt/bootinfo.h>
#include <lib/types.h>

#define HOST_MAX_BANKS 16
#define HOST_MAX_RESERVED BOOTINFO_MAX_RESERVED
#define HOST_DOMAIN_PAGE_SLOTS 8

/* The default machine: 1 GiB of RAM at 33 GiB, with the first 4 MiB reserved
 * the way QEMU's layout reserves the DTB and the image. */
#define HOST_DEFAULT_RAM_BASE 0x840000000ULL
#define HOST_DEFAULT_RAM_SIZE (1ULL << 30)

struct host_machine_config {
    unsigned int nr_banks;
    struct mem_range bank[HOST_MAX_BANKS];          /* RAM, page aligned, disjoint */
    unsigned int nr_reserved;
    struct mem_range reserved[HOST_MAX_RESERVED];   /* not usable (like /reserved-memory) */
    size_t frametable_window;   /* bytes; 0 means the image's 96 MiB */
    bool fill_ram;              /* write fill_byte over all RAM before boot, */
    uint8_t fill_byte;          /* standing for what a previous user left */
};

void host_machine_default_config(struct host_machine_config *cfg);

/*
 * Replaces the current machine (if any) with one built from cfg and runs
 * setup_mm() on it. Returns 0, or -1 with a message if cfg is malformed or
 * the host cannot provide the memory. Problems that setup_mm() finds (a
 * machine too small for a xenheap, ...) panic as they would on hardware;
 * after a caught panic, host_machine_destroy() still cleans up.
 */
int host_machine_create(const struct host_machine_config *cfg);
int host_machine_create_default(void);

/*
 * Boots the current machine again on the RAM it has, like a warm reset: setup_mm() runs
 * afresh and the heap is as at the first boot, while RAM keeps whatever was written to
 * it (which the heap scrubs before handing out). Much cheaper than host_machine_create()
 * when a fuzzer wants the same boot state for every input. The vmap region must be torn
 * down first (vm_teardown). Returns 0, or -1 with a message.
 */
int host_machine_reboot(void);

/* Tears down the heap and every mapping. Harmless when there is no machine. */
void host_machine_destroy(void);

bool host_machine_present(void);

/* The boot information setup_mm() was given. */
const struct bootinfo *host_machine_bootinfo(void);

/* Host address of fake physical address pa, or NULL if pa is not RAM. For
 * tests that look at memory behind the allocator's back. */
void *host_machine_ram(paddr_t pa);

/* RAM pages the host has actually backed so far (touched by anyone). */
unsigned long host_machine_resident_pages(void);

/* map_domain_page() mappings not yet unmapped. */
unsigned int host_domain_page_mappings(void);

#endif
