/*
 * A minimal VCPU: what map_domain_page() needs to know about one.
 *
 * The domheap window (VA 0x80000000 up) is private to each VCPU: every VCPU
 * owns its page tables for the window (struct arch_vcpu) and the mapcache
 * that decides what they map. Switching a CPU to a VCPU installs that VCPU's
 * tables in the CPU's root table, so a mapping made by one VCPU is never
 * visible to another and needs no cross-CPU TLB flush when it goes away.
 *
 * There is no dynamic allocation in common code: a struct vcpu lives where
 * its creator puts it (static, xenheap). It is about 16 KiB (the mapcache),
 * so not on a stack.
 */
#ifndef VCPU_H
#define VCPU_H

#include <arch/guest.h>
#include <arch/mapcache.h>
#include <domain/vgic.h>
#include <lib/types.h>
#include <mm/mapcache.h>

struct domain;

/*
 * Whether a guest VCPU runs: OFF until its domain starts it (VCPU 0) or a PSCI CPU_ON
 * names it; ON from then until it calls CPU_OFF or its domain shuts down. Changed with
 * the domain's lock held; read without it by the CPU that waits for a domain to stop.
 */
enum vcpu_power { VCPU_OFF, VCPU_ON };

struct vcpu {
    unsigned int vcpu_id;
    struct domain *domain;      /* NULL for a CPU's idle VCPU */
    struct arch_vcpu arch;      /* the window's page tables */
    struct mapcache mapcache;
    /* Guest VCPUs only: */
    unsigned int processor;     /* the physical CPU it runs on, always the same one */
    enum vcpu_power power;
    bool running;               /* between its CPU's entry into the run loop and its exit */
    struct guest_regs regs;     /* at entry: where it starts; during an exit: its registers */
    struct vcpu_notes notes;    /* its last exits and watchdog ticks (domain/vgic.h) */
};

/*
 * Sets up v with no mappings (policy: strict in debug builds) and its arch
 * tables. Returns 0, or -ENOMEM if the arch could not allocate its tables
 * (v is then unusable and needs no vcpu_destroy()).
 */
int vcpu_init(struct vcpu *v, unsigned int vcpu_id, struct domain *d);

/*
 * Drops v's cached mappings and frees its tables. Panics before changing
 * anything if v is still installed on a CPU (this one or another, named),
 * or, naming v and the first mapping still in use, if any map_domain_page()
 * was not undone.
 */
void vcpu_destroy(struct vcpu *v);

/*
 * Gives v the registers a VCPU starts with: pc = entry (bit 0 set: Thumb), SVC mode with
 * asynchronous aborts, IRQs and FIQs masked, r0-r3 as given, the rest 0.
 */
void vcpu_set_boot_regs(struct vcpu *v, uint32_t entry, uint32_t r0, uint32_t r1,
                        uint32_t r2);

/* "d<domain>v<vcpu>", or "idle-v<vcpu>" without a domain: for messages. */
const char *vcpu_name(const struct vcpu *v, char *buf, size_t size);

/* The VCPU whose window this CPU has installed, or NULL (arch). */
struct vcpu *current_vcpu(void);

/* Makes v this CPU's current VCPU and installs its window (arch). */
void vcpu_switch_to(struct vcpu *v);

static inline struct vcpu *mapcache_to_vcpu(struct mapcache *mc)
{
    return (struct vcpu *)((char *)mc - offsetof(struct vcpu, mapcache));
}

static inline const struct vcpu *mapcache_to_const_vcpu(const struct mapcache *mc)
{
    return (const struct vcpu *)((const char *)mc - offsetof(struct vcpu, mapcache));
}

#endif
