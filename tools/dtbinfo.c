/*
 * dtbinfo: the hypervisor's device-tree parser, run on the host.
 *
 * It reads a DTB file and runs the same bootinfo_parse() the image runs at
 * boot, so a tree can be checked (and the runner can learn what RAM the
 * image will use) before QEMU is started. Output, one range per line, hex:
 *
 *     usable 0x<start> 0x<end>
 *     reserved 0x<start> 0x<end> <kind>
 *     module <kernel|ramdisk|module> 0x<start> 0x<end> <node path>
 *
 * Ends are exclusive. The file's own location is unknown, so the DTB is not
 * reserved unless --dtb-at gives the address it will be loaded at (as the
 * runner does, 0x40000000); --image START END carves out an image likewise.
 * -v first prints the boot-log summary the image would print.
 *
 * A file that cannot be read or parsed gives "dtbinfo: FILE: <message>" on
 * stderr and exit status 1; a bad command line gives status 2. Warnings go
 * to stderr too and leave the status at 0.
 */
#include <dt/bootinfo.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DTB_SIZE (64u << 20)   /* far above any real tree; bounds the read */

static const char *prog = "dtbinfo";

static void usage(void)
{
    fprintf(stderr, "usage: %s [-v] [--dtb-at ADDR] [--image START END] FILE.dtb\n", prog);
    exit(2);
}

static bool parse_addr(const char *s, paddr_t *out)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(s, &end, 0);
    if (errno || end == s || *end || s[0] == '-')
        return false;
    *out = v;
    return true;
}

/*
 * Reads the whole file into a buffer of exactly its size (malloc aligns it
 * as libfdt needs), so the parser sees nothing beyond what the file holds.
 */
static void *read_file(const char *path, size_t *size, const char **why)
{
    FILE *f = fopen(path, "rb");
    size_t cap = 65536, len = 0;
    char *buf, *exact;

    if (!f) {
        *why = strerror(errno);
        return NULL;
    }
    buf = malloc(cap);
    while (buf) {
        size_t n = fread(buf + len, 1, cap - len, f);

        len += n;
        if (n == 0)
            break;
        if (len == cap) {
            if (cap >= MAX_DTB_SIZE) {
                *why = "file too large for a device tree";
                free(buf);
                fclose(f);
                return NULL;
            }
            cap *= 2;
            char *bigger = realloc(buf, cap);
            if (!bigger)
                free(buf);
            buf = bigger;
        }
    }
    if (!buf || ferror(f)) {
        *why = buf ? strerror(errno) : "out of memory";
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    exact = malloc(len ? len : 1);
    if (!exact) {
        *why = "out of memory";
        free(buf);
        return NULL;
    }
    memcpy(exact, buf, len);
    free(buf);
    *size = len;
    return exact;
}

int main(int argc, char **argv)
{
    static struct bootinfo bi;
    char err[BOOTINFO_ERR_LEN];
    paddr_t dtb_at = BOOTINFO_PA_UNKNOWN, image_start = 0, image_end = 0;
    const char *file = NULL, *why = NULL;
    bool verbose = false;
    size_t size = 0;
    void *blob;
    int i;

    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-v")) {
            verbose = true;
        } else if (!strcmp(argv[i], "--dtb-at")) {
            if (++i >= argc || !parse_addr(argv[i], &dtb_at) || dtb_at == BOOTINFO_PA_UNKNOWN)
                usage();
        } else if (!strcmp(argv[i], "--image")) {
            if (i + 2 >= argc || !parse_addr(argv[i + 1], &image_start) ||
                !parse_addr(argv[i + 2], &image_end) || image_end < image_start)
                usage();
            i += 2;
        } else if (argv[i][0] == '-' || file) {
            usage();
        } else {
            file = argv[i];
        }
    }
    if (!file)
        usage();

    blob = read_file(file, &size, &why);
    if (!blob) {
        fprintf(stderr, "%s: %s: %s\n", prog, file, why);
        return 1;
    }
    /* the parser insists the blob's range is representable */
    if (dtb_at != BOOTINFO_PA_UNKNOWN && dtb_at > ~(paddr_t)0 - size) {
        fprintf(stderr, "%s: --dtb-at 0x%llx: the file would wrap around the address space\n",
                prog, (unsigned long long)dtb_at);
        free(blob);
        return 2;
    }
    if (bootinfo_parse(blob, size, dtb_at, image_start, image_end, &bi, err)) {
        fprintf(stderr, "%s: %s: %s\n", prog, file, err);
        free(blob);
        return 1;
    }
    free(blob);

    if (verbose)
        bootinfo_print(&bi);
    for (unsigned int w = 0; w < bi.nr_warnings && w < BOOTINFO_MAX_WARNINGS; w++)
        fprintf(stderr, "%s: %s: warning: %s\n", prog, file, bi.warning[w]);
    for (unsigned int u = 0; u < bi.nr_usable; u++)
        printf("usable 0x%llx 0x%llx\n", (unsigned long long)bi.usable[u].start,
               (unsigned long long)bi.usable[u].end);
    for (unsigned int r = 0; r < bi.nr_reserved; r++)
        printf("reserved 0x%llx 0x%llx %s\n", (unsigned long long)bi.reserved[r].start,
               (unsigned long long)bi.reserved[r].end, reserved_kind_name(bi.reserved[r].kind));
    for (unsigned int m = 0; m < bi.nr_modules; m++)
        printf("module %s 0x%llx 0x%llx %s\n", bootmodule_kind_name(bi.module[m].kind),
               (unsigned long long)bi.module[m].start,
               (unsigned long long)(bi.module[m].start + bi.module[m].size), bi.module[m].path);
    return fflush(stdout) ? 1 : 0;
}
