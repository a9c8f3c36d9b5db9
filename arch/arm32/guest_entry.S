/*
 * The world switch: into a guest with ERET, and back into the hypervisor's C code when the
 * guest exits. Also the few accesses to the guest's banked registers that only MSR/MRS
 * (banked) can make from Hyp mode.
 *
 * guest_enter() behaves like a function call that returns when the guest exits: it saves
 * the hypervisor's callee-saved registers on the Hyp stack, records that stack pointer,
 * loads the guest's r0-r12 and LR_usr and ERETs to ELR_hyp/SPSR_hyp. The guest cannot
 * touch SP_hyp, so at its exit the Hyp vector (entry.S) builds its usual frame below the
 * recorded SP; hyp_trap() sees that the exception came from a guest mode, copies the frame
 * into the VCPU and calls guest_return_to_hyp(), which drops the frame by reloading the
 * recorded SP and returns from guest_enter() with the vector number.
 */
    .syntax unified
    .arch armv7-a
    .arch_extension virt
    .fpu neon-vfpv4
    .arm

#define REGS_LR     (13 * 4)    /* struct guest_regs (include/arch/guest.h) */
#define REGS_PC     (14 * 4)
#define REGS_CPSR   (15 * 4)

    .text
/*
 * unsigned int guest_enter(struct guest_regs *regs, uint32_t *hyp_sp)
 * Returns the Hyp vector (5: hyp trap, ...) the guest left through.
 */
    .global guest_enter
guest_enter:
    push    {r4-r11, lr}
    sub     sp, sp, #4                  /* nine words pushed: keep SP 8-byte aligned */
    str     sp, [r1]
    ldr     r2, [r0, #REGS_PC]
    msr     ELR_hyp, r2
    ldr     r2, [r0, #REGS_CPSR]
    msr     spsr_cxsf, r2               /* SPSR_hyp */
    ldr     lr, [r0, #REGS_LR]
    ldmia   r0, {r0-r12}
    eret

/* void guest_return_to_hyp(const uint32_t *hyp_sp, unsigned int vector): never returns. */
    .global guest_return_to_hyp
guest_return_to_hyp:
    ldr     sp, [r0]
    mov     r0, r1
    add     sp, sp, #4
    pop     {r4-r11, pc}

/* void guest_set_abt(uint32_t spsr, uint32_t lr): SPSR_abt and LR_abt, for an injected abort. */
    .global guest_set_abt
guest_set_abt:
    msr     SPSR_abt, r0
    msr     LR_abt, r1
    bx      lr

/* void guest_set_und(uint32_t spsr, uint32_t lr): the same for Undefined mode. */
    .global guest_set_und
guest_set_und:
    msr     SPSR_und, r0
    msr     LR_und, r1
    bx      lr

/*
 * void guest_reset_banked(void): zeroes every banked register of the PL1 and PL0 modes
 * (SP, LR, SPSR of each, and FIQ's r8-r12), so a VCPU starts with nothing of whatever ran
 * on this CPU before.
 */
    .global guest_reset_banked
guest_reset_banked:
    mov     r0, #0
    msr     SP_usr, r0
    msr     SP_svc, r0
    msr     LR_svc, r0
    msr     SPSR_svc, r0
    msr     SP_abt, r0
    msr     LR_abt, r0
    msr     SPSR_abt, r0
    msr     SP_und, r0
    msr     LR_und, r0
    msr     SPSR_und, r0
    msr     SP_irq, r0
    msr     LR_irq, r0
    msr     SPSR_irq, r0
    msr     r8_fiq, r0
    msr     r9_fiq, r0
    msr     r10_fiq, r0
    msr     r11_fiq, r0
    msr     r12_fiq, r0
    msr     SP_fiq, r0
    msr     LR_fiq, r0
    msr     SPSR_fiq, r0
    bx      lr

/*
 * void guest_reset_fp(void): zeroes the SIMD and floating-point registers and FPSCR, and
 * leaves FPEXC.EN clear as at reset. Hyp mode may use them here because HCPTR does not trap
 * CP10/CP11 (guest.c sets it so); the hypervisor's own code never does (it is built with
 * -mgeneral-regs-only).
 */
    .global guest_reset_fp
guest_reset_fp:
    mov     r0, #(1 << 30)              /* FPEXC.EN: the registers below are accessible */
    vmsr    fpexc, r0
    vmov.i64 d0, #0
    vmov.i64 d1, #0
    vmov.i64 d2, #0
    vmov.i64 d3, #0
    vmov.i64 d4, #0
    vmov.i64 d5, #0
    vmov.i64 d6, #0
    vmov.i64 d7, #0
    vmov.i64 d8, #0
    vmov.i64 d9, #0
    vmov.i64 d10, #0
    vmov.i64 d11, #0
    vmov.i64 d12, #0
    vmov.i64 d13, #0
    vmov.i64 d14, #0
    vmov.i64 d15, #0
    vmov.i64 d16, #0
    vmov.i64 d17, #0
    vmov.i64 d18, #0
    vmov.i64 d19, #0
    vmov.i64 d20, #0
    vmov.i64 d21, #0
    vmov.i64 d22, #0
    vmov.i64 d23, #0
    vmov.i64 d24, #0
    vmov.i64 d25, #0
    vmov.i64 d26, #0
    vmov.i64 d27, #0
    vmov.i64 d28, #0
    vmov.i64 d29, #0
    vmov.i64 d30, #0
    vmov.i64 d31, #0
    mov     r0, #0
    vmsr    fpscr, r0
    vmsr    fpexc, r0
    bx      lr
