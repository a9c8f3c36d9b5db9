/*
 * The test guest's PSCI checks: VERSION and FEATURES, then every other VCPU
 * the device tree lists started with CPU_ON and turned off again.
 *
 * A secondary VCPU records what it found (context id, MPIDR, CPSR, SCTLR)
 * in its marker inside the image's data, prints one line, and waits for the
 * boot VCPU's release before calling CPU_OFF: while it waits it is surely
 * on, which is when CPU_ON of it must answer ALREADY_ON. Only the boot VCPU
 * judges and prints verdicts. Markers are published with DMB before the
 * state word and DSB + SEV after, as another CPU with its caches off reads
 * them; every wait is bounded by time.
 */
#include <libfdt.h>
#include <string.h>
#include "checks.h"
#include "guest.h"
#include "runtime.h"

#define CONTEXT_BASE        0xc0de0000u
#define WAIT_MS             20000       /* TCG with several VCPUs on few host cores is slow */
#define CPU_OFF_GRACE_MS    500
#define ABSENT_MPIDR        7

enum marker_state {
    MARK_NONE,
    MARK_UP,                /* checked in, waiting for the release */
    MARK_OFF_CALLED,        /* about to call CPU_OFF */
    MARK_OFF_RETURNED,      /* CPU_OFF came back: a failure */
};

struct cpu_marker {
    volatile uint32_t state;
    uint32_t context;
    uint32_t mpidr;
    uint32_t cpsr;
    uint32_t sctlr;
    int32_t off_result;
};

static struct cpu_marker markers[GUEST_MAX_CPUS];
static volatile uint32_t release_secondaries;

static void publish(struct cpu_marker *m, uint32_t state)
{
    dmb();
    m->state = state;
    dsb();
    sev();
}

void secondary_main(uint32_t context_id, uint32_t mpidr, uint32_t cpsr, uint32_t sctlr)
{
    uint32_t n = mpidr & 0xff;      /* start.S checked it is below GUEST_MAX_CPUS */
    struct cpu_marker *m = &markers[n];
    struct deadline d;

    m->context = context_id;
    m->mpidr = mpidr;
    m->cpsr = cpsr;
    m->sctlr = sctlr;
    publish(m, MARK_UP);
    say("testguest: cpu %u up: context id 0x%08lx, MPIDR 0x%08lx, CPSR 0x%08lx, SCTLR 0x%08lx",
        (unsigned int)n, context_id, mpidr, cpsr, sctlr);

    deadline_start(&d, WAIT_MS);
    while (!release_secondaries && !deadline_passed(&d))
        ;
    publish(m, MARK_OFF_CALLED);
    m->off_result = psci_call(PSCI_CPU_OFF, 0, 0, 0);
    publish(m, MARK_OFF_RETURNED);
    /* The boot VCPU reports it; this VCPU has nothing left to do. */
    for (;;)
        __asm__ volatile("wfi");
}

static void check_version_and_features(void)
{
    static const struct {
        uint32_t fn;
        const char *name;
    } implemented[] = {
        { PSCI_CPU_ON, "CPU_ON" },
        { PSCI_CPU_OFF, "CPU_OFF" },
        { PSCI_SYSTEM_OFF, "SYSTEM_OFF" },
        { PSCI_SYSTEM_RESET, "SYSTEM_RESET" },
    };
    struct check c;
    int32_t r;

    check_begin(&c, "psci_version");
    r = psci_call(PSCI_VERSION, 0, 0, 0);
    if (r != 0x10000)
        problem(&c, "PSCI_VERSION returned 0x%08lx, expected 0x00010000 (1.0)", (uint32_t)r);
    check_end(&c);

    check_begin(&c, "psci_features");
    for (unsigned int i = 0; i < sizeof(implemented) / sizeof(implemented[0]); i++) {
        r = psci_call(PSCI_FEATURES, implemented[i].fn, 0, 0);
        if (r != PSCI_SUCCESS)
            problem(&c, "PSCI_FEATURES(%s) returned %d, expected 0", implemented[i].name, (int)r);
    }
    r = psci_call(PSCI_FEATURES, 0x8400ffffu, 0, 0);
    if (r != PSCI_NOT_SUPPORTED)
        problem(&c, "PSCI_FEATURES(0x8400ffff) returned %d, expected -1 (NOT_SUPPORTED)", (int)r);
    check_end(&c);
}

/* The reg of every /cpus/cpu node; returns how many there are. */
static unsigned int dt_cpus(const void *fdt, uint32_t *mpidr, unsigned int max)
{
    int cpus = fdt_path_offset(fdt, "/cpus"), node;
    unsigned int n = 0;

    if (cpus < 0)
        return 0;
    fdt_for_each_subnode(node, fdt, cpus) {
        const char *type = fdt_getprop(fdt, node, "device_type", NULL);
        const fdt32_t *reg;
        int len;

        if (type == NULL || strcmp(type, "cpu") != 0)
            continue;
        reg = fdt_getprop(fdt, node, "reg", &len);
        if (n < max)
            mpidr[n] = reg != NULL && len >= 4 ? fdt32_to_cpu(reg[len / 4 - 1]) : 0xffffffffu;
        n++;
    }
    return n;
}

static bool listed(const uint32_t *mpidr, unsigned int n, uint32_t aff)
{
    for (unsigned int i = 0; i < n; i++)
        if (mpidr[i] == aff)
            return true;
    return false;
}

/* Waits until every started marker reaches state; returns false on timeout. */
static bool wait_markers(const bool *started, uint32_t state)
{
    struct deadline d;

    deadline_start(&d, WAIT_MS);
    for (;;) {
        bool all = true;

        for (unsigned int n = 0; n < GUEST_MAX_CPUS; n++)
            if (started[n] && markers[n].state < state)
                all = false;
        if (all)
            return true;
        if (deadline_passed(&d))
            return false;
    }
}

void check_psci(const void *fdt)
{
    uint32_t mpidr[GUEST_MAX_CPUS + 1];
    bool started[GUEST_MAX_CPUS] = { false };
    unsigned int nr = dt_cpus(fdt, mpidr, GUEST_MAX_CPUS + 1), listed_nr;
    uint32_t self = read_mpidr() & 0xffffff, first_secondary = 0xffffffffu, absent;
    struct check c;
    int32_t r;

    check_version_and_features();
    listed_nr = nr < GUEST_MAX_CPUS + 1 ? nr : GUEST_MAX_CPUS + 1;
    say("# smp: %u cpus in the device tree, this one has MPIDR affinity 0x%x", nr,
        (unsigned int)self);

    if (nr >= 2) {
        check_begin(&c, "cpu_on");
        for (unsigned int i = 0; i < listed_nr; i++) {
            uint32_t n = mpidr[i];

            if (n == self)
                continue;
            if (n >= GUEST_MAX_CPUS) {
                problem(&c, "cpu with MPIDR 0x%x: this guest has stacks for %d VCPUs only",
                        (unsigned int)n, GUEST_MAX_CPUS);
                continue;
            }
            r = psci_call(PSCI_CPU_ON, n, (uint32_t)(uintptr_t)secondary_entry,
                          CONTEXT_BASE | n);
            say("# cpu_on: CPU_ON(%u, 0x%08lx, context 0x%08lx) returned %d", (unsigned int)n,
                (uint32_t)(uintptr_t)secondary_entry, CONTEXT_BASE | n, (int)r);
            if (r != PSCI_SUCCESS) {
                problem(&c, "CPU_ON(%u) returned %d, expected 0", (unsigned int)n, (int)r);
                continue;
            }
            started[n] = true;
            if (first_secondary == 0xffffffffu)
                first_secondary = n;
        }
        if (!wait_markers(started, MARK_UP))
            problem(&c, "not every started VCPU checked in within %d ms", WAIT_MS);
        for (unsigned int n = 0; n < GUEST_MAX_CPUS; n++) {
            const struct cpu_marker *m = &markers[n];

            if (m->state == MARK_NONE) {
                if (started[n])
                    problem(&c, "cpu %u never checked in", n);
                continue;
            }
            if (!started[n])
                problem(&c, "a VCPU with MPIDR.Aff0 %u checked in, but none was started as %u",
                        n, n);
            if (m->context != (CONTEXT_BASE | n))
                problem(&c, "cpu %u: r0 = 0x%08lx at entry, expected the context id 0x%08x", n,
                        m->context, CONTEXT_BASE | n);
            if ((m->cpsr & 0x1f) != 0x13)
                problem(&c, "cpu %u: CPSR 0x%08lx, expected SVC mode", n, m->cpsr);
            if (m->sctlr & 1u)
                problem(&c, "cpu %u: SCTLR 0x%08lx, the MMU is on", n, m->sctlr);
        }
        check_end(&c);
    } else {
        say("# smp: one VCPU: no secondary to start");
    }

    check_begin(&c, "cpu_on_already_on");
    r = psci_call(PSCI_CPU_ON, self, (uint32_t)(uintptr_t)secondary_entry, CONTEXT_BASE);
    if (r != PSCI_ALREADY_ON)
        problem(&c, "CPU_ON of the calling VCPU returned %d, expected -4 (ALREADY_ON)", (int)r);
    if (first_secondary != 0xffffffffu && markers[first_secondary].state == MARK_UP) {
        r = psci_call(PSCI_CPU_ON, first_secondary, (uint32_t)(uintptr_t)secondary_entry,
                      CONTEXT_BASE | first_secondary);
        if (r != PSCI_ALREADY_ON && r != PSCI_ON_PENDING)
            problem(&c, "CPU_ON of cpu %u, which is on, returned %d, expected -4 (ALREADY_ON)",
                    (unsigned int)first_secondary, (int)r);
    }
    check_end(&c);

    check_begin(&c, "cpu_on_absent");
    for (absent = ABSENT_MPIDR; listed(mpidr, listed_nr, absent); absent++)
        ;
    r = psci_call(PSCI_CPU_ON, absent, (uint32_t)(uintptr_t)secondary_entry, CONTEXT_BASE);
    if (r != PSCI_INVALID_PARAMETERS)
        problem(&c, "CPU_ON of MPIDR %u (no such VCPU) returned %d, expected -2 "
                "(INVALID_PARAMETERS)", (unsigned int)absent, (int)r);
    check_end(&c);

    release_secondaries = 1;
    dsb();
    sev();
    if (first_secondary == 0xffffffffu)
        return;

    /* CPU_OFF must not return: give a VCPU whose call did return time to say so. */
    check_begin(&c, "cpu_off");
    if (!wait_markers(started, MARK_OFF_CALLED))
        problem(&c, "not every VCPU got to call CPU_OFF within %d ms", WAIT_MS);
    {
        struct deadline d;

        deadline_start(&d, CPU_OFF_GRACE_MS);
        while (!deadline_passed(&d))
            ;
    }
    for (unsigned int n = 0; n < GUEST_MAX_CPUS; n++)
        if (started[n] && markers[n].state == MARK_OFF_RETURNED)
            problem(&c, "cpu %u: CPU_OFF returned %d", n, (int)markers[n].off_result);
    check_end(&c);
}
