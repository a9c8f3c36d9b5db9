/*
 * The vmap region: virtual address space for mappings that outlive a
 * function call and are visible on every CPU (ARM32: 768 MiB at
 * 0x10000000). Xen's design:
 *
 *  - A bitmap with one bit per page of the region says which pages are
 *    taken. It lives in the first pages of the region it describes, and only
 *    its first page is mapped at start: a further bitmap page is mapped when
 *    an allocation needs the part of the region it describes, and unmapped
 *    again when that part is empty, so the bitmap costs memory in proportion
 *    to how far into the region allocations reach.
 *  - Each allocation is followed by a guard page that is never mapped, so
 *    running off the end of a mapping faults instead of reaching the next.
 *    (The bitmap pages have one after them too.)
 *
 * On top of the allocator (vm_alloc/vm_free, address space only):
 *  - __vmap/vmap/vunmap map given frames;
 *  - vmalloc/vzalloc/vfree allocate domheap pages and map them: the
 *    mapping owns them and vfree gives every one back;
 *  - ioremap maps device registers with Device attributes;
 *  - map_domain_page_global maps one frame until unmap_domain_page_global,
 *    unlike map_domain_page, whose mappings are per-CPU and short-lived.
 *
 * Freeing an address that was not handed out (never allocated, already
 * freed, inside an allocation, a guard page, outside the region) is a
 * panic naming the address: carrying on would unmap somebody else's memory.
 * So is freeing an allocation through another kind's function (vunmap of a
 * vmalloc allocation would leak its pages, vfree of a vmap would free frames
 * it only borrowed): each mapping records its kind (enum vm_kind) in its
 * page-table entries, and the panic names the address, the kind and the
 * function that frees it, with nothing changed. vm_free likewise refuses an
 * allocation that still has pages mapped. Running out of region or memory
 * returns NULL.
 *
 * Use after free: in debug builds a freed range is not handed out again
 * until VM_QUARANTINE_MAX more frees have happened (vmap.c), so a stale
 * pointer into it faults, and the fault report calls it freed; freeing it
 * again panics ("already freed"). Only address space waits, never memory,
 * and an allocation that would not fit otherwise takes it back first.
 */
#ifndef VMAP_H
#define VMAP_H

#include <lib/types.h>

/*
 * Sets up the region: maps the first bitmap page. Once, after the heap is up
 * (the image calls it from setup; host tests through their fixture).
 */
void vm_init(void);
bool vm_is_ready(void);

/*
 * What an allocation of the region is, kept in the tag (pt.h, _PAGE_TAG) of
 * every entry that maps it, and so which function must free it.
 */
enum vm_kind {
    VM_VMAP,        /* __vmap/vmap: vunmap */
    VM_VMALLOC,     /* vmalloc/vzalloc, owns its frames: vfree */
    VM_IOREMAP,     /* ioremap*: iounmap */
    VM_GLOBAL,      /* map_domain_page_global: unmap_domain_page_global */
};

/* nr pages of address space aligned to align pages (a power of two), or NULL. */
void *vm_alloc(unsigned int nr, unsigned int align);
/* Gives back what vm_alloc returned; every page of it must be unmapped by now. */
void vm_free(const void *va);

/*
 * How many freed ranges wait before their address space is handed out again
 * (debug builds VM_QUARANTINE_MAX, release builds 0). vm_quarantine_set
 * empties the quarantine, sets a new depth (0 .. VM_QUARANTINE_MAX) and
 * returns the old one: for tests that predict placement.
 */
#define VM_QUARANTINE_MAX 16
unsigned int vm_quarantine_set(unsigned int depth);

/* Pages of the allocation that starts at va; panics if none does. */
unsigned int vm_size(const void *va);

/*
 * Maps nr runs of granularity frames each, run i starting at mfn[i], one
 * after another from a virtual address aligned to align pages; flags as for
 * map_pages_to_xen (include _PAGE_BLOCK to allow 2 MiB blocks; a _PAGE_TAG
 * is vmap's own and refused).
 *
 * With a memory type other than write-back (Device, non-cacheable), RAM
 * that something maps write-back is refused with a message, since two
 * mappings with mismatched attributes lose coherency: xenheap frames, frames
 * that are not allocated pages, and frames this CPU's map_domain_page has in
 * use (a cached slot is dropped). RAM frames that are accepted have their
 * cache lines cleaned and invalidated once mapped, and again by vunmap.
 */
void *__vmap(const mfn_t *mfn, unsigned int granularity, unsigned int nr, unsigned int align,
             unsigned int flags);
/* nr frames, read-write, never executable. */
void *vmap(const mfn_t *mfn, unsigned int nr);
/* Unmaps what __vmap/vmap returned. */
void vunmap(const void *va);

/* size bytes (rounded up to pages) of domheap memory, mapped read-write. */
void *vmalloc(size_t size);
void *vzalloc(size_t size);
/* Unmaps and frees what vmalloc/vzalloc returned. NULL is ignored. */
void vfree(void *va);

/*
 * Maps [pa, pa + len) with the given flags and returns the address of pa
 * (pa need not be page aligned). ioremap uses Device attributes, for MMIO;
 * ioremap_wc Normal non-cacheable, for RAM the caller owns (an allocated
 * domheap page it maps nowhere else) or MMIO that allows it. NULL on
 * failure, including RAM refused as under __vmap.
 */
void *ioremap_attr(paddr_t pa, size_t len, unsigned int flags);
void *ioremap(paddr_t pa, size_t len);
void *ioremap_wc(paddr_t pa, size_t len);
/* Unmaps what ioremap* returned (any address in its first page). */
void iounmap(const volatile void *va);

/* A read-write mapping of mfn on every CPU, until unmap_domain_page_global(). */
void *map_domain_page_global(mfn_t mfn);
void unmap_domain_page_global(const void *va);

/* --- inspection, for tests and fault reports ----------------------------------- */

struct vm_stats {
    vaddr_t start, end;             /* the region */
    unsigned int bitmap_pages;      /* pages the whole bitmap would take */
    unsigned int bitmap_mapped;     /* pages of it that are mapped now */
    unsigned long allocations;      /* live allocations */
    unsigned long pages;            /* pages they hold, guards not counted */
    unsigned long highest;          /* region pages up to the end of the last allocation */
    unsigned int quarantined;       /* freed ranges waiting in the quarantine */
};
void vm_stats(struct vm_stats *st);

/*
 * Describes what va is in the region ("guard page after the allocation at
 * 0x...", "page 3 of the 5-page allocation at 0x...", "page 0 of the freed
 * 1-page allocation at 0x... (in quarantine: a use after free)", "free", ...) into buf;
 * false if va is outside the region. Takes no lock: for fault reports.
 */
bool vm_describe(const void *va, char *buf, size_t size);

#endif
