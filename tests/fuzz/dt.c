/*
 * libFuzzer harness for the device-tree reader: the input is a DTB handed to
 * bootinfo_parse(), the code the image runs at boot, as QEMU would place it
 * (the tree at 0x40000000, the image right after it).
 *
 * The reader must never crash, hang or read outside the avail bytes it was
 * given (the input is copied to a buffer of exactly its size, so ASan sees
 * any read past it). What it accepts must keep every promise of
 * include/dt/bootinfo.h (tests/host/bootinfo_promises.c checks them), and
 * what it refuses must come with a printable message. An accepted tree is
 * also printed the way the boot log prints it, which walks every field, and
 * made into a guest's tree (make_guest_dt, as dom0's builder does, with the
 * console and with or without the GIC and timer, as the input's last byte
 * says): that must succeed or fail with an errno, never fault, and what it
 * makes must be a valid tree with the guest's CPUs and RAM.
 *
 * The input is offered twice: as the whole buffer, and cut to the size the
 * header claims when that is smaller, since the image passes the bytes up to
 * the end of RAM and a tree's header is what bounds it then.
 */
#include <domain/domain.h>
#include <domain/guest_dt.h>
#include <dt/bootinfo.h>
#include <libfdt.h>
#include <string.h>

#include "../host/bootinfo_promises.h"
#include "fuzz.h"

#define DTB_PA      0x40000000ULL
#define IMAGE_START 0x40200000ULL
#define IMAGE_END   0x40400000ULL

static struct bootinfo bi;
static struct domain guest;
static uint64_t guest_tree[16384 / 8];

/* How many nodes of the tree have device_type "cpu" and "memory". */
static void count_nodes(const void *fdt, int *cpus, int *memory)
{
    *cpus = *memory = 0;
    for (int node = fdt_next_node(fdt, -1, NULL); node >= 0;
         node = fdt_next_node(fdt, node, NULL)) {
        const char *type = fdt_getprop(fdt, node, "device_type", NULL);

        *cpus += type && !strcmp(type, "cpu");
        *memory += type && !strcmp(type, "memory");
    }
}

static void make_guest(const void *host, uint8_t how)
{
    static const struct bootmodule fake_kernel = {
        .kind = BOOTMOD_KERNEL, .start = 0x48000000, .size = 0x1000,
    };
    struct kernel_info kinfo;
    int rc, cpus, memory;

    memset(&guest, 0, sizeof(guest));
    guest.domain_id = 1;
    guest.mem.nr_banks = 1 + (how & 1);
    guest.mem.bank[0] = (struct guest_mem_bank){ 0x40000000, 0x8000000 };
    guest.mem.bank[1] = (struct guest_mem_bank){ 0x200000000ULL, 0x4000000 };
    memset(&kinfo, 0, sizeof(kinfo));
    kinfo.d = &guest;
    kinfo.nr_vcpus = 1 + ((how >> 1) & 3);
    kinfo.give_console = bi.has_console && (how & 8);
    kinfo.give_gic_and_timer = how & 16;
    kinfo.kernel = bootinfo_first_module(&bi, BOOTMOD_KERNEL);
    if (!kinfo.kernel)
        kinfo.kernel = &fake_kernel;
    rc = make_guest_dt(&kinfo, host, guest_tree, sizeof(guest_tree));
    if (rc > 0)
        fuzz_fail("dt: make_guest_dt returned %d, neither 0 nor an errno", rc);
    if (rc < 0)
        return;
    if (fdt_check_full(guest_tree, sizeof(guest_tree)) != 0)
        fuzz_fail("dt: make_guest_dt made a tree libfdt finds broken");
    count_nodes(guest_tree, &cpus, &memory);
    if (cpus != (int)kinfo.nr_vcpus || memory != (int)guest.mem.nr_banks)
        fuzz_fail("dt: the guest's tree has %d CPUs and %d memory nodes, not %u and %u",
                  cpus, memory, kinfo.nr_vcpus, guest.mem.nr_banks);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

static void parse(const uint8_t *data, size_t size, uint8_t how)
{
    char err[BOOTINFO_ERR_LEN];
    uint8_t *copy = malloc(size ? size : 1);
    const char *why;
    int rc;

    if (!copy)
        abort();
    memcpy(copy, data, size);
    memset(err, 0x55, sizeof(err));
    rc = bootinfo_parse(copy, size, DTB_PA, IMAGE_START, IMAGE_END, &bi, err);
    if (rc == 0) {
        why = bootinfo_check_promises(&bi);
        if (why)
            fuzz_fail("dt: accepted a %zu-byte tree that breaks a promise: %s", size, why);
        bootinfo_print(&bi);
        make_guest(copy, how);
    } else if (rc != -1) {
        fuzz_fail("dt: bootinfo_parse returned %d (neither 0 nor -1)", rc);
    } else if (!bootinfo_good_message(err, sizeof(err))) {
        fuzz_fail("dt: refused a %zu-byte tree without a printable message", size);
    }
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t how = size ? data[size - 1] : 0;

    parse(data, size, how);
    if (size >= sizeof(struct fdt_header)) {
        uint32_t claimed = fdt_totalsize(data);

        if (claimed < size)
            parse(data, claimed, how);
    }
    return 0;
}
