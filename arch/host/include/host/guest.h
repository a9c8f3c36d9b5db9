/*
 * The host's stand-in for running guests (include/arch/guest.h): nothing runs, but every
 * request to start a VCPU is recorded, so that host tests can check what PSCI CPU_ON asked
 * for, and can make the request fail.
 */
#ifndef HOST_GUEST_H
#define HOST_GUEST_H

struct vcpu;

struct host_kick_log {
    unsigned int count;         /* arch_vcpu_kick() calls */
    struct vcpu *last;          /* the VCPU of the last one */
    int result;                 /* what arch_vcpu_kick() returns: set it to test failures */
};
extern struct host_kick_log host_kicks;

#endif
