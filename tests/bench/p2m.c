/*
 * Stage-2 benchmarks: what mapping guest memory costs.
 *
 * p2m_add_4k and p2m_add_2m map one frame (a 4 KiB page, a 2 MiB block) at the next
 * guest-physical address of an empty p2m, as building a domain does: the table pages the
 * walk needs are allocated and cleared along the way and counted with the operations (one
 * level-3 table per 512 pages, one level-2 table per GiB). The same frames are mapped again
 * and again; the p2m does not care whose they are. domain_build_256m builds a whole 256 MiB
 * domain (allocate_memory: domheap chunks, assign_pages, the p2m) and takes it apart again
 * (relinquish_memory, p2m_teardown), and is reported per 4 KiB page of guest RAM.
 */
#include <domain/domain.h>
#include <domain/domain_build.h>
#include <lib/lib.h>
#include <mm/mm.h>
#include <mm/p2m.h>
#include <mm/page_alloc.h>
#include <test/bench.h>
#ifdef CONFIG_HOST
#include <host/machine.h>
#endif

static struct domain dom;
static struct page_info *frame;
static unsigned int frame_order;
#ifdef CONFIG_HOST
static bool made_machine;
#endif

static void p2m_bench_up(unsigned int order)
{
#ifdef CONFIG_HOST
    if (!host_machine_present()) {
        if (host_machine_create_default() != 0)
            panic("bench: cannot create the host machine");
        made_machine = true;
    }
#endif
    domain_init(&dom, 50, ~0UL);
    if (p2m_init(&dom))
        panic("bench: p2m_init failed");
    frame_order = order;
    frame = order == ~0u ? NULL : alloc_domheap_pages(NULL, order, MEMF_no_scrub);
    if (order != ~0u && !frame)
        panic("bench: no order-%u domheap block", order);
}

static void p2m_bench_down(void)
{
    if (frame)
        free_domheap_pages(frame, frame_order);
    frame = NULL;
    p2m_teardown(&dom);
#ifdef CONFIG_HOST
    if (made_machine)
        host_machine_destroy();
    made_machine = false;
#endif
}

static void add_run(unsigned int order, unsigned long n)
{
    gfn_t gfn = gaddr_to_gfn(GUEST_RAM0_BASE);

    for (unsigned long i = 0; i < n; i++)
        if (guest_physmap_add_page(&dom, gfn_add(gfn, i << order), page_to_mfn(frame), order))
            panic("bench: guest_physmap_add_page failed");
}

static void add_4k_setup(void) { p2m_bench_up(0); }
static void add_4k_run(unsigned long n) { add_run(0, n); }
BENCHMARK(p2m_add_4k, "guest_physmap_add_page of a 4 KiB page at the next IPA",
          add_4k_setup, add_4k_run, p2m_bench_down);

static void add_2m_setup(void) { p2m_bench_up(9); }
static void add_2m_run(unsigned long n) { add_run(9, n); }
BENCHMARK(p2m_add_2m, "guest_physmap_add_page of a 2 MiB block at the next IPA",
          add_2m_setup, add_2m_run, p2m_bench_down);

#define BUILD_BYTES (256ULL << 20)

static void build_setup(void) { p2m_bench_up(~0u); }
static void build_run(unsigned long n)
{
    while (n--) {
        if (allocate_memory(&dom, BUILD_BYTES))
            panic("bench: allocate_memory of 256 MiB failed");
        if (relinquish_memory(&dom))
            panic("bench: relinquish_memory failed");
        if (p2m_init(&dom))             /* relinquish_memory tore the p2m down */
            panic("bench: p2m_init failed");
    }
}
BENCHMARK_SCALED(domain_build_256m, "a 4 KiB page of a 256 MiB domain built (allocate_memory) "
                 "and taken apart (relinquish_memory)", build_setup, build_run, p2m_bench_down,
                 20, BUILD_BYTES >> PAGE_SHIFT);
