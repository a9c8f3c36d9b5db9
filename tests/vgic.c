/*
 * Tests of the trapped-MMIO decoder and the distributor filter (common/domain/vgic.c), on
 * the host and in the image: syndromes built field by field from the ARM ARM's layout
 * (B3.13.6), and a fake distributor that records every access the filter lets through.
 */
#include <domain/vgic.h>
#include <lib/errno.h>
#include <string.h>
#include <test/selftest.h>

/* A data abort's HSR: EC 0x24, then IL, ISV, SAS, SSE, SRT, WnR, and a translation fault. */
static uint32_t dabt_hsr(bool il, bool isv, unsigned int sas, bool sse, unsigned int srt,
                         bool wnr)
{
    return (0x24u << 26) | ((uint32_t)il << 25) | ((uint32_t)isv << 24) | (sas << 22) |
           ((uint32_t)sse << 21) | (srt << 16) | ((uint32_t)wnr << 6) | 0x07u;
}

SELFTEST(vgic, mmio_decode_fields)
{
    struct mmio_access a;

    /* STR r3, 32-bit instruction */
    EXPECT_EQ(mmio_decode(dabt_hsr(true, true, 2, false, 3, true), &a), 0);
    EXPECT(a.write);
    EXPECT_EQ(a.size, 4);
    EXPECT_EQ(a.reg, 3);
    EXPECT_EQ(a.insn_len, 4);
    EXPECT(!a.sign_extend);
    /* LDRSB r12, 16-bit (Thumb) */
    EXPECT_EQ(mmio_decode(dabt_hsr(false, true, 0, true, 12, false), &a), 0);
    EXPECT(!a.write);
    EXPECT_EQ(a.size, 1);
    EXPECT_EQ(a.reg, 12);
    EXPECT_EQ(a.insn_len, 2);
    EXPECT(a.sign_extend);
    /* LDRH lr: SP and LR are the guest mode's own, reached by the caller */
    EXPECT_EQ(mmio_decode(dabt_hsr(true, true, 1, false, 14, false), &a), 0);
    EXPECT_EQ(a.size, 2);
    EXPECT_EQ(a.reg, 14);
    /* Linux's first distributor access under hypmem: HSR 0x938e0047, a word written from LR */
    EXPECT_EQ(mmio_decode(0x938e0047u, &a), 0);
    EXPECT(a.write);
    EXPECT_EQ(a.size, 4);
    EXPECT_EQ(a.reg, 14);
}

SELFTEST(vgic, mmio_decode_refusals)
{
    struct mmio_access a;

    EXPECT_EQ(mmio_decode(dabt_hsr(true, false, 2, false, 3, true), &a), -EINVAL);  /* no ISV */
    EXPECT_EQ(mmio_decode(dabt_hsr(true, true, 3, false, 3, true), &a), -EINVAL);   /* 64-bit */
    EXPECT_EQ(mmio_decode(dabt_hsr(true, true, 2, false, 15, false), &a), -ERANGE); /* PC */
    EXPECT_EQ(mmio_decode(dabt_hsr(true, true, 2, false, 3, true) | (1u << 8), &a), -EINVAL);
    EXPECT_EQ(mmio_decode(dabt_hsr(true, true, 2, false, 3, false) | (1u << 7), &a), -EINVAL);
}

SELFTEST(vgic, mmio_extend)
{
    struct mmio_access a = { .size = 1, .sign_extend = true };

    EXPECT_EQ(mmio_extend(&a, 0x1280), 0xffffff80u);
    EXPECT_EQ(mmio_extend(&a, 0x127f), 0x7fu);
    a.sign_extend = false;
    EXPECT_EQ(mmio_extend(&a, 0x1280), 0x80u);
    a.size = 2;
    a.sign_extend = true;
    EXPECT_EQ(mmio_extend(&a, 0xabcd8001u), 0xffff8001u);
    a.size = 4;
    EXPECT_EQ(mmio_extend(&a, 0x80000001u), 0x80000001u);
}

/* The fake distributor: 4 KiB of registers, and the last write that reached it. */
struct fake_gicd {
    uint8_t regs[GICD_SIZE];
    unsigned int writes;
    uint32_t last_offset, last_value;
    unsigned int last_size;
};

static uint32_t fake_read(void *ctx, uint32_t off, unsigned int size)
{
    struct fake_gicd *f = ctx;
    uint32_t v = 0;

    memcpy(&v, &f->regs[off], size);        /* little-endian, as the GIC */
    return v;
}

static void fake_write(void *ctx, uint32_t off, unsigned int size, uint32_t v)
{
    struct fake_gicd *f = ctx;

    f->writes++;
    f->last_offset = off;
    f->last_size = size;
    f->last_value = v;
    memcpy(&f->regs[off], &v, size);
}

static struct fake_gicd fake;
static const struct gicd_ops fake_ops = { fake_read, fake_write, &fake };

/* Two VCPUs on CPUs 1 and 2; the hypervisor keeps PPIs 25 and 26. */
static struct vgic_dist setup(void)
{
    struct vgic_dist vd = { .kept = (1u << 25) | (1u << 26), .first_cpu = 1, .nr_vcpus = 2 };

    memset(&fake, 0, sizeof(fake));
    return vd;
}

static uint32_t rd(struct vgic_dist *vd, uint32_t off, unsigned int size)
{
    uint32_t v = 0xdeadbeef;

    EXPECT_EQ(vgic_dist_access(vd, &fake_ops, 0, off, size, false, &v), 0);
    return v;
}

static void wr(struct vgic_dist *vd, unsigned int vcpu, uint32_t off, unsigned int size,
               uint32_t v)
{
    EXPECT_EQ(vgic_dist_access(vd, &fake_ops, vcpu, off, size, true, &v), 0);
}

SELFTEST(vgic, dist_keeps_the_hypervisors_ppis)
{
    struct vgic_dist vd = setup();

    /* Linux's boot: disable every PPI and SGI, clear their pending and active state. */
    wr(&vd, 0, 0x180, 4, 0xffffffffu);
    EXPECT_EQ(fake.last_value, 0xf9ffffffu);
    wr(&vd, 0, 0x280, 4, 0xffffffffu);
    EXPECT_EQ(fake.last_value, 0xf9ffffffu);
    wr(&vd, 0, 0x380, 4, 0xffffffffu);
    EXPECT_EQ(fake.last_value, 0xf9ffffffu);
    /* Another bank (SPIs 32-63) goes through whole. */
    wr(&vd, 0, 0x184, 4, 0xffffffffu);
    EXPECT_EQ(fake.last_value, 0xffffffffu);
    /* Reads do not show the kept bits. */
    memset(&fake.regs[0x100], 0xff, 4);
    EXPECT_EQ(rd(&vd, 0x100, 4), 0xf9ffffffu);
    /* Priorities: word 6 holds IDs 24-27; 25 and 26 are left alone, the rest raised. */
    memset(&fake.regs[0x418], 0x00, 4);
    fake.writes = 0;
    wr(&vd, 0, 0x418, 4, 0x10a0a020u);
    EXPECT_EQ(fake.regs[0x418], 0x80);      /* 0x20 raised to the guests' highest */
    EXPECT_EQ(fake.regs[0x419], 0x00);
    EXPECT_EQ(fake.regs[0x41a], 0x00);
    EXPECT_EQ(fake.regs[0x41b], 0x80);
    EXPECT_EQ(fake.writes, 2);
    EXPECT_EQ(rd(&vd, 0x419, 1), 0);
    EXPECT_EQ(rd(&vd, 0x418, 4), 0x80000080u);
    /* Configuration: ICFGR1's fields for 25 and 26 keep their value. */
    memset(&fake.regs[0xc04], 0, 4);
    fake.regs[0xc07] = 0x3c;                /* bits 28-29 (ID 30): not kept */
    wr(&vd, 0, 0xc04, 4, 0xffffffffu);
    EXPECT_EQ(fake.last_value, 0xffffffffu & ~(0xfu << 18));
    /* ICFGR0 (SGIs) is read-only: no write reaches the hardware. */
    fake.writes = 0;
    wr(&vd, 0, 0xc00, 4, 0);
    EXPECT_EQ(fake.writes, 0);
}

SELFTEST(vgic, dist_translates_cpus)
{
    struct vgic_dist vd = setup();

    /* TYPER: as many CPU interfaces as VCPUs. */
    fake.regs[0x004] = 0xe0 | 0x1f;         /* 8 CPUs, 1024 interrupts */
    EXPECT_EQ(rd(&vd, 0x004, 4), 0x20u | 0x1f);
    /* A VCPU reading its own target byte (on physical CPU 1): VCPU 0's bit. */
    fake.regs[0x800] = 1u << 1;
    EXPECT_EQ(rd(&vd, 0x800, 1), 1u);
    /* SPI 32 to VCPU 1: physical CPU 2. */
    wr(&vd, 0, 0x820, 1, 1u << 1);
    EXPECT_EQ(fake.last_value, 1u << 2);
    EXPECT_EQ(rd(&vd, 0x820, 1), 1u << 1);
    /* SGIs: a list, every other VCPU, self. */
    wr(&vd, 0, 0xf00, 4, (0u << 24) | (3u << 16) | 5);
    EXPECT_EQ(fake.last_value, (6u << 16) | 5);
    wr(&vd, 1, 0xf00, 4, (1u << 24) | 7);
    EXPECT_EQ(fake.last_value, (2u << 16) | 7);
    wr(&vd, 0, 0xf00, 4, (2u << 24) | 3);
    EXPECT_EQ(fake.last_value, (2u << 24) | 3);
    /* A list naming only VCPUs the domain lacks sends nothing. */
    fake.writes = 0;
    wr(&vd, 0, 0xf00, 4, (0xfcu << 16) | 1);
    EXPECT_EQ(fake.writes, 0);
}

SELFTEST(vgic, dist_own_and_hidden_registers)
{
    struct vgic_dist vd = setup();

    /* CTLR is the guest's: disabling it leaves the hardware enabled. */
    fake.regs[0] = 3;
    fake.writes = 0;
    wr(&vd, 0, 0x000, 4, 0);
    EXPECT_EQ(rd(&vd, 0x000, 4), 0);
    wr(&vd, 0, 0x000, 4, 1);
    EXPECT_EQ(rd(&vd, 0x000, 4), 1);
    EXPECT_EQ(fake.writes, 0);
    EXPECT_EQ(fake.regs[0], 3);
    /* Groups read as zero and ignore writes; so does the rest of the window. */
    wr(&vd, 0, 0x080, 4, 0xffffffffu);
    EXPECT_EQ(rd(&vd, 0x080, 4), 0);
    wr(&vd, 0, 0x2000, 4, 1);
    EXPECT_EQ(rd(&vd, 0x2000, 4), 0);
    EXPECT_EQ(fake.writes, 0);
}

SELFTEST(vgic, dist_refuses_undefined_accesses)
{
    struct vgic_dist vd = setup();
    uint32_t v = 0;

    EXPECT_EQ(vgic_dist_access(&vd, &fake_ops, 0, 0x102, 4, false, &v), -EINVAL); /* misaligned */
    EXPECT_EQ(vgic_dist_access(&vd, &fake_ops, 0, 0x100, 1, false, &v), -EINVAL); /* byte, word reg */
    EXPECT_EQ(vgic_dist_access(&vd, &fake_ops, 0, 0x400, 2, false, &v), -EINVAL); /* halfword */
    EXPECT_EQ(vgic_dist_access(&vd, &fake_ops, 0, 0x2ffc, 4, false, &v), 0);    /* RAZ */
    EXPECT_EQ(v, 0);
    EXPECT_EQ(fake.writes, 0);
}

/* The watchdog's record: a ring of the last four of each, counting every one. */
SELFTEST(vgic, notes_keep_the_last_four)
{
    static struct vcpu_notes n;

    memset(&n, 0, sizeof(n));
    for (uint32_t i = 0; i < 6; i++) {
        vcpu_note_tick(&n, 100 + i, 0x1000 + i, 0x1d3, i == 5);
        vcpu_note_exit(&n, 200 + i, 0x2000 + i, 0x13, VCPU_NOTE_IRQ | 27);
    }
    EXPECT_EQ(n.nr_ticks, 6);
    EXPECT_EQ(n.nr_exits, 6);
    for (unsigned int k = 2; k < 6; k++) {
        EXPECT_EQ(n.tick[k % VCPU_NOTES].pc, 0x1000 + k);
        EXPECT_EQ(n.tick[k % VCPU_NOTES].time, 100 + k);
        EXPECT_EQ(n.tick[k % VCPU_NOTES].what, k == 5 ? VCPU_NOTE_WFI : 0);
        EXPECT_EQ(n.exit[k % VCPU_NOTES].pc, 0x2000 + k);
        EXPECT_EQ(n.exit[k % VCPU_NOTES].what, VCPU_NOTE_IRQ | 27);
    }
}
