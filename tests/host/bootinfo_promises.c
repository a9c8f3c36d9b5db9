/*
 * The promises of include/dt/bootinfo.h, as a checker (see bootinfo_promises.h).
 */
#include <lib/lib.h>
#include <string.h>

#include "bootinfo_promises.h"

static bool ranges_sorted_disjoint(const struct mem_range *r, unsigned int n)
{
    for (unsigned int i = 0; i < n; i++) {
        if (r[i].start >= r[i].end)
            return false;
        if (i && r[i].start < r[i - 1].end)
            return false;
    }
    return true;
}

static bool has_nul(const char *s, size_t size)
{
    return memchr(s, '\0', size) != NULL;
}

/* A one-line message fit for the console: terminated, not empty, printable. */
bool bootinfo_good_message(const char *s, size_t size)
{
    if (!has_nul(s, size) || !s[0])
        return false;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
            return false;
    return true;
}

/* What include/dt/bootinfo.h promises after a successful parse; returns what broke, or NULL. */
const char *bootinfo_check_promises(const struct bootinfo *bi)
{
    if (bi->nr_ram == 0 || bi->nr_ram > BOOTINFO_MAX_BANKS)
        return "nr_ram";
    if (!ranges_sorted_disjoint(bi->ram, bi->nr_ram))
        return "ram not sorted/disjoint";
    if (bi->ram[bi->nr_ram - 1].end > BOOTINFO_PA_LIMIT)
        return "ram beyond 40 bits";
    if (bi->nr_usable > BOOTINFO_MAX_BANKS || !ranges_sorted_disjoint(bi->usable, bi->nr_usable))
        return "usable not sorted/disjoint";
    if (bi->nr_reserved > BOOTINFO_MAX_RESERVED)
        return "nr_reserved";
    for (unsigned int i = 0; i < bi->nr_reserved; i++) {
        if (bi->reserved[i].start >= bi->reserved[i].end)
            return "empty reserved range";
        if (i && bi->reserved[i].start < bi->reserved[i - 1].start)
            return "reserved not sorted";
    }
    for (unsigned int i = 0; i < bi->nr_usable; i++) {
        const struct mem_range *u = &bi->usable[i];
        bool in_ram = false;

        if (!IS_ALIGNED(u->start, PAGE_SIZE) || !IS_ALIGNED(u->end, PAGE_SIZE))
            return "usable not page-aligned";
        for (unsigned int j = 0; j < bi->nr_ram; j++)
            in_ram |= u->start >= bi->ram[j].start && u->end <= bi->ram[j].end;
        if (!in_ram)
            return "usable outside RAM";
        for (unsigned int j = 0; j < bi->nr_reserved; j++)
            if (u->start < bi->reserved[j].end && bi->reserved[j].start < u->end)
                return "usable overlaps reserved";
    }
    /* no CPU in the tree (the boot CPU runs alone) only when the tree names none */
    if ((bi->nr_cpus == 0 && bi->nr_cpus_in_tree != 0) || bi->nr_cpus > BOOTINFO_MAX_CPUS ||
        bi->nr_cpus > bi->nr_cpus_in_tree)
        return "nr_cpus";
    if (!has_nul(bi->bootargs, sizeof(bi->bootargs)))
        return "bootargs unterminated";
    if (!has_nul(bi->console_path, sizeof(bi->console_path)))
        return "console_path unterminated";
    if (bi->console_from_stdout_path && !bi->has_console)
        return "console from stdout-path without a console";
    if (bi->nr_modules > BOOTINFO_MAX_MODULES)
        return "nr_modules";
    for (unsigned int i = 0; i < bi->nr_modules; i++) {
        const struct bootmodule *m = &bi->module[i];
        bool in_ram = false, reserved = false;

        if (m->size == 0 || m->start + m->size > BOOTINFO_PA_LIMIT)
            return "module empty or beyond 40 bits";
        for (unsigned int j = 0; j < bi->nr_ram; j++)
            in_ram |= m->start >= bi->ram[j].start && m->start + m->size <= bi->ram[j].end;
        if (!in_ram)
            return "module outside RAM";
        for (unsigned int j = 0; j < i; j++)
            if (m->start < bi->module[j].start + bi->module[j].size &&
                bi->module[j].start < m->start + m->size)
                return "modules overlap";
        for (unsigned int j = 0; j < bi->nr_reserved; j++)
            reserved |= bi->reserved[j].kind == RESV_MODULE &&
                        bi->reserved[j].start == m->start &&
                        bi->reserved[j].end == m->start + m->size;
        if (!reserved)
            return "module not reserved";
        if (!has_nul(m->cmdline, sizeof(m->cmdline)) || !has_nul(m->path, sizeof(m->path)))
            return "module strings unterminated";
    }
    for (unsigned int i = 0; i < bi->nr_warnings && i < BOOTINFO_MAX_WARNINGS; i++)
        if (!bootinfo_good_message(bi->warning[i], sizeof(bi->warning[i])))
            return "bad warning text";
    return NULL;
}
