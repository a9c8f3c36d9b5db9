/*
 * What the test guest's assembly entry (start.S) and its C code share: the
 * sizes of the per-CPU stacks, the layout of the records the exception
 * handlers fill in, and the C functions on either side.
 */
#ifndef GUEST_H
#define GUEST_H

/* VCPUs this guest can start: each needs its own stacks inside the image. */
#define GUEST_MAX_CPUS      8
#define SVC_STACK_SIZE      8192
#define EXC_STACK_SIZE      1024

/* The kinds of exception guest_unexpected() reports (vector offset / 4). */
#define EXC_RESET           0
#define EXC_UNDEF           1
#define EXC_SVC             2
#define EXC_PABT            3
#define EXC_DABT            4
#define EXC_UNUSED          5
#define EXC_IRQ             6
#define EXC_FIQ             7

/* Byte offsets in struct probe_fault and struct exec_probe, for start.S. */
#define PROBE_FAULTED       0
#define PROBE_FAR           4
#define PROBE_FSR           8
#define EXEC_PROBE_TARGET   12

#ifndef __ASSEMBLER__
#include <stdint.h>

/* The registers the entry code saw before touching anything. */
struct entry_state {
    uint32_t r0, r1, r2;
    uint32_t load_addr;     /* where _start really is (PC-relative) */
    uint32_t link_addr;     /* where it was linked */
    uint32_t cpsr;
    uint32_t sctlr;
};

/* Filled by the abort handlers when a probe instruction faults. */
struct probe_fault {
    uint32_t faulted;       /* 1 if the access aborted */
    uint32_t far;           /* DFAR or IFAR */
    uint32_t fsr;           /* DFSR or IFSR */
};

/* A probe_exec in progress: the prefetch-abort handler matches target. */
struct exec_probe {
    struct probe_fault fault;
    uint32_t target;
};

extern struct entry_state boot_entry;
extern struct exec_probe exec_probe;
extern char _start[], _image_end[];

/* start.S: single accesses whose data abort returns here instead of ending the run. */
void probe_read32(uint32_t addr, uint32_t *value, struct probe_fault *f);
void probe_write32(uint32_t addr, uint32_t value, struct probe_fault *f);
/* Calls the code at addr; a prefetch abort on its first instruction comes back. */
uint32_t probe_exec(uint32_t addr);
void secondary_entry(void);

/* C side, called from start.S. */
void guest_main(void) __attribute__((noreturn));
void secondary_main(uint32_t context_id, uint32_t mpidr, uint32_t cpsr, uint32_t sctlr)
    __attribute__((noreturn));
void guest_unexpected(uint32_t kind, const uint32_t *regs, uint32_t lr, uint32_t spsr)
    __attribute__((noreturn));
#endif

#endif
