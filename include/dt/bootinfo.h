/*
 * Boot information read from the device tree.
 *
 * The device tree is external input: nothing in it may trigger an assert or
 * a fault. bootinfo_parse() validates it with libfdt and either fills a
 * struct bootinfo or returns an error with a message that names the node,
 * the property and what is wrong.
 *
 * Usable RAM is every /memory node's reg entries minus the reserved ranges
 * (/memreserve/ entries, /reserved-memory children with a reg, the DTB
 * itself, and the hypervisor image), kept sorted and page-aligned inwards.
 * RAM comes from the root's children whose device_type is "memory" (the
 * name does not matter), read with the root's #address-cells/#size-cells;
 * nodes with status other than "okay" are skipped, here and in
 * /reserved-memory.
 *
 * Boot modules (the kernel, initrd and other blobs a loader put in RAM for
 * the hypervisor to hand to a domain) are described as in Xen's
 * docs/misc/arm/device-tree/booting.txt: children of /chosen compatible with
 * "multiboot,kernel", "multiboot,ramdisk" or "multiboot,module" (a node that
 * lists "multiboot,kernel" or "multiboot,ramdisk" before or after
 * "multiboot,module" is a kernel or ramdisk), with one reg entry read with
 * /chosen's #address-cells/#size-cells (2 and 1 when absent, as libfdt's
 * defaults) and an optional "bootargs" string. Disabled nodes are skipped.
 * Each module must lie inside one RAM bank and overlap no other module, the
 * image or the DTB; it is added to the reserved ranges (RESV_MODULE), so the
 * heaps never hand its frames out.
 *
 * The blob must be 8-byte aligned, format version 16 or later, with its
 * blocks aligned as the format requires; anything else is refused before
 * libfdt walks it (see check_blob() in common/dt/bootinfo.c for why).
 *
 * Every physical address taken from the tree is checked to lie below 2^40
 * (BOOTINFO_PA_LIMIT) without wrapping before anything uses it: RAM,
 * /memreserve/ and /reserved-memory ranges, boot modules, the console.
 *
 * Device nodes must not lie in RAM: an enabled node with a compatible and a
 * reg in the root's address space (a child of the root, or below nodes with
 * an empty "ranges"), other than memory and outside /chosen and
 * /reserved-memory, whose reg overlaps a RAM bank makes the tree
 * contradict itself, and it is refused naming both nodes; so is a console
 * inside RAM wherever it sits.
 *
 * What is an error and what is only a warning:
 *  - errors (parse fails): a bad header or structure block, malformed or
 *    unsupported memory/reserved-memory/cpu properties, RAM or a reserved
 *    range beyond the 40-bit LPAE limit, overlapping RAM banks, no RAM, a
 *    device node or the console inside RAM, an
 *    unterminated bootargs, more ranges than the fixed arrays hold; a boot
 *    module whose reg is missing, malformed or of size 0, that goes beyond
 *    the 40-bit limit, lies outside every RAM bank or overlaps another
 *    module, the image or the DTB; more than BOOTINFO_MAX_MODULES modules;
 *  - warnings (parse succeeds, the message is kept in bi->warning[] and
 *    printed by bootinfo_print): no /cpus or no cpu node in it (nr_cpus is
 *    0: the boot CPU runs alone, as in Xen), more CPUs than
 *    BOOTINFO_MAX_CPUS (the first ones are kept), bootargs (of /chosen or
 *    of a module) longer than the buffer (cut), and anything else wrong with
 *    the console description (a reg beyond 2^40, registers that do not fit
 *    word-aligned in its page), because the hypervisor can boot without a
 *    console it found in the tree.
 */
#ifndef BOOTINFO_H
#define BOOTINFO_H

#include <lib/types.h>

#define BOOTINFO_MAX_BANKS 64      /* RAM ranges, after carving */
#define BOOTINFO_MAX_RESERVED 32
#define BOOTINFO_MAX_CPUS 8
#define BOOTINFO_BOOTARGS_LEN 256
#define BOOTINFO_PATH_LEN 128
#define BOOTINFO_ERR_LEN 200
#define BOOTINFO_MAX_WARNINGS 4    /* kept; nr_warnings counts them all */
#define BOOTINFO_MAX_MODULES 8

/* LPAE gives a 40-bit physical address space: RAM must end at or below this. */
#define BOOTINFO_PA_LIMIT ((paddr_t)1 << 40)

/*
 * The PL011 registers the console uses, DR (0x00) to FR (0x18): a console's
 * reg must hold them inside one page, the one page the console maps.
 */
#define PL011_REGS_USED 0x1c

/* fdt_pa value meaning "where the blob lives is unknown: do not reserve it". */
#define BOOTINFO_PA_UNKNOWN (~(paddr_t)0)

struct mem_range {
    paddr_t start;
    paddr_t end;              /* exclusive */
};

enum reserved_kind {
    RESV_MEMRESERVE,          /* /memreserve/ entry in the header */
    RESV_RESERVED_MEMORY,     /* child of /reserved-memory */
    RESV_DTB,                 /* the device tree blob itself */
    RESV_IMAGE,               /* the hypervisor image */
    RESV_MODULE,              /* a boot module (struct bootmodule) */
};

struct reserved_range {
    paddr_t start;
    paddr_t end;              /* exclusive */
    enum reserved_kind kind;
};

enum bootmodule_kind {
    BOOTMOD_KERNEL,           /* "multiboot,kernel" */
    BOOTMOD_RAMDISK,          /* "multiboot,ramdisk" */
    BOOTMOD_OTHER,            /* "multiboot,module" alone */
};

/* A blob the loader left in RAM for a domain. Neither start nor size need be page aligned. */
struct bootmodule {
    enum bootmodule_kind kind;
    paddr_t start;
    paddr_t size;                           /* bytes, > 0 */
    char cmdline[BOOTINFO_BOOTARGS_LEN];    /* its bootargs, "" if absent */
    char path[BOOTINFO_PATH_LEN];           /* the node it came from */
};

struct bootinfo {
    /* /memory nodes' reg entries exactly as the tree gives them, sorted by address */
    struct mem_range ram[BOOTINFO_MAX_BANKS];
    unsigned int nr_ram;
    /* RAM minus reserved ranges, page-aligned inwards, sorted */
    struct mem_range usable[BOOTINFO_MAX_BANKS];
    unsigned int nr_usable;
    /* sorted by start; they may overlap each other and need not lie in RAM */
    struct reserved_range reserved[BOOTINFO_MAX_RESERVED];
    unsigned int nr_reserved;

    unsigned int nr_cpus;                   /* cpus recorded in cpu_mpidr[] (<= MAX; 0: none named) */
    unsigned int nr_cpus_in_tree;           /* cpu nodes under /cpus, all of them */
    uint32_t cpu_mpidr[BOOTINFO_MAX_CPUS];  /* their reg values, in tree order (boot CPU anywhere) */

    char bootargs[BOOTINFO_BOOTARGS_LEN];   /* /chosen/bootargs, "" if absent */

    /* Console: the PL011 from /chosen/stdout-path, else the first "arm,pl011". */
    bool has_console;
    paddr_t console_base;
    paddr_t console_size;
    char console_path[BOOTINFO_PATH_LEN];   /* node path it came from */
    bool console_from_stdout_path;

    bool psci_smc;                          /* /psci method is "smc" */

    /* Boot modules in the order of /chosen's children. */
    struct bootmodule module[BOOTINFO_MAX_MODULES];
    unsigned int nr_modules;

    /* Non-fatal problems, first BOOTINFO_MAX_WARNINGS of them, one line each. */
    unsigned int nr_warnings;
    char warning[BOOTINFO_MAX_WARNINGS][BOOTINFO_ERR_LEN];
};

/*
 * Parses the blob at fdt (which claims to be at physical address fdt_pa and
 * must not be trusted beyond avail bytes). fdt_pa may be BOOTINFO_PA_UNKNOWN,
 * then the blob is not reserved. image_start/image_end is the hypervisor
 * image's physical range, removed from usable RAM; an empty range
 * (image_start == image_end) means there is none.
 * Returns 0, or -1 with a one-line message in err (bi is then incomplete).
 * Never prints: warnings are kept in bi and printed by bootinfo_print().
 */
int bootinfo_parse(const void *fdt, size_t avail, paddr_t fdt_pa,
                   paddr_t image_start, paddr_t image_end,
                   struct bootinfo *bi, char err[BOOTINFO_ERR_LEN]);

const char *reserved_kind_name(enum reserved_kind kind);
const char *bootmodule_kind_name(enum bootmodule_kind kind);

/* The first module of that kind in the tree's order, or NULL if there is none. */
const struct bootmodule *bootinfo_first_module(const struct bootinfo *bi,
                                               enum bootmodule_kind kind);

/*
 * The offset of the node bootinfo_parse() takes the console from, by the same rule, in a
 * tree that bootinfo_parse() has accepted (the guest device tree passes it through);
 * a negative libfdt error if there is none.
 */
int bootinfo_console_node(const void *fdt);

/* Prints the banks, reserved and usable ranges, CPUs, console, modules and warnings. */
void bootinfo_print(const struct bootinfo *bi);

#endif
