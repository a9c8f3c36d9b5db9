/*
 * The boot stub's mappings, checked through the real MMU: what is mapped,
 * with which permissions, and that faults are caught, decoded and survived.
 */
#include <asm/layout.h>
#include <asm/lpae.h>
#include <asm/pgtable.h>
#include <asm/setup.h>
#include <asm/sysregs.h>
#include <asm/traps.h>
#include <asm/walk_check.h>
#include <lib/lib.h>
#include <mm/mm.h>
#include <mm/page_alloc.h>
#include <test/selftest.h>

extern char _start[], _etext[], _srodata[], _sdata[];

static const uint32_t some_rodata = 0x600df00d;
static uint32_t some_data = 1;
/* A buffer in BSS that we fill with an instruction and try to execute. */
static uint32_t exec_buffer[4] __attribute__((aligned(16)));

static bool faulted_with(uint32_t ec, uint32_t fsc_type, uint32_t level, uint32_t far)
{
    uint32_t fsc = last_fault.hsr & 0x3f;
    bool ok = true;

    ok &= EXPECT_EQ(HSR_EC(last_fault.hsr), ec);
    ok &= EXPECT_EQ(FSC_TYPE(fsc), fsc_type);
    ok &= EXPECT_EQ(FSC_LEVEL(fsc), level);
    ok &= EXPECT_EQ(ec == HSR_EC_DABT_HYP ? last_fault.hdfar : last_fault.hifar, far);
    return ok;
}

SELFTEST(mmu, first_2mb_unmapped)
{
    static const uint32_t addrs[] = { 0x0, 0x4, 0x1000, 0x1ff000, 0x1ffffc };

    for (unsigned int i = 0; i < ARRAY_SIZE(addrs); i++) {
        uint32_t v = 0xdeadbeef;
        unsigned int before = last_fault.count;

        EXPECT_EQ(arch_probe_read32((const void *)(uintptr_t)addrs[i], &v), -14);
        EXPECT_EQ(last_fault.count, before + 1);
        EXPECT_EQ(v, 0xdeadbeef);                 /* nothing was read */
        /* The boot stub leaves level-2 entry 0 (VA 0-2 MiB) empty: a level-2 fault. */
        faulted_with(HSR_EC_DABT_HYP, FSC_TRANSLATION, 2, addrs[i]);
    }
}

SELFTEST(mmu, text_is_read_only)
{
    uint32_t v;
    volatile void *text = (volatile void *)(uintptr_t)_start;

    EXPECT_EQ(arch_probe_read32(text, &v), 0);
    EXPECT_EQ(arch_probe_write32(text, v), -14);
    faulted_with(HSR_EC_DABT_HYP, FSC_PERMISSION, 3, (uint32_t)(uintptr_t)_start);
    EXPECT(last_fault.hsr & (1u << 6));          /* WnR: it was a write */
}

SELFTEST(mmu, rodata_is_read_only)
{
    uint32_t v = 0;

    EXPECT_EQ(arch_probe_read32(&some_rodata, &v), 0);
    EXPECT_EQ(v, 0x600df00d);
    EXPECT_EQ(arch_probe_write32((volatile void *)(uintptr_t)&some_rodata, 1), -14);
    faulted_with(HSR_EC_DABT_HYP, FSC_PERMISSION, 3, (uint32_t)(uintptr_t)&some_rodata);
}

SELFTEST(mmu, data_is_writable_and_not_executable)
{
    EXPECT_EQ(arch_probe_write32(&some_data, 42), 0);
    EXPECT_EQ(some_data, 42);

    exec_buffer[0] = 0xe12fff1e;                  /* bx lr */
    dsb(ish);
    EXPECT_EQ(arch_probe_exec((void (*)(void))(uintptr_t)exec_buffer), -14);
    faulted_with(HSR_EC_IABT_HYP, FSC_PERMISSION, 3, (uint32_t)(uintptr_t)exec_buffer);
}

SELFTEST(mmu, text_is_executable)
{
    /* The probe itself calls code: a function in text runs. */
    extern void selftest_mmu_nop(void);
    EXPECT_EQ(arch_probe_exec(selftest_mmu_nop), 0);
}

void selftest_mmu_nop(void);
void selftest_mmu_nop(void) {}

SELFTEST(mmu, control_bits)
{
    uint32_t sctlr = READ_CP32(HSCTLR);

    EXPECT(sctlr & HSCTLR_M);
    EXPECT(sctlr & HSCTLR_C);
    EXPECT(sctlr & HSCTLR_I);
    EXPECT(sctlr & HSCTLR_WXN);
    EXPECT_EQ(READ_CP32(HTCR), HTCR_VALUE);
    EXPECT_EQ(READ_CP32(HMAIR0), HMAIR0_VALUE);
    EXPECT_EQ(READ_CP32(HVBAR) & 0x1f, 0);       /* the vector table is 32-byte aligned */
}

SELFTEST(mmu, identity_map_is_gone)
{
    vaddr_t load_va = (vaddr_t)image_phys_start();

    /* Whatever that VA maps to now (nothing, or a xenheap frame), it is not the image. */
    EXPECT_NE(arch_translate_va(load_va), image_phys_start());
    EXPECT_EQ(arch_translate_va((vaddr_t)_start), image_phys_start());
}

/* Valid entries of a table, and the last one's index in *last. */
static unsigned int valid_entries(const lpae_t *t, unsigned int *last)
{
    unsigned int n = 0;

    for (unsigned int i = 0; i < LPAE_ENTRIES; i++)
        if (lpae_is_valid(t[i])) {
            n++;
            *last = i;
        }
    return n;
}

/*
 * The identity mapping the CPUs turn their MMU on through (the boot root's,
 * then the trampoline's) maps one page, the boot stub's, read-only and
 * executable: no block spreads Normal memory around the load address.
 */
SELFTEST(mmu, identity_map_was_the_stub_page_only)
{
    paddr_t load = image_phys_start();
    const lpae_t *third;
    unsigned int i = 0;
    lpae_t e;

    if (!EXPECT_EQ(valid_entries(boot_identity_second, &i), 1) ||
        !EXPECT_EQ(i, (load >> LPAE_L2_SHIFT) & (LPAE_ENTRIES - 1)) ||
        !EXPECT(lpae_is_table(boot_identity_second[i], 2)))
        return;
    third = boot_identity_third;
    EXPECT_EQ(boot_identity_second[i] & LPAE_ADDR_MASK, image_virt_to_phys(third));
    if (!EXPECT_EQ(valid_entries(third, &i), 1))
        return;
    e = third[i];
    EXPECT_EQ(i, (load >> LPAE_L3_SHIFT) & (LPAE_ENTRIES - 1));
    EXPECT_EQ(e & LPAE_ADDR_MASK, load);
    EXPECT(e & LPAE_AP_RO);
    EXPECT(!(e & LPAE_XN));
}

SELFTEST(mmu, image_sections_translate_to_load_address)
{
    paddr_t base = image_phys_start();

    EXPECT_EQ(arch_translate_va((vaddr_t)_srodata), base + (paddr_t)(_srodata - _start));
    EXPECT_EQ(arch_translate_va((vaddr_t)_sdata), base + (paddr_t)(_sdata - _start));
}

/*
 * A level-3 table above 4 GiB is walked where it lies: an LPAE table
 * descriptor holds a 40-bit address. qemu-system-arm 7.2 fails this (its
 * 32-bit build reads the table 4 GiB lower); qemu-system-aarch64, which the
 * tests run, passes. Needs free RAM above 4 GiB (MEM=6G, or the tree
 * tests/dt/high-only.dts); skipped elsewhere.
 */
SELFTEST(mmu, table_above_4g)
{
    /* The heap hands out its highest memory first. */
    struct page_info *pg = alloc_domheap_page(NULL, MEMF_no_scrub);
    paddr_t table, got;

    if (!pg || page_to_maddr(pg) < ((paddr_t)1 << 32)) {
        if (pg)
            free_domheap_pages(pg, 0);
        selftest_skip("no free RAM above 4 GiB (boot with MEM=6G)");
        return;
    }
    table = page_to_maddr(pg);
    got = arch_probe_table_walk(table);
    selftest_diag("level-3 table at pa 0x%llx: va 0x%lx translates to 0x%llx",
                  (unsigned long long)table, (unsigned long)WALK_PROBE_VA,
                  (unsigned long long)got);
    free_domheap_pages(pg, 0);
    EXPECT_EQ(got, table);
}

/*
 * An exception can come where SP is only 4-byte aligned; the vector must
 * realign it to 8 bytes before calling C (AAPCS) and give the interrupted
 * code its SP back unchanged.
 */
SELFTEST(mmu, exception_entry_realigns_the_stack)
{
    uint32_t sp[2] = { 0, 0 };
    unsigned int before = last_fault.count;

    EXPECT_EQ(arch_probe_read32_odd_sp((const void *)0x100, sp), -14);
    EXPECT_EQ(last_fault.count, before + 1);
    EXPECT_EQ(sp[0] & 7, 4);                   /* the probe did misalign it */
    EXPECT_EQ(last_fault.sp, sp[0]);           /* the frame holds the interrupted SP */
    EXPECT_EQ(last_fault.frame & 7, 0);        /* C ran on an 8-byte aligned stack */
    EXPECT(last_fault.frame < sp[0]);
    EXPECT_EQ(sp[1], sp[0]);                   /* and got its SP back */

    /* An aligned SP is used as it is: the frame sits right below it. */
    before = last_fault.count;
    EXPECT_EQ(arch_probe_read32((const void *)0x100, &sp[0]), -14);
    EXPECT_EQ(last_fault.count, before + 1);
    EXPECT_EQ(last_fault.sp & 7, 0);
    EXPECT_EQ(last_fault.frame, last_fault.sp - (uint32_t)sizeof(struct cpu_regs));
}

/* Run only by name: the runner checks the report and the failure exit. */
SELFTEST_MANUAL(crash, unmapped_read)
{
    volatile uintptr_t addr = 0x100;     /* volatile: keep GCC from reasoning about it */
    volatile uint32_t *p = (volatile uint32_t *)addr;

    printk("crash: reading 0x100 on purpose\n");
    (void)*p;
    EXPECT(false);              /* not reached: the fault ends the run */
}

SELFTEST_MANUAL(crash, failing_check)
{
    EXPECT_EQ(1 + 1, 3);        /* the runner must see "not ok" and a failure exit */
}
