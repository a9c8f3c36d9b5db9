/*
 * What the subsystems offer to tests and to the host's fake machine only:
 * production code never calls these. They live here, not in the public
 * headers, so that a reader of include/mm/ sees the API and nothing else.
 */
#ifndef TEST_HOOKS_H
#define TEST_HOOKS_H

#include <lib/types.h>

/* --- is a lock free? Tests of the misuse paths check that a caught panic
 * released it. ------------------------------------------------------------ */
bool heap_lock_is_held(void);
bool pt_lock_is_held(void);
bool vm_lock_is_held(void);

/* --- switches ------------------------------------------------------------ */

/*
 * With false, init_xenheap_pages() withholds no buffer pages, so tests can
 * show that the buffer is what keeps the heaps apart. Affects only heaps
 * built afterwards.
 */
void heap_set_xenheap_buffer(bool enabled);

/*
 * With true, the page-table functions stop printing their refusals (a test
 * that asks for thousands of refused updates); they still return the error.
 */
void pt_set_quiet(bool quiet);

/* The message of the last page-table refusal, printed or not ("" if none). */
#define PT_REFUSAL_LEN 384
void pt_last_refusal(char *buf, size_t size);

/*
 * With true, common/mm/p2m.c writes over valid stage-2 entries directly and removes them
 * without a TLB invalidation (no break-before-make), so the host's order checker can show
 * it catches that in the real code.
 */
void p2m_test_skip_break(bool skip);

/* --- teardown, so that the host can boot another fake machine ------------- */

/* Forgets everything setup_mm() built. The arch unmaps its windows itself. */
void teardown_mm(void);

/* Forgets all heap state. */
void heap_reset(void);

/* Forgets every range and reopens the boot allocator. */
void boot_alloc_reset(void);

/* Forgets every PDX group. */
void pdx_reset(void);

/*
 * Unmaps the vmap bitmap and forgets the region, so the heap gets every page
 * back before the machine is replaced. Returns 0, or (and changes nothing)
 * how many allocations are still live.
 */
unsigned long vm_teardown(void);

#endif
