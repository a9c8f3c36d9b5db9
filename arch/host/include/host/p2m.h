/*
 * The host's p2m "hardware" (arch/host/p2m.c): every stage-2 store, barrier and VMID
 * invalidation, recorded in order for tests (tests/host/p2m_host.c checks
 * break-before-make on the log). The stores themselves go to the fake RAM's table pages.
 */
#ifndef HOST_P2M_H
#define HOST_P2M_H

#include <lib/types.h>
#include <mm/lpae.h>

enum host_p2m_event_kind {
    HOST_P2M_WRITE,     /* arch_p2m_write: entry, old -> value at ipa, level */
    HOST_P2M_DSB,       /* arch_p2m_barrier, or the completion of a flush */
    HOST_P2M_TLBI,      /* arch_p2m_flush_vmid: every entry of vmid */
};

struct host_p2m_event {
    enum host_p2m_event_kind kind;
    const lpae_t *entry;
    lpae_t old, value;
    paddr_t ipa;
    unsigned int level;
    unsigned int vmid;  /* TLBI: the VMID invalidated */
};

/* Records every step into buf (capacity events) until host_p2m_log_stop(). */
void host_p2m_log_start(struct host_p2m_event *buf, unsigned int capacity);
/* Stops recording; returns the number of events, *overflow if some were lost. */
unsigned int host_p2m_log_stop(bool *overflow);

#endif
