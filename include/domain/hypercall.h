/*
 * Hypercalls a guest makes with HVC #0xEA1, as on Xen for Arm: the hypercall number in r12,
 * arguments in r0-r4, the result in r0 (a negative errno on failure).
 *
 * Only one exists here: console_io (18), CONSOLEIO_write (r0 = 0, r1 = length, r2 = guest
 * virtual address of the text), so that guests can report on the hypervisor's console
 * without sharing a UART: the text is printed a whole line at a time, prefixed "(d<id>) ",
 * so that two guests writing at once never interleave inside a line.
 */
#ifndef HYPERCALL_H
#define HYPERCALL_H

#include <arch/guest.h>

#define HYPERCALL_HVC_IMM       0xea1
#define __HYPERVISOR_console_io 18
#define CONSOLEIO_write         0

/* At most this many bytes are taken per call; the result says how many were. */
#define CONSOLEIO_MAX_WRITE     4096

struct vcpu;

/* Handles the hypercall in regs; the result goes to r0. */
void do_hypercall(struct vcpu *v, struct guest_regs *regs);

/* Prints what d's console buffer holds (an unfinished line), if anything. */
void guest_console_flush(struct domain *d);

#endif
