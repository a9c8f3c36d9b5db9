/*
 * Domain memory accounting: who owns which domheap page, and how many each
 * domain holds against its limit.
 *
 * The owner is recorded in every page of an assignment, not only the first,
 * so that any page can be traced to its domain. The domain's lock covers its
 * counter and the owner fields of the pages being assigned; the pages
 * themselves are already allocated (the heap lock is not needed: their
 * count_info and order do not change while the caller holds them).
 */
#include <domain/domain.h>
#include <lib/lib.h>
#include <mm/mm.h>
#include <mm/page_alloc.h>
#include <string.h>

void domain_init(struct domain *d, domid_t id, unsigned long max_pages)
{
    memset(d, 0, sizeof(*d));
    d->domain_id = id;
    spin_lock_init(&d->page_alloc_lock);
    d->max_pages = max_pages;
}

/*
 * Panics unless pg heads an allocated domheap block of exactly this order,
 * as the heap recorded it (PGC_head and the order in the first page_info).
 * Anything else is a caller's mistake the counts would carry silently: two
 * separate allocations assigned as one block, or part of a block, would be
 * freed later with an order they were not allocated with.
 */
static void check_allocation(const struct domain *d, const struct page_info *pg,
                             unsigned int order)
{
    mfn_t mfn;
    char why[96];

    if (order > MAX_ORDER)
        panic("assign_pages: order %u is above MAX_ORDER (%u) (domain %u)", order, MAX_ORDER,
              d->domain_id);
    if (!page_in_frame_table(pg))
        panic("assign_pages: %p is not a page_info in the frame table (domain %u, order %u)",
              (const void *)pg, d->domain_id, order);
    mfn = page_to_mfn(pg);
    if (page_state(pg) != PGS_inuse)
        fmt_snprintf(why, sizeof(why), "is not an allocated page");
    else if (is_xen_heap_page(pg))
        fmt_snprintf(why, sizeof(why), "is a xenheap page");
    else if (!(pg->count_info & PGC_head))
        fmt_snprintf(why, sizeof(why), "is not the first page of an allocation");
    else if (pg->order != order)
        fmt_snprintf(why, sizeof(why), "heads an allocation of order %u, not %u", pg->order,
                     order);
    else
        return;
    panic("assign_pages: page mfn 0x%lx (pa 0x%llx) %s (domain %u, order %u)", mfn_x(mfn),
          (unsigned long long)mfn_to_paddr(mfn), why, d->domain_id, order);
}

int assign_pages(struct domain *d, struct page_info *pg, unsigned int order)
{
    unsigned long n;

    check_allocation(d, pg, order);
    n = 1UL << order;
    spin_lock(&d->page_alloc_lock);
    /*
     * Misuse is refused before the limit is looked at: a domain at its limit
     * must not turn "this page has an owner" into a quiet -E2BIG.
     */
    for (unsigned long i = 0; i < n; i++) {
        const char *why = NULL;

        if (!page_in_frame_table(&pg[i]))
            why = "is not in the frame table";
        else if (page_state(&pg[i]) != PGS_inuse)
            why = "is not an allocated page";
        else if (is_xen_heap_page(&pg[i]))
            why = "is a xenheap page";
        else if (pg[i].u.owner)
            why = "already has an owner";
        if (why) {
            mfn_t mfn = page_in_frame_table(&pg[i]) ? page_to_mfn(&pg[i]) : INVALID_MFN;

            spin_unlock(&d->page_alloc_lock);
            panic("assign_pages: page mfn 0x%lx (pa 0x%llx) %s (domain %u, order %u)",
                  mfn_x(mfn), (unsigned long long)mfn_to_paddr(mfn), why, d->domain_id, order);
        }
    }
    if (d->tot_pages + n < d->tot_pages || d->tot_pages + n > d->max_pages) {
        spin_unlock(&d->page_alloc_lock);
        return -E2BIG;
    }
    for (unsigned long i = 0; i < n; i++)
        pg[i].u.owner = d;
    d->tot_pages += n;
    spin_unlock(&d->page_alloc_lock);
    return 0;
}

unsigned long domain_adjust_tot_pages(struct domain *d, long pages)
{
    unsigned long n;

    spin_lock(&d->page_alloc_lock);
    if (pages < 0 && (unsigned long)-pages > d->tot_pages) {
        unsigned long had = d->tot_pages;

        spin_unlock(&d->page_alloc_lock);
        panic("domain %u: removing %ld pages from %lu", d->domain_id, -pages, had);
    }
    d->tot_pages += (unsigned long)pages;
    n = d->tot_pages;
    spin_unlock(&d->page_alloc_lock);
    return n;
}
