/*
 * The host's fake of the mapcache's page tables (include/arch/mapcache.h).
 *
 * Host memory cannot be mapped per VCPU, so the host's map_domain_page()
 * stays the arena lookup in mm.c; what this file fakes is the arch side of
 * the slot algorithm, so that host tests can see every entry it writes.
 * Each VCPU gets an array of fake entries (frame << 12 | 1 when valid), and
 * every set, clear and TLB flush is logged in order.
 *
 * It is stricter than hardware: writing an entry that is still valid (a
 * break-before-make violation), clearing one that is already invalid, or
 * destroying a VCPU whose entries still map something panics with the slot,
 * where the real MMU would silently use a stale or conflicting translation.
 */
#include <domain/domain.h>
#include <domain/vcpu.h>
#include <host/mapcache.h>
#include <lib/lib.h>
#include <stdlib.h>

#define FAKE_VALID 1ull

static uint64_t fake_entry(mfn_t mfn)
{
    return mfn_to_paddr(mfn) | FAKE_VALID;
}

static mfn_t fake_entry_mfn(uint64_t e)
{
    return paddr_to_mfn(e);
}

static struct {
    struct host_mapcache_event event[HOST_MAPCACHE_LOG_MAX];
    unsigned int len;
    unsigned long flushes;
    bool fail_next_init;
    struct vcpu *current;
    /* A VCPU a test says is installed on another CPU (the host has one). */
    const struct vcpu *elsewhere;
    unsigned int elsewhere_cpu;
} fake;

static void log_event(enum host_mapcache_op op, const struct vcpu *v, unsigned int slot,
                      mfn_t mfn)
{
    if (fake.len < HOST_MAPCACHE_LOG_MAX)
        fake.event[fake.len] = (struct host_mapcache_event){ op, v, slot, mfn };
    fake.len++;
}

static uint64_t *entry(const struct vcpu *v, unsigned int slot, const char *caller)
{
    char name[24];

    if (!v->arch.third)
        panic("%s: %s has no tables (vcpu_init not called, or destroyed)", caller,
              vcpu_name(v, name, sizeof(name)));
    if (slot >= MAPCACHE_SLOTS)
        panic("%s: %s: slot %u is outside the window", caller, vcpu_name(v, name, sizeof(name)),
              slot);
    return &v->arch.third[slot];
}

int arch_vcpu_init(struct vcpu *v)
{
    if (fake.fail_next_init) {
        fake.fail_next_init = false;
        return -ENOMEM;
    }
    v->arch.second = NULL;
    v->arch.third = calloc(MAPCACHE_SLOTS, sizeof(*v->arch.third));
    return v->arch.third ? 0 : -ENOMEM;
}

void arch_vcpu_destroy(struct vcpu *v)
{
    char name[24];

    for (unsigned int i = 0; i < MAPCACHE_SLOTS; i++)
        if (v->arch.third[i] & FAKE_VALID)
            panic("arch_vcpu_destroy: %s: slot %u still maps mfn 0x%lx",
                  vcpu_name(v, name, sizeof(name)), i, mfn_x(fake_entry_mfn(v->arch.third[i])));
    if (fake.current == v || fake.elsewhere == v)
        panic("arch_vcpu_destroy: %s is still installed on cpu %u",
              vcpu_name(v, name, sizeof(name)), fake.current == v ? 0 : fake.elsewhere_cpu);
    free(v->arch.third);
    v->arch.third = NULL;
}

void arch_mapcache_set(struct vcpu *v, unsigned int slot, mfn_t mfn)
{
    uint64_t *e = entry(v, slot, "arch_mapcache_set");
    char name[24];

    if (*e & FAKE_VALID)
        panic("arch_mapcache_set: %s: slot %u still maps mfn 0x%lx: break-before-make "
              "violated", vcpu_name(v, name, sizeof(name)), slot, mfn_x(fake_entry_mfn(*e)));
    *e = fake_entry(mfn);
    log_event(HOST_MAPCACHE_SET, v, slot, mfn);
}

void arch_mapcache_clear(struct vcpu *v, unsigned int slot)
{
    uint64_t *e = entry(v, slot, "arch_mapcache_clear");
    char name[24];

    if (!(*e & FAKE_VALID))
        panic("arch_mapcache_clear: %s: slot %u is not mapped", vcpu_name(v, name, sizeof(name)),
              slot);
    log_event(HOST_MAPCACHE_CLEAR, v, slot, fake_entry_mfn(*e));
    *e = 0;
    fake.flushes++;
    v->arch.tlb_flushes++;
}

/* --- for tests ------------------------------------------------------------ */

void host_mapcache_log_reset(void)
{
    fake.len = 0;
    fake.flushes = 0;
}

unsigned int host_mapcache_log_len(void)
{
    return fake.len;
}

const struct host_mapcache_event *host_mapcache_log_at(unsigned int i)
{
    return i < fake.len && i < HOST_MAPCACHE_LOG_MAX ? &fake.event[i] : NULL;
}

unsigned long host_mapcache_flushes(void)
{
    return fake.flushes;
}

mfn_t host_mapcache_translate(const struct vcpu *v, vaddr_t va)
{
    uint64_t e;

    if (!mapcache_va_in_window(va) || !v->arch.third)
        return INVALID_MFN;
    e = v->arch.third[mapcache_va_slot(va)];
    return (e & FAKE_VALID) ? fake_entry_mfn(e) : INVALID_MFN;
}

unsigned int host_mapcache_valid_entries(const struct vcpu *v)
{
    unsigned int n = 0;

    for (unsigned int i = 0; v->arch.third && i < MAPCACHE_SLOTS; i++)
        n += (v->arch.third[i] & FAKE_VALID) != 0;
    return n;
}

void host_mapcache_fail_next_init(void)
{
    fake.fail_next_init = true;
}

/* --- the current VCPU: host tests switch by hand ------------------------- */

struct vcpu *current_vcpu(void)
{
    return fake.current;
}

void vcpu_switch_to(struct vcpu *v)
{
    fake.current = v;
}

bool arch_vcpu_installed(const struct vcpu *v, unsigned int *cpu)
{
    if (v == fake.current) {
        *cpu = 0;
        return true;
    }
    if (v == fake.elsewhere) {
        *cpu = fake.elsewhere_cpu;
        return true;
    }
    return false;
}

void host_vcpu_pretend_installed(const struct vcpu *v, unsigned int cpu)
{
    fake.elsewhere = v;
    fake.elsewhere_cpu = cpu;
}
