/*
 * Checks of the table walker itself: that it follows a table descriptor to
 * a table anywhere in the 40-bit physical space, as the architecture says.
 */
#ifndef ASM_WALK_CHECK_H
#define ASM_WALK_CHECK_H

#include <lib/types.h>

/* The VA the probe translates: level-2 slot 3, unmapped room after the image. */
#define WALK_PROBE_VA 0x00600000UL

/*
 * Uses the page at table_pa (the caller's; its contents are lost) as the
 * level-3 table for WALK_PROBE_VA, with one entry mapping the page itself,
 * and returns where WALK_PROBE_VA translates then (~0 on a fault): table_pa
 * on a walker that reads tables where they are. Leaves nothing mapped.
 * One CPU at a time.
 */
paddr_t arch_probe_table_walk(paddr_t table_pa);

struct bootinfo;

/*
 * At boot, before setup_mm(): when usable RAM lies above 4 GiB (so page
 * tables may lie there), checks that the walker reads a table there. False,
 * with the cause printed, if it does not: the boot must stop.
 */
bool check_table_walk_above_4g(const struct bootinfo *bi);

#endif
