/*
 * Exception frames and fault probing for the Hyp vectors (arch/arm32/entry.S).
 */
#ifndef ASM_TRAPS_H
#define ASM_TRAPS_H

#include <lib/types.h>

/* The frame entry.S builds; keep in step with FRAME_WORDS there. */
struct cpu_regs {
    uint32_t r[13];
    uint32_t sp;
    uint32_t lr;
    uint32_t pc;        /* ELR_hyp: where the exception was taken */
    uint32_t cpsr;      /* SPSR_hyp */
    uint32_t vector;    /* 0 reset .. 7 FIQ, the Hyp vector table offset / 4 */
};

/* What the last expected (fixed-up) fault was. */
struct fault_record {
    uint32_t hsr;
    uint32_t hdfar;
    uint32_t hifar;
    uint32_t pc;
    uint32_t vector;
    uint32_t frame;       /* where the vector put its struct cpu_regs: SP at hyp_trap() */
    uint32_t sp;          /* the interrupted SP, as the frame holds it */
    unsigned int count;   /* faults fixed up so far */
};
extern struct fault_record last_fault;

int arch_probe_read32(const volatile void *va, uint32_t *value);
int arch_probe_write32(volatile void *va, uint32_t value);
int arch_probe_exec(void (*fn)(void));
/* arch_probe_read32 with SP misaligned by 4; sp[0], sp[1]: SP at the access and after. */
int arch_probe_read32_odd_sp(const volatile void *va, uint32_t sp[2]);

int arch_semihost_exit(const uint32_t block[2]);
uint32_t arch_smc(uint32_t fn, uint32_t a1, uint32_t a2, uint32_t a3);

void hyp_trap(struct cpu_regs *regs);
/*
 * A vector found SP unable to take a frame (entry.S): regs is on the CPU's emergency stack.
 * Reports "stack overflow on CPU n" and stops the run.
 */
void hyp_stack_overflow(struct cpu_regs *regs) __attribute__((noreturn));
/* An exception taken from a guest: saves its registers and returns to its run loop (guest.c). */
void guest_exit(const struct cpu_regs *frame) __attribute__((noreturn));
/*
 * Reads or writes register reg (0-14) of v as the guest's current mode sees it, during an
 * exit: the saved copy, or the banked register in the CPU. False for PC, or a mode whose
 * bank this cannot reach (Hyp, Monitor: no guest runs there).
 */
struct vcpu;
bool guest_reg_access(struct vcpu *v, unsigned int reg, bool write, uint32_t *value);

/* HSR fields (ARM ARM B3.13.6). */
#define HSR_EC(hsr)         ((hsr) >> 26)
#define HSR_IL              (1u << 25)
#define HSR_ISS(hsr)        ((hsr) & 0x1ffffff)
#define HSR_EC_UNKNOWN      0x00
#define HSR_EC_SVC          0x11
#define HSR_EC_HVC          0x12
#define HSR_EC_SMC          0x13
#define HSR_EC_IABT_LOWER   0x20
#define HSR_EC_IABT_HYP     0x21
#define HSR_EC_DABT_LOWER   0x24
#define HSR_EC_DABT_HYP     0x25

/* Long-descriptor fault status codes (FSC, ISS[5:0]) for aborts. */
#define FSC_TYPE(fsc)       ((fsc) & 0x3c)
#define FSC_LEVEL(fsc)      ((fsc) & 0x3)
#define FSC_TRANSLATION     0x04
#define FSC_ACCESS_FLAG     0x08
#define FSC_PERMISSION      0x0c
#define FSC_ALIGNMENT       0x21

const char *hsr_ec_name(uint32_t ec);
/* "translation fault", ...: a long-descriptor fault status code (HSR ISS[5:0]). */
const char *fault_status_name(uint32_t fsc);

#endif
