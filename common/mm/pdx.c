/*
 * PDX groups: which 128 MiB pieces of the physical address space hold RAM,
 * and where each one's page_info lives in the frame table (see pdx.h).
 *
 * Groups are numbered in ascending address order so that adjacent RAM stays
 * adjacent in the frame table. When the frame-table window cannot describe
 * all the groups, the highest ones are left out: the caller ignores the RAM
 * in them, so a machine with more RAM than the window boots with what fits.
 */
#include <lib/lib.h>
#include <mm/pdx.h>
#include <test/hooks.h>

uint16_t pdx_group_of[PDX_NR_GROUPS] = { [0 ... PDX_NR_GROUPS - 1] = PDX_GROUP_NONE };
uint16_t mfn_group_of[PDX_NR_GROUPS] = { [0 ... PDX_NR_GROUPS - 1] = PDX_GROUP_NONE };
unsigned long max_pdx;

/* Marker while pdx_init() runs: the group holds RAM but has no pdx yet. */
#define PDX_GROUP_WANTED 0xfffeu

void pdx_reset(void)
{
    for (unsigned long g = 0; g < PDX_NR_GROUPS; g++) {
        pdx_group_of[g] = PDX_GROUP_NONE;
        mfn_group_of[g] = PDX_GROUP_NONE;
    }
    max_pdx = 0;
}

paddr_t pdx_init(const struct mem_range *ram, unsigned int nr, unsigned long max_pages)
{
    const paddr_t pa_limit = (paddr_t)1 << PADDR_BITS;
    unsigned long capacity = max_pages >> PDX_GROUP_SHIFT;
    unsigned long next = 0;

    pdx_reset();

    for (unsigned int i = 0; i < nr; i++) {
        paddr_t start = ram[i].start, end = min(ram[i].end, pa_limit);

        if (start >= end)
            continue;
        for (unsigned long g = mfn_x(paddr_to_mfn(start)) >> PDX_GROUP_SHIFT;
             g <= mfn_x(paddr_to_mfn(end - 1)) >> PDX_GROUP_SHIFT; g++)
            pdx_group_of[g] = PDX_GROUP_WANTED;
    }

    for (unsigned long g = 0; g < PDX_NR_GROUPS; g++) {
        if (pdx_group_of[g] != PDX_GROUP_WANTED)
            continue;
        if (next == capacity) {
            /* Window full: this group and all above it are left out. */
            for (unsigned long h = g; h < PDX_NR_GROUPS; h++)
                pdx_group_of[h] = PDX_GROUP_NONE;
            max_pdx = next << PDX_GROUP_SHIFT;
            return mfn_to_paddr(_mfn(g << PDX_GROUP_SHIFT));
        }
        pdx_group_of[g] = (uint16_t)next;
        mfn_group_of[next] = (uint16_t)g;
        next++;
    }
    max_pdx = next << PDX_GROUP_SHIFT;
    return pa_limit;
}
