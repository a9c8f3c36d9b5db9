/*
 * The cost of the vmap region and of page-table updates.
 *
 *  - vmap_1:    vmap of one frame and its vunmap: bitmap search, one
 *               level-3 entry written, then cleared with its TLB flush.
 *  - vmap_512:  the same for 512 frames that are not contiguous (a
 *               permutation of an order-9 block), so that every frame is a
 *               run of its own: 512 entries, one walk each, one ranged flush.
 *  - map_2mb:   map_pages_to_xen of one 2 MiB block and destroy_xen_mappings
 *               of it: one level-2 entry each way.
 *
 * Set-up (frames, address space) happens outside the measured loop. On the
 * host, the set-up also builds the default fake machine and the vmap region
 * when the benchmark binary has none.
 */
#include <lib/lib.h>
#include <mm/mm.h>
#include <mm/page_alloc.h>
#include <mm/pt.h>
#include <mm/vmap.h>
#include <test/bench.h>
#include <test/hooks.h>
#ifdef CONFIG_HOST
#include <host/machine.h>
#endif

#define SCATTERED 512

#ifdef CONFIG_HOST
static bool made_machine, made_region;
#endif
static struct page_info *frames;
static unsigned int frames_order;
static mfn_t scattered[SCATTERED];
static vaddr_t block_va;

static void region_up(unsigned int order)
{
#ifdef CONFIG_HOST
    if (!host_machine_present()) {
        if (host_machine_create_default() != 0)
            panic("bench: cannot create the host machine");
        made_machine = true;
    }
    if (!vm_is_ready()) {
        vm_init();
        made_region = true;
    }
#endif
    frames = alloc_domheap_pages(NULL, order, MEMF_no_scrub);
    if (!frames)
        panic("bench: no order-%u domheap block", order);
    frames_order = order;
}

static void region_down(void)
{
    free_domheap_pages(frames, frames_order);
    frames = NULL;
#ifdef CONFIG_HOST
    if (made_region && vm_teardown() != 0)
        panic("bench: vmap allocations left behind");
    if (made_machine)
        host_machine_destroy();
    made_region = made_machine = false;
#endif
}

/* --- vmap_1 -------------------------------------------------------------------- */

static void vmap_1_setup(void)
{
    region_up(0);
}

static void vmap_1_run(unsigned long n)
{
    mfn_t mfn = page_to_mfn(frames);

    while (n--) {
        void *va = vmap(&mfn, 1);

        if (!va)
            panic("bench: vmap failed");
        vunmap(va);
    }
}

BENCHMARK(vmap_1, "vmap + vunmap of 1 page", vmap_1_setup, vmap_1_run, region_down);

/* --- vmap_512 ------------------------------------------------------------------ */

static void vmap_512_setup(void)
{
    region_up(9);
    /* 5 is odd, so i -> 5i mod 512 is a permutation; no two neighbours are contiguous. */
    for (unsigned int i = 0; i < SCATTERED; i++)
        scattered[i] = mfn_add(page_to_mfn(frames), (i * 5) % SCATTERED);
}

static void vmap_512_run(unsigned long n)
{
    while (n--) {
        void *va = vmap(scattered, SCATTERED);

        if (!va)
            panic("bench: vmap of %u pages failed", SCATTERED);
        vunmap(va);
    }
}

BENCHMARK(vmap_512, "vmap + vunmap of 512 scattered pages", vmap_512_setup, vmap_512_run,
          region_down);

/* --- map_2mb ------------------------------------------------------------------- */

static void map_2mb_setup(void)
{
    region_up(9);
    block_va = (vaddr_t)vm_alloc(PT_BLOCK_PAGES, PT_BLOCK_PAGES);
    if (!block_va)
        panic("bench: no 2 MiB of vmap address space");
}

static void map_2mb_run(unsigned long n)
{
    while (n--) {
        if (map_pages_to_xen(block_va, page_to_mfn(frames), PT_BLOCK_PAGES,
                             PAGE_HYPERVISOR | _PAGE_BLOCK) != 0)
            panic("bench: map_pages_to_xen of a 2 MiB block failed");
        destroy_xen_mappings(block_va, block_va + PT_BLOCK_SIZE);
    }
}

static void map_2mb_teardown(void)
{
    vm_free((void *)block_va);
    region_down();
}

BENCHMARK(map_2mb, "map_pages_to_xen + destroy_xen_mappings of one 2 MiB block",
          map_2mb_setup, map_2mb_run, map_2mb_teardown);
