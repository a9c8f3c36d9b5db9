/*
 * The image's side of tests/gdb-check.sh: the state that gdb's helpers
 * (tools/gdb/) read from memory, as the image itself sees it.
 *
 * Each stage sets up some state, prints it on the console as "gdbview ..."
 * lines (heap free lists per heap, zone and order; a frame's page_info; the
 * current VCPU's map_domain_page slots and a slot's page-table entry; vmap's
 * allocations; a domain's stage-2 entry), then sets gdb_view_stage and calls
 * the function gdb stops in (alloc_domheap_pages, map_domain_page, vmap, and
 * map_domain_page again on CPU 1; split_block_locked, with the heap lock
 * held), with nothing changed in between. A last
 * stage faults on purpose, for a backtrace from the trap handler. The gdb
 * script runs each helper there; the shell script parses both outputs and
 * compares them number by number. Manual (test=gdb.views): only that check
 * runs it, since it only means something with gdb watching.
 */
#include <asm/smp.h>
#include <asm/traps.h>
#include <asm/sysregs.h>
#include <domain/domain.h>
#include <domain/vcpu.h>
#include <lib/lib.h>
#include <mm/domain_page.h>
#include <mm/lpae.h>
#include <mm/mm.h>
#include <mm/p2m.h>
#include <mm/page_alloc.h>
#include <mm/vmap.h>
#include <test/selftest.h>

#include "../../common/mm/heap.h"

/* Which stage gdb's conditional breakpoints wait for (tests/gdb-check-views.gdb). */
volatile unsigned int gdb_view_stage;

/* The domain of the p2m stage: a global, so that the README's tour can name it. */
static struct domain view_domain;

/* Where gdb stops for the p2m stage, which has no allocator call to stop in. */
static noinline void gdb_view_point(void)
{
    __asm__ volatile("" ::: "memory");
}

static const char *const state_name[] = { "none", "free", "inuse", "buffer" };

static void print_page(const struct page_info *pg)
{
    printk("gdbview page 0x%lx state %s head %u order %u zone %u heap %s owner 0x%lx\n",
           mfn_x(page_to_mfn(pg)), state_name[page_state(pg)],
           !!(pg->count_info & PGC_head), pg->order,
           (pg->count_info & PGC_zone_mask) >> PGC_zone_shift,
           heap_name[mfn_heap(page_to_mfn(pg))],
           page_state(pg) == PGS_inuse ? (unsigned long)pg->u.owner : 0UL);
}

/* The first page of the largest free domheap block, and the page after it. */
static void print_largest_free_block(unsigned long count[NR_ZONES][MAX_ORDER + 1])
{
    for (unsigned int o = MAX_ORDER; o > 0; o--)
        for (unsigned int z = 0; z < NR_ZONES; z++)
            if (count[z][o]) {
                const struct page_info *pg = link_page(heaps.heap[HEAP_DOM].first[o][z]);

                print_page(pg);
                print_page(pg + 1);
                return;
            }
}

/*
 * An order the domheap must split a larger block for: the smallest with no
 * free block whose larger orders have one. Stage 1 allocates it, so that gdb
 * also stops in split_block_locked, with the heap lock held.
 */
static unsigned int split_order(unsigned long count[NR_ZONES][MAX_ORDER + 1])
{
    for (unsigned int o = 0; o < MAX_ORDER; o++) {
        bool here = false, above = false;

        for (unsigned int z = 0; z < NR_ZONES; z++) {
            here |= count[z][o] != 0;
            for (unsigned int p = o + 1; p <= MAX_ORDER; p++)
                above |= count[z][p] != 0;
        }
        if (!here && above)
            return o;
    }
    return 0;
}

/* Free blocks per heap, zone and order, counted on the lists under the heap lock.
 * Returns split_order(). */
static unsigned int print_heap(void)
{
    unsigned long count[NR_HEAPS][NR_ZONES][MAX_ORDER + 1] = { 0 };

    spin_lock(&heaps.lock);
    for (unsigned int h = 0; h < NR_HEAPS; h++)
        for (unsigned int z = 0; z < NR_ZONES; z++)
            for (unsigned int o = 0; o <= MAX_ORDER; o++) {
                if (!(heaps.heap[h].nonempty[z] & (1u << o)))
                    continue;
                for (unsigned int p = heaps.heap[h].first[o][z]; p != PDX_NONE;
                     p = link_page(p)->u.list.next)
                    count[h][z][o]++;
            }
    spin_unlock(&heaps.lock);
    for (unsigned int h = 0; h < NR_HEAPS; h++)
        for (unsigned int z = 0; z < NR_ZONES; z++)
            for (unsigned int o = 0; o <= MAX_ORDER; o++)
                if (count[h][z][o])
                    printk("gdbview heap %s zone %u order %u blocks %lu\n", heap_name[h], z, o,
                           count[h][z][o]);
    print_largest_free_block(count[HEAP_DOM]);
    printk("gdbview free xenheap %lu domheap %lu\n", avail_xenheap_pages(), avail_domheap_pages());
    printk("gdbview buffer %u", nr_buffer_pages);
    for (unsigned int i = 0; i < nr_buffer_pages; i++)
        printk(" 0x%lx", mfn_x(buffer_page_mfn[i]));
    printk("\n");
    printk("gdbview split order %u\n", split_order(count[HEAP_DOM]));
    return split_order(count[HEAP_DOM]);
}

/* The current VCPU's slots and the entry behind one of them (va). */
static void print_vcpu(const void *va)
{
    struct vcpu *v = current_vcpu();
    const struct mapcache *mc = &v->mapcache;
    unsigned int slot = mapcache_va_slot((vaddr_t)va);
    uint64_t pte = v->arch.third[slot];

    printk("gdbview vcpu cpu %u in_use %u cached %u free %u\n", smp_processor_id(),
           mapcache_nr_in_use(mc), mapcache_nr_cached(mc),
           MAPCACHE_SLOTS - mapcache_nr_in_use(mc) - mapcache_nr_cached(mc));
    for (unsigned int i = 0; i < MAPCACHE_SLOTS; i++) {
        if (mfn_x(mc->slot[i].mfn) == mfn_x(INVALID_MFN))
            continue;
        if (mc->slot[i].count)
            printk("gdbview slot %u mfn 0x%lx count %u\n", i, mfn_x(mc->slot[i].mfn),
                   mc->slot[i].count);
        else
            printk("gdbview slot %u mfn 0x%lx cached\n", i, mfn_x(mc->slot[i].mfn));
    }
    printk("gdbview pte cpu %u va 0x%lx desc 0x%016llx pa 0x%llx httbr 0x%llx\n",
           smp_processor_id(), (unsigned long)va, (unsigned long long)pte,
           (unsigned long long)((pte & LPAE_ADDR_MASK) | ((vaddr_t)va & (PAGE_SIZE - 1))),
           (unsigned long long)READ_CP64(HTTBR));
}

static void print_vmap(void *const *va, const unsigned int *pages, const char *const *kind,
                       unsigned int n)
{
    struct vm_stats st;

    vm_stats(&st);
    printk("gdbview vmstats allocations %lu pages %lu bitmap_pages %u mapped %u\n",
           st.allocations, st.pages, st.bitmap_pages, st.bitmap_mapped);
    for (unsigned int i = 0; i < n; i++)
        printk("gdbview vmap va 0x%lx pages %u kind %s\n", (unsigned long)va[i], pages[i],
               kind[i]);
}

struct on_cpu1 {
    mfn_t mfn[2];
    bool done;
};

static void stage_on_cpu1(unsigned int cpu, void *arg)
{
    struct on_cpu1 *c = arg;
    void *first = map_domain_page(c->mfn[0]);

    (void)cpu;
    print_vcpu(first);
    gdb_view_stage = 4;
    unmap_domain_page(map_domain_page(c->mfn[1]));   /* gdb stops in map_domain_page */
    gdb_view_stage = 0;
    unmap_domain_page(first);
    c->done = true;
}

SELFTEST_MANUAL(gdb, views)
{
    struct page_info *anon = alloc_domheap_pages(NULL, 2, 0);
    void *xen = alloc_xenheap_pages(0, 0);
    struct page_info *frames = alloc_domheap_pages(NULL, 3, 0);
    struct mapcache *mc = &current_vcpu()->mapcache;
    bool strict = mc->strict;
    void *map[3], *vm[2];
    unsigned int vm_pages[2] = { 3, 2 };
    const char *const vm_kind[2] = { "vmap", "vmalloc" };
    unsigned int order;
    mfn_t m[3];

    if (!EXPECT(anon && xen && frames))
        goto out;
    for (unsigned int i = 0; i < 3; i++)
        m[i] = mfn_add(page_to_mfn(frames), i);

    /*
     * 1: the heap, an allocated domheap block and a xenheap page, in the
     * allocator: at its entry, then where it splits a block, lock held.
     */
    order = print_heap();
    print_page(anon);
    print_page(virt_to_page(xen));
    gdb_view_stage = 1;
    free_domheap_pages(alloc_domheap_pages(NULL, order, 0), order);
    gdb_view_stage = 0;

    /* 2: the mapcache, with a cached slot (caching policy), in map_domain_page. */
    mapcache_set_strict(mc, false);
    for (unsigned int i = 0; i < 3; i++)
        map[i] = map_domain_page(m[i]);
    unmap_domain_page(map[2]);
    print_vcpu(map[1]);
    gdb_view_stage = 2;
    unmap_domain_page(map_domain_page(mfn_add(page_to_mfn(frames), 3)));
    gdb_view_stage = 0;
    unmap_domain_page(map[0]);
    unmap_domain_page(map[1]);
    mapcache_set_strict(mc, strict);

    /* 3: vmap's allocations, in vmap. */
    vm[0] = vmap(m, 3);
    vm[1] = vmalloc(2 * PAGE_SIZE);
    if (EXPECT(vm[0] && vm[1])) {
        print_vmap(vm, vm_pages, vm_kind, 2);
        gdb_view_stage = 3;
        vunmap(vmap(m, 1));
        gdb_view_stage = 0;
    }
    if (vm[0])
        vunmap(vm[0]);
    vfree(vm[1]);

    /* 4: CPU 1's own VCPU and tables, in map_domain_page there. */
    if (nr_online_cpus > 1) {
        struct on_cpu1 c = { { m[0], m[1] }, false };

        smp_call_on(1, stage_on_cpu1, &c);
        EXPECT(c.done);
    }

    /* 5: a domain's stage-2 entry: a page at IPA 0x80001000. */
    {
        struct domain *d = &view_domain;

        domain_init(d, 7, 0);
        if (EXPECT_EQ(p2m_init(d), 0)) {
            unsigned int level;
            lpae_t e;

            EXPECT_EQ(guest_physmap_add_page(d, _gfn(0x80001), m[2], 0), 0);
            e = p2m_get_entry(&d->p2m, _gfn(0x80001), &level);
            printk("gdbview p2m dom 0x%lx ipa 0x80001234 level %u desc 0x%016llx pa 0x%llx\n",
                   (unsigned long)d, level, (unsigned long long)e,
                   (unsigned long long)(mfn_to_paddr(m[2]) + 0x234));
            gdb_view_stage = 5;
            gdb_view_point();
            gdb_view_stage = 0;
            EXPECT_EQ(guest_physmap_remove_page(d, _gfn(0x80001), m[2], 0), 0);
            p2m_teardown(d);
        }
    }

    /* 6: a trap taken on purpose: gdb's backtrace from hyp_trap must reach this test. */
    {
        uint32_t value;

        gdb_view_stage = 6;
        EXPECT_EQ(arch_probe_read32((const volatile void *)0x00100000, &value), -14);
        gdb_view_stage = 0;
    }
out:
    if (frames)
        free_domheap_pages(frames, 3);
    if (xen)
        free_xenheap_pages(xen, 0);
    if (anon)
        free_domheap_pages(anon, 2);
}
