/*
 * The GICv2 as a domain given the GIC sees it (common/domain/vgic.c): the decoding of a
 * trapped MMIO access, the distributor's registers filtered so that the guest cannot touch
 * the interrupts the hypervisor keeps, and the record of what each VCPU did last, which the
 * hypervisor's watchdog reports when a domain gives no verdict.
 *
 * The CPU interface needs no emulation: the guest's "GICC" is the virtual CPU interface
 * (GICV) mapped in its p2m, and the hypervisor only fills list registers (arch/arm32/gic.c).
 */
#ifndef DOMAIN_VGIC_H
#define DOMAIN_VGIC_H

#include <lib/types.h>

struct domain;
struct vcpu;

/* ---------------------------------------------------------------- MMIO decode */

/* One data access that a stage-2 abort stopped, as its syndrome gives it. */
struct mmio_access {
    bool write;
    unsigned int size;          /* bytes: 1, 2 or 4 */
    unsigned int reg;           /* the transfer register, r0-r14 (of the guest's mode) */
    bool sign_extend;           /* a load of less than 4 bytes that sign-extends (LDRSB/H) */
    unsigned int insn_len;      /* 2 or 4: how far the PC moves past the access */
};

/*
 * Decodes the HSR of a data abort from a guest (EC 0x24; ARM ARM B3.13.6): ISV, SAS, SSE,
 * SRT, WnR and IL. Returns 0, -EINVAL when the syndrome does not describe the access (ISV
 * clear: LDM, LDRD, a write-back form...; or a cache maintenance operation, or a fault on
 * the stage-1 walk), -ERANGE when the register is the PC.
 */
int mmio_decode(uint32_t hsr, struct mmio_access *a);

/* A loaded value of a.size bytes as the register receives it (zero- or sign-extended). */
uint32_t mmio_extend(const struct mmio_access *a, uint32_t value);

/* ---------------------------------------------------------------- distributor */

#define GICD_SIZE       0x1000u     /* the distributor's registers: one 4 KiB frame */
#define GIC_GUEST_MIN_PRIORITY 0x80u /* a guest's priorities: 0x80 (highest) to 0xff */

/* The physical distributor, reached through these (MMIO in the image, an array in tests). */
struct gicd_ops {
    uint32_t (*read)(void *ctx, uint32_t offset, unsigned int size);
    void (*write)(void *ctx, uint32_t offset, unsigned int size, uint32_t value);
    void *ctx;
};

/* What one domain may do with the distributor. */
struct vgic_dist {
    paddr_t base, size;         /* the distributor's window (IPA == PA): accesses trap */
    uint32_t kept;              /* bit n: interrupt n (an SGI or PPI) is the hypervisor's */
    unsigned int first_cpu;     /* VCPU n runs on physical CPU first_cpu + n */
    unsigned int nr_vcpus;
    uint32_t ctlr;              /* the guest's GICD_CTLR (the physical one stays enabled) */
};

/*
 * One access by VCPU vcpu_id to the distributor at `offset` (from its base) of `size` bytes:
 * a read fills *value, a write takes it. What the guest cannot have (the kept interrupts'
 * bits and bytes, the security and group registers) reads as zero and ignores writes;
 * priorities it writes are raised to at least GIC_GUEST_MIN_PRIORITY, so the hypervisor's
 * own interrupts always outrank the guest's; CPU numbers (ITARGETSR, SGIR) are translated
 * between VCPUs and physical CPUs. Returns 0, or -EINVAL for an access the GICv2 does not
 * define (misaligned, a byte access to a word-only register, a halfword): the caller
 * injects an abort.
 */
int vgic_dist_access(struct vgic_dist *vd, const struct gicd_ops *hw, unsigned int vcpu_id,
                     uint32_t offset, unsigned int size, bool write, uint32_t *value);

/* ---------------------------------------------------------------- watchdog record */

/* What a VCPU was doing at one moment: an exit, or one of the watchdog's ticks. */
struct vcpu_note {
    uint64_t time;              /* the counter at that moment */
    uint32_t pc, cpsr;
    uint32_t what;              /* an exit: its HSR, or VCPU_NOTE_IRQ | the interrupt;
                                   a tick: VCPU_NOTE_WFI if the VCPU waited in a WFI */
};
#define VCPU_NOTE_IRQ 0x80000000u
#define VCPU_NOTE_WFI 1u
#define VCPU_NOTES 4

struct vcpu_notes {
    struct vcpu_note exit[VCPU_NOTES];
    struct vcpu_note tick[VCPU_NOTES];
    unsigned int nr_exits, nr_ticks;    /* how many were ever recorded (ring index: % 4) */
};

void vcpu_note_exit(struct vcpu_notes *n, uint64_t time, uint32_t pc, uint32_t cpsr,
                    uint32_t what);
void vcpu_note_tick(struct vcpu_notes *n, uint64_t time, uint32_t pc, uint32_t cpsr,
                    bool in_wfi);

/*
 * Prints what d's VCPUs did last, oldest first, times in milliseconds since `start` (the
 * counter at the domain's start, at freq Hz): each VCPU's last exits and its PC at the
 * last ticks, and whether that PC moved, with interrupts masked or not, in a WFI or not.
 */
void vgic_watchdog_report(struct domain *d, uint64_t start, uint32_t freq);

#endif
