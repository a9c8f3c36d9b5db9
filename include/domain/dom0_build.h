/*
 * dom0: the domain the hypervisor builds at boot when the device tree names a kernel among
 * its boot modules (multiboot,kernel; an optional multiboot,ramdisk is its initrd), and then
 * runs until it powers off. Its settings come from the hypervisor's command line, with Xen's
 * names:
 *   dom0_mem=<size>         its RAM, with a K, M or G suffix (default 256M)
 *   dom0_max_vcpus=<n>      its VCPUs, 1..8, VCPU n on physical CPU n (default 1)
 *   dom0_direct_map         guest-physical == machine-physical (allocate_memory_11), as a
 *                           dom0 without an IOMMU needs; default: the banks of
 *                           domain_build.h at IPA 1 GiB and 8 GiB
 *   dom0_timeout=<seconds>  the watchdog: with no verdict (SYSTEM_OFF, SYSTEM_RESET) this
 *                           long after dom0 starts, the run ends with status 6 and what
 *                           dom0's VCPUs did last; 0 turns it off (an interactive dom0)
 *                           (default 90: a Linux boot to its verdict takes 5-20 s, and
 *                           tests/linux.sh's own timeout is 120)
 * dom0 is given the console's UART, the GIC (its device interrupts forwarded through the
 * virtual CPU interface, its distributor filtered: domain/vgic.h) and the architected
 * timer, and sees its RAM, its VCPUs and PSCI.
 */
#ifndef DOM0_BUILD_H
#define DOM0_BUILD_H

#include <domain/domain.h>
#include <dt/bootinfo.h>
#include <lib/types.h>

#define DOM0_DEFAULT_MEM (256ULL << 20)
#define DOM0_DEFAULT_TIMEOUT 90
#define DOM0_MAX_TIMEOUT 86400

struct dom0_options {
    paddr_t mem;
    unsigned int vcpus;
    bool direct_map;
    unsigned int timeout;       /* seconds; 0: no watchdog */
};

/*
 * Reads the dom0_* options from the command line into o (defaults for those absent).
 * Returns 0, or -EINVAL with a message naming the option and the value.
 */
int dom0_options_parse(const char *bootargs, struct dom0_options *o);

/*
 * Creates d as domain 0 and builds it from bi's modules: its RAM, its device tree made from
 * host_fdt, the kernel and initrd loaded, VCPU 0 set to enter the kernel as Linux's zImage
 * protocol asks (r0 = 0, r1 = ~0, r2 = the DT's IPA). Returns 0, or a negative errno after
 * printing why; then d holds nothing.
 */
int construct_dom0(struct domain *d, const struct bootinfo *bi, const void *host_fdt,
                   const struct dom0_options *o);

#endif
