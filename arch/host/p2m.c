/*
 * The host side of the p2m seam (include/arch/p2m.h): the stores really happen (into the
 * fake RAM's table pages, through map_domain_page's mapping), and every store, barrier and
 * invalidation is recorded when a test asks (host/p2m.h). A flush records a TLBI for the
 * VMID in VTTBR[55:48] followed by the DSB that completes it, as on the image.
 *
 * gvirt_to_maddr() is a p2m lookup: the host has no MMU to ask, and a domain that has not
 * run has its stage 1 off, so its virtual addresses are its IPAs.
 */
#include <arch/p2m.h>
#include <domain/domain.h>
#include <host/p2m.h>
#include <lib/errno.h>
#include <lib/lib.h>
#include <mm/p2m.h>

static struct host_p2m_event *log_buf;
static unsigned int log_capacity, log_count;
static bool log_overflow;

static void record(struct host_p2m_event ev)
{
    if (!log_buf)
        return;
    if (log_count == log_capacity) {
        log_overflow = true;
        return;
    }
    log_buf[log_count++] = ev;
}

void host_p2m_log_start(struct host_p2m_event *buf, unsigned int capacity)
{
    log_buf = buf;
    log_capacity = capacity;
    log_count = 0;
    log_overflow = false;
}

unsigned int host_p2m_log_stop(bool *overflow)
{
    log_buf = NULL;
    if (overflow)
        *overflow = log_overflow;
    return log_count;
}

void arch_p2m_write(lpae_t *entry, lpae_t value, paddr_t ipa, unsigned int level)
{
    record((struct host_p2m_event){ .kind = HOST_P2M_WRITE, .entry = entry, .old = *entry,
                                    .value = value, .ipa = ipa, .level = level });
    __atomic_store_n(entry, value, __ATOMIC_RELAXED);
}

void arch_p2m_barrier(void)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    record((struct host_p2m_event){ .kind = HOST_P2M_DSB });
}

void arch_p2m_flush_vmid(uint64_t vttbr)
{
    record((struct host_p2m_event){ .kind = HOST_P2M_TLBI,
                                    .vmid = (unsigned int)(vttbr >> VTTBR_VMID_SHIFT) & 0xff });
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    record((struct host_p2m_event){ .kind = HOST_P2M_DSB });
}

int gvirt_to_maddr(struct domain *d, uint32_t va, paddr_t *ma, unsigned int flags)
{
    mfn_t mfn;

    if (flags != GV2M_READ && flags != GV2M_WRITE) {
        printk("gvirt_to_maddr: d%u: flags 0x%x are neither GV2M_READ nor GV2M_WRITE\n",
               d->domain_id, flags);
        return -EINVAL;
    }
    if (d->p2m.vmid == 0) {
        printk("gvirt_to_maddr: d%u: the domain has no p2m\n", d->domain_id);
        return -EINVAL;
    }
    /* Every type the p2m has is readable and writable by the guest, as on the image. */
    mfn = p2m_lookup(p2m_get_hostp2m(d), gaddr_to_gfn(va), NULL);
    if (mfn_eq(mfn, INVALID_MFN))
        return -EFAULT;
    *ma = mfn_to_paddr(mfn) | (va & (PAGE_SIZE - 1));
    return 0;
}
