/*
 * Host-only page-table tests: the order of every store, barrier and TLB
 * invalidation (recorded by arch/host/pt.c), and the software MMU that makes
 * the vmap window real memory (faults on guard pages, read-only pages, stale
 * translations when a flush is missing).
 *
 * The order checker works from the rules of the Arm ARM, not from a trace of
 * a run: for each entry that stops being valid, the sequence must continue
 * with a DSB, then a TLB invalidation that reaches every translation the old
 * entry could have put in a TLB, then a DSB, before the entry is written
 * again or the operation returns; a valid entry may only be overwritten by a
 * valid entry when nothing but permissions changes, and then the same
 * barrier-invalidate-barrier must follow.
 */
#include <arch/pt.h>
#include <host/pt.h>
#include <lib/lib.h>
#include <mm/boot_alloc.h>
#include <mm/domain_page.h>
#include <mm/mm.h>
#include <mm/page_alloc.h>
#include <mm/pt.h>
#include <mm/setup_mm.h>
#include <mm/vmap.h>
#include <string.h>
#include <test/selftest.h>

#include "../vmap_test.h"
#include "heap_test.h"

#define LOG_CAPACITY 4096
#define PERMS ((lpae_t)LPAE_AP_RO | LPAE_XN)

static struct host_pt_event events[LOG_CAPACITY];

/*
 * Would the invalidation in event t remove what the entry written by w (at
 * va, level, holding `old`) may have put in a TLB?
 */
static bool tlbi_reaches(const struct host_pt_event *t, const struct host_pt_event *w, lpae_t old)
{
    uint64_t step = lpae_level_size(t->level);
    vaddr_t va = w->va;
    unsigned int level = w->level;

    if (lpae_is_table(old, level) && w->live_below) {
        /* Any of the live pages below may be cached: every one needs an address. */
        return t->level == 3 && t->va <= va &&
               t->va + t->nr * step >= va + lpae_level_size(level);
    }
    /*
     * A block or a page; or an empty table, whose only cached trace is the
     * walk through it (its pages were flushed when they were unmapped, which
     * the check of those writes enforces). One address inside is enough.
     */
    for (unsigned long i = 0; i < t->nr; i++) {
        uint64_t a = t->va + i * step;

        if (a >= va && a < va + lpae_level_size(level))
            return true;
    }
    return false;
}

/*
 * Checks events[from, n) for entry ev[i] going from `old`: is there, after
 * i and before the next write to the same entry (or the end), a DSB, then a
 * reaching TLBI, then a DSB? Returns the index of the second DSB, or -1.
 */
static int flushed_after(const struct host_pt_event *ev, unsigned int n, unsigned int i,
                         lpae_t old)
{
    enum { WANT_DSB, WANT_TLBI, WANT_DONE } state = WANT_DSB;

    for (unsigned int j = i + 1; j < n; j++) {
        if (ev[j].kind == HOST_PT_WRITE && ev[j].entry == ev[i].entry)
            return -1;
        if (state == WANT_DSB && ev[j].kind == HOST_PT_DSB)
            state = WANT_TLBI;
        else if (state == WANT_TLBI && ev[j].kind == HOST_PT_TLBI &&
                 tlbi_reaches(&ev[j], &ev[i], old))
            state = WANT_DONE;
        else if (state == WANT_DONE && ev[j].kind == HOST_PT_DSB)
            return (int)j;
    }
    return -1;
}

/* Number of rule violations in the log (each one described as a diagnostic). */
static unsigned int check_order(const struct host_pt_event *ev, unsigned int n)
{
    unsigned int bad = 0;

    for (unsigned int i = 0; i < n; i++) {
        const struct host_pt_event *w = &ev[i];

        if (w->kind != HOST_PT_WRITE || !lpae_is_valid(w->old))
            continue;
        if (lpae_is_valid(w->value)) {
            /* Live to live: only a permission change is allowed. */
            if ((w->old ^ w->value) & ~PERMS) {
                selftest_diag("step %u: live entry for va 0x%lx (level %u) overwritten "
                              "0x%llx -> 0x%llx without break-before-make", i,
                              (unsigned long)w->va, w->level, (unsigned long long)w->old,
                              (unsigned long long)w->value);
                bad++;
            } else if (flushed_after(ev, n, i, w->old) < 0) {
                selftest_diag("step %u: permissions of va 0x%lx changed without DSB, TLB "
                              "invalidation and DSB after", i, (unsigned long)w->va);
                bad++;
            }
            continue;
        }
        /* Live to invalid: the break. It must be completed before anything reuses it. */
        if (flushed_after(ev, n, i, w->old) < 0) {
            selftest_diag("step %u: entry for va 0x%lx (level %u) invalidated, but not "
                          "followed by DSB, a TLB invalidation reaching it, and DSB before "
                          "its next write", i, (unsigned long)w->va, w->level);
            bad++;
        }
    }
    return bad;
}

static unsigned int count_kind(const struct host_pt_event *ev, unsigned int n,
                               enum host_pt_event_kind kind)
{
    unsigned int c = 0;

    for (unsigned int i = 0; i < n; i++)
        c += ev[i].kind == kind;
    return c;
}

/* Index of the first write to entry e at or after `from` with that value (or any, if any). */
static int find_write(const struct host_pt_event *ev, unsigned int n, unsigned int from,
                      vaddr_t va, unsigned int level, bool want_valid)
{
    for (unsigned int i = from; i < n; i++)
        if (ev[i].kind == HOST_PT_WRITE && ev[i].va == va && ev[i].level == level &&
            lpae_is_valid(ev[i].value) == want_valid)
            return (int)i;
    return -1;
}

static unsigned int stop_log(void)
{
    bool overflow;
    unsigned int n = host_pt_log_stop(&overflow);

    EXPECT(!overflow);
    return n;
}

/* --- the checker itself ---------------------------------------------------------- */

#define EV_WRITE(o, v, a, l, live)                                                   \
    { .kind = HOST_PT_WRITE, .entry = &entry, .old = (o), .value = (v), .va = (a), .nr = 1, \
      .level = (l), .live_below = (live) }
#define EV_DSB { .kind = HOST_PT_DSB }
#define EV_TLBI(a, n, l) { .kind = HOST_PT_TLBI, .va = (a), .nr = (n), .level = (l) }

SELFTEST(pt_host, order_checker_catches_broken_sequences)
{
    lpae_t entry;
    const lpae_t page = 0x40000000ULL | LPAE_PAGE | LPAE_AF;
    const lpae_t other = 0x40001000ULL | LPAE_PAGE | LPAE_AF;
    const vaddr_t va = 0x10000000;
    struct host_pt_event good[] = {
        EV_WRITE(page, 0, va, 3, 0),
        EV_DSB,
        EV_TLBI(va, 1, 3),
        EV_DSB,
        EV_WRITE(0, other, va, 3, 0),
    };
    struct host_pt_event missing_tlbi[] = {
        EV_WRITE(page, 0, va, 3, 0),
        EV_DSB,
        EV_WRITE(0, other, va, 3, 0),
    };
    struct host_pt_event tlbi_elsewhere[] = {
        EV_WRITE(page, 0, va, 3, 0),
        EV_DSB,
        EV_TLBI(va + PAGE_SIZE, 4, 3),
        EV_DSB,
    };
    struct host_pt_event tlbi_before_dsb[] = {
        EV_WRITE(page, 0, va, 3, 0),
        EV_TLBI(va, 1, 3),
        EV_DSB,
    };
    struct host_pt_event live_overwrite[] = {
        EV_WRITE(page, other, va, 3, 0),
        EV_DSB,
        EV_TLBI(va, 1, 3),
        EV_DSB,
    };
    /* A table with live pages broken with a single-address flush: the other
     * pages may stay cached. */
    struct host_pt_event table_one_tlbi[] = {
        EV_WRITE(0x40000000ULL | LPAE_TABLE, 0, va, 2, 3),
        EV_DSB,
        EV_TLBI(va, 1, 2),
        EV_DSB,
    };

    EXPECT_EQ(check_order(good, ARRAY_SIZE(good)), 0);
    selftest_diag("the next five reports are expected:");
    EXPECT_EQ(check_order(missing_tlbi, ARRAY_SIZE(missing_tlbi)), 1);
    EXPECT_EQ(check_order(tlbi_elsewhere, ARRAY_SIZE(tlbi_elsewhere)), 1);
    EXPECT_EQ(check_order(tlbi_before_dsb, ARRAY_SIZE(tlbi_before_dsb)), 1);
    EXPECT_EQ(check_order(live_overwrite, ARRAY_SIZE(live_overwrite)), 1);
    EXPECT_EQ(check_order(table_one_tlbi, ARRAY_SIZE(table_one_tlbi)), 1);
    table_one_tlbi[0].live_below = 0;           /* empty: the walk is all there is to flush */
    EXPECT_EQ(check_order(table_one_tlbi, ARRAY_SIZE(table_one_tlbi)), 0);
    table_one_tlbi[0].live_below = 3;           /* live pages, every page flushed */
    table_one_tlbi[2] = (struct host_pt_event)EV_TLBI(va, 512, 3);
    EXPECT_EQ(check_order(table_one_tlbi, ARRAY_SIZE(table_one_tlbi)), 0);
    /* Permissions only: in place, flushed after. */
    live_overwrite[0].value = page | LPAE_AP_RO;
    EXPECT_EQ(check_order(live_overwrite, ARRAY_SIZE(live_overwrite)), 0);
}

/* --- the order of real operations -------------------------------------------------- */

SELFTEST(pt_host, new_mappings_need_no_tlb_flush)
{
    struct vmap_fixture fx;
    struct page_info *pg;
    unsigned int n;
    vaddr_t va;
    int link, leaf;

    if (!vmap_test_begin(&fx))
        return;
    va = (vaddr_t)vm_alloc(512, 512);          /* a 2 MiB with no level-3 table yet */
    pg = alloc_domheap_page(NULL, 0);
    if (EXPECT(va) && EXPECT(pg)) {
        host_pt_log_start(events, LOG_CAPACITY);
        EXPECT_EQ(map_pages_to_xen(va, page_to_mfn(pg), 1, PAGE_HYPERVISOR), 0);
        n = stop_log();
        EXPECT_EQ(check_order(events, n), 0);
        EXPECT_EQ(count_kind(events, n, HOST_PT_TLBI), 0);
        /* The new table is linked only after a DSB (its zeroed contents first),
         * the leaf written after that, and a DSB ends the operation. */
        link = find_write(events, n, 0, va, 2, true);
        leaf = find_write(events, n, 0, va, 3, true);
        EXPECT(link > 0 && events[link - 1].kind == HOST_PT_DSB);
        EXPECT(leaf > link);
        EXPECT(n > 0 && events[n - 1].kind == HOST_PT_DSB);
        EXPECT_EQ(destroy_xen_mappings(va, va + PAGE_SIZE), 0);
    }
    if (pg)
        free_domheap_page(pg);
    if (va)
        vm_free((void *)va);
    vmap_test_end(&fx);
}

SELFTEST(pt_host, remapping_a_live_page_breaks_before_make)
{
    struct vmap_fixture fx;
    struct page_info *pg;
    unsigned int n;
    vaddr_t va;
    int brk, make;

    if (!vmap_test_begin(&fx))
        return;
    va = (vaddr_t)vm_alloc(2, 1);
    pg = alloc_domheap_pages(NULL, 1, 0);
    if (EXPECT(va) && EXPECT(pg)) {
        EXPECT_EQ(map_pages_to_xen(va, page_to_mfn(pg), 2, PAGE_HYPERVISOR), 0);
        host_pt_log_start(events, LOG_CAPACITY);
        /* Swap the two frames. */
        EXPECT_EQ(map_pages_to_xen(va, mfn_add(page_to_mfn(pg), 1), 1, PAGE_HYPERVISOR), 0);
        EXPECT_EQ(map_pages_to_xen(va + PAGE_SIZE, page_to_mfn(pg), 1, PAGE_HYPERVISOR), 0);
        n = stop_log();
        EXPECT_EQ(check_order(events, n), 0);
        brk = find_write(events, n, 0, va, 3, false);
        make = find_write(events, n, 0, va, 3, true);
        EXPECT(brk >= 0 && make > brk && flushed_after(events, n, (unsigned int)brk,
                                                       events[brk].old) < make);
        EXPECT_EQ(pt_translate(va), page_to_maddr(pg) + PAGE_SIZE);
        EXPECT_EQ(pt_translate(va + PAGE_SIZE), page_to_maddr(pg));
        EXPECT_EQ(destroy_xen_mappings(va, va + 2 * PAGE_SIZE), 0);
    }
    if (pg)
        free_domheap_pages(pg, 1);
    if (va)
        vm_free((void *)va);
    vmap_test_end(&fx);
}

SELFTEST(pt_host, splitting_and_joining_blocks_break_before_make)
{
    struct vmap_fixture fx;
    struct page_info *pg;
    unsigned long tables;
    unsigned int n, level;
    vaddr_t va;
    int brk;

    if (!vmap_test_begin(&fx))
        return;
    tables = pt_heap_tables();
    va = (vaddr_t)vm_alloc(512, 512);
    pg = alloc_domheap_pages(NULL, 9, MEMF_no_scrub);
    if (!EXPECT(va) || !EXPECT(pg))
        goto out;
    EXPECT_EQ(map_pages_to_xen(va, page_to_mfn(pg), 512, PAGE_HYPERVISOR | _PAGE_BLOCK), 0);

    /* Block -> table: one page of it goes read-only. */
    host_pt_log_start(events, LOG_CAPACITY);
    EXPECT_EQ(modify_xen_mappings(va + 3 * PAGE_SIZE, va + 4 * PAGE_SIZE, PAGE_HYPERVISOR_RO), 0);
    n = stop_log();
    EXPECT_EQ(check_order(events, n), 0);
    brk = find_write(events, n, 0, va, 2, false);
    EXPECT(brk >= 0 && lpae_is_mapping(events[brk].old, 2));
    EXPECT(brk >= 0 && find_write(events, n, (unsigned int)brk, va, 2, true) > brk);
    EXPECT(lpae_is_table(pt_lookup(va, &level), 2) || level == 3);
    EXPECT_EQ(pt_heap_tables(), tables + 1);

    /* Table -> block: the whole 2 MiB mapped again with blocks allowed. The
     * table's 512 pages must all be flushed, and the table freed. */
    host_pt_log_start(events, LOG_CAPACITY);
    EXPECT_EQ(map_pages_to_xen(va, page_to_mfn(pg), 512, PAGE_HYPERVISOR | _PAGE_BLOCK), 0);
    n = stop_log();
    EXPECT_EQ(check_order(events, n), 0);
    brk = find_write(events, n, 0, va, 2, false);
    EXPECT(brk >= 0 && lpae_is_table(events[brk].old, 2));
    pt_lookup(va, &level);
    EXPECT_EQ(level, 2);
    EXPECT_EQ(pt_heap_tables(), tables);

    /* Destroying the block: break, flush, and nothing written after. */
    host_pt_log_start(events, LOG_CAPACITY);
    EXPECT_EQ(destroy_xen_mappings(va, va + PT_BLOCK_SIZE), 0);
    n = stop_log();
    EXPECT_EQ(check_order(events, n), 0);
    EXPECT_EQ(count_kind(events, n, HOST_PT_WRITE), 1);
out:
    if (pg)
        free_domheap_pages(pg, 9);
    if (va)
        vm_free((void *)va);
    vmap_test_end(&fx);
}

SELFTEST(pt_host, unmapping_flushes_before_freeing_the_table)
{
    struct vmap_fixture fx;
    struct page_info *pg;
    unsigned long tables;
    unsigned int n;
    vaddr_t va;
    int leaf, link;

    if (!vmap_test_begin(&fx))
        return;
    tables = pt_heap_tables();
    va = (vaddr_t)vm_alloc(512, 512);
    pg = alloc_domheap_pages(NULL, 2, 0);
    if (EXPECT(va) && EXPECT(pg)) {
        EXPECT_EQ(map_pages_to_xen(va + PAGE_SIZE, page_to_mfn(pg), 4, PAGE_HYPERVISOR), 0);
        EXPECT_EQ(pt_heap_tables(), tables + 1);
        host_pt_log_start(events, LOG_CAPACITY);
        EXPECT_EQ(destroy_xen_mappings(va, va + PT_BLOCK_SIZE), 0);
        n = stop_log();
        /* Four leaves and the table entry broken, each flushed before the end... */
        EXPECT_EQ(check_order(events, n), 0);
        EXPECT_EQ(count_kind(events, n, HOST_PT_WRITE), 5);
        /* ...and the leaves' flush complete before the table is unlinked. */
        leaf = find_write(events, n, 0, va + PAGE_SIZE, 3, false);
        link = find_write(events, n, 0, va, 2, false);
        EXPECT(leaf >= 0 && link > flushed_after(events, n, (unsigned int)leaf, events[leaf].old));
        EXPECT_EQ(pt_heap_tables(), tables);
    }
    if (pg)
        free_domheap_pages(pg, 2);
    if (va)
        vm_free((void *)va);
    vmap_test_end(&fx);
}

SELFTEST(pt_host, permission_changes_are_flushed)
{
    struct vmap_fixture fx;
    struct page_info *pg;
    unsigned int n;
    vaddr_t va;

    if (!vmap_test_begin(&fx))
        return;
    va = (vaddr_t)vm_alloc(3, 1);
    pg = alloc_domheap_pages(NULL, 2, 0);
    if (EXPECT(va) && EXPECT(pg)) {
        EXPECT_EQ(map_pages_to_xen(va, page_to_mfn(pg), 3, PAGE_HYPERVISOR), 0);
        host_pt_log_start(events, LOG_CAPACITY);
        EXPECT_EQ(modify_xen_mappings(va, va + 3 * PAGE_SIZE, PAGE_HYPERVISOR_RO), 0);
        n = stop_log();
        EXPECT_EQ(check_order(events, n), 0);
        EXPECT_EQ(count_kind(events, n, HOST_PT_WRITE), 3);
        EXPECT_EQ(count_kind(events, n, HOST_PT_TLBI), 1);     /* batched */
        EXPECT_EQ(destroy_xen_mappings(va, va + 3 * PAGE_SIZE), 0);
    }
    if (pg)
        free_domheap_pages(pg, 2);
    if (va)
        vm_free((void *)va);
    vmap_test_end(&fx);
}

/*
 * Where the last arch_pt_sync_exec of the log is: -1 if none, else its index,
 * which must come after every TLB invalidation and its completing DSB.
 */
static int sync_exec_at(const struct host_pt_event *ev, unsigned int n)
{
    int at = -1;

    for (unsigned int i = 0; i < n; i++)
        if (ev[i].kind == HOST_PT_SYNC_EXEC)
            at = (int)i;
    for (unsigned int i = (unsigned int)(at + 1); at >= 0 && i < n; i++)
        if (ev[i].kind != HOST_PT_DSB)
            return -2;                          /* something after it */
    if (at > 0 && ev[at - 1].kind != HOST_PT_DSB)
        return -2;                              /* not after a completed flush */
    return at;
}

/* ARMv7 B2.2.6: changing what a VA executes needs branch-predictor invalidation. */
SELFTEST(pt_host, executable_mappings_sync_the_branch_predictors)
{
    struct vmap_fixture fx;
    struct page_info *pg = NULL;
    unsigned int n;
    vaddr_t va = 0;

    if (!vmap_test_begin(&fx))
        return;
    va = (vaddr_t)vm_alloc(512, 512);
    pg = alloc_domheap_pages(NULL, 9, MEMF_no_scrub);
    if (!EXPECT(va) || !EXPECT(pg))
        goto out;

    /* Data mappings: never. */
    host_pt_log_start(events, LOG_CAPACITY);
    EXPECT_EQ(map_pages_to_xen(va, page_to_mfn(pg), 2, PAGE_HYPERVISOR_RW), 0);
    EXPECT_EQ(modify_xen_mappings(va, va + 2 * PAGE_SIZE, PAGE_HYPERVISOR_RO), 0);
    EXPECT_EQ(destroy_xen_mappings(va, va + 2 * PAGE_SIZE), 0);
    n = stop_log();
    EXPECT_EQ(count_kind(events, n, HOST_PT_SYNC_EXEC), 0);

    /* A new executable page, made data, made executable again, removed: each time. */
    host_pt_log_start(events, LOG_CAPACITY);
    EXPECT_EQ(map_pages_to_xen(va, page_to_mfn(pg), 1, PAGE_HYPERVISOR_RX), 0);
    n = stop_log();
    EXPECT_EQ(count_kind(events, n, HOST_PT_SYNC_EXEC), 1);
    EXPECT(sync_exec_at(events, n) >= 0);
    host_pt_log_start(events, LOG_CAPACITY);
    EXPECT_EQ(modify_xen_mappings(va, va + PAGE_SIZE, PAGE_HYPERVISOR_RO), 0);
    n = stop_log();
    EXPECT_EQ(count_kind(events, n, HOST_PT_SYNC_EXEC), 1);
    EXPECT(sync_exec_at(events, n) > 0);        /* after the flush of the change */
    EXPECT_EQ(modify_xen_mappings(va, va + PAGE_SIZE, PAGE_HYPERVISOR_RX), 0);
    host_pt_log_start(events, LOG_CAPACITY);
    EXPECT_EQ(destroy_xen_mappings(va, va + PAGE_SIZE), 0);
    n = stop_log();
    EXPECT_EQ(count_kind(events, n, HOST_PT_SYNC_EXEC), 1);
    EXPECT(sync_exec_at(events, n) > 0);

    /* One executable page in a table that a data block replaces: the table's
     * pages leave without writes of their own, and still count. */
    EXPECT_EQ(map_pages_to_xen(va + 5 * PAGE_SIZE, page_to_mfn(pg), 1, PAGE_HYPERVISOR_RX), 0);
    host_pt_log_start(events, LOG_CAPACITY);
    EXPECT_EQ(map_pages_to_xen(va, page_to_mfn(pg), 512, PAGE_HYPERVISOR_RW | _PAGE_BLOCK), 0);
    n = stop_log();
    EXPECT_EQ(count_kind(events, n, HOST_PT_SYNC_EXEC), 1);
    EXPECT(sync_exec_at(events, n) > 0);
    EXPECT_EQ(destroy_xen_mappings(va, va + PT_BLOCK_SIZE), 0);
out:
    if (pg)
        free_domheap_pages(pg, 9);
    if (va)
        vm_free((void *)va);
    vmap_test_end(&fx);
}

SELFTEST(pt_host, vmap_and_vmalloc_follow_the_rules)
{
    struct vmap_fixture fx;
    unsigned int n;
    void *p;

    if (!vmap_test_begin(&fx))
        return;
    host_pt_log_start(events, LOG_CAPACITY);
    p = vmalloc(40 * PAGE_SIZE);
    if (EXPECT(p))
        vfree(p);
    p = vm_alloc(40000, 1);                     /* grows the bitmap; free shrinks it */
    if (EXPECT(p))
        vm_free(p);
    n = stop_log();
    EXPECT_EQ(check_order(events, n), 0);
    EXPECT(count_kind(events, n, HOST_PT_TLBI) > 0);
    vmap_test_end(&fx);
}

/* --- running out of memory -------------------------------------------------------- */

SELFTEST(pt_host, no_memory_for_a_table_is_an_error_not_a_crash)
{
    static struct heap_hoard hoard;
    struct vmap_fixture fx;
    struct page_info *pg, *blk;
    unsigned int level;
    vaddr_t va, vb;

    if (!vmap_test_begin(&fx))
        return;
    va = (vaddr_t)vm_alloc(512, 512);
    vb = (vaddr_t)vm_alloc(512, 512);
    pg = alloc_domheap_page(NULL, 0);
    blk = alloc_domheap_pages(NULL, 9, MEMF_no_scrub);
    if (!EXPECT(va && vb && pg && blk))
        goto out;
    EXPECT_EQ(map_pages_to_xen(vb, page_to_mfn(blk), 512, PAGE_HYPERVISOR | _PAGE_BLOCK), 0);

    heap_hoard(&hoard, 0);
    /* A fresh 2 MiB needs a table. */
    EXPECT_EQ(map_pages_to_xen(va, page_to_mfn(pg), 1, PAGE_HYPERVISOR), -ENOMEM);
    EXPECT(!lpae_is_valid(pt_lookup(va, &level)));
    /* Splitting a block needs a table: the block stays whole. */
    EXPECT_EQ(destroy_xen_mappings(vb, vb + PAGE_SIZE), -ENOMEM);
    EXPECT(lpae_is_mapping(pt_lookup(vb, &level), 2));
    EXPECT_EQ(level, 2);
    EXPECT(!pt_lock_is_held());
    heap_hoard_release(&hoard);

    EXPECT_EQ(destroy_xen_mappings(vb, vb + PT_BLOCK_SIZE), 0);
out:
    if (blk)
        free_domheap_pages(blk, 9);
    if (pg)
        free_domheap_page(pg);
    if (va)
        vm_free((void *)va);
    if (vb)
        vm_free((void *)vb);
    vmap_test_end(&fx);
}

/* --- the software MMU ------------------------------------------------------------- */

SELFTEST(mmu_host, vmalloc_memory_is_real_memory)
{
    struct vmap_fixture fx;
    uint32_t *p, *direct;

    if (!vmap_test_begin(&fx))
        return;
    p = vmalloc(2 * PAGE_SIZE);
    if (EXPECT(p)) {
        p[PAGE_SIZE / 4 + 1] = 0xc0ffee11;
        /* The same frame through its other mapping. */
        direct = map_domain_page(paddr_to_mfn(pt_translate((vaddr_t)p + PAGE_SIZE)));
        EXPECT_EQ(direct[1], 0xc0ffee11);
        direct[2] = 0x5eed;
        unmap_domain_page(direct);
        EXPECT_EQ(p[PAGE_SIZE / 4 + 2], 0x5eed);
        EXPECT(host_mmu_cached_pages() > 0);
        vfree(p);
    }
    vmap_test_end(&fx);
}

SELFTEST(mmu_host, guard_page_access_faults_and_is_reported)
{
    struct vmap_fixture fx;
    unsigned int before = host_last_fault.count;
    uint8_t *p;
    uint32_t v = 0xdeadbeef;
    char what[96];

    if (!vmap_test_begin(&fx))
        return;
    p = vmalloc(2 * PAGE_SIZE);
    if (EXPECT(p)) {
        EXPECT_EQ(host_probe_read32(p + PAGE_SIZE + 12, &v), 0);
        EXPECT_EQ(host_probe_read32(p + 2 * PAGE_SIZE + 4, &v), -14);
        EXPECT_EQ(host_last_fault.count, before + 1);
        EXPECT_EQ(host_last_fault.va, (vaddr_t)p + 2 * PAGE_SIZE + 4);
        EXPECT_EQ(host_last_fault.kind, HOST_FAULT_TRANSLATION);
        EXPECT_EQ(host_last_fault.level, 3);
        EXPECT(vm_describe((void *)host_last_fault.va, what, sizeof(what)));
        EXPECT(strstr(what, "guard page after the 2-page allocation"));
        EXPECT_EQ(host_probe_write32(p + 2 * PAGE_SIZE, 1), -14);
        vfree(p);
    }
    vmap_test_end(&fx);
}

SELFTEST(mmu_host, permissions_are_enforced)
{
    struct vmap_fixture fx;
    struct page_info *pg;
    uint32_t v = 0;
    mfn_t mfn;
    uint32_t *ro;

    if (!vmap_test_begin(&fx))
        return;
    pg = alloc_domheap_page(NULL, 0);
    if (!EXPECT(pg))
        goto out;
    mfn = page_to_mfn(pg);
    ro = __vmap(&mfn, 1, 1, 1, PAGE_HYPERVISOR_RO);
    if (EXPECT(ro)) {
        EXPECT_EQ(host_probe_read32(ro, &v), 0);
        EXPECT_EQ(host_probe_write32(ro, 7), -14);
        EXPECT_EQ(host_last_fault.kind, HOST_FAULT_PERMISSION);
        /* Made writable: the flush drops the read-only translation. */
        EXPECT_EQ(modify_xen_mappings((vaddr_t)ro, (vaddr_t)ro + PAGE_SIZE, PAGE_HYPERVISOR_RW), 0);
        EXPECT_EQ(host_probe_write32(ro, 7), 0);
        EXPECT_EQ(host_probe_read32(ro, &v), 0);
        EXPECT_EQ(v, 7);
        vunmap(ro);
    }
    free_domheap_page(pg);
out:
    vmap_test_end(&fx);
}

SELFTEST(mmu_host, unmapped_memory_faults)
{
    struct vmap_fixture fx;
    uint32_t *p, v;

    if (!vmap_test_begin(&fx))
        return;
    p = vmalloc(PAGE_SIZE);
    if (EXPECT(p)) {
        p[0] = 1;                       /* now in the software TLB */
        vfree(p);
        EXPECT_EQ(host_probe_read32(p, &v), -14);
        EXPECT_EQ(host_last_fault.kind, HOST_FAULT_TRANSLATION);
    }
    vmap_test_end(&fx);
}

/* The model is only worth something if it would catch a missing flush. */
SELFTEST(mmu_host, a_missing_flush_leaves_a_stale_translation)
{
    struct vmap_fixture fx;
    unsigned int level;
    uint32_t *p, v = 0;
    lpae_t *entry, saved;

    if (!vmap_test_begin(&fx))
        return;
    p = vmalloc(PAGE_SIZE);
    if (EXPECT(p)) {
        lpae_t *table;

        p[0] = 42;
        pt_lookup((vaddr_t)p, &level);
        EXPECT_EQ(level, 3);
        table = arch_pt_map_table(lpae_paddr(arch_pt_second(0)[lpae_index(2, (vaddr_t)p)]));
        entry = &table[lpae_index(3, (vaddr_t)p)];
        saved = *entry;
        arch_pt_write(entry, 0, (vaddr_t)p, 3);
        arch_pt_barrier();
        EXPECT_EQ(host_probe_read32(p, &v), 0);    /* stale, as on hardware */
        EXPECT_EQ(v, 42);
        arch_pt_flush_tlb((vaddr_t)p, 1, 3);
        EXPECT_EQ(host_probe_read32(p, &v), -14);
        arch_pt_write(entry, saved, (vaddr_t)p, 3);
        arch_pt_barrier();
        arch_pt_unmap_table(table);
        vfree(p);
    }
    vmap_test_end(&fx);
}

/* --- before the heap ------------------------------------------------------------- */

SELFTEST(pt_host, early_tables_come_from_the_boot_allocator)
{
    const vaddr_t va = 0x3fe00000;              /* the vmap window's last 2 MiB, unused here */
    const struct bootinfo *bi = host_machine_bootinfo();
    lpae_t *l2e = &arch_pt_second(0)[lpae_index(2, va)];
    paddr_t ram_start, ram_end, table;
    unsigned long boot_free;
    mfn_t frame;

    if (!EXPECT(bi) || !EXPECT(!vm_is_ready()) || !EXPECT(!lpae_is_valid(*l2e)))
        return;
    ram_start = bi->usable[bi->nr_usable - 1].start;
    ram_end = bi->usable[bi->nr_usable - 1].end;

    /* Back to the state before setup_mm(): a boot allocator, no heap. */
    teardown_mm();
    init_boot_pages(ram_start, ram_end);
    boot_free = boot_alloc_free_pages();
    frame = paddr_to_mfn(ram_start);

    EXPECT_EQ(map_pages_to_xen(va, frame, 1, PAGE_HYPERVISOR), 0);
    /* The table is the boot allocator's top page, and it maps the frame. */
    EXPECT_EQ(boot_alloc_free_pages(), boot_free - 1);
    EXPECT(lpae_is_table(*l2e, 2));
    table = lpae_paddr(*l2e);
    EXPECT_EQ(table, ram_end - PAGE_SIZE);
    EXPECT_EQ(pt_translate(va), mfn_to_paddr(frame));
    EXPECT_EQ(pt_heap_tables(), 0);

    /* Unmapping keeps a boot table linked (it is not the heap's to take back). */
    EXPECT_EQ(destroy_xen_mappings(va, va + PAGE_SIZE), 0);
    EXPECT(lpae_is_table(*l2e, 2));
    EXPECT_EQ(pt_translate(va), PT_NO_PADDR);

    /* This machine goes away: unlink its table by hand, then boot the default one again. */
    arch_pt_write(l2e, 0, va, 2);
    arch_pt_barrier();
    arch_pt_flush_tlb(va, 1, 2);
    heap_test_restore();
}
