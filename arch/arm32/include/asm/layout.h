/*
 * The hypervisor's virtual address map (ARM32, LPAE, Hyp mode, 32-bit VA):
 *
 *   0x00000000 - 0x001fffff   unmapped: NULL dereferences fault
 *   0x00200000 - 0x003fffff   hypervisor image: text RX, rodata R, data/bss RW XN
 *   0x00400000 - 0x009fffff   (room for a larger image; unmapped today)
 *   0x00a00000 - 0x00bfffff   fixmap: UARTs, temporary 4 KiB slots
 *   0x00c00000 - 0x00ffffff   device tree, read-only
 *   0x02000000 - 0x07ffffff   frame table: struct page_info per RAM page
 *   0x10000000 - 0x3fffffff   vmap: vmap/ioremap/map_domain_page_global
 *   0x40000000 - 0x7fffffff   xenheap direct map (1 GiB)
 *   0x80000000 - 0xffffffff   domheap window for map_domain_page (per VCPU)
 *
 * Physical addresses are up to 40 bits (LPAE); only the xenheap is mapped
 * permanently, which is why the xenheap/domheap split exists at all.
 */
#ifndef ASM_LAYOUT_H
#define ASM_LAYOUT_H

#ifdef __ASSEMBLER__
#define _AC(x, suffix) x
#else
#define _AC(x, suffix) x##suffix
#endif

#define MB(x) ((x) << 20)
#define GB(x) ((x) << 30)

#define XEN_VIRT_START      _AC(0x00200000, UL)
#define XEN_VIRT_SIZE       MB(_AC(2, UL))
#define FIXMAP_VIRT_START   _AC(0x00a00000, UL)
#define FIXMAP_VIRT_SIZE    MB(_AC(2, UL))
#define DTB_VIRT_START      _AC(0x00c00000, UL)
#define DTB_VIRT_SIZE       MB(_AC(4, UL))
#define DTB_MAX_SIZE        MB(_AC(2, UL))
#define FRAMETABLE_VIRT_START _AC(0x02000000, UL)
#define FRAMETABLE_VIRT_SIZE  MB(_AC(96, UL))
#define VMAP_VIRT_START     _AC(0x10000000, UL)
#define VMAP_VIRT_SIZE      MB(_AC(768, UL))
#define XENHEAP_VIRT_START  _AC(0x40000000, UL)
#define XENHEAP_VIRT_SIZE   GB(_AC(1, UL))
#define DOMHEAP_VIRT_START  _AC(0x80000000, UL)
#define DOMHEAP_VIRT_SIZE   GB(_AC(2, UL))

/* Fixmap slots, 4 KiB each. */
#define FIXMAP_EARLY_UART   0
#define FIXMAP_CONSOLE      1
#define FIXMAP_PT           2    /* a table being edited before this CPU has a domheap window */
#define FIXMAP_DOMAIN_PAGE  16   /* first of the temporary map_domain_page slots */
#define FIXMAP_DOMAIN_PAGE_PER_CPU 8
#define FIXMAP_ADDR(slot)   (FIXMAP_VIRT_START + ((slot) << 12))

/* Where QEMU's virt machine puts things (used only before the DT is read). */
#define EARLY_UART_PA       _AC(0x09000000, UL)
#define DEFAULT_DTB_PA      _AC(0x40000000, ULL)

#endif
