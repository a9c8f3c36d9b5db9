#!/usr/bin/env bash
# Checks the gdb path of `make debug`: symbols before and after the MMU is on,
# breakpoints at physical and virtual addresses, and reading hypervisor state;
# and, through it, boot-stub rules QEMU cannot show otherwise (ACTLR.SMP set
# and BSS invalidated with the caches off, first: tests/gdb-check*.gdb).
set -u
log=${1:-build/test-logs}/gdb.log
mkdir -p "$(dirname "$log")"
GDB_BATCH=tests/gdb-check.gdb timeout 60 tools/debug.sh MEM=512M >"$log" 2>&1
status=0
expect() { grep -qE -- "$1" "$log" || { echo "missing: $1" >>"$log"; status=1; }; }
expect '^(_entry|_stext) in section \.text'                      # PA of the entry, named
expect '^actlr_write in section \.text'                 # ACTLR.SMP written first ...
expect '^actlr-smp-written 1 with-mmu-and-caches-off 1$'
expect '^invalidate_dcache_range in section \.text'     # ... then BSS invalidated ...
expect '^bss-invalidate-range-is-bss 1 with-mmu-and-caches-off 1$'
expect '^bss_invalidated in section \.text'             # ... all of it
expect '^bss-invalidated-to-its-end 1$'
expect '^create_boot_tables in section \.text'          # stub breakpoint hit (PA)
expect '^start_hyp in section \.text'                   # C breakpoint hit (VA)
expect '^\$1 = 0x40000000'                              # the physical offset the stub computed
expect '^\$2 = 0x1a'                                    # Hyp mode
expect '^level 2 \[1\] = 0x[0-9a-f]+[37]$'              # the image's level-3 table entry

# The secondary CPU's way in: its own ACTLR.SMP write, before its MMU is on.
{ echo; echo "=== SMP=2"; } >>"$log"
GDB_BATCH=tests/gdb-check-smp.gdb timeout 60 tools/debug.sh MEM=512M SMP=2 >>"$log" 2>&1
expect '^actlr-smp-written-on-cpu-thread 1 with-mmu-and-caches-off 1$'
expect '^actlr-smp-written-on-cpu-thread 2 with-mmu-and-caches-off 1$'
exit $status
