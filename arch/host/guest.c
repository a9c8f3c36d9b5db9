/*
 * Guests on the host (arch/host/include/host/guest.h): a host process cannot enter a guest,
 * so arch_vcpu_run() refuses; starting a VCPU elsewhere is only recorded, and the VCPU
 * "stops" at once (its running flag is cleared) so that nothing waits for it.
 */
#include <arch/guest.h>
#include <domain/vcpu.h>
#include <host/guest.h>
#include <lib/errno.h>

struct host_kick_log host_kicks;

int arch_vcpu_run(struct vcpu *v)
{
    (void)v;
    return -ENOSYS;
}

int arch_vcpu_kick(struct vcpu *v)
{
    host_kicks.count++;
    host_kicks.last = v;
    return host_kicks.result;
}

void arch_vcpu_wait(struct vcpu *v)
{
    (void)v;
}

uint32_t arch_gic_kept(void)
{
    return 0;                   /* the host has no GIC: nothing is kept from a guest */
}
