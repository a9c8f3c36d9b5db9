/*
 * Guest hypercalls (include/domain/hypercall.h): console_io, reading the guest's text
 * through its own translation.
 *
 * The text is at a guest virtual address: gvirt_to_maddr() translates it as the guest would
 * (its stage 1 and its p2m), one page at a time, and map_domain_page() reaches the frame:
 * the hypervisor never assumes guest memory is mapped. A page the guest cannot read ends the
 * copy with -EFAULT, and whatever came before it is printed.
 */
#include <arch/mm.h>
#include <arch/p2m.h>
#include <domain/domain.h>
#include <domain/hypercall.h>
#include <domain/vcpu.h>
#include <lib/errno.h>
#include <lib/lib.h>
#include <mm/domain_page.h>
#include <mm/mm.h>

static void console_put(struct domain *d, char c)
{
    if (c == '\n' || d->console_len == GUEST_CONSOLE_LINE - 1) {
        d->console_buf[d->console_len] = '\0';
        printk("(d%u) %s\n", d->domain_id, d->console_buf);
        d->console_len = 0;
        if (c == '\n')
            return;
    }
    /* Control characters other than tab would let a guest drive the console. */
    d->console_buf[d->console_len++] = (c == '\t' || (c >= ' ' && c < 0x7f)) ? c : '.';
}

void guest_console_flush(struct domain *d)
{
    spin_lock(&d->console_lock);
    if (d->console_len)
        console_put(d, '\n');
    spin_unlock(&d->console_lock);
}

/* Copies len bytes of guest text at gva into the console; returns bytes taken or -EFAULT. */
static long console_write(struct vcpu *v, uint32_t gva, uint32_t len)
{
    struct domain *d = v->domain;
    uint32_t done = 0;

    if (len > CONSOLEIO_MAX_WRITE)
        len = CONSOLEIO_MAX_WRITE;
    /* The text ends at the top of the guest's address space, not again at 0. */
    if (len > UINT32_MAX - gva + 1 && gva != 0)
        len = (uint32_t)(UINT32_MAX - gva + 1);
    spin_lock(&d->console_lock);
    while (done < len) {
        uint32_t va = gva + done;
        uint32_t chunk = min(len - done, (uint32_t)PAGE_SIZE - (va & (PAGE_SIZE - 1)));
        paddr_t ma;
        const char *p;

        if (gvirt_to_maddr(d, va, &ma, GV2M_READ))
            break;
        p = map_domain_page(paddr_to_mfn(ma));
        /* A guest with its caches off wrote memory itself: drop any older line we hold. */
        arch_dcache_clean_inval(p + (va & (PAGE_SIZE - 1)), chunk);
        for (uint32_t i = 0; i < chunk; i++)
            console_put(d, p[(va & (PAGE_SIZE - 1)) + i]);
        unmap_domain_page(p);
        done += chunk;
    }
    spin_unlock(&d->console_lock);
    return done || len == 0 ? (long)done : -EFAULT;
}

void do_hypercall(struct vcpu *v, struct guest_regs *regs)
{
    long rc;

    switch (regs->r[12]) {
    case __HYPERVISOR_console_io:
        rc = regs->r[0] == CONSOLEIO_write ? console_write(v, regs->r[2], regs->r[1]) : -ENOSYS;
        break;
    default:
        rc = -ENOSYS;
        break;
    }
    regs->r[0] = (uint32_t)rc;
}
