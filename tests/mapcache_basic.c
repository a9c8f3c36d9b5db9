/*
 * The mapcache's slot algorithm, through its API, on VCPUs made for each
 * test: references and nesting up to the limits, slot reuse under both
 * policies, the inline hit path and the TLB invalidations each path costs,
 * hash collisions, misuse, and the exhaustion panic with its dump.
 * The same file runs on the host (fake tables) and in the image (real
 * tables of VCPUs that are never installed, so the frames named here are
 * never accessed: any frame number will do).
 *
 * Expected slots follow from the documented policy: free slots are handed
 * out oldest first, starting with slot 0 of a new VCPU; eviction takes the
 * first cached slot from the clock's hand, which starts at slot 0.
 */
#include <domain/domain.h>
#include <domain/vcpu.h>
#include <lib/lib.h>
#include <mm/mapcache.h>
#include <stdlib.h>
#include <string.h>
#include <test/selftest.h>

#define BASE_MFN 0x100000UL     /* pa 4 GiB: any frame number works, see above */

static mfn_t test_mfn(unsigned long i)
{
    return _mfn(BASE_MFN + i);
}

static struct vcpu test_vcpu[2];

static bool start(unsigned int nr, bool strict)
{
    for (unsigned int i = 0; i < nr; i++) {
        if (!EXPECT_EQ(vcpu_init(&test_vcpu[i], i, NULL), 0))
            return false;
        mapcache_set_strict(&test_vcpu[i].mapcache, strict);
    }
    return true;
}

static void finish(unsigned int nr)
{
    for (unsigned int i = 0; i < nr; i++) {
        EXPECT_EQ(mapcache_check(&test_vcpu[i].mapcache), 0);
        vcpu_destroy(&test_vcpu[i]);
    }
}

static struct mapcache *mc0(void)
{
    return &test_vcpu[0].mapcache;
}

/* --- references ----------------------------------------------------------- */

static void map_unmap_one(bool strict)
{
    struct mapcache *mc = mc0();
    vaddr_t va;

    if (!start(1, strict))
        return;
    va = mapcache_map(mc, test_mfn(0));
    EXPECT_EQ(va, MAPCACHE_VIRT_START);                  /* slot 0 of a new VCPU */
    EXPECT_EQ(mfn_x(mapcache_va_to_mfn(mc, va)), BASE_MFN);
    EXPECT_EQ(mfn_x(mapcache_va_to_mfn(mc, va + PAGE_SIZE - 1)), BASE_MFN);
    EXPECT_EQ(mapcache_lookup(mc, test_mfn(0)), 0);
    EXPECT_EQ(mapcache_nr_in_use(mc), 1);
    EXPECT_EQ(mc->misses, 1);
    mapcache_unmap(mc, va + 0x123);                      /* anywhere in the page */
    EXPECT_EQ(mapcache_nr_in_use(mc), 0);
    EXPECT_EQ(mapcache_nr_cached(mc), strict ? 0 : 1);
    EXPECT_EQ(mapcache_lookup(mc, test_mfn(0)), strict ? MAPCACHE_NONE : 0);
    finish(1);
}

SELFTEST(mapcache, map_unmap_strict) { map_unmap_one(true); }
SELFTEST(mapcache, map_unmap_caching) { map_unmap_one(false); }

SELFTEST(mapcache, same_frame_same_va)
{
    struct mapcache *mc = mc0();
    vaddr_t a, b, c;

    if (!start(1, true))
        return;
    a = mapcache_map(mc, test_mfn(7));
    b = mapcache_map(mc, test_mfn(8));
    c = mapcache_map(mc, test_mfn(7));
    EXPECT_EQ(c, a);
    EXPECT_NE(b, a);
    EXPECT_EQ(mc->slot[mapcache_va_slot(a)].count, 2);
    EXPECT_EQ(mc->misses, 2);                           /* the third map was a hit */
    EXPECT_EQ(mapcache_nr_in_use(mc), 2);
    mapcache_unmap(mc, a);
    EXPECT_EQ(mfn_x(mapcache_va_to_mfn(mc, c)), BASE_MFN + 7);  /* one reference left */
    mapcache_unmap(mc, c);
    EXPECT_EQ(mapcache_lookup(mc, test_mfn(7)), MAPCACHE_NONE);
    mapcache_unmap(mc, b);
    EXPECT_EQ(mapcache_nr_in_use(mc), 0);
    finish(1);
}

/* 1024 distinct frames at once, each mapped twice, then all undone. */
static void fill_all_slots(bool strict, unsigned long stride)
{
    static uint8_t slot_seen[MAPCACHE_SLOTS];
    struct mapcache *mc = mc0();
    bool ok = true;

    if (!start(1, strict))
        return;
    memset(slot_seen, 0, sizeof(slot_seen));
    for (unsigned int i = 0; i < MAPCACHE_SLOTS; i++) {
        mfn_t mfn = test_mfn(i * stride);
        vaddr_t va = mapcache_map(mc, mfn);

        ok &= EXPECT(mapcache_va_in_window(va) && IS_ALIGNED(va, PAGE_SIZE));
        ok &= EXPECT_EQ(slot_seen[mapcache_va_slot(va)]++, 0);
        ok &= EXPECT_EQ(mfn_x(mapcache_va_to_mfn(mc, va)), mfn_x(mfn));
        if (!ok)
            return;
    }
    EXPECT_EQ(mapcache_nr_in_use(mc), MAPCACHE_SLOTS);
    for (unsigned int i = 0; i < MAPCACHE_SLOTS && ok; i++) {
        mfn_t mfn = test_mfn(i * stride);
        unsigned int slot = mapcache_lookup(mc, mfn);

        ok &= EXPECT_EQ(mapcache_map(mc, mfn), mapcache_slot_va(slot));
        ok &= EXPECT_EQ(mc->slot[slot].count, 2);
    }
    EXPECT_EQ(mc->misses, MAPCACHE_SLOTS);              /* the second maps were hits */
    EXPECT_EQ(mapcache_check(mc), 0);
    for (unsigned int round = 0; round < 2; round++)
        for (unsigned int i = 0; i < MAPCACHE_SLOTS; i++)
            mapcache_unmap(mc, mapcache_slot_va(i));
    EXPECT_EQ(mapcache_nr_in_use(mc), 0);
    EXPECT_EQ(mapcache_nr_cached(mc), strict ? 0 : MAPCACHE_SLOTS);
    finish(1);
}

SELFTEST(mapcache, all_slots_nested_strict) { fill_all_slots(true, 1); }
SELFTEST(mapcache, all_slots_nested_caching) { fill_all_slots(false, 1); }
SELFTEST(mapcache, all_slots_2mib_apart) { fill_all_slots(false, 512); }

SELFTEST(mapcache, count_saturates_with_panic)
{
    struct mapcache *mc = mc0();
    vaddr_t va = 0;

    if (!start(1, true))
        return;
    for (unsigned int i = 0; i < MAPCACHE_COUNT_MAX; i++)
        va = mapcache_map(mc, test_mfn(0));
    EXPECT_EQ(va, MAPCACHE_VIRT_START);
    EXPECT_EQ(mc->slot[0].count, MAPCACHE_COUNT_MAX);
    EXPECT_EQ(mapcache_map_hit(mc, test_mfn(0)), 0);    /* the slow path says why */
    EXPECT_PANIC("reference count of va 0x80000000 saturated", mapcache_map(mc, test_mfn(0)));
    EXPECT_EQ(mc->slot[0].count, MAPCACHE_COUNT_MAX);    /* the panic changed nothing */
    EXPECT_EQ(mapcache_check(mc), 0);
    for (unsigned int i = 0; i < MAPCACHE_COUNT_MAX; i++)
        mapcache_unmap(mc, va);
    EXPECT_EQ(mapcache_nr_in_use(mc), 0);
    EXPECT_PANIC("unmap_domain_page(0x80000000)", mapcache_unmap(mc, va));
    finish(1);
}

/* --- exhaustion ----------------------------------------------------------- */

struct captured_dump {
    unsigned int lines;
    unsigned int slot_lines;
    unsigned int bad_lines;
    bool summary_ok;
    const struct mapcache *mc;
};

/* Reads "slot va mfn count" from a slot line; false if it is not one. */
static bool parse_slot_line(const char *line, unsigned long field[4])
{
    const char *p = line;

    for (unsigned int i = 0; i < 4; i++) {
        char *end;

        while (*p == ' ')
            p++;
        field[i] = strtoul(p, &end, 0);
        if (end == p)
            return false;
        p = end;
    }
    return true;
}

static void capture_line(void *ctx, const char *line)
{
    struct captured_dump *d = ctx;
    unsigned long f[4];

    if (d->lines++ == 0) {
        d->summary_ok = strstr(line, "1024 in use") && strstr(line, "idle-v0");
        return;
    }
    if (!parse_slot_line(line, f))
        return;                                 /* the column header */
    d->slot_lines++;
    /* Slot i holds the frame the test gave it: BASE_MFN + 3 * i, once. */
    if (f[0] >= MAPCACHE_SLOTS || f[1] != mapcache_slot_va((unsigned int)f[0]) ||
        f[2] != BASE_MFN + 3 * f[0] || f[3] != 1 || mfn_x(d->mc->slot[f[0]].mfn) != f[2])
        d->bad_lines++;
}

SELFTEST(mapcache, exhaustion_panics_with_dump)
{
    struct mapcache *mc = mc0();
    struct captured_dump dump = { .mc = mc0() };
    mapcache_dump_sink old_sink;
    void *old_ctx;

    if (!start(1, true))
        return;
    for (unsigned int i = 0; i < MAPCACHE_SLOTS; i++)
        if (!EXPECT_EQ(mapcache_map(mc, test_mfn(3 * i)), mapcache_slot_va(i)))
            return;
    /* A frame that is already mapped still maps when all slots are taken. */
    EXPECT_EQ(mapcache_map(mc, test_mfn(3)), mapcache_slot_va(1));
    mapcache_unmap(mc, mapcache_slot_va(1));

    mapcache_set_panic_dump_sink(capture_line, &dump, &old_sink, &old_ctx);
    EXPECT_PANIC("all 1024 mapcache slots are in use", mapcache_map(mc, test_mfn(1)));
    mapcache_set_panic_dump_sink(old_sink, old_ctx, NULL, NULL);

    EXPECT(dump.summary_ok);
    EXPECT_EQ(dump.slot_lines, MAPCACHE_SLOTS);
    EXPECT_EQ(dump.bad_lines, 0);
    EXPECT_EQ(dump.lines, MAPCACHE_SLOTS + 2);          /* summary, header, slots */
    EXPECT_EQ(mapcache_nr_in_use(mc), MAPCACHE_SLOTS);           /* nothing changed */
    EXPECT_EQ(mapcache_lookup(mc, test_mfn(1)), MAPCACHE_NONE);
    EXPECT_EQ(mapcache_check(mc), 0);

    /* One slot back, and the same request succeeds. */
    mapcache_unmap(mc, mapcache_slot_va(500));
    EXPECT_EQ(mapcache_map(mc, test_mfn(1)), mapcache_slot_va(500));
    for (unsigned int i = 0; i < MAPCACHE_SLOTS; i++)
        mapcache_unmap(mc, mapcache_slot_va(i));
    finish(1);
}

static void count_line(void *ctx, const char *line)
{
    (void)line;
    ++*(unsigned int *)ctx;
}

SELFTEST(mapcache, caching_full_evicts_instead_of_panicking)
{
    struct mapcache *mc = mc0();
    unsigned int lines = 0;
    mapcache_dump_sink old_sink;
    void *old_ctx;

    if (!start(1, false))
        return;
    for (unsigned int i = 0; i < MAPCACHE_SLOTS; i++)
        mapcache_map(mc, test_mfn(i));
    mapcache_unmap(mc, mapcache_slot_va(700));
    EXPECT_EQ(mapcache_map(mc, test_mfn(5000)), mapcache_slot_va(700));
    EXPECT_EQ(mc->evictions, 1);
    EXPECT_EQ(mapcache_lookup(mc, test_mfn(700)), MAPCACHE_NONE);
    mapcache_set_panic_dump_sink(count_line, &lines, &old_sink, &old_ctx);
    EXPECT_PANIC("all 1024 mapcache slots are in use", mapcache_map(mc, test_mfn(700)));
    mapcache_set_panic_dump_sink(old_sink, old_ctx, NULL, NULL);
    EXPECT_EQ(lines, MAPCACHE_SLOTS + 2);
    for (unsigned int i = 0; i < MAPCACHE_SLOTS; i++)
        mapcache_unmap(mc, mapcache_slot_va(i));
    finish(1);
}

/* --- slot reuse ----------------------------------------------------------- */

SELFTEST(mapcache, strict_reuses_slots_oldest_first)
{
    struct mapcache *mc = mc0();
    vaddr_t a, b, c;
    bool ok = true;

    if (!start(1, true))
        return;
    /* One frame at a time: every slot is used once before slot 0 again. */
    for (unsigned int k = 0; k <= MAPCACHE_SLOTS + 2 && ok; k++) {
        vaddr_t va = mapcache_map(mc, test_mfn(k));

        ok &= EXPECT_EQ(va, mapcache_slot_va(k % MAPCACHE_SLOTS));
        mapcache_unmap(mc, va);
    }
    EXPECT_EQ(mc->misses, MAPCACHE_SLOTS + 3);
    EXPECT_EQ(mc->evictions, 0);

    /* Now slots 3.. are the oldest free ones; a freed slot goes to the back. */
    a = mapcache_map(mc, test_mfn(0));
    b = mapcache_map(mc, test_mfn(1));
    mapcache_unmap(mc, a);
    c = mapcache_map(mc, test_mfn(2));
    EXPECT_EQ(a, mapcache_slot_va(3));
    EXPECT_EQ(b, mapcache_slot_va(4));
    EXPECT_EQ(c, mapcache_slot_va(5));
    /* The frame unmapped from slot 3 is mapped afresh, elsewhere. */
    EXPECT_EQ(mapcache_map(mc, test_mfn(0)), mapcache_slot_va(6));
    mapcache_unmap(mc, b);
    mapcache_unmap(mc, c);
    mapcache_unmap(mc, mapcache_slot_va(6));
    finish(1);
}

SELFTEST(mapcache, caching_keeps_released_mappings)
{
    struct mapcache *mc = mc0();
    vaddr_t a, b;

    if (!start(1, false))
        return;
    a = mapcache_map(mc, test_mfn(0));
    mapcache_unmap(mc, a);
    EXPECT_EQ(mapcache_nr_cached(mc), 1);
    /* A new frame prefers a free slot to evicting the cached one. */
    b = mapcache_map(mc, test_mfn(1));
    EXPECT_EQ(b, mapcache_slot_va(1));
    EXPECT_EQ(mapcache_map(mc, test_mfn(0)), a);        /* cached: same VA, no miss */
    EXPECT_EQ(mc->misses, 2);
    EXPECT_EQ(mapcache_nr_cached(mc), 0);
    mapcache_unmap(mc, a);
    mapcache_unmap(mc, b);
    EXPECT_EQ(mapcache_nr_cached(mc), 2);
    /* Going strict drops what is cached. */
    mapcache_set_strict(mc, true);
    EXPECT_EQ(mapcache_nr_cached(mc), 0);
    EXPECT_EQ(mapcache_lookup(mc, test_mfn(0)), MAPCACHE_NONE);
    finish(1);
}

/*
 * The clock: with every slot mapped, new frames evict the slots without
 * users in slot order from the hand on, skipping those in use, whatever the
 * order they were released in; the hand wraps round. The test holds every
 * third slot and predicts each victim.
 */
SELFTEST(mapcache, caching_evicts_in_clock_order)
{
    struct mapcache *mc = mc0();
    unsigned int expect = 0;
    bool ok = true;

    if (!start(1, false))
        return;
    for (unsigned int i = 0; i < MAPCACHE_SLOTS; i++)
        mapcache_map(mc, test_mfn(i));
    for (unsigned int i = 0; i < MAPCACHE_SLOTS; i++) {
        unsigned int slot = (i * 389) % MAPCACHE_SLOTS;     /* 389 is odd: a permutation */

        if (slot % 3)
            mapcache_unmap(mc, mapcache_slot_va(slot));
    }
    /* More than a turn of the hand: it wraps round and finds the new frames' slots. */
    for (unsigned int k = 0; k < MAPCACHE_SLOTS && ok; k++) {
        vaddr_t va;

        while (expect % 3 == 0)
            expect = (expect + 1) % MAPCACHE_SLOTS;
        va = mapcache_map(mc, test_mfn(10000 + k));
        ok &= EXPECT_EQ(va, mapcache_slot_va(expect));
        ok &= EXPECT_EQ(mfn_x(mapcache_va_to_mfn(mc, va)), BASE_MFN + 10000 + k);
        mapcache_unmap(mc, va);
        expect = (expect + 1) % MAPCACHE_SLOTS;
    }
    EXPECT_EQ(mc->evictions, MAPCACHE_SLOTS);
    EXPECT_EQ(mapcache_check(mc), 0);
    for (unsigned int i = 0; i < MAPCACHE_SLOTS; i += 3)
        mapcache_unmap(mc, mapcache_slot_va(i));
    finish(1);
}

/* --- hashing -------------------------------------------------------------- */

#define COLLIDING 24

/* Frames from BASE_MFN up whose hash is the hash of BASE_MFN. */
static unsigned int find_colliding(mfn_t out[], unsigned int want)
{
    unsigned int bucket = mapcache_hash(test_mfn(0)), n = 0;

    for (unsigned long i = 0; n < want && i < (1UL << 20); i++)
        if (mapcache_hash(test_mfn(i)) == bucket)
            out[n++] = test_mfn(i);
    return n;
}

SELFTEST(mapcache, hash_collisions_chain)
{
    static mfn_t frame[COLLIDING];
    static vaddr_t va[COLLIDING];
    struct mapcache *mc = mc0();
    bool ok = true;

    if (!EXPECT_EQ(find_colliding(frame, COLLIDING), COLLIDING) || !start(1, true))
        return;
    for (unsigned int i = 0; i < COLLIDING; i++)
        va[i] = mapcache_map(mc, frame[i]);
    EXPECT_EQ(mapcache_longest_chain(mc), COLLIDING);
    /* Every position of the chain is found, and each frame has its own slot. */
    for (unsigned int i = 0; i < COLLIDING && ok; i++) {
        ok &= EXPECT_EQ(mapcache_map(mc, frame[i]), va[i]);
        ok &= EXPECT_EQ(mfn_x(mapcache_va_to_mfn(mc, va[i])), mfn_x(frame[i]));
        for (unsigned int j = 0; j < i; j++)
            ok &= EXPECT_NE(va[i], va[j]);
    }
    for (unsigned int i = 0; i < COLLIDING; i++)
        EXPECT_EQ(mc->slot[mapcache_va_slot(va[i])].count, 2);
    EXPECT_EQ(mc->misses, COLLIDING);
    /* Take frames out of the middle, the ends, then the rest. */
    for (unsigned int step = 0; step < 3; step++) {
        for (unsigned int i = 0; i < COLLIDING; i++) {
            bool now = step == 0 ? (i % 3 == 1) : step == 1 ? (i == 0 || i == COLLIDING - 1)
                                                            : true;

            if (!now || mapcache_lookup(mc, frame[i]) == MAPCACHE_NONE)
                continue;
            mapcache_unmap(mc, va[i]);
            mapcache_unmap(mc, va[i]);
            ok &= EXPECT_EQ(mapcache_lookup(mc, frame[i]), MAPCACHE_NONE);
            ok &= EXPECT_EQ(mapcache_check(mc), 0);
        }
        for (unsigned int i = 0; i < COLLIDING; i++)
            if (mapcache_lookup(mc, frame[i]) != MAPCACHE_NONE)
                ok &= EXPECT_EQ(mapcache_lookup(mc, frame[i]), mapcache_va_slot(va[i]));
    }
    EXPECT_EQ(mapcache_nr_in_use(mc), 0);
    finish(1);
}

/* Evictions that unlink chain members in the middle of a long chain. */
SELFTEST(mapcache, hash_collisions_evicted_from_chain)
{
    static mfn_t frame[COLLIDING];
    struct mapcache *mc = mc0();
    unsigned int held = 0;
    bool ok = true;

    if (!EXPECT_EQ(find_colliding(frame, COLLIDING), COLLIDING) || !start(1, false))
        return;
    for (unsigned int i = 0; i < COLLIDING; i++)
        mapcache_map(mc, frame[i]);
    /* Hold every other slot with frames far from the colliding ones. */
    for (unsigned long i = 2UL << 20; held < MAPCACHE_SLOTS - COLLIDING; i++) {
        mapcache_map(mc, test_mfn(i));
        held++;
    }
    /* Release the odd colliding frames (slots 1, 3, ...): the clock evicts those, in order. */
    for (unsigned int i = 1; i < COLLIDING; i += 2)
        mapcache_unmap(mc, mapcache_slot_va(mapcache_lookup(mc, frame[i])));
    for (unsigned int k = 0; k < COLLIDING / 2 && ok; k++) {
        unsigned int victim_slot = mapcache_lookup(mc, frame[2 * k + 1]);
        vaddr_t va = mapcache_map(mc, test_mfn((4UL << 20) + k));

        ok &= EXPECT_EQ(va, mapcache_slot_va(victim_slot));
        ok &= EXPECT_EQ(mapcache_lookup(mc, frame[2 * k + 1]), MAPCACHE_NONE);
        ok &= EXPECT_EQ(mapcache_check(mc), 0);
    }
    for (unsigned int i = 0; i < COLLIDING; i += 2)
        mapcache_unmap(mc, mapcache_slot_va(mapcache_lookup(mc, frame[i])));
    /* The even ones are cached now, each found through what is left of the chain. */
    for (unsigned int i = 0; i < COLLIDING; i += 2) {
        unsigned int slot = mapcache_lookup(mc, frame[i]);

        if (!EXPECT_NE(slot, MAPCACHE_NONE))
            continue;
        EXPECT_EQ(mapcache_map(mc, frame[i]), mapcache_slot_va(slot));
        mapcache_unmap(mc, mapcache_slot_va(slot));
    }
    EXPECT_EQ(mc->evictions, COLLIDING / 2);
    for (unsigned int i = 0; i < MAPCACHE_SLOTS; i++)
        if (mc->slot[i].count)
            mapcache_unmap(mc, mapcache_slot_va(i));
    finish(1);
}

/*
 * Frames that callers map together are often evenly spaced (consecutive
 * pages, 2 MiB or 16 MiB apart). Thrown at random into 2048 buckets, 1024
 * frames would make a longest chain of about 4 or 5; the hash must do no
 * worse than that for evenly spaced frames, or lookups stop being O(1).
 */
SELFTEST(mapcache, hash_spreads_strided_frames)
{
    static const unsigned long strides[] = { 1, 2, 3, 8, 512, 4096, 65536, 1UL << 18 };
    struct mapcache *mc = mc0();

    if (!start(1, false))
        return;
    for (unsigned int s = 0; s < ARRAY_SIZE(strides); s++) {
        for (unsigned int i = 0; i < MAPCACHE_SLOTS; i++)
            mapcache_map(mc, _mfn((BASE_MFN + i * strides[s]) & ((1UL << 28) - 1)));
        if (!EXPECT(mapcache_longest_chain(mc) <= 5))
            selftest_diag("stride %lu: longest chain %u", strides[s],
                          mapcache_longest_chain(mc));
        for (unsigned int i = 0; i < MAPCACHE_SLOTS; i++)
            mapcache_unmap(mc, mapcache_slot_va(i));
        mapcache_flush_cached(mc);
    }
    finish(1);
}

/* --- the hit path -------------------------------------------------------- */

/*
 * mapcache_map_hit takes a frame only when it heads its chain;
 * mapcache_unmap_hit any reference under the release policy, and all but
 * the last under the debug policy. Everything else must be left, unchanged,
 * to the slow paths.
 */
SELFTEST(mapcache, hit_path_takes_only_chain_heads_in_use)
{
    static mfn_t frame[2];
    struct mapcache *mc = mc0();
    vaddr_t a, b;

    if (!EXPECT_EQ(find_colliding(frame, 2), 2) || !start(1, false))
        return;
    /* An empty bucket names the sentinel, which never hits. */
    EXPECT_EQ(mapcache_map_hit(mc, frame[0]), 0);
    EXPECT_EQ(mapcache_map_hit(mc, INVALID_MFN), 0);
    EXPECT_EQ(mapcache_check(mc), 0);

    a = mapcache_map(mc, frame[0]);
    b = mapcache_map(mc, frame[1]);                     /* now the head of the chain */
    EXPECT_EQ(mapcache_map_hit(mc, frame[1]), b);
    EXPECT_EQ(mc->slot[mapcache_va_slot(b)].count, 2);
    EXPECT_EQ(mapcache_map_hit(mc, frame[0]), 0);       /* second in the chain */
    EXPECT_EQ(mc->slot[mapcache_va_slot(a)].count, 1);
    EXPECT_EQ(mapcache_map(mc, frame[0]), a);           /* the slow path finds it */
    EXPECT_EQ(mc->slot[mapcache_va_slot(a)].count, 2);
    EXPECT_EQ(mc->misses, 2);

    EXPECT(mapcache_unmap_hit(mc, a + 0x10));           /* one reference stays */
    EXPECT_EQ(mc->slot[mapcache_va_slot(a)].count, 1);
    EXPECT(!mapcache_unmap_hit(mc, 0));                 /* NULL is outside the window */
    EXPECT(!mapcache_unmap_hit(mc, MAPCACHE_VIRT_START - 1));
    EXPECT(!mapcache_unmap_hit(mc, MAPCACHE_VIRT_END));
    EXPECT(!mapcache_unmap_hit(mc, mapcache_slot_va(7)));   /* free: no references */
    EXPECT_EQ(mapcache_check(mc), 0);

    mapcache_unmap(mc, a);                              /* cached: count 0 */
    EXPECT_EQ(mapcache_nr_cached(mc), 1);
    EXPECT(!mapcache_unmap_hit(mc, a));                 /* no references left */
    EXPECT_EQ(mapcache_map_hit(mc, frame[0]), 0);       /* still second in the chain */
    mapcache_unmap(mc, b);
    EXPECT(mapcache_unmap_hit(mc, b));                  /* release policy: the last one too */
    EXPECT_EQ(mc->slot[mapcache_va_slot(b)].count, 0);
    EXPECT_EQ(mapcache_map_hit(mc, frame[1]), b);       /* a cached head is a hit */
    EXPECT_EQ(mc->slot[mapcache_va_slot(b)].count, 1);
    EXPECT_EQ(mc->misses, 2);
    mapcache_unmap(mc, b);
    finish(1);
}

/* The frame an entry of v's window maps (the host's fake entries and LPAE alike). */
static unsigned long entry_mfn(const struct vcpu *v, vaddr_t va)
{
    return (unsigned long)((v->arch.third[mapcache_va_slot(va)] & 0xfffffff000ull) >> PAGE_SHIFT);
}

/*
 * On both targets the arch counts the TLB invalidations it issues for a
 * VCPU's slots (in the image, each TLBIMVAH): a hit issues none and leaves
 * the entry as it was; a miss into a free slot none; an eviction one.
 */
static void hit_does_no_tlb_maintenance(bool strict)
{
    struct vcpu *v = &test_vcpu[0];
    struct mapcache *mc = &v->mapcache;
    unsigned long before;
    uint64_t entry;
    vaddr_t outer;
    bool ok = true;

    if (!start(1, strict))
        return;
    outer = mapcache_map(mc, test_mfn(0));
    entry = v->arch.third[mapcache_va_slot(outer)];
    before = v->arch.tlb_flushes;
    EXPECT_EQ(before, 0);                               /* a free slot: set, no flush */
    for (unsigned int i = 0; i < 1000 && ok; i++) {
        vaddr_t va = mapcache_map(mc, test_mfn(0));

        ok &= EXPECT_EQ(va, outer);
        mapcache_unmap(mc, va);
    }
    EXPECT_EQ(v->arch.tlb_flushes, before);
    EXPECT_EQ(v->arch.third[mapcache_va_slot(outer)], entry);
    EXPECT_EQ(entry_mfn(v, outer), BASE_MFN);
    mapcache_unmap(mc, outer);
    /* The last unmap: strict clears the entry (one flush), caching keeps it. */
    EXPECT_EQ(v->arch.tlb_flushes, before + (strict ? 1 : 0));
    finish(1);
}

SELFTEST(mapcache, hit_does_no_tlb_maintenance_strict) { hit_does_no_tlb_maintenance(true); }
SELFTEST(mapcache, hit_does_no_tlb_maintenance_caching) { hit_does_no_tlb_maintenance(false); }

SELFTEST(mapcache, only_an_eviction_flushes)
{
    struct vcpu *v = &test_vcpu[0];
    struct mapcache *mc = &v->mapcache;
    vaddr_t va;

    if (!start(1, false))
        return;
    for (unsigned int i = 0; i < MAPCACHE_SLOTS; i++)   /* every slot, free then cached */
        mapcache_unmap(mc, mapcache_map(mc, test_mfn(i)));
    EXPECT_EQ(v->arch.tlb_flushes, 0);
    for (unsigned int i = 0; i < MAPCACHE_SLOTS; i++)   /* reuses of cached slots */
        mapcache_unmap(mc, mapcache_map(mc, test_mfn(i)));
    EXPECT_EQ(v->arch.tlb_flushes, 0);
    EXPECT_EQ(mc->misses, MAPCACHE_SLOTS);
    va = mapcache_map(mc, test_mfn(MAPCACHE_SLOTS));    /* evicts slot 0, the hand's first */
    EXPECT_EQ(va, mapcache_slot_va(0));
    EXPECT_EQ(v->arch.tlb_flushes, 1);
    EXPECT_EQ(entry_mfn(v, va), BASE_MFN + MAPCACHE_SLOTS);
    mapcache_unmap(mc, va);
    finish(1);
}

/* --- misuse --------------------------------------------------------------- */

static void expect_unchanged(const struct mapcache *mc, unsigned int in_use,
                             unsigned int cached)
{
    EXPECT_EQ(mapcache_nr_in_use(mc), in_use);
    EXPECT_EQ(mapcache_nr_cached(mc), cached);
    EXPECT_EQ(mapcache_check(mc), 0);
}

static void misuse(bool strict)
{
    struct mapcache *mc = mc0();
    vaddr_t a;

    if (!start(1, strict))
        return;
    a = mapcache_map(mc, test_mfn(0));
    mapcache_unmap(mc, mapcache_map(mc, test_mfn(1)));  /* slot 1: freed or cached */

    EXPECT_PANIC("unmap_domain_page(0x1000): idle-v0: outside the map_domain_page window",
                 mapcache_unmap(mc, 0x1000));
    EXPECT_PANIC("unmap_domain_page(0x7fffffff)", mapcache_unmap(mc, MAPCACHE_VIRT_START - 1));
    EXPECT_PANIC("unmap_domain_page(0x80400000)", mapcache_unmap(mc, MAPCACHE_VIRT_END));
    EXPECT_PANIC("unmap_domain_page(0x80007010): idle-v0: slot 7 maps nothing",
                 mapcache_unmap(mc, mapcache_slot_va(7) + 0x10));
    /* Unmapped twice: slot 1 was released above. */
    if (strict)
        EXPECT_PANIC("unmap_domain_page(0x80001000): idle-v0: slot 1 maps nothing",
                     mapcache_unmap(mc, mapcache_slot_va(1)));
    else
        EXPECT_PANIC("unmap_domain_page(0x80001000): idle-v0: slot 1 (mfn 0x100001) has no "
                     "references left", mapcache_unmap(mc, mapcache_slot_va(1)));
    EXPECT_PANIC("domain_page_map_to_mfn(0x80001000)", mapcache_va_to_mfn(mc, mapcache_slot_va(1)));
    EXPECT_PANIC("domain_page_map_to_mfn(0x80400000)", mapcache_va_to_mfn(mc, MAPCACHE_VIRT_END));
    EXPECT_PANIC("map_domain_page(mfn 0x10000000): beyond the 40-bit",
                 mapcache_map(mc, _mfn(1UL << 28)));
    EXPECT_PANIC("beyond the 40-bit", mapcache_map(mc, INVALID_MFN));
    expect_unchanged(mc, 1, strict ? 0 : 1);

    mapcache_unmap(mc, a);
    EXPECT_PANIC("unmap_domain_page(0x80000000)", mapcache_unmap(mc, a));
    expect_unchanged(mc, 0, strict ? 0 : 2);
    finish(1);
}

SELFTEST(mapcache, misuse_reported_strict) { misuse(true); }
SELFTEST(mapcache, misuse_reported_caching) { misuse(false); }

/* --- VCPUs ---------------------------------------------------------------- */

SELFTEST(mapcache, vcpus_are_independent)
{
    struct mapcache *m0 = &test_vcpu[0].mapcache, *m1 = &test_vcpu[1].mapcache;
    vaddr_t a0, b1, a1;

    if (!start(2, true))
        return;
    a0 = mapcache_map(m0, test_mfn(0));
    b1 = mapcache_map(m1, test_mfn(1));
    a1 = mapcache_map(m1, test_mfn(0));
    /* Each window starts empty at the same VA: the same address, two frames. */
    EXPECT_EQ(a0, MAPCACHE_VIRT_START);
    EXPECT_EQ(b1, MAPCACHE_VIRT_START);
    EXPECT_EQ(mfn_x(mapcache_va_to_mfn(m0, a0)), BASE_MFN);
    EXPECT_EQ(mfn_x(mapcache_va_to_mfn(m1, b1)), BASE_MFN + 1);
    EXPECT_EQ(a1, mapcache_slot_va(1));
    mapcache_unmap(m0, a0);
    EXPECT_EQ(m1->slot[1].count, 1);                    /* v1's reference is its own */
    EXPECT_PANIC("unmap_domain_page(0x80000000): idle-v0", mapcache_unmap(m0, a0));
    mapcache_unmap(m1, a1);
    mapcache_unmap(m1, b1);
    finish(2);
}

SELFTEST(mapcache, destroy_with_mappings_panics)
{
    struct domain d = { .domain_id = 3 };
    vaddr_t va;

    if (!EXPECT_EQ(vcpu_init(&test_vcpu[0], 2, &d), 0))
        return;
    mapcache_set_strict(mc0(), true);
    va = mapcache_map(mc0(), test_mfn(9));
    EXPECT_PANIC("vcpu_destroy: d3v2 still has 1 mappings in use, the first at va 0x80000000 "
                 "(mfn 0x100009", vcpu_destroy(&test_vcpu[0]));
    mapcache_unmap(mc0(), va);
    finish(1);
}

/* --- the checker itself --------------------------------------------------- */

/* mapcache_check must notice each kind of damage, or the tests above prove little. */
SELFTEST(mapcache, check_detects_damage)
{
    static struct mapcache copy;
    struct mapcache *mc = mc0();
    unsigned int s0, s1;

    if (!start(1, false))
        return;
    s0 = mapcache_va_slot(mapcache_map(mc, test_mfn(0)));
    s1 = mapcache_va_slot(mapcache_map(mc, test_mfn(1)));
    mapcache_unmap(mc, mapcache_slot_va(s1));           /* s1 cached */
    EXPECT_EQ(mapcache_check(mc), 0);

    copy = *mc;
    copy.hand = MAPCACHE_SLOTS;                         /* the clock off the slots */
    EXPECT_EQ(mapcache_check(&copy), MAPCACHE_BAD_STATE);

    copy = *mc;
    copy.slot[s0].mfn = test_mfn(2);                    /* now in the wrong bucket */
    EXPECT(mapcache_check(&copy) & MAPCACHE_BAD_HASH);

    copy = *mc;
    copy.slot[s1].mfn = test_mfn(0);                    /* two slots, one frame */
    EXPECT(mapcache_check(&copy) & MAPCACHE_BAD_HASH);

    copy = *mc;
    copy.link[copy.free_head].next = copy.free_head;    /* the free list loops */
    EXPECT(mapcache_check(&copy) & MAPCACHE_BAD_FREE);

    copy = *mc;
    copy.slot[s0].mfn = INVALID_MFN;                    /* free, with users, on a chain */
    EXPECT(mapcache_check(&copy) & MAPCACHE_BAD_STATE);

    copy = *mc;
    copy.free_head = copy.link[copy.free_head].next;    /* a free slot lost */
    copy.link[copy.free_head].prev = MAPCACHE_NONE;
    EXPECT_EQ(mapcache_check(&copy), MAPCACHE_BAD_FREE);

    copy = *mc;
    copy.strict = true;                                 /* cached slots under strict */
    EXPECT(mapcache_check(&copy) & MAPCACHE_BAD_STATE);

    copy = *mc;
    copy.slot[MAPCACHE_NONE].count = 1;                 /* the sentinel could take a user */
    EXPECT_EQ(mapcache_check(&copy), MAPCACHE_BAD_STATE);

    copy = *mc;
    copy.slot[MAPCACHE_NONE].mfn = test_mfn(5);         /* the sentinel maps a frame */
    EXPECT_EQ(mapcache_check(&copy), MAPCACHE_BAD_STATE);

    mapcache_unmap(mc, mapcache_slot_va(s0));
    finish(1);
}
