/*
 * The hypervisor's virtual address map (ARM32, LPAE, Hyp mode, 32-bit VA):
 *
 *   0x00000000 - 0x001fffff   unmapped: NULL dereferences fault
 *   0x00200000 - 0x003fffff   hypervisor image: text RX, rodata R, data/bss RW XN
 *   0x00400000 - 0x009fffff   (room for a larger image; unmapped today)
 *   0x00a00000 - 0x00bfffff   fixmap: UARTs, temporary 4 KiB slots
 *   0x00c00000 - 0x00ffffff   device tree, read-only
 *   0x01000000 - 0x011fffff   CPU stacks: per CPU a 32 KiB slot, holding (from the
 *                             bottom) a 4 KiB emergency stack, a 12 KiB hole that
 *                             is never mapped, and the 16 KiB stack
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
#define STACKS_VIRT_START   _AC(0x01000000, UL)
#define STACKS_VIRT_SIZE    MB(_AC(2, UL))
#define FRAMETABLE_VIRT_START _AC(0x02000000, UL)
#define FRAMETABLE_VIRT_SIZE  MB(_AC(96, UL))
#define VMAP_VIRT_START     _AC(0x10000000, UL)
#define VMAP_VIRT_SIZE      MB(_AC(768, UL))
#define XENHEAP_VIRT_START  _AC(0x40000000, UL)
#define XENHEAP_VIRT_SIZE   GB(_AC(1, UL))
#define DOMHEAP_VIRT_START  _AC(0x80000000, UL)
#define DOMHEAP_VIRT_SIZE   GB(_AC(2, UL))

/*
 * The CPU stacks (boot/head.S maps them, entry.S checks them). CPU n's slot
 * starts at STACKS_VIRT_START + n * STACK_SLOT_SIZE and is aligned to its
 * size, twice STACK_SIZE: the stack is the slot's upper half, so an SP with
 * bit STACK_SIZE clear lies below a stack, which the exception vectors can
 * test without a free register. The lower half is the hole that catches an
 * overflow, except for its first page: the emergency stack the vectors move
 * to when SP can no longer be used.
 */
#define STACK_SIZE          _AC(16384, UL)
#define STACK_SLOT_SHIFT    15
#define STACK_SLOT_SIZE     (_AC(1, UL) << STACK_SLOT_SHIFT)
#define EMERGENCY_STACK_SIZE _AC(4096, UL)
#define STACK_CPUS          8       /* slots: NR_CPUS (asm/smp.h checks it) */
#define STACK_TOP(cpu)      (STACKS_VIRT_START + ((cpu) + 1) * STACK_SLOT_SIZE)
#define STACK_BOTTOM(cpu)   (STACK_TOP(cpu) - STACK_SIZE)
#define EMERGENCY_STACK_TOP(cpu) (STACKS_VIRT_START + (cpu) * STACK_SLOT_SIZE + EMERGENCY_STACK_SIZE)

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
