/*
 * LPAE (long-descriptor) translation table format, as used by Hyp mode's
 * stage-1 translation (ARM ARM B3.6). 64-bit descriptors, three levels for a
 * 32-bit VA: level 1 has 4 entries of 1 GiB, level 2 entries map 2 MiB,
 * level 3 entries map 4 KiB pages. Output addresses are 40 bits.
 *
 * Lower attributes live in bits [11:2], upper attributes in [63:52]. In the
 * Hyp regime AP[1] (bit 6) is RES1 and nG has no meaning.
 */
#ifndef ASM_LPAE_H
#define ASM_LPAE_H

#ifndef __ASSEMBLER__
#include <types.h>
#endif

/* Descriptor type, bits [1:0]. */
#define LPAE_VALID          0x1
#define LPAE_TABLE          0x3     /* level 1/2: next-level table */
#define LPAE_BLOCK          0x1     /* level 1/2: 1 GiB / 2 MiB block */
#define LPAE_PAGE           0x3     /* level 3: 4 KiB page */

/* Lower attributes. AttrIndx selects a byte of HMAIR0/1. */
#define LPAE_ATTRINDX(n)    ((n) << 2)
#define LPAE_AP_RO          (1 << 7)    /* AP[2]: read-only */
#define LPAE_AP1            (1 << 6)    /* AP[1]: RES1 in Hyp mode */
#define LPAE_SH_INNER       (3 << 8)    /* inner shareable */
#define LPAE_AF             (1 << 10)   /* access flag: set, or the first access faults */

/* Upper attributes, as bits of the descriptor's high word. */
#define LPAE_HI_CONTIG      (1 << 20)   /* bit 52 */
#define LPAE_HI_XN          (1 << 22)   /* bit 54: execute never */
/* Software-defined bits [58:55] (high word bits 26:23): free for the OS. */
#define LPAE_HI_SW_SHIFT    23

/* HMAIR0 attribute indexes; the register value sets these four bytes. */
#define MT_NORMAL           0   /* 0xff: Normal, inner/outer write-back, RW-allocate */
#define MT_DEVICE           1   /* 0x04: Device (nGnRE) */
#define MT_NORMAL_NC        2   /* 0x44: Normal, non-cacheable */
#define MT_STRONGLY_ORDERED 3   /* 0x00: Strongly-ordered */
#define HMAIR0_VALUE        0x004404ff

/* Ready-made low words for the boot stub. */
#define LPAE_LO_NORMAL      (LPAE_ATTRINDX(MT_NORMAL) | LPAE_AP1 | LPAE_SH_INNER | LPAE_AF)
#define LPAE_LO_DEVICE      (LPAE_ATTRINDX(MT_DEVICE) | LPAE_AP1 | LPAE_AF)

#define LPAE_ENTRIES        512
#define LPAE_L1_SHIFT       30
#define LPAE_L2_SHIFT       21
#define LPAE_L3_SHIFT       12

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
