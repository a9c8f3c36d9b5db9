/*
 * Giving memory to the heaps at boot: init_xenheap_pages() and
 * init_domheap_pages(), which setup_mm() calls with what the boot allocator
 * did not use.
 *
 * Memory goes in as naturally aligned chunks of at most MAX_ORDER pages, one
 * store per page (its state) plus a list operation per chunk: the contents
 * are not touched but marked for scrubbing on first allocation, so boot
 * costs a few instructions per page even on a machine with a lot of RAM.
 *
 * The xenheap gets one more rule, from Xen. The buddy merge looks at zones
 * and orders, not heaps, so a free xenheap block and a free domheap block
 * that are buddies would merge into one block holding frames of both heaps.
 * Withholding each end page of the xenheap whose neighbour is not xenheap
 * (a "buffer" page, never handed out) means no free block can contain
 * frames on both sides of that boundary. heap_check() verifies it; a host
 * test turns the buffer off and watches blocks straddle.
 */
#include <lib/lib.h>
#include <string.h>
#include <test/hooks.h>

#include "heap.h"

unsigned int nr_buffer_pages;
mfn_t buffer_page_mfn[2];
static bool withhold_buffer_pages = true;

/* Gives frames [start, end) to the heap that owns each frame. */
static void init_heap_pages(unsigned long start, unsigned long end)
{
    /* MFN 0 never enters: its "buddies" of every order would span zones 0..k. */
    if (start == 0)
        start = 1;

    spin_lock(&heaps.lock);
    while (start < end) {
        unsigned int order = min(min((unsigned int)__builtin_ctzl(start), (unsigned int)MAX_ORDER),
                                 fls_ul(end - start) - 1);
        unsigned long n = 1UL << order;
        mfn_t first = _mfn(start), last = _mfn(start + n - 1);
        unsigned int zone = mfn_zone(first);    /* the whole chunk's: it is aligned */
        struct page_info *pg;

        if (!mfn_valid(first) || !mfn_valid(last)) {
            spin_unlock(&heaps.lock);
            panic("heap: frames 0x%lx-0x%lx (pa 0x%llx) have no page_info", start,
                  mfn_x(last), (unsigned long long)mfn_to_paddr(first));
        }
        pg = mfn_to_page(first);
        for (unsigned long i = 0; i < n; i++) {
            if (page_state(&pg[i]) != PGS_none) {
                spin_unlock(&heaps.lock);
                panic("init_heap_pages: page mfn 0x%lx (pa 0x%llx) is given to the heap twice",
                      start + i, (unsigned long long)mfn_to_paddr(mfn_add(first, i)));
            }
            pg[i].count_info = PGS_free | PGC_need_scrub | PGC_zone(zone);
        }
        pg->count_info |= PGC_head;
        pg->order = order;
        heaps.heap[mfn_heap(first)].free_pages[zone] += n;
        insert_free_block_locked(&heaps.heap[mfn_heap(first)], zone, pg, order);
        start += n;
    }
    spin_unlock(&heaps.lock);
}

static void withhold_buffer_page(mfn_t mfn)
{
    struct page_info *pg = mfn_to_page(mfn);

    if (page_state(pg) == PGS_buffer)
        return;
    BUG_ON(nr_buffer_pages == ARRAY_SIZE(buffer_page_mfn));
    pg->count_info = PGS_buffer;
    buffer_page_mfn[nr_buffer_pages++] = mfn;
}

/* The whole frames inside [ps, pe), as raw frame numbers [*start, *end); false if none. */
static bool frames_inside(paddr_t ps, paddr_t pe, unsigned long *start, unsigned long *end)
{
    *start = mfn_x(paddr_to_mfn(ROUNDUP(ps, (paddr_t)PAGE_SIZE)));
    *end = mfn_x(paddr_to_mfn(ROUNDDOWN(pe, (paddr_t)PAGE_SIZE)));
    return ps < pe && *start < *end;
}

void init_xenheap_pages(paddr_t ps, paddr_t pe)
{
    unsigned long start, end;

    if (!frames_inside(ps, pe, &start, &end))
        return;
    if (!is_xen_heap_mfn(_mfn(start)) || !is_xen_heap_mfn(_mfn(end - 1)))
        panic("init_xenheap_pages: 0x%llx-0x%llx is outside the xenheap 0x%llx-0x%llx",
              (unsigned long long)ps, (unsigned long long)pe,
              (unsigned long long)mfn_to_paddr(xenheap_mfn_start),
              (unsigned long long)mfn_to_paddr(xenheap_mfn_end));

    /* MFN 0 has no page below it. */
    if (withhold_buffer_pages) {
        if (start && !is_xen_heap_mfn(_mfn(start - 1)))
            withhold_buffer_page(_mfn(start++));
        if (start < end && !is_xen_heap_mfn(_mfn(end)))
            withhold_buffer_page(_mfn(--end));
    }
    init_heap_pages(start, end);
}

void init_domheap_pages(paddr_t ps, paddr_t pe)
{
    unsigned long start, end;

    if (!frames_inside(ps, pe, &start, &end))
        return;
    if (start < mfn_x(xenheap_mfn_end) && end > mfn_x(xenheap_mfn_start))
        panic("init_domheap_pages: 0x%llx-0x%llx overlaps the xenheap 0x%llx-0x%llx",
              (unsigned long long)ps, (unsigned long long)pe,
              (unsigned long long)mfn_to_paddr(xenheap_mfn_start),
              (unsigned long long)mfn_to_paddr(xenheap_mfn_end));
    init_heap_pages(start, end);
}

void heap_set_xenheap_buffer(bool enabled)
{
    withhold_buffer_pages = enabled;
    if (!enabled)
        heaps.may_straddle = true;
}

void heap_reset(void)
{
    spin_lock_init(&heaps.lock);
    memset(heaps.heap, 0, sizeof(heaps.heap));
    heaps.may_straddle = !withhold_buffer_pages;
    nr_buffer_pages = 0;
}
