/*
 * The Hyp-mode translation registers that give the LPAE descriptor bits their
 * meaning. The descriptor format itself is common (include/mm/lpae.h), because
 * the page-table code that builds descriptors is common and host-tested.
 */
#ifndef ASM_LPAE_H
#define ASM_LPAE_H

#include <mm/lpae.h>

/*
 * HMAIR0: one byte per AttrIndx, in the order of lpae.h's MT_* values:
 * 0xff Normal write-back RW-allocate, 0x04 Device, 0x44 Normal non-cacheable,
 * 0x00 Strongly-ordered.
 */
#define HMAIR0_VALUE        0x004404ff

/* HTCR: T0SZ=0 (whole 32-bit VA), walks inner/outer write-back write-allocate,
 * inner shareable; bit 31 is RES1. */
#define HTCR_VALUE          0x80003500

/* HSCTLR bits. */
#define HSCTLR_M            (1 << 0)    /* MMU on */
#define HSCTLR_A            (1 << 1)    /* alignment checking */
#define HSCTLR_C            (1 << 2)    /* data cache */
#define HSCTLR_I            (1 << 12)   /* instruction cache */
#define HSCTLR_WXN          (1 << 19)   /* writable implies execute-never */
#define HSCTLR_RES1         0x30c50818  /* ARMv7 RES1 bits */

#endif
