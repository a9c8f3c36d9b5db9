/*
 * heap_check(): every invariant of the heap, checked against the frame table.
 *
 * Two passes under the heap lock. The first walks every free list: links,
 * the state, order, alignment, zone and heap of each block, buddies left
 * unmerged, and the counters; it marks each listed block PGC_listed. The
 * second walks every page in frame-table order: free pages form exactly the
 * listed blocks, in-use pages whole allocations, and every page's markings
 * (zone, PGC_xen_heap) agree with where it is; it clears the marks. Last,
 * the buffer pages and the frame table's own memory.
 *
 * It costs a walk of the whole frame table, so tests call it, not the
 * allocator.
 */
#include <lib/report.h>
#include <mm/setup_mm.h>

#include "heap.h"

#define HEAP_CHECK_MAX_SHOWN 8

/* Does the block [mfn, last] hold frames on both sides of a xenheap boundary? */
static bool straddles_xenheap(unsigned long mfn, unsigned long last)
{
    unsigned long start = mfn_x(xenheap_mfn_start), end = mfn_x(xenheap_mfn_end);

    if (start == end)
        return false;
    return (mfn < start && last >= start) || (mfn < end && last >= end);
}

/* One listed block of heap h, zone z, order o: everything but its links. */
static void check_free_block(struct report *r, enum heap_id h, unsigned int z, unsigned int o,
                             unsigned long pdx)
{
    const struct page_info *pg = pdx_to_page(_pdx(pdx));
    unsigned long n = 1UL << o;
    unsigned long mfn = mfn_x(pdx_to_mfn(_pdx(pdx))), last = mfn + n - 1;

    if ((pg->count_info & (PGC_state_mask | PGC_head)) != (PGS_free | PGC_head))
        report_problem(r, HEAP_BAD_STATE, "block mfn 0x%lx on a free list has count_info 0x%x",
                       mfn, pg->count_info);
    if (pg->order != o)
        report_problem(r, HEAP_BAD_STATE, "block mfn 0x%lx has order %u on the order-%u list",
                       mfn, pg->order, o);
    if (mfn & (n - 1))
        report_problem(r, HEAP_BAD_ALIGN, "block mfn 0x%lx is not aligned to its order %u",
                       mfn, o);
    if (mfn == 0 || mfn_zone(_mfn(mfn)) != z || mfn_zone(_mfn(last)) != z)
        report_problem(r, HEAP_BAD_ZONE, "block mfn 0x%lx-0x%lx is not all in zone %u",
                       mfn, last, z);
    if (pdx + n > max_pdx || mfn_x(pdx_to_mfn(_pdx(pdx + n - 1))) != last)
        report_problem(r, HEAP_BAD_STATE, "block mfn 0x%lx order %u is not contiguous in the "
                       "frame table", mfn, o);
    if (straddles_xenheap(mfn, last))
        report_problem(r, HEAP_BAD_STRADDLE, "free block mfn 0x%lx-0x%lx (order %u, on the %s "
                       "list) spans the xenheap boundary (xenheap mfn 0x%lx-0x%lx)", mfn, last,
                       o, heap_name[h], mfn_x(xenheap_mfn_start), mfn_x(xenheap_mfn_end));
    else if (mfn_heap(_mfn(mfn)) != h)
        report_problem(r, HEAP_BAD_STATE, "%s block mfn 0x%lx is on a %s list",
                       heap_name[mfn_heap(_mfn(mfn))], mfn, heap_name[h]);
    if (o < MAX_ORDER) {
        unsigned long buddy = mfn ^ n;

        if (mfn_valid(_mfn(buddy)) && mfn_zone(_mfn(buddy)) == z &&
            is_free_block(mfn_to_page(_mfn(buddy)), o))
            report_problem(r, HEAP_BAD_BUDDY, "free buddies mfn 0x%lx and 0x%lx of order %u "
                           "are not merged", mfn, buddy, o);
    }
}

/* One free list: its links, then each block. Returns the pages it holds. */
static unsigned long check_free_list(struct report *r, enum heap_id h, unsigned int z,
                                     unsigned int o)
{
    unsigned int prev = PDX_NONE, pdx = heaps.heap[h].first[o][z];
    unsigned long pages = 0, steps = 0;

    while (pdx != PDX_NONE) {
        struct page_info *pg;

        if (pdx >= max_pdx) {
            report_problem(r, HEAP_BAD_LIST, "%s zone %u order %u: link to pdx 0x%x beyond "
                           "the frame table", heap_name[h], z, o, pdx);
            break;
        }
        if (++steps > max_pdx) {
            report_problem(r, HEAP_BAD_LIST, "%s zone %u order %u: the list does not end",
                           heap_name[h], z, o);
            break;
        }
        pg = link_page(pdx);
        if (pg->u.list.prev != prev)
            report_problem(r, HEAP_BAD_LIST, "block mfn 0x%lx: back link 0x%x, expected 0x%x",
                           mfn_x(page_to_mfn(pg)), pg->u.list.prev, prev);
        if (pg->count_info & PGC_listed) {
            report_problem(r, HEAP_BAD_LIST, "block mfn 0x%lx is on a list twice",
                           mfn_x(page_to_mfn(pg)));
            break;
        }
        pg->count_info |= PGC_listed;
        check_free_block(r, h, z, o, pdx);
        pages += 1UL << o;
        prev = pdx;
        pdx = pg->u.list.next;
    }
    return pages;
}

/* Every list, and the bitmaps and counters that describe them. */
static void check_lists(struct report *r)
{
    for (enum heap_id h = 0; h < NR_HEAPS; h++) {
        for (unsigned int z = 0; z < NR_ZONES; z++) {
            const struct heap *hp = &heaps.heap[h];
            unsigned long pages = 0;

            if ((hp->nonempty[z] != 0) != ((hp->nonempty_zones >> z) & 1))
                report_problem(r, HEAP_BAD_COUNTERS, "%s zone %u: zone bit disagrees with its "
                               "order bits 0x%x", heap_name[h], z, hp->nonempty[z]);
            if (hp->nonempty[z] >> (MAX_ORDER + 1))
                report_problem(r, HEAP_BAD_COUNTERS, "%s zone %u: order bits 0x%x above "
                               "MAX_ORDER", heap_name[h], z, hp->nonempty[z]);
            for (unsigned int o = 0; o <= MAX_ORDER; o++)
                if (hp->nonempty[z] & (1u << o))
                    pages += check_free_list(r, h, z, o);
            if (pages != hp->free_pages[z])
                report_problem(r, HEAP_BAD_COUNTERS, "%s zone %u: %lu free pages listed, "
                               "counter says %lu", heap_name[h], z, pages, hp->free_pages[z]);
        }
    }
}

static bool is_buffer_page(mfn_t mfn)
{
    for (unsigned int i = 0; i < nr_buffer_pages; i++)
        if (mfn_eq(buffer_page_mfn[i], mfn))
            return true;
    return false;
}

/* Where the frame-table walk is: the end of the free block and of the allocation it is in. */
struct page_walk {
    unsigned long free_end, used_end;
    unsigned int used_xen;              /* PGC_xen_heap of the allocation it is in */
    unsigned long free_pages[NR_HEAPS];
};

/* Heap frames carry their zone; other frames no heap marks at all. */
static void check_markings(struct report *r, mfn_t mfn, unsigned int c)
{
    if ((c & PGC_state_mask) == PGS_free || (c & PGC_state_mask) == PGS_inuse) {
        if ((c & PGC_zone_mask) != PGC_zone(mfn_zone(mfn)))
            report_problem(r, HEAP_BAD_STATE, "page mfn 0x%lx (zone %u) is marked zone %u",
                           mfn_x(mfn), mfn_zone(mfn), c >> PGC_zone_shift);
    } else if (c & (PGC_zone_mask | PGC_xen_heap)) {
        report_problem(r, HEAP_BAD_STATE, "page mfn 0x%lx (state %u) has heap marks: "
                       "count_info 0x%x", mfn_x(mfn), c & PGC_state_mask, c);
    }
}

static void check_free_page(struct report *r, struct page_walk *w, unsigned long pdx,
                            unsigned int c)
{
    const struct page_info *pg = pdx_to_page(_pdx(pdx));
    unsigned long mfn = mfn_x(pdx_to_mfn(_pdx(pdx)));

    if (c & PGC_head) {
        if (pdx < w->free_end || pdx < w->used_end)
            report_problem(r, HEAP_BAD_STATE, "free block mfn 0x%lx starts inside another "
                           "block", mfn);
        if (!(c & PGC_listed))
            report_problem(r, HEAP_BAD_LIST, "free block mfn 0x%lx (order %u) is on no list",
                           mfn, pg->order);
        w->free_end = pdx + (1UL << min(pg->order, (unsigned int)MAX_ORDER));
    } else if (pdx >= w->free_end) {
        report_problem(r, HEAP_BAD_STATE, "free page mfn 0x%lx is in no free block", mfn);
    }
    if (c & PGC_xen_heap)
        report_problem(r, HEAP_BAD_STATE, "free page mfn 0x%lx is marked as allocated from "
                       "the xenheap", mfn);
    if (mfn == 0)
        report_problem(r, HEAP_BAD_ZONE, "mfn 0 is in the heap");
    w->free_pages[mfn_heap(_mfn(mfn))]++;
}

static void check_used_page(struct report *r, struct page_walk *w, unsigned long pdx,
                            unsigned int c)
{
    const struct page_info *pg = pdx_to_page(_pdx(pdx));
    unsigned long mfn = mfn_x(pdx_to_mfn(_pdx(pdx)));

    if (pdx < w->free_end)
        report_problem(r, HEAP_BAD_STATE, "page mfn 0x%lx is in use inside a free block", mfn);
    if (c & PGC_head) {
        if (pdx < w->used_end)
            report_problem(r, HEAP_BAD_STATE, "allocation at mfn 0x%lx starts inside another",
                           mfn);
        w->used_end = pdx + (1UL << min(pg->order, (unsigned int)MAX_ORDER));
        w->used_xen = c & PGC_xen_heap;
        /* The heap an allocation came from is its first frame's. */
        if (!w->used_xen != (mfn_heap(_mfn(mfn)) == HEAP_DOM))
            report_problem(r, HEAP_BAD_STATE, "allocation at %s mfn 0x%lx is marked as %s",
                           heap_name[mfn_heap(_mfn(mfn))], mfn,
                           w->used_xen ? "xenheap" : "domheap");
    } else if (pdx >= w->used_end) {
        report_problem(r, HEAP_BAD_STATE, "page mfn 0x%lx is in use but in no allocation", mfn);
    } else if ((c & PGC_xen_heap) != w->used_xen) {
        report_problem(r, HEAP_BAD_STATE, "page mfn 0x%lx disagrees with its allocation's "
                       "first page on PGC_xen_heap", mfn);
    }
}

/* Pages that are not in the heap: inside no block; buffer pages where they were put. */
static void check_other_page(struct report *r, const struct page_walk *w, unsigned long pdx,
                             unsigned int c)
{
    mfn_t mfn = pdx_to_mfn(_pdx(pdx));
    bool in_block = pdx < w->free_end || pdx < w->used_end;

    if ((c & PGC_state_mask) == PGS_none) {
        if (in_block)
            report_problem(r, HEAP_BAD_STATE, "page mfn 0x%lx (not heap memory) is inside a "
                           "%s block", mfn_x(mfn), pdx < w->free_end ? "free" : "allocated");
        return;
    }
    if (in_block)
        report_problem(r, HEAP_BAD_STATE, "buffer page mfn 0x%lx is inside a heap block",
                       mfn_x(mfn));
    if (!is_buffer_page(mfn))
        report_problem(r, HEAP_BAD_BUFFER, "page mfn 0x%lx is marked as a buffer page but "
                       "was not withheld as one", mfn_x(mfn));
}

/* Every page, in frame-table order. Clears the PGC_listed marks that check_lists() set. */
static void check_pages(struct report *r)
{
    struct page_walk w = { 0 };

    for (unsigned long pdx = 0; pdx < max_pdx; pdx++) {
        struct page_info *pg = pdx_to_page(_pdx(pdx));
        unsigned int c = __atomic_load_n(&pg->count_info, __ATOMIC_RELAXED);

        if (c & PGC_listed)
            pg->count_info &= ~PGC_listed;
        check_markings(r, pdx_to_mfn(_pdx(pdx)), c);
        if ((c & PGC_state_mask) == PGS_free)
            check_free_page(r, &w, pdx, c);
        else if ((c & PGC_state_mask) == PGS_inuse)
            check_used_page(r, &w, pdx, c);
        else
            check_other_page(r, &w, pdx, c);
    }
    if (w.free_end > max_pdx || w.used_end > max_pdx)
        report_problem(r, HEAP_BAD_STATE, "a block runs past the end of the frame table");
    for (enum heap_id h = 0; h < NR_HEAPS; h++)
        if (w.free_pages[h] != heap_free_pages_locked(&heaps.heap[h]))
            report_problem(r, HEAP_BAD_COUNTERS, "%lu free %s pages in the frame table, "
                           "counters say %lu", w.free_pages[h], heap_name[h],
                           heap_free_pages_locked(&heaps.heap[h]));
}

/* The buffer pages are withheld xenheap end pages; the frame table's memory is not heap. */
static void check_buffer_and_frametable(struct report *r)
{
    const struct mm_layout *l = mm_layout();

    for (unsigned int i = 0; i < nr_buffer_pages; i++) {
        mfn_t mfn = buffer_page_mfn[i];

        if (!is_xen_heap_mfn(mfn) ||
            (!mfn_eq(mfn, xenheap_mfn_start) && !mfn_eq(mfn, mfn_add(xenheap_mfn_end, -1))) ||
            page_state(mfn_to_page(mfn)) != PGS_buffer)
            report_problem(r, HEAP_BAD_BUFFER, "buffer page mfn 0x%lx is not a withheld "
                           "xenheap end page", mfn_x(mfn));
    }
    if (!l)
        return;
    for (unsigned int i = 0; i < l->nr_frametable_runs; i++) {
        mfn_t s = paddr_to_mfn(l->frametable_run[i].pa);
        unsigned long pages = (unsigned long)(l->frametable_run[i].bytes >> PAGE_SHIFT);

        for (unsigned long j = 0; j < pages; j++) {
            mfn_t mfn = mfn_add(s, j);

            if (mfn_valid(mfn) && page_state(mfn_to_page(mfn)) != PGS_none) {
                report_problem(r, HEAP_BAD_FRAMETABLE, "frame-table memory mfn 0x%lx is heap "
                               "memory (state %u)", mfn_x(mfn), page_state(mfn_to_page(mfn)));
                break;
            }
        }
    }
}

unsigned int heap_check(void)
{
    struct report r = REPORT_INIT("heap_check", HEAP_CHECK_MAX_SHOWN);

    if (!frame_table)
        return 0;
    spin_lock(&heaps.lock);
    check_lists(&r);
    check_pages(&r);
    check_buffer_and_frametable(&r);
    spin_unlock(&heaps.lock);
    return report_finish(&r);
}
