/*
 * Use after free in the vmap region (issue 12): with the debug builds'
 * quarantine (common/mm/vmap.c), a pointer kept past vfree or vunmap faults,
 * even after the space was asked for again, and the fault report names the
 * freed allocation. The fault is caught here through arch_probe_read32; the
 * crash test lets the unexpected-fault report speak (tests/run-all.sh).
 */
#include <asm/traps.h>
#include <lib/lib.h>
#include <mm/mm.h>
#include <mm/page_alloc.h>
#include <mm/vmap.h>
#include <string.h>
#include <test/selftest.h>

SELFTEST(use_after_free, a_stale_vmalloc_pointer_faults)
{
    uint32_t *p, *q[3], value;
    char what[128];

    /* The build's depth, read by setting it: release builds have none. */
    if (vm_quarantine_set(VM_QUARANTINE_MAX) == 0) {
        vm_quarantine_set(0);
        selftest_skip("no quarantine in this build: freed vmap space is reused at once");
        return;
    }
    p = vmalloc(PAGE_SIZE);
    if (!EXPECT(p))
        return;
    p[0] = 0xa110c8ed;
    vfree(p);
    /* The same request again, and more: none of them gets p's page. */
    for (unsigned int i = 0; i < 3; i++) {
        q[i] = vmalloc(PAGE_SIZE);
        if (EXPECT(q[i])) {
            EXPECT_NE((uintptr_t)q[i], (uintptr_t)p);
            q[i][0] = 0x0e11e4;
        }
    }
    EXPECT_EQ(arch_probe_read32(p, &value), -14);
    EXPECT_EQ(last_fault.hdfar, (uint32_t)(uintptr_t)p);
    EXPECT(vm_describe(p, what, sizeof(what)) &&
           strstr(what, "freed 1-page allocation") && strstr(what, "use after free"));
    selftest_diag("the stale pointer %p is %s", (void *)p, what);
    for (unsigned int i = 0; i < 3; i++)
        vfree(q[i]);
}

SELFTEST(use_after_free, a_stale_vmap_pointer_faults)
{
    struct page_info *pg = alloc_domheap_page(NULL, 0);
    mfn_t mfn;
    uint32_t *p, *q, value;

    if (!EXPECT(pg))
        return;
    if (vm_quarantine_set(VM_QUARANTINE_MAX) == 0) {
        vm_quarantine_set(0);
        free_domheap_page(pg);
        selftest_skip("no quarantine in this build: freed vmap space is reused at once");
        return;
    }
    mfn = page_to_mfn(pg);
    p = vmap(&mfn, 1);
    if (EXPECT(p)) {
        vunmap(p);
        q = vmap(&mfn, 1);                  /* the same frame, mapped again elsewhere */
        EXPECT_NE((uintptr_t)q, (uintptr_t)p);
        EXPECT_EQ(arch_probe_write32(p, 1), -14);
        EXPECT_EQ(arch_probe_read32(p, &value), -14);
        if (q)
            vunmap(q);
    }
    free_domheap_page(pg);
}

static uint32_t *volatile stale;

/* Expected: the report names the address and calls it freed, status 2. */
SELFTEST_MANUAL(crash, use_after_vfree)
{
    uint32_t *again;

    stale = vmalloc(PAGE_SIZE);
    if (!EXPECT(stale))
        return;
    vfree(stale);
    again = vmalloc(PAGE_SIZE);
    printk("crash: reading %p after vfree (the space was asked for again: %p)\n",
           (void *)stale, (void *)again);
    (void)*(volatile uint32_t *)stale;
    EXPECT(false);              /* not reached */
}
