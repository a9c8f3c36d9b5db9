/*
 * A domain's RAM: allocate_memory(), allocate_memory_11() and relinquish_memory(); and
 * building a domain from boot modules: construct_domain() and its loaders.
 *
 * Chunks are taken largest first. The order tried is the largest that fits what is left
 * (of the bank, for allocate_memory), capped by the largest order the heap could give so
 * far: once the heap has refused an order it is not asked for that order again. Orders
 * therefore never grow, and a chunk placed right after larger ones starts at an offset
 * that is a multiple of its size.
 *
 * Nothing records the chunks: the first page of each allocation carries PGC_head and its
 * order, so the release path finds them again by walking the banks through the p2m.
 */
#include <arch/guest.h>
#include <arch/mm.h>
#include <arch/p2m.h>
#include <domain/domain_build.h>
#include <domain/guest_dt.h>
#include <domain/vcpu.h>
#include <lib/errno.h>
#include <lib/lib.h>
#include <mm/mm.h>
#include <mm/p2m.h>
#include <mm/domain_page.h>
#include <mm/page_alloc.h>
#include <libfdt.h>
#include <string.h>

/* The largest order <= cap whose block fits in `pages` (at least 1). */
static unsigned int chunk_order(unsigned long pages, unsigned int cap)
{
    unsigned int k = 0;

    while (k < cap && (2UL << k) <= pages)
        k++;
    return k;
}

static unsigned long long kib(paddr_t bytes)
{
    return (unsigned long long)(bytes >> 10);
}

/* The checks both allocators share; 0 or the refusal (printed). */
static int check_request(struct domain *d, paddr_t bytes, paddr_t limit, const char *who)
{
    unsigned long pages;

    if (bytes == 0 || bytes % PAGE_SIZE) {
        printk("%s: d%u: 0x%llx bytes is not a positive multiple of the page size\n", who,
               d->domain_id, (unsigned long long)bytes);
        return -EINVAL;
    }
    if (bytes > limit) {
        printk("%s: d%u: 0x%llx bytes is more than the guest memory map holds (0x%llx)\n",
               who, d->domain_id, (unsigned long long)bytes, (unsigned long long)limit);
        return -EINVAL;
    }
    if (d->p2m.vmid == 0) {
        printk("%s: d%u: the domain has no p2m (p2m_init first)\n", who, d->domain_id);
        return -EINVAL;
    }
    if (d->mem.nr_banks) {
        printk("%s: d%u: the domain has RAM already\n", who, d->domain_id);
        return -EBUSY;
    }
    pages = (unsigned long)(bytes >> PAGE_SHIFT);
    if (d->tot_pages > d->max_pages || pages > d->max_pages - d->tot_pages) {
        printk("%s: d%u: %lu pages asked, but the domain holds %lu of at most %lu\n", who,
               d->domain_id, pages, d->tot_pages, d->max_pages);
        return -E2BIG;
    }
    return 0;
}

/*
 * Unmaps and frees every chunk of every bank, and empties the banks. Each bank must map,
 * from its start, whole allocations of d (panics otherwise: the banks are corrupt).
 */
static void release_banks(struct domain *d)
{
    struct p2m_domain *p2m = p2m_get_hostp2m(d);

    for (unsigned int b = 0; b < d->mem.nr_banks; b++) {
        const struct guest_mem_bank *bk = &d->mem.bank[b];
        paddr_t off = 0;

        while (off < bk->size) {
            gfn_t gfn = gaddr_to_gfn(bk->start + off);
            p2m_type_t t;
            mfn_t mfn = p2m_lookup(p2m, gfn, &t);
            struct page_info *pg;
            unsigned int order;

            if (mfn_eq(mfn, INVALID_MFN) || t != p2m_ram_rw || !mfn_valid(mfn))
                panic("relinquish_memory: d%u: IPA 0x%llx in bank %u maps no RAM",
                      d->domain_id, (unsigned long long)(bk->start + off), b);
            pg = mfn_to_page(mfn);
            order = pg->order;
            if (pg->u.owner != d || !(pg->count_info & PGC_head) ||
                ((paddr_t)PAGE_SIZE << order) > bk->size - off)
                panic("relinquish_memory: d%u: IPA 0x%llx maps mfn 0x%lx, which does not "
                      "start an allocation of the domain inside bank %u", d->domain_id,
                      (unsigned long long)(bk->start + off), mfn_x(mfn), b);
            if (guest_physmap_remove_page(d, gfn, mfn, order))
                panic("relinquish_memory: d%u: cannot unmap IPA 0x%llx", d->domain_id,
                      (unsigned long long)(bk->start + off));
            free_domheap_pages(pg, order);
            off += (paddr_t)PAGE_SIZE << order;
        }
    }
    memset(&d->mem, 0, sizeof(d->mem));
}

static int out_of_memory(struct domain *d, const char *who, paddr_t asked, paddr_t found,
                         const char *why)
{
    printk("%s: d%u: not enough memory: asked for %llu KiB, found %llu KiB%s\n", who,
           d->domain_id, kib(asked), kib(found), why);
    release_banks(d);
    return -ENOMEM;
}

/*
 * A chunk of guest RAM: allocated scrubbed (zeros), then cleaned and invalidated from the
 * data cache to the point of coherency. The guest starts with its MMU and caches off and
 * reads memory itself: zeros still in the hypervisor's cache would show it the previous
 * owner's data (Linux's boot protocol asks the same of a loader).
 */
static struct page_info *alloc_guest_chunk(struct domain *d, unsigned int order)
{
    struct page_info *pg = alloc_domheap_pages(d, order, 0);

    for (unsigned long i = 0; pg && i < (1UL << order); i++) {
        void *va = map_domain_page(mfn_add(page_to_mfn(pg), i));

        arch_dcache_clean_inval(va, PAGE_SIZE);
        unmap_domain_page(va);
    }
    return pg;
}

int allocate_memory(struct domain *d, paddr_t bytes)
{
    static const paddr_t base[2] = { GUEST_RAM0_BASE, GUEST_RAM1_BASE };
    paddr_t want[2];
    paddr_t found = 0;
    unsigned int cap = MAX_ORDER;
    int rc = check_request(d, bytes, GUEST_RAM0_SIZE + GUEST_RAM1_SIZE, "allocate_memory");

    if (rc)
        return rc;
    want[0] = bytes < GUEST_RAM0_SIZE ? bytes : GUEST_RAM0_SIZE;
    want[1] = bytes - want[0];
    for (unsigned int b = 0; b < 2 && want[b]; b++) {
        struct guest_mem_bank *bk = &d->mem.bank[b];

        bk->start = base[b];
        bk->size = 0;
        d->mem.nr_banks = b + 1;
        while (bk->size < want[b]) {
            unsigned long left = (unsigned long)((want[b] - bk->size) >> PAGE_SHIFT);
            unsigned int k = chunk_order(left, cap);
            struct page_info *pg = alloc_guest_chunk(d, k);

            if (!pg) {
                if (k == 0)
                    return out_of_memory(d, "allocate_memory", bytes, found, "");
                cap = k - 1;
                continue;
            }
            rc = guest_physmap_add_page(d, gaddr_to_gfn(bk->start + bk->size), page_to_mfn(pg),
                                        k);
            if (rc) {
                free_domheap_pages(pg, k);
                return out_of_memory(d, "allocate_memory", bytes, found,
                                     " (no memory for the p2m's tables)");
            }
            bk->size += (paddr_t)PAGE_SIZE << k;
            found += (paddr_t)PAGE_SIZE << k;
        }
    }
    return 0;
}

/* Adds the chunk [pa, pa + size) to the 1:1 banks; false if it needs a bank and none is left. */
static bool add_11_chunk(struct guest_mem *mem, paddr_t pa, paddr_t size)
{
    for (unsigned int b = 0; b < mem->nr_banks; b++) {
        struct guest_mem_bank *bk = &mem->bank[b];

        if (bk->start + bk->size == pa) {
            bk->size += size;
            return true;
        }
        if (pa + size == bk->start) {
            bk->start = pa;
            bk->size += size;
            return true;
        }
    }
    if (mem->nr_banks == GUEST_MAX_BANKS)
        return false;
    mem->bank[mem->nr_banks].start = pa;
    mem->bank[mem->nr_banks].size = size;
    mem->nr_banks++;
    return true;
}

static void sort_banks(struct guest_mem *mem)
{
    for (unsigned int i = 1; i < mem->nr_banks; i++) {
        struct guest_mem_bank x = mem->bank[i];
        unsigned int j = i;

        for (; j > 0 && mem->bank[j - 1].start > x.start; j--)
            mem->bank[j] = mem->bank[j - 1];
        mem->bank[j] = x;
    }
}

int allocate_memory_11(struct domain *d, paddr_t bytes)
{
    paddr_t found = 0;
    unsigned int cap = MAX_ORDER;
    int rc = check_request(d, bytes, 1ULL << P2M_IPA_BITS, "allocate_memory_11");

    if (rc)
        return rc;
    while (found < bytes) {
        unsigned int k = chunk_order((unsigned long)((bytes - found) >> PAGE_SHIFT), cap);
        struct page_info *pg = alloc_guest_chunk(d, k);
        mfn_t mfn;

        if (!pg) {
            if (k == 0)
                return out_of_memory(d, "allocate_memory_11", bytes, found, "");
            cap = k - 1;
            continue;
        }
        mfn = page_to_mfn(pg);
        rc = guest_physmap_add_page(d, _gfn(mfn_x(mfn)), mfn, k);
        if (rc) {
            free_domheap_pages(pg, k);
            return out_of_memory(d, "allocate_memory_11", bytes, found,
                                 " (no memory for the p2m's tables)");
        }
        if (!add_11_chunk(&d->mem, mfn_to_paddr(mfn), (paddr_t)PAGE_SIZE << k)) {
            guest_physmap_remove_page(d, _gfn(mfn_x(mfn)), mfn, k);
            free_domheap_pages(pg, k);
            return out_of_memory(d, "allocate_memory_11", bytes, found,
                                 " (the heap is too fragmented for the banks)");
        }
        found += (paddr_t)PAGE_SIZE << k;
    }
    sort_banks(&d->mem);
    return 0;
}

int relinquish_memory(struct domain *d)
{
    release_banks(d);
    if (d->p2m.vmid)
        p2m_teardown(d);
    if (d->tot_pages) {
        printk("relinquish_memory: d%u still owns %lu pages outside its banks\n",
               d->domain_id, d->tot_pages);
        return -EBUSY;
    }
    return 0;
}

/* ------------------------------------------------------------ loading a domain */

/*
 * The one copy every loader uses: len bytes at machine address src (any alignment, in RAM
 * that map_domain_page() reaches) to the guest at ipa, one piece at a time so that no
 * piece crosses a page on either side. The guest's page is found the way the guest will
 * find it, through gvirt_to_maddr() (its MMU is off: VA == IPA).
 */
static int copy_to_guest(struct domain *d, paddr_t ipa, paddr_t src, paddr_t len,
                         const char *what)
{
    while (len) {
        paddr_t ma, n = len;
        uint8_t *to;
        const uint8_t *from;
        int rc;

        if (ipa > UINT32_MAX) {
            printk("%s: d%u: IPA 0x%llx is above 4 GiB, where the guest's MMU-off accesses "
                   "cannot reach\n", what, d->domain_id, (unsigned long long)ipa);
            return -EINVAL;
        }
        rc = gvirt_to_maddr(d, (uint32_t)ipa, &ma, GV2M_WRITE);
        if (rc) {
            printk("%s: d%u: cannot write IPA 0x%llx (%d): not the domain's RAM\n", what,
                   d->domain_id, (unsigned long long)ipa, rc);
            return rc;
        }
        n = min(n, PAGE_SIZE - (ipa & (PAGE_SIZE - 1)));
        n = min(n, PAGE_SIZE - (src & (PAGE_SIZE - 1)));
        to = map_domain_page(paddr_to_mfn(ma));
        from = map_domain_page(paddr_to_mfn(src));
        memcpy(to + (ma & (PAGE_SIZE - 1)), from + (src & (PAGE_SIZE - 1)), (size_t)n);
        /* To memory: the guest reads it with its caches off. */
        arch_dcache_clean_inval(to + (ma & (PAGE_SIZE - 1)), (size_t)n);
        unmap_domain_page(from);
        unmap_domain_page(to);
        ipa += n;
        src += n;
        len -= n;
    }
    return 0;
}

int kernel_load(const struct kernel_info *kinfo)
{
    return copy_to_guest(kinfo->d, kinfo->kernel_ipa, kinfo->kernel->start, kinfo->kernel_size,
                         "kernel_load");
}

int initrd_load(const struct kernel_info *kinfo)
{
    if (!kinfo->initrd)
        return 0;
    return copy_to_guest(kinfo->d, kinfo->initrd_ipa, kinfo->initrd->start, kinfo->initrd_size,
                         "initrd_load");
}

int dtb_load(const struct kernel_info *kinfo, const void *dtb)
{
    /* The xenheap is one physically contiguous mapping per allocation. */
    return copy_to_guest(kinfo->d, kinfo->dtb_ipa, virt_to_maddr(dtb), kinfo->dtb_size,
                         "dtb_load");
}

static unsigned int order_for(size_t bytes)
{
    unsigned int k = 0;

    while (((size_t)PAGE_SIZE << k) < bytes)
        k++;
    return k;
}

static int check_kinfo(const struct kernel_info *kinfo, const void *host_fdt)
{
    if (!kinfo || !kinfo->d || !host_fdt) {
        printk("construct_domain: kinfo %p, its domain and the host tree %p are required\n",
               (const void *)kinfo, host_fdt);
        return -EINVAL;
    }
    if (!kinfo->kernel) {
        printk("construct_domain: d%u: no kernel\n", kinfo->d->domain_id);
        return -EINVAL;
    }
    if (kinfo->kernel->size == 0 || (kinfo->initrd && kinfo->initrd->size == 0)) {
        printk("construct_domain: d%u: the kernel (%s) or the initrd is empty\n",
               kinfo->d->domain_id, kinfo->kernel->path);
        return -EINVAL;
    }
    if (kinfo->nr_vcpus < 1 || kinfo->nr_vcpus > GUEST_MAX_VCPUS) {
        printk("construct_domain: d%u: %u VCPUs (1 to %d)\n", kinfo->d->domain_id,
               kinfo->nr_vcpus, GUEST_MAX_VCPUS);
        return -EINVAL;
    }
    return 0;
}

/* The kernel at bank 0 + KERNEL_OFFSET, the initrd at the top of the low window. */
static int place_kernel_and_initrd(struct kernel_info *kinfo, paddr_t *top)
{
    const struct guest_mem_bank *b0 = &kinfo->d->mem.bank[0];
    paddr_t low = min(b0->size, (paddr_t)GUEST_LOWMEM_LIMIT);

    *top = b0->start + low;
    if (*top > 0x100000000ULL) {
        printk("construct_domain: d%u: bank 0 at 0x%llx-0x%llx is not below 4 GiB, where a "
               "guest with its MMU off can reach it\n", kinfo->d->domain_id,
               (unsigned long long)b0->start, (unsigned long long)*top);
        return -EINVAL;
    }
    kinfo->kernel_ipa = b0->start + KERNEL_OFFSET;
    kinfo->kernel_size = kinfo->kernel->size;
    kinfo->entry = kinfo->kernel_ipa;
    kinfo->initrd_size = kinfo->initrd ? kinfo->initrd->size : 0;
    if (KERNEL_OFFSET + kinfo->kernel_size + ROUNDUP(kinfo->initrd_size, (paddr_t)PAGE_SIZE) >
        low) {
        printk("construct_domain: d%u: no room: kernel 0x%llx bytes at offset 0x%llx and "
               "initrd 0x%llx bytes in the first 0x%llx bytes of RAM\n", kinfo->d->domain_id,
               (unsigned long long)kinfo->kernel_size, (unsigned long long)KERNEL_OFFSET,
               (unsigned long long)kinfo->initrd_size, (unsigned long long)low);
        return -ENOSPC;
    }
    kinfo->initrd_ipa = kinfo->initrd ? ROUNDDOWN(*top - kinfo->initrd_size, (paddr_t)PAGE_SIZE)
                                      : 0;
    return 0;
}

/* The tree below the initrd (or at the top), above the kernel's end. */
static int place_dtb(struct kernel_info *kinfo, paddr_t top, paddr_t dtb_size)
{
    paddr_t below = kinfo->initrd ? kinfo->initrd_ipa : top;
    paddr_t kernel_end = kinfo->kernel_ipa + kinfo->kernel_size;

    kinfo->dtb_size = dtb_size;
    if (dtb_size > GUEST_DTB_MAX || ROUNDUP(dtb_size, (paddr_t)PAGE_SIZE) > below - kernel_end) {
        printk("construct_domain: d%u: no room for the device tree (0x%llx bytes, at most "
               "0x%llx) between the kernel's end 0x%llx and 0x%llx\n", kinfo->d->domain_id,
               (unsigned long long)dtb_size, (unsigned long long)GUEST_DTB_MAX,
               (unsigned long long)kernel_end, (unsigned long long)below);
        return -ENOSPC;
    }
    kinfo->dtb_ipa = ROUNDDOWN(below - dtb_size, (paddr_t)PAGE_SIZE);
    return 0;
}

/* Room for the host tree's blocks, whatever padding its totalsize has, plus the new nodes. */
#define GUEST_DT_SLACK 4096u

int construct_domain(struct kernel_info *kinfo, const void *host_fdt)
{
    size_t need, size;
    unsigned int order;
    paddr_t top;
    void *scratch;
    int rc = check_kinfo(kinfo, host_fdt);

    if (rc)
        return rc;
    rc = fdt_check_header(host_fdt);
    if (rc) {
        printk("construct_domain: d%u: host tree: %s\n", kinfo->d->domain_id, fdt_strerror(rc));
        return -EINVAL;
    }
    rc = kinfo->direct_map ? allocate_memory_11(kinfo->d, kinfo->mem_bytes)
                           : allocate_memory(kinfo->d, kinfo->mem_bytes);
    if (rc)
        return rc;
    rc = place_kernel_and_initrd(kinfo, &top);
    if (rc)
        return rc;

    need = max(fdt_off_dt_struct(host_fdt) + fdt_size_dt_struct(host_fdt),
               fdt_off_dt_strings(host_fdt) + fdt_size_dt_strings(host_fdt)) + GUEST_DT_SLACK;
    order = order_for(need);
    size = (size_t)PAGE_SIZE << order;
    scratch = alloc_xenheap_pages(order, 0);
    if (!scratch) {
        printk("construct_domain: d%u: no xenheap for a %zu-byte scratch tree\n",
               kinfo->d->domain_id, size);
        return -ENOMEM;
    }
    rc = make_guest_dt(kinfo, host_fdt, scratch, size);
    if (!rc)
        rc = guest_dt_map_devices(kinfo, host_fdt);
    if (kinfo->give_gic_and_timer) {
        struct vgic_dist *vd = &kinfo->d->vgic;

        kinfo->d->given_gic = true;
        vd->kept = arch_gic_kept();
        vd->first_cpu = kinfo->d->vcpu[0]->processor;
        vd->nr_vcpus = kinfo->d->max_vcpus;
        vd->ctlr = 0;
    }
    if (!rc)
        rc = place_dtb(kinfo, top, fdt_totalsize(scratch));
    if (!rc)
        rc = kernel_load(kinfo);
    if (!rc)
        rc = initrd_load(kinfo);
    if (!rc)
        rc = dtb_load(kinfo, scratch);
    /* The kernel is in memory now (each copy was cleaned): no I-cache may hold older code there. */
    if (!rc)
        arch_icache_invalidate_all();
    free_xenheap_pages(scratch, order);
    return rc;
}
