/*
 * Tiny guests for tests/arm32/guest_exits.c: position-independent ARM code that the test
 * copies to the start of a guest's RAM and runs at PL1 under stage 2. Each ends with PSCI
 * SYSTEM_OFF when what it checked held, SYSTEM_RESET when it did not, so the domain's
 * shutdown code is the verdict. r1 at entry is an argument chosen by the test.
 */
    .syntax unified
    .arch armv7-a
    .arch_extension virt
    .arch_extension sec
    .arm

#define SYSTEM_OFF   0x84000008
#define SYSTEM_RESET 0x84000009

.macro PSCI fn
    movw    r0, #:lower16:\fn
    movt    r0, #:upper16:\fn
    hvc     #0
.endm

.macro PASS_IF_EQ a, b
    cmp     \a, \b
    bne     99f
    PSCI    SYSTEM_OFF
99: PSCI    SYSTEM_RESET
    b       .
.endm

.macro SNIPPET name
    .global \name, \name\()_end
    .align  5
\name:
.endm

    .text
/* Powers off at once. */
SNIPPET guest_snippet_poweroff
    PSCI    SYSTEM_OFF
    b       .
guest_snippet_poweroff_end:

/* Resets at once (the test expects SHUTDOWN_reboot). */
SNIPPET guest_snippet_reset
    PSCI    SYSTEM_RESET
    b       .
guest_snippet_reset_end:

/*
 * Reads the word at IPA r1 (outside its RAM), with its own vectors: the data abort handler
 * records DFSR and DFAR and returns past the load. Passes if the abort came, as a short-
 * descriptor external abort (DFSR 0x008) at DFAR == r1, exactly once.
 */
SNIPPET guest_snippet_read_outside
    b       1f
    .align  5
2:  b       .                           /* reset */
    b       .                           /* undefined */
    b       .                           /* SVC */
    b       .                           /* prefetch abort */
    mrc     p15, 0, r5, c5, c0, 0       /* data abort: DFSR */
    mrc     p15, 0, r6, c6, c0, 0       /* DFAR */
    add     r7, r7, #1
    subs    pc, lr, #4                  /* the instruction after the faulting load */
    b       .
    b       .
1:  adr     r0, 2b
    mcr     p15, 0, r0, c12, c0, 0      /* VBAR */
    isb
    mov     r4, r1
    mov     r7, #0
    ldr     r3, [r4]
    cmp     r7, #1
    bne     3f
    cmp     r6, r4
    bne     3f
    PASS_IF_EQ r5, #0x008
3:  PSCI    SYSTEM_RESET
    b       .
guest_snippet_read_outside_end:

/* Writes to IPA r1; passes if the abort came with DFSR 0x808 (external abort, WnR). */
SNIPPET guest_snippet_write_outside
    b       1f
    .align  5
2:  b       .
    b       .
    b       .
    b       .
    mrc     p15, 0, r5, c5, c0, 0
    mrc     p15, 0, r6, c6, c0, 0
    add     r7, r7, #1
    subs    pc, lr, #4
    b       .
    b       .
1:  adr     r0, 2b
    mcr     p15, 0, r0, c12, c0, 0
    isb
    mov     r7, #0
    str     r7, [r1]
    cmp     r7, #1
    bne     3f
    cmp     r6, r1
    bne     3f
    movw    r2, #0x808
    PASS_IF_EQ r5, r2
3:  PSCI    SYSTEM_RESET
    b       .
guest_snippet_write_outside_end:

/*
 * PSCI through HVC and through SMC (trapped): VERSION is 1.0 both ways, FEATURES knows
 * CPU_ON and not an SMC64 call, and a WFI (trapped) comes back.
 */
SNIPPET guest_snippet_psci_queries
    PSCI    0x84000000                  /* PSCI_VERSION by HVC */
    cmp     r0, #0x10000
    bne     1f
    movw    r0, #0
    movt    r0, #0x8400
    smc     #0                          /* PSCI_VERSION by SMC */
    cmp     r0, #0x10000
    bne     1f
    movw    r1, #3
    movt    r1, #0x8400                 /* CPU_ON */
    PSCI    0x8400000a                  /* PSCI_FEATURES */
    cmp     r0, #0
    bne     1f
    movw    r1, #0
    movt    r1, #0xc400                 /* SMC64 PSCI_VERSION: not for a 32-bit guest */
    PSCI    0x8400000a
    cmn     r0, #1
    bne     1f
    wfi
    PSCI    SYSTEM_OFF
1:  PSCI    SYSTEM_RESET
    b       .
guest_snippet_psci_queries_end:

/* console_io with the text "hello from a snippet\n": passes if r0 comes back as its length. */
SNIPPET guest_snippet_console
    mov     r0, #0                      /* CONSOLEIO_write */
    mov     r1, #(2f - 1f)
    adr     r2, 1f
    mov     r12, #18                    /* __HYPERVISOR_console_io */
    hvc     #0xea1
    PASS_IF_EQ r0, #(2f - 1f)
1:  .ascii  "hello from a snippet\n"
2:  .align  2
guest_snippet_console_end:

/*
 * ACTLR is trapped (HCR.TAC) and emulated: a read gives the CPU's value (r1: the test reads
 * it from Hyp mode), a write is ignored (a second read gives the same value).
 */
SNIPPET guest_snippet_actlr
    mrc     p15, 0, r4, c1, c0, 1
    mvn     r5, r4
    mcr     p15, 0, r5, c1, c0, 1
    mrc     p15, 0, r6, c1, c0, 1
    cmp     r4, r1
    bne     1f
    PASS_IF_EQ r6, r4
1:  PSCI    SYSTEM_RESET
    b       .
guest_snippet_actlr_end:

/* An HVC the hypervisor does not know comes back as an undefined instruction at it. */
SNIPPET guest_snippet_unknown_hvc
    b       1f
    .align  5
2:  b       .
    b       3f                          /* undefined: LR is the HVC + 4 */
    b       .
    b       .
    b       .
    b       .
    b       .
    b       .
1:  adr     r0, 2b
    mcr     p15, 0, r0, c12, c0, 0
    isb
    adr     r4, 4f
4:  hvc     #0x1234
    PSCI    SYSTEM_RESET                /* it returned: wrong */
3:  sub     lr, lr, #4
    PASS_IF_EQ lr, r4
guest_snippet_unknown_hvc_end:

/*
 * Two VCPUs: VCPU 0 starts VCPU 1 at 1f with context id 0x5a, which writes its r0 and its
 * MPIDR into the flag words and calls CPU_OFF. VCPU 0 waits for them (bounded), checks that
 * a second CPU_ON of VCPU 1 is refused... once it is off, a CPU_ON of an absent VCPU 7 is
 * INVALID_PARAMETERS, and passes if VCPU 1 saw 0x5a and MPIDR Aff0 1.
 */
SNIPPET guest_snippet_two_vcpus
    adr     r4, 5f                      /* flags: context id seen, MPIDR seen */
    movw    r1, #1                      /* target MPIDR: VCPU 1 */
    adr     r2, 1f
    mov     r3, #0x5a
    PSCI    0x84000003
    cmp     r0, #0
    bne     9f
    movw    r5, #0xffff
    movt    r5, #0x00ff
2:  ldr     r6, [r4]
    cmp     r6, #0
    bne     3f
    wfe                                 /* VCPU 1 sends SEV; QEMU's round-robin TCG yields here */
    subs    r5, r5, #1
    bne     2b
    b       9f                          /* VCPU 1 never wrote */
3:  movw    r1, #7
    adr     r2, 1f
    mov     r3, #0
    PSCI    0x84000003                  /* VCPU 7 does not exist */
    cmn     r0, #2
    bne     9f
    ldr     r6, [r4]
    cmp     r6, #0x5a
    bne     9f
    ldr     r6, [r4, #4]
    and     r6, r6, #0xff
    PASS_IF_EQ r6, #1
9:  PSCI    SYSTEM_RESET
    b       .
1:  adr     r4, 5f                      /* VCPU 1 starts here, r0 = context id */
    mrc     p15, 0, r6, c0, c0, 5       /* MPIDR: VMPIDR as the hypervisor set it */
    str     r6, [r4, #4]
    dsb
    str     r0, [r4]
    dsb
    sev
    PSCI    0x84000002                  /* CPU_OFF: never returns */
    PSCI    SYSTEM_RESET
    b       .
    .align  2
5:  .word   0, 0
guest_snippet_two_vcpus_end:

/*
 * The distributor of a domain given the GIC (r1: its base), each access trapped and
 * performed by the hypervisor: a word read into LR (banked: LR_svc) must hide the
 * hypervisor's PPIs 25 and 26 in ISENABLER0; a byte read of PPI 25's priority reads 0; a
 * priority of 0x10 written to PPI 28 reads back raised to 0x80; a halfword read (no such
 * GICv2 access) comes back as an abort, exactly one; TYPER says one CPU interface.
 */
SNIPPET guest_snippet_gic_dist
    b       1f
    .align  5
2:  b       .                           /* reset */
    b       .                           /* undefined */
    b       .                           /* SVC */
    b       .                           /* prefetch abort */
    add     r7, r7, #1                  /* data abort: counted, then stepped over */
    subs    pc, lr, #4
    b       .
    b       .
1:  adr     r0, 2b
    mcr     p15, 0, r0, c12, c0, 0      /* VBAR */
    isb
    mov     r4, r1
    mov     r7, #0
    mvn     lr, #0                      /* all ones: a load that missed LR_svc shows */
    ldr     lr, [r4, #0x100]            /* ISENABLER0 */
    tst     lr, #0x06000000
    bne     3f
    ldrb    r5, [r4, #0x419]            /* IPRIORITYR byte of PPI 25 */
    cmp     r5, #0
    bne     3f
    mov     r6, #0x10
    strb    r6, [r4, #0x41c]            /* PPI 28 */
    ldrb    r5, [r4, #0x41c]
    cmp     r5, #0x80
    bne     3f
    add     r8, r4, #0x400
    ldrh    r5, [r8]
    cmp     r7, #1
    bne     3f
    ldr     r5, [r4, #0x004]            /* TYPER */
    and     r5, r5, #0xe0
    PASS_IF_EQ r5, #0
3:  PSCI    SYSTEM_RESET
    b       .
guest_snippet_gic_dist_end:
