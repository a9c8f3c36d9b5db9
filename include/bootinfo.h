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
 */
#ifndef BOOTINFO_H
#define BOOTINFO_H

#include <types.h>

#define BOOTINFO_MAX_BANKS 64      /* RAM ranges, after carving */
#define BOOTINFO_MAX_RESERVED 32
#define BOOTINFO_MAX_CPUS 8
#define BOOTINFO_BOOTARGS_LEN 256
#define BOOTINFO_PATH_LEN 128
#define BOOTINFO_ERR_LEN 200

struct mem_range {
    paddr_t start;
    paddr_t end;              /* exclusive */
};

enum reserved_kind {
    RESV_MEMRESERVE,          /* /memreserve/ entry in the header */
    RESV_RESERVED_MEMORY,     /* child of /reserved-memory */
    RESV_DTB,                 /* the device tree blob itself */
    RESV_IMAGE,               /* the hypervisor image */
};

struct reserved_range {
    paddr_t start;
    paddr_t end;              /* exclusive */
    enum reserved_kind kind;
};

struct bootinfo {
    /* /memory nodes' reg entries exactly as the tree gives them, sorted by address */
    struct mem_range ram[BOOTINFO_MAX_BANKS];
    unsigned int nr_ram;
    /* RAM minus reserved ranges, page-aligned inwards, sorted */
    struct mem_range usable[BOOTINFO_MAX_BANKS];
    unsigned int nr_usable;
    struct reserved_range reserved[BOOTINFO_MAX_RESERVED];
    unsigned int nr_reserved;

    unsigned int nr_cpus;                   /* cpu nodes under /cpus */
    uint32_t cpu_mpidr[BOOTINFO_MAX_CPUS];  /* their reg values, in tree order */

    char bootargs[BOOTINFO_BOOTARGS_LEN];   /* /chosen/bootargs, "" if absent */

    /* Console: the PL011 from /chosen/stdout-path, else the first "arm,pl011". */
    bool has_console;
    paddr_t console_base;
    paddr_t console_size;
    char console_path[BOOTINFO_PATH_LEN];   /* node path it came from */
    bool console_from_stdout_path;

    bool psci_smc;                          /* /psci method is "smc" */
};

/*
 * Parses the blob at fdt (which claims to be at physical address fdt_pa and
 * must not be trusted beyond avail bytes). image_start/image_end is the
 * hypervisor image's physical range, removed from usable RAM.
 * Returns 0, or -1 with a one-line message in err.
 */
int bootinfo_parse(const void *fdt, size_t avail, paddr_t fdt_pa,
                   paddr_t image_start, paddr_t image_end,
                   struct bootinfo *bi, char err[BOOTINFO_ERR_LEN]);

const char *reserved_kind_name(enum reserved_kind kind);

/* Prints the banks and reserved ranges to the console (boot log). */
void bootinfo_print(const struct bootinfo *bi);

#endif
