/*
 * The p2m: each domain's stage-2 translation, from guest-physical (IPA) frames to machine
 * frames, in LPAE stage-2 tables that the MMU walks with the domain's VTTBR.
 *
 * Shape: a 40-bit IPA space (1 TiB) starting at level 1, so the root is two concatenated
 * 4 KiB tables (1024 entries of 1 GiB), 8 KiB aligned; levels 2 and 3 are ordinary 4 KiB
 * tables. Every table page comes from the domheap and common code reaches it only through
 * map_domain_page(): no table is ever assumed mapped.
 *
 * Entries: RAM (p2m_ram_rw) is Normal write-back, inner shareable, readable, writable and
 * executable by the guest; MMIO (p2m_mmio_direct_dev) is Device memory, readable and
 * writable, never executable. Pages of 4 KiB, and 2 MiB or 1 GiB blocks when the IPA, the
 * MFN and the remaining length allow it (and the caller does). The p2m type is kept in the
 * descriptor's software bits, so a lookup returns it.
 *
 * Updates never overwrite a valid entry with another valid one: a valid entry that must
 * change (removed, a block split into a table, an empty table replaced by a block) is
 * broken first (write 0, DSB, TLB invalidation for the domain's VMID, DSB), then written.
 * Mapping over something already mapped is refused: remove it first.
 */
#ifndef MM_P2M_H
#define MM_P2M_H

#include <lib/spinlock.h>
#include <lib/typesafe.h>
#include <lib/types.h>
#include <mm/lpae.h>

struct domain;

/* Guest frame number: IPA >> PAGE_SHIFT. Gives gfn_t, _gfn(), gfn_x(). */
TYPE_SAFE(unsigned long, gfn)
#define INVALID_GFN _gfn(~0UL)

static inline gfn_t gfn_add(gfn_t gfn, unsigned long i) { return _gfn(gfn_x(gfn) + i); }
static inline paddr_t gfn_to_gaddr(gfn_t gfn) { return (paddr_t)gfn_x(gfn) << PAGE_SHIFT; }
static inline gfn_t gaddr_to_gfn(paddr_t ga) { return _gfn((unsigned long)(ga >> PAGE_SHIFT)); }

/* IPA size and what it allows. */
#define P2M_IPA_BITS        40
#define P2M_MAX_GFN         (1UL << (P2M_IPA_BITS - PAGE_SHIFT))   /* first GFN out of range */
#define P2M_ROOT_ORDER      1       /* two concatenated level-1 tables */
#define P2M_ROOT_ENTRIES    (LPAE_ENTRIES << P2M_ROOT_ORDER)

/*
 * VTCR for this layout (ARMv7 B4.1.159):
 *   T0SZ[3:0] = 0b1000 (-8: IPA size 32 - (-8) = 40 bits) with S[4] = 1 (T0SZ's sign),
 *   so bits [4:0] read 24; SL0[7:6] = 0b01 (walks start at level 1);
 *   IRGN0[9:8] = ORGN0[11:10] = 0b01 (walks cached write-back write-allocate),
 *   SH0[13:12] = 0b11 (inner shareable); bit 31 is RES1.
 */
#define VTCR_T0SZ_40BIT     0x18u
#define VTCR_SL0_L1         (1u << 6)
#define VTCR_IRGN0_WBWA     (1u << 8)
#define VTCR_ORGN0_WBWA     (1u << 10)
#define VTCR_SH0_INNER      (3u << 12)
#define VTCR_RES1           (1u << 31)
#define P2M_VTCR            (VTCR_RES1 | VTCR_SH0_INNER | VTCR_ORGN0_WBWA | VTCR_IRGN0_WBWA | \
                             VTCR_SL0_L1 | VTCR_T0SZ_40BIT)

/* VTTBR: BADDR (the root's PA, 8 KiB aligned here) and VMID[55:48]. */
#define VTTBR_VMID_SHIFT    48
#define P2M_NR_VMIDS        256     /* 8-bit VMIDs; 0 stays the hypervisor's (no guest) */

/* Stage-2 descriptor bits (ARMv7 B3.6.2): lower attributes in [11:2]. */
#define S2_MEMATTR(x)       ((lpae_t)(x) << 2)
#define S2_MEMATTR_MASK     S2_MEMATTR(0xf)
#define S2_MEMATTR_NORMAL_WB S2_MEMATTR(0xf)    /* outer WB [5:4] = 11, inner WB [3:2] = 11 */
#define S2_MEMATTR_DEVICE   S2_MEMATTR(0x1)     /* Device */
#define S2_AP_READ          ((lpae_t)1 << 6)
#define S2_AP_WRITE         ((lpae_t)1 << 7)
#define S2_SH_INNER         ((lpae_t)3 << 8)
#define S2_AF               ((lpae_t)1 << 10)
#define S2_XN               LPAE_XN             /* bit 54 */
#define S2_TYPE_SHIFT       55                  /* software bits [58:55]: the p2m type */
#define S2_TYPE_MASK        ((lpae_t)0xf << S2_TYPE_SHIFT)

typedef enum {
    p2m_invalid = 0,        /* nothing mapped */
    p2m_ram_rw,             /* guest RAM: Normal write-back, RWX */
    p2m_mmio_direct_dev,    /* a device's registers: Device, RW, XN */
    p2m_nr_types,
} p2m_type_t;

/* The largest mapping p2m_set_entry_limit() may use. */
enum p2m_block_limit {
    P2M_PAGES_ONLY = 3,     /* 4 KiB pages only */
    P2M_UP_TO_2M = 2,       /* pages and 2 MiB blocks */
    P2M_UP_TO_1G = 1,       /* pages, 2 MiB and 1 GiB blocks (the default) */
};

struct p2m_domain {
    spinlock_t lock;            /* every update and lookup */
    struct domain *domain;
    mfn_t root;                 /* first of the two root pages; INVALID_MFN before init */
    uint8_t vmid;               /* 0: none */
    uint64_t vttbr;             /* root | VMID << 48 */
    unsigned long nr_tables;    /* level-2 and level-3 table pages, for tests and teardown */
};

/* The VMID allocator: 1..255. Returns -EBUSY (with a message) when all are taken. */
int p2m_alloc_vmid(uint8_t *vmid);
void p2m_free_vmid(uint8_t vmid);
/* VMIDs in use now (tests). */
unsigned int p2m_vmids_in_use(void);

/* The domain's p2m (d->p2m). */
struct p2m_domain *p2m_get_hostp2m(struct domain *d);

/*
 * Allocates the root (order-1 domheap block, zeroed through map_domain_page) and a VMID.
 * 0, -ENOMEM or -EBUSY (no VMID left); nothing is kept on failure.
 */
int p2m_init(struct domain *d);

/*
 * Maps nr guest frames from gfn to nr machine frames from mfn with type t, or removes
 * the mappings of the range when t is p2m_invalid (mfn must then be INVALID_MFN).
 * Uses the largest mapping (up to 1 GiB) that the alignment of gfn and mfn and the
 * remaining length allow. Returns 0; -EINVAL for a range outside the 40-bit IPA space, an
 * MFN beyond 40 bits, a bad type or a missing INVALID_MFN; -EBUSY if part of the range is
 * already mapped (nothing is changed then); -ENOMEM if a table cannot be allocated (what
 * was mapped before stays mapped). Refusals print why.
 */
int p2m_set_entry(struct p2m_domain *p2m, gfn_t gfn, unsigned long nr, mfn_t mfn,
                  p2m_type_t t);
/* The same with the largest mapping limited by the caller. */
int p2m_set_entry_limit(struct p2m_domain *p2m, gfn_t gfn, unsigned long nr, mfn_t mfn,
                        p2m_type_t t, enum p2m_block_limit limit);

/*
 * The machine frame guest frame gfn maps to, and its type in *t (may be NULL);
 * INVALID_MFN and p2m_invalid if none. *level (may be NULL) gets the level of the entry
 * found (1: 1 GiB block, 2: 2 MiB block, 3: page), 0 if none.
 */
mfn_t p2m_lookup(struct p2m_domain *p2m, gfn_t gfn, p2m_type_t *t);
mfn_t p2m_lookup_level(struct p2m_domain *p2m, gfn_t gfn, p2m_type_t *t, unsigned int *level);

/* The whole descriptor that maps gfn (tests read its attributes); 0 if none. */
lpae_t p2m_get_entry(struct p2m_domain *p2m, gfn_t gfn, unsigned int *level);

/*
 * RAM: 2^order frames from mfn at gfn, as p2m_ram_rw. Every frame the frame table
 * describes must be an allocated domheap page of d or of nobody, and order at most
 * MAX_ORDER: else -EINVAL, printed with the MFN and why, and nothing mapped.
 */
int guest_physmap_add_page(struct domain *d, gfn_t gfn, mfn_t mfn, unsigned int order);
/* Removes 2^order frames at gfn, which must map mfn onwards (-EINVAL otherwise). */
int guest_physmap_remove_page(struct domain *d, gfn_t gfn, mfn_t mfn, unsigned int order);
/* MMIO: nr frames of a device from mfn at gfn, as Device memory the guest cannot execute. */
int map_regions_p2mt(struct domain *d, gfn_t gfn, unsigned long nr, mfn_t mfn, p2m_type_t t);

/*
 * Frees every table page and the root, and gives back the VMID (after invalidating the
 * VMID's TLB entries). The domain's own frames are not touched. The p2m may be
 * initialised again afterwards.
 */
void p2m_teardown(struct domain *d);

#endif
