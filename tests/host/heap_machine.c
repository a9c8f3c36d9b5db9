/*
 * The host test binary's machine: the default fake machine is booted before
 * main() runs, so that the shared heap tests find a heap as they do in the
 * image, and the helpers of heap_test.h swap layouts for one test.
 */
#include <mm/mm.h>
#include <mm/page_alloc.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <test/selftest.h>

#include "heap_test.h"

__attribute__((constructor)) static void boot_default_machine(void)
{
    if (host_machine_create_default() != 0)
        exit(3);
}

void heap_test_config(struct host_machine_config *cfg, unsigned int nr_banks, ...)
{
    va_list ap;

    memset(cfg, 0, sizeof(*cfg));
    va_start(ap, nr_banks);
    for (unsigned int i = 0; i < nr_banks; i++) {
        paddr_t start = va_arg(ap, paddr_t);
        paddr_t size = va_arg(ap, paddr_t);

        cfg->bank[i].start = start;
        cfg->bank[i].end = start + size;
    }
    va_end(ap);
    cfg->nr_banks = nr_banks;
}

bool heap_test_boot(const struct host_machine_config *cfg)
{
    return EXPECT_EQ(host_machine_create(cfg), 0);
}

void heap_test_restore(void)
{
    if (host_machine_create_default() != 0)
        exit(3);
}

void heap_test_count_free_blocks(unsigned long count[], unsigned int max_order)
{
    for (unsigned int o = 0; o <= max_order; o++)
        count[o] = 0;
    for (unsigned long pdx = 0; pdx < max_pdx; pdx++) {
        const struct page_info *pg = pdx_to_page(_pdx(pdx));

        if ((pg->count_info & (PGC_state_mask | PGC_head)) == (PGS_free | PGC_head) &&
            pg->order <= max_order)
            count[pg->order]++;
    }
}
