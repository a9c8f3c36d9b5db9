/*
 * The PMU's cycle counter as an instruction counter.
 *
 * Under QEMU with -icount shift=0 every instruction takes one virtual cycle,
 * so PMCCNTR counts instructions exactly and repeatably (plain TCG ties it to
 * host time instead). In Hyp mode PMCCNTR counts only if PMCCFILTR.NSH is set.
 */
#ifndef ASM_PMU_H
#define ASM_PMU_H

#include <asm/sysregs.h>

#define PMCR        CP32(0, c9, c12, 0)
#define PMCNTENSET  CP32(0, c9, c12, 1)
#define PMSELR      CP32(0, c9, c12, 5)
#define PMCCNTR     CP32(0, c9, c13, 0)
#define PMXEVTYPER  CP32(0, c9, c13, 1)

#define PMCR_E      (1u << 0)   /* enable */
#define PMCR_P      (1u << 1)   /* reset event counters */
#define PMCR_C      (1u << 2)   /* reset the cycle counter */
#define PMCCFILTR_NSH (1u << 27) /* count in Hyp mode */

static inline void pmu_init(void)
{
    WRITE_CP32(31, PMSELR);                 /* select PMCCFILTR through PMXEVTYPER */
    isb();
    WRITE_CP32(PMCCFILTR_NSH, PMXEVTYPER);
    WRITE_CP32(PMCR_E | PMCR_P | PMCR_C, PMCR);
    WRITE_CP32(1u << 31, PMCNTENSET);       /* the cycle counter */
    isb();
}

/* 32 bits: callers subtract two readings in 32-bit arithmetic, which is
 * right across one wrap; a benchmark stays far below 4G instructions. */
static inline uint32_t pmu_instructions(void)
{
    isb();
    return READ_CP32(PMCCNTR);
}

#endif
