/*
 * Writing translation-table entries and the TLB maintenance that must follow.
 *
 * With LPAE, an aligned LDRD/STRD is a single-copy-atomic 64-bit access, so
 * the walker can never see half of a descriptor. Table walks on the CPUs we
 * run on are coherent with the data cache (ID_MMFR3.CohWalk, checked at
 * boot), so a DSB is enough to make a store visible to the walker; no cache
 * cleaning is needed.
 */
#ifndef ASM_PGTABLE_H
#define ASM_PGTABLE_H

#include <asm/lpae.h>
#include <asm/sysregs.h>
#include <lib/types.h>

typedef uint64_t lpae_t;

static inline void write_pte(volatile lpae_t *p, lpae_t v)
{
    __asm__ volatile("strd %Q1, %R1, [%0]" :: "r"(p), "r"(v) : "memory");
}

static inline lpae_t read_pte(const volatile lpae_t *p)
{
    lpae_t v;

    __asm__ volatile("ldrd %Q0, %R0, [%1]" : "=r"(v) : "r"(p) : "memory");
    return v;
}

static inline bool pte_valid(lpae_t v) { return v & LPAE_VALID; }

static inline paddr_t pte_address(lpae_t v) { return v & 0x000000fffffff000ULL; }

/* Invalidates the Hyp TLB entries for one VA on every CPU of the inner
 * shareable domain, and waits for it. Call after the store's DSB. */
static inline void flush_xen_tlb_va(vaddr_t va)
{
    WRITE_CP32(va & ~0xfffUL, TLBIMVAHIS);
    dsb(ish);
    isb();
}

static inline void flush_xen_tlb_all(void)
{
    WRITE_CP32(0, TLBIALLHIS);
    dsb(ish);
    isb();
}

extern lpae_t boot_root[LPAE_ENTRIES];
extern lpae_t boot_second[LPAE_ENTRIES];
extern lpae_t boot_third_image[LPAE_ENTRIES];
extern lpae_t boot_third_fixmap[LPAE_ENTRIES];
/* The boot stub's identity page, for the MMU switch (boot/head.S). */
extern lpae_t boot_identity_second[LPAE_ENTRIES];
extern lpae_t boot_identity_third[LPAE_ENTRIES];

/* Point a fixmap slot at a 4 KiB frame (break-before-make if it was in use). */
void set_fixmap(unsigned int slot, paddr_t pa, bool device);
void clear_fixmap(unsigned int slot);

/* Where a VA translates for a Hyp read: PA, or ~0 if it would fault. */
paddr_t arch_translate_va(vaddr_t va);

#endif
