/*
 * Host-only p2m tests: the order of every stage-2 store, barrier and VMID invalidation
 * (recorded by arch/host/p2m.c).
 *
 * The rule checked, from the Arm ARM's break-before-make requirement for stage 2: a valid
 * entry is never overwritten by a different valid one; once it is written invalid, the
 * sequence continues with a DSB, then an invalidation of the p2m's VMID, then a DSB (the
 * completion), before that entry is written again or the operation ends. A new table must
 * also be published (a DSB after its contents were written and before the entry linking
 * it): the log shows that as a DSB between the table's allocation and its link, which
 * tests check where they make tables.
 */
#include <domain/domain.h>
#include <host/p2m.h>
#include <lib/errno.h>
#include <lib/lib.h>
#include <mm/mm.h>
#include <mm/p2m.h>
#include <mm/page_alloc.h>
#include <mm/setup_mm.h>
#include <test/hooks.h>
#include <test/selftest.h>

#define LOG_CAPACITY 8192
#define PAGES_2M  (1UL << 9)
#define PAGES_1G  (1UL << 18)

static struct host_p2m_event events[LOG_CAPACITY];

/* After the break at ev[i]: DSB, TLBI of vmid, DSB before the entry's next write? */
static bool completed_after(const struct host_p2m_event *ev, unsigned int n, unsigned int i,
                            unsigned int vmid)
{
    enum { WANT_DSB, WANT_TLBI, WANT_DONE } state = WANT_DSB;

    for (unsigned int j = i + 1; j < n; j++) {
        if (ev[j].kind == HOST_P2M_WRITE && ev[j].entry == ev[i].entry)
            return false;
        if (state == WANT_DSB && ev[j].kind == HOST_P2M_DSB)
            state = WANT_TLBI;
        else if (state == WANT_TLBI && ev[j].kind == HOST_P2M_TLBI && ev[j].vmid == vmid)
            state = WANT_DONE;
        else if (state == WANT_DONE && ev[j].kind == HOST_P2M_DSB)
            return true;
    }
    return false;
}

/* Number of violations in ev[0, n) for a p2m of VMID vmid (each described). */
static unsigned int check_bbm(const struct host_p2m_event *ev, unsigned int n, unsigned int vmid)
{
    unsigned int bad = 0;

    for (unsigned int i = 0; i < n; i++) {
        const struct host_p2m_event *w = &ev[i];

        if (w->kind != HOST_P2M_WRITE || !lpae_is_valid(w->old))
            continue;
        if (lpae_is_valid(w->value)) {
            selftest_diag("step %u: valid stage-2 entry for IPA 0x%llx (level %u) overwritten "
                          "0x%llx -> 0x%llx without break-before-make", i,
                          (unsigned long long)w->ipa, w->level, (unsigned long long)w->old,
                          (unsigned long long)w->value);
            bad++;
        } else if (!completed_after(ev, n, i, vmid)) {
            selftest_diag("step %u: entry for IPA 0x%llx (level %u) broken, but not followed "
                          "by DSB, TLBI of VMID %u and DSB before its next write", i,
                          (unsigned long long)w->ipa, w->level, vmid);
            bad++;
        }
    }
    return bad;
}

static unsigned int stop_log(void)
{
    bool overflow;
    unsigned int n = host_p2m_log_stop(&overflow);

    EXPECT(!overflow);
    return n;
}

/* Breaks (valid -> 0) at `level` in the log. */
static unsigned int breaks_at(const struct host_p2m_event *ev, unsigned int n, unsigned int level)
{
    unsigned int c = 0;

    for (unsigned int i = 0; i < n; i++)
        c += ev[i].kind == HOST_P2M_WRITE && ev[i].level == level && lpae_is_valid(ev[i].old) &&
             !lpae_is_valid(ev[i].value);
    return c;
}

static unsigned int count_kind(const struct host_p2m_event *ev, unsigned int n,
                               enum host_p2m_event_kind kind)
{
    unsigned int c = 0;

    for (unsigned int i = 0; i < n; i++)
        c += ev[i].kind == kind;
    return c;
}

/* --- the checker itself ---------------------------------------------------------- */

#define EV_WRITE(o, v) { .kind = HOST_P2M_WRITE, .entry = &entry, .old = (o), .value = (v), \
                         .ipa = 0x40000000, .level = 2 }
#define EV_DSB { .kind = HOST_P2M_DSB }
#define EV_TLBI(v) { .kind = HOST_P2M_TLBI, .vmid = (v) }

SELFTEST(p2m_host, bbm_checker_catches_broken_sequences)
{
    lpae_t entry;
    const lpae_t block = 0x40000000ULL | LPAE_BLOCK | S2_AF;
    const lpae_t table = 0x80000000ULL | LPAE_TABLE;
    struct host_p2m_event good[] = {
        EV_WRITE(block, 0), EV_DSB, EV_TLBI(5), EV_DSB, EV_WRITE(0, table),
    };
    struct host_p2m_event no_break[] = {
        EV_WRITE(block, table), EV_DSB, EV_TLBI(5), EV_DSB,
    };
    struct host_p2m_event no_tlbi[] = {
        EV_WRITE(block, 0), EV_DSB, EV_WRITE(0, table),
    };
    struct host_p2m_event wrong_vmid[] = {
        EV_WRITE(block, 0), EV_DSB, EV_TLBI(6), EV_DSB, EV_WRITE(0, table),
    };
    struct host_p2m_event tlbi_before_dsb[] = {
        EV_WRITE(block, 0), EV_TLBI(5), EV_DSB, EV_WRITE(0, table),
    };
    struct host_p2m_event not_completed[] = {
        EV_WRITE(block, 0), EV_DSB, EV_TLBI(5), EV_WRITE(0, table), EV_DSB,
    };
    struct host_p2m_event removal_unflushed[] = {
        EV_WRITE(block, 0), EV_DSB,
    };

    EXPECT_EQ(check_bbm(good, ARRAY_SIZE(good), 5), 0);
    selftest_diag("the following %u reports are expected:", 6);
    EXPECT_EQ(check_bbm(no_break, ARRAY_SIZE(no_break), 5), 1);
    EXPECT_EQ(check_bbm(no_tlbi, ARRAY_SIZE(no_tlbi), 5), 1);
    EXPECT_EQ(check_bbm(wrong_vmid, ARRAY_SIZE(wrong_vmid), 5), 1);
    EXPECT_EQ(check_bbm(tlbi_before_dsb, ARRAY_SIZE(tlbi_before_dsb), 5), 1);
    EXPECT_EQ(check_bbm(not_completed, ARRAY_SIZE(not_completed), 5), 1);
    EXPECT_EQ(check_bbm(removal_unflushed, ARRAY_SIZE(removal_unflushed), 5), 1);
}

/* --- the real p2m -------------------------------------------------------------------- */

SELFTEST(p2m_host, every_change_is_break_before_make)
{
    struct domain d;
    struct p2m_domain *p2m = p2m_get_hostp2m(&d);
    const mfn_t m1 = _mfn(0x100000);
    const gfn_t g = _gfn(PAGES_1G);
    unsigned long before;
    unsigned int n;

    if (!EXPECT(mm_layout() != NULL))
        return;
    before = avail_domheap_pages();
    domain_init(&d, 20, 0);
    if (!EXPECT_EQ(p2m_init(&d), 0))
        return;

    /* New mappings: no break, no flush; each link after a DSB that publishes the table. */
    host_p2m_log_start(events, LOG_CAPACITY);
    EXPECT_EQ(p2m_set_entry(p2m, g, 1, m1, p2m_ram_rw), 0);
    n = stop_log();
    EXPECT_EQ(check_bbm(events, n, p2m->vmid), 0);
    EXPECT_EQ(count_kind(events, n, HOST_P2M_TLBI), 0);
    EXPECT_EQ(count_kind(events, n, HOST_P2M_WRITE), 3);      /* level 1, level 2, page */
    for (unsigned int i = 0; i < n; i++)
        if (events[i].kind == HOST_P2M_WRITE)
            EXPECT(i > 0 && events[i - 1].kind == HOST_P2M_DSB);
    EXPECT(n > 0 && events[n - 1].kind == HOST_P2M_DSB);

    /* Remove it, put a 1 GiB block over the emptied tables: breaks at level 3 and 1. */
    host_p2m_log_start(events, LOG_CAPACITY);
    EXPECT_EQ(p2m_set_entry(p2m, g, 1, INVALID_MFN, p2m_invalid), 0);
    EXPECT_EQ(p2m_set_entry(p2m, g, PAGES_1G, m1, p2m_ram_rw), 0);
    n = stop_log();
    EXPECT_EQ(check_bbm(events, n, p2m->vmid), 0);
    EXPECT_EQ(breaks_at(events, n, 3), 1);
    EXPECT_EQ(breaks_at(events, n, 1), 1);
    EXPECT_EQ(p2m->nr_tables, 0);

    /* Remove one page from the block: two splits (1 GiB -> 2 MiB -> 4 KiB), then the page. */
    host_p2m_log_start(events, LOG_CAPACITY);
    EXPECT_EQ(guest_physmap_remove_page(&d, gfn_add(g, 0x201), mfn_add(m1, 0x201), 0), 0);
    n = stop_log();
    EXPECT_EQ(check_bbm(events, n, p2m->vmid), 0);
    EXPECT_EQ(breaks_at(events, n, 1), 1);
    EXPECT_EQ(breaks_at(events, n, 2), 1);
    EXPECT_EQ(breaks_at(events, n, 3), 1);
    EXPECT_EQ(count_kind(events, n, HOST_P2M_TLBI), 3);

    /* Remove the whole GiB: one break at level 1, the tables below freed. */
    host_p2m_log_start(events, LOG_CAPACITY);
    EXPECT_EQ(p2m_set_entry(p2m, g, PAGES_1G, INVALID_MFN, p2m_invalid), 0);
    n = stop_log();
    EXPECT_EQ(check_bbm(events, n, p2m->vmid), 0);
    EXPECT_EQ(breaks_at(events, n, 1), 1);
    EXPECT_EQ(count_kind(events, n, HOST_P2M_WRITE), 1);
    EXPECT_EQ(p2m->nr_tables, 0);

    /* A refused overlap writes nothing at all. */
    EXPECT_EQ(p2m_set_entry(p2m, g, 4, m1, p2m_ram_rw), 0);
    host_p2m_log_start(events, LOG_CAPACITY);
    EXPECT_EQ(p2m_set_entry(p2m, g, PAGES_2M, m1, p2m_ram_rw), -EBUSY);
    n = stop_log();
    EXPECT_EQ(n, 0);

    /* Teardown invalidates the VMID before the tables go back to the heap. */
    host_p2m_log_start(events, LOG_CAPACITY);
    {
        unsigned int vmid = p2m->vmid;

        p2m_teardown(&d);
        n = stop_log();
        EXPECT(n >= 2 && events[0].kind == HOST_P2M_TLBI && events[0].vmid == vmid);
    }
    EXPECT_EQ(avail_domheap_pages(), before);
}

/*
 * Two p2ms: a change in one invalidates only its own VMID, never the other's (TLBIALLIS
 * under that p2m's VTTBR on the image, not TLBIALLNSNHIS).
 */
SELFTEST(p2m_host, flush_names_the_right_vmid)
{
    struct domain a, b;
    unsigned long before;
    unsigned int n;

    if (!EXPECT(mm_layout() != NULL))
        return;
    before = avail_domheap_pages();
    domain_init(&a, 21, 0);
    domain_init(&b, 22, 0);
    if (!EXPECT_EQ(p2m_init(&a), 0))
        return;
    if (!EXPECT_EQ(p2m_init(&b), 0)) {
        p2m_teardown(&a);
        return;
    }
    EXPECT_NE(a.p2m.vmid, b.p2m.vmid);
    EXPECT_EQ(guest_physmap_add_page(&a, _gfn(0x100), _mfn(0x40000), 0), 0);
    EXPECT_EQ(guest_physmap_add_page(&b, _gfn(0x100), _mfn(0x40000), 0), 0);
    host_p2m_log_start(events, LOG_CAPACITY);
    EXPECT_EQ(guest_physmap_remove_page(&b, _gfn(0x100), _mfn(0x40000), 0), 0);
    n = stop_log();
    EXPECT_EQ(check_bbm(events, n, b.p2m.vmid), 0);
    for (unsigned int i = 0; i < n; i++)
        if (events[i].kind == HOST_P2M_TLBI)
            EXPECT_EQ(events[i].vmid, b.p2m.vmid);
    EXPECT_EQ(mfn_x(p2m_lookup(&a.p2m, _gfn(0x100), NULL)), 0x40000);
    p2m_teardown(&a);
    p2m_teardown(&b);
    EXPECT_EQ(avail_domheap_pages(), before);
}

/* The checker on the real code with its breaks switched off: every change is caught. */
SELFTEST(p2m_host, missing_break_in_the_real_code_is_caught)
{
    struct domain d;
    struct p2m_domain *p2m = p2m_get_hostp2m(&d);
    const mfn_t m1 = _mfn(0x100000);
    const gfn_t g = _gfn(PAGES_1G);
    unsigned long before;
    unsigned int n;

    if (!EXPECT(mm_layout() != NULL))
        return;
    before = avail_domheap_pages();
    domain_init(&d, 23, 0);
    if (!EXPECT_EQ(p2m_init(&d), 0))
        return;
    EXPECT_EQ(p2m_set_entry(p2m, g, PAGES_1G, m1, p2m_ram_rw), 0);
    p2m_test_skip_break(true);
    host_p2m_log_start(events, LOG_CAPACITY);
    /* Splits 1 GiB -> 2 MiB -> pages (two direct overwrites), removes a page unflushed. */
    EXPECT_EQ(guest_physmap_remove_page(&d, gfn_add(g, 3), mfn_add(m1, 3), 0), 0);
    n = stop_log();
    p2m_test_skip_break(false);
    selftest_diag("the following 3 reports are expected:");
    EXPECT_EQ(check_bbm(events, n, p2m->vmid), 3);
    EXPECT_EQ(count_kind(events, n, HOST_P2M_TLBI), 0);
    /* Switched back on, the same kind of change passes. */
    host_p2m_log_start(events, LOG_CAPACITY);
    EXPECT_EQ(guest_physmap_remove_page(&d, gfn_add(g, 4), mfn_add(m1, 4), 0), 0);
    n = stop_log();
    EXPECT_EQ(check_bbm(events, n, p2m->vmid), 0);
    p2m_teardown(&d);
    EXPECT_EQ(avail_domheap_pages(), before);
}
