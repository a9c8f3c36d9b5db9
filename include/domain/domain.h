/*
 * Domains, as far as memory accounting goes.
 *
 * A domain owns domheap pages: assign_pages() records the owner in each
 * page and counts them in tot_pages, refusing to go past max_pages; freeing
 * a page gives the count back. There is no dynamic allocation in common code,
 * so a struct domain lives wherever its creator puts it (static, xenheap).
 */
#ifndef DOMAIN_H
#define DOMAIN_H

#include <lib/errno.h>
#include <lib/spinlock.h>
#include <lib/types.h>
#include <mm/p2m.h>

typedef uint16_t domid_t;

struct page_info;

/*
 * The guest's RAM as the guest sees it: up to GUEST_MAX_BANKS ranges of guest-physical
 * addresses, each mapped to RAM the domain owns (domain_build.h fills them; the guest's
 * /memory node is written from them).
 */
#define GUEST_MAX_BANKS 8

struct guest_mem_bank {
    paddr_t start;                /* IPA */
    paddr_t size;                 /* bytes */
};

struct guest_mem {
    unsigned int nr_banks;
    struct guest_mem_bank bank[GUEST_MAX_BANKS];
};

struct domain {
    domid_t domain_id;
    spinlock_t page_alloc_lock;   /* tot_pages, and the owner field of its pages */
    unsigned long tot_pages;      /* pages assigned to the domain */
    unsigned long max_pages;      /* limit on tot_pages */
    struct p2m_domain p2m;        /* stage-2 translation (mm/p2m.h) */
    struct guest_mem mem;         /* the guest's RAM banks (domain/domain_build.h) */
};

void domain_init(struct domain *d, domid_t id, unsigned long max_pages);

/*
 * Gives the 2^order allocated, anonymous domheap pages at pg to d.
 * Returns 0, or -E2BIG (and changes nothing) if d would pass max_pages.
 * Panics if a page is not an allocated anonymous domheap page.
 */
int assign_pages(struct domain *d, struct page_info *pg, unsigned int order);

/* Adds pages (negative: removes) to d->tot_pages; returns the new count. */
unsigned long domain_adjust_tot_pages(struct domain *d, long pages);

#endif
