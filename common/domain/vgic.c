/*
 * The GICv2 distributor as a domain given the GIC sees it, and the two small pieces that
 * go with trapping it: the decoding of a trapped access and the record of a VCPU's last
 * moments for the watchdog (include/domain/vgic.h).
 *
 * Why filter the real distributor rather than emulate one: the domain owns every device
 * interrupt, so almost every register it writes must reach the hardware anyway; what it
 * must not do is change the few interrupts the hypervisor keeps for itself (its timer, the
 * GIC's maintenance interrupt), which Linux would otherwise disable at boot (it writes
 * ICENABLER0 for every PPI). So each access goes to the hardware with those bits taken
 * out, a few registers are the guest's own (CTLR) or hidden (groups, security), and CPU
 * numbers are translated, because VCPU n runs on physical CPU first_cpu + n.
 *
 * Register offsets and access sizes: GICv2 architecture specification, 4.1 and 4.3.
 */
#include <domain/domain.h>
#include <domain/vcpu.h>
#include <domain/vgic.h>
#include <inttypes.h>
#include <lib/errno.h>
#include <lib/lib.h>

/* HSR ISS of a data abort (ARM ARM B3.13.6). */
#define HSR_IL          (1u << 25)
#define ISS_ISV         (1u << 24)
#define ISS_SAS(hsr)    (((hsr) >> 22) & 3)
#define ISS_SSE         (1u << 21)
#define ISS_SRT(hsr)    (((hsr) >> 16) & 0xf)
#define ISS_CM          (1u << 8)
#define ISS_S1PTW       (1u << 7)
#define ISS_WNR         (1u << 6)

int mmio_decode(uint32_t hsr, struct mmio_access *a)
{
    if (!(hsr & ISS_ISV) || (hsr & (ISS_CM | ISS_S1PTW)) || ISS_SAS(hsr) == 3)
        return -EINVAL;
    if (ISS_SRT(hsr) == 15)
        return -ERANGE;
    a->write = hsr & ISS_WNR;
    a->size = 1u << ISS_SAS(hsr);
    a->reg = ISS_SRT(hsr);
    a->sign_extend = !a->write && (hsr & ISS_SSE);
    a->insn_len = (hsr & HSR_IL) ? 4 : 2;
    return 0;
}

uint32_t mmio_extend(const struct mmio_access *a, uint32_t value)
{
    unsigned int bits = 8 * a->size;
    uint32_t mask = bits == 32 ? ~0u : (1u << bits) - 1;

    value &= mask;
    if (a->sign_extend && bits < 32 && (value >> (bits - 1)))
        value |= ~mask;
    return value;
}

/* ---------------------------------------------------------------- distributor */

#define GICD_CTLR       0x000
#define GICD_TYPER      0x004
#define GICD_IIDR       0x008
#define GICD_IGROUPR    0x080
#define GICD_ISENABLER  0x100
#define GICD_ICACTIVER_END 0x400    /* ISENABLER..ICACTIVER: six banks of bits */
#define GICD_IPRIORITYR 0x400
#define GICD_ITARGETSR  0x800
#define GICD_ICFGR      0xc00
#define GICD_PPISR      0xd00       /* implementation defined from here to SGIR */
#define GICD_SGIR       0xf00
#define GICD_CPENDSGIR  0xf10
#define GICD_SPENDSGIR_END 0xf30
#define GICD_ID         0xfd0       /* PIDR/CIDR up to 0xfff */

#define TYPER_CPUS_SHIFT 5
#define TYPER_CPUS_MASK (7u << TYPER_CPUS_SHIFT)
#define SGIR_FILTER(v)  (((v) >> 24) & 3)
#define SGIR_TARGETS(v) (((v) >> 16) & 0xff)

/* Physical CPU mask <-> VCPU mask (one byte), for a domain whose VCPUs start at first_cpu. */
static uint32_t to_vcpus(const struct vgic_dist *vd, uint32_t pcpus)
{
    return (pcpus >> vd->first_cpu) & ((1u << vd->nr_vcpus) - 1);
}

static uint32_t to_pcpus(const struct vgic_dist *vd, uint32_t vcpus)
{
    return ((vcpus & ((1u << vd->nr_vcpus) - 1)) << vd->first_cpu) & 0xff;
}

/* The byte-per-interrupt registers, one byte at a time (priorities and targets). */
static void byte_access(struct vgic_dist *vd, const struct gicd_ops *hw, uint32_t offset,
                        bool write, uint8_t *byte)
{
    bool priority = offset < GICD_ITARGETSR;
    uint32_t id = offset - (priority ? GICD_IPRIORITYR : GICD_ITARGETSR);

    if (id < 32 && (vd->kept & (1u << id))) {
        if (!write)
            *byte = 0;
        return;
    }
    if (priority) {
        if (write)
            hw->write(hw->ctx, offset, 1, max(*byte, (uint8_t)GIC_GUEST_MIN_PRIORITY));
        else
            *byte = (uint8_t)hw->read(hw->ctx, offset, 1);
    } else if (!write) {
        *byte = (uint8_t)to_vcpus(vd, hw->read(hw->ctx, offset, 1));
    } else if (id >= 32) {                      /* SGI and PPI targets are read-only */
        hw->write(hw->ctx, offset, 1, to_pcpus(vd, *byte));
    }
}

/* SGIR: the guest names VCPUs; the hardware gets the physical CPUs they run on. */
static void send_sgi(const struct vgic_dist *vd, const struct gicd_ops *hw,
                     unsigned int vcpu_id, uint32_t value)
{
    uint32_t targets;

    switch (SGIR_FILTER(value)) {
    case 0:
        targets = to_pcpus(vd, SGIR_TARGETS(value));
        break;
    case 1:                                     /* every other CPU of the domain */
        targets = to_pcpus(vd, ~(1u << vcpu_id));
        break;
    case 2:                                     /* this CPU: the same physically */
        hw->write(hw->ctx, GICD_SGIR, 4, (2u << 24) | (value & 0xf));
        return;
    default:                                    /* reserved: nothing is sent */
        return;
    }
    if (targets)
        hw->write(hw->ctx, GICD_SGIR, 4, (targets << 16) | (value & 0xf));
}

static bool byte_register(uint32_t offset)
{
    return (offset >= GICD_IPRIORITYR && offset < GICD_ICFGR) ||
           (offset >= GICD_CPENDSGIR && offset < GICD_SPENDSGIR_END);
}

int vgic_dist_access(struct vgic_dist *vd, const struct gicd_ops *hw, unsigned int vcpu_id,
                     uint32_t offset, unsigned int size, bool write, uint32_t *value)
{
    uint32_t v = write ? *value : 0;

    if ((size != 4 && size != 1) || offset % size || offset > UINT32_MAX - size ||
        (size == 1 && !byte_register(offset)))
        return -EINVAL;
    if (offset >= GICD_SIZE) {
        /* The rest of the window the tree gives: reserved, read as zero. */
    } else if (offset == GICD_CTLR) {
        if (write)
            vd->ctlr = v & 3;                   /* EnableGrp0, EnableGrp1 */
        v = vd->ctlr;
    } else if (offset == GICD_TYPER) {
        v = (hw->read(hw->ctx, offset, 4) & ~TYPER_CPUS_MASK) |
            ((vd->nr_vcpus - 1) << TYPER_CPUS_SHIFT);
    } else if (offset == GICD_IIDR || offset >= GICD_ID) {
        if (!write)
            v = hw->read(hw->ctx, offset, 4);
    } else if (offset >= GICD_IGROUPR && offset < GICD_ISENABLER) {
        v = 0;                                  /* every interrupt stays in group 0 */
    } else if (offset >= GICD_ISENABLER && offset < GICD_ICACTIVER_END) {
        /* Set-enable ... clear-active: one bit an interrupt, writing 0 changes nothing. */
        uint32_t mine = (offset & 0x7f) == 0 ? ~vd->kept : ~0u;

        if (write)
            hw->write(hw->ctx, offset, 4, v & mine);
        else
            v = hw->read(hw->ctx, offset, 4) & mine;
    } else if (offset >= GICD_IPRIORITYR && offset < GICD_ICFGR) {
        uint8_t bytes[4];

        for (unsigned int i = 0; i < size; i++) {
            bytes[i] = (uint8_t)(v >> (8 * i));
            byte_access(vd, hw, offset + i, write, &bytes[i]);
        }
        if (!write) {
            v = 0;
            for (unsigned int i = 0; i < size; i++)
                v |= (uint32_t)bytes[i] << (8 * i);
        }
    } else if (offset >= GICD_ICFGR && offset < GICD_PPISR) {
        /* Two bits an interrupt; ICFGR0 (SGIs) is read-only, ICFGR1 holds the kept PPIs. */
        uint32_t keep = 0;

        if (offset == GICD_ICFGR + 4)
            for (unsigned int id = 16; id < 32; id++)
                if (vd->kept & (1u << id))
                    keep |= 3u << (2 * (id - 16));
        if (write && offset != GICD_ICFGR)
            hw->write(hw->ctx, offset, 4, (v & ~keep) | (hw->read(hw->ctx, offset, 4) & keep));
        else if (!write)
            v = hw->read(hw->ctx, offset, 4) & ~keep;
    } else if (offset == GICD_SGIR) {
        if (write)
            send_sgi(vd, hw, vcpu_id, v);
        v = 0;                                  /* write-only */
    } else {
        /*
         * Reserved and implementation-defined space, and the SGI pending bits (CPENDSGIR,
         * SPENDSGIR): an SGI's pending state lives in the list registers here, where these
         * could not reach it.
         */
        v = 0;
    }
    if (!write)
        *value = v;
    return 0;
}

/* ---------------------------------------------------------------- watchdog record */

static void note(struct vcpu_note *ring, unsigned int *count, uint64_t time, uint32_t pc,
                 uint32_t cpsr, uint32_t what)
{
    struct vcpu_note *n = &ring[*count % VCPU_NOTES];

    n->time = time;
    n->pc = pc;
    n->cpsr = cpsr;
    n->what = what;
    (*count)++;
}

void vcpu_note_exit(struct vcpu_notes *n, uint64_t time, uint32_t pc, uint32_t cpsr,
                    uint32_t what)
{
    note(n->exit, &n->nr_exits, time, pc, cpsr, what);
}

void vcpu_note_tick(struct vcpu_notes *n, uint64_t time, uint32_t pc, uint32_t cpsr,
                    bool in_wfi)
{
    note(n->tick, &n->nr_ticks, time, pc, cpsr, in_wfi ? VCPU_NOTE_WFI : 0);
}

static unsigned long long ms_since(uint64_t time, uint64_t start, uint32_t freq)
{
    return time < start ? 0 : (unsigned long long)((time - start) / (freq / 1000 ? freq / 1000 : 1));
}

static void describe_exit(const struct vcpu_note *n, char *buf, size_t size)
{
    if (n->what & VCPU_NOTE_IRQ)
        fmt_snprintf(buf, size, "interrupt %" PRIu32, n->what & ~VCPU_NOTE_IRQ);
    else
        fmt_snprintf(buf, size, "trap EC 0x%02" PRIx32 " (HSR 0x%08" PRIx32 ")", n->what >> 26,
                     n->what);
}

void vgic_watchdog_report(struct domain *d, uint64_t start, uint32_t freq)
{
    for (unsigned int i = 0; i < d->max_vcpus; i++) {
        const struct vcpu_notes *n = &d->vcpu[i]->notes;
        unsigned int first, moved = 0, masked = 0, waiting = 0, ticks;
        char what[48];

        if (!n->nr_exits && !n->nr_ticks) {
            printk("d%uv%u: never ran\n", d->domain_id, i);
            continue;
        }
        first = n->nr_exits > VCPU_NOTES ? n->nr_exits - VCPU_NOTES : 0;
        printk("d%uv%u: %u exits; the last:\n", d->domain_id, i, n->nr_exits);
        for (unsigned int k = first; k < n->nr_exits; k++) {
            const struct vcpu_note *e = &n->exit[k % VCPU_NOTES];

            describe_exit(e, what, sizeof(what));
            printk("d%uv%u:   at %llu ms: %s, PC 0x%08" PRIx32 ", CPSR 0x%08" PRIx32 "\n",
                   d->domain_id, i, ms_since(e->time, start, freq), what, e->pc, e->cpsr);
        }
        first = n->nr_ticks > VCPU_NOTES ? n->nr_ticks - VCPU_NOTES : 0;
        ticks = n->nr_ticks - first;
        for (unsigned int k = first; k < n->nr_ticks; k++) {
            const struct vcpu_note *t = &n->tick[k % VCPU_NOTES];

            printk("d%uv%u:   tick at %llu ms: PC 0x%08" PRIx32 ", CPSR 0x%08" PRIx32 "%s%s\n",
                   d->domain_id, i, ms_since(t->time, start, freq), t->pc, t->cpsr,
                   (t->cpsr & (1u << 7)) ? " (IRQs masked)" : "",
                   (t->what & VCPU_NOTE_WFI) ? " (in a WFI)" : "");
            if (t->what & VCPU_NOTE_WFI)
                waiting++;
            if (k > first && t->pc != n->tick[(k - 1) % VCPU_NOTES].pc)
                moved++;
            if (t->cpsr & (1u << 7))
                masked++;
        }
        if (ticks >= 2)
            printk("d%uv%u: over its last %u ticks its PC %s%s%s\n", d->domain_id, i, ticks,
                   moved ? "moved (it runs, without giving a verdict)" : "stayed put",
                   masked == ticks ? ", with IRQs masked at every tick" : "",
                   waiting == ticks ? ", waiting in a WFI at every tick" : "");
    }
}
