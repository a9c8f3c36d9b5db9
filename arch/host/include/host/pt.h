/*
 * The host's page-table "hardware" (arch/host/pt.c), for host tests.
 *
 * Tables: the two shared level-2 tables are static arrays; level-3 tables
 * are pages of the fake RAM, reached through map_domain_page like on the
 * image. Common code's stores, barriers and TLB invalidations can be
 * recorded in order (host_pt_log_*), so a test can check that a live entry
 * was broken, the break made visible, the TLBs invalidated and the
 * invalidation completed before the new entry was written.
 *
 * A software MMU makes the vmap window real: the host address range
 * [0x10000000, 0x40000000) is reserved at the same numbers as the image's
 * vmap region, and a SIGSEGV handler plays the table walker and the TLB.
 * On the first access to a page it walks the fake tables; a valid entry of
 * RAM becomes a host mapping of that RAM page (read-only if the entry says
 * so): that is the "TLB entry". arch_pt_flush_tlb() removes those host
 * mappings again, and nothing else does, so a missing TLB invalidation
 * leaves a stale translation just as on hardware. An access that the walk
 * rejects is a fault: inside host_probe_*() it is recorded in
 * host_last_fault and the probe returns -14; elsewhere the handler prints
 * what was accessed (with vm_describe()) and the process dies.
 */
#ifndef HOST_PT_H
#define HOST_PT_H

#include <lib/types.h>
#include <mm/lpae.h>

#define HOST_VMAP_START 0x10000000UL
#define HOST_VMAP_END   0x40000000UL

enum host_pt_event_kind {
    HOST_PT_WRITE,      /* arch_pt_write: entry, old -> value */
    HOST_PT_DSB,        /* arch_pt_barrier, or the completion inside a TLB flush */
    HOST_PT_TLBI,       /* arch_pt_flush_tlb: nr entries of a level from va */
    HOST_PT_SYNC_EXEC,  /* arch_pt_sync_exec: branch predictors invalidated */
};

struct host_pt_event {
    enum host_pt_event_kind kind;
    const lpae_t *entry;
    lpae_t old, value;
    vaddr_t va;
    unsigned long nr;
    unsigned int level;
    /* A write over a table entry: valid entries in that table at the time
     * (what the old table could still put in a TLB besides itself). */
    unsigned int live_below;
};

/* Records every step into buf (capacity events) until host_pt_log_stop(). */
void host_pt_log_start(struct host_pt_event *buf, unsigned int capacity);
/* Stops recording; returns the number of events, *overflow if some were lost. */
unsigned int host_pt_log_stop(bool *overflow);

/* What the software MMU said about the last faulting access. */
enum host_fault_kind {
    HOST_FAULT_TRANSLATION,     /* no valid entry */
    HOST_FAULT_PERMISSION,      /* a write to a read-only page */
    HOST_FAULT_NOT_RAM,         /* a valid entry for memory the host cannot back (MMIO) */
};

struct host_fault {
    vaddr_t va;
    enum host_fault_kind kind;
    unsigned int level;         /* where the walk stopped (translation faults) */
    unsigned int count;         /* faults caught by probes so far */
};
extern struct host_fault host_last_fault;

/* Access va as a probe: 0, or -EFAULT with host_last_fault filled in. */
int host_probe_read32(const volatile void *va, uint32_t *value);
int host_probe_write32(volatile void *va, uint32_t value);

/* Host pages of the window currently backed (the software TLB's size). */
unsigned long host_mmu_cached_pages(void);

#endif
