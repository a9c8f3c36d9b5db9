/*
 * Hyp exception vectors, and the few routines that must be written in
 * assembly because an exception may interrupt them on purpose.
 *
 * Every vector saves the interrupted registers in a struct cpu_regs frame on
 * the Hyp stack and calls hyp_trap() (traps.c), which may change the
 * frame's pc (ELR_hyp) before we return with ERET. In Hyp mode only SP, SPSR
 * and ELR are banked: LR is the interrupted code's own LR and is saved as is.
 *
 * The exception may come at any instruction, where SP need only be 4-byte
 * aligned (AAPCS asks for 8 only at calls). hyp_trap() is C and may assume
 * an 8-byte aligned stack (doubleword stores, LDRD/STRD of its locals), so
 * the vector first pads SP by 4 bytes when it is not 8-byte aligned, then
 * builds the frame (a multiple of 8 bytes) below. The frame's sp holds the
 * interrupted SP, which the return loads back: padding and frame go at once.
 * The flags the TST changes are the interrupted code's only in SPSR_hyp,
 * which ERET restores.
 *
 * Stack overflow: in Hyp mode every exception uses the one SP_hyp, so an
 * abort taken because the stack ran into the hole below it would fault
 * again on its own frame, and again, each time lower. So before it stores
 * anything, each vector checks that the frame (with its padding) would lie
 * inside a stack: the stacks are the upper halves of slots aligned to twice
 * their size (asm/layout.h), so that is one bit of SP, tested without a
 * free register. If it would not, the vector moves to this CPU's emergency
 * stack, whose address follows from SP too, and reports the overflow
 * (hyp_stack_overflow, traps.c), which stops the run. Three instructions
 * and a branch not taken on every exception.
 *
 * Fixups: an instruction that is allowed to fault has an entry in the
 * .fixup_table section (its address, where to continue). hyp_trap() looks the
 * faulting pc up there; this is how a self-test reads an unmapped address on
 * purpose, and how a semihosting call falls back when QEMU has no semihosting.
 */
    .syntax unified
    .arch armv7-a
    .arch_extension virt
    .arch_extension sec
    .arm

#include <asm/layout.h>

#define FRAME_WORDS 18      /* r0-r12, sp, lr, pc, cpsr, vector: see asm/traps.h */
.if FRAME_WORDS % 2
    .error "the exception frame must keep SP 8-byte aligned: FRAME_WORDS must be even"
.endif

.macro FIXUP insn, fixup
    .pushsection .fixup_table, "a"
    .align 2
    .word   \insn, \fixup
    .popsection
.endm

.macro VECTOR name, number
\name:
    sub     sp, sp, #(FRAME_WORDS * 4 + 4)  /* the frame's lowest word, padded */
    tst     sp, #STACK_SIZE                 /* clear: below this CPU's stack */
    add     sp, sp, #(FRAME_WORDS * 4 + 4)  /* (ADD leaves the flags alone) */
    beq     \name\()_overflow
    tst     sp, #4
    subne   sp, sp, #4                  /* 8-byte alignment for C (AAPCS) */
    sub     sp, sp, #(FRAME_WORDS * 4)
    stmia   sp, {r0-r12}
    add     r0, sp, #(FRAME_WORDS * 4)
    addne   r0, r0, #4                  /* the padding, if any (flags still from the TST) */
    str     r0, [sp, #(13 * 4)]         /* sp before the exception */
    str     lr, [sp, #(14 * 4)]
    mrs     r0, ELR_hyp
    str     r0, [sp, #(15 * 4)]
    mrs     r0, SPSR
    str     r0, [sp, #(16 * 4)]
    mov     r0, #\number
    str     r0, [sp, #(17 * 4)]
    b       trap_common
\name\()_overflow:
    mcr     p15, 0, r0, c13, c0, 4      /* TPIDRPRW: the interrupted r0 */
    mov     r0, #\number
    b       stack_overflow
.endm

    .text
    .align  5
    .global hyp_vectors
hyp_vectors:
    b       vec_reset
    b       vec_undef
    b       vec_hvc
    b       vec_pabt
    b       vec_dabt
    b       vec_trap
    b       vec_irq
    b       vec_fiq

    VECTOR vec_reset, 0
    VECTOR vec_undef, 1
    VECTOR vec_hvc, 2
    VECTOR vec_pabt, 3
    VECTOR vec_dabt, 4
    VECTOR vec_trap, 5
    VECTOR vec_irq, 6
    VECTOR vec_fiq, 7

/*
 * SP cannot take a frame: this CPU will not go back to what it was doing.
 * Builds the frame on the emergency stack at the bottom of SP's slot and
 * calls hyp_stack_overflow(), which reports and stops. Until the frame
 * holds them, the interrupted r0 and SP wait in TPIDRPRW and TPIDRURW, the
 * PL1 and PL0 thread registers: whatever a guest kept there is lost, which
 * no longer matters. r0 = the vector's number.
 */
stack_overflow:
    mcr     p15, 0, r0, c13, c0, 3      /* TPIDRURO: the vector */
    mov     r0, sp
    mcr     p15, 0, r0, c13, c0, 2      /* TPIDRURW: the interrupted SP */
    lsr     r0, r0, #STACK_SLOT_SHIFT
    lsl     r0, r0, #STACK_SLOT_SHIFT   /* the slot's base... */
    add     sp, r0, #EMERGENCY_STACK_SIZE   /* ...and its emergency stack's top */
    sub     sp, sp, #(FRAME_WORDS * 4)
    stmia   sp, {r0-r12}
    mrc     p15, 0, r0, c13, c0, 4
    str     r0, [sp]
    mrc     p15, 0, r0, c13, c0, 2
    str     r0, [sp, #(13 * 4)]
    str     lr, [sp, #(14 * 4)]
    mrs     r0, ELR_hyp
    str     r0, [sp, #(15 * 4)]
    mrs     r0, SPSR
    str     r0, [sp, #(16 * 4)]
    mrc     p15, 0, r0, c13, c0, 3
    str     r0, [sp, #(17 * 4)]
    mov     r0, sp
    bl      hyp_stack_overflow          /* does not return */
1:  wfi
    b       1b

/*
 * Call-frame information (.debug_frame, for debuggers only): trap_common's
 * "caller" is the interrupted code, whose registers are the frame at SP, so
 * a backtrace from hyp_trap() goes on into the code that trapped. CFA is
 * the interrupted SP (the frame's sp word: DW_OP_breg13 52, DW_OP_deref),
 * each saved register is at SP + 4 * its number (DW_CFA_expression, reg,
 * DW_OP_breg13 offset), and the return address is the saved pc (column 15,
 * ELR_hyp), not LR. A signal frame: that pc is where the exception was
 * taken, not a return address, so a debugger must not step back from it.
 * The rules hold until the last LDR moves SP, one instruction before ERET.
 */
    .cfi_sections .debug_frame
trap_common:
    .cfi_startproc
    .cfi_signal_frame
    .cfi_return_column 15
    .cfi_escape 0x0f, 0x03, 0x7d, 52, 0x06
    .irp reg, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15
    .cfi_escape 0x10, \reg, 0x02, 0x7d, (\reg * 4)
    .endr
    mov     r0, sp
    bl      hyp_trap
    ldr     r0, [sp, #(15 * 4)]
    msr     ELR_hyp, r0
    ldr     r0, [sp, #(16 * 4)]
    msr     spsr_cxsf, r0                /* SPSR_hyp by its plain name: the banked form is UNDEFINED from Hyp mode */
    ldr     lr, [sp, #(14 * 4)]
    ldmia   sp, {r0-r12}
    ldr     sp, [sp, #(13 * 4)]         /* the interrupted SP: drops frame and padding */
    eret
    .cfi_endproc

/*
 * int arch_probe_read32(const volatile void *va, uint32_t *value)
 * int arch_probe_write32(volatile void *va, uint32_t value)
 * Return 0, or -14 (EFAULT) if the access faulted; the fault was recorded.
 */
    .global arch_probe_read32
arch_probe_read32:
1:  ldr     r2, [r0]
    str     r2, [r1]
    mov     r0, #0
    bx      lr
2:  mvn     r0, #13
    bx      lr
    FIXUP 1b, 2b

    .global arch_probe_write32
arch_probe_write32:
1:  str     r1, [r0]
    mov     r0, #0
    bx      lr
2:  mvn     r0, #13
    bx      lr
    FIXUP 1b, 2b

/*
 * int arch_probe_read32_odd_sp(const volatile void *va, uint32_t sp[2])
 * arch_probe_read32 (the value is dropped) taken with SP 4 bytes off 8-byte
 * alignment, as it may be anywhere inside a function: a test of the vectors'
 * realignment. sp[0] is SP at the access, sp[1] SP after the exception
 * returned: they must be equal.
 */
    .global arch_probe_read32_odd_sp
arch_probe_read32_odd_sp:
    push    {r4, lr}                    /* SP stays 8-byte aligned: two words */
    sub     sp, sp, #4                  /* now it is not */
    mov     r4, sp
    str     r4, [r1]
1:  ldr     r2, [r0]
    mov     r0, #0
    b       3f
2:  mvn     r0, #13
3:  mov     r4, sp
    str     r4, [r1, #4]
    add     sp, sp, #4
    pop     {r4, pc}
    FIXUP 1b, 2b

/*
 * int arch_probe_exec(void (*fn)(void))
 * Calls fn; if fetching its first instruction faults, returns -14. The abort
 * is taken at fn itself, which no table can list, so the address of the
 * landing pad is published in probe_exec_fixup for the trap handler.
 */
    .global arch_probe_exec
arch_probe_exec:
    push    {r4, lr}
    ldr     r4, =probe_exec_fixup
    adr     r1, 2f
    str     r1, [r4]
    blx     r0
    mov     r0, #0
    b       3f
2:  mvn     r0, #13
3:  mov     r1, #0
    str     r1, [r4]
    pop     {r4, pc}

/*
 * int arch_semihost_exit(const uint32_t block[2])
 * SYS_EXIT_EXTENDED: QEMU exits with block[1] as its status. Without
 * -semihosting the HLT is an undefined instruction; the fixup returns -1.
 */
    .global arch_semihost_exit
arch_semihost_exit:
    mov     r1, r0
    mov     r0, #0x20
1:  .inst   0xe10f0070                  /* hlt #0xf000: the A32 semihosting trap */
    bx      lr
2:  mvn     r0, #0
    bx      lr
    FIXUP 1b, 2b

/* uint32_t arch_smc(uint32_t fn, uint32_t a1, uint32_t a2, uint32_t a3): PSCI calls. */
    .global arch_smc
arch_smc:
    smc     #0
    bx      lr

    .data
    .align  2
    .global probe_exec_fixup
probe_exec_fixup:
    .word   0
