/*
 * cntvct: prints the virtual counter (CNTVCT) in hex and exits: a static ARM Linux program
 * with no library, for the initramfs. Linux lets user space read CNTVCT (CNTKCTL.PL0VCTEN,
 * for the vDSO); under `qemu -icount shift=0` the counter runs at CNTFRQ on a clock where
 * one instruction is one nanosecond, and hypmem sets CNTVOFF = 0, so the value counts the
 * instructions executed since QEMU's reset, hypervisor included (tools/linux-bench.sh).
 * Linux ARM EABI system calls: number in r7, arguments in r0-r2, SVC #0.
 */
    .syntax unified
    .arch armv7-a
    .arm
    .global _start
_start:
    isb
    mrrc    p15, 1, r4, r5, c14         /* CNTVCT: r4 low, r5 high */
    ldr     r6, =buf + 2                /* after "0x" */
    mov     r0, r5
    bl      hex8
    mov     r0, r4
    bl      hex8
    mov     r0, #1                      /* stdout */
    ldr     r1, =buf
    mov     r2, #19                     /* "0x" + 16 digits + "\n" */
    mov     r7, #4                      /* write */
    svc     #0
    mov     r0, #0
    mov     r7, #1                      /* exit */
    svc     #0

/* Writes r0 as eight hex digits at r6, advancing r6. */
hex8:
    mov     r2, #8
1:  lsr     r3, r0, #28
    cmp     r3, #10
    addlo   r3, r3, #'0'
    addhs   r3, r3, #('a' - 10)
    strb    r3, [r6], #1
    lsl     r0, r0, #4
    subs    r2, r2, #1
    bne     1b
    bx      lr
    .ltorg

    .data
buf:
    .ascii  "0x0000000000000000\n"
