/*
 * libFuzzer harness for the memory API: the input is a program of
 * operations on the real allocator of a fresh host fake machine (the same
 * one the selftests use), and a reference model says after every step what
 * must be true.
 *
 * Operations: xenheap and domheap allocations at several orders and zones,
 * frees, assigning anonymous blocks to two domains (with their page limits),
 * map_domain_page (nested, as the slots allow), map_domain_page_global,
 * vmap of frames taken from live blocks, vmalloc/vfree, and the p2m of both
 * domains (guest_physmap_add_page, remove, lookup), plus misuse that the
 * API promises to refuse with a panic that changes nothing (wrong order,
 * double free, assigning an owned block, freeing a vmap area the wrong way,
 * unmapping what was never mapped).
 *
 * The model: the blocks the program holds (frames, order, heap, owner), each
 * frame tagged with a pattern at its first and last word; every mapping the
 * program made and which frame it shows; each domain's page count and p2m
 * ranges. Checks: a new block is in use, of the right heap, aligned, below
 * its zone limit and clean (zeroed or poisoned, never a previous tag); a
 * pattern written through one mapping reads back through another; p2m
 * lookups agree with the model; tags survive until the block is freed; at
 * the end, with everything released, heap_check() passes and the heap has
 * exactly the free pages it booted with (nothing leaked: not a block, a
 * page-table page, a vmap bitmap page or a p2m table).
 *
 * Each input boots the machine afresh (host_machine_reboot: the same heap state every
 * time, RAM keeping what earlier inputs wrote), so a crash replays alone.
 */
#include <domain/domain.h>
#include <host/machine.h>
#include <lib/errno.h>
#include <lib/lib.h>
#include <mm/domain_page.h>
#include <mm/mm.h>
#include <mm/p2m.h>
#include <mm/page_alloc.h>
#include <mm/setup_mm.h>
#include <mm/vmap.h>
#include <setjmp.h>
#include <string.h>
#include <test/hooks.h>

#include "fuzz.h"

/* The machine: 64 MiB across the 4 GiB line, so MEMF_bits(32) is a real zone. */
#define RAM_START 0xfe000000ULL
#define RAM_SIZE (64ULL << 20)

#define MAX_BLOCKS 48
#define MAX_TEST_ORDER 9
#define PAGE_BUDGET 4096            /* pages held at once: keeps tables allocatable */
#define MAX_GLOBALS 8
#define MAX_VMAPS 8
#define MAX_VMAP_FRAMES 8
#define MAX_VMALLOCS 6
#define MAX_MAPPED (HOST_DOMAIN_PAGE_SLOTS - 2)   /* the checks map a frame or two themselves */
#define NR_DOMS 2
#define DOM_MAX_PAGES 700
#define WORDS (PAGE_SIZE / 8)

struct block {
    mfn_t mfn;
    unsigned int order;
    bool xen;
    int dom;                /* owner, -1: nobody */
    uint64_t tag;           /* frame i holds tag ^ i at word 0, ~(tag ^ i) at the last word */
    int p2m_dom;            /* mapped in that domain's p2m at gfn, -1: not mapped */
    unsigned long gfn;
    unsigned int pins;      /* mappings (global, vmap, map_domain_page) that show it */
};

struct frame_ref {
    unsigned int block;
    unsigned int frame;
};

static struct {
    const uint8_t *data;
    size_t size, pos;
    uint64_t op;

    struct block block[MAX_BLOCKS];
    unsigned int nr_blocks;
    unsigned long held;     /* pages in blocks */

    struct { void *va; struct frame_ref ref; } mapped[MAX_MAPPED], global[MAX_GLOBALS];
    unsigned int nr_mapped, nr_globals;
    struct { void *va; unsigned int nr; struct frame_ref ref[MAX_VMAP_FRAMES]; } vmaps[MAX_VMAPS];
    unsigned int nr_vmaps;
    struct { uint64_t *va; size_t pages; uint64_t tag; } vmallocs[MAX_VMALLOCS];
    unsigned int nr_vmallocs;

    struct domain dom[NR_DOMS];
    unsigned long dom_pages[NR_DOMS];

    unsigned long boot_free;
} m;

/* --- reading the program ------------------------------------------------- */

static bool more(void)
{
    return m.pos < m.size;
}

/* Past the end every read is 0, so a cut program still means something. */
static unsigned int byte(void)
{
    return m.pos < m.size ? m.data[m.pos++] : 0;
}

static unsigned int pick(unsigned int n)
{
    return n ? byte() % n : 0;
}

/* Orders: mostly small, now and then large. */
static unsigned int pick_order(void)
{
    unsigned int b = byte();

    return b < 160 ? 0 : b < 220 ? 1 + b % 3 : 4 + b % (MAX_TEST_ORDER - 3);
}

/* --- panics the API promises for misuse ---------------------------------- */

static jmp_buf panic_jmp;
static bool panic_expected;
static char panic_message[256];

static void panic_hook(const char *message)
{
    if (!panic_expected)
        return;                     /* a real panic: let it stop the process */
    snprintf(panic_message, sizeof(panic_message), "%s", message);
    longjmp(panic_jmp, 1);
}

#define EXPECT_REFUSED(what, stmt)                                                      \
    do {                                                                                \
        unsigned long free_before_ = heap_free_pages();                                 \
        panic_expected = true;                                                          \
        if (setjmp(panic_jmp) == 0) {                                                   \
            stmt;                                                                       \
            fuzz_fail("op %llu: %s was not refused", (unsigned long long)m.op, what);    \
        }                                                                               \
        panic_expected = false;                                                         \
        if (heap_lock_is_held() || vm_lock_is_held() || pt_lock_is_held())              \
            fuzz_fail("op %llu: %s: a lock is held after the panic (%s)",               \
                      (unsigned long long)m.op, what, panic_message);                    \
        if (heap_free_pages() != free_before_ || heap_check() != 0)                     \
            fuzz_fail("op %llu: %s: the heap changed in a refused call (%s)",           \
                      (unsigned long long)m.op, what, panic_message);                    \
    } while (0)

/* --- frames and their tags ------------------------------------------------ */

static mfn_t frame_mfn(struct frame_ref r)
{
    return mfn_add(m.block[r.block].mfn, r.frame);
}

static uint64_t *map_frame(mfn_t mfn)
{
    return map_domain_page(mfn);
}

static void check_tag(const struct block *b, unsigned long i, const char *when)
{
    const uint64_t *va = map_frame(mfn_add(b->mfn, i));
    uint64_t want = b->tag ^ i;

    if (va[0] != want || va[WORDS - 1] != ~want)
        fuzz_fail("op %llu: %s: mfn 0x%lx holds 0x%llx/0x%llx, expected tag 0x%llx",
                  (unsigned long long)m.op, when, mfn_x(b->mfn) + i,
                  (unsigned long long)va[0], (unsigned long long)va[WORDS - 1],
                  (unsigned long long)want);
    unmap_domain_page(va);
}

static void write_tag(const struct block *b, unsigned long i)
{
    uint64_t *va = map_frame(mfn_add(b->mfn, i));

    va[0] = b->tag ^ i;
    va[WORDS - 1] = ~(b->tag ^ i);
    unmap_domain_page(va);
}

/*
 * A second mapping va of frame r shows the same memory: the tag reads back
 * through it, and a word written through it reads back through a fresh
 * map_domain_page.
 */
static void check_alias(const uint64_t *va_const, struct frame_ref r, const char *kind)
{
    uint64_t *va = (uint64_t *)va_const;
    const struct block *b = &m.block[r.block];
    uint64_t want = b->tag ^ r.frame, word = m.op * 0x9e3779b97f4a7c15ULL;
    uint64_t *direct;

    if (va[0] != want)
        fuzz_fail("op %llu: %s of mfn 0x%lx reads 0x%llx, expected 0x%llx",
                  (unsigned long long)m.op, kind, mfn_x(frame_mfn(r)),
                  (unsigned long long)va[0], (unsigned long long)want);
    va[1 + m.op % (WORDS - 2)] = word;
    direct = map_frame(frame_mfn(r));
    if (direct[1 + m.op % (WORDS - 2)] != word)
        fuzz_fail("op %llu: a write through the %s of mfn 0x%lx is not in the frame",
                  (unsigned long long)m.op, kind, mfn_x(frame_mfn(r)));
    unmap_domain_page(direct);
}

#ifdef CONFIG_DEBUG
#define POISON (0x0101010101010101ULL * PAGE_POISON_BYTE)
#else
#define POISON 0ULL
#endif

/* A new block holds zeroes or the free poison, never an earlier tag (debug builds scrub
 * the xenheap too). */
static void check_clean(const struct block *b, unsigned long i)
{
    const uint64_t *va = map_frame(mfn_add(b->mfn, i));
    uint64_t first = va[0], last = va[WORDS - 1];

    unmap_domain_page(va);
    if (!((first == 0 && last == 0) || (first == POISON && last == POISON)))
        fuzz_fail("op %llu: new block at mfn 0x%lx frame %lu holds 0x%llx: not scrubbed",
                  (unsigned long long)m.op, mfn_x(b->mfn), i, (unsigned long long)first);
}

static bool block_has_frame(const struct block *b, mfn_t mfn)
{
    return mfn_x(mfn) >= mfn_x(b->mfn) && mfn_x(mfn) < mfn_x(b->mfn) + (1UL << b->order);
}

/* --- the operations ------------------------------------------------------ */

static void op_alloc(bool xen)
{
    unsigned int order = pick_order(), flags = byte(), memflags = 0;
    unsigned long n = 1UL << order, limit = ~0UL;
    int dom = xen ? -1 : (int)(flags % 3) - 1;
    struct block *b;
    mfn_t mfn;

    if (m.nr_blocks == MAX_BLOCKS || m.held + n > PAGE_BUDGET)
        return;
    if (flags & 0x10) {
        memflags |= MEMF_bits(32);
        limit = 1UL << (32 - PAGE_SHIFT);
    }
    if (flags & 0x20)
        memflags |= MEMF_no_scrub;
    if (xen) {
        void *va = alloc_xenheap_pages(order, memflags);

        if (!va)
            return;
        mfn = virt_to_mfn(va);
    } else {
        struct domain *d = dom < 0 ? NULL : &m.dom[dom];
        struct page_info *pg = alloc_domheap_pages(d, order, memflags);
        bool over = d && m.dom_pages[dom] + n > DOM_MAX_PAGES;

        if (d && m.dom[dom].tot_pages != m.dom_pages[dom] + (pg ? n : 0))
            fuzz_fail("op %llu: d%d has %lu pages, the model %lu", (unsigned long long)m.op,
                      dom, m.dom[dom].tot_pages, m.dom_pages[dom] + (pg ? n : 0));
        if (!pg)
            return;
        if (over)
            fuzz_fail("op %llu: d%d got %lu pages past its limit", (unsigned long long)m.op,
                      dom, n);
        mfn = page_to_mfn(pg);
        for (unsigned long i = 0; i < n; i++)
            if (pg[i].u.owner != d)
                fuzz_fail("op %llu: mfn 0x%lx has the wrong owner", (unsigned long long)m.op,
                          mfn_x(mfn) + i);
    }
    if (mfn_x(mfn) & (n - 1) || mfn_x(mfn) + n > limit)
        fuzz_fail("op %llu: order-%u block at mfn 0x%lx is misaligned or above its zone",
                  (unsigned long long)m.op, order, mfn_x(mfn));
    b = &m.block[m.nr_blocks];
    *b = (struct block){ mfn, order, xen, dom, m.op << 20, -1, 0, 0 };
    for (unsigned int i = 0; i < m.nr_blocks; i++)
        if (block_has_frame(&m.block[i], mfn) || block_has_frame(b, m.block[i].mfn))
            fuzz_fail("op %llu: mfn 0x%lx handed out while block 0x%lx is live",
                      (unsigned long long)m.op, mfn_x(mfn), mfn_x(m.block[i].mfn));
    for (unsigned long i = 0; i < n; i++) {
        const struct page_info *pg = mfn_to_page(mfn_add(mfn, i));

        if (page_state(pg) != PGS_inuse || is_xen_heap_mfn(mfn_add(mfn, i)) != xen)
            fuzz_fail("op %llu: mfn 0x%lx: state %u, xenheap %d; expected in use, %d",
                      (unsigned long long)m.op, mfn_x(mfn) + i, page_state(pg),
                      is_xen_heap_mfn(mfn_add(mfn, i)), xen);
        if (!(memflags & MEMF_no_scrub))
            check_clean(b, i);
        write_tag(b, i);
    }
    m.nr_blocks++;
    m.held += n;
    if (dom >= 0)
        m.dom_pages[dom] += n;
}

static struct block *pick_block(void)
{
    return m.nr_blocks ? &m.block[pick(m.nr_blocks)] : NULL;
}

static void p2m_unmap_block(struct block *b)
{
    int rc;

    if (b->p2m_dom < 0)
        return;
    rc = guest_physmap_remove_page(&m.dom[b->p2m_dom], _gfn(b->gfn), b->mfn, b->order);
    if (rc)
        fuzz_fail("op %llu: removing gfn 0x%lx of d%d: %d", (unsigned long long)m.op, b->gfn,
                  b->p2m_dom, rc);
    b->p2m_dom = -1;
}

static void drop_global(unsigned int i)
{
    check_alias(m.global[i].va, m.global[i].ref, "global mapping");
    unmap_domain_page_global(m.global[i].va);
    m.block[m.global[i].ref.block].pins--;
    m.global[i] = m.global[--m.nr_globals];
}

static void drop_vmap(unsigned int i)
{
    for (unsigned int f = 0; f < m.vmaps[i].nr; f++) {
        check_alias((const uint64_t *)m.vmaps[i].va + f * WORDS, m.vmaps[i].ref[f], "vmap");
        m.block[m.vmaps[i].ref[f].block].pins--;
    }
    vunmap(m.vmaps[i].va);
    m.vmaps[i] = m.vmaps[--m.nr_vmaps];
}

static void drop_mapped(unsigned int i)
{
    check_alias(m.mapped[i].va, m.mapped[i].ref, "map_domain_page");
    unmap_domain_page(m.mapped[i].va);
    m.block[m.mapped[i].ref.block].pins--;
    m.mapped[i] = m.mapped[--m.nr_mapped];
}

/* Everything that shows block bi goes first: freeing a mapped frame is the caller's bug. */
static void unpin(unsigned int bi)
{
    for (unsigned int i = m.nr_globals; i-- > 0;)
        if (m.global[i].ref.block == bi)
            drop_global(i);
    for (unsigned int i = m.nr_vmaps; i-- > 0;)
        for (unsigned int f = 0; f < m.vmaps[i].nr; f++)
            if (m.vmaps[i].ref[f].block == bi) {
                drop_vmap(i);
                break;
            }
    for (unsigned int i = m.nr_mapped; i-- > 0;)
        if (m.mapped[i].ref.block == bi)
            drop_mapped(i);
}

/* References to the last block follow it into slot bi. */
static void move_refs(unsigned int from, unsigned int to)
{
    for (unsigned int i = 0; i < m.nr_globals; i++)
        if (m.global[i].ref.block == from)
            m.global[i].ref.block = to;
    for (unsigned int i = 0; i < m.nr_mapped; i++)
        if (m.mapped[i].ref.block == from)
            m.mapped[i].ref.block = to;
    for (unsigned int i = 0; i < m.nr_vmaps; i++)
        for (unsigned int f = 0; f < m.vmaps[i].nr; f++)
            if (m.vmaps[i].ref[f].block == from)
                m.vmaps[i].ref[f].block = to;
}

static void free_block(unsigned int bi, bool misuse)
{
    struct block *b = &m.block[bi];
    struct block old;
    unsigned long n = 1UL << b->order;

    unpin(bi);
    p2m_unmap_block(b);
    for (unsigned long i = 0; i < n; i++)
        check_tag(b, i, "before free");
    if (misuse && !b->xen) {
        unsigned int wrong = b->order ? b->order - 1 : b->order + 1;
        struct page_info *pg = mfn_to_page(b->mfn);

        EXPECT_REFUSED("a free with the wrong order", free_domheap_pages(pg, wrong));
    }
    if (b->xen)
        free_xenheap_pages(mfn_to_virt(b->mfn), b->order);
    else
        free_domheap_pages(mfn_to_page(b->mfn), b->order);
    old = *b;
    m.held -= n;
    if (old.dom >= 0) {
        m.dom_pages[old.dom] -= n;
        if (m.dom[old.dom].tot_pages != m.dom_pages[old.dom])
            fuzz_fail("op %llu: d%d has %lu pages after a free, the model %lu",
                      (unsigned long long)m.op, old.dom, m.dom[old.dom].tot_pages,
                      m.dom_pages[old.dom]);
    }
    m.block[bi] = m.block[--m.nr_blocks];
    move_refs(m.nr_blocks, bi);
    if (misuse) {
        if (old.xen)
            EXPECT_REFUSED("a double free (xenheap)",
                           free_xenheap_pages(mfn_to_virt(old.mfn), old.order));
        else
            EXPECT_REFUSED("a double free (domheap)",
                           free_domheap_pages(mfn_to_page(old.mfn), old.order));
    }
}

static void op_assign(void)
{
    struct block *b = pick_block();
    unsigned int dom = pick(NR_DOMS);
    unsigned long n;
    int rc;

    if (!b || b->xen)
        return;
    n = 1UL << b->order;
    if (b->dom >= 0) {
        EXPECT_REFUSED("assigning an owned block",
                       assign_pages(&m.dom[dom], mfn_to_page(b->mfn), b->order));
        return;
    }
    if (b->p2m_dom >= 0)
        return;     /* a p2m mapping of nobody's page would become the new owner's */
    rc = assign_pages(&m.dom[dom], mfn_to_page(b->mfn), b->order);
    if (m.dom_pages[dom] + n > DOM_MAX_PAGES) {
        if (rc != -E2BIG)
            fuzz_fail("op %llu: assign past d%u's limit returned %d", (unsigned long long)m.op,
                      dom, rc);
    } else {
        if (rc != 0)
            fuzz_fail("op %llu: assign to d%u returned %d", (unsigned long long)m.op, dom, rc);
        b->dom = (int)dom;
        m.dom_pages[dom] += n;
    }
    if (m.dom[dom].tot_pages != m.dom_pages[dom])
        fuzz_fail("op %llu: d%u has %lu pages, the model %lu", (unsigned long long)m.op, dom,
                  m.dom[dom].tot_pages, m.dom_pages[dom]);
}

static bool pick_frame(struct frame_ref *r)
{
    if (!m.nr_blocks)
        return false;
    r->block = pick(m.nr_blocks);
    r->frame = (unsigned int)(((byte() << 8) | byte()) & ((1u << m.block[r->block].order) - 1));
    return true;
}

static void op_map(void)
{
    struct frame_ref r;
    void *va;

    if (m.nr_mapped == MAX_MAPPED || !pick_frame(&r))
        return;
    va = map_domain_page(frame_mfn(r));
    m.mapped[m.nr_mapped].va = va;
    m.mapped[m.nr_mapped++].ref = r;
    m.block[r.block].pins++;
    check_alias(va, r, "map_domain_page");
}

static void op_global(void)
{
    struct frame_ref r;
    void *va;

    if (m.nr_globals == MAX_GLOBALS || !pick_frame(&r))
        return;
    va = map_domain_page_global(frame_mfn(r));
    if (!va)
        return;
    m.global[m.nr_globals].va = va;
    m.global[m.nr_globals++].ref = r;
    m.block[r.block].pins++;
    check_alias(va, r, "global mapping");
}

static void op_vmap(void)
{
    unsigned int nr = 1 + pick(MAX_VMAP_FRAMES);
    mfn_t mfn[MAX_VMAP_FRAMES];
    struct frame_ref ref[MAX_VMAP_FRAMES];
    void *va;

    if (m.nr_vmaps == MAX_VMAPS || !m.nr_blocks)
        return;
    for (unsigned int i = 0; i < nr; i++) {
        pick_frame(&ref[i]);
        mfn[i] = frame_mfn(ref[i]);
    }
    va = vmap(mfn, nr);
    if (!va)
        return;
    m.vmaps[m.nr_vmaps].va = va;
    m.vmaps[m.nr_vmaps].nr = nr;
    for (unsigned int i = 0; i < nr; i++) {
        m.vmaps[m.nr_vmaps].ref[i] = ref[i];
        m.block[ref[i].block].pins++;
        check_alias((const uint64_t *)va + i * WORDS, ref[i], "vmap");
    }
    m.nr_vmaps++;
}

static void op_vmalloc(void)
{
    size_t size = 1 + (((size_t)byte() << 8) | byte()) % (8 * PAGE_SIZE);
    size_t pages = ROUNDUP(size, PAGE_SIZE) / PAGE_SIZE;
    uint64_t *va;

    if (m.nr_vmallocs == MAX_VMALLOCS || m.held + pages > PAGE_BUDGET)
        return;
    va = byte() & 1 ? vzalloc(size) : vmalloc(size);
    if (!va)
        return;
    for (size_t p = 0; p < pages; p++)
        va[p * WORDS] = m.op ^ p;
    m.vmallocs[m.nr_vmallocs++] = (typeof(m.vmallocs[0])){ va, pages, m.op };
    m.held += pages;
}

static void drop_vmalloc(unsigned int i)
{
    for (size_t p = 0; p < m.vmallocs[i].pages; p++)
        if (m.vmallocs[i].va[p * WORDS] != (m.vmallocs[i].tag ^ p))
            fuzz_fail("op %llu: page %zu of a vmalloc area lost its tag",
                      (unsigned long long)m.op, p);
    vfree(m.vmallocs[i].va);
    m.held -= m.vmallocs[i].pages;
    m.vmallocs[i] = m.vmallocs[--m.nr_vmallocs];
}

/* vmap areas of one kind handed to another kind's free are refused. */
static void op_vmap_misuse(void)
{
    unsigned int which = byte() % 3;

    if (which == 0 && m.nr_vmallocs)
        EXPECT_REFUSED("vunmap of a vmalloc area", vunmap(m.vmallocs[0].va));
    else if (which == 1 && m.nr_vmaps)
        EXPECT_REFUSED("vfree of a vmap area", vfree(m.vmaps[0].va));
    else if (which == 2 && m.nr_vmaps)
        EXPECT_REFUSED("unmap_domain_page_global of a vmap area",
                       unmap_domain_page_global(m.vmaps[0].va));
    else if (m.nr_globals)
        EXPECT_REFUSED("vunmap of a global mapping", vunmap(m.global[0].va));
}

/* Guest frames: near 0, at a 1 GiB boundary, and at the top of the 40-bit IPA space. */
static unsigned long pick_gfn(unsigned int order)
{
    static const unsigned long base[] = { 0, 0x40000, 0x3ffff, P2M_MAX_GFN - 0x400 };
    unsigned long gfn = base[pick(ARRAY_SIZE(base))] + (((byte() << 8) | byte()) & 0x7ff);

    return byte() & 1 ? gfn & ~((1UL << order) - 1) : gfn;
}

/* Does the model have any of [gfn, gfn + n) mapped in dom? */
static bool model_p2m_busy(unsigned int dom, unsigned long gfn, unsigned long n)
{
    for (unsigned int i = 0; i < m.nr_blocks; i++) {
        const struct block *b = &m.block[i];

        if (b->p2m_dom == (int)dom && gfn < b->gfn + (1UL << b->order) && b->gfn < gfn + n)
            return true;
    }
    return false;
}

static void op_p2m_add(void)
{
    struct block *b = pick_block();
    unsigned int dom = pick(NR_DOMS);
    unsigned long gfn, n;
    int rc, want;

    if (!b || b->p2m_dom >= 0 || b->pins)
        return;
    n = 1UL << b->order;
    gfn = pick_gfn(b->order);
    if (b->xen || (b->dom >= 0 && b->dom != (int)dom) || gfn + n > P2M_MAX_GFN)
        want = -EINVAL;
    else if (model_p2m_busy(dom, gfn, n))
        want = -EBUSY;
    else
        want = 0;
    rc = guest_physmap_add_page(&m.dom[dom], _gfn(gfn), b->mfn, b->order);
    if (rc == -ENOMEM && want == 0)
        fuzz_fail("op %llu: the p2m ran out of table pages with the heap far from full",
                  (unsigned long long)m.op);
    if (rc != want)
        fuzz_fail("op %llu: guest_physmap_add_page(d%u, gfn 0x%lx, mfn 0x%lx, order %u) "
                  "returned %d, the model expects %d", (unsigned long long)m.op, dom, gfn,
                  mfn_x(b->mfn), b->order, rc, want);
    if (rc == 0) {
        b->p2m_dom = (int)dom;
        b->gfn = gfn;
    }
}

static void op_p2m_remove(void)
{
    struct block *b = pick_block();
    int rc;

    if (!b || b->p2m_dom < 0)
        return;
    if (byte() & 1) {
        /* a removal naming the wrong frames changes nothing */
        rc = guest_physmap_remove_page(&m.dom[b->p2m_dom], _gfn(b->gfn), mfn_add(b->mfn, 1),
                                       b->order);
        if (rc != -EINVAL)
            fuzz_fail("op %llu: removing gfn 0x%lx with the wrong mfn returned %d",
                      (unsigned long long)m.op, b->gfn, rc);
        return;
    }
    p2m_unmap_block(b);
}

/* The p2m against the model, and the frame's tag read through what the p2m says. */
static void op_p2m_lookup(void)
{
    unsigned int dom = pick(NR_DOMS);
    unsigned long gfn = pick_gfn(0);
    mfn_t want = INVALID_MFN, got;
    p2m_type_t t;

    for (unsigned int i = 0; i < m.nr_blocks; i++) {
        const struct block *b = &m.block[i];

        if (b->p2m_dom == (int)dom && gfn >= b->gfn && gfn < b->gfn + (1UL << b->order))
            want = mfn_add(b->mfn, gfn - b->gfn);
    }
    got = p2m_lookup(&m.dom[dom].p2m, _gfn(gfn), &t);
    if (!mfn_eq(got, want) || (t == p2m_ram_rw) != !mfn_eq(want, INVALID_MFN))
        fuzz_fail("op %llu: d%u gfn 0x%lx maps mfn 0x%lx (type %u), the model says 0x%lx",
                  (unsigned long long)m.op, dom, gfn, mfn_x(got), t, mfn_x(want));
    for (unsigned int i = 0; i < m.nr_blocks; i++)
        if (block_has_frame(&m.block[i], got))
            check_tag(&m.block[i], mfn_x(got) - mfn_x(m.block[i].mfn), "through the p2m");
}

/* unmap_domain_page of a frame's xenheap address that map_domain_page never returned. */
static void op_unmap_misuse(void)
{
    const struct block *b = NULL;

    for (unsigned int i = 0; i < m.nr_blocks && !b; i++)
        if (m.block[i].xen && !m.block[i].pins)
            b = &m.block[i];
    if (b)
        EXPECT_REFUSED("unmap_domain_page of an unmapped page",
                       unmap_domain_page(mfn_to_virt(b->mfn)));
}

/* --- the machine ----------------------------------------------------------- */

/* The first input makes the machine, the others reboot it: the same boot state each time. */
static void boot(void)
{
    struct host_machine_config cfg;

    memset(&cfg, 0, sizeof(cfg));
    cfg.nr_banks = 1;
    cfg.bank[0] = (struct mem_range){ RAM_START, RAM_START + RAM_SIZE };
    if (host_machine_present() ? host_machine_reboot() : host_machine_create(&cfg))
        fuzz_fail("mm: the host cannot make the fake machine");
    m.boot_free = heap_free_pages();
    vm_init();
    for (unsigned int i = 0; i < NR_DOMS; i++) {
        domain_init(&m.dom[i], (domid_t)(i + 1), DOM_MAX_PAGES);
        if (p2m_init(&m.dom[i]) != 0)
            fuzz_fail("mm: p2m_init of d%u failed on a fresh machine", i + 1);
    }
}

/* Releases everything the program holds; the heap must be as booted. */
static void release_all(void)
{
    struct vm_stats st;

    while (m.nr_vmallocs)
        drop_vmalloc(m.nr_vmallocs - 1);
    while (m.nr_vmaps)
        drop_vmap(m.nr_vmaps - 1);
    while (m.nr_globals)
        drop_global(m.nr_globals - 1);
    while (m.nr_mapped)
        drop_mapped(m.nr_mapped - 1);
    while (m.nr_blocks)
        free_block(m.nr_blocks - 1, false);
    if (host_domain_page_mappings() != 0)
        fuzz_fail("mm: %u map_domain_page mappings left", host_domain_page_mappings());
    vm_stats(&st);
    if (st.allocations != 0)
        fuzz_fail("mm: %lu vmap allocations left", st.allocations);
    if (heap_check() != 0)
        fuzz_fail("mm: heap_check failed at the end");
    /* the p2m's tables of removed ranges stay until teardown: only then is the count exact */
    for (unsigned int i = 0; i < NR_DOMS; i++) {
        if (m.dom[i].tot_pages != 0)
            fuzz_fail("mm: d%u still has %lu pages", i + 1, m.dom[i].tot_pages);
        p2m_teardown(&m.dom[i]);
    }
    if (vm_teardown() != 0)
        fuzz_fail("mm: vm_teardown found live allocations");
    if (heap_free_pages() != m.boot_free || heap_check() != 0)
        fuzz_fail("mm: the heap has %lu free pages after everything was released, %lu at boot",
                  heap_free_pages(), m.boot_free);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    panic_set_hook(panic_hook);
    pt_set_quiet(true);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    memset(&m, 0, sizeof(m));
    m.data = data;
    m.size = size;
    boot();
    while (more()) {
        unsigned int code = byte();

        m.op++;
        switch (code % 16) {
        case 0: case 1: op_alloc(false); break;
        case 2: op_alloc(true); break;
        case 3: case 4:
            if (m.nr_blocks)
                free_block(pick(m.nr_blocks), code >= 0xf0);
            break;
        case 5: op_assign(); break;
        case 6: op_map(); break;
        case 7:
            if (m.nr_mapped)
                drop_mapped(pick(m.nr_mapped));
            break;
        case 8: op_global(); break;
        case 9:
            if (m.nr_globals)
                drop_global(pick(m.nr_globals));
            else
                op_unmap_misuse();
            break;
        case 10: op_vmap(); break;
        case 11:
            if (m.nr_vmaps && !(code & 0x80))
                drop_vmap(pick(m.nr_vmaps));
            else
                op_vmap_misuse();
            break;
        case 12:
            if (m.nr_vmallocs && (code & 0x80))
                drop_vmalloc(pick(m.nr_vmallocs));
            else
                op_vmalloc();
            break;
        case 13: op_p2m_add(); break;
        case 14: op_p2m_remove(); break;
        case 15: op_p2m_lookup(); break;
        }
    }
    release_all();
    return 0;
}
