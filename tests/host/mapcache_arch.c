/*
 * What the mapcache asks of the page tables, seen through the host's fake
 * (arch/host/mapcache.c logs every entry written and every TLB flush):
 *  - a hit, on a frame in use or cached, writes nothing and flushes nothing;
 *  - a free slot is written once, with no flush (an invalid entry is in no
 *    TLB);
 *  - an eviction is exactly clear (with its flush) then set, on one slot;
 *  - under the strict policy the last unmap clears the entry at once, so an
 *    access through the old address would fault.
 * Then a long random run against a model of the references, under both
 * policies: every live address translates to its frame, no frame is mapped
 * twice, and nothing is written on a hit.
 */
#include <domain/domain.h>
#include <domain/vcpu.h>
#include <host/mapcache.h>
#include <lib/lib.h>
#include <mm/mapcache.h>
#include <string.h>
#include <test/selftest.h>

#define BASE_MFN 0x200000UL

/* The frames the tests map: any numbers do, the host's fake maps nothing. */
static mfn_t test_mfn(unsigned long i)
{
    return _mfn(BASE_MFN + i);
}

static struct vcpu tv[2];

static bool start(unsigned int nr, bool strict)
{
    for (unsigned int i = 0; i < nr; i++) {
        if (!EXPECT_EQ(vcpu_init(&tv[i], i, NULL), 0))
            return false;
        mapcache_set_strict(&tv[i].mapcache, strict);
    }
    host_mapcache_log_reset();
    return true;
}

static void finish(unsigned int nr)
{
    for (unsigned int i = 0; i < nr; i++) {
        EXPECT_EQ(mapcache_check(&tv[i].mapcache), 0);
        vcpu_destroy(&tv[i]);
    }
}

static bool expect_event(unsigned int i, enum host_mapcache_op op, const struct vcpu *v,
                         unsigned int slot, mfn_t mfn)
{
    const struct host_mapcache_event *e = host_mapcache_log_at(i);
    bool ok = true;

    if (!EXPECT(e != NULL))
        return false;
    ok &= EXPECT_EQ(e->op, op);
    ok &= EXPECT(e->v == v);
    ok &= EXPECT_EQ(e->slot, slot);
    ok &= EXPECT_EQ(mfn_x(e->mfn), mfn_x(mfn));
    return ok;
}

SELFTEST(mapcache_arch, free_slot_is_written_without_flush)
{
    struct vcpu *v = &tv[0];
    vaddr_t va;

    if (!start(1, true))
        return;
    va = mapcache_map(&v->mapcache, test_mfn(0));
    EXPECT_EQ(host_mapcache_log_len(), 1);
    expect_event(0, HOST_MAPCACHE_SET, v, 0, test_mfn(0));
    EXPECT_EQ(host_mapcache_flushes(), 0);
    EXPECT_EQ(mfn_x(host_mapcache_translate(v, va + 0x800)), BASE_MFN);
    mapcache_unmap(&v->mapcache, va);
    finish(1);
}

static void hit_writes_nothing(bool strict)
{
    struct vcpu *v = &tv[0];
    vaddr_t outer, va;
    bool ok = true;

    if (!start(1, strict))
        return;
    outer = mapcache_map(&v->mapcache, test_mfn(0));
    host_mapcache_log_reset();
    for (unsigned int i = 0; i < 1000 && ok; i++) {
        va = mapcache_map(&v->mapcache, test_mfn(0));
        ok &= EXPECT_EQ(va, outer);
        mapcache_unmap(&v->mapcache, va);
    }
    EXPECT_EQ(host_mapcache_log_len(), 0);
    EXPECT_EQ(host_mapcache_flushes(), 0);
    EXPECT_EQ(mfn_x(host_mapcache_translate(v, outer)), BASE_MFN);
    mapcache_unmap(&v->mapcache, outer);
    finish(1);
}

SELFTEST(mapcache_arch, hit_writes_nothing_strict) { hit_writes_nothing(true); }
SELFTEST(mapcache_arch, hit_writes_nothing_caching) { hit_writes_nothing(false); }

SELFTEST(mapcache_arch, cached_frame_maps_again_without_writes)
{
    struct vcpu *v = &tv[0];
    vaddr_t va;

    if (!start(1, false))
        return;
    va = mapcache_map(&v->mapcache, test_mfn(0));
    mapcache_unmap(&v->mapcache, va);
    host_mapcache_log_reset();
    for (unsigned int i = 0; i < 100; i++) {
        EXPECT_EQ(mapcache_map(&v->mapcache, test_mfn(0)), va);
        mapcache_unmap(&v->mapcache, va);
    }
    EXPECT_EQ(host_mapcache_log_len(), 0);
    EXPECT_EQ(host_mapcache_flushes(), 0);
    EXPECT_EQ(mfn_x(host_mapcache_translate(v, va)), BASE_MFN);  /* still mapped: a cache */
    finish(1);
}

SELFTEST(mapcache_arch, eviction_is_break_before_make)
{
    struct vcpu *v = &tv[0];
    vaddr_t va;

    if (!start(1, false))
        return;
    for (unsigned int i = 0; i < MAPCACHE_SLOTS; i++)
        mapcache_map(&v->mapcache, test_mfn(i));
    /* Release every slot but 0-39: the clock, from slot 0, skips those in use to 40. */
    for (unsigned int i = 40; i < MAPCACHE_SLOTS; i++)
        mapcache_unmap(&v->mapcache, mapcache_slot_va(i));
    EXPECT_EQ(host_mapcache_valid_entries(v), MAPCACHE_SLOTS);
    host_mapcache_log_reset();

    va = mapcache_map(&v->mapcache, test_mfn(5000));
    EXPECT_EQ(va, mapcache_slot_va(40));
    if (EXPECT_EQ(host_mapcache_log_len(), 2)) {
        expect_event(0, HOST_MAPCACHE_CLEAR, v, 40, test_mfn(40));
        expect_event(1, HOST_MAPCACHE_SET, v, 40, test_mfn(5000));
    }
    EXPECT_EQ(host_mapcache_flushes(), 1);
    EXPECT_EQ(mfn_x(host_mapcache_translate(v, va)), BASE_MFN + 5000);
    mapcache_unmap(&v->mapcache, va);
    for (unsigned int i = 0; i < 40; i++)
        mapcache_unmap(&v->mapcache, mapcache_slot_va(i));

    /* vcpu_destroy clears every cached entry (the fake panics on any left). */
    host_mapcache_log_reset();
    finish(1);
    EXPECT_EQ(host_mapcache_log_len(), MAPCACHE_SLOTS);
    EXPECT_EQ(host_mapcache_flushes(), MAPCACHE_SLOTS);
}

SELFTEST(mapcache_arch, strict_last_unmap_invalidates)
{
    struct vcpu *v = &tv[0];
    vaddr_t a, b;

    if (!start(1, true))
        return;
    a = mapcache_map(&v->mapcache, test_mfn(0));
    b = mapcache_map(&v->mapcache, test_mfn(0));
    host_mapcache_log_reset();
    mapcache_unmap(&v->mapcache, b);
    EXPECT_EQ(host_mapcache_log_len(), 0);              /* one user left */
    EXPECT_EQ(mfn_x(host_mapcache_translate(v, a)), BASE_MFN);
    mapcache_unmap(&v->mapcache, a);
    if (EXPECT_EQ(host_mapcache_log_len(), 1))
        expect_event(0, HOST_MAPCACHE_CLEAR, v, 0, test_mfn(0));
    EXPECT_EQ(host_mapcache_flushes(), 1);
    /* An access would fault. */
    EXPECT_EQ(mfn_x(host_mapcache_translate(v, a)), mfn_x(INVALID_MFN));
    EXPECT_EQ(host_mapcache_valid_entries(v), 0);
    finish(1);
}

SELFTEST(mapcache_arch, each_vcpu_writes_its_own_tables)
{
    if (!start(2, true))
        return;
    mapcache_map(&tv[0].mapcache, test_mfn(0));
    mapcache_map(&tv[1].mapcache, test_mfn(1));
    EXPECT_EQ(mfn_x(host_mapcache_translate(&tv[0], MAPCACHE_VIRT_START)), BASE_MFN);
    EXPECT_EQ(mfn_x(host_mapcache_translate(&tv[1], MAPCACHE_VIRT_START)), BASE_MFN + 1);
    if (EXPECT_EQ(host_mapcache_log_len(), 2)) {
        expect_event(0, HOST_MAPCACHE_SET, &tv[0], 0, test_mfn(0));
        expect_event(1, HOST_MAPCACHE_SET, &tv[1], 0, test_mfn(1));
    }
    mapcache_unmap(&tv[1].mapcache, MAPCACHE_VIRT_START);
    EXPECT_EQ(mfn_x(host_mapcache_translate(&tv[0], MAPCACHE_VIRT_START)), BASE_MFN);
    EXPECT_EQ(mfn_x(host_mapcache_translate(&tv[1], MAPCACHE_VIRT_START)), mfn_x(INVALID_MFN));
    mapcache_unmap(&tv[0].mapcache, MAPCACHE_VIRT_START);
    finish(2);
}

SELFTEST(mapcache_arch, vcpu_init_failure_is_reported)
{
    host_mapcache_fail_next_init();
    EXPECT_EQ(vcpu_init(&tv[0], 0, NULL), -ENOMEM);
    /* The next one works. */
    if (EXPECT_EQ(vcpu_init(&tv[0], 0, NULL), 0))
        vcpu_destroy(&tv[0]);
}

/* The fake is the safety net of the tests above: prove it catches a violation. */
SELFTEST(mapcache_arch, fake_catches_break_before_make_violation)
{
    if (!start(1, true))
        return;
    mapcache_map(&tv[0].mapcache, test_mfn(0));
    EXPECT_PANIC("slot 0 still maps mfn 0x200000: break-before-make violated",
                 arch_mapcache_set(&tv[0], 0, test_mfn(1)));
    EXPECT_PANIC("arch_mapcache_clear: idle-v0: slot 1 is not mapped",
                 arch_mapcache_clear(&tv[0], 1));
    EXPECT_PANIC("arch_vcpu_destroy: idle-v0: slot 0 still maps mfn 0x200000",
                 arch_vcpu_destroy(&tv[0]));
    mapcache_unmap(&tv[0].mapcache, MAPCACHE_VIRT_START);
    finish(1);
}

/*
 * Clearing a slot flushes only this CPU's TLB, so nothing may clear the
 * slots of a VCPU that runs on another CPU: vcpu_destroy and
 * mapcache_set_strict refuse before writing anything, and vcpu_destroy
 * refuses a VCPU installed here too (its tables are about to be freed).
 */
SELFTEST(mapcache_arch, no_clearing_of_a_vcpu_installed_elsewhere)
{
    struct vcpu *v = &tv[0];
    vaddr_t va;

    if (!start(1, false))
        return;
    va = mapcache_map(&v->mapcache, test_mfn(3));
    mapcache_unmap(&v->mapcache, va);               /* cached: its entry stays valid */
    host_vcpu_pretend_installed(v, 1);
    host_mapcache_log_reset();
    EXPECT_PANIC("vcpu_destroy: idle-v0 is still installed on cpu 1; switch that CPU",
                 vcpu_destroy(v));
    EXPECT_PANIC("mapcache_set_strict: idle-v0 is installed on cpu 1, not this one (cpu 0)",
                 mapcache_set_strict(&v->mapcache, true));
    EXPECT_PANIC("mapcache_flush_cached: idle-v0 is installed on cpu 1",
                 mapcache_flush_cached(&v->mapcache));
    /* Nothing was cleared or flushed: the other CPU's view is intact. */
    EXPECT_EQ(host_mapcache_log_len(), 0);
    EXPECT_EQ(host_mapcache_flushes(), 0);
    EXPECT_EQ(mfn_x(host_mapcache_translate(v, va)), BASE_MFN + 3);
    EXPECT_EQ(mapcache_nr_cached(&v->mapcache), 1);
    EXPECT(!v->mapcache.strict);
    host_vcpu_pretend_installed(NULL, 0);

    /* Installed on this CPU: the policy may change, the tables may not go. */
    vcpu_switch_to(v);
    mapcache_set_strict(&v->mapcache, true);
    EXPECT_EQ(host_mapcache_log_len(), 1);          /* the cached slot, cleared here */
    EXPECT_PANIC("vcpu_destroy: idle-v0 is still installed on cpu 0 (this CPU)",
                 vcpu_destroy(v));
    vcpu_switch_to(NULL);
    finish(1);
}

/* --- random run against a model ------------------------------------------ */

#define POOL 1500           /* more frames than slots: misses, evictions, exhaustion */
#define OPS 60000

struct model {
    unsigned int refs[POOL];        /* references the test holds to frame i */
    vaddr_t va[POOL];               /* its address while refs > 0 */
    unsigned int distinct;          /* frames with refs > 0 */
    unsigned int held[OPS];         /* a bag of held references (frame indexes) */
    unsigned int nr_held;
};

static uint32_t rng_state;

static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static bool model_invariants(const struct vcpu *v, const struct model *m)
{
    const struct mapcache *mc = &v->mapcache;
    unsigned int valid = host_mapcache_valid_entries(v);
    bool ok = true;

    ok &= EXPECT_EQ(mapcache_nr_in_use(mc), m->distinct);
    ok &= EXPECT_EQ(valid, mapcache_nr_in_use(mc) + mapcache_nr_cached(mc));
    if (mc->strict)
        ok &= EXPECT_EQ(valid, m->distinct);
    for (unsigned int f = 0; f < POOL && ok; f++)
        if (m->refs[f])
            ok &= EXPECT_EQ(mfn_x(host_mapcache_translate(v, m->va[f])), BASE_MFN + f);
    return ok && EXPECT_EQ(mapcache_check(mc), 0);
}

static void quiet(void *ctx, const char *line)
{
    (void)ctx;
    (void)line;
}

static void random_run(bool strict, uint32_t seed)
{
    static struct model m;
    struct vcpu *v = &tv[0];
    struct mapcache *mc = &v->mapcache;
    unsigned long panics = 0, hits = 0;
    mapcache_dump_sink old_sink;
    void *old_ctx;
    bool ok = true;

    if (!start(1, strict))
        return;
    memset(&m, 0, sizeof(m));
    rng_state = seed;
    /* Exhaustion is expected here now and then: keep its dump off the console. */
    mapcache_set_panic_dump_sink(quiet, NULL, &old_sink, &old_ctx);

    for (unsigned int op = 0; op < OPS && ok; op++) {
        /*
         * Drift towards a target number of held references that swings
         * between few (slots get released and reused) and more than the
         * slots (every slot in use: exhaustion).
         */
        unsigned int target = (op / 6000) % 2 ? 3000 : 200;
        bool do_map = m.nr_held == 0 || rng() % 4 < (m.nr_held < target ? 3u : 1u);

        if (do_map) {
            unsigned int f = rng() % POOL;
            bool known = mapcache_lookup(mc, test_mfn(f)) != MAPCACHE_NONE;
            unsigned int log_before = host_mapcache_log_len();
            vaddr_t va;

            if (!m.refs[f] && m.distinct == MAPCACHE_SLOTS) {
                /* Each panic dumps 1024 slots: check one in 32, skip the rest. */
                if (rng() % 32 == 0) {
                    EXPECT_PANIC("all 1024 mapcache slots are in use",
                                 mapcache_map(mc, test_mfn(f)));
                    panics++;
                }
                continue;
            }
            va = mapcache_map(mc, test_mfn(f));
            if (m.refs[f]) {
                ok &= EXPECT_EQ(va, m.va[f]);
                hits++;
            }
            if (known)      /* in use or cached: no entry written, no flush */
                ok &= EXPECT_EQ(host_mapcache_log_len(), log_before);
            else            /* a set, after a clear if a slot was evicted */
                ok &= EXPECT(host_mapcache_log_len() - log_before == 1 ||
                             host_mapcache_log_len() - log_before == 2);
            if (!m.refs[f]++)
                m.distinct++;
            m.va[f] = va;
            m.held[m.nr_held++] = f;
        } else {
            unsigned int k = rng() % m.nr_held;
            unsigned int f = m.held[k];

            m.held[k] = m.held[--m.nr_held];
            mapcache_unmap(mc, m.va[f] + (rng() & (PAGE_SIZE - 1)));
            if (!--m.refs[f])
                m.distinct--;
        }
        if (op % 512 == 0)
            ok &= model_invariants(v, &m);
    }
    mapcache_set_panic_dump_sink(old_sink, old_ctx, NULL, NULL);
    ok &= model_invariants(v, &m);
    selftest_diag("%lu hits, %lu misses, %lu evictions, %lu exhaustion panics",
                  hits, mc->misses, mc->evictions, panics);
    EXPECT(mc->misses > 0 && hits > 0);
    EXPECT(strict ? mc->evictions == 0 : mc->evictions > 0);
    while (m.nr_held) {
        unsigned int f = m.held[--m.nr_held];

        mapcache_unmap(mc, m.va[f]);
    }
    finish(1);
}

SELFTEST(mapcache_arch, random_against_model_strict) { random_run(true, 0x12345678u); }
SELFTEST(mapcache_arch, random_against_model_caching) { random_run(false, 0x9abcdef1u); }
