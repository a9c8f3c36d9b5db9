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
 * also printed the way the boot log prints it, which walks every field.
 *
 * The input is offered twice: as the whole buffer, and cut to the size the
 * header claims when that is smaller, since the image passes the bytes up to
 * the end of RAM and a tree's header is what bounds it then.
 */
#include <dt/bootinfo.h>
#include <libfdt.h>
#include <string.h>

#include "../host/bootinfo_promises.h"
#include "fuzz.h"

#define DTB_PA      0x40000000ULL
#define IMAGE_START 0x40200000ULL
#define IMAGE_END   0x40400000ULL

static struct bootinfo bi;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

static void parse(const uint8_t *data, size_t size)
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
    } else if (rc != -1) {
        fuzz_fail("dt: bootinfo_parse returned %d (neither 0 nor -1)", rc);
    } else if (!bootinfo_good_message(err, sizeof(err))) {
        fuzz_fail("dt: refused a %zu-byte tree without a printable message", size);
    }
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    parse(data, size);
    if (size >= sizeof(struct fdt_header)) {
        uint32_t claimed = fdt_totalsize(data);

        if (claimed < size)
            parse(data, claimed);
    }
    return 0;
}
