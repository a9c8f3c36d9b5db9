/*
 * The ARM side of the memory seam (include/arch/mm.h): mapping the frame
 * table and the xenheap with 2 MiB blocks in the hypervisor's page tables.
 *
 * Both windows are mapped once, at boot, into entries that were empty, so no
 * break-before-make is needed: a DSB makes the new entries visible to the
 * walker and an ISB to the instructions after it. Faulting entries are never
 * held in a TLB, so nothing needs invalidating either. An entry that is
 * already valid here means the caller asked twice: that is a bug, not a
 * remap.
 */
#include <arch/mm.h>
#include <asm/cache.h>
#include <asm/layout.h>
#include <asm/pgtable.h>
#include <asm/setup.h>
#include <lib/lib.h>

#define BLOCK_SIZE MB(2UL)

/* Level-2 table for the xenheap window, VA 0x40000000-0x7fffffff. */
static lpae_t xenheap_second[LPAE_ENTRIES] __attribute__((aligned(4096)));

static lpae_t normal_block(paddr_t pa)
{
    return pa | LPAE_BLOCK | LPAE_LO_NORMAL | ((lpae_t)LPAE_HI_XN << 32);
}

static void map_blocks(lpae_t *second, vaddr_t table_base, vaddr_t va, paddr_t pa, size_t bytes)
{
    BUG_ON(!IS_ALIGNED(va, BLOCK_SIZE) || !IS_ALIGNED(pa, (paddr_t)BLOCK_SIZE) ||
           !IS_ALIGNED(bytes, BLOCK_SIZE));
    for (size_t done = 0; done < bytes; done += BLOCK_SIZE) {
        unsigned int index = (unsigned int)((va + done - table_base) >> LPAE_L2_SHIFT);

        BUG_ON(index >= LPAE_ENTRIES);
        BUG_ON(pte_valid(read_pte(&second[index])));
        write_pte(&second[index], normal_block(pa + done));
    }
    dsb(ishst);
    isb();
}

size_t arch_frametable_window(void)
{
    return FRAMETABLE_VIRT_SIZE;
}

void *arch_frametable_base(void)
{
    return (void *)FRAMETABLE_VIRT_START;
}

void arch_map_frametable(size_t offset, paddr_t pa, size_t bytes)
{
    BUG_ON(offset + bytes > FRAMETABLE_VIRT_SIZE);
    map_blocks(boot_second, 0, FRAMETABLE_VIRT_START + offset, pa, bytes);
}

size_t arch_xenheap_window(void)
{
    return XENHEAP_VIRT_SIZE;
}

void *arch_map_xenheap(paddr_t start, paddr_t end)
{
    unsigned int slot = XENHEAP_VIRT_START >> LPAE_L1_SHIFT;
    paddr_t table_pa = image_virt_to_phys(xenheap_second);

    BUG_ON(end - start > XENHEAP_VIRT_SIZE);
    map_blocks(xenheap_second, XENHEAP_VIRT_START, XENHEAP_VIRT_START, start,
               (size_t)(end - start));
    /* The level-1 slot last held the boot identity map, removed and flushed since. */
    BUG_ON(pte_valid(read_pte(&boot_root[slot])));
    write_pte(&boot_root[slot], table_pa | LPAE_TABLE);
    dsb(ishst);
    isb();
    return (void *)XENHEAP_VIRT_START;
}

void arch_icache_invalidate_all(void)
{
    dsb(ish);
    WRITE_CP32(0, ICIALLUIS);
    WRITE_CP32(0, BPIALLIS);
    dsb(ish);
    isb();
}

void arch_dcache_clean_inval(const void *va, size_t size)
{
    uintptr_t line = dcache_line_bytes();
    uintptr_t p = (uintptr_t)va & ~(line - 1);

    dsb(ish);
    for (; p < (uintptr_t)va + size; p += line)
        WRITE_CP32(p, DCCIMVAC);
    dsb(ish);
}
