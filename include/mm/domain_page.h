/*
 * Temporary mappings of any RAM frame.
 *
 * Domheap pages have no permanent mapping (on ARM32 there is not enough
 * virtual address space for all of RAM), so every access to their contents
 * goes through map_domain_page(), which returns a per-CPU mapping valid until
 * the matching unmap_domain_page(). Mappings nest, but only a few deep: a
 * caller maps, touches, and unmaps; it never keeps the address.
 *
 * The image implements these in arch/arm32, the host in arch/host (where
 * "mapping" is pointer arithmetic into the fake RAM, with checks).
 */
#ifndef DOMAIN_PAGE_H
#define DOMAIN_PAGE_H

#include <lib/types.h>

/* Maps frame mfn; panics naming it if it is not RAM or no slot is free. */
void *map_domain_page(mfn_t mfn);

/* Undoes map_domain_page(); va may point anywhere inside the mapped page.
 * NULL is allowed and does nothing, so cleanup paths need no test. */
void unmap_domain_page(const void *va);

#endif
