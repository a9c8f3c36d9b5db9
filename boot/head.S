/*
 * Boot stub: the first code that runs, at the physical load address with the
 * MMU off, entered by QEMU in Hyp mode (PL2).
 *
 *  1. Check that the CPU is in Hyp mode; if not, say which QEMU option is
 *     missing and stop.
 *  2. Set ACTLR.SMP where allowed; invalidate the data cache over all of BSS,
 *     then zero it (it holds the boot page tables and the boot stack).
 *  3. Build the boot page tables: the image at its link address with
 *     per-section permissions (text RX, rodata R, data/bss RW+XN), the early
 *     UART in the fixmap, and a temporary identity mapping of the one page
 *     holding this stub, so that the instruction after the MMU switch still
 *     exists. Only that page: an identity block would also cover whatever
 *     lies around the load address on a real board (MMIO, or nothing), with
 *     Normal memory attributes that the CPU may read speculatively.
 *  4. Turn on the MMU and caches (WXN on), jump to the link address, drop
 *     the identity mapping, set the stack and the vectors, call C.
 *
 * Every CPU's stack lives in the stack region (asm/layout.h), mapped here
 * from the image's .stacks pages, with an unmapped hole below it, so that
 * an overflow faults from the first instruction on; entry.S tells such a
 * fault from others by SP alone.
 *
 * Secondary CPUs enter at secondary_entry (PSCI CPU_ON, context id = CPU
 * index), MMU off. The boot CPU has prepared a trampoline root table (the
 * shared first GiB plus the stub's identity page), each CPU's own root table and
 * stack, and cleaned them to the point of coherency, because a CPU with its
 * MMU off does not look in the other CPUs' caches. The secondary turns its
 * MMU on with the trampoline, jumps to the link address, removes the
 * identity entry from the trampoline and flushes its TLB (break), moves to
 * its own root table (make) and calls start_secondary().
 *
 * Until the jump, the code runs at an address other than the one it was
 * linked at, so it only uses PC-relative addressing or adds the physical
 * offset to link-time addresses by hand.
 *
 * Registers kept across the whole stub:
 *   r8   r2 at entry: a device-tree address under the Linux boot protocol,
 *        0 when QEMU boots an ELF (the DTB is then at the start of RAM)
 *   r9   physical address of _start (the load address)
 *   r10  physical offset: PA - VA of the image
 */
#include <asm/actlr.h>
#include <asm/layout.h>
#include <asm/lpae.h>

    .syntax unified
    .arch armv7-a
    .arch_extension virt
    .arch_extension sec
    .arm

/*
 * Call-frame information for gdb's backtraces (.debug_frame only: nothing
 * is loaded). The entry paths have no caller: their return address is
 * undefined, which is how DWARF marks the outermost frame, so a backtrace
 * ends there cleanly. The subroutines are leaves that return with bx lr,
 * which the default rules describe.
 */
    .cfi_sections .debug_frame

#define MODE_MASK 0x1f
#define MODE_HYP  0x1a

    .section .text.head, "ax"
    .global _entry
_entry:
    .cfi_startproc
    .cfi_undefined lr
    mov     r8, r2
    mrs     r0, cpsr
    and     r0, r0, #MODE_MASK
    cmp     r0, #MODE_HYP
    bne     not_hyp
    bl      cpu_join_smp                /* before any cache maintenance, caches or MMU */

    adr     r9, _entry
    ldr     r0, =_entry
    sub     r10, r9, r0

    /*
     * Zero BSS, at its physical address, with the data cache off: the stores
     * go straight to memory. A line of BSS that a previous owner of this
     * memory left dirty in the cache could be evicted over them at any time,
     * and a clean stale one would be read instead of them once the caches
     * are on. So first invalidate every line of BSS (boot tables, boot
     * stack, per-CPU data, root tables, locks); with the caches off nothing
     * allocates new ones until the MMU is on.
     */
    ldr     r0, =__bss_start
    ldr     r1, =__bss_end
    add     r0, r0, r10
    add     r1, r1, r10
    bl      invalidate_dcache_range
bss_invalidated:                        /* tests/gdb-check.gdb stops here */
    ldr     r0, =__bss_start
    add     r0, r0, r10
    mov     r2, #0
    mov     r3, #0
1:  cmp     r0, r1
    strdlo  r2, r3, [r0], #8
    blo     1b

    bl      create_boot_tables
    bl      enable_mmu

    /* Still running at the physical address, through the identity map. */
    ldr     r0, =virt_entry
    bx      r0

virt_entry:
    ldr     sp, =STACK_TOP(0)
    ldr     r0, =hyp_vectors
    mcr     p15, 4, r0, c12, c0, 0      /* HVBAR */

    ldr     r0, =boot_root
    bl      drop_identity_entry

    mov     r0, r10                     /* phys_offset */
    mov     r1, r8                      /* device tree hint */
    bl      start_hyp
2:  wfi
    b       2b
    .cfi_endproc

/* r0 = CPU index (the PSCI context id). */
    .global secondary_entry
secondary_entry:
    .cfi_startproc
    .cfi_undefined lr
    mov     r7, r0
    mrs     r0, cpsr
    and     r0, r0, #MODE_MASK
    cmp     r0, #MODE_HYP
    bne     early_halt                  /* the boot CPU was in Hyp: this cannot happen */
    bl      cpu_join_smp                /* before its caches and MMU go on */
    adrl    r9, _entry
    ldr     r0, =_entry
    sub     r10, r9, r0
    ldr     r4, =smp_trampoline_root_pa
    add     r4, r4, r10
    ldr     r4, [r4]                    /* written by the boot CPU, cleaned to PoC */
    bl      enable_mmu
    ldr     r0, =secondary_virt
    bx      r0

secondary_virt:
    /*
     * Break: the trampoline's identity GiB and this CPU's own root map that
     * GiB differently, and this CPU's TLB may hold identity entries; two
     * translations of one VA must never meet in a TLB. Remove the identity
     * entry from the trampoline (this CPU alone uses it now; the boot CPU
     * writes it again for the next one), make the store visible to the
     * walker, invalidate the TLB and wait for it, as the boot CPU does in
     * virt_entry. Then the two roots agree wherever both map something.
     */
    sub     r0, r4, r10                 /* the trampoline root, by VA */
    bl      drop_identity_entry
    /* Make: this CPU's own root table. */
    ldr     r0, =smp_root_pa
    ldr     r0, [r0, r7, lsl #2]
    mov     r1, #0
    mcrr    p15, 4, r0, r1, c2          /* HTTBR */
    isb
    mcr     p15, 4, r0, c8, c7, 0       /* TLBIALLH: walk entries cached through the trampoline */
    dsb     nsh
    isb
    ldr     sp, =STACK_TOP(0)
    add     sp, sp, r7, lsl #STACK_SLOT_SHIFT   /* STACK_TOP(r7) */
    ldr     r0, =hyp_vectors
    mcr     p15, 4, r0, c12, c0, 0      /* HVBAR */
    mov     r0, r7
    bl      start_secondary
1:  wfi
    b       1b
    .cfi_endproc

/*
 * Drops the identity entry (the GiB of the load address, r9) from the root
 * table at VA r0, and waits until no TLB holds it. Removing an entry needs
 * no break-before-make; the DSB makes the store visible to the table walker
 * before the TLB invalidate, the second DSB waits for the invalidate to
 * complete and the ISB makes the following instructions use the new
 * translation. Runs at the link address. Clobbers r0-r3.
 */
drop_identity_entry:
    .cfi_startproc
    lsr     r1, r9, #LPAE_L1_SHIFT
    add     r0, r0, r1, lsl #3
    mov     r2, #0
    mov     r3, #0
    strd    r2, r3, [r0]
    dsb     ishst
    mcr     p15, 4, r0, c8, c3, 0       /* TLBIALLHIS */
    dsb     ish
    isb
    bx      lr
    .cfi_endproc

/*
 * Builds the boot tables with the MMU off: every address here is physical.
 * Clobbers r0-r7, r11, r12.
 */
create_boot_tables:
    .cfi_startproc
    ldr     r4, =boot_root
    add     r4, r4, r10
    ldr     r5, =boot_second
    add     r5, r5, r10
    ldr     r6, =boot_third_image
    add     r6, r6, r10
    ldr     r7, =boot_third_fixmap
    add     r7, r7, r10
    mov     r1, #0

    orr     r0, r5, #LPAE_TABLE             /* root[0] -> level 2 for the first GiB */
    strd    r0, r1, [r4]
    orr     r0, r6, #LPAE_TABLE
    strd    r0, r1, [r5, #((XEN_VIRT_START >> LPAE_L2_SHIFT) * 8)]
    orr     r0, r7, #LPAE_TABLE
    strd    r0, r1, [r5, #((FIXMAP_VIRT_START >> LPAE_L2_SHIFT) * 8)]

    /* One 4 KiB page per image page, permissions by section. */
    ldr     r2, =_start
    ldr     r3, =__stacks_start             /* the stacks go to their own region, below */
    ldr     r11, =_etext
    ldr     r12, =_erodata
1:  cmp     r2, r11
    ldrlo   r0, =(LPAE_PAGE | LPAE_LO_NORMAL | LPAE_AP_RO)   /* text: read-only, executable */
    movlo   r1, #0
    blo     2f
    cmp     r2, r12
    ldrlo   r0, =(LPAE_PAGE | LPAE_LO_NORMAL | LPAE_AP_RO)   /* rodata: read-only, XN */
    ldrhs   r0, =(LPAE_PAGE | LPAE_LO_NORMAL)                /* data, bss: read-write, XN */
    mov     r1, #LPAE_HI_XN
2:  add     r0, r0, r2
    add     r0, r0, r10                     /* output address: PA of this page */
    ubfx    r11, r2, #LPAE_L3_SHIFT, #9
    add     r11, r6, r11, lsl #3
    strd    r0, r1, [r11]
    ldr     r11, =_etext
    add     r2, r2, #4096
    cmp     r2, r3
    blo     1b

    /* The early UART, Device memory, never executable. */
    ldr     r0, =(EARLY_UART_PA | LPAE_PAGE | LPAE_LO_DEVICE)
    mov     r1, #LPAE_HI_XN
    strd    r0, r1, [r7, #(FIXMAP_EARLY_UART * 8)]

    /*
     * The CPU stacks (asm/layout.h): in each CPU's slot, its emergency page
     * and its STACK_SIZE of stack, read-write and never executable, from the
     * .stacks pages in order. The hole between them stays empty. The pages
     * are not mapped at their image address: a stack is reached only here.
     */
    ldr     r6, =boot_third_stacks
    add     r6, r6, r10
    orr     r0, r6, #LPAE_TABLE
    mov     r1, #0
    strd    r0, r1, [r5, #((STACKS_VIRT_START >> LPAE_L2_SHIFT) * 8)]
    ldr     r2, =__stacks_start
    add     r2, r2, r10                     /* PA of the next page to map */
    mov     r1, #LPAE_HI_XN
    mov     r3, #0                          /* page of the region */
1:  and     r11, r3, #((STACK_SLOT_SIZE >> LPAE_L3_SHIFT) - 1)    /* page in its slot */
    cmp     r11, #(EMERGENCY_STACK_SIZE >> LPAE_L3_SHIFT)
    blo     2f                              /* the emergency stack */
    cmp     r11, #((STACK_SLOT_SIZE - STACK_SIZE) >> LPAE_L3_SHIFT)
    blo     3f                              /* the hole */
2:  ldr     r0, =(LPAE_PAGE | LPAE_LO_NORMAL)
    orr     r0, r0, r2
    add     r12, r6, r3, lsl #3
    strd    r0, r1, [r12]
    add     r2, r2, #4096
3:  add     r3, r3, #1
    cmp     r3, #((STACK_CPUS * STACK_SLOT_SIZE) >> LPAE_L3_SHIFT)
    blo     1b

    /*
     * Identity map of the page holding this stub (the linker script checks
     * that .text.head fits in it): read-only, executable. Root entry of its
     * GiB -> boot_identity_second -> boot_identity_third -> the page.
     */
    lsr     r2, r9, #LPAE_L1_SHIFT
    cmp     r2, #0
    beq     loaded_too_low              /* it would collide with the image's own GiB */
    ldr     r5, =boot_identity_second
    add     r5, r5, r10
    ldr     r6, =boot_identity_third
    add     r6, r6, r10
    mov     r1, #0
    orr     r0, r5, #LPAE_TABLE
    add     r3, r4, r2, lsl #3
    strd    r0, r1, [r3]                /* root[GiB of the load address] */
    orr     r0, r6, #LPAE_TABLE
    ubfx    r2, r9, #LPAE_L2_SHIFT, #9
    add     r3, r5, r2, lsl #3
    strd    r0, r1, [r3]                /* level 2: its 2 MiB */
    ldr     r3, =(LPAE_PAGE | LPAE_LO_NORMAL | LPAE_AP_RO)
    orr     r0, r9, r3                  /* r9 is page aligned, as the image mapping assumes */
    ubfx    r2, r9, #LPAE_L3_SHIFT, #9
    add     r3, r6, r2, lsl #3
    strd    r0, r1, [r3]                /* level 3: the page */

    /*
     * The tables were written with the data cache off, straight to memory,
     * after their lines were invalidated with the rest of BSS: the walker,
     * which reads through the cache (HTCR says write-back), finds no stale
     * line once the MMU is on.
     */
    dsb     sy
    bx      lr
    .cfi_endproc

/*
 * Invalidates the data cache lines holding [r0, r1) to the point of
 * coherency, by address (physical: the MMU is off), without writing them
 * back. Only for memory whose cached contents do not matter. On return r0
 * is where it stopped (>= r1). Clobbers r0, r2, r3.
 */
invalidate_dcache_range:
    .cfi_startproc
    mrc     p15, 0, r2, c0, c0, 1       /* CTR: DminLine = log2(words) of the smallest line */
    ubfx    r2, r2, #16, #4
    mov     r3, #4
    lsl     r2, r3, r2                  /* line size in bytes */
    sub     r3, r2, #1
    bic     r0, r0, r3                  /* from the line holding the first byte */
    dsb     sy
1:  mcr     p15, 0, r0, c7, c6, 1       /* DCIMVAC */
    add     r0, r0, r2
    cmp     r0, r1
    blo     1b
    dsb     sy
    bx      lr
    .cfi_endproc

/*
 * ACTLR.SMP (bit 6 on a Cortex-A15) makes this CPU take part in coherency:
 * its data cache and TLB receive the other CPUs' maintenance broadcasts and
 * coherent requests, and its exclusives use the global monitor. The TRM
 * asks for it before the caches and MMU are enabled and before any cache or
 * TLB maintenance. Non-secure code, Hyp mode included, may write only that
 * bit, and only when the Secure firmware allows it (NSACR.NS_SMP, bit 18);
 * otherwise ACTLR is read-only and a write may be UNDEFINED, so we leave it
 * alone. A CPU without the Security Extensions (ID_PFR1.Security = 0: QEMU
 * without secure=on, which then has no NSACR either) has no Secure state
 * to restrict ACTLR. start_hyp()/start_secondary() warn if it still reads
 * 0 (QEMU always reads 0 and ignores writes). Other CPUs' ACTLR bits mean
 * other things: only a Cortex-A15 is touched. Clobbers r0, r1.
 */
cpu_join_smp:
    .cfi_startproc
    mrc     p15, 0, r0, c0, c0, 0       /* MIDR */
    ldr     r1, =MIDR_PART_MASK
    and     r0, r0, r1
    ldr     r1, =MIDR_CORTEX_A15
    cmp     r0, r1
    bxne    lr
    mrc     p15, 0, r0, c0, c1, 1       /* ID_PFR1 */
    tst     r0, #ID_PFR1_SECURITY
    beq     1f                          /* no Security Extensions, no NSACR */
    mrc     p15, 0, r0, c1, c1, 2       /* NSACR (read-only from Hyp mode) */
    tst     r0, #NSACR_NS_SMP
    bxeq    lr
1:  mrc     p15, 0, r0, c1, c0, 1       /* ACTLR */
    tst     r0, #ACTLR_A15_SMP
    bxne    lr
    orr     r0, r0, #ACTLR_A15_SMP
actlr_write:                            /* tests/gdb-check.gdb stops here */
    mcr     p15, 0, r0, c1, c0, 1
    isb
    bx      lr
    .cfi_endproc

/* Clobbers r0, r1. Expects r4 = PA of the root table. */
enable_mmu:
    .cfi_startproc
    ldr     r0, =HMAIR0_VALUE
    mcr     p15, 4, r0, c10, c2, 0      /* HMAIR0 */
    mov     r0, #0
    mcr     p15, 4, r0, c10, c2, 1      /* HMAIR1 */
    ldr     r0, =HTCR_VALUE
    mcr     p15, 4, r0, c2, c0, 2       /* HTCR */
    mov     r0, r4
    mov     r1, #0
    mcrr    p15, 4, r0, r1, c2          /* HTTBR */
    ldr     r0, =hyp_vectors
    add     r0, r0, r10
    mcr     p15, 4, r0, c12, c0, 0      /* HVBAR, physical until the jump */
    isb
    mcr     p15, 4, r0, c8, c7, 0       /* TLBIALLH: no stale Hyp translations */
    mcr     p15, 0, r0, c7, c5, 0       /* ICIALLU */
    mcr     p15, 0, r0, c7, c5, 6       /* BPIALL: the MMU switch changes every translation (B2.2.6) */
    dsb     sy
    isb
#ifdef CONFIG_DEBUG
    ldr     r0, =(HSCTLR_RES1 | HSCTLR_M | HSCTLR_C | HSCTLR_I | HSCTLR_WXN | HSCTLR_A)
#else
    ldr     r0, =(HSCTLR_RES1 | HSCTLR_M | HSCTLR_C | HSCTLR_I | HSCTLR_WXN)
#endif
    mcr     p15, 4, r0, c1, c0, 0       /* HSCTLR */
    isb
    bx      lr
    .cfi_endproc

/* ------------------------------------------------------------------------
 * Failures before the MMU is on: print on the platform's UART (QEMU virt's
 * PL011, which needs no set-up) and stop.
 */
loaded_too_low:
    adrl    r0, msg_too_low
    bl      early_puts
    b       early_exit_failure

not_hyp:
    mov     r4, r0
    adrl    r0, msg_not_hyp1
    bl      early_puts
    mov     r0, r4
    bl      early_puthex
    adrl    r0, msg_not_hyp2
    bl      early_puts
    b       early_exit_failure

/*
 * Outside Hyp mode we cannot use our Hyp vectors. Point VBAR at a table that
 * turns a trapped semihosting call into PSCI SYSTEM_OFF (through HVC, which
 * is QEMU's PSCI conduit when it emulates no EL2), and anything after that
 * into a halt.
 */
early_exit_failure:
    adr     r0, early_vectors
    mcr     p15, 0, r0, c12, c0, 0      /* VBAR */
    isb
    mov     r0, #0x20                   /* SYS_EXIT_EXTENDED */
    adr     r1, exit_failure_block
    svc     #0x123456                   /* semihosting call (A32) */
early_psci_off:
    ldr     r0, =0x84000008             /* PSCI SYSTEM_OFF */
    hvc     #0
early_halt:
    wfi
    b       early_halt

    .align 5
early_vectors:
    b       early_halt                  /* reset */
    b       early_halt                  /* undefined instruction: no HVC either */
    b       early_psci_off              /* SVC: semihosting is off */
    b       early_halt
    b       early_halt
    b       early_halt
    b       early_halt
    b       early_halt

exit_failure_block:
    .word   0x20026                     /* ADP_Stopped_ApplicationExit */
    .word   1

/* r0 = string (physical). Clobbers r0-r2. */
early_puts:
    ldr     r1, =EARLY_UART_PA
1:  ldrb    r2, [r0], #1
    cmp     r2, #0
    bxeq    lr
2:  ldr     r3, [r1, #0x18]             /* FR */
    tst     r3, #0x20                   /* TXFF */
    bne     2b
    str     r2, [r1]                    /* DR */
    b       1b

/* r0 = value, printed as 0x%02x. Clobbers r0-r3. */
early_puthex:
    ldr     r1, =EARLY_UART_PA
    mov     r2, #'0'
    str     r2, [r1]
    mov     r2, #'x'
    str     r2, [r1]
    mov     r3, #4
1:  lsr     r2, r0, r3
    and     r2, r2, #0xf
    cmp     r2, #10
    addlo   r2, r2, #'0'
    addhs   r2, r2, #('a' - 10)
    str     r2, [r1]
    subs    r3, r3, #4
    bpl     1b
    bx      lr

msg_not_hyp1:
    .asciz  "\r\nboot: this hypervisor must start in Hyp mode (PL2), but the CPU is in mode "
msg_not_hyp2:
    .asciz  ".\r\nboot: QEMU needs -M virt,virtualization=on (and not secure=on) to start it in Hyp mode.\r\n"
msg_too_low:
    .asciz  "\r\nboot: loaded below 1 GiB, where the identity map would overlap the image's own mapping.\r\n"
    .align  2
    .ltorg

/* ------------------------------------------------------------------------
 * Boot page tables and stack.
 */
    .section .bss.page_aligned, "aw", %nobits
    .align  12
    .global boot_root, boot_second, boot_third_image, boot_third_fixmap
    .global boot_identity_second, boot_identity_third
boot_root:          .space 4096     /* level 1: only 4 entries are used */
boot_second:        .space 4096     /* level 2 for VA 0-1 GiB */
boot_third_image:   .space 4096     /* level 3 for the image's 2 MiB */
boot_third_fixmap:  .space 4096     /* level 3 for the fixmap */
boot_identity_second: .space 4096   /* level 2 for the identity GiB (boot and trampoline) */
boot_identity_third:  .space 4096   /* level 3: the stub's one identity page */
boot_third_stacks:  .space 4096     /* level 3 for the stack region */

/*
 * What the stack region maps: per CPU an emergency page and a stack. Last
 * in BSS (linker.lds), so that the image's own mapping can stop before it.
 */
    .section .stacks, "aw", %nobits
    .align  12
    .space  STACK_CPUS * (EMERGENCY_STACK_SIZE + STACK_SIZE)
