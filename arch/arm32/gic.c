/*
 * The GICv2 under a domain given the GIC (asm/gic.h). Every physical interrupt comes to
 * the hypervisor (HCR.IMO): the hypervisor keeps two PPIs for itself, its Hyp timer (the
 * watchdog's tick, which reaches it whatever the guest does with CPSR.I) and the GIC's
 * maintenance interrupt, and forwards every other one to the running VCPU through a list
 * register. The guest acknowledges and ends it on the virtual CPU interface, mapped where
 * its tree puts the CPU interface, without a trap.
 *
 * The CPU interface runs with EOImode 1: writing EOIR only drops the running priority,
 * so the hypervisor is at once ready for the next interrupt, while the forwarded one stays
 * active until the guest's EOI on its virtual interface deactivates it through the list
 * register's HW bit and physical ID (GICv2 5.2.1). Such an interrupt cannot fire again
 * before the guest is done with it, so it is never twice in the list registers. SGIs have
 * no HW form: they are deactivated at once and injected with their source CPU (one list
 * register for each SGI and source; a second arrival while one is pending merges, as the
 * GIC itself would merge them).
 *
 * When every list register is in use, the interrupt is made pending again in the
 * distributor and deactivated, the priority mask is raised above every guest priority
 * (they are at least GIC_GUEST_MIN_PRIORITY) and the underflow maintenance interrupt is
 * enabled: once the guest has ended all but one, the mask goes back down and the
 * interrupt comes again. Nothing queues in software. (Tried with Linux at -smp 2 limited
 * to two list registers: interrupts deferred, and the boot passed. With one list register
 * the underflow interrupt would be always on: gic_init() refuses a GIC with fewer than two.)
 *
 * A VCPU never leaves its CPU while it runs (common/domain/domain_run.c): the list
 * registers and the virtual interface's state stay in GICH from its start to its stop,
 * when everything is cleared (and every forwarded interrupt still active deactivated), so
 * nothing of a stopped domain is left for the next one.
 */
#include <arch/guest.h>
#include <arch/machine.h>
#include <arch/p2m.h>
#include <asm/gic.h>
#include <asm/smp.h>
#include <asm/sysregs.h>
#include <asm/traps.h>
#include <domain/domain.h>
#include <domain/vcpu.h>
#include <domain/vgic.h>
#include <inttypes.h>
#include <lib/errno.h>
#include <lib/lib.h>
#include <libfdt.h>
#include <mm/domain_page.h>
#include <mm/mm.h>
#include <mm/vmap.h>

/* CPU interface */
#define GICC_CTLR       0x0000
#define GICC_PMR        0x0004
#define GICC_IAR        0x000c
#define GICC_EOIR       0x0010
#define GICC_DIR        0x1000
#define GICC_CTLR_EN    0x3u            /* EnableGrp0 | EnableGrp1 */
#define GICC_CTLR_EOIMODE (1u << 9)     /* EOImode (EOImodeNS in the Non-secure view) */
#define GICC_MAP_SIZE   0x2000
/* Hypervisor interface */
#define GICH_HCR        0x000
#define GICH_VTR        0x004
#define GICH_VMCR       0x008
#define GICH_ELRSR0     0x030
#define GICH_APR        0x0f0
#define GICH_LR(n)      (0x100 + 4 * (n))
#define GICH_HCR_EN     (1u << 0)
#define GICH_HCR_UIE    (1u << 1)
#define LR_HW           (1u << 31)
#define LR_PENDING      (1u << 28)
#define LR_STATE        (3u << 28)
#define LR_PRIORITY(p)  (((uint32_t)(p) >> 3) << 23)
#define LR_PHYS(id)     ((uint32_t)(id) << 10)
#define LR_CPUID(cpu)   ((uint32_t)(cpu) << 10)
#define LR_SGI_KEY      (0x7u << 10 | 0x3ffu)   /* CPUID and virtual ID */
/* Distributor */
#define GICD_CTLR       0x000
#define GICD_ISENABLER  0x100
#define GICD_ICENABLER  0x180
#define GICD_ISPENDR    0x200
#define GICD_IPRIORITYR 0x400
#define GICD_SPENDSGIR  0xf20

#define HYP_PRIORITY    0x00            /* the hypervisor's interrupts outrank the guest's */
#define PMR_ALL         0xff
#define CNTHP_CTL_ENABLE 1u
#define SPURIOUS        1020            /* IDs 1020-1023 are no interrupt */

static volatile uint8_t *gicd, *gicc, *gich;
static unsigned int nr_lrs;
static unsigned int maintenance_irq, hyp_timer_irq;
static uint32_t timer_freq;

static uint32_t rd(volatile uint8_t *base, uint32_t off)
{
    return *(volatile uint32_t *)(base + off);
}

static void wr(volatile uint8_t *base, uint32_t off, uint32_t v)
{
    *(volatile uint32_t *)(base + off) = v;
}

static uint32_t gicd_read(void *ctx, uint32_t off, unsigned int size)
{
    (void)ctx;
    return size == 1 ? *(volatile uint8_t *)(gicd + off) : rd(gicd, off);
}

static void gicd_write(void *ctx, uint32_t off, unsigned int size, uint32_t v)
{
    (void)ctx;
    if (size == 1)
        *(volatile uint8_t *)(gicd + off) = (uint8_t)v;
    else
        wr(gicd, off, v);
}

static const struct gicd_ops gicd_hw = { gicd_read, gicd_write, NULL };

/* A PPI number from the first cell pair of an "interrupts" entry (<type number flags>). */
static bool ppi_of(const void *fdt, int node, unsigned int entry, unsigned int *id)
{
    int len;
    const fdt32_t *v = fdt_getprop(fdt, node, "interrupts", &len);

    if (!v || len < (int)(12 * (entry + 1)) || fdt32_ld(&v[3 * entry]) != 1)
        return false;
    *id = 16 + fdt32_ld(&v[3 * entry + 1]);
    return *id < 32;
}

/*
 * reg entry i of the GIC, a child of the root as on every board this runs on (and as
 * make_guest_dt passes it through): under a bus its address would need that bus's ranges,
 * so such a GIC is refused by the caller rather than read in the wrong cells.
 */
static bool reg_of(const void *fdt, int node, unsigned int i, uint64_t *base)
{
    int len, a = fdt_address_cells(fdt, 0), s = fdt_size_cells(fdt, 0);
    const fdt32_t *v = fdt_getprop(fdt, node, "reg", &len);

    if (fdt_parent_offset(fdt, node) != 0 || !v || a < 1 || a > 2 || s < 1 || s > 2 ||
        len < 4 * (a + s) * (int)(i + 1))
        return false;
    v += i * (unsigned int)(a + s);
    *base = a == 2 ? (uint64_t)fdt32_ld(&v[0]) << 32 | fdt32_ld(&v[1]) : fdt32_ld(&v[0]);
    return true;
}

bool gic_init(const void *fdt)
{
    int node = fdt_node_offset_by_compatible(fdt, -1, "arm,cortex-a15-gic");
    int timer = fdt_node_offset_by_compatible(fdt, -1, "arm,armv7-timer");
    uint64_t d, c, h;

    if (node < 0)
        node = fdt_node_offset_by_compatible(fdt, -1, "arm,gic-400");
    if (node < 0 || timer < 0 || !reg_of(fdt, node, 0, &d) || !reg_of(fdt, node, 1, &c) ||
        !reg_of(fdt, node, 2, &h) || !ppi_of(fdt, node, 0, &maintenance_irq) ||
        !ppi_of(fdt, timer, 3, &hyp_timer_irq)) {
        printk("gic: the tree has no GICv2 at its root with a hypervisor interface (reg "
               "entry 2) and its maintenance interrupt, or no timer with a Hyp timer PPI: no "
               "domain can be given the GIC\n");
        return false;
    }
    gicd = ioremap(d, PAGE_SIZE);
    gicc = ioremap(c, GICC_MAP_SIZE);
    gich = ioremap(h, PAGE_SIZE);
    if (!gicd || !gicc || !gich)
        panic("gic: cannot map the GIC (distributor 0x%llx, CPU interface 0x%llx, "
              "hypervisor interface 0x%llx)", (unsigned long long)d, (unsigned long long)c,
              (unsigned long long)h);
    nr_lrs = (rd(gich, GICH_VTR) & 0x3f) + 1;
    /*
     * The underflow interrupt that undoes a deferral fires when at most one list register
     * is in use: with a single one it would fire at once, again and again.
     */
    if (nr_lrs < 2) {
        printk("gic: the hypervisor interface has %u list register(s), 2 are needed: no "
               "domain can be given the GIC\n", nr_lrs);
        iounmap((void *)gicd);
        iounmap((void *)gicc);
        iounmap((void *)gich);
        gicd = gicc = gich = NULL;
        return false;
    }
    timer_freq = READ_CP32(CNTFRQ);
    /* Both groups on: the guest's GICD_CTLR is its own (domain/vgic.h). */
    wr(gicd, GICD_CTLR, 3);
    printk("gic: GICv2 at 0x%llx, hypervisor interface at 0x%llx, %u list registers; "
           "kept: maintenance interrupt %u, Hyp timer %u\n", (unsigned long long)d,
           (unsigned long long)h, nr_lrs, maintenance_irq, hyp_timer_irq);
    return true;
}

uint32_t arch_gic_kept(void)
{
    return gicd ? (1u << maintenance_irq) | (1u << hyp_timer_irq) : 0;
}

static void arm_tick(void)
{
    WRITE_CP32(timer_freq, CNTHP_TVAL);     /* one second from now */
    WRITE_CP32(CNTHP_CTL_ENABLE, CNTHP_CTL);
    isb();
}

void gic_vcpu_start(struct vcpu *v)
{
    struct domain *d = v->domain;

    if (!gicd)
        panic("gic: d%u's VCPU %u was given the GIC, but there is none", d->domain_id,
              v->vcpu_id);
    if (v->vcpu_id == 0 && !d->started_at)
        d->started_at = READ_CP64(CNTPCT);
    for (unsigned int i = 0; i < nr_lrs; i++)
        wr(gich, GICH_LR(i), 0);
    wr(gich, GICH_APR, 0);
    wr(gich, GICH_VMCR, 0);
    wr(gich, GICH_HCR, GICH_HCR_EN);
    /* The banked PPIs of this CPU: the hypervisor's two, at its priority. */
    *(volatile uint8_t *)(gicd + GICD_IPRIORITYR + maintenance_irq) = HYP_PRIORITY;
    *(volatile uint8_t *)(gicd + GICD_IPRIORITYR + hyp_timer_irq) = HYP_PRIORITY;
    wr(gicd, GICD_ISENABLER, (1u << maintenance_irq) | (1u << hyp_timer_irq));
    wr(gicc, GICC_PMR, PMR_ALL);
    wr(gicc, GICC_CTLR, GICC_CTLR_EN | GICC_CTLR_EOIMODE);
    dsb(sy);
    arm_tick();
}

void gic_vcpu_stop(struct vcpu *v)
{
    (void)v;
    WRITE_CP32(0, CNTHP_CTL);
    isb();
    /* A forwarded interrupt the guest did not end would stay active for good. */
    for (unsigned int i = 0; i < nr_lrs; i++) {
        uint32_t lr = rd(gich, GICH_LR(i));

        if ((lr & LR_HW) && (lr & LR_STATE))
            wr(gicc, GICC_DIR, (lr >> 10) & 0x3ff);
        wr(gich, GICH_LR(i), 0);
    }
    wr(gich, GICH_APR, 0);
    wr(gich, GICH_VMCR, 0);
    wr(gich, GICH_HCR, 0);
    wr(gicd, GICD_ICENABLER, (1u << maintenance_irq) | (1u << hyp_timer_irq));
    /* No interrupt is signalled to this CPU until the next domain given the GIC. */
    wr(gicc, GICC_CTLR, 0);
    wr(gicc, GICC_PMR, PMR_ALL);
    dsb(sy);
}

/* The halfword of v's code at guest VA va (its own translation), or false if unreadable. */
static bool guest_code16(struct vcpu *v, uint32_t va, uint16_t *h)
{
    paddr_t ma;
    const uint8_t *page;

    if (gvirt_to_maddr(v->domain, va, &ma, GV2M_READ))
        return false;
    page = map_domain_page(paddr_to_mfn(ma));
    *h = *(const uint16_t *)(page + (ma & (PAGE_SIZE - 1)));
    unmap_domain_page(page);
    return true;
}

/*
 * Whether v waits in a WFI: an interrupt that wakes a WFI returns to the instruction after
 * it (ARM ARM B1.8.3), so the instruction before v's PC is the WFI. A32 WFI is cond 0x0320f003,
 * T32 0xbf30 (16 bits) or 0xf3af 0x8003 (32 bits).
 */
static bool in_wfi(struct vcpu *v)
{
    uint32_t pc = v->regs.pc;
    uint16_t lo, hi;

    if (pc < 4 || !guest_code16(v, pc - 2, &hi))
        return false;
    if (v->regs.cpsr & PSR_THUMB)
        return hi == 0xbf30 || (hi == 0x8003 && guest_code16(v, pc - 4, &lo) && lo == 0xf3af);
    return guest_code16(v, pc - 4, &lo) && ((((uint32_t)hi << 16) | lo) & 0x0fffffffu) == 0x0320f003u;
}

/* The watchdog's tick: a note of where v is, and the end of a domain out of time. */
static bool tick(struct vcpu *v)
{
    struct domain *d = v->domain;
    uint64_t now = READ_CP64(CNTPCT);

    vcpu_note_tick(&v->notes, now, v->regs.pc, v->regs.cpsr, in_wfi(v));
    if (!d->watchdog_seconds || now - d->started_at < (uint64_t)d->watchdog_seconds * timer_freq)
        return true;
    if (!__atomic_exchange_n(&d->watchdog_fired, true, __ATOMIC_ACQ_REL)) {
        printk("d%u: no verdict %u s after its start (the watchdog's limit); what its VCPUs "
               "did last:\n", d->domain_id, d->watchdog_seconds);
        vgic_watchdog_report(d, d->started_at, timer_freq);
        domain_shutdown(d, SHUTDOWN_watchdog);
    }
    return false;
}

/* No list register is free: the interrupt comes back once the guest has ended some. */
static void defer(uint32_t iar)
{
    uint32_t id = iar & 0x3ff;

    if (id < 16) {
        *(volatile uint8_t *)(gicd + GICD_SPENDSGIR + id) = (uint8_t)(1u << ((iar >> 10) & 7));
    } else {
        wr(gicd, GICD_ISPENDR + 4 * (id / 32), 1u << (id % 32));
        dsb(sy);
        wr(gicc, GICC_DIR, iar);
    }
    wr(gicc, GICC_PMR, GIC_GUEST_MIN_PRIORITY);
    wr(gich, GICH_HCR, GICH_HCR_EN | GICH_HCR_UIE);
}

/* Puts the acknowledged (priority-dropped) interrupt iar in a list register for v. */
static void forward(struct vcpu *v, uint32_t iar)
{
    uint32_t id = iar & 0x3ff, lr, free;
    uint32_t priority = *(volatile uint8_t *)(gicd + GICD_IPRIORITYR + id);

    if (id < 16) {
        unsigned int source = (iar >> 10) & 7;

        wr(gicc, GICC_DIR, iar);
        lr = LR_PENDING | LR_PRIORITY(priority) |
             LR_CPUID(source - min(source, v->domain->vgic.first_cpu)) | id;
        for (unsigned int i = 0; i < nr_lrs; i++) {
            uint32_t cur = rd(gich, GICH_LR(i));

            if ((cur & LR_STATE) && !(cur & LR_HW) && (cur & LR_SGI_KEY) == (lr & LR_SGI_KEY)) {
                if (!(cur & LR_PENDING))
                    wr(gich, GICH_LR(i), cur | LR_PENDING);
                return;
            }
        }
    } else {
        lr = LR_HW | LR_PENDING | LR_PRIORITY(priority) | LR_PHYS(id) | id;
    }
    free = rd(gich, GICH_ELRSR0) & (nr_lrs == 32 ? ~0u : (1u << nr_lrs) - 1);
    if (!free) {
        defer(iar);
        return;
    }
    wr(gich, GICH_LR(__builtin_ctz(free)), lr);
}

bool gic_handle_irq(struct vcpu *v)
{
    for (;;) {
        uint32_t iar = rd(gicc, GICC_IAR), id = iar & 0x3ff;

        if (id >= SPURIOUS)
            break;
        wr(gicc, GICC_EOIR, iar);           /* priority drop only (EOImode 1) */
        if (id == hyp_timer_irq) {
            arm_tick();                     /* the timer's output falls before deactivation */
            wr(gicc, GICC_DIR, iar);
            if (!tick(v))
                return false;
        } else if (id == maintenance_irq) {
            /* Underflow: the list registers have room again, guest interrupts may come. */
            wr(gich, GICH_HCR, GICH_HCR_EN);
            wr(gicc, GICC_PMR, PMR_ALL);
            dsb(sy);
            wr(gicc, GICC_DIR, iar);
        } else {
            vcpu_note_exit(&v->notes, READ_CP64(CNTPCT), v->regs.pc, v->regs.cpsr,
                           VCPU_NOTE_IRQ | id);
            forward(v, iar);
        }
    }
    /* The list register writes are seen by the virtual interface before the guest runs. */
    dsb(sy);
    return true;
}

int gic_dist_trap(struct vcpu *v, uint32_t hsr, paddr_t ipa)
{
    struct vgic_dist *vd = &v->domain->vgic;
    struct mmio_access a;
    uint32_t value = 0;
    int rc;

    if (!v->domain->given_gic || ipa < vd->base || ipa - vd->base >= vd->size)
        return 0;
    rc = mmio_decode(hsr, &a);
    if (rc) {
        printk("d%uv%u: distributor access at IPA 0x%llx by PC 0x%08" PRIx32 " (HSR 0x%08"
               PRIx32 ") %s: injecting an external abort\n", v->domain->domain_id,
               v->vcpu_id, (unsigned long long)ipa, v->regs.pc, hsr,
               rc == -ERANGE ? "transfers the PC" :
                               "is no single load or store the syndrome describes");
        return -1;
    }
    if (a.write && !guest_reg_access(v, a.reg, false, &value))
        goto unreachable;
    if (vgic_dist_access(vd, &gicd_hw, v->vcpu_id, (uint32_t)(ipa - vd->base), a.size,
                         a.write, &value)) {
        printk("d%uv%u: %s of %u bytes at distributor offset 0x%llx by PC 0x%08" PRIx32
               ": the GICv2 defines no such access; injecting an external abort\n",
               v->domain->domain_id, v->vcpu_id, a.write ? "write" : "read", a.size,
               (unsigned long long)(ipa - vd->base), v->regs.pc);
        return -1;
    }
    value = mmio_extend(&a, value);
    if (!a.write && !guest_reg_access(v, a.reg, true, &value))
        goto unreachable;
    return 1;
unreachable:
    printk("d%uv%u: distributor access by PC 0x%08" PRIx32 " through r%u in mode 0x%02" PRIx32
           ", a register this cannot reach: injecting an external abort\n",
           v->domain->domain_id, v->vcpu_id, v->regs.pc, a.reg, v->regs.cpsr & 0x1f);
    return -1;
}
