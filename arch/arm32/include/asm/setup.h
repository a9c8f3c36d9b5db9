/*
 * Facts about the running image that the boot stub established.
 */
#ifndef ASM_SETUP_H
#define ASM_SETUP_H

#include <lib/types.h>

/* Physical minus virtual address of the image (the boot stub computes it). */
extern uint32_t phys_offset;

paddr_t image_phys_start(void);
paddr_t image_phys_end(void);

/* Physical address of something inside the image (its code, data or BSS). */
static inline paddr_t image_virt_to_phys(const void *va)
{
    return (paddr_t)(uintptr_t)va + phys_offset;
}

/* The device tree the hypervisor booted with (mapped for good). */
const void *boot_fdt(void);

#endif
