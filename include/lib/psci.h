/*
 * PSCI (Arm DEN 0022) as both sides use it: the hypervisor calls the firmware's PSCI to
 * start CPUs and power off, and emulates PSCI for its guests (common/domain/vpsci.c).
 * Only the SMC32 calling convention: function id in r0, arguments in r1-r3, result in r0.
 */
#ifndef LIB_PSCI_H
#define LIB_PSCI_H

#include <lib/types.h>

#define PSCI_VERSION            0x84000000u
#define PSCI_CPU_SUSPEND        0x84000001u
#define PSCI_CPU_OFF            0x84000002u
#define PSCI_CPU_ON             0x84000003u
#define PSCI_AFFINITY_INFO      0x84000004u
#define PSCI_MIGRATE_INFO_TYPE  0x84000006u
#define PSCI_SYSTEM_OFF         0x84000008u
#define PSCI_SYSTEM_RESET       0x84000009u
#define PSCI_FEATURES           0x8400000au

#define PSCI_VERSION_1_0        0x00010000u

#define PSCI_SUCCESS             0
#define PSCI_NOT_SUPPORTED      -1
#define PSCI_INVALID_PARAMETERS -2
#define PSCI_DENIED             -3
#define PSCI_ALREADY_ON         -4
#define PSCI_ON_PENDING         -5
#define PSCI_INTERNAL_FAILURE   -6
#define PSCI_INVALID_ADDRESS    -9

/* AFFINITY_INFO results; MIGRATE_INFO_TYPE's "no Trusted OS that needs migrating". */
#define PSCI_AFFINITY_ON        0
#define PSCI_AFFINITY_OFF       1
#define PSCI_AFFINITY_ON_PENDING 2
#define PSCI_TOS_NOT_PRESENT    2

/* The name of a PSCI return code, for messages. */
static inline const char *psci_error_name(int32_t rc)
{
    switch (rc) {
    case PSCI_SUCCESS: return "SUCCESS";
    case PSCI_NOT_SUPPORTED: return "NOT_SUPPORTED";
    case PSCI_INVALID_PARAMETERS: return "INVALID_PARAMETERS";
    case PSCI_DENIED: return "DENIED";
    case PSCI_ALREADY_ON: return "ALREADY_ON";
    case PSCI_ON_PENDING: return "ON_PENDING";
    case PSCI_INTERNAL_FAILURE: return "INTERNAL_FAILURE";
    case PSCI_INVALID_ADDRESS: return "INVALID_ADDRESS";
    default: return "unknown error";
    }
}

#endif
