/*
 * Heap benchmarks, next to a minimal buddy allocator doing the same work.
 *
 * One operation is an allocation and the free that gives it back. The
 * set-up takes eight blocks of the order measured and gives back every
 * second one: their buddies stay held, so the free list of that order holds
 * four blocks that cannot merge. Every operation then finds a block at the
 * head of a list that stays non-empty and gives it back without a merge:
 * the common case of a busy heap, and the same path in both allocators.
 *
 * The reference ("ref_buddy_*") is the smallest useful intrusive buddy: one
 * free list per order, 32-bit links in a per-page array, a loop to find the
 * first non-empty order, merge while the buddy is a free block of the same
 * order. No zones, no heaps, no lock, no per-page state, no counters, no
 * checks. The heap's figures include its lock; the "spinlock" benchmark
 * gives its cost (twice per operation: alloc and free).
 */
#include <lib/lib.h>
#include <mm/mm.h>
#include <mm/page_alloc.h>
#include <test/bench.h>
#ifdef CONFIG_HOST
#include <host/machine.h>
#endif

/* --- the heap ------------------------------------------------------------ */

#define HELD 8

static struct page_info *held_page[HELD];

#ifdef CONFIG_HOST
static bool made_machine;
#endif

/* The image boots with its heap; a host benchmark makes the default machine. */
static void heap_up(void)
{
#ifdef CONFIG_HOST
    if (!host_machine_present()) {
        if (host_machine_create_default() != 0)
            panic("bench: cannot create the host machine");
        made_machine = true;
    }
#endif
}

static void heap_down(void)
{
#ifdef CONFIG_HOST
    if (made_machine)
        host_machine_destroy();
    made_machine = false;
#endif
}

static void domheap_setup(unsigned int order)
{
    heap_up();
    for (unsigned int i = 0; i < HELD; i++)
        if (!(held_page[i] = alloc_domheap_pages(NULL, order, MEMF_no_scrub)))
            panic("bench: no order-%u domheap blocks", order);
    for (unsigned int i = 1; i < HELD; i += 2)
        free_domheap_pages(held_page[i], order);
}

static void domheap_teardown(unsigned int order)
{
    for (unsigned int i = 0; i < HELD; i += 2)
        free_domheap_pages(held_page[i], order);
    heap_down();
}

static void domheap_run(unsigned int order, unsigned long n)
{
    while (n--) {
        struct page_info *pg = alloc_domheap_pages(NULL, order, MEMF_no_scrub);

        free_domheap_pages(pg, order);
    }
}

static void order0_setup(void) { domheap_setup(0); }
static void order0_teardown(void) { domheap_teardown(0); }
static void order0_run(unsigned long n) { domheap_run(0, n); }
static void order9_setup(void) { domheap_setup(9); }
static void order9_teardown(void) { domheap_teardown(9); }
static void order9_run(unsigned long n) { domheap_run(9, n); }

static void *held_va[HELD];

static void xenheap_setup(void)
{
    heap_up();
    for (unsigned int i = 0; i < HELD; i++)
        if (!(held_va[i] = alloc_xenheap_pages(0, MEMF_no_scrub)))
            panic("bench: no xenheap pages");
    for (unsigned int i = 1; i < HELD; i += 2)
        free_xenheap_pages(held_va[i], 0);
}

static void xenheap_teardown(void)
{
    for (unsigned int i = 0; i < HELD; i += 2)
        free_xenheap_pages(held_va[i], 0);
    heap_down();
}

static void xenheap_run(unsigned long n)
{
    while (n--)
        free_xenheap_pages(alloc_xenheap_pages(0, MEMF_no_scrub), 0);
}

BENCHMARK(heap_order0, "alloc_domheap_pages + free_domheap_pages, order 0 (with the lock)",
          order0_setup, order0_run, order0_teardown);
BENCHMARK(heap_order9, "alloc_domheap_pages + free_domheap_pages, order 9 (with the lock)",
          order9_setup, order9_run, order9_teardown);
BENCHMARK(heap_xen_order0, "alloc_xenheap_pages + free_xenheap_pages, order 0 (with the lock)",
          xenheap_setup, xenheap_run, xenheap_teardown);

/* --- the reference buddy ------------------------------------------------- */

#define REF_ORDER 13                    /* manages 2^13 pages */
#define REF_PAGES (1u << REF_ORDER)
#define REF_NONE 0xffffffffu

struct ref_page {
    unsigned int next, prev;
    unsigned char order;
    unsigned char free;
};

static struct ref_page *ref;            /* REF_PAGES entries, from the xenheap */
static unsigned int ref_head[REF_ORDER + 1];
static unsigned int ref_held[HELD], ref_meta_order;

static void ref_push(unsigned int i, unsigned int order)
{
    ref[i].free = 1;
    ref[i].order = (unsigned char)order;
    ref[i].prev = REF_NONE;
    ref[i].next = ref_head[order];
    if (ref_head[order] != REF_NONE)
        ref[ref_head[order]].prev = i;
    ref_head[order] = i;
}

static void ref_unlink(unsigned int i, unsigned int order)
{
    if (ref[i].prev != REF_NONE)
        ref[ref[i].prev].next = ref[i].next;
    else
        ref_head[order] = ref[i].next;
    if (ref[i].next != REF_NONE)
        ref[ref[i].next].prev = ref[i].prev;
    ref[i].free = 0;
}

static unsigned int ref_alloc(unsigned int order)
{
    unsigned int o, i;

    for (o = order; o <= REF_ORDER && ref_head[o] == REF_NONE; o++)
        ;
    if (o > REF_ORDER)
        return REF_NONE;
    i = ref_head[o];
    ref_unlink(i, o);
    while (o > order) {
        o--;
        ref_push(i + (1u << o), o);
    }
    ref[i].order = (unsigned char)order;
    return i;
}

static void ref_free(unsigned int i, unsigned int order)
{
    while (order < REF_ORDER) {
        unsigned int buddy = i ^ (1u << order);

        if (!ref[buddy].free || ref[buddy].order != order)
            break;
        ref_unlink(buddy, order);
        i &= ~(1u << order);
        order++;
    }
    ref_push(i, order);
}

static void ref_setup(unsigned int order)
{
    size_t bytes = REF_PAGES * sizeof(struct ref_page);

    heap_up();
    for (ref_meta_order = 0; (PAGE_SIZE << ref_meta_order) < bytes; ref_meta_order++)
        ;
    ref = alloc_xenheap_pages(ref_meta_order, 0);
    if (!ref)
        panic("bench: no xenheap memory for the reference buddy");
    for (unsigned int o = 0; o <= REF_ORDER; o++)
        ref_head[o] = REF_NONE;
    for (unsigned int i = 0; i < REF_PAGES; i++)
        ref[i].free = 0;
    ref_push(0, REF_ORDER);
    for (unsigned int i = 0; i < HELD; i++)
        ref_held[i] = ref_alloc(order);
    for (unsigned int i = 1; i < HELD; i += 2)
        ref_free(ref_held[i], order);
}

static void ref_teardown(void)
{
    free_xenheap_pages(ref, ref_meta_order);
    ref = NULL;
    heap_down();
}

static void ref_run(unsigned int order, unsigned long n)
{
    while (n--)
        ref_free(ref_alloc(order), order);
}

static void ref0_setup(void) { ref_setup(0); }
static void ref0_run(unsigned long n) { ref_run(0, n); }
static void ref9_setup(void) { ref_setup(9); }
static void ref9_run(unsigned long n) { ref_run(9, n); }

BENCHMARK(ref_buddy_order0, "minimal buddy (no lock, no checks): alloc + free, order 0",
          ref0_setup, ref0_run, ref_teardown);
BENCHMARK(ref_buddy_order9, "minimal buddy (no lock, no checks): alloc + free, order 9",
          ref9_setup, ref9_run, ref_teardown);
