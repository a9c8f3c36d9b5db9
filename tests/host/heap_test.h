/*
 * Helpers for the host-only heap tests: boot a fake machine of a given
 * layout for one test, then put the default machine back, so that the
 * runner's free-page balance check sees the heap it started with.
 */
#ifndef HEAP_TEST_H
#define HEAP_TEST_H

#include <host/machine.h>
#include <lib/types.h>

/* A config with the given banks (start, size pairs) and nothing reserved. */
void heap_test_config(struct host_machine_config *cfg, unsigned int nr_banks, ...);

/* Boots cfg instead of the current machine; false (and a failed check) if the host cannot. */
bool heap_test_boot(const struct host_machine_config *cfg);

/* Back to the default machine. */
void heap_test_restore(void);

/* Counts free blocks of each order, from page states alone (not the lists). */
void heap_test_count_free_blocks(unsigned long count[], unsigned int max_order);

#endif
