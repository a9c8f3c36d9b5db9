/*
 * Updates of the hypervisor's page tables: map_pages_to_xen,
 * destroy_xen_mappings, modify_xen_mappings (see pt.h for the contract).
 *
 * Common code edits levels 2 and 3 only. The arch hands out the level-2
 * table of each shared 1 GiB slot (arch_pt_second), so the tables allocated
 * here are level-3 tables, and no level-1 entry ever changes: every CPU's
 * root points at the same level-2 tables, and an edit is seen by all.
 *
 * A range is processed one 2 MiB chunk (one level-2 entry) at a time:
 *
 *   whole chunk, block allowed, PA aligned   one block entry at level 2
 *   otherwise                                level-3 entries, after creating
 *                                            the level-3 table (the entry
 *                                            was invalid) or replacing the
 *                                            block that was there by a table
 *                                            of the same pages
 *                                            (block_to_table)
 *
 * The order of stores, barriers and TLB maintenance is the point of this
 * file. The Arm ARM (B3.10.1, B3.10.2) requires:
 *  - Writing a valid entry where an invalid one was: the store, then DSB so
 *    the walker can see it, then ISB before this CPU relies on it. No TLB
 *    maintenance: an entry that faults is never held in a TLB.
 *  - Replacing a valid entry with one that differs in output address, block
 *    size or memory attributes (remap, block -> table, table -> block):
 *    break-before-make. Store an invalid entry, DSB, invalidate the TLB
 *    entries for the VA on every CPU (TLBIMVAHIS: inner shareable, and by
 *    MVA it also drops cached table-walk entries for that VA), DSB to wait
 *    for the invalidation, and only then store the new entry. Otherwise two
 *    CPUs, or one CPU's TLB levels, could hold conflicting translations,
 *    which is a loss of coherency or a TLB conflict abort.
 *  - Removing an entry: store invalid, DSB, TLB invalidate, DSB, ISB; a
 *    table page may be reused only after that, because a walker may still be
 *    reading it until the invalidation completes. Unlinking a table with
 *    live pages needs every page's VA invalidated (TLBIALLHIS, in practice);
 *    unlinking an empty one, as when a heap table is freed, needs one
 *    invalidation by VA: its pages left the TLBs when they were unmapped,
 *    and only the cached walk through the table remains.
 *  - Changing only permissions (AP, XN): the new entry may be stored over
 *    the old, then DSB, TLB invalidate, DSB, ISB; until then a CPU sees
 *    either the old or the new permissions, never a mix of addresses.
 *  - A new table's contents must be visible before the entry that links it:
 *    fill, DSB, then store the table entry.
 *  - When the instructions at a virtual address change, which includes
 *    mapping, unmapping or remapping an executable page (B2.2.6), the branch
 *    predictors must be invalidated: an update that wrote or removed a leaf
 *    without XN ends, after its TLB maintenance, with arch_pt_sync_exec()
 *    (BPIALLIS on every CPU). Code written as data for other CPUs has its
 *    own sequence (asm/cache.h: sync_code_for_all_cpus).
 * The table walker is coherent with the data cache (ID_MMFR3.CohWalk is
 * checked at boot), so no cache cleaning is needed for any of this.
 *
 * Outside the vmap window none of this ever happens to a live entry: the
 * other CPUs would fault between break and make, so check_live() refuses
 * such requests before anything changes (see there).
 *
 * Where several entries of one table change together, the invalidations are
 * batched: every old entry is cleared, then one DSB and one ranged flush,
 * then every new entry is written. Each entry still goes through the full
 * sequence, which is what the host tests check from the recorded steps.
 */
#include <arch/pt.h>
#include <lib/lib.h>
#include <lib/spinlock.h>
#include <mm/boot_alloc.h>
#include <mm/mm.h>
#include <mm/page_alloc.h>
#include <mm/pt.h>
#include <mm/setup_mm.h>
#include <string.h>
#include <test/hooks.h>

#define VA_LIMIT        (1ULL << 32)
#define L2_SIZE         ((uint64_t)PT_BLOCK_SIZE)
#define MFN_LIMIT       (1ULL << (40 - PAGE_SHIFT))

BUILD_BUG_ON(PT_BLOCK_SIZE != (1UL << LPAE_L2_SHIFT));

enum pt_op { PT_MAP, PT_DESTROY, PT_MODIFY };

struct pt_update {
    enum pt_op op;
    uint64_t s, e;          /* the range asked for, for error messages */
    mfn_t mfn;              /* PT_MAP: the first frame asked for, for error messages */
    /*
     * PT_MAP: the frames. Either one contiguous run from pa (mfns NULL), or
     * runs of `run` frames, run k starting at mfns[k]. `page` counts the
     * pages mapped so far.
     */
    paddr_t pa;
    const mfn_t *mfns;
    unsigned long run;
    unsigned long page;
    unsigned int flags;
    lpae_t attrs;           /* PT_MAP: attribute bits of new leaf entries */
    lpae_t perms;           /* PT_MODIFY: AP[2] and XN of the new entries */
    bool dirty;             /* entries written since the last barrier */
    bool exec;              /* an executable leaf was written or removed */
};

static spinlock_t pt_lock = SPIN_LOCK_UNLOCKED;
static unsigned long heap_tables;

/* The last refusal's message, and whether to print refusals (test hooks). */
static spinlock_t refusal_lock = SPIN_LOCK_UNLOCKED;
static char last_refusal[PT_REFUSAL_LEN];
static bool quiet;

/* --- small helpers ---------------------------------------------------------- */

/* Prints the call and why it failed; returns rc. Formatting only happens here. */
static int __printf(3, 4) refuse(const struct pt_update *u, int rc, const char *fmt, ...)
{
    char why[280], line[PT_REFUSAL_LEN];
    va_list ap;

    va_start(ap, fmt);
    fmt_vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    switch (u->op) {
    case PT_MAP:
        fmt_snprintf(line, sizeof(line), "%s(va 0x%llx, mfn%s 0x%lx, %llu pages, flags 0x%x): %s",
                     u->mfns ? "map_frames_to_xen" : "map_pages_to_xen",
                     (unsigned long long)u->s, u->mfns ? "[0]" : "", mfn_x(u->mfn),
                     (unsigned long long)((u->e - u->s) >> PAGE_SHIFT), u->flags, why);
        break;
    case PT_DESTROY:
        fmt_snprintf(line, sizeof(line), "destroy_xen_mappings(0x%llx, 0x%llx): %s",
                     (unsigned long long)u->s, (unsigned long long)u->e, why);
        break;
    case PT_MODIFY:
        fmt_snprintf(line, sizeof(line), "modify_xen_mappings(0x%llx, 0x%llx, flags 0x%x): %s",
                     (unsigned long long)u->s, (unsigned long long)u->e, u->flags, why);
        break;
    }
    spin_lock(&refusal_lock);
    memcpy(last_refusal, line, sizeof(line));
    spin_unlock(&refusal_lock);
    if (!quiet)
        printk("pt: %s\n", line);
    return rc;
}

/* A leaf that translates addresses the CPU may execute from. */
static inline bool exec_leaf(lpae_t e, unsigned int level)
{
    return lpae_is_mapping(e, level) && !(e & LPAE_XN);
}

static void pt_write(struct pt_update *u, lpae_t *entry, lpae_t value, uint64_t va,
                     unsigned int level)
{
    if (exec_leaf(*entry, level) || exec_leaf(value, level))
        u->exec = true;
    arch_pt_write(entry, value, (vaddr_t)va, level);
    u->dirty = true;
}

static void pt_barrier(struct pt_update *u)
{
    arch_pt_barrier();
    u->dirty = false;
}

/* Memory type, shareability, permissions and software bits of a new leaf. */
static lpae_t flags_to_attrs(unsigned int flags)
{
    unsigned int mt = flags & _PAGE_MT_MASK;
    lpae_t a = LPAE_ATTRINDX(mt) | LPAE_AP1 | LPAE_AF;

    /* Device and Strongly-ordered memory ignore SH: it is always shareable. */
    if (mt == MT_NORMAL || mt == MT_NORMAL_NC)
        a |= LPAE_SH_INNER;
    if (flags & _PAGE_RO)
        a |= LPAE_AP_RO;
    if (flags & _PAGE_XN)
        a |= LPAE_XN;
    a |= (lpae_t)((flags & _PAGE_TAG_MASK) >> _PAGE_TAG_SHIFT) << (32 + LPAE_HI_SW_SHIFT);
    return a;
}

static lpae_t flags_to_perms(unsigned int flags)
{
    return ((flags & _PAGE_RO) ? LPAE_AP_RO : 0) | ((flags & _PAGE_XN) ? LPAE_XN : 0);
}

#define PERM_BITS ((lpae_t)LPAE_AP_RO | LPAE_XN)

/* Output address of page `page` of a PT_MAP. */
static inline paddr_t frame_pa(const struct pt_update *u, unsigned long page)
{
    if (!u->mfns)
        return u->pa + ((paddr_t)page << PAGE_SHIFT);
    if (u->run == 1)
        return mfn_to_paddr(u->mfns[page]);
    return mfn_to_paddr(mfn_add(u->mfns[page / u->run], page % u->run));
}

/* PT_MAP: the level-3 entry for page `k` of the current 2 MiB chunk. */
static inline lpae_t page_entry(const struct pt_update *u, unsigned long k)
{
    return frame_pa(u, u->page + k) | u->attrs | LPAE_PAGE;
}

/* Are the 512 frames from page `page` one 2 MiB-aligned physical block? */
static bool frames_form_block(const struct pt_update *u, unsigned long page)
{
    paddr_t pa = frame_pa(u, page);

    if (!IS_ALIGNED(pa, (paddr_t)PT_BLOCK_SIZE))
        return false;
    if (!u->mfns)
        return true;
    /* Every run that starts inside the block must continue it. */
    for (unsigned long p = page - page % u->run + u->run; p < page + PT_BLOCK_PAGES; p += u->run)
        if (frame_pa(u, p) != pa + ((paddr_t)(p - page) << PAGE_SHIFT))
            return false;
    return true;
}

static bool heap_is_up(void)
{
    /* setup_mm() publishes its layout once the heap has all its memory. */
    return mm_layout() != NULL;
}

/* A zeroed table page: from the boot allocator during early boot, else the domheap. */
static int alloc_table(paddr_t *pa)
{
    lpae_t *t;

    if (heap_is_up()) {
        /* No scrub: the page is cleared below. Any address: tables may lie above 4 GiB. */
        struct page_info *pg = alloc_domheap_page(NULL, MEMF_no_scrub);

        if (!pg)
            return -ENOMEM;
        *pa = page_to_maddr(pg);
        heap_tables++;
    } else {
        *pa = mfn_to_paddr(alloc_boot_pages(1, 1));
    }
    t = arch_pt_map_table(*pa);
    memset(t, 0, PAGE_SIZE);
    arch_pt_unmap_table(t);
    return 0;
}

/*
 * Only tables this file took from the heap go back to it. Boot-allocator
 * tables and the image's static tables are never heap pages (their state is
 * PGS_none), so they stay linked, empty, for the next mapping.
 */
static bool table_from_heap(paddr_t pa)
{
    mfn_t mfn = paddr_to_mfn(pa);

    return heap_is_up() && mfn_valid(mfn) && page_state(mfn_to_page(mfn)) == PGS_inuse &&
           !is_xen_heap_mfn(mfn);
}

static void free_table(paddr_t pa)
{
    free_domheap_page(maddr_to_page(pa));
    heap_tables--;
}

static bool table_is_empty(const lpae_t *t)
{
    for (unsigned int i = 0; i < LPAE_ENTRIES; i++)
        if (t[i])
            return false;
    return true;
}

/*
 * Break-before-make on a level-2 entry. What the TLBs may hold depends on
 * what the old entry was: one block translation, or up to 512 page
 * translations (and the cached walk through the table) if it was a table.
 */
static void l2_break_before_make(struct pt_update *u, lpae_t *l2e, lpae_t old, lpae_t new,
                                 uint64_t block_va)
{
    pt_write(u, l2e, 0, block_va, 2);
    pt_barrier(u);
    if (lpae_is_table(old, 2))
        arch_pt_flush_tlb((vaddr_t)block_va, LPAE_ENTRIES, 3);
    else
        arch_pt_flush_tlb((vaddr_t)block_va, 1, 2);
    if (new)
        pt_write(u, l2e, new, block_va, 2);
}

/* Does the level-3 table at pa map any page the CPU may execute from? */
static bool table_maps_exec(paddr_t pa)
{
    lpae_t *t = arch_pt_map_table(pa);
    bool exec = false;

    for (unsigned int i = 0; i < LPAE_ENTRIES && !exec; i++)
        exec = exec_leaf(t[i], 3);
    arch_pt_unmap_table(t);
    return exec;
}

/* Replaces a level-2 entry by a block, or by nothing, freeing a heap table it pointed to. */
static void l2_replace(struct pt_update *u, lpae_t *l2e, lpae_t new, uint64_t block_va)
{
    lpae_t old = *l2e;

    if (old == new)
        return;
    if (!lpae_is_valid(old)) {
        pt_write(u, l2e, new, block_va, 2);
        return;
    }
    /* The table's pages go without a write of their own: pt_write cannot see them. */
    if (lpae_is_table(old, 2) && table_maps_exec(lpae_paddr(old)))
        u->exec = true;
    l2_break_before_make(u, l2e, old, new, block_va);
    if (lpae_is_table(old, 2) && table_from_heap(lpae_paddr(old)))
        free_table(lpae_paddr(old));
}

/*
 * Replaces the block at *l2e by a table of 512 pages with the same output
 * addresses and attributes, so that part of it can then change.
 */
static int block_to_table(struct pt_update *u, lpae_t *l2e, uint64_t block_va)
{
    lpae_t block = *l2e;
    lpae_t attrs = block & ~(LPAE_ADDR_MASK | LPAE_TYPE_MASK);
    paddr_t base = lpae_paddr(block) & ~(paddr_t)(PT_BLOCK_SIZE - 1);
    paddr_t tpa;
    lpae_t *t;
    int rc = alloc_table(&tpa);

    if (rc)
        return rc;
    /* Plain stores: nothing can walk this table until it is linked below. */
    t = arch_pt_map_table(tpa);
    for (unsigned int i = 0; i < LPAE_ENTRIES; i++)
        t[i] = (base + ((paddr_t)i << PAGE_SHIFT)) | attrs | LPAE_PAGE;
    arch_pt_unmap_table(t);
    pt_barrier(u);      /* the table's contents before the entry that links it */
    l2_break_before_make(u, l2e, block, tpa | LPAE_TABLE, block_va);
    return 0;
}

/* --- level 3 ------------------------------------------------------------------ */

/* The VA that entry i of the table mapping the 2 MiB from block_va maps. */
static inline uint64_t entry_va(uint64_t block_va, unsigned int i)
{
    return block_va + ((uint64_t)i << PAGE_SHIFT);
}

/*
 * After entries [first, last] of the table that maps the 2 MiB from block_va
 * were written: DSB, then one TLB flush of their VAs. Nothing if first > last
 * (no entry was).
 */
static void flush_pages(struct pt_update *u, uint64_t block_va, unsigned int first,
                        unsigned int last)
{
    if (first > last)
        return;
    pt_barrier(u);
    arch_pt_flush_tlb((vaddr_t)entry_va(block_va, first), last - first + 1, 3);
}

/* Entries [i0, i1) of table t, which maps the 2 MiB from block_va. */
static void update_pages(struct pt_update *u, lpae_t *t, unsigned int i0, unsigned int i1,
                         uint64_t block_va)
{
    unsigned int first = LPAE_ENTRIES, last = 0;

    switch (u->op) {
    case PT_MAP:
        /* Break every live entry that changes, flush once, then make. */
        for (unsigned int i = i0; i < i1; i++) {
            lpae_t new = page_entry(u, i - i0);

            if (lpae_is_valid(t[i]) && t[i] != new) {
                pt_write(u, &t[i], 0, entry_va(block_va, i), 3);
                first = min(first, i);
                last = i;
            }
        }
        flush_pages(u, block_va, first, last);
        for (unsigned int i = i0; i < i1; i++) {
            lpae_t new = page_entry(u, i - i0);

            if (t[i] != new)
                pt_write(u, &t[i], new, entry_va(block_va, i), 3);
        }
        u->page += i1 - i0;
        return;

    case PT_DESTROY:
    case PT_MODIFY:
        for (unsigned int i = i0; i < i1; i++) {
            lpae_t new = u->op == PT_DESTROY ? 0 : (t[i] & ~PERM_BITS) | u->perms;

            if (!lpae_is_valid(t[i]) || t[i] == new)
                continue;
            pt_write(u, &t[i], new, entry_va(block_va, i), 3);
            first = min(first, i);
            last = i;
        }
        flush_pages(u, block_va, first, last);
        return;
    }
}

/* --- one level-2 entry ------------------------------------------------------------ */

/* [va, end) lies within one 2 MiB block of the slot whose level-2 table is second. */
static int update_chunk(struct pt_update *u, lpae_t *second, uint64_t va, uint64_t end)
{
    uint64_t block_va = va & ~(L2_SIZE - 1);
    lpae_t *l2e = &second[lpae_index(2, va)];
    lpae_t old = *l2e;
    bool whole = va == block_va && end == block_va + L2_SIZE;
    paddr_t tpa;
    lpae_t *t;
    bool empty;
    int rc;

    switch (u->op) {
    case PT_MAP:
        if (whole && (u->flags & _PAGE_BLOCK) && frames_form_block(u, u->page)) {
            l2_replace(u, l2e, frame_pa(u, u->page) | u->attrs | LPAE_BLOCK, block_va);
            u->page += PT_BLOCK_PAGES;
            return 0;
        }
        if (!lpae_is_valid(old)) {
            rc = alloc_table(&tpa);
            if (rc)
                return refuse(u, rc, "no free page for a level-3 table for va 0x%llx",
                              (unsigned long long)block_va);
            pt_barrier(u);      /* the zeroed table before the entry that links it */
            pt_write(u, l2e, tpa | LPAE_TABLE, block_va, 2);
        }
        break;
    case PT_DESTROY:
        if (!lpae_is_valid(old))
            return 0;
        if (whole && lpae_is_mapping(old, 2)) {
            l2_replace(u, l2e, 0, block_va);
            return 0;
        }
        break;
    case PT_MODIFY:
        /* check_modify() saw that every page is mapped. */
        if (whole && lpae_is_mapping(old, 2)) {
            lpae_t new = (old & ~PERM_BITS) | u->perms;

            if (new != old) {
                pt_write(u, l2e, new, block_va, 2);
                pt_barrier(u);
                arch_pt_flush_tlb((vaddr_t)block_va, 1, 2);
            }
            return 0;
        }
        break;
    }

    if (lpae_is_mapping(*l2e, 2)) {
        rc = block_to_table(u, l2e, block_va);
        if (rc)
            return refuse(u, rc, "no free page to split the 2 MiB block at va 0x%llx",
                          (unsigned long long)block_va);
    }
    BUG_ON(!lpae_is_table(*l2e, 2));

    tpa = lpae_paddr(*l2e);
    t = arch_pt_map_table(tpa);
    update_pages(u, t, lpae_index(3, va), lpae_index(3, end - 1) + 1, block_va);
    empty = u->op == PT_DESTROY && (whole || table_is_empty(t));
    arch_pt_unmap_table(t);

    /* An empty heap table goes back: unlink, flush the cached walk, then free. */
    if (empty && table_from_heap(tpa)) {
        pt_write(u, l2e, 0, block_va, 2);
        pt_barrier(u);
        arch_pt_flush_tlb((vaddr_t)block_va, 1, 2);
        free_table(tpa);
    }
    return 0;
}

/* --- checks ----------------------------------------------------------------------- */

static int check_range(const struct pt_update *u, uint64_t s, uint64_t e)
{
    if (!IS_ALIGNED(s, (uint64_t)PAGE_SIZE) || !IS_ALIGNED(e, (uint64_t)PAGE_SIZE))
        return refuse(u, -EINVAL, "the range is not page aligned");
    if (e < s)
        return refuse(u, -EINVAL, "the range ends before it starts");
    if (e > VA_LIMIT)
        return refuse(u, -ERANGE, "the range runs past the 32-bit virtual address space");
    for (uint64_t va = s; va < e; va = (va | (lpae_level_size(1) - 1)) + 1) {
        unsigned int slot = (unsigned int)(va >> LPAE_L1_SHIFT);

        if (!arch_pt_second(slot))
            return refuse(u, -EINVAL, "va 0x%llx is in 1 GiB slot %u, which is not part of "
                          "the shared hypervisor map (per-VCPU or not set up)",
                          (unsigned long long)va, slot);
    }
    return 0;
}

static int check_flags(const struct pt_update *u, unsigned int flags)
{
    if (flags & ~_PAGE_FLAGS_ALL)
        return refuse(u, -EINVAL, "unknown flag bits 0x%x", flags & ~_PAGE_FLAGS_ALL);
    if ((flags & _PAGE_MT_MASK) >= MT_COUNT)
        return refuse(u, -EINVAL, "memory type %u is not defined in HMAIR0",
                      flags & _PAGE_MT_MASK);
    if (!(flags & _PAGE_RO) && !(flags & _PAGE_XN))
        return refuse(u, -EINVAL, "writable and executable at once (WXN is on)");
    return 0;
}

/* Every page of [s, e) mapped, with the memory type of flags. Takes no action. */
static int check_modify(const struct pt_update *u, uint64_t s, uint64_t e)
{
    unsigned int mt = u->flags & _PAGE_MT_MASK;

    for (uint64_t va = s; va < e;) {
        uint64_t block_va = va & ~(L2_SIZE - 1);
        uint64_t end = min(block_va + L2_SIZE, e);
        lpae_t l2e = arch_pt_second((unsigned int)(va >> LPAE_L1_SHIFT))[lpae_index(2, va)];
        int rc = 0;

        if (lpae_is_mapping(l2e, 2)) {
            if (lpae_attrindx(l2e) != mt)
                rc = refuse(u, -EINVAL, "va 0x%llx is mapped with memory type %u, not %u "
                            "(changing it needs an unmap)", (unsigned long long)va,
                            lpae_attrindx(l2e), mt);
        } else if (lpae_is_table(l2e, 2)) {
            lpae_t *t = arch_pt_map_table(lpae_paddr(l2e));

            for (uint64_t p = va; p < end && !rc; p += PAGE_SIZE) {
                lpae_t l3e = t[lpae_index(3, p)];

                if (!lpae_is_mapping(l3e, 3))
                    rc = refuse(u, -ENOENT, "va 0x%llx is not mapped", (unsigned long long)p);
                else if (lpae_attrindx(l3e) != mt)
                    rc = refuse(u, -EINVAL, "va 0x%llx is mapped with memory type %u, not %u "
                                "(changing it needs an unmap)", (unsigned long long)p,
                                lpae_attrindx(l3e), mt);
            }
            arch_pt_unmap_table(t);
        } else {
            rc = refuse(u, -ENOENT, "va 0x%llx is not mapped", (unsigned long long)va);
        }
        if (rc)
            return rc;
        va = end;
    }
    return 0;
}

/*
 * Live entries outside the vmap window.
 *
 * ARMv7 cannot change the size of a mapping, its output address or its
 * memory type without break-before-make: for a moment the entry is invalid,
 * and any CPU that touches the addresses then takes a translation fault.
 * Inside the vmap window that is the caller's business, since every address
 * there belongs to one vm_alloc() allocation and its owner is the one
 * changing it. The rest of the shared map (image, fixmap, device tree, frame
 * table, xenheap) is used by every CPU all the time, so a live entry there
 * is never split into pages, merged into a block or remapped: those requests
 * are refused, as Xen refuses to shatter superpages of its direct map.
 * Unmapping (the users must be gone), permission changes written in place,
 * and new entries where nothing was mapped remain allowed.
 */
static bool in_vmap_window(uint64_t block_va)
{
    static vaddr_t start, end;

    if (start == end)
        arch_vmap_window(&start, &end);
    return block_va >= start && block_va + L2_SIZE <= end;
}

/* Valid entries of the level-3 table at pa. */
static unsigned int live_pages(paddr_t pa)
{
    lpae_t *t = arch_pt_map_table(pa);
    unsigned int n = 0;

    for (unsigned int i = 0; i < LPAE_ENTRIES; i++)
        n += lpae_is_valid(t[i]);
    arch_pt_unmap_table(t);
    return n;
}

#define LIVE_WHY "outside the vmap window, where any CPU may be using it (break-before-make " \
                 "would unmap it for a moment)"

/* PT_MAP of pages [va, end) over the live table at pa: is any page remapped? */
static int check_live_pages(const struct pt_update *u, paddr_t pa, uint64_t va, uint64_t end,
                            unsigned long page)
{
    lpae_t *t = arch_pt_map_table(pa);
    int rc = 0;

    for (uint64_t p = va; p < end && !rc; p += PAGE_SIZE, page++) {
        lpae_t old = t[lpae_index(3, p)];
        lpae_t new = frame_pa(u, page) | u->attrs | LPAE_PAGE;

        if (lpae_is_valid(old) && old != new)
            rc = refuse(u, -EBUSY, "would remap the live page at va 0x%llx (0x%llx -> 0x%llx), "
                        LIVE_WHY, (unsigned long long)p, (unsigned long long)old,
                        (unsigned long long)new);
    }
    arch_pt_unmap_table(t);
    return rc;
}

/*
 * Refuses, before anything changes, an update that would split, merge or
 * remap a live entry outside the vmap window. It follows update_chunk()'s
 * decisions chunk by chunk. Pt lock held.
 */
static int check_live(const struct pt_update *u, uint64_t s, uint64_t e)
{
    unsigned long page = 0;
    int rc = 0;

    for (uint64_t va = s; va < e && !rc;) {
        uint64_t block_va = va & ~(L2_SIZE - 1);
        uint64_t end = min(block_va + L2_SIZE, e);
        unsigned long pages = (unsigned long)((end - va) >> PAGE_SHIFT);
        lpae_t old = arch_pt_second((unsigned int)(va >> LPAE_L1_SHIFT))[lpae_index(2, va)];
        bool whole = va == block_va && end == block_va + L2_SIZE;
        bool block = lpae_is_mapping(old, 2);

        if (!lpae_is_valid(old) || in_vmap_window(block_va)) {
            /* Nothing live here, or the owner's own addresses. */
        } else if (u->op == PT_MAP && whole && (u->flags & _PAGE_BLOCK) &&
                   frames_form_block(u, page)) {
            lpae_t new = frame_pa(u, page) | u->attrs | LPAE_BLOCK;
            unsigned int live = block ? 0 : live_pages(lpae_paddr(old));

            if (block && old != new)
                rc = refuse(u, -EBUSY, "would remap the live 2 MiB block at va 0x%llx "
                            "(0x%llx -> 0x%llx), " LIVE_WHY, (unsigned long long)block_va,
                            (unsigned long long)old, (unsigned long long)new);
            else if (live)
                rc = refuse(u, -EBUSY, "would merge the %u live pages of the table at va 0x%llx "
                            "into one 2 MiB block, " LIVE_WHY, live,
                            (unsigned long long)block_va);
        } else if (block && !(whole && u->op != PT_MAP)) {
            rc = refuse(u, -EBUSY, "would split the live 2 MiB block at va 0x%llx (pa 0x%llx) "
                        "into pages, " LIVE_WHY, (unsigned long long)block_va,
                        (unsigned long long)lpae_paddr(old));
        } else if (u->op == PT_MAP && !block) {
            rc = check_live_pages(u, lpae_paddr(old), va, end, page);
        }
        page += pages;
        va = end;
    }
    return rc;
}

/* --- the API -------------------------------------------------------------------- */

static int run_update(struct pt_update *u, uint64_t s, uint64_t e)
{
    int rc = 0;

    for (uint64_t va = s; va < e && !rc;) {
        uint64_t next = min((va & ~(L2_SIZE - 1)) + L2_SIZE, e);

        rc = update_chunk(u, arch_pt_second((unsigned int)(va >> LPAE_L1_SHIFT)), va, next);
        va = next;
    }
    if (u->dirty)
        pt_barrier(u);
    /* After every TLB invalidation of the update has completed (B2.2.6). */
    if (u->exec)
        arch_pt_sync_exec();
    return rc;
}

/* Both map functions: the frames are in u (pa, or mfns and run), nr pages in all. */
static int map_frames(struct pt_update *u, vaddr_t virt, unsigned long nr, unsigned int flags)
{
    uint64_t s = virt, e = s + ((uint64_t)nr << PAGE_SHIFT);
    int rc;

    u->op = PT_MAP;
    u->s = s;
    u->e = e;
    u->flags = flags;
    if (nr == 0)
        return 0;
    if (nr > (VA_LIMIT >> PAGE_SHIFT))
        return refuse(u, -ERANGE, "more pages than the 32-bit virtual address space holds");
    if (!u->mfns && ((uint64_t)mfn_x(u->mfn) >= MFN_LIMIT || nr > MFN_LIMIT - mfn_x(u->mfn)))
        return refuse(u, -ERANGE, "the frames run past the 40-bit physical address space");
    for (unsigned long k = 0; u->mfns && k < nr / u->run; k++)
        if ((uint64_t)mfn_x(u->mfns[k]) >= MFN_LIMIT || u->run > MFN_LIMIT - mfn_x(u->mfns[k]))
            return refuse(u, -ERANGE, "frames 0x%lx+%lu (run %lu) run past the 40-bit physical "
                          "address space", mfn_x(u->mfns[k]), u->run, k);
    rc = check_flags(u, flags);
    if (!rc)
        rc = check_range(u, s, e);
    if (rc)
        return rc;

    u->attrs = flags_to_attrs(flags);
    spin_lock(&pt_lock);
    rc = check_live(u, s, e);
    if (!rc)
        rc = run_update(u, s, e);
    spin_unlock(&pt_lock);
    return rc;
}

int map_pages_to_xen(vaddr_t virt, mfn_t mfn, unsigned long nr_mfns, unsigned int flags)
{
    struct pt_update u = { .mfn = mfn, .pa = mfn_to_paddr(mfn) };

    return map_frames(&u, virt, nr_mfns, flags);
}

int map_frames_to_xen(vaddr_t virt, const mfn_t *mfn, unsigned long run, unsigned long nr,
                      unsigned int flags)
{
    struct pt_update u = { .op = PT_MAP, .s = virt, .e = virt, .flags = flags,
                           .mfn = nr ? mfn[0] : _mfn(0), .mfns = mfn, .run = run };

    if (run == 0 || (nr && run > (~0UL) / nr))
        return refuse(&u, -ERANGE, "%lu runs of %lu frames", nr, run);
    return map_frames(&u, virt, run * nr, flags);
}

int destroy_xen_mappings(vaddr_t s, vaddr_t e)
{
    struct pt_update u = { .op = PT_DESTROY, .s = s, .e = e };
    int rc;

    rc = check_range(&u, s, e);
    if (rc)
        return rc;
    spin_lock(&pt_lock);
    rc = check_live(&u, s, e);
    if (!rc)
        rc = run_update(&u, s, e);
    spin_unlock(&pt_lock);
    return rc;
}

int modify_xen_mappings(vaddr_t s, vaddr_t e, unsigned int flags)
{
    struct pt_update u = { .op = PT_MODIFY, .s = s, .e = e, .flags = flags };
    int rc;

    rc = check_flags(&u, flags & ~(_PAGE_BLOCK | _PAGE_TAG_MASK));
    if (!rc && (flags & _PAGE_TAG_MASK))
        rc = refuse(&u, -EINVAL, "_PAGE_TAG says what a mapping is, which does not change; "
                    "it is not a permission");
    if (!rc)
        rc = check_range(&u, s, e);
    if (rc)
        return rc;

    u.perms = flags_to_perms(flags);
    spin_lock(&pt_lock);
    rc = check_modify(&u, s, e);
    if (!rc)
        rc = check_live(&u, s, e);
    if (!rc)
        rc = run_update(&u, s, e);
    spin_unlock(&pt_lock);
    return rc;
}

/* --- inspection --------------------------------------------------------------------- */

lpae_t pt_lookup(vaddr_t va, unsigned int *level)
{
    uint64_t v = va;
    lpae_t *second, e;

    *level = 0;
    if (v >= VA_LIMIT)
        return 0;
    second = arch_pt_second((unsigned int)(v >> LPAE_L1_SHIFT));
    if (!second)
        return 0;

    spin_lock(&pt_lock);
    e = second[lpae_index(2, v)];
    *level = 2;
    if (lpae_is_table(e, 2)) {
        lpae_t *t = arch_pt_map_table(lpae_paddr(e));

        e = t[lpae_index(3, v)];
        *level = 3;
        arch_pt_unmap_table(t);
    }
    spin_unlock(&pt_lock);
    return e;
}

paddr_t pt_translate(vaddr_t va)
{
    unsigned int level;
    lpae_t e = pt_lookup(va, &level);
    uint64_t size;

    if (!level || !lpae_is_mapping(e, level))
        return PT_NO_PADDR;
    size = lpae_level_size(level);
    return (lpae_paddr(e) & ~(paddr_t)(size - 1)) | ((uint64_t)va & (size - 1));
}

unsigned long pt_heap_tables(void)
{
    return heap_tables;
}

bool pt_lock_is_held(void)
{
    return spin_is_locked(&pt_lock);
}

void pt_set_quiet(bool q)
{
    quiet = q;
}

void pt_last_refusal(char *buf, size_t size)
{
    spin_lock(&refusal_lock);
    fmt_snprintf(buf, size, "%s", last_refusal);
    spin_unlock(&refusal_lock);
}
