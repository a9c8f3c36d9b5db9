/*
 * The host's fake of the mapcache seam (arch/mapcache.h): instead of page
 * tables, a log of what the algorithm asked for, which host tests read back.
 */
#ifndef HOST_MAPCACHE_H
#define HOST_MAPCACHE_H

#include <arch/mapcache.h>

/*
 * The host's fake: what the algorithm wrote, in order. Tests reset the log,
 * act, and read it back. Entries past HOST_MAPCACHE_LOG_MAX are counted in
 * host_mapcache_log_len() but not kept.
 */
#define HOST_MAPCACHE_LOG_MAX 4096

enum host_mapcache_op {
    HOST_MAPCACHE_SET,      /* arch_mapcache_set: mfn is the new frame */
    HOST_MAPCACHE_CLEAR,    /* arch_mapcache_clear: mfn is the frame it held */
};

struct host_mapcache_event {
    enum host_mapcache_op op;
    const struct vcpu *v;
    unsigned int slot;
    mfn_t mfn;
};

void host_mapcache_log_reset(void);
unsigned int host_mapcache_log_len(void);
const struct host_mapcache_event *host_mapcache_log_at(unsigned int i);

/* TLB invalidations since the last host_mapcache_log_reset(). */
unsigned long host_mapcache_flushes(void);

/* What v's tables translate va to: the frame, or INVALID_MFN if it would fault. */
mfn_t host_mapcache_translate(const struct vcpu *v, vaddr_t va);

/* Valid entries in v's tables. */
unsigned int host_mapcache_valid_entries(const struct vcpu *v);

/* Makes the next arch_vcpu_init() fail with -ENOMEM (tests the error path). */
void host_mapcache_fail_next_init(void);

/*
 * From now on, arch_vcpu_installed() says v is installed on CPU cpu (not
 * 0, the host's only CPU), as if another CPU ran it; NULL forgets it.
 */
void host_vcpu_pretend_installed(const struct vcpu *v, unsigned int cpu);

#endif
