/*
 * map_domain_page, first version: a per-CPU stack of 4 KiB fixmap slots.
 *
 * Each mapping takes the next free slot and must be released in reverse
 * order (like Linux's kmap_local). Slots are cleared on unmap, so a new
 * mapping always lands in an empty entry: break-before-make holds without a
 * flush on the map path, and an access through a stale pointer after unmap
 * faults. Nesting deeper than the stack is a panic that names the frames.
 *
 * This serves the heap (scrubbing, poisoning, tests) until the per-VCPU
 * domheap window replaces it.
 */
#include <asm/layout.h>
#include <asm/pgtable.h>
#include <domain_page.h>
#include <lib.h>

static mfn_t slot_mfn[FIXMAP_DOMAIN_PAGE_PER_CPU];
static unsigned int depth;

void *map_domain_page(mfn_t mfn)
{
    unsigned int slot;

    if (depth == FIXMAP_DOMAIN_PAGE_PER_CPU) {
        for (unsigned int i = 0; i < depth; i++)
            printk("map_domain_page: slot %u holds mfn 0x%lx\n", i, slot_mfn[i]);
        panic("map_domain_page(0x%lx): all %u temporary slots are in use", mfn, depth);
    }
    slot = FIXMAP_DOMAIN_PAGE + depth;
    slot_mfn[depth++] = mfn;
    set_fixmap(slot, mfn_to_paddr(mfn), false);
    return (void *)FIXMAP_ADDR(slot);
}

void unmap_domain_page(const void *va)
{
    vaddr_t top;

    if (!va)
        return;
    top = FIXMAP_ADDR(FIXMAP_DOMAIN_PAGE + depth - 1);
    if (depth == 0 || ((vaddr_t)va & PAGE_MASK) != top)
        panic("unmap_domain_page(%p): not the most recent mapping of this CPU", va);
    depth--;
    clear_fixmap(FIXMAP_DOMAIN_PAGE + depth);
}
