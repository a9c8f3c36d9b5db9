/*
 * The test guest's entry, exception vectors and fault probes.
 *
 * The hypervisor enters at the first byte of the binary (IPA 0x40008000)
 * as Linux's zImage protocol says: SVC mode, MMU and caches off, r0 = 0,
 * r1 = ~0, r2 = the device tree. The entry saves those registers, the CPSR
 * and SCTLR before anything changes them, for guest_main() to judge. It
 * first checks, PC-relative, that it runs where it was linked: the C code
 * and libfdt's GOT hold link-time addresses, so at any other address
 * nothing else could run, and it says so through the console hypercall.
 *
 * Every mode gets a stack inside the image (stacks outside it would show
 * up as non-zero RAM), one set per VCPU chosen by MPIDR.Aff0. The vectors
 * sit at VBAR (the guest's SCTLR.V is 0). A data abort is expected only on
 * the two probe instructions below: the handler recognises them by the
 * faulting address, LR_abt - 8 as the architecture defines it for a data
 * abort, so a hypervisor that injects the abort with a wrong LR shows up as
 * an unexpected abort. Any other exception ends in guest_unexpected(),
 * which prints the registers and resets.
 */
#include "guest.h"

#define MODE_FIQ    0x11
#define MODE_IRQ    0x12
#define MODE_SVC    0x13
#define MODE_ABT    0x17
#define MODE_UND    0x1b

#define HYPERCALL_CONSOLE_IO    18
#define PSCI_CPU_OFF            0x84000002
#define PSCI_SYSTEM_RESET       0x84000009

    .syntax unified
    .arm
    .arch_extension virt
    .arch_extension sec

    .section .text.entry, "ax"
    .global _start
_start:
    mov     r4, r0
    mov     r5, r1
    mov     r6, r2
    adr     r7, _start              @ where we run
    ldr     r8, =_start             @ where we were linked
    mrs     r9, cpsr
    mrc     p15, 0, r10, c1, c0, 0  @ SCTLR
    cmp     r7, r8
    bne     not_at_link_address

    mrc     p15, 0, r0, c0, c0, 5   @ MPIDR
    and     r0, r0, #0xff
    cmp     r0, #GUEST_MAX_CPUS
    bhs     too_many_cpus
    bl      setup_cpu

    ldr     r0, =boot_entry
    stmia   r0, {r4-r10}            @ the field order of struct entry_state
    bl      guest_main
    b       .                       @ guest_main does not return

/*
 * Gives the calling CPU its stacks and vectors. r0 = MPIDR.Aff0, already
 * checked to be below GUEST_MAX_CPUS. Clobbers r0-r3; returns in SVC mode.
 * The abort, undefined, IRQ and FIQ modes share one small stack per CPU:
 * only an expected abort returns, and it nests in nothing.
 */
setup_cpu:
    ldr     r1, =svc_stacks
    add     r2, r0, #1
    mov     r3, #SVC_STACK_SIZE
    mla     r1, r2, r3, r1
    mov     sp, r1                  @ top of this CPU's SVC stack
    ldr     r1, =exc_stacks
    mov     r3, #EXC_STACK_SIZE
    mla     r1, r2, r3, r1          @ top of its exception stack
    cps     #MODE_ABT
    mov     sp, r1
    cps     #MODE_UND
    mov     sp, r1
    cps     #MODE_IRQ
    mov     sp, r1
    cps     #MODE_FIQ
    mov     sp, r1
    cps     #MODE_SVC
    ldr     r1, =vectors
    mcr     p15, 0, r1, c12, c0, 0  @ VBAR (each CPU has its own)
    isb
    bx      lr

/* Nothing can run at another address: say so, PC-relative, and reset. */
not_at_link_address:
    adr     r2, msg_not_linked
    mov     r1, #(msg_not_linked_end - msg_not_linked)
    b       early_fail

too_many_cpus:
    adr     r2, msg_too_many
    mov     r1, #(msg_too_many_end - msg_too_many)
    b       early_fail

early_fail:
    mov     r0, #0                  @ CONSOLEIO_write
    mov     r12, #HYPERCALL_CONSOLE_IO
    hvc     #0xea1
    ldr     r0, =PSCI_SYSTEM_RESET
    hvc     #0
    b       .

msg_not_linked:
    .ascii  "FAIL entry: not running at the link address 0x40008000; stopping\n"
msg_not_linked_end:
msg_too_many:
    .ascii  "FAIL entry: MPIDR.Aff0 too large for this guest's stacks; stopping\n"
msg_too_many_end:
    .balign 4

/*
 * A VCPU started by PSCI CPU_ON: r0 = the context id. Its stacks come from
 * MPIDR.Aff0, not from r0, so that a wrong context id is reported rather
 * than crashing into another CPU's stack. Beyond GUEST_MAX_CPUS it just
 * turns itself off again (the boot CPU never starts one so high).
 */
    .text
    .global secondary_entry
secondary_entry:
    mov     r4, r0
    mrs     r6, cpsr
    mrc     p15, 0, r7, c1, c0, 0   @ SCTLR
    mrc     p15, 0, r5, c0, c0, 5   @ MPIDR
    and     r0, r5, #0xff
    cmp     r0, #GUEST_MAX_CPUS
    bhs     secondary_off
    bl      setup_cpu
    mov     r0, r4
    mov     r1, r5
    mov     r2, r6
    mov     r3, r7
    bl      secondary_main
secondary_off:
    ldr     r0, =PSCI_CPU_OFF
    hvc     #0
    b       .

/* void probe_read32(uint32_t addr, uint32_t *value, struct probe_fault *f) */
    .global probe_read32
probe_read32:
    mov     r3, #0
    str     r3, [r2, #PROBE_FAULTED]
probe_read_insn:
    ldr     r3, [r0]                @ may abort: then r3 stays 0
    str     r3, [r1]
    bx      lr

/* void probe_write32(uint32_t addr, uint32_t value, struct probe_fault *f) */
    .global probe_write32
probe_write32:
    mov     r3, #0
    str     r3, [r2, #PROBE_FAULTED]
probe_write_insn:
    str     r1, [r0]                @ may abort
    bx      lr

/*
 * uint32_t probe_exec(uint32_t addr): calls addr and returns its r0. If
 * fetching its first instruction aborts, the prefetch-abort handler comes
 * back to probe_exec_landing with exec_probe.fault filled in.
 */
    .global probe_exec
probe_exec:
    push    {r4, lr}
    ldr     r3, =exec_probe
    str     r0, [r3, #EXEC_PROBE_TARGET]
    mov     r2, #0
    str     r2, [r3, #PROBE_FAULTED]
    blx     r0
probe_exec_landing:
    ldr     r3, =exec_probe
    mov     r2, #0                  @ no later abort at target is expected
    str     r2, [r3, #EXEC_PROBE_TARGET]
    pop     {r4, pc}

/* ------------------------------------------------------------ vectors */
    .balign 32
vectors:
    b       vec_reset
    b       vec_undef
    b       vec_svc
    b       vec_pabt
    b       vec_dabt
    b       vec_unused
    b       vec_irq
    b       vec_fiq

/*
 * Saves r0-r12 and LR (an even number of words keeps SP 8-byte aligned for
 * C) and hands them to guest_unexpected() with the return address and
 * SPSR; it prints them and resets.
 */
.macro UNEXPECTED kind
    push    {r0-r12, lr}
    mov     r0, #\kind
    mov     r1, sp
    mov     r2, lr
    mrs     r3, spsr
    bl      guest_unexpected
    b       .
.endm

vec_reset:  UNEXPECTED EXC_RESET
vec_undef:  UNEXPECTED EXC_UNDEF
vec_svc:    UNEXPECTED EXC_SVC
vec_unused: UNEXPECTED EXC_UNUSED
vec_irq:    UNEXPECTED EXC_IRQ
vec_fiq:    UNEXPECTED EXC_FIQ

/*
 * A data abort on probe_read_insn or probe_write_insn: record DFAR and DFSR
 * in the struct probe_fault the probe holds in r2 and resume at the next
 * instruction (LR_abt - 4). Anything else is unexpected.
 */
vec_dabt:
    push    {r0, r1}
    sub     r0, lr, #8
    ldr     r1, =probe_read_insn
    cmp     r0, r1
    ldrne   r1, =probe_write_insn
    cmpne   r0, r1
    pop     {r0, r1}
    bne     dabt_unexpected
    push    {r0}
    mov     r0, #1
    str     r0, [r2, #PROBE_FAULTED]
    mrc     p15, 0, r0, c6, c0, 0   @ DFAR
    str     r0, [r2, #PROBE_FAR]
    mrc     p15, 0, r0, c5, c0, 0   @ DFSR
    str     r0, [r2, #PROBE_FSR]
    pop     {r0}
    subs    pc, lr, #4
dabt_unexpected:
    UNEXPECTED EXC_DABT

/*
 * A prefetch abort on the first instruction of a probe_exec target
 * (LR_abt - 4 for a prefetch abort): record IFAR and IFSR and return, in
 * the interrupted mode, to probe_exec_landing, which returns to the caller.
 */
vec_pabt:
    push    {r0, r1}
    sub     r0, lr, #4
    ldr     r1, =exec_probe
    ldr     r1, [r1, #EXEC_PROBE_TARGET]
    cmp     r0, r1
    pop     {r0, r1}
    bne     pabt_unexpected
    push    {r0, r1}
    ldr     r1, =exec_probe
    mov     r0, #1
    str     r0, [r1, #PROBE_FAULTED]
    mrc     p15, 0, r0, c6, c0, 2   @ IFAR
    str     r0, [r1, #PROBE_FAR]
    mrc     p15, 0, r0, c5, c0, 1   @ IFSR
    str     r0, [r1, #PROBE_FSR]
    pop     {r0, r1}
    ldr     lr, =probe_exec_landing
    movs    pc, lr
pabt_unexpected:
    UNEXPECTED EXC_PABT

    .ltorg

/* ------------------------------------------------------------ stacks */
/* Zero-filled, inside the binary (see guest.lds). */
    .section .stacks, "aw"
    .balign 8
svc_stacks:
    .space  SVC_STACK_SIZE * GUEST_MAX_CPUS
exc_stacks:
    .space  EXC_STACK_SIZE * GUEST_MAX_CPUS
