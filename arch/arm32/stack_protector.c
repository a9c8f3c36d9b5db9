/*
 * GCC's stack protector (the image and libfdt are built with it): the guard
 * value every protected function copies below its saved registers on entry
 * and compares on return, and what happens when the comparison fails.
 *
 * A guard fixed at link time is known to anyone with the image, and an
 * overflow that writes it back unchanged passes the check. So start_hyp()
 * sets it once at boot from what changes between boots: the device tree's
 * /chosen/rng-seed and /chosen/kaslr-seed (QEMU's virt board fills both
 * with fresh random bytes on every boot) and the counter CNTPCT. Without
 * either seed it warns: CNTPCT alone is nearly the same from boot to boot.
 *
 * The guard changes while start_hyp() and its caller are live. A protected
 * function that is live across the change would compare its old copy with
 * the new value on return, so start_hyp() is built without the protector
 * and boot/head.S calls it directly. The value is never printed.
 */
#include <arch/machine.h>
#include <asm/smp.h>
#include <asm/stack_protector.h>
#include <asm/sysregs.h>
#include <lib/lib.h>
#include <libfdt.h>

uintptr_t __stack_chk_guard = STACK_GUARD_LINK_VALUE;

void __stack_chk_fail(void) __attribute__((noreturn));
void __stack_chk_fail(void)
{
    /* The smashed frame's own return address may be the overwritten word: name the check instead. */
    uintptr_t check = (uintptr_t)__builtin_return_address(0) - 4;

    panic("stack smashing detected on CPU %u: the stack protector's check at 0x%08lx "
          "(in the function whose frame was overwritten) found its guard changed",
          this_pcpu() ? smp_processor_id() : 0, (unsigned long)check);
}

/* SplitMix64's finaliser: every input bit reaches every output bit. */
static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* Folds a property's bytes into the state; whether the property was there. */
static bool absorb(uint64_t *state, const void *fdt, int chosen, const char *name,
                   unsigned int *bytes)
{
    int len;
    const uint8_t *p = chosen >= 0 ? fdt_getprop(fdt, chosen, name, &len) : NULL;

    if (!p || len <= 0)
        return false;
    for (int i = 0; i < len; i++)
        *state = mix64(*state ^ p[i] ^ ((uint64_t)i << 8));
    *bytes += (unsigned int)len;
    return true;
}

uintptr_t stack_guard_from_boot(const void *fdt)
{
    int chosen = fdt ? fdt_path_offset(fdt, "/chosen") : -1;
    uint64_t state = mix64(READ_CP64(CNTPCT));
    unsigned int bytes = 0;
    bool rng = absorb(&state, fdt, chosen, "rng-seed", &bytes);
    bool kaslr = absorb(&state, fdt, chosen, "kaslr-seed", &bytes);
    uintptr_t guard;

    state = mix64(state ^ READ_CP64(CNTPCT));
    guard = (uintptr_t)(state ^ (state >> 32));
    if (guard == STACK_GUARD_LINK_VALUE)        /* a test tells the two apart */
        guard = ~guard;
    if (rng || kaslr)
        printk("stack protector: guard from %s%s%s (%u bytes) and CNTPCT\n",
               rng ? "/chosen/rng-seed" : "", rng && kaslr ? ", " : "",
               kaslr ? "/chosen/kaslr-seed" : "", bytes);
    else
        printk("stack protector: warning: the device tree has no /chosen/rng-seed or "
               "kaslr-seed; the guard comes from CNTPCT alone, which differs little from "
               "boot to boot\n");
    return guard;
}
