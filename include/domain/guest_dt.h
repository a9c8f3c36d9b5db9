/*
 * The device tree a guest boots with, made from the host's (common/domain/guest_dt.c).
 *
 * The guest sees the machine the hypervisor gives it, not the host: its own RAM, its own
 * VCPUs, PSCI through HVC (emulated by the hypervisor), and only the devices passed
 * through. Starting from a copy of the host's tree keeps the root's properties (model,
 * compatible) and, for a passed-through device, its node exactly as the board describes
 * it, with its clocks.
 *
 * What the guest's tree holds:
 *  - the root, with #address-cells = #size-cells = 2 (kept nodes' reg re-encoded if the
 *    host used other cells); its interrupt-parent only with give_gic_and_timer;
 *  - /memory@<ipa>: one node per bank of kinfo->d->mem (the host's memory nodes are gone);
 *  - /chosen: bootargs (kinfo->cmdline, else the kernel module's), linux,initrd-start and
 *    linux,initrd-end (64-bit IPAs, from kinfo->initrd_ipa/initrd_size) when there is an
 *    initrd, stdout-path when the console is given; nothing else (no modules, no
 *    hypervisor properties);
 *  - /cpus: exactly kinfo->nr_vcpus nodes cpu@N (reg N, "arm,cortex-a15", PSCI);
 *  - /psci: "arm,psci-1.0", "arm,psci-0.2", "arm,psci", method "hvc";
 *  - the host nodes kept (guest_dt_kept_nodes() lists them), with their children:
 *      with give_console, the console PL011 (bootinfo_console_node(): the one the
 *      hypervisor uses), reg unchanged since it is passed through at IPA == PA, and the
 *      clock nodes its "clocks" property names;
 *      with give_gic_and_timer, the interrupt controller the root's interrupt-parent
 *      names (a GICv2, cut to its distributor and CPU interface: no hypervisor or
 *      virtual interface, no maintenance interrupt, no child frames) and every
 *      "arm,armv7-timer" node;
 *    without give_gic_and_timer, kept nodes lose interrupts, interrupt-parent and
 *    interrupts-extended, which would name a controller the guest does not have.
 * Everything else is removed: other devices, /aliases, /reserved-memory, /memreserve/
 * entries, and so all of the hypervisor's own memory.
 */
#ifndef GUEST_DT_H
#define GUEST_DT_H

#include <domain/domain_build.h>
#include <lib/types.h>

#define GUEST_DT_MAX_KEPT 8     /* host nodes a guest's tree may keep (console, clocks, ...) */

/*
 * Builds the tree in buf (size bytes, 8-byte aligned): fdt_open_into() of host_fdt, the
 * edits above, fdt_pack(). Reads kinfo->d->mem, nr_vcpus, give_*, kernel, cmdline,
 * initrd, initrd_ipa and initrd_size. Returns 0, or a negative errno with a printed
 * message: -ENOSPC when buf is too small (libfdt's FDT_ERR_NOSPACE), -EINVAL for bad
 * arguments, a domain without RAM, a console asked for but absent, more kept nodes than
 * GUEST_DT_MAX_KEPT, a phandle that names no node, or any other libfdt error (named).
 */
int make_guest_dt(const struct kernel_info *kinfo, const void *host_fdt, void *buf,
                  size_t size);

/*
 * The host nodes make_guest_dt() keeps for kinfo (their descendants come with them),
 * as offsets into host_fdt, in nodes[0..max). Returns how many, or a negative errno
 * (printed) as make_guest_dt(). A caller that passes devices through maps their reg
 * ranges into the domain's p2m at IPA == PA.
 */
int guest_dt_kept_nodes(const struct kernel_info *kinfo, const void *host_fdt, int *nodes,
                        unsigned int max);

/*
 * Maps the given console's registers, and with give_gic_and_timer the GIC's distributor
 * and CPU interface (never its hypervisor interface), into kinfo->d's p2m at IPA == PA
 * (Device memory, not executable), page-rounded. Returns 0 (also when no console is given) or a negative errno,
 * printed: a reg that cannot be read or lies beyond the IPA space, or a p2m refusal.
 */
int guest_dt_map_devices(const struct kernel_info *kinfo, const void *host_fdt);

#endif
