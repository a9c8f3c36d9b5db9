/*
 * map_pages_to_xen, destroy_xen_mappings and modify_xen_mappings, checked
 * through the software walk of the same tables the MMU uses (pt_lookup).
 * They run on the host and in the image; the image's tests in
 * tests/arm32/vmap.c also go through the real MMU, and the host's in
 * tests/host/pt_host.c check the order of the steps.
 *
 * Virtual addresses come from vm_alloc, so the tests never touch a mapping
 * anything else uses; frames come from the domheap.
 */
#include <lib/lib.h>
#include <mm/mm.h>
#include <mm/page_alloc.h>
#include <mm/pt.h>
#include <mm/vmap.h>
#include <string.h>
#include <test/hooks.h>
#include <test/selftest.h>

#include "vmap_test.h"

#define BLOCK PT_BLOCK_SIZE

/* The attribute bits a leaf entry made from flags must have. */
static bool leaf_is(vaddr_t va, unsigned int want_level, paddr_t pa, unsigned int flags)
{
    unsigned int level;
    lpae_t e = pt_lookup(va, &level);
    unsigned int mt = flags & _PAGE_MT_MASK;
    bool ok = true;

    ok &= EXPECT_EQ(level, want_level);
    ok &= EXPECT(lpae_is_mapping(e, level));
    ok &= EXPECT_EQ(pt_translate(va), pa);
    ok &= EXPECT_EQ(lpae_attrindx(e), mt);
    ok &= EXPECT_EQ(!!(e & LPAE_AP_RO), !!(flags & _PAGE_RO));
    ok &= EXPECT_EQ(!!(e & LPAE_XN), !!(flags & _PAGE_XN));
    ok &= EXPECT(e & LPAE_AF);                   /* or the first access faults */
    ok &= EXPECT(e & LPAE_AP1);                  /* RES1 in Hyp mode */
    if (mt == MT_NORMAL)
        ok &= EXPECT_EQ(e & LPAE_SH_MASK, LPAE_SH_INNER);
    return ok;
}

static bool unmapped(vaddr_t va)
{
    unsigned int level;
    lpae_t e = pt_lookup(va, &level);

    return EXPECT(level != 0) && EXPECT(!lpae_is_valid(e)) && EXPECT_EQ(pt_translate(va), PT_NO_PADDR);
}

SELFTEST(pt, map_lookup_destroy)
{
    struct vmap_fixture fx;
    unsigned long tables;
    struct page_info *pg;
    vaddr_t va;
    paddr_t pa;

    if (!vmap_test_begin(&fx))
        return;
    tables = pt_heap_tables();
    pg = alloc_domheap_pages(NULL, 2, 0);
    va = (vaddr_t)vm_alloc(3, 1);
    if (!EXPECT(pg) || !EXPECT(va))
        goto out;
    pa = page_to_maddr(pg);

    EXPECT_EQ(map_pages_to_xen(va, page_to_mfn(pg), 3, PAGE_HYPERVISOR_RW), 0);
    for (unsigned int i = 0; i < 3; i++)
        leaf_is(va + i * PAGE_SIZE, 3, pa + i * PAGE_SIZE, PAGE_HYPERVISOR_RW);
    EXPECT_EQ(pt_translate(va + PAGE_SIZE + 0x123), pa + PAGE_SIZE + 0x123);
    unmapped(va + 3 * PAGE_SIZE);                /* vm_alloc's guard page */
    EXPECT(pt_heap_tables() <= tables + 1);

    EXPECT_EQ(destroy_xen_mappings(va, va + 3 * PAGE_SIZE), 0);
    for (unsigned int i = 0; i < 3; i++)
        unmapped(va + i * PAGE_SIZE);
out:
    if (va)
        vm_free((void *)va);
    if (pg)
        free_domheap_pages(pg, 2);
    vmap_test_end(&fx);
}

SELFTEST(pt, zero_pages_and_unmapped_ranges_are_no_ops)
{
    struct vmap_fixture fx;
    vaddr_t va;

    if (!vmap_test_begin(&fx))
        return;
    va = (vaddr_t)vm_alloc(4, 1);
    if (EXPECT(va)) {
        EXPECT_EQ(map_pages_to_xen(va, _mfn(0x12345), 0, PAGE_HYPERVISOR), 0);
        unmapped(va);
        EXPECT_EQ(destroy_xen_mappings(va, va + 4 * PAGE_SIZE), 0);
        EXPECT_EQ(destroy_xen_mappings(va, va), 0);
        vm_free((void *)va);
    }
    vmap_test_end(&fx);
}

/* A 2 MiB-aligned stretch of vmap and a 2 MiB-aligned order-9 block of frames. */
static bool get_block(vaddr_t *va, struct page_info **pg, unsigned int va_pages)
{
    *va = (vaddr_t)vm_alloc(va_pages, BLOCK >> PAGE_SHIFT);
    *pg = alloc_domheap_pages(NULL, 9, MEMF_no_scrub);
    if (!EXPECT(*va) || !EXPECT(*pg))
        return false;
    return EXPECT(IS_ALIGNED(*va, BLOCK)) && EXPECT(IS_ALIGNED(page_to_maddr(*pg), (paddr_t)BLOCK));
}

static void put_block(vaddr_t va, struct page_info *pg)
{
    if (va)
        vm_free((void *)va);
    if (pg)
        free_domheap_pages(pg, 9);
}

SELFTEST(pt, blocks_only_when_aligned_and_allowed)
{
    struct vmap_fixture fx;
    struct page_info *pg = NULL, *pg2 = NULL;
    vaddr_t va = 0;
    paddr_t pa;

    if (!vmap_test_begin(&fx))
        return;
    if (!get_block(&va, &pg, 2 * (BLOCK >> PAGE_SHIFT)))
        goto out;
    pa = page_to_maddr(pg);

    /* Aligned and allowed: one level-2 block. */
    EXPECT_EQ(map_pages_to_xen(va, page_to_mfn(pg), 512, PAGE_HYPERVISOR | _PAGE_BLOCK), 0);
    leaf_is(va, 2, pa, PAGE_HYPERVISOR);
    leaf_is(va + 0x1ff000, 2, pa + 0x1ff000, PAGE_HYPERVISOR);
    EXPECT_EQ(destroy_xen_mappings(va, va + BLOCK), 0);
    unmapped(va);

    /* Not allowed: pages. */
    EXPECT_EQ(map_pages_to_xen(va, page_to_mfn(pg), 512, PAGE_HYPERVISOR), 0);
    leaf_is(va, 3, pa, PAGE_HYPERVISOR);
    leaf_is(va + 0x1ff000, 3, pa + 0x1ff000, PAGE_HYPERVISOR);
    EXPECT_EQ(destroy_xen_mappings(va, va + BLOCK), 0);

    /* Allowed, but the frames are one page off 2 MiB: pages. */
    pg2 = alloc_domheap_pages(NULL, 10, MEMF_no_scrub);
    if (EXPECT(pg2)) {
        EXPECT_EQ(map_pages_to_xen(va, mfn_add(page_to_mfn(pg2), 1), 512,
                                   PAGE_HYPERVISOR | _PAGE_BLOCK), 0);
        leaf_is(va, 3, page_to_maddr(pg2) + PAGE_SIZE, PAGE_HYPERVISOR);
        EXPECT_EQ(destroy_xen_mappings(va, va + BLOCK), 0);
        free_domheap_pages(pg2, 10);
    }

    /* Frames aligned, but the virtual address one page past 2 MiB: no chunk is a
     * whole aligned 2 MiB on both sides, so pages throughout. */
    EXPECT_EQ(map_pages_to_xen(va + PAGE_SIZE, page_to_mfn(pg), 512, PAGE_HYPERVISOR | _PAGE_BLOCK),
              0);
    leaf_is(va + PAGE_SIZE, 3, pa, PAGE_HYPERVISOR);
    leaf_is(va + BLOCK, 3, pa + BLOCK - PAGE_SIZE, PAGE_HYPERVISOR);
    EXPECT_EQ(destroy_xen_mappings(va, va + 2 * BLOCK), 0);
    unmapped(va + PAGE_SIZE);
    unmapped(va + BLOCK);
out:
    put_block(va, pg);
    vmap_test_end(&fx);
}

SELFTEST(pt, partial_destroy_splits_a_block)
{
    struct vmap_fixture fx;
    struct page_info *pg = NULL;
    unsigned long tables;
    vaddr_t va = 0;
    paddr_t pa;

    if (!vmap_test_begin(&fx))
        return;
    tables = pt_heap_tables();
    if (!get_block(&va, &pg, 512))
        goto out;
    pa = page_to_maddr(pg);

    EXPECT_EQ(map_pages_to_xen(va, page_to_mfn(pg), 512, PAGE_HYPERVISOR_RO | _PAGE_BLOCK), 0);
    EXPECT_EQ(destroy_xen_mappings(va + 100 * PAGE_SIZE, va + 102 * PAGE_SIZE), 0);
    /* Now a table of pages, with the block's attributes, minus the hole. */
    EXPECT_EQ(pt_heap_tables(), tables + 1);
    leaf_is(va, 3, pa, PAGE_HYPERVISOR_RO);
    leaf_is(va + 99 * PAGE_SIZE, 3, pa + 99 * PAGE_SIZE, PAGE_HYPERVISOR_RO);
    unmapped(va + 100 * PAGE_SIZE);
    unmapped(va + 101 * PAGE_SIZE);
    leaf_is(va + 102 * PAGE_SIZE, 3, pa + 102 * PAGE_SIZE, PAGE_HYPERVISOR_RO);
    leaf_is(va + 511 * PAGE_SIZE, 3, pa + 511 * PAGE_SIZE, PAGE_HYPERVISOR_RO);

    /* Emptying the table returns it to the heap. */
    EXPECT_EQ(destroy_xen_mappings(va, va + 100 * PAGE_SIZE), 0);
    EXPECT_EQ(pt_heap_tables(), tables + 1);
    EXPECT_EQ(destroy_xen_mappings(va + 102 * PAGE_SIZE, va + BLOCK), 0);
    EXPECT_EQ(pt_heap_tables(), tables);
out:
    put_block(va, pg);
    vmap_test_end(&fx);
}

SELFTEST(pt, modify_changes_permissions_only)
{
    struct vmap_fixture fx;
    struct page_info *pg;
    vaddr_t va;
    paddr_t pa;

    if (!vmap_test_begin(&fx))
        return;
    pg = alloc_domheap_pages(NULL, 1, 0);
    va = (vaddr_t)vm_alloc(2, 1);
    if (!EXPECT(pg) || !EXPECT(va))
        goto out;
    pa = page_to_maddr(pg);
    EXPECT_EQ(map_pages_to_xen(va, page_to_mfn(pg), 2, PAGE_HYPERVISOR_RW), 0);

    EXPECT_EQ(modify_xen_mappings(va, va + 2 * PAGE_SIZE, PAGE_HYPERVISOR_RO), 0);
    leaf_is(va, 3, pa, PAGE_HYPERVISOR_RO);
    leaf_is(va + PAGE_SIZE, 3, pa + PAGE_SIZE, PAGE_HYPERVISOR_RO);
    EXPECT_EQ(modify_xen_mappings(va + PAGE_SIZE, va + 2 * PAGE_SIZE, PAGE_HYPERVISOR_RX), 0);
    leaf_is(va, 3, pa, PAGE_HYPERVISOR_RO);
    leaf_is(va + PAGE_SIZE, 3, pa + PAGE_SIZE, PAGE_HYPERVISOR_RX);
    EXPECT_EQ(modify_xen_mappings(va, va + 2 * PAGE_SIZE, PAGE_HYPERVISOR_RW), 0);
    leaf_is(va, 3, pa, PAGE_HYPERVISOR_RW);
    leaf_is(va + PAGE_SIZE, 3, pa + PAGE_SIZE, PAGE_HYPERVISOR_RW);
    EXPECT_EQ(destroy_xen_mappings(va, va + 2 * PAGE_SIZE), 0);
out:
    if (va)
        vm_free((void *)va);
    if (pg)
        free_domheap_pages(pg, 1);
    vmap_test_end(&fx);
}

SELFTEST(pt, modify_inside_a_block_splits_it)
{
    struct vmap_fixture fx;
    struct page_info *pg = NULL;
    vaddr_t va = 0;
    paddr_t pa;

    if (!vmap_test_begin(&fx))
        return;
    if (!get_block(&va, &pg, 512))
        goto out;
    pa = page_to_maddr(pg);
    EXPECT_EQ(map_pages_to_xen(va, page_to_mfn(pg), 512, PAGE_HYPERVISOR | _PAGE_BLOCK), 0);

    /* The whole block: changed in place, still a block. */
    EXPECT_EQ(modify_xen_mappings(va, va + BLOCK, PAGE_HYPERVISOR_RO), 0);
    leaf_is(va + 7 * PAGE_SIZE, 2, pa + 7 * PAGE_SIZE, PAGE_HYPERVISOR_RO);
    /* One page of it: split, and only that page changes. */
    EXPECT_EQ(modify_xen_mappings(va + 7 * PAGE_SIZE, va + 8 * PAGE_SIZE, PAGE_HYPERVISOR_RW), 0);
    leaf_is(va + 6 * PAGE_SIZE, 3, pa + 6 * PAGE_SIZE, PAGE_HYPERVISOR_RO);
    leaf_is(va + 7 * PAGE_SIZE, 3, pa + 7 * PAGE_SIZE, PAGE_HYPERVISOR_RW);
    leaf_is(va + 8 * PAGE_SIZE, 3, pa + 8 * PAGE_SIZE, PAGE_HYPERVISOR_RO);
    EXPECT_EQ(destroy_xen_mappings(va, va + BLOCK), 0);
out:
    put_block(va, pg);
    vmap_test_end(&fx);
}

SELFTEST(pt, remap_replaces_a_live_page)
{
    struct vmap_fixture fx;
    struct page_info *pg;
    vaddr_t va;

    if (!vmap_test_begin(&fx))
        return;
    pg = alloc_domheap_pages(NULL, 1, 0);
    va = (vaddr_t)vm_alloc(1, 1);
    if (EXPECT(pg) && EXPECT(va)) {
        EXPECT_EQ(map_pages_to_xen(va, page_to_mfn(pg), 1, PAGE_HYPERVISOR_RW), 0);
        EXPECT_EQ(map_pages_to_xen(va, mfn_add(page_to_mfn(pg), 1), 1, PAGE_HYPERVISOR_RO), 0);
        leaf_is(va, 3, page_to_maddr(pg) + PAGE_SIZE, PAGE_HYPERVISOR_RO);
        EXPECT_EQ(destroy_xen_mappings(va, va + PAGE_SIZE), 0);
    }
    if (va)
        vm_free((void *)va);
    if (pg)
        free_domheap_pages(pg, 1);
    vmap_test_end(&fx);
}

SELFTEST(pt, refuses_bad_requests_without_changing_anything)
{
    struct vmap_fixture fx;
    struct page_info *pg;
    unsigned long tables;
    vaddr_t va;

    if (!vmap_test_begin(&fx))
        return;
    tables = pt_heap_tables();
    pg = alloc_domheap_page(NULL, 0);
    va = (vaddr_t)vm_alloc(2, 1);
    if (!EXPECT(pg) || !EXPECT(va))
        goto out;

    /* Writable and executable: WXN forbids it. */
    EXPECT_EQ(map_pages_to_xen(va, page_to_mfn(pg), 1, MT_NORMAL), -EINVAL);
    EXPECT_EQ(map_pages_to_xen(va, page_to_mfn(pg), 1, MT_DEVICE), -EINVAL);
    /* Not page aligned. */
    EXPECT_EQ(map_pages_to_xen(va + 0x10, page_to_mfn(pg), 1, PAGE_HYPERVISOR), -EINVAL);
    /* Unknown flag bits, an undefined memory type. */
    EXPECT_EQ(map_pages_to_xen(va, page_to_mfn(pg), 1, PAGE_HYPERVISOR | 0x100), -EINVAL);
    EXPECT_EQ(map_pages_to_xen(va, page_to_mfn(pg), 1, _PAGE_XN | 5), -EINVAL);
    /* Frames past the 40-bit physical space. */
    EXPECT_EQ(map_pages_to_xen(va, _mfn((1UL << 28) - 1), 2, PAGE_HYPERVISOR), -ERANGE);
    /* The per-VCPU domheap window is not the shared map. */
    EXPECT_EQ(map_pages_to_xen((vaddr_t)0x80000000UL, page_to_mfn(pg), 1, PAGE_HYPERVISOR),
              -EINVAL);
    EXPECT_EQ(destroy_xen_mappings((vaddr_t)0xc0000000UL, (vaddr_t)0xc0001000UL), -EINVAL);
    /* A range that ends before it starts; one past the 32-bit VA space. */
    EXPECT_EQ(destroy_xen_mappings((vaddr_t)0x3ffff000UL, (vaddr_t)0x3fffe000UL), -EINVAL);
    EXPECT_EQ(map_pages_to_xen(va, page_to_mfn(pg), 1UL << 20, PAGE_HYPERVISOR), -ERANGE);
    unmapped(va);
    EXPECT_EQ(pt_heap_tables(), tables);

    /* Modify: everything must be mapped, the memory type must stay. */
    EXPECT_EQ(map_pages_to_xen(va, page_to_mfn(pg), 1, PAGE_HYPERVISOR_RW), 0);
    EXPECT_EQ(modify_xen_mappings(va, va + 2 * PAGE_SIZE, PAGE_HYPERVISOR_RO), -ENOENT);
    EXPECT_EQ(modify_xen_mappings(va, va + PAGE_SIZE, PAGE_HYPERVISOR_NOCACHE), -EINVAL);
    EXPECT_EQ(modify_xen_mappings(va, va + PAGE_SIZE, MT_NORMAL), -EINVAL);
    EXPECT_EQ(modify_xen_mappings(va, va + PAGE_SIZE, PAGE_HYPERVISOR_RO | _PAGE_TAG(1)),
              -EINVAL);
    leaf_is(va, 3, page_to_maddr(pg), PAGE_HYPERVISOR_RW);  /* untouched by the refusals */
    EXPECT_EQ(destroy_xen_mappings(va, va + PAGE_SIZE), 0);
out:
    if (va)
        vm_free((void *)va);
    if (pg)
        free_domheap_page(pg);
    vmap_test_end(&fx);
}

SELFTEST(pt, tables_come_from_and_return_to_the_heap)
{
    struct vmap_fixture fx;
    struct page_info *pg;
    unsigned long free_before, tables;
    vaddr_t va;

    if (!vmap_test_begin(&fx))
        return;
    tables = pt_heap_tables();
    /* A whole 2 MiB of VA nothing else maps: no level-3 table exists for it. */
    va = (vaddr_t)vm_alloc(512, 512);
    pg = alloc_domheap_page(NULL, 0);
    if (EXPECT(va) && EXPECT(pg)) {
        free_before = heap_free_pages();
        EXPECT_EQ(map_pages_to_xen(va + 5 * PAGE_SIZE, page_to_mfn(pg), 1, PAGE_HYPERVISOR), 0);
        EXPECT_EQ(pt_heap_tables(), tables + 1);
        EXPECT_EQ(heap_free_pages(), free_before - 1);
        EXPECT_EQ(destroy_xen_mappings(va, va + PT_BLOCK_SIZE), 0);
        EXPECT_EQ(pt_heap_tables(), tables);
        EXPECT_EQ(heap_free_pages(), free_before);
    }
    if (va)
        vm_free((void *)va);
    if (pg)
        free_domheap_page(pg);
    vmap_test_end(&fx);
}

SELFTEST(pt, map_frames_scattered_and_in_runs)
{
    struct vmap_fixture fx;
    struct page_info *pg = NULL;
    mfn_t mfn[4], base;
    vaddr_t va = 0;
    unsigned int level;

    if (!vmap_test_begin(&fx))
        return;
    va = (vaddr_t)vm_alloc(2 * PT_BLOCK_PAGES, PT_BLOCK_PAGES);
    pg = alloc_domheap_pages(NULL, 10, MEMF_no_scrub);
    if (!EXPECT(va) || !EXPECT(pg))
        goto out;
    base = page_to_mfn(pg);

    /* Single frames in any order. */
    mfn[0] = mfn_add(base, 7);
    mfn[1] = mfn_add(base, 3);
    mfn[2] = mfn_add(base, 3);                  /* the same frame twice is allowed */
    mfn[3] = mfn_add(base, 1000);
    EXPECT_EQ(map_frames_to_xen(va, mfn, 1, 4, PAGE_HYPERVISOR_RO), 0);
    for (unsigned int i = 0; i < 4; i++)
        leaf_is(va + i * PAGE_SIZE, 3, mfn_to_paddr(mfn[i]), PAGE_HYPERVISOR_RO);
    unmapped(va + 4 * PAGE_SIZE);
    EXPECT_EQ(destroy_xen_mappings(va, va + 4 * PAGE_SIZE), 0);

    /* Runs of 256 that happen to continue each other and start 2 MiB aligned: a block. */
    mfn[0] = base;
    mfn[1] = mfn_add(base, 256);
    mfn[2] = mfn_add(base, 512);
    mfn[3] = mfn_add(base, 768 + 1);            /* the second 2 MiB does not continue */
    EXPECT_EQ(map_frames_to_xen(va, mfn, 256, 4, PAGE_HYPERVISOR | _PAGE_BLOCK), 0);
    leaf_is(va + 300 * PAGE_SIZE, 2, mfn_to_paddr(mfn_add(base, 300)), PAGE_HYPERVISOR);
    leaf_is(va + BLOCK + 5 * PAGE_SIZE, 3, mfn_to_paddr(mfn_add(base, 512 + 5)), PAGE_HYPERVISOR);
    leaf_is(va + BLOCK + 256 * PAGE_SIZE, 3, mfn_to_paddr(mfn_add(base, 768 + 1)),
            PAGE_HYPERVISOR);
    pt_lookup(va + BLOCK, &level);
    EXPECT_EQ(level, 3);
    EXPECT_EQ(destroy_xen_mappings(va, va + 2 * BLOCK), 0);

    /* Checked like map_pages_to_xen: a frame past 40 bits, W+X. */
    mfn[1] = _mfn((1UL << 28) - 1);
    EXPECT_EQ(map_frames_to_xen(va, mfn, 2, 2, PAGE_HYPERVISOR), -ERANGE);
    EXPECT_EQ(map_frames_to_xen(va, mfn, 1, 1, MT_NORMAL), -EINVAL);
    EXPECT_EQ(map_frames_to_xen(va, mfn, 0, 1, PAGE_HYPERVISOR), -ERANGE);
    unmapped(va);
out:
    if (va)
        vm_free((void *)va);
    if (pg)
        free_domheap_pages(pg, 10);
    vmap_test_end(&fx);
}

/*
 * Outside the vmap window, every CPU may be using a mapping at any moment,
 * and break-before-make would unmap it for a while: a live entry there is
 * never split, merged or remapped. New entries, whole unmaps and in-place
 * permission changes still work. LIVE_VA is 2 MiB of the first GiB that
 * nothing maps (on the image, between the image and the fixmap; on the
 * host, nothing is there at all).
 */
#define LIVE_VA ((vaddr_t)0x00400000UL)

/* The call was refused as a break of a live entry, saying what, and changed nothing. */
static bool refused_live(int rc, const char *what, lpae_t entry_before, unsigned int level_before)
{
    char msg[PT_REFUSAL_LEN];
    unsigned int level;
    bool ok = true;

    pt_last_refusal(msg, sizeof(msg));
    ok &= EXPECT_EQ(rc, -EBUSY);
    ok &= EXPECT(strstr(msg, what) != NULL);
    ok &= EXPECT(strstr(msg, "outside the vmap window") != NULL);
    ok &= EXPECT_EQ(pt_lookup(LIVE_VA, &level), entry_before);
    ok &= EXPECT_EQ(level, level_before);
    if (!ok)
        selftest_diag("refusal said: %s", msg);
    return ok;
}

SELFTEST(pt, live_entries_outside_vmap_are_never_broken)
{
    struct page_info *pg = NULL, *other = NULL;
    unsigned long tables = pt_heap_tables();
    unsigned int level;
    mfn_t mfn;
    lpae_t e;

    if (!EXPECT(!lpae_is_valid(pt_lookup(LIVE_VA, &level))) || !EXPECT_EQ(level, 2))
        return;
    pg = alloc_domheap_pages(NULL, 9, MEMF_no_scrub);
    other = alloc_domheap_page(NULL, MEMF_no_scrub);
    if (!EXPECT(pg) || !EXPECT(other))
        goto out;
    mfn = page_to_mfn(pg);

    /* A block where nothing was: allowed. */
    EXPECT_EQ(map_pages_to_xen(LIVE_VA, mfn, 512, PAGE_HYPERVISOR_RW | _PAGE_BLOCK), 0);
    e = pt_lookup(LIVE_VA, &level);
    EXPECT_EQ(level, 2);

    /* Splits: a page's permissions, a page unmapped, a page mapped over (even
     * with the same frame and attributes). */
    refused_live(modify_xen_mappings(LIVE_VA + PAGE_SIZE, LIVE_VA + 2 * PAGE_SIZE,
                                     PAGE_HYPERVISOR_RO),
                 "would split the live 2 MiB block at va 0x400000", e, 2);
    refused_live(destroy_xen_mappings(LIVE_VA + PAGE_SIZE, LIVE_VA + 2 * PAGE_SIZE),
                 "would split the live 2 MiB block at va 0x400000", e, 2);
    refused_live(map_pages_to_xen(LIVE_VA + PAGE_SIZE, mfn_add(mfn, 1), 1, PAGE_HYPERVISOR_RW),
                 "would split the live 2 MiB block at va 0x400000", e, 2);
    /* Remaps of the block: other attributes, other frames. */
    refused_live(map_pages_to_xen(LIVE_VA, mfn, 512, PAGE_HYPERVISOR_WC | _PAGE_BLOCK),
                 "would remap the live 2 MiB block at va 0x400000", e, 2);
    refused_live(map_pages_to_xen(LIVE_VA, mfn_add(mfn, 512), 512,
                                  PAGE_HYPERVISOR_RW | _PAGE_BLOCK),
                 "would remap the live 2 MiB block at va 0x400000", e, 2);
    /* What needs no break: the same mapping again, permissions of the whole block. */
    EXPECT_EQ(map_pages_to_xen(LIVE_VA, mfn, 512, PAGE_HYPERVISOR_RW | _PAGE_BLOCK), 0);
    EXPECT_EQ(modify_xen_mappings(LIVE_VA, LIVE_VA + BLOCK, PAGE_HYPERVISOR_RO), 0);
    leaf_is(LIVE_VA + 7 * PAGE_SIZE, 2, page_to_maddr(pg) + 7 * PAGE_SIZE, PAGE_HYPERVISOR_RO);
    /* Unmapping the whole block: its users are gone by then. */
    EXPECT_EQ(destroy_xen_mappings(LIVE_VA, LIVE_VA + BLOCK), 0);
    unmapped(LIVE_VA);

    /* Pages in a table. */
    EXPECT_EQ(map_pages_to_xen(LIVE_VA, mfn, 512, PAGE_HYPERVISOR_RW), 0);
    e = pt_lookup(LIVE_VA, &level);
    EXPECT_EQ(level, 3);
    refused_live(map_pages_to_xen(LIVE_VA, mfn, 512, PAGE_HYPERVISOR_RW | _PAGE_BLOCK),
                 "would merge the 512 live pages of the table at va 0x400000", e, 3);
    refused_live(map_pages_to_xen(LIVE_VA, page_to_mfn(other), 1, PAGE_HYPERVISOR_RW),
                 "would remap the live page at va 0x400000", e, 3);
    /* Unmapped, a page may be mapped anew; permissions change in place. */
    EXPECT_EQ(destroy_xen_mappings(LIVE_VA, LIVE_VA + PAGE_SIZE), 0);
    EXPECT_EQ(map_pages_to_xen(LIVE_VA, page_to_mfn(other), 1, PAGE_HYPERVISOR_RW), 0);
    leaf_is(LIVE_VA, 3, page_to_maddr(other), PAGE_HYPERVISOR_RW);
    EXPECT_EQ(modify_xen_mappings(LIVE_VA, LIVE_VA + BLOCK, PAGE_HYPERVISOR_RO), 0);
    leaf_is(LIVE_VA + PAGE_SIZE, 3, page_to_maddr(pg) + PAGE_SIZE, PAGE_HYPERVISOR_RO);
    EXPECT_EQ(destroy_xen_mappings(LIVE_VA, LIVE_VA + BLOCK), 0);
    EXPECT_EQ(pt_heap_tables(), tables);
    unmapped(LIVE_VA);
out:
    if (other)
        free_domheap_page(other);
    if (pg)
        free_domheap_pages(pg, 9);
}
