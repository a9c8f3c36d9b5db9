/*
 * LPAE (long-descriptor) translation table format, as used by Hyp mode's
 * stage-1 translation (ARM ARM B3.6). 64-bit descriptors, three levels for a
 * 32-bit VA: level 1 has 4 entries of 1 GiB, level 2 entries map 2 MiB,
 * level 3 entries map 4 KiB pages. Output addresses are 40 bits.
 *
 * This is common code's view of the format: the page-table code in
 * common/mm/pt.c builds and reads descriptors with it on the host as on the
 * image, so that the host tests exercise exactly the bits the MMU will see.
 * The register values that give these bits their meaning (HMAIR0, HTCR,
 * HSCTLR) stay in the arch's asm/lpae.h.
 *
 * Lower attributes live in bits [11:2], upper attributes in [63:52]. In the
 * Hyp regime AP[1] (bit 6) is RES1 and nG has no meaning.
 *
 * Usable from assembly: only plain constants outside __ASSEMBLER__ guards.
 */
#ifndef LPAE_H
#define LPAE_H

#ifndef __ASSEMBLER__
#include <lib/types.h>
#endif

/* Descriptor type, bits [1:0]. */
#define LPAE_VALID          0x1
#define LPAE_TYPE_MASK      0x3
#define LPAE_TABLE          0x3     /* level 1/2: next-level table */
#define LPAE_BLOCK          0x1     /* level 1/2: 1 GiB / 2 MiB block */
#define LPAE_PAGE           0x3     /* level 3: 4 KiB page */

/* Lower attributes. AttrIndx selects a byte of HMAIR0/1. */
#define LPAE_ATTRINDX(n)    ((n) << 2)
#define LPAE_ATTRINDX_MASK  (7 << 2)
#define LPAE_AP_RO          (1 << 7)    /* AP[2]: read-only */
#define LPAE_AP1            (1 << 6)    /* AP[1]: RES1 in Hyp mode */
#define LPAE_SH_INNER       (3 << 8)    /* inner shareable */
#define LPAE_SH_MASK        (3 << 8)
#define LPAE_AF             (1 << 10)   /* access flag: set, or the first access faults */

/* Upper attributes, as bits of the descriptor's high word. */
#define LPAE_HI_CONTIG      (1 << 20)   /* bit 52 */
#define LPAE_HI_XN          (1 << 22)   /* bit 54: execute never */
/* Software-defined bits [58:55] (high word bits 26:23): free for the OS. */
#define LPAE_HI_SW_SHIFT    23

/*
 * Memory types: AttrIndx values. asm/lpae.h's HMAIR0 value gives each index
 * its meaning; the two must change together.
 */
#define MT_NORMAL           0   /* Normal, inner/outer write-back, RW-allocate */
#define MT_DEVICE           1   /* Device (nGnRE) */
#define MT_NORMAL_NC        2   /* Normal, non-cacheable */
#define MT_STRONGLY_ORDERED 3   /* Strongly-ordered */
#define MT_COUNT            4   /* indexes HMAIR0 defines; 4-7 (HMAIR1) are unused */

/* Ready-made low words (the boot stub uses them too). */
#define LPAE_LO_NORMAL      (LPAE_ATTRINDX(MT_NORMAL) | LPAE_AP1 | LPAE_SH_INNER | LPAE_AF)
#define LPAE_LO_DEVICE      (LPAE_ATTRINDX(MT_DEVICE) | LPAE_AP1 | LPAE_AF)

#define LPAE_ENTRIES        512
#define LPAE_ENTRY_SHIFT    9
#define LPAE_L1_SHIFT       30
#define LPAE_L2_SHIFT       21
#define LPAE_L3_SHIFT       12

#ifndef __ASSEMBLER__

typedef uint64_t lpae_t;

/* Output address bits [39:12]: the same mask for tables, blocks and pages. */
#define LPAE_ADDR_MASK      0x000000fffffff000ULL
#define LPAE_XN             ((lpae_t)LPAE_HI_XN << 32)
#define LPAE_SW(n)          ((lpae_t)1 << (32 + LPAE_HI_SW_SHIFT + (n)))   /* n = 0..3 */

/* Bytes mapped by one entry of a level (1..3). */
static inline uint64_t lpae_level_size(unsigned int level)
{
    return 1ULL << (LPAE_L3_SHIFT + (3 - level) * LPAE_ENTRY_SHIFT);
}

static inline unsigned int lpae_level_shift(unsigned int level)
{
    return LPAE_L3_SHIFT + (3 - level) * LPAE_ENTRY_SHIFT;
}

/* Index of va's entry in a table of the given level. */
static inline unsigned int lpae_index(unsigned int level, uint64_t va)
{
    return (unsigned int)(va >> lpae_level_shift(level)) & (LPAE_ENTRIES - 1);
}

static inline bool lpae_is_valid(lpae_t e)
{
    return e & LPAE_VALID;
}

/* A next-level table: the table type at levels 1 and 2 (at level 3 it means a page). */
static inline bool lpae_is_table(lpae_t e, unsigned int level)
{
    return level < 3 && (e & LPAE_TYPE_MASK) == LPAE_TABLE;
}

/*
 * Maps memory: a block at levels 1-2, a page at level 3. The block type at
 * level 3 is reserved and faults, so it is not a mapping.
 */
static inline bool lpae_is_mapping(lpae_t e, unsigned int level)
{
    return (e & LPAE_TYPE_MASK) == (level == 3 ? LPAE_PAGE : LPAE_BLOCK);
}

static inline paddr_t lpae_paddr(lpae_t e)
{
    return e & LPAE_ADDR_MASK;
}

static inline unsigned int lpae_attrindx(lpae_t e)
{
    return (unsigned int)(e & LPAE_ATTRINDX_MASK) >> 2;
}

#endif /* !__ASSEMBLER__ */

#endif
