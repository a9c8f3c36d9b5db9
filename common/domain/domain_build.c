/*
 * A domain's RAM: allocate_memory(), allocate_memory_11() and relinquish_memory().
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
#include <domain/domain_build.h>
#include <lib/errno.h>
#include <lib/lib.h>
#include <mm/mm.h>
#include <mm/p2m.h>
#include <mm/page_alloc.h>
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
            struct page_info *pg = alloc_domheap_pages(d, k, 0);

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
        struct page_info *pg = alloc_domheap_pages(d, k, 0);
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
