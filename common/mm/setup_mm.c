/*
 * Memory setup at boot (see setup_mm.h): the frame table, the xenheap, the
 * boot allocator's handover to the domheap, and the boot log.
 *
 * Nothing here touches the contents of heap pages: the frame table is
 * cleared (16 bytes per page), each heap page gets one state store, and the
 * pages are marked as needing a scrub on first use. Under QEMU, clearing
 * 16 GiB page by page would be billions of stores.
 *
 * This file also holds the globals that describe the result (frame_table,
 * the xenheap range and its mapping), since setup_mm() is what sets them.
 */
#include <arch/mm.h>
#include <lib/lib.h>
#include <mm/boot_alloc.h>
#include <mm/mm.h>
#include <mm/page_alloc.h>
#include <mm/pdx.h>
#include <mm/setup_mm.h>
#include <string.h>
#include <test/hooks.h>

struct page_info *frame_table;
mfn_t xenheap_mfn_start, xenheap_mfn_end;
vaddr_t xenheap_virt_start;

static struct mm_layout layout;
static bool mm_ready;

/* Usable RAM that the frame table covers. */
static struct mem_range usable[BOOTINFO_MAX_BANKS];
static unsigned int nr_usable;

#define MiB(x) ((unsigned long long)((x) >> 20))

void xenheap_bad_virt(const char *what, const void *va)
{
    panic("%s: %p is not a xenheap address (the xenheap is mapped at 0x%lx-0x%lx)", what, va,
          (unsigned long)xenheap_virt_start,
          (unsigned long)(xenheap_virt_start +
                          (xenheap_nr_pages() << PAGE_SHIFT)));
}

void xenheap_bad_maddr(const char *what, paddr_t pa)
{
    panic("%s: pa 0x%llx (mfn 0x%lx) is not in the xenheap (pa 0x%llx-0x%llx)", what,
          (unsigned long long)pa, mfn_x(paddr_to_mfn(pa)),
          (unsigned long long)mfn_to_paddr(xenheap_mfn_start),
          (unsigned long long)mfn_to_paddr(xenheap_mfn_end));
}

/* Frames in [s, e), both page-aligned. */
static unsigned long pages_between(paddr_t s, paddr_t e)
{
    return mfn_x(paddr_to_mfn(e)) - mfn_x(paddr_to_mfn(s));
}

/* Counts the RAM below the covered limit, and warns about the rest. */
static void account_ram(const struct bootinfo *bi, paddr_t limit)
{
    for (unsigned int i = 0; i < bi->nr_ram; i++) {
        paddr_t s = ROUNDUP(bi->ram[i].start, (paddr_t)PAGE_SIZE);
        paddr_t e = ROUNDDOWN(bi->ram[i].end, (paddr_t)PAGE_SIZE);

        if (s >= e)
            continue;
        if (s < limit)
            layout.ram_pages += pages_between(s, min(e, limit));
        if (e > limit)
            layout.ignored_pages += pages_between(max(s, limit), e);
    }
    if (!layout.ignored_pages)
        return;
    if (limit >= ((paddr_t)1 << PADDR_BITS))
        printk("mm: WARNING: ignoring %llu MiB of RAM above the 40-bit physical address "
               "space\n", MiB((paddr_t)layout.ignored_pages << PAGE_SHIFT));
    else
        printk("mm: WARNING: the frame-table window (%zu MiB, %zu pages) cannot describe RAM "
               "at or above 0x%llx: ignoring %llu MiB of RAM\n",
               arch_frametable_window() >> 20,
               arch_frametable_window() / sizeof(struct page_info),
               (unsigned long long)limit, MiB((paddr_t)layout.ignored_pages << PAGE_SHIFT));
}

static void collect_usable(const struct bootinfo *bi, paddr_t limit)
{
    paddr_t prev_end = 0;

    nr_usable = 0;
    for (unsigned int i = 0; i < bi->nr_usable; i++) {
        paddr_t s = ROUNDUP(bi->usable[i].start, (paddr_t)PAGE_SIZE);
        paddr_t e = min(ROUNDDOWN(bi->usable[i].end, (paddr_t)PAGE_SIZE), limit);

        s = max(s, prev_end);   /* bootinfo keeps them sorted and apart; be sure */
        if (s >= e)
            continue;
        usable[nr_usable].start = s;
        usable[nr_usable].end = e;
        nr_usable++;
        prev_end = e;
    }
}

/*
 * 1/32 of RAM rounded up to 32 MiB, within [32 MiB, 1 GiB] and the window;
 * as high as possible, 32 MiB aligned, inside one usable range. If no range
 * holds that much, 32 MiB less, down to 32 MiB.
 *
 * The xenheap holds page tables (each VCPU's domheap window) and may lie
 * anywhere in the 40-bit physical space: the architecture lets a table
 * descriptor point to any 40-bit address, and qemu-system-aarch64 walks
 * such tables correctly. (qemu-system-arm 7.2 does not: it reads a table
 * above 4 GiB 4 GiB lower. The image refuses to run on such a walker rather
 * than keep its tables low and hide the fault: arch/arm32/walk_check.c.)
 */
static bool pick_xenheap(paddr_t *start, paddr_t *end)
{
    paddr_t ram = (paddr_t)layout.ram_pages << PAGE_SHIFT;
    paddr_t most = min((paddr_t)XENHEAP_MAX, (paddr_t)arch_xenheap_window());
    paddr_t size = ROUNDUP(ram / 32, (paddr_t)XENHEAP_ALIGN);

    size = ROUNDDOWN(min(max(size, (paddr_t)XENHEAP_MIN), most), (paddr_t)XENHEAP_ALIGN);
    for (; size >= XENHEAP_MIN; size -= XENHEAP_ALIGN) {
        for (unsigned int i = nr_usable; i-- > 0;) {
            paddr_t s;

            if (usable[i].end - usable[i].start < size)
                continue;
            s = ROUNDDOWN(usable[i].end - size, (paddr_t)XENHEAP_ALIGN);
            if (s >= usable[i].start) {
                *start = s;
                *end = s + size;
                return true;
            }
        }
    }
    return false;
}

static void map_frametable_run(size_t offset, paddr_t pa, size_t bytes)
{
    if (layout.nr_frametable_runs == MM_MAX_FRAMETABLE_RUNS)
        panic("setup_mm: the frame table is in more than %u pieces", MM_MAX_FRAMETABLE_RUNS);
    layout.frametable_run[layout.nr_frametable_runs].offset = offset;
    layout.frametable_run[layout.nr_frametable_runs].pa = pa;
    layout.frametable_run[layout.nr_frametable_runs].bytes = bytes;
    layout.nr_frametable_runs++;
    arch_map_frametable(offset, pa, bytes);
}

/*
 * The frame table is allocated a granule at a time, from its last granule
 * to its first: the boot allocator hands out descending addresses, so the
 * pieces usually join into one physically contiguous run, mapped in one
 * call, while a fragmented RAM map still works.
 */
static void setup_frametable(void)
{
    size_t bytes = ROUNDUP((size_t)max_pdx * sizeof(struct page_info), FRAMETABLE_GRANULE);
    unsigned long granule_pages = FRAMETABLE_GRANULE >> PAGE_SHIFT;
    size_t run_offset = 0, run_bytes = 0;
    paddr_t run_pa = 0;

    BUG_ON(bytes > arch_frametable_window());
    frame_table = arch_frametable_base();
    for (size_t offset = bytes; offset > 0;) {
        paddr_t pa;

        offset -= FRAMETABLE_GRANULE;
        pa = mfn_to_paddr(alloc_boot_pages(granule_pages, granule_pages));
        if (run_bytes && pa + FRAMETABLE_GRANULE == run_pa) {
            run_pa = pa;
            run_offset = offset;
            run_bytes += FRAMETABLE_GRANULE;
            continue;
        }
        if (run_bytes)
            map_frametable_run(run_offset, run_pa, run_bytes);
        run_offset = offset;
        run_pa = pa;
        run_bytes = FRAMETABLE_GRANULE;
    }
    if (run_bytes)
        map_frametable_run(run_offset, run_pa, run_bytes);
    /* PGS_none everywhere: only what the heaps are given becomes heap memory. */
    memset(frame_table, 0, bytes);
    layout.frametable_bytes = bytes;
}

static void print_layout(void)
{
    printk("mm: RAM %llu MiB (%lu pages) in %lu PDX groups of %lu MiB; frame table %zu KiB "
           "(%zu-byte page_info) in %u piece(s), first at pa 0x%llx\n",
           MiB((paddr_t)layout.ram_pages << PAGE_SHIFT), layout.ram_pages, layout.pdx_groups,
           (PDX_GROUP_PAGES << PAGE_SHIFT) >> 20, layout.frametable_bytes >> 10,
           sizeof(struct page_info), layout.nr_frametable_runs,
           (unsigned long long)layout.frametable_run[0].pa);
    printk("mm: xenheap pa 0x%llx-0x%llx (%llu MiB) at va 0x%lx\n",
           (unsigned long long)layout.xenheap_start, (unsigned long long)layout.xenheap_end,
           MiB(layout.xenheap_end - layout.xenheap_start), (unsigned long)xenheap_virt_start);
    if (layout.nr_buffer_pages == 0)
        printk("mm: xenheap buffer pages: none withheld\n");
    for (unsigned int i = 0; i < layout.nr_buffer_pages; i++)
        printk("mm: xenheap buffer page: mfn 0x%lx (pa 0x%llx), withheld from the heap\n",
               mfn_x(layout.buffer_mfn[i]), (unsigned long long)mfn_to_paddr(layout.buffer_mfn[i]));
    printk("mm: xenheap %lu free pages; domheap %lu free pages (%llu MiB)\n",
           layout.xenheap_free_pages, layout.domheap_free_pages,
           MiB((paddr_t)layout.domheap_free_pages << PAGE_SHIFT));
}

void setup_mm(const struct bootinfo *bi)
{
    unsigned long capacity = arch_frametable_window() / sizeof(struct page_info);
    paddr_t limit, xs, xe;

    if (mm_ready || frame_table)
        panic("setup_mm: memory is already set up");
    memset(&layout, 0, sizeof(layout));

    limit = pdx_init(bi->ram, bi->nr_ram, capacity);
    layout.covered_end = limit;
    layout.pdx_groups = max_pdx >> PDX_GROUP_SHIFT;
    account_ram(bi, limit);
    collect_usable(bi, limit);
    layout.usable_end = nr_usable ? usable[nr_usable - 1].end : 0;

    if (!pick_xenheap(&xs, &xe)) {
        paddr_t largest = 0;

        for (unsigned int i = 0; i < nr_usable; i++)
            largest = max(largest, usable[i].end - usable[i].start);
        panic("setup_mm: no usable RAM range holds a %llu MiB xenheap aligned to %llu MiB "
              "(the largest usable range is %llu KiB)", MiB(XENHEAP_MIN),
              MiB(XENHEAP_ALIGN), (unsigned long long)(largest >> 10));
    }
    xenheap_mfn_start = paddr_to_mfn(xs);
    xenheap_mfn_end = paddr_to_mfn(xe);
    layout.xenheap_start = xs;
    layout.xenheap_end = xe;

    for (unsigned int i = 0; i < nr_usable; i++) {
        paddr_t s = usable[i].start, e = usable[i].end;

        if (e <= xs || s >= xe) {
            init_boot_pages(s, e);
            continue;
        }
        init_boot_pages(s, xs);
        init_boot_pages(xe, e);
    }

    setup_frametable();
    xenheap_virt_start = (vaddr_t)arch_map_xenheap(xs, xe);
    init_xenheap_pages(xs, xe);
    end_boot_allocator();

    if (page_state(mfn_to_page(xenheap_mfn_start)) == PGS_buffer)
        layout.buffer_mfn[layout.nr_buffer_pages++] = xenheap_mfn_start;
    if (page_state(mfn_to_page(mfn_add(xenheap_mfn_end, -1))) == PGS_buffer)
        layout.buffer_mfn[layout.nr_buffer_pages++] = mfn_add(xenheap_mfn_end, -1);
    layout.xenheap_free_pages = avail_xenheap_pages();
    layout.domheap_free_pages = avail_domheap_pages();
    mm_ready = true;
    print_layout();
}

const struct mm_layout *mm_layout(void)
{
    return mm_ready ? &layout : NULL;
}

void teardown_mm(void)
{
    heap_reset();
    boot_alloc_reset();
    pdx_reset();
    frame_table = NULL;
    xenheap_mfn_start = xenheap_mfn_end = _mfn(0);
    xenheap_virt_start = 0;
    nr_usable = 0;
    memset(&layout, 0, sizeof(layout));
    mm_ready = false;
}
