/*
 * What the mapcache (common/mm/mapcache.c) needs from the architecture: one
 * page-table entry per slot, per VCPU, and the TLB maintenance around it.
 *
 * The algorithm decides which slot holds which frame; the arch only writes
 * the entry of that slot in the given VCPU's own tables. Slot i maps
 * MAPCACHE_VIRT_START + i * PAGE_SIZE. Every function here takes the VCPU
 * explicitly and must work for any VCPU, not only the one running: tests
 * drive several VCPUs' mapcaches from one CPU. Writing the tables of a VCPU
 * that is not installed is harmless, and so is flushing one VA from this
 * CPU's TLB.
 *
 * arch/arm32 implements this with LPAE tables from the xenheap; arch/host
 * with an array of fake entries and a log of every write and flush, so
 * host tests can check exactly what the algorithm asked for.
 */
#ifndef ARCH_MAPCACHE_H
#define ARCH_MAPCACHE_H

#include <lib/types.h>

struct vcpu;

/*
 * Per-VCPU state of the arch side, kept in struct vcpu and owned by the
 * arch (set up by arch_vcpu_init, released by arch_vcpu_destroy). Common
 * code never looks inside.
 *   ARM32: second = the VCPU's level-2 table for VA 0x80000000-0xbfffffff,
 *          which vcpu_switch_to() puts in root entry 2 of the running CPU;
 *          third = its level-3 tables, contiguous, so that the entry of
 *          slot i is third[i].
 *   host:  second unused; third = a fake entry per slot (bit 0 = valid).
 */
struct arch_vcpu {
    uint64_t *second;
    uint64_t *third;
    /*
     * TLB invalidations arch_mapcache_clear() has issued for the window's
     * slots: off the hit path, and read by tests, on both targets, to show
     * that a hit does no TLB maintenance.
     */
    unsigned long tlb_flushes;
};

/*
 * Allocates and clears v's tables for the window (every slot invalid).
 * Returns 0, or -ENOMEM. Called by vcpu_init() before any mapping.
 */
int arch_vcpu_init(struct vcpu *v);

/* Frees what arch_vcpu_init() allocated. Every slot is invalid by then. */
void arch_vcpu_destroy(struct vcpu *v);

/*
 * Makes slot map mfn in v's tables: normal memory, write-back, read-write,
 * never executable. The slot's entry is invalid and its VA is in no TLB
 * (the algorithm guarantees both), so no flush is needed: the arch writes
 * the entry, then DSB (the walker sees it) and ISB (later instructions do).
 */
void arch_mapcache_set(struct vcpu *v, unsigned int slot, mfn_t mfn);

/*
 * Invalidates slot's entry in v's tables and removes its VA from this CPU's
 * TLB: write 0, DSB, TLBI by VA (local: the window is private to the VCPU
 * and a VCPU runs on one CPU at a time), DSB, ISB. After it returns, an
 * access to the slot's VA faults. Only called on a valid entry.
 */
void arch_mapcache_clear(struct vcpu *v, unsigned int slot);

/*
 * Whether v's window is installed on a CPU (that CPU's root table points at
 * v's tables), and if so which one, in *cpu (arch_cpu_id() numbering).
 * arch_mapcache_clear() only reaches the calling CPU's TLB, so common code
 * asks this before clearing anything of a VCPU it does not run as.
 */
bool arch_vcpu_installed(const struct vcpu *v, unsigned int *cpu);


#endif
