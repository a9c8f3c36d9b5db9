/*
 * Stage-2 translation per domain (the p2m): see include/mm/p2m.h for the shape and the
 * rules, include/arch/p2m.h for what the architecture does.
 *
 * Tables. Every table page, the root included, is a domheap page that may lie anywhere
 * (above 4 GiB too) and is never assumed mapped: each access maps it with
 * map_domain_page() and unmaps it before moving to the next level, so at most two table
 * pages are mapped at once (a parent while its new child is filled). New tables are zeroed
 * or filled through such a mapping while no walker can reach them, and published with a
 * DSB before the entry that links them is written.
 *
 * Break-before-make. No valid entry is ever overwritten by another valid one. When a valid
 * entry must go or change (removal; a block split into a table of the next level; an
 * empty table replaced by a block), the sequence is: write 0, DSB (the walkers see the
 * break), invalidate the VMID's TLB entries (arch_p2m_flush_vmid, which waits for
 * completion), and only then write the new entry (and DSB). A table page that was
 * unlinked is freed only after that invalidation, so no walk cache still points into it.
 *
 * Overlaps. Mapping over a range in which anything is mapped is refused with -EBUSY before
 * any entry changes: the caller removes first. So valid-to-valid changes only arise where
 * the code chooses them (splits, and empty tables giving way to blocks).
 *
 * Removal leaves behind the tables it emptied below a block-sized range (they are freed
 * when a block replaces them or at teardown); it frees the tables of any block-sized range
 * it removes whole.
 */
#include <arch/p2m.h>
#include <domain/domain.h>
#include <lib/errno.h>
#include <lib/lib.h>
#include <mm/domain_page.h>
#include <mm/mm.h>
#include <mm/p2m.h>
#include <mm/page_alloc.h>
#include <string.h>
#include <test/hooks.h>

/* First MFN beyond 40-bit physical addresses (LPAE output addresses). */
#define MAX_MFN (1UL << (40 - PAGE_SHIFT))
/* Orders up to this fit an unsigned long count of pages on both targets. */
#define BITS_PER_LONG_P2M (8 * (unsigned int)sizeof(unsigned long))

/* Frames covered by one entry of a level. */
static inline unsigned long level_pages(unsigned int level)
{
    return 1UL << (lpae_level_shift(level) - PAGE_SHIFT);
}

/* --- VMIDs ------------------------------------------------------------------------- */

#define VMID_WORDS (P2M_NR_VMIDS / 32)
static uint32_t vmid_used[VMID_WORDS] = { 1 };      /* VMID 0: no guest */
static spinlock_t vmid_lock = SPIN_LOCK_UNLOCKED;

int p2m_alloc_vmid(uint8_t *vmid)
{
    spin_lock(&vmid_lock);
    for (unsigned int i = 1; i < P2M_NR_VMIDS; i++) {
        if (!(vmid_used[i / 32] & (1u << (i % 32)))) {
            vmid_used[i / 32] |= 1u << (i % 32);
            spin_unlock(&vmid_lock);
            *vmid = (uint8_t)i;
            return 0;
        }
    }
    spin_unlock(&vmid_lock);
    printk("p2m: no VMID left (all %u in use)\n", P2M_NR_VMIDS - 1);
    return -EBUSY;
}

void p2m_free_vmid(uint8_t vmid)
{
    if (!vmid)
        panic("p2m: VMID 0 freed (it is never allocated)");
    spin_lock(&vmid_lock);
    if (!(vmid_used[vmid / 32] & (1u << (vmid % 32)))) {
        spin_unlock(&vmid_lock);
        panic("p2m: VMID %u freed but not in use", vmid);
    }
    vmid_used[vmid / 32] &= ~(1u << (vmid % 32));
    spin_unlock(&vmid_lock);
}

unsigned int p2m_vmids_in_use(void)
{
    unsigned int n = 0;

    spin_lock(&vmid_lock);
    for (unsigned int i = 0; i < VMID_WORDS; i++)
        n += (unsigned int)__builtin_popcount(vmid_used[i]);
    spin_unlock(&vmid_lock);
    return n - 1;
}

/* --- descriptors --------------------------------------------------------------------- */

static lpae_t make_leaf(mfn_t mfn, p2m_type_t t, unsigned int level)
{
    lpae_t e = (mfn_to_paddr(mfn) & LPAE_ADDR_MASK) | (level == 3 ? LPAE_PAGE : LPAE_BLOCK);

    e |= S2_AF | S2_AP_READ | S2_AP_WRITE | ((lpae_t)t << S2_TYPE_SHIFT);
    if (t == p2m_ram_rw)
        e |= S2_MEMATTR_NORMAL_WB | S2_SH_INNER;
    else
        e |= S2_MEMATTR_DEVICE | S2_XN;
    return e;
}

static lpae_t make_table(mfn_t mfn)
{
    return (mfn_to_paddr(mfn) & LPAE_ADDR_MASK) | LPAE_TABLE;
}

static p2m_type_t entry_type(lpae_t e)
{
    return (p2m_type_t)((e & S2_TYPE_MASK) >> S2_TYPE_SHIFT);
}

static mfn_t entry_mfn(lpae_t e)
{
    return paddr_to_mfn(lpae_paddr(e));
}

/* --- table pages --------------------------------------------------------------------- */

/*
 * Maps the table page holding gfn's entry at `level` (level 1: in the root; otherwise
 * table is the table's frame); returns the entry, *page the mapping to unmap.
 */
static lpae_t *map_entry(const struct p2m_domain *p2m, mfn_t table, unsigned int level,
                         gfn_t gfn, lpae_t **page)
{
    paddr_t ipa = gfn_to_gaddr(gfn);

    if (level == 1) {
        unsigned int i = (unsigned int)(ipa >> LPAE_L1_SHIFT);

        *page = map_domain_page(mfn_add(p2m->root, i / LPAE_ENTRIES));
        return *page + i % LPAE_ENTRIES;
    }
    *page = map_domain_page(table);
    return *page + lpae_index(level, ipa);
}

/*
 * A new table for entries of `level`: all invalid, or (from a block of the level above)
 * the same memory and attributes in entries of `level`.
 */
static int new_table(struct p2m_domain *p2m, mfn_t *out, lpae_t block, unsigned int level)
{
    struct page_info *pg = alloc_domheap_pages(NULL, 0, 0);
    lpae_t *t;

    if (!pg) {
        printk("p2m: d%u: out of memory for a level-%u table\n", p2m->domain->domain_id,
               level);
        return -ENOMEM;
    }
    *out = page_to_mfn(pg);
    t = map_domain_page(*out);
    if (!lpae_is_valid(block)) {
        memset(t, 0, PAGE_SIZE);
    } else {
        lpae_t attrs = block & ~(LPAE_ADDR_MASK | LPAE_TYPE_MASK);
        paddr_t pa = lpae_paddr(block);

        for (unsigned int i = 0; i < LPAE_ENTRIES; i++)
            t[i] = ((pa + (paddr_t)i * lpae_level_size(level)) & LPAE_ADDR_MASK) | attrs |
                   (level == 3 ? LPAE_PAGE : LPAE_BLOCK);
    }
    unmap_domain_page(t);
    p2m->nr_tables++;
    return 0;
}

/* Frees the table at `table` (entries of `level`) and every table below it. */
static void free_table_tree(struct p2m_domain *p2m, mfn_t table, unsigned int level)
{
    if (level < 3) {
        lpae_t *t = map_domain_page(table);

        for (unsigned int i = 0; i < LPAE_ENTRIES; i++)
            if (lpae_is_table(t[i], level))
                free_table_tree(p2m, entry_mfn(t[i]), level + 1);
        unmap_domain_page(t);
    }
    free_domheap_pages(mfn_to_page(table), 0);
    p2m->nr_tables--;
}

/* Tests only (test/hooks.h): skip the break, to show that the host's checker sees it. */
static bool skip_break;

void p2m_test_skip_break(bool skip)
{
    skip_break = skip;
}

/* Write a new entry where none is valid, and make it visible. */
static void make_entry(lpae_t *entry, lpae_t value, paddr_t ipa, unsigned int level)
{
    arch_p2m_write(entry, value, ipa, level);
    arch_p2m_barrier();
}

/*
 * Replaces the valid entry at `entry` by `value` (0: removal) with break-before-make:
 * write 0, DSB, invalidate the VMID's TLB entries (complete); then the new entry and DSB.
 */
static void replace_entry(const struct p2m_domain *p2m, lpae_t *entry, lpae_t value,
                          paddr_t ipa, unsigned int level)
{
    if (unlikely(skip_break)) {
        make_entry(entry, value, ipa, level);
        return;
    }
    arch_p2m_write(entry, 0, ipa, level);
    arch_p2m_barrier();
    arch_p2m_flush_vmid(p2m->vttbr);
    if (lpae_is_valid(value))
        make_entry(entry, value, ipa, level);
}

/* --- walks --------------------------------------------------------------------------- */

/* The leaf entry for gfn (0 if none) and its level (0 if none). Lock held. */
static lpae_t get_entry_locked(const struct p2m_domain *p2m, gfn_t gfn, unsigned int *level)
{
    mfn_t table = INVALID_MFN;

    for (unsigned int l = 1; l <= 3; l++) {
        lpae_t *page, e = *map_entry(p2m, table, l, gfn, &page);

        unmap_domain_page(page);
        if (!lpae_is_valid(e))
            break;
        if (!lpae_is_table(e, l)) {
            *level = l;
            return e;
        }
        table = entry_mfn(e);
    }
    *level = 0;
    return 0;
}

/* The first mapped frame in [gfn, gfn + nr), or false. Skips empty ranges a level at a time. */
static bool range_mapped(const struct p2m_domain *p2m, gfn_t gfn, unsigned long nr,
                         gfn_t *found)
{
    unsigned long g = gfn_x(gfn), end = gfn_x(gfn) + nr;

    while (g < end) {
        mfn_t table = INVALID_MFN;

        for (unsigned int l = 1; l <= 3; l++) {
            lpae_t *page, e = *map_entry(p2m, table, l, _gfn(g), &page);

            unmap_domain_page(page);
            if (!lpae_is_valid(e)) {
                g = (g | (level_pages(l) - 1)) + 1;
                break;
            }
            if (!lpae_is_table(e, l)) {
                *found = _gfn(g);
                return true;
            }
            table = entry_mfn(e);
        }
    }
    return false;
}

/*
 * Sets gfn's entry at level `target` (covering level_pages(target) frames from gfn, which
 * is aligned to that) to a leaf of mfn and t, or removes it (t == p2m_invalid). Creates
 * tables on the way down, and splits blocks on the way when removing part of one. Lock
 * held; the range was checked (nothing mapped in it, when mapping).
 */
static int set_one(struct p2m_domain *p2m, gfn_t gfn, mfn_t mfn, p2m_type_t t,
                   unsigned int target)
{
    paddr_t ipa = gfn_to_gaddr(gfn);
    mfn_t table = INVALID_MFN;

    for (unsigned int level = 1;; level++) {
        lpae_t *page, *entry = map_entry(p2m, table, level, gfn, &page);
        lpae_t e = *entry;
        paddr_t base = ipa & ~(lpae_level_size(level) - 1);
        mfn_t child;
        int rc;

        if (level == target) {
            if (t == p2m_invalid) {
                if (lpae_is_valid(e)) {
                    replace_entry(p2m, entry, 0, base, level);
                    if (lpae_is_table(e, level))
                        free_table_tree(p2m, entry_mfn(e), level + 1);
                }
            } else if (lpae_is_valid(e)) {
                /* Only an empty table can be here (range_mapped): give way to the block. */
                ASSERT(lpae_is_table(e, level));
                replace_entry(p2m, entry, make_leaf(mfn, t, level), base, level);
                free_table_tree(p2m, entry_mfn(e), level + 1);
            } else {
                make_entry(entry, make_leaf(mfn, t, level), base, level);
            }
            unmap_domain_page(page);
            return 0;
        }

        if (!lpae_is_valid(e)) {
            if (t == p2m_invalid) {             /* nothing mapped below */
                unmap_domain_page(page);
                return 0;
            }
            rc = new_table(p2m, &child, 0, level + 1);
            if (rc) {
                unmap_domain_page(page);
                return rc;
            }
            arch_p2m_barrier();                 /* the zeroed table before the link */
            make_entry(entry, make_table(child), base, level);
        } else if (!lpae_is_table(e, level)) {
            /* A block, of which only a part goes: split it (break-before-make). */
            rc = new_table(p2m, &child, e, level + 1);
            if (rc) {
                unmap_domain_page(page);
                return rc;
            }
            arch_p2m_barrier();                 /* the filled table before the link */
            replace_entry(p2m, entry, make_table(child), base, level);
        } else {
            child = entry_mfn(e);
        }
        unmap_domain_page(page);
        table = child;
    }
}

static bool p2m_ready(const struct p2m_domain *p2m)
{
    return p2m->vmid != 0;
}

/* Lock held. */
static int set_range(struct p2m_domain *p2m, gfn_t gfn, unsigned long nr, mfn_t mfn,
                     p2m_type_t t, enum p2m_block_limit limit)
{
    domid_t id = p2m->domain->domain_id;
    gfn_t busy;

    if (limit < P2M_UP_TO_1G || limit > P2M_PAGES_ONLY) {
        printk("p2m: d%u: bad block limit %u\n", id, limit);
        return -EINVAL;
    }
    if (gfn_x(gfn) >= P2M_MAX_GFN || nr > P2M_MAX_GFN - gfn_x(gfn)) {
        printk("p2m: d%u: gfn 0x%lx + %lu pages is outside the %u-bit IPA space\n", id,
               gfn_x(gfn), nr, P2M_IPA_BITS);
        return -EINVAL;
    }
    if (t >= p2m_nr_types) {
        printk("p2m: d%u: bad p2m type %u\n", id, t);
        return -EINVAL;
    }
    if (t == p2m_invalid) {
        if (!mfn_eq(mfn, INVALID_MFN)) {
            printk("p2m: d%u: removal of gfn 0x%lx given mfn 0x%lx (expects INVALID_MFN)\n",
                   id, gfn_x(gfn), mfn_x(mfn));
            return -EINVAL;
        }
    } else {
        if (mfn_x(mfn) >= MAX_MFN || nr > MAX_MFN - mfn_x(mfn)) {
            printk("p2m: d%u: mfn 0x%lx + %lu pages is beyond 40-bit physical addresses\n", id,
                   mfn_x(mfn), nr);
            return -EINVAL;
        }
        if (range_mapped(p2m, gfn, nr, &busy)) {
            printk("p2m: d%u: gfn 0x%lx is already mapped (mapping 0x%lx + %lu pages): "
                   "remove it first\n", id, gfn_x(busy), gfn_x(gfn), nr);
            return -EBUSY;
        }
    }

    while (nr) {
        unsigned int level;
        unsigned long pages;
        int rc;

        for (level = limit; level < 3; level++) {
            pages = level_pages(level);
            if (nr >= pages && !(gfn_x(gfn) & (pages - 1)) &&
                (t == p2m_invalid || !(mfn_x(mfn) & (pages - 1))))
                break;
        }
        pages = level_pages(level);
        rc = set_one(p2m, gfn, mfn, t, level);
        if (rc)
            return rc;
        gfn = gfn_add(gfn, pages);
        if (t != p2m_invalid)
            mfn = mfn_add(mfn, pages);
        nr -= pages;
    }
    return 0;
}

/* --- the interface ------------------------------------------------------------------- */

struct p2m_domain *p2m_get_hostp2m(struct domain *d)
{
    return &d->p2m;
}

int p2m_init(struct domain *d)
{
    struct p2m_domain *p2m = &d->p2m;
    struct page_info *pg;
    uint8_t vmid;
    int rc;

    if (p2m_ready(p2m)) {
        printk("p2m: d%u: p2m_init on a p2m already set up\n", d->domain_id);
        return -EINVAL;
    }
    memset(p2m, 0, sizeof(*p2m));
    spin_lock_init(&p2m->lock);
    p2m->domain = d;
    p2m->root = INVALID_MFN;
    rc = p2m_alloc_vmid(&vmid);
    if (rc)
        return rc;
    pg = alloc_domheap_pages(NULL, P2M_ROOT_ORDER, 0);
    if (!pg) {
        p2m_free_vmid(vmid);
        printk("p2m: d%u: out of memory for the root tables\n", d->domain_id);
        return -ENOMEM;
    }
    p2m->root = page_to_mfn(pg);
    /* VTTBR.BADDR: with T0SZ = -8 and SL0 = 1, the root must be 8 KiB aligned. */
    ASSERT(!(mfn_x(p2m->root) & ((1UL << P2M_ROOT_ORDER) - 1)));
    for (unsigned long i = 0; i < (1UL << P2M_ROOT_ORDER); i++) {
        void *t = map_domain_page(mfn_add(p2m->root, i));

        memset(t, 0, PAGE_SIZE);
        unmap_domain_page(t);
    }
    arch_p2m_barrier();
    p2m->vmid = vmid;
    p2m->vttbr = mfn_to_paddr(p2m->root) | ((uint64_t)vmid << VTTBR_VMID_SHIFT);
    return 0;
}

int p2m_set_entry_limit(struct p2m_domain *p2m, gfn_t gfn, unsigned long nr, mfn_t mfn,
                        p2m_type_t t, enum p2m_block_limit limit)
{
    int rc;

    if (!p2m_ready(p2m)) {
        printk("p2m: p2m_set_entry on a p2m not initialised\n");
        return -EINVAL;
    }
    if (!nr)
        return 0;
    spin_lock(&p2m->lock);
    rc = set_range(p2m, gfn, nr, mfn, t, limit);
    spin_unlock(&p2m->lock);
    return rc;
}

int p2m_set_entry(struct p2m_domain *p2m, gfn_t gfn, unsigned long nr, mfn_t mfn,
                  p2m_type_t t)
{
    return p2m_set_entry_limit(p2m, gfn, nr, mfn, t, P2M_UP_TO_1G);
}

lpae_t p2m_get_entry(struct p2m_domain *p2m, gfn_t gfn, unsigned int *level)
{
    unsigned int l = 0;
    lpae_t e = 0;

    if (p2m_ready(p2m) && gfn_x(gfn) < P2M_MAX_GFN) {
        spin_lock(&p2m->lock);
        e = get_entry_locked(p2m, gfn, &l);
        spin_unlock(&p2m->lock);
    }
    if (level)
        *level = l;
    return e;
}

mfn_t p2m_lookup_level(struct p2m_domain *p2m, gfn_t gfn, p2m_type_t *t, unsigned int *level)
{
    unsigned int l;
    lpae_t e = p2m_get_entry(p2m, gfn, &l);

    if (level)
        *level = l;
    if (t)
        *t = l ? entry_type(e) : p2m_invalid;
    if (!l)
        return INVALID_MFN;
    return mfn_add(entry_mfn(e), gfn_x(gfn) & (level_pages(l) - 1));
}

mfn_t p2m_lookup(struct p2m_domain *p2m, gfn_t gfn, p2m_type_t *t)
{
    return p2m_lookup_level(p2m, gfn, t, NULL);
}

/*
 * Why the nr frames from mfn must not become d's RAM, or NULL; *bad gets the frame. What
 * the heap knows decides: a frame of RAM must be an allocated domheap page that belongs to
 * d or to nobody (an anonymous page the hypervisor lends, as the tests and benchmarks do).
 * A free page would be handed to someone else while the guest still writes it; a xenheap
 * page is the hypervisor's own; another domain's page is not d's to map. Frames the frame
 * table does not describe are not the heap's (MMIO used as RAM by tests): no opinion.
 *
 * Every page of an allocation is in use with the same owner (the heap marks them all), so
 * the walk jumps over a whole allocation at its head: one step per allocation, not per page.
 */
static const char *not_ram_of(const struct domain *d, mfn_t mfn, unsigned long nr, mfn_t *bad)
{
    unsigned long i = 0;

    while (i < nr) {
        const struct page_info *pg;

        *bad = mfn_add(mfn, i);
        if (!mfn_valid(*bad)) {
            i++;
            continue;
        }
        pg = mfn_to_page(*bad);
        if (page_state(pg) != PGS_inuse)
            return "is not an allocated page (free, reserved or not heap memory)";
        if (is_xen_heap_page(pg))
            return "is a xenheap page";
        if (pg->u.owner && pg->u.owner != d)
            return "belongs to another domain";
        i += (pg->count_info & PGC_head) ? 1UL << pg->order : 1;
    }
    return NULL;
}

int guest_physmap_add_page(struct domain *d, gfn_t gfn, mfn_t mfn, unsigned int order)
{
    const char *why;
    mfn_t bad;

    /* RAM comes from the heap, whose blocks are at most MAX_ORDER: this bounds the check. */
    if (order > MAX_ORDER) {
        printk("p2m: d%u: guest_physmap_add_page: order %u is above MAX_ORDER (%u)\n",
               d->domain_id, order, MAX_ORDER);
        return -EINVAL;
    }
    why = not_ram_of(d, mfn, 1UL << order, &bad);
    if (why) {
        printk("p2m: d%u: guest_physmap_add_page(gfn 0x%lx, mfn 0x%lx, order %u): mfn 0x%lx "
               "(pa 0x%llx) %s: not mapped\n", d->domain_id, gfn_x(gfn), mfn_x(mfn), order,
               mfn_x(bad), (unsigned long long)mfn_to_paddr(bad), why);
        return -EINVAL;
    }
    return p2m_set_entry(&d->p2m, gfn, 1UL << order, mfn, p2m_ram_rw);
}

int guest_physmap_remove_page(struct domain *d, gfn_t gfn, mfn_t mfn, unsigned int order)
{
    struct p2m_domain *p2m = &d->p2m;
    unsigned long nr;
    int rc;

    if (!p2m_ready(p2m)) {
        printk("p2m: d%u: guest_physmap_remove_page on a p2m not initialised\n", d->domain_id);
        return -EINVAL;
    }
    if (order >= BITS_PER_LONG_P2M) {
        printk("p2m: d%u: order %u too large\n", d->domain_id, order);
        return -EINVAL;
    }
    nr = 1UL << order;
    if (gfn_x(gfn) >= P2M_MAX_GFN || nr > P2M_MAX_GFN - gfn_x(gfn)) {
        printk("p2m: d%u: gfn 0x%lx + %lu pages is outside the %u-bit IPA space\n",
               d->domain_id, gfn_x(gfn), nr, P2M_IPA_BITS);
        return -EINVAL;
    }
    spin_lock(&p2m->lock);
    for (unsigned long i = 0; i < nr; i++) {
        unsigned int l;
        lpae_t e = get_entry_locked(p2m, gfn_add(gfn, i), &l);
        mfn_t have = l ? mfn_add(entry_mfn(e), (gfn_x(gfn) + i) & (level_pages(l) - 1))
                       : INVALID_MFN;

        if (!mfn_eq(have, mfn_add(mfn, i))) {
            spin_unlock(&p2m->lock);
            printk("p2m: d%u: gfn 0x%lx maps mfn 0x%lx, not 0x%lx: not removed\n",
                   d->domain_id, gfn_x(gfn) + i, mfn_x(have), mfn_x(mfn) + i);
            return -EINVAL;
        }
    }
    rc = set_range(p2m, gfn, nr, INVALID_MFN, p2m_invalid, P2M_UP_TO_1G);
    spin_unlock(&p2m->lock);
    return rc;
}

int map_regions_p2mt(struct domain *d, gfn_t gfn, unsigned long nr, mfn_t mfn, p2m_type_t t)
{
    if (t != p2m_mmio_direct_dev) {
        printk("p2m: d%u: map_regions_p2mt is for device memory (type %u given)\n",
               d->domain_id, t);
        return -EINVAL;
    }
    return p2m_set_entry(&d->p2m, gfn, nr, mfn, t);
}

void p2m_teardown(struct domain *d)
{
    struct p2m_domain *p2m = &d->p2m;

    if (!p2m_ready(p2m))
        return;
    spin_lock(&p2m->lock);
    /*
     * The domain no longer runs, so nothing refills the TLB with this VMID: invalidate
     * first, then no walk cache can still point into the tables freed below, and the next
     * owner of the VMID starts clean.
     */
    arch_p2m_flush_vmid(p2m->vttbr);
    for (unsigned int i = 0; i < P2M_ROOT_ENTRIES; i++) {
        lpae_t *page = map_domain_page(mfn_add(p2m->root, i / LPAE_ENTRIES));
        lpae_t e = page[i % LPAE_ENTRIES];

        unmap_domain_page(page);
        if (lpae_is_table(e, 1))
            free_table_tree(p2m, entry_mfn(e), 2);
    }
    ASSERT(p2m->nr_tables == 0);
    free_domheap_pages(mfn_to_page(p2m->root), P2M_ROOT_ORDER);
    p2m_free_vmid(p2m->vmid);
    p2m->root = INVALID_MFN;
    p2m->vmid = 0;
    p2m->vttbr = 0;
    spin_unlock(&p2m->lock);
}
