/*
 * Coprocessor-15 register access and the barriers and TLB/cache operations
 * that go with it. Each register is named by its (opc1, CRn, CRm, opc2)
 * encoding from the ARM ARM so the accessors need no per-register function.
 */
#ifndef ASM_SYSREGS_H
#define ASM_SYSREGS_H

#include <lib/types.h>

#define __stringify_1(x) #x
#define __stringify(x) __stringify_1(x)

#define CP32(op1, crn, crm, op2) "p15, " #op1 ", %0, " #crn ", " #crm ", " #op2
#define CP64(op1, crm) "p15, " #op1 ", %Q0, %R0, " #crm

#define READ_CP32(reg) ({ uint32_t v_; __asm__ volatile("mrc " reg : "=r"(v_)); v_; })
#define WRITE_CP32(v, reg) __asm__ volatile("mcr " reg :: "r"((uint32_t)(v)) : "memory")
#define READ_CP64(reg) ({ uint64_t v_; __asm__ volatile("mrrc " reg : "=r"(v_)); v_; })
#define WRITE_CP64(v, reg) __asm__ volatile("mcrr " reg :: "r"((uint64_t)(v)) : "memory")

#define MIDR        CP32(0, c0, c0, 0)
#define MPIDR       CP32(0, c0, c0, 5)
#define ID_MMFR0    CP32(0, c0, c1, 4)
#define ID_MMFR3    CP32(0, c0, c1, 7)
#define ID_PFR1     CP32(0, c0, c1, 1)
#define ACTLR       CP32(0, c1, c0, 1)    /* IMPLEMENTATION DEFINED; SMP is bit 6 on a Cortex-A15 */
#define NSACR       CP32(0, c1, c1, 2)    /* read-only outside Secure state */
#define CTR         CP32(0, c0, c0, 1)
#define HSCTLR      CP32(4, c1, c0, 0)
#define HCR         CP32(4, c1, c1, 0)
#define HTCR        CP32(4, c2, c0, 2)
#define HTTBR       CP64(4, c2)
#define HMAIR0      CP32(4, c10, c2, 0)
#define HSR         CP32(4, c5, c2, 0)
#define HDFAR       CP32(4, c6, c0, 0)
#define HIFAR       CP32(4, c6, c0, 2)
#define HPFAR       CP32(4, c6, c0, 4)
#define HVBAR       CP32(4, c12, c0, 0)
#define PAR         CP64(0, c7)
#define ATS1HR      CP32(4, c7, c8, 0)    /* translate a VA as a Hyp read */
#define ATS1HW      CP32(4, c7, c8, 1)    /* ... as a Hyp write */
#define TLBIALLH    CP32(4, c8, c7, 0)
#define TLBIALLHIS  CP32(4, c8, c3, 0)
#define TLBIMVAH    CP32(4, c8, c7, 1)
#define TLBIMVAHIS  CP32(4, c8, c3, 1)
#define TLBIALLIS   CP32(0, c8, c3, 0)    /* from Hyp: this VMID's Non-secure PL1&0 entries */
#define TLBIALLNSNHIS CP32(4, c8, c3, 4)  /* every VMID's Non-secure PL1&0 entries */
#define VTCR        CP32(4, c2, c1, 2)
#define VTTBR       CP64(6, c2)
#define ATS12NSOPR  CP32(0, c7, c8, 4)    /* translate a Non-secure PL1 read, stages 1 and 2 */
#define ATS12NSOPW  CP32(0, c7, c8, 5)    /* ... a Non-secure PL1 write */
#define NS_SCTLR    CP32(0, c1, c0, 0)    /* SCTLR; from Hyp mode, the Non-secure one */
#define HCR_VM      (1u << 0)             /* stage 2 on for Non-secure PL1&0 */
#define ICIALLU     CP32(0, c7, c5, 0)
#define DCCIMVAC    CP32(0, c7, c14, 1)
#define CNTFRQ      CP32(0, c14, c0, 0)
#define CNTPCT      CP64(0, c14)

/* A guest's PL1 registers (the Non-secure copies, from Hyp mode) and the Hyp controls. */
#define NS_CPACR    CP32(0, c1, c0, 2)
#define NS_TTBR0    CP64(0, c2)
#define NS_TTBR1    CP64(1, c2)
#define NS_TTBCR    CP32(0, c2, c0, 2)
#define NS_DACR     CP32(0, c3, c0, 0)
#define NS_DFSR     CP32(0, c5, c0, 0)
#define NS_IFSR     CP32(0, c5, c0, 1)
#define NS_DFAR     CP32(0, c6, c0, 0)
#define NS_IFAR     CP32(0, c6, c0, 2)
#define NS_PRRR     CP32(0, c10, c2, 0)   /* MAIR0 with TTBCR.EAE */
#define NS_NMRR     CP32(0, c10, c2, 1)   /* MAIR1 */
#define NS_AMAIR0   CP32(0, c10, c3, 0)
#define NS_AMAIR1   CP32(0, c10, c3, 1)
#define NS_VBAR     CP32(0, c12, c0, 0)
#define NS_FCSEIDR  CP32(0, c13, c0, 0)
#define NS_CONTEXTIDR CP32(0, c13, c0, 1)
#define NS_TPIDRURW CP32(0, c13, c0, 2)
#define NS_TPIDRURO CP32(0, c13, c0, 3)
#define NS_TPIDRPRW CP32(0, c13, c0, 4)
#define NS_CSSELR   CP32(2, c0, c0, 0)
#define CNTKCTL     CP32(0, c14, c1, 0)
#define CNTP_CTL    CP32(0, c14, c2, 1)
#define CNTV_CTL    CP32(0, c14, c3, 1)
#define VPIDR       CP32(4, c0, c0, 0)
#define VMPIDR      CP32(4, c0, c0, 5)
#define HDCR        CP32(4, c1, c1, 1)
#define HCPTR       CP32(4, c1, c1, 2)
#define HSTR        CP32(4, c1, c1, 3)
#define CNTHCTL     CP32(4, c14, c1, 0)
#define CNTHP_TVAL  CP32(4, c14, c2, 0)    /* the Hyp physical timer: the watchdog's tick */
#define CNTHP_CTL   CP32(4, c14, c2, 1)
#define CNTVOFF     CP64(4, c14)
#define PMCR        CP32(0, c9, c12, 0)

#define dsb(scope) __asm__ volatile("dsb " #scope ::: "memory")
#define dmb(scope) __asm__ volatile("dmb " #scope ::: "memory")
#define isb() __asm__ volatile("isb" ::: "memory")

#endif
