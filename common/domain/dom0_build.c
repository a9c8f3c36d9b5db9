/*
 * Building dom0 at boot (include/domain/dom0_build.h): the command-line options, then the
 * same construct_domain() every domain goes through, from the boot modules.
 */
#include <domain/dom0_build.h>
#include <domain/domain_build.h>
#include <domain/vcpu.h>
#include <lib/bootargs.h>
#include <lib/errno.h>
#include <lib/lib.h>
#include <mm/p2m.h>
#include <string.h>

/* "<number>[KMG]" in bytes; false for anything else, or a value past 2^40. */
static bool parse_size(const char *s, paddr_t *bytes)
{
    paddr_t v = 0;
    unsigned int shift = 0;

    if (*s < '0' || *s > '9')
        return false;
    for (; *s >= '0' && *s <= '9'; s++) {
        v = v * 10 + (paddr_t)(*s - '0');
        if (v > (1ULL << 40))
            return false;
    }
    switch (*s) {
    case 'K': case 'k': shift = 10; s++; break;
    case 'M': case 'm': shift = 20; s++; break;
    case 'G': case 'g': shift = 30; s++; break;
    default: break;
    }
    if (*s || v > ((1ULL << 40) >> shift))
        return false;
    *bytes = v << shift;
    return true;
}

int dom0_options_parse(const char *bootargs, struct dom0_options *o)
{
    char value[32];
    unsigned long n;

    o->mem = DOM0_DEFAULT_MEM;
    o->vcpus = 1;
    o->timeout = DOM0_DEFAULT_TIMEOUT;
    o->direct_map = bootargs_get(bootargs, "dom0_direct_map", value, sizeof(value));
    /* A value that fills the buffer may have been cut: refused rather than read short. */
    if (bootargs_get(bootargs, "dom0_mem", value, sizeof(value)) &&
        (strlen(value) == sizeof(value) - 1 || !parse_size(value, &o->mem) || o->mem == 0 ||
         o->mem % PAGE_SIZE)) {
        printk("dom0: dom0_mem=%s is not a size in whole pages (e.g. 256M)\n", value);
        return -EINVAL;
    }
    switch (bootargs_get_number(bootargs, "dom0_max_vcpus", 1, MAX_VIRT_CPUS, &n)) {
    case 1:
        o->vcpus = (unsigned int)n;
        break;
    case 0:
        break;
    default:
        printk("dom0: dom0_max_vcpus: its VCPUs, 1 to %u\n", MAX_VIRT_CPUS);
        return -EINVAL;
    }
    switch (bootargs_get_number(bootargs, "dom0_timeout", 0, DOM0_MAX_TIMEOUT, &n)) {
    case 1:
        o->timeout = (unsigned int)n;
        break;
    case 0:
        break;
    default:
        printk("dom0: dom0_timeout: seconds until the watchdog ends a dom0 with no verdict, "
               "0 (off) to %u\n", DOM0_MAX_TIMEOUT);
        return -EINVAL;
    }
    return 0;
}

/*
 * The lowest and highest machine addresses of d's RAM (every mapping of its banks), and in
 * how many machine-contiguous pieces it lies.
 */
static void machine_span(struct domain *d, paddr_t *low, paddr_t *high, unsigned int *pieces)
{
    paddr_t next = ~(paddr_t)0;

    *low = ~(paddr_t)0;
    *high = 0;
    *pieces = 0;
    for (unsigned int b = 0; b < d->mem.nr_banks; b++) {
        paddr_t ipa = d->mem.bank[b].start, end = ipa + d->mem.bank[b].size;

        while (ipa < end) {
            unsigned int level;
            mfn_t m = p2m_lookup_level(p2m_get_hostp2m(d), gaddr_to_gfn(ipa), NULL, &level);
            paddr_t size = level == 1 ? 1ULL << 30 : level == 2 ? 1ULL << 21 : PAGE_SIZE;
            paddr_t pa = mfn_to_paddr(m) & ~(size - 1);

            if (mfn_eq(m, INVALID_MFN))
                return;
            *low = min(*low, pa);
            *high = max(*high, pa + size - 1);
            if (pa != next)
                (*pieces)++;
            next = pa + size;
            ipa = (ipa & ~(size - 1)) + size;
        }
    }
}

int construct_dom0(struct domain *d, const struct bootinfo *bi, const void *host_fdt,
                   const struct dom0_options *o)
{
    struct kernel_info kinfo = {
        .d = d,
        .mem_bytes = o->mem,
        .direct_map = o->direct_map,
        .nr_vcpus = o->vcpus,
        .give_console = true,
        .give_gic_and_timer = true,     /* a Linux dom0 owns the interrupt controller */
        .kernel = bootinfo_first_module(bi, BOOTMOD_KERNEL),
        .initrd = bootinfo_first_module(bi, BOOTMOD_RAMDISK),
    };
    int rc;

    if (!kinfo.kernel) {
        printk("dom0: no kernel among the boot modules (a /chosen node compatible "
               "\"multiboot,kernel\")\n");
        return -EINVAL;
    }
    rc = domain_create(d, 0, o->vcpus, (unsigned long)(o->mem >> PAGE_SHIFT), 0);
    if (rc)
        return rc;
    rc = construct_domain(&kinfo, host_fdt);
    if (rc) {
        domain_destroy(d);
        return rc;
    }
    d->watchdog_seconds = o->timeout;
    vcpu_set_boot_regs(d->vcpu[0], (uint32_t)kinfo.entry, 0, 0xffffffffu,
                       (uint32_t)kinfo.dtb_ipa);
    {
        paddr_t low, high;
        unsigned int pieces;

        machine_span(d, &low, &high, &pieces);
        printk("dom0: RAM from machine addresses 0x%llx-0x%llx, in %u piece(s)\n",
               (unsigned long long)low, (unsigned long long)high, pieces);
    }
    if (o->timeout)
        printk("dom0: the watchdog ends the run if dom0 gives no verdict within %u s "
               "(dom0_timeout=)\n", o->timeout);
    printk("dom0: %llu MiB in %u bank(s)%s, %u VCPU(s); kernel at IPA 0x%llx (%llu bytes), "
           "DT at 0x%llx, initrd %s at 0x%llx (%llu bytes)\n",
           (unsigned long long)(o->mem >> 20), d->mem.nr_banks,
           o->direct_map ? " (direct-mapped)" : "", o->vcpus,
           (unsigned long long)kinfo.kernel_ipa, (unsigned long long)kinfo.kernel_size,
           (unsigned long long)kinfo.dtb_ipa, kinfo.initrd ? "loaded" : "none",
           (unsigned long long)kinfo.initrd_ipa, (unsigned long long)kinfo.initrd_size);
    return 0;
}
