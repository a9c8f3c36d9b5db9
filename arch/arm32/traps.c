/*
 * Hyp exception handling: expected faults are fixed up and recorded, anything
 * else is reported in full and ends the run with a failure status.
 *
 * The report names the vector, decodes the HSR's exception class and, for
 * aborts, the fault status (translation/permission/alignment, level, read or
 * write), then gives HDFAR/HIFAR, ELR, SPSR and the general registers: what
 * one needs to find the faulting line with addr2line or gdb.
 *
 * A stack overflow arrives apart, on the emergency stack (entry.S), and is
 * reported as such: which CPU, how far below its stack SP was, then the
 * same description and registers.
 */
#include <arch/guest.h>
#include <arch/machine.h>
#include <asm/console.h>
#include <asm/layout.h>
#include <asm/smp.h>
#include <asm/sysregs.h>
#include <asm/traps.h>
#include <inttypes.h>
#include <lib/lib.h>
#include <mm/vmap.h>

struct fixup_entry {
    uint32_t insn;
    uint32_t fixup;
};
extern const struct fixup_entry __start_fixup_table[], __stop_fixup_table[];
extern uint32_t probe_exec_fixup;

struct fault_record last_fault;

static const char *const vector_names[8] = {
    "reset", "undefined instruction", "hypervisor call", "prefetch abort",
    "data abort", "hyp trap", "IRQ", "FIQ",
};

const char *hsr_ec_name(uint32_t ec)
{
    switch (ec) {
    case 0x00: return "unknown reason (e.g. undefined instruction)";
    case 0x01: return "WFI/WFE trapped";
    case 0x03: return "MCR/MRC to CP15 trapped";
    case 0x04: return "MCRR/MRRC to CP15 trapped";
    case 0x05: return "MCR/MRC to CP14 trapped";
    case 0x06: return "LDC/STC to CP14 trapped";
    case 0x07: return "HCPTR-trapped access to SIMD/FP";
    case 0x08: return "MRC/VMRS to CP10 (ID registers) trapped";
    case 0x0c: return "MRRC to CP14 trapped";
    case 0x0e: return "illegal exception return";
    case HSR_EC_SVC: return "SVC executed in Hyp mode";
    case HSR_EC_HVC: return "HVC";
    case HSR_EC_SMC: return "SMC trapped";
    case HSR_EC_IABT_LOWER: return "prefetch abort from a lower mode";
    case HSR_EC_IABT_HYP: return "prefetch abort in Hyp mode";
    case HSR_EC_DABT_LOWER: return "data abort from a lower mode";
    case HSR_EC_DABT_HYP: return "data abort in Hyp mode";
    default: return "reserved/unknown exception class";
    }
}

const char *fault_status_name(uint32_t fsc)
{
    if (fsc == FSC_ALIGNMENT)
        return "alignment fault";
    if (fsc == 0x10)
        return "synchronous external abort";
    if (fsc == 0x30)
        return "TLB conflict abort";
    switch (FSC_TYPE(fsc)) {
    case FSC_TRANSLATION: return "translation fault";
    case FSC_ACCESS_FLAG: return "access flag fault";
    case FSC_PERMISSION: return "permission fault";
    case 0x14: return "synchronous external abort on a table walk";
    case 0x1c: return "synchronous parity error on a table walk";
    default: return "other fault";
    }
}

/* One line describing the exception: vector, class, and for aborts what failed. */
static void describe(const struct cpu_regs *regs, uint32_t hsr, const char *prefix)
{
    uint32_t ec = HSR_EC(hsr);
    uint32_t v = regs->vector < 8 ? regs->vector : 0;

    printk("%s%s exception, HSR 0x%08" PRIx32 ": EC 0x%02" PRIx32 " %s\n", prefix, vector_names[v], hsr, ec,
           hsr_ec_name(ec));
    if (ec == HSR_EC_DABT_HYP || ec == HSR_EC_DABT_LOWER) {
        uint32_t fsc = hsr & 0x3f;
        printk("%s  %s of 0x%08" PRIx32 ": %s, level %" PRIu32 " (FSC 0x%02" PRIx32 ")\n", prefix,
               (hsr & (1u << 6)) ? "write" : "read", READ_CP32(HDFAR), fault_status_name(fsc),
               FSC_LEVEL(fsc), fsc);
    } else if (ec == HSR_EC_IABT_HYP || ec == HSR_EC_IABT_LOWER) {
        uint32_t fsc = hsr & 0x3f;
        printk("%s  instruction fetch from 0x%08" PRIx32 ": %s, level %" PRIu32 " (FSC 0x%02" PRIx32 ")\n", prefix,
               READ_CP32(HIFAR), fault_status_name(fsc), FSC_LEVEL(fsc), fsc);
    }
}

static void dump_registers(const struct cpu_regs *regs)
{
    printk("  HDFAR 0x%08" PRIx32 "  HIFAR 0x%08" PRIx32 "  HPFAR 0x%08" PRIx32 "\n", READ_CP32(HDFAR), READ_CP32(HIFAR),
           READ_CP32(HPFAR));
    printk("  ELR_hyp 0x%08" PRIx32 "  SPSR_hyp 0x%08" PRIx32 "  (mode 0x%02" PRIx32 ")\n", regs->pc, regs->cpsr,
           regs->cpsr & 0x1f);
    for (unsigned int i = 0; i < 12; i += 4)
        printk("  r%-2u 0x%08" PRIx32 "  r%-2u 0x%08" PRIx32 "  r%-2u 0x%08" PRIx32 "  r%-2u 0x%08" PRIx32 "\n", i, regs->r[i],
               i + 1, regs->r[i + 1], i + 2, regs->r[i + 2], i + 3, regs->r[i + 3]);
    printk("  r12 0x%08" PRIx32 "  sp  0x%08" PRIx32 "  lr  0x%08" PRIx32 "  pc  0x%08" PRIx32 "\n", regs->r[12], regs->sp,
           regs->lr, regs->pc);
}

static void record(const struct cpu_regs *regs, uint32_t hsr)
{
    last_fault.hsr = hsr;
    last_fault.hdfar = READ_CP32(HDFAR);
    last_fault.hifar = READ_CP32(HIFAR);
    last_fault.pc = regs->pc;
    last_fault.vector = regs->vector;
    last_fault.frame = (uint32_t)(uintptr_t)regs;
    last_fault.sp = regs->sp;
    last_fault.count++;
}

void hyp_stack_overflow(struct cpu_regs *regs)
{
    /* Per slot: a fault while reporting comes back here, on the same emergency stack. */
    static unsigned int reports[STACK_CPUS];
    unsigned int cpu = (regs->sp - STACKS_VIRT_START) >> STACK_SLOT_SHIFT;
    uint32_t hsr = READ_CP32(HSR);

    if (cpu >= STACK_CPUS)      /* the frame is in some slot's page, so SP was near one */
        cpu = ((uint32_t)(uintptr_t)regs - STACKS_VIRT_START) >> STACK_SLOT_SHIFT;
    if (reports[cpu]++) {
        if (reports[cpu] == 2)
            printk("\n*** another exception while reporting CPU %u's stack overflow; "
                   "stopping ***\n", cpu);
        arch_panic_stop();
    }
    console_fault(hsr, READ_CP32(HDFAR));
    printk("\n*** stack overflow on CPU %u ***\n", cpu);
    if (regs->sp < STACK_BOTTOM(cpu))
        printk("  SP 0x%08" PRIx32 " is %lu bytes below the bottom of the stack "
               "0x%08lx-0x%08lx, in the hole below it\n", regs->sp,
               (unsigned long)(STACK_BOTTOM(cpu) - regs->sp), (unsigned long)STACK_BOTTOM(cpu),
               (unsigned long)STACK_TOP(cpu));
    else
        printk("  SP 0x%08" PRIx32 " is %lu bytes above the bottom of the stack "
               "0x%08lx-0x%08lx: no room for an exception frame\n", regs->sp,
               (unsigned long)(regs->sp - STACK_BOTTOM(cpu)), (unsigned long)STACK_BOTTOM(cpu),
               (unsigned long)STACK_TOP(cpu));
    if (this_pcpu() && smp_processor_id() != cpu)
        printk("  (HTPIDR says CPU %u: SP is on another CPU's stack)\n", smp_processor_id());
    describe(regs, hsr, "");
    dump_registers(regs);
    arch_panic_stop();
}

void hyp_trap(struct cpu_regs *regs)
{
    uint32_t hsr = READ_CP32(HSR);
    uint32_t ec = HSR_EC(hsr);

    /* From a guest (any mode but Hyp): a guest exit, handled by its run loop. */
    if ((regs->cpsr & PSR_MODE_MASK) != PSR_MODE_HYP)
        guest_exit(regs);
    /* An instruction listed as allowed to fault: resume at its landing pad. */
    for (const struct fixup_entry *f = __start_fixup_table; f < __stop_fixup_table; f++) {
        if (f->insn == regs->pc && (regs->vector == 1 || regs->vector == 4)) {
            record(regs, hsr);
            if (regs->vector == 4)   /* undefined-instruction fixups are quiet fallbacks */
                describe(regs, hsr, "expected fault: ");
            regs->pc = f->fixup;
            return;
        }
    }
    /* arch_probe_exec: the fetch of the probed function itself faulted. */
    if (regs->vector == 3 && probe_exec_fixup && ec == HSR_EC_IABT_HYP &&
        READ_CP32(HIFAR) == regs->pc) {
        record(regs, hsr);
        describe(regs, hsr, "expected fault: ");
        regs->pc = probe_exec_fixup;
        return;
    }

    /* A console that aborts is given up first, so that the report does not fault again. */
    console_fault(hsr, READ_CP32(HDFAR));
    printk("\n*** unexpected exception in Hyp mode ***\n");
    describe(regs, hsr, "");
    if (ec == HSR_EC_DABT_HYP) {
        char what[128];

        /* A fault in the vmap region: say which allocation or guard page it hit. */
        if (vm_describe((const void *)(uintptr_t)READ_CP32(HDFAR), what, sizeof(what)))
            printk("  vmap: %s\n", what);
    }
    dump_registers(regs);
    arch_panic_stop();
}
