/*
 * The p2m through the real MMU: with the p2m's VTTBR and P2M_VTCR installed and HCR.VM
 * set, ATS12NSOPR/ATS12NSOPW translate an address as the guest's PL1 would (stage 1 off,
 * so VA = IPA, then stage 2). The walker reads the descriptors common/mm/p2m.c wrote, so
 * this checks the VTCR and VTTBR values, the concatenated root, the table and block
 * formats and removals as the hardware (QEMU's walker) sees them. No guest runs: HCR.VM
 * only affects Non-secure PL1&0, never Hyp mode, and everything is restored after.
 */
#include <arch/p2m.h>
#include <asm/sysregs.h>
#include <domain/domain.h>
#include <lib/lib.h>
#include <mm/mm.h>
#include <mm/p2m.h>
#include <mm/page_alloc.h>
#include <mm/setup_mm.h>
#include <test/selftest.h>

#define PAR_F       1ULL            /* the translation faulted */
#define PAR_LPAE    (1ULL << 11)    /* long-descriptor format */
#define PAR_PA_MASK 0x000000fffffff000ULL

/* PAR after translating ipa (< 4 GiB) as a guest PL1 read or write. */
static uint64_t ats(uint32_t ipa, bool write)
{
    if (write)
        WRITE_CP32(ipa, ATS12NSOPW);
    else
        WRITE_CP32(ipa, ATS12NSOPR);
    isb();
    return READ_CP64(PAR);
}

static bool translates(uint32_t ipa, paddr_t pa)
{
    uint64_t r = ats(ipa, false), w = ats(ipa, true);
    bool ok = EXPECT_EQ(r & PAR_F, 0);

    ok &= EXPECT(r & PAR_LPAE);
    ok &= EXPECT_EQ(r & PAR_PA_MASK, pa & PAR_PA_MASK);
    ok &= EXPECT_EQ(w & PAR_F, 0);
    return ok;
}

static bool faults(uint32_t ipa)
{
    return EXPECT_EQ(ats(ipa, false) & PAR_F, PAR_F);
}

SELFTEST(p2m_mmu, stage2_walk_sees_what_the_p2m_wrote)
{
    struct domain d;
    struct p2m_domain *p2m = p2m_get_hostp2m(&d);
    uint64_t old_vttbr = READ_CP64(VTTBR), old_par = READ_CP64(PAR);
    uint32_t old_vtcr = READ_CP32(VTCR), old_hcr = READ_CP32(HCR);
    unsigned long before;
    struct page_info *pg;
    mfn_t m;

    if (!EXPECT(mm_layout() != NULL))
        return;
    if (READ_CP32(NS_SCTLR) & 1) {
        selftest_skip("the Non-secure PL1 MMU is on: ATS12NSO* would go through stage 1");
        return;
    }
    before = avail_domheap_pages();
    pg = alloc_domheap_pages(NULL, 9, 0);       /* 2 MiB, so 2 MiB aligned */
    if (!EXPECT(pg != NULL))
        return;
    m = page_to_mfn(pg);
    domain_init(&d, 30, 0);
    if (!EXPECT_EQ(p2m_init(&d), 0)) {
        free_domheap_pages(pg, 9);
        return;
    }
    /* A page at IPA 2 GiB + 4 KiB, a 2 MiB block at 3 GiB, Device MMIO at 1 GiB + 2 MiB. */
    EXPECT_EQ(guest_physmap_add_page(&d, _gfn(0x80001), mfn_add(m, 5), 0), 0);
    EXPECT_EQ(guest_physmap_add_page(&d, _gfn(0xc0000), m, 9), 0);
    EXPECT_EQ(map_regions_p2mt(&d, _gfn(0x40200), 1, _mfn(0x09000), p2m_mmio_direct_dev), 0);

    WRITE_CP32(P2M_VTCR, VTCR);
    WRITE_CP64(p2m->vttbr, VTTBR);
    WRITE_CP32(old_hcr | HCR_VM, HCR);
    isb();
    translates(0x80001000, mfn_to_paddr(mfn_add(m, 5)));
    translates(0x80001abc, mfn_to_paddr(mfn_add(m, 5)));
    faults(0x80000000);
    faults(0x80002000);
    translates(0xc0000000, mfn_to_paddr(m));
    translates(0xc01ff000, mfn_to_paddr(mfn_add(m, 0x1ff)));
    translates(0x40200000, 0x09000000);
    faults(0x00000000);
    faults(0x40201000);

    /* Removal and a block split, with this VTTBR installed (the flush keeps it). */
    EXPECT_EQ(guest_physmap_remove_page(&d, _gfn(0xc0010), mfn_add(m, 0x10), 0), 0);
    EXPECT_EQ(READ_CP64(VTTBR), p2m->vttbr);
    faults(0xc0010000);
    translates(0xc000f000, mfn_to_paddr(mfn_add(m, 0xf)));
    translates(0xc0011000, mfn_to_paddr(mfn_add(m, 0x11)));
    EXPECT_EQ(guest_physmap_remove_page(&d, _gfn(0x80001), mfn_add(m, 5), 0), 0);
    faults(0x80001000);

    WRITE_CP32(old_hcr, HCR);
    WRITE_CP64(old_vttbr, VTTBR);
    WRITE_CP32(old_vtcr, VTCR);
    isb();
    WRITE_CP64(old_par, PAR);
    /* A flush from another VTTBR puts the previous one back. */
    p2m_teardown(&d);
    EXPECT_EQ(READ_CP64(VTTBR), old_vttbr);
    free_domheap_pages(pg, 9);
    EXPECT_EQ(avail_domheap_pages(), before);
}

/*
 * gvirt_to_maddr() leaves HCR, VTCR, VTTBR and PAR as it found them, and refuses while
 * the Non-secure PL1 MMU is on (stage 1 would then be someone else's).
 */
SELFTEST(p2m_mmu, gvirt_to_maddr_restores_and_needs_stage1_off)
{
    struct domain d;
    uint64_t old_vttbr = READ_CP64(VTTBR), par = 0x1234000ULL;
    uint32_t old_vtcr = READ_CP32(VTCR), old_hcr = READ_CP32(HCR), sctlr;
    struct page_info *pg;
    paddr_t ma = 0;

    if (!EXPECT(mm_layout() != NULL))
        return;
    if (READ_CP32(NS_SCTLR) & 1) {
        selftest_skip("the Non-secure PL1 MMU is on already");
        return;
    }
    pg = alloc_domheap_pages(NULL, 0, 0);
    if (!EXPECT(pg != NULL))
        return;
    domain_init(&d, 31, 0);
    if (!EXPECT_EQ(p2m_init(&d), 0)) {
        free_domheap_pages(pg, 0);
        return;
    }
    EXPECT_EQ(guest_physmap_add_page(&d, _gfn(0x40000), page_to_mfn(pg), 0), 0);
    WRITE_CP64(par, PAR);
    isb();
    EXPECT_EQ(gvirt_to_maddr(&d, 0x40000123, &ma, GV2M_WRITE), 0);
    EXPECT_EQ(ma, mfn_to_paddr(page_to_mfn(pg)) + 0x123);
    EXPECT_EQ(gvirt_to_maddr(&d, 0x40001000, &ma, GV2M_READ), -EFAULT);
    EXPECT_EQ(READ_CP64(PAR), par);
    EXPECT_EQ(READ_CP64(VTTBR), old_vttbr);
    EXPECT_EQ(READ_CP32(VTCR), old_vtcr);
    EXPECT_EQ(READ_CP32(HCR), old_hcr);

    sctlr = READ_CP32(NS_SCTLR);
    WRITE_CP32(sctlr | 1, NS_SCTLR);
    isb();
    EXPECT_EQ(gvirt_to_maddr(&d, 0x40000123, &ma, GV2M_READ), -EINVAL);
    WRITE_CP32(sctlr, NS_SCTLR);
    isb();

    p2m_teardown(&d);
    free_domheap_pages(pg, 0);
}
