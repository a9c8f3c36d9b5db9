/*
 * Running a guest VCPU on this CPU (include/arch/guest.h): the Hyp controls a guest runs
 * under, its start from a clean state, and the handling of each exit.
 *
 * What a guest may do is set by HCR: stage 2 on (VM), physical IRQs, FIQs and asynchronous
 * aborts routed to Hyp mode (IMO, FMO, AMO: for a guest without the GIC none should come;
 * a domain given the GIC has its device interrupts forwarded by gic.c), SMC trapped (TSC:
 * PSCI is emulated), WFI trapped for a guest without the GIC (TWI: a WFI that nothing can
 * wake would hang its CPU; it is treated as a no-op, which the architecture allows),
 * ACTLR accesses trapped (TAC: it holds the SMP bit the hypervisor depends on), set/way
 * invalidation upgraded to clean+invalidate (SWIO: a guest's "invalidate all" would
 * otherwise discard the hypervisor's dirty lines) and barriers and maintenance broadcast
 * inner shareable (BSU, FB), as a guest on several CPUs assumes. HDCR traps the PMU (the
 * hypervisor's benchmarks use it), CNTHCTL lets the guest read the physical counter but not
 * use the physical timer, HSTR traps the implementation-defined CP15 c15.
 *
 * Exits: HVC #0 and a trapped SMC are PSCI, HVC #0xEA1 a hypercall; a stage-2 abort (an
 * access outside the guest's p2m) on the distributor of a domain given the GIC is performed
 * for it (gic.c, domain/vgic.h); any other is reported with the IPA, the access and the
 * guest's PC, then injected into the guest as a synchronous external abort, as Xen does: the guest
 * decides what a bus error means for it. Anything else the guest cannot have meant is
 * injected as an undefined instruction. An exit the hypervisor cannot recover from ends the
 * domain (SHUTDOWN_crash), never the hypervisor.
 */
#include <arch/guest.h>
#include <arch/machine.h>
#include <asm/gic.h>
#include <asm/smp.h>
#include <asm/sysregs.h>
#include <asm/traps.h>
#include <domain/domain.h>
#include <domain/hypercall.h>
#include <domain/vcpu.h>
#include <domain/vpsci.h>
#include <inttypes.h>
#include <lib/errno.h>
#include <lib/lib.h>
#include <mm/p2m.h>

#define HCR_SWIO    (1u << 1)
#define HCR_FMO     (1u << 3)
#define HCR_IMO     (1u << 4)
#define HCR_AMO     (1u << 5)
#define HCR_FB      (1u << 9)
#define HCR_BSU_IS  (1u << 10)
#define HCR_TWI     (1u << 13)
#define HCR_TSC     (1u << 19)
#define HCR_TAC     (1u << 21)
#define GUEST_HCR   (HCR_VM | HCR_SWIO | HCR_FMO | HCR_IMO | HCR_AMO | HCR_FB | HCR_BSU_IS | \
                     HCR_TWI | HCR_TSC | HCR_TAC)
/*
 * A domain given the GIC may wait for its interrupts: its WFI is not trapped. Physical
 * interrupts still come to the hypervisor (IMO), which forwards them (gic.c); IMO also
 * lets the virtual CPU interface's interrupts reach the guest.
 */
#define GIC_GUEST_HCR (GUEST_HCR & ~HCR_TWI)

#define HDCR_TPMCR  (1u << 5)
#define HDCR_TPM    (1u << 6)
#define HSTR_T15    (1u << 15)
#define HCPTR_RES1  0x33ffu       /* bits 13:12 and 9:0; CP10/CP11 (bits 11:10) not trapped */
#define CNTHCTL_PL1PCTEN (1u << 0)

/* The Cortex-A15's SCTLR at reset: MMU, caches, alignment checks off, low vectors. */
#define SCTLR_RESET 0x00c50078u
#define SCTLR_V     (1u << 13)
#define SCTLR_EE    (1u << 25)
#define SCTLR_TE    (1u << 30)
#define TTBCR_EAE   (1u << 31)

#define HSR_EC_WFI_WFE 0x01
#define HSR_EC_CP15_32 0x03
#define HSR_CV      (1u << 24)
#define HSR_COND(hsr) (((hsr) >> 20) & 0xf)
#define HSR_SMC_CCKNOWNPASS (1u << 19)

/* The DFSR/IFSR values of an injected synchronous external abort (ARM ARM B3.13.3). */
#define FSR_SHORT_EXTERNAL 0x008u
#define FSR_LPAE           (1u << 9)
#define FSR_LONG_EXTERNAL  0x010u
#define FSR_WNR            (1u << 11)

unsigned int guest_enter(struct guest_regs *regs, uint32_t *hyp_sp);
void guest_return_to_hyp(const uint32_t *hyp_sp, unsigned int vector) __attribute__((noreturn));
void guest_set_abt(uint32_t spsr, uint32_t lr);
void guest_set_und(uint32_t spsr, uint32_t lr);
void guest_reset_banked(void);
void guest_reset_fp(void);

static const char *name_of(const struct vcpu *v)
{
    static char buf[NR_CPUS][24];

    return vcpu_name(v, buf[smp_processor_id()], sizeof(buf[0]));
}

/* Every PL1 register a guest could read something from, at its reset value or zero. */
static void reset_pl1_state(void)
{
    WRITE_CP32(SCTLR_RESET, NS_SCTLR);
    isb();
    WRITE_CP32(0, NS_CPACR);
    WRITE_CP64(0, NS_TTBR0);
    WRITE_CP64(0, NS_TTBR1);
    WRITE_CP32(0, NS_TTBCR);
    WRITE_CP32(0, NS_DACR);
    WRITE_CP32(0, NS_DFSR);
    WRITE_CP32(0, NS_IFSR);
    WRITE_CP32(0, NS_DFAR);
    WRITE_CP32(0, NS_IFAR);
    WRITE_CP32(0, NS_PRRR);
    WRITE_CP32(0, NS_NMRR);
    WRITE_CP32(0, NS_AMAIR0);
    WRITE_CP32(0, NS_AMAIR1);
    WRITE_CP32(0, NS_VBAR);
    WRITE_CP32(0, NS_FCSEIDR);
    WRITE_CP32(0, NS_CONTEXTIDR);
    WRITE_CP32(0, NS_TPIDRURW);
    WRITE_CP32(0, NS_TPIDRURO);
    WRITE_CP32(0, NS_TPIDRPRW);
    WRITE_CP32(0, NS_CSSELR);
    WRITE_CP32(0, CNTKCTL);
    WRITE_CP32(0, CNTP_CTL);
    WRITE_CP32(0, CNTV_CTL);
    WRITE_CP64(0, PAR);
    guest_reset_banked();
    guest_reset_fp();
    isb();
}

/* The Hyp controls for v, and v's VMID and identity. */
static void load_guest_controls(const struct vcpu *v)
{
    WRITE_CP32(READ_CP32(MIDR), VPIDR);
    WRITE_CP32(0x80000000u | v->vcpu_id, VMPIDR);       /* bit 31: the MP format */
    WRITE_CP32(HCPTR_RES1, HCPTR);
    WRITE_CP32(HSTR_T15, HSTR);
    WRITE_CP32(((READ_CP32(PMCR) >> 11) & 0x1f) | HDCR_TPM | HDCR_TPMCR, HDCR);
    WRITE_CP32(CNTHCTL_PL1PCTEN, CNTHCTL);
    WRITE_CP64(0, CNTVOFF);
    WRITE_CP32(P2M_VTCR, VTCR);
    WRITE_CP64(v->domain->p2m.vttbr, VTTBR);
    isb();
    WRITE_CP32(v->domain->given_gic ? GIC_GUEST_HCR : GUEST_HCR, HCR);
    isb();
}

/* Back to the hypervisor alone: no stage 2, nothing trapped. */
static void unload_guest_controls(void)
{
    WRITE_CP32(0, HCR);
    isb();
}

/* Called by hyp_trap() for an exception taken from a guest mode: back to the run loop. */
void guest_exit(const struct cpu_regs *frame)
{
    struct pcpu *c = this_pcpu();
    struct vcpu *v = c->guest;

    if (!v)
        panic("exception from guest mode 0x%02" PRIx32 " on cpu %u, which runs no guest",
              frame->cpsr & PSR_MODE_MASK, c->id);
    for (unsigned int i = 0; i < 13; i++)
        v->regs.r[i] = frame->r[i];
    v->regs.lr = frame->lr;
    v->regs.pc = frame->pc;
    v->regs.cpsr = frame->cpsr;
    c->exit_hsr = READ_CP32(HSR);
    c->exit_hdfar = READ_CP32(HDFAR);
    c->exit_hifar = READ_CP32(HIFAR);
    c->exit_hpfar = READ_CP32(HPFAR);
    guest_return_to_hyp(&c->guest_hyp_sp, frame->vector);
}

/*
 * The guest's banked SP and LR of one mode, which only MRS/MSR (banked) reach from Hyp mode
 * (B9.3.9); each mode needs its own instruction.
 */
#define BANKED_ACCESS(mode, name)                                                         \
    case PSR_MODE_##mode:                                                                 \
        if (write)                                                                        \
            __asm__ volatile(".arch_extension virt\n\tmsr " name ", %0" :: "r"(*value)); \
        else                                                                              \
            __asm__ volatile(".arch_extension virt\n\tmrs %0, " name : "=r"(*value));    \
        return true

static bool banked(uint32_t mode, unsigned int reg, bool write, uint32_t *value)
{
    if (reg == 13) {
        switch (mode) {
        BANKED_ACCESS(USR, "SP_usr");
        BANKED_ACCESS(SYS, "SP_usr");
        BANKED_ACCESS(SVC, "SP_svc");
        BANKED_ACCESS(ABT, "SP_abt");
        BANKED_ACCESS(UND, "SP_und");
        BANKED_ACCESS(IRQ, "SP_irq");
        BANKED_ACCESS(FIQ, "SP_fiq");
        default: return false;
        }
    }
    switch (mode) {
    BANKED_ACCESS(SVC, "LR_svc");
    BANKED_ACCESS(ABT, "LR_abt");
    BANKED_ACCESS(UND, "LR_und");
    BANKED_ACCESS(IRQ, "LR_irq");
    BANKED_ACCESS(FIQ, "LR_fiq");
    default: return false;
    }
}

bool guest_reg_access(struct vcpu *v, unsigned int reg, bool write, uint32_t *value)
{
    uint32_t mode = v->regs.cpsr & PSR_MODE_MASK;
    uint32_t *saved = NULL;

    /* FIQ mode banks r8-r12 too; an exit saved the others. */
    if (reg <= 12 && !(mode == PSR_MODE_FIQ && reg >= 8))
        saved = &v->regs.r[reg];
    else if (reg == 14 && (mode == PSR_MODE_USR || mode == PSR_MODE_SYS))
        saved = &v->regs.lr;
    if (saved) {
        if (write)
            *saved = *value;
        else
            *value = *saved;
        return true;
    }
    return reg <= 14 && banked(mode, reg, write, value);
}

/* Whether a trapped conditional instruction's condition passed (ARM ARM A8.3). */
static bool condition_passes(uint32_t hsr, uint32_t cpsr)
{
    bool n = cpsr >> 31, z = (cpsr >> 30) & 1, cf = (cpsr >> 29) & 1, vf = (cpsr >> 28) & 1;
    uint32_t cond;
    bool pass;

    if (HSR_EC(hsr) == HSR_EC_SMC && (hsr & HSR_SMC_CCKNOWNPASS))
        return true;
    if (hsr & HSR_CV)
        cond = HSR_COND(hsr);
    else if ((cpsr & PSR_THUMB) && (cpsr & PSR_IT_MASK))
        cond = (cpsr >> 12) & 0xf;          /* ITSTATE[7:4]: the condition of the IT block */
    else
        return true;
    switch (cond >> 1) {
    case 0: pass = z; break;
    case 1: pass = cf; break;
    case 2: pass = n; break;
    case 3: pass = vf; break;
    case 4: pass = cf && !z; break;
    case 5: pass = n == vf; break;
    case 6: pass = !z && n == vf; break;
    default: return true;                   /* AL, and 0b1111 (unconditional) */
    }
    return (cond & 1) ? !pass : pass;
}

/* Steps over the trapped instruction, advancing an IT block as the CPU would (A2.5.2). */
static void advance_pc(struct guest_regs *regs, uint32_t hsr)
{
    uint32_t it = ((regs->cpsr >> 25) & 0x3) | ((regs->cpsr >> 8) & 0xfc);

    regs->pc += (hsr & HSR_IL) ? 4 : 2;
    if (!(regs->cpsr & PSR_THUMB) || !it)
        return;
    it = (it & 0x7) ? (it & 0xe0) | ((it << 1) & 0x1f) : 0;
    regs->cpsr = (regs->cpsr & ~PSR_IT_MASK) | ((it & 0x3) << 25) | ((it & 0xfc) << 8);
}

/*
 * Enters the guest's exception handler in `mode` as the CPU would on an exception taken to
 * PL1 (B1.8.3): SPSR and LR of that mode, the new CPSR, and the vector.
 */
static void enter_guest_exception(struct vcpu *v, uint32_t mode, uint32_t vector_offset,
                                  uint32_t lr)
{
    struct guest_regs *regs = &v->regs;
    uint32_t sctlr = READ_CP32(NS_SCTLR);
    uint32_t cpsr = (regs->cpsr & ~(PSR_MODE_MASK | PSR_THUMB | PSR_IT_MASK | PSR_BIG_ENDIAN |
                                    (1u << 24))) | mode | PSR_IRQ_MASK;

    if (mode == PSR_MODE_ABT)
        cpsr |= PSR_ABT_MASK;
    if (sctlr & SCTLR_TE)
        cpsr |= PSR_THUMB;
    if (sctlr & SCTLR_EE)
        cpsr |= PSR_BIG_ENDIAN;
    if (mode == PSR_MODE_ABT)
        guest_set_abt(regs->cpsr, lr);
    else
        guest_set_und(regs->cpsr, lr);
    regs->pc = ((sctlr & SCTLR_V) ? 0xffff0000u : READ_CP32(NS_VBAR)) + vector_offset;
    regs->cpsr = cpsr;
}

/* An undefined instruction at insn (its address) for the guest. */
static void inject_undef(struct vcpu *v, uint32_t insn)
{
    enter_guest_exception(v, PSR_MODE_UND, 0x04, insn + ((v->regs.cpsr & PSR_THUMB) ? 2 : 4));
}

/*
 * A synchronous external abort for the guest: a data abort at address (a write if write)
 * or a prefetch abort, by the instruction at v's pc. The status is in the format the
 * guest's TTBCR.EAE selects.
 */
static void inject_external_abort(struct vcpu *v, bool data, uint32_t address, bool write)
{
    uint32_t fsr = (READ_CP32(NS_TTBCR) & TTBCR_EAE) ? FSR_LPAE | FSR_LONG_EXTERNAL
                                                     : FSR_SHORT_EXTERNAL;

    if (data) {
        WRITE_CP32(fsr | (write ? FSR_WNR : 0), NS_DFSR);
        WRITE_CP32(address, NS_DFAR);
        enter_guest_exception(v, PSR_MODE_ABT, 0x10, v->regs.pc + 8);
    } else {
        WRITE_CP32(fsr, NS_IFSR);
        WRITE_CP32(address, NS_IFAR);
        enter_guest_exception(v, PSR_MODE_ABT, 0x0c, v->regs.pc + 4);
    }
}

/* A stage-2 abort: reported with everything known, then given to the guest. */
static void stage2_abort(struct vcpu *v, const struct pcpu *c, bool data)
{
    uint32_t hsr = c->exit_hsr, fsc = hsr & 0x3f;
    uint32_t va = data ? c->exit_hdfar : c->exit_hifar;
    bool write = data && (hsr & (1u << 6));
    /* HPFAR holds IPA[39:12] for the faults stage 2 itself raised (B3.13.6). */
    bool ipa_known = FSC_TYPE(fsc) == FSC_TRANSLATION || FSC_TYPE(fsc) == FSC_ACCESS_FLAG ||
                     FSC_TYPE(fsc) == FSC_PERMISSION;
    uint64_t ipa = ((uint64_t)(c->exit_hpfar >> 4) << PAGE_SHIFT) | (va & (PAGE_SIZE - 1));
    char access[32];

    if (data && ipa_known) {
        switch (gic_dist_trap(v, hsr, ipa)) {
        case 1:
            advance_pc(&v->regs, hsr);
            return;
        case -1:
            inject_external_abort(v, data, va, write);
            return;
        default:
            break;
        }
    }
    if (!data)
        fmt_snprintf(access, sizeof(access), "instruction fetch");
    else if (hsr & (1u << 24))              /* ISV: the access size is known */
        fmt_snprintf(access, sizeof(access), "%s of %u bytes", write ? "write" : "read",
                     1u << ((hsr >> 22) & 3));
    else
        fmt_snprintf(access, sizeof(access), "%s", write ? "write" : "read");
    if (ipa_known)
        printk("%s: stage-2 abort: %s at IPA 0x%010llx (guest VA 0x%08" PRIx32 "): %s "
               "at level %" PRIu32 "%s; guest PC 0x%08" PRIx32 ": injecting an external abort\n",
               name_of(v), access, (unsigned long long)ipa, va, fault_status_name(fsc), FSC_LEVEL(fsc),
               (hsr & (1u << 7)) ? " on the guest's own table walk" : "", v->regs.pc);
    else
        printk("%s: stage-2 abort: %s at guest VA 0x%08" PRIx32 ": %s (FSC 0x%02" PRIx32 "); "
               "guest PC 0x%08" PRIx32 ": injecting an external abort\n", name_of(v), access,
               va, fault_status_name(fsc), fsc, v->regs.pc);
    inject_external_abort(v, data, va, write);
}

/*
 * A trapped MRC/MCR to CP15 (EC 0x03, ISS as in B3.13.6): only ACTLR is trapped (HCR.TAC).
 * A read gets the CPU's ACTLR, a write is ignored: the SMP bit and the rest are the
 * hypervisor's to set (Linux writes the SMP bit at boot if it reads 0, as QEMU makes it
 * read). Returns false for anything else, or a register this cannot reach (r13/r14 of the
 * guest's mode are banked).
 */
static bool emulate_cp15(struct vcpu *v, uint32_t hsr)
{
    uint32_t opc2 = (hsr >> 17) & 7, opc1 = (hsr >> 14) & 7, crn = (hsr >> 10) & 0xf;
    uint32_t rt = (hsr >> 5) & 0xf, crm = (hsr >> 1) & 0xf;

    if (opc1 != 0 || crn != 1 || crm != 0 || opc2 != 1 || rt > 12)
        return false;
    if (hsr & 1)                            /* Direction: 1 is a read (MRC) */
        v->regs.r[rt] = READ_CP32(ACTLR);
    advance_pc(&v->regs, hsr);
    return true;
}

/* Handles a hyp trap exit; returns whether v carries on. */
static bool handle_trap(struct vcpu *v, const struct pcpu *c)
{
    struct guest_regs *regs = &v->regs;
    uint32_t hsr = c->exit_hsr, ec = HSR_EC(hsr);

    switch (ec) {
    case HSR_EC_WFI_WFE:
        advance_pc(regs, hsr);
        return true;
    case HSR_EC_HVC:                        /* ELR_hyp is already past the HVC */
        if ((hsr & 0xffff) == 0)
            return vpsci_call(v, regs);
        if ((hsr & 0xffff) == HYPERCALL_HVC_IMM) {
            do_hypercall(v, regs);
            return true;
        }
        printk("%s: HVC #0x%04" PRIx32 " is no call this hypervisor has; guest PC 0x%08" PRIx32
               ": injecting an undefined instruction\n", name_of(v), hsr & 0xffff, regs->pc);
        inject_undef(v, regs->pc - ((hsr & HSR_IL) ? 4 : 2));
        return true;
    case HSR_EC_SMC:                        /* trapped before it ran: ELR_hyp is the SMC */
        if (!condition_passes(hsr, regs->cpsr)) {
            advance_pc(regs, hsr);
            return true;
        }
        advance_pc(regs, hsr);
        return vpsci_call(v, regs);
    case HSR_EC_CP15_32:
        if (!condition_passes(hsr, regs->cpsr)) {
            advance_pc(regs, hsr);
            return true;
        }
        if (emulate_cp15(v, hsr))
            return true;
        break;
    case HSR_EC_DABT_LOWER:
        stage2_abort(v, c, true);
        return true;
    case HSR_EC_IABT_LOWER:
        stage2_abort(v, c, false);
        return true;
    default:
        if (ec >= 0x04 && ec <= 0x0c && !condition_passes(hsr, regs->cpsr)) {
            advance_pc(regs, hsr);
            return true;
        }
        break;
    }
    printk("%s: trapped: EC 0x%02" PRIx32 " %s (HSR 0x%08" PRIx32 "); guest PC 0x%08" PRIx32
           ": injecting an undefined instruction\n", name_of(v), ec, hsr_ec_name(ec), hsr,
           regs->pc);
    inject_undef(v, regs->pc);
    return true;
}

/* Handles one exit through `vector`; returns whether v carries on. */
static bool handle_exit(struct vcpu *v, const struct pcpu *c, unsigned int vector)
{
    if (vector == 5) {
        if (v->domain->given_gic)
            vcpu_note_exit(&v->notes, READ_CP64(CNTPCT), v->regs.pc, v->regs.cpsr, c->exit_hsr);
        return handle_trap(v, c);
    }
    if (vector == 6 && v->domain->given_gic)
        return gic_handle_irq(v);
    printk("%s: %s while the guest ran (HSR 0x%08" PRIx32 ", guest PC 0x%08" PRIx32 ", CPSR "
           "0x%08" PRIx32 "): it has no GIC, and no interrupt is enabled for it; ending the domain\n", name_of(v),
           vector == 6 ? "physical IRQ" : vector == 7 ? "physical FIQ" : "asynchronous abort",
           c->exit_hsr, v->regs.pc, v->regs.cpsr);
    domain_shutdown(v->domain, SHUTDOWN_crash);
    return false;
}

int arch_vcpu_run(struct vcpu *v)
{
    struct pcpu *c = this_pcpu();
    struct domain *d = v->domain;
    struct vcpu *previous = c->current;

    if (v->processor != c->id || c->guest)
        panic("arch_vcpu_run: %s belongs to cpu %u, runs on cpu %u%s", name_of(v),
              v->processor, c->id, c->guest ? " which already runs a guest" : "");
    c->guest = v;
    vcpu_switch_to(v);
    reset_pl1_state();
    if (d->given_gic)
        gic_vcpu_start(v);
    load_guest_controls(v);
    while (__atomic_load_n(&d->shutdown_code, __ATOMIC_ACQUIRE) == SHUTDOWN_running) {
        unsigned int vector = guest_enter(&v->regs, &c->guest_hyp_sp);

        if (!handle_exit(v, c, vector))
            break;
    }
    unload_guest_controls();
    if (d->given_gic)
        gic_vcpu_stop(v);
    /*
     * Nothing of the guest stays behind: the next builder's gvirt_to_maddr() needs the PL1
     * MMU off, and the next guest on this CPU must not find this one's registers.
     */
    reset_pl1_state();
    vcpu_switch_to(previous);
    c->guest = NULL;
    spin_lock(&d->lock);
    v->power = VCPU_OFF;
    spin_unlock(&d->lock);
    guest_console_flush(d);
    __atomic_store_n(&v->running, false, __ATOMIC_RELEASE);
    dsb(ish);
    __asm__ volatile("sev");
    return 0;
}

static void run_vcpu_work(unsigned int cpu, void *arg)
{
    (void)cpu;
    arch_vcpu_run(arg);
}

int arch_vcpu_kick(struct vcpu *v)
{
    return smp_post_work(v->processor, run_vcpu_work, v);
}

void arch_vcpu_wait(struct vcpu *v)
{
    while (__atomic_load_n(&v->running, __ATOMIC_ACQUIRE))
        __asm__ volatile("wfe");
}
