/*
 * The test guest's pieces that touch no machine state: the POSIX cksum, the
 * bootargs parser and the RAM pattern. They sit apart so that the host
 * self-tests compile this very file and hold it against coreutils' cksum
 * (tests/host/guest_portable_host.c); the guest links the same code.
 */
#ifndef GUEST_PORTABLE_H
#define GUEST_PORTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * POSIX cksum (what coreutils' `cksum` prints first): CRC-32 with polynomial
 * 0x04C11DB7, MSB first, initial value 0, over the data and then over the
 * length in as few bytes as it takes (least significant first), complemented.
 */
uint32_t posix_cksum(const void *data, size_t len);

enum bootarg_result {
    BOOTARG_ABSENT,     /* no "key=" word in the command line */
    BOOTARG_OK,         /* found and a well-formed number */
    BOOTARG_BAD,        /* found, but its value is not a number that fits */
};

/*
 * Finds the word "key=VALUE" in a space-separated command line (a key only
 * counts at the start of a word, so "xseed=1" is not "seed=") and parses
 * VALUE as decimal, or hexadecimal with a 0x prefix. The last occurrence
 * wins, as on Linux's command line.
 */
enum bootarg_result bootarg_u64(const char *args, const char *key, uint64_t *value);

/*
 * The word the guest writes at address addr for a given seed. For one seed,
 * distinct addresses get distinct words (so two IPAs that alias one frame
 * show up), and at any one address two seeds with the same high 32 bits
 * and different low 32 bits give distinct words (so two guests given
 * seed=1 and seed=2 never write the same data anywhere).
 */
uint32_t ram_pattern(uint64_t seed, uint32_t addr);
/*
 * The same in two halves, for loops over every word of RAM: the seed's key once, then
 * ram_pattern_keyed(key, addr) == ram_pattern(seed, addr) costs one mix per word, not
 * three (the guest's ram_writable ran 2.5 times as long under QEMU).
 */
uint32_t ram_pattern_key(uint64_t seed);
uint32_t ram_pattern_keyed(uint32_t key, uint32_t addr);

#endif
