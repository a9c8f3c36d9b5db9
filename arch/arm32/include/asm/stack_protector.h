/*
 * The stack protector's guard (arch/arm32/stack_protector.c).
 */
#ifndef ASM_STACK_PROTECTOR_H
#define ASM_STACK_PROTECTOR_H

#include <lib/types.h>

/* What __stack_chk_guard holds until start_hyp() sets it. */
#define STACK_GUARD_LINK_VALUE 0x5a17c0deu

extern uintptr_t __stack_chk_guard;

/*
 * A new guard from the device tree's seeds (fdt may be NULL) and CNTPCT;
 * says which it used, or warns that it had none. The caller stores it in
 * __stack_chk_guard: only a function built without the protector may.
 */
uintptr_t stack_guard_from_boot(const void *fdt);

#endif
