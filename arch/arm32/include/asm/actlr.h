/*
 * ACTLR.SMP on the Cortex-A15 (Cortex-A15 TRM, Auxiliary Control Register
 * and Non-Secure Access Control Register): the bit that puts a CPU in the
 * coherency domain. Plain constants: boot/head.S uses them too.
 */
#ifndef ASM_ACTLR_H
#define ASM_ACTLR_H

#define MIDR_PART_MASK      0xff00fff0      /* implementer and primary part number */
#define MIDR_CORTEX_A15     0x4100c0f0
#define ID_PFR1_SECURITY    0xf0            /* Security Extensions; 0: none, and no NSACR */
#define NSACR_NS_SMP        (1 << 18)       /* Non-secure code may write ACTLR.SMP */
#define ACTLR_A15_SMP       (1 << 6)

#endif
