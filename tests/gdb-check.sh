#!/usr/bin/env bash
# Checks the gdb path (make debug, make gdbserver, tools/gdbinit.py, tools/gdb/):
#  1. symbols and breakpoints before and after the MMU is on, clean backtraces,
#     no stub symbol on xenheap addresses; through it, boot-stub rules QEMU
#     cannot show otherwise (ACTLR.SMP set and BSS invalidated with the caches
#     off, first: tests/gdb-check*.gdb), on each CPU;
#  2. each helper's output against what the image prints about the same state
#     (tests/arm32/gdb_views.c), number by number (tests/gdb-compare.py), at
#     breakpoints in the allocator, map_domain_page, vmap, on CPU 1, in a
#     trap handler; and each helper's answer to bad input;
#  3. a plain gdb-multiarch, with the README's commands only, attached to
#     make gdbserver's port: a breakpoint in the boot stub and one after the
#     MMU is on.
# Each QEMU gets its own free TCP port (tools/debug.sh), so runs may overlap.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
logs=${1:-build/test-logs}
log=$logs/gdb.log
mkdir -p "$logs"
: >"$log"
image=build/arm/hyp.elf
status=0
expect() { grep -qE -- "$1" "$log" || { echo "missing: $1" >>"$log"; status=1; }; }
refuse() { ! grep -qE -- "$1" "$log" || { echo "present but must not be: $1" >>"$log"; status=1; }; }

# make debug at SMP=2: the secondary CPU's way in (its own ACTLR.SMP write,
# before its MMU is on), then the helpers against the image, number by number.
{ echo; echo "=== make debug: helpers against the image (test=gdb.views, SMP=2)"; } >>"$log"
views=$logs/gdb-views
GDB_VIEWS_CONSOLE=$views.console DEBUG_CONSOLE=$views.console GDB_BATCH=tests/gdb-check-views.gdb \
    timeout 90 tools/debug.sh debug MEM=512M SMP=2 APPEND='test=gdb.views' IMAGE=$image \
    >"$views.gdb.log" 2>&1
if ! grep -q '^ok 1 gdb.views' "$views.console"; then
    echo "the image's gdb.views test did not pass (see $views.console)" >>"$log"; status=1
fi
python3 tests/gdb-compare.py "$views.console" "$views.gdb.log" >>"$log" 2>&1 || status=1
cat "$views.gdb.log" >>"$log"
expect '^actlr-smp-written-on-cpu-thread 1 with-mmu-and-caches-off 1$'
expect '^actlr-smp-written-on-cpu-thread 2 with-mmu-and-caches-off 1$'

# make gdbserver, and a gdb attached to its port the README's two ways, from
# another directory: with tools/gdbinit.py sourced (running tests/gdb-check.gdb),
# and plain, with the documented commands only.
# Arguments: NAME GDB-ARGS..., in which PORT and DELTA are replaced.
gdbserver_session() {
    local name=$1 server_log=$logs/gdbserver-$1.log server port="" delta a
    shift
    { echo; echo "=== make gdbserver, gdb attached: $name"; } >>"$log"
    tools/debug.sh gdbserver MEM=512M IMAGE=$image >"$server_log" 2>&1 &
    server=$!
    for _ in $(seq 100); do
        port=$(sed -n 's/^debug\.sh: .*gdb stub on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$server_log")
        [ -n "$port" ] && break
        sleep 0.1
    done
    if [ -z "$port" ]; then
        echo "make gdbserver printed no port (see $server_log)" >>"$log"; status=1
    else
        delta=$(sed -n 's/.*add-symbol-file .* -o \(0x[0-9a-f]*\)$/\1/p' "$server_log")
        local -a args=()
        for a in "$@"; do a=${a//PORT/$port}; args+=("${a//DELTA/$delta}"); done
        (cd /tmp && timeout 60 gdb-multiarch -nx -q -batch "${args[@]}") >>"$log" 2>&1
    fi
    kill "$server" 2>/dev/null
    wait "$server" 2>/dev/null
}

gdbserver_session script "$top/$image" -ex "source $top/tools/gdbinit.py" -ex "target remote 127.0.0.1:PORT" \
    -x "$top/tests/gdb-check.gdb"
expect '^hypmem: symbols of /.*/build/arm/hyp\.elf'
expect '^(_entry|_stext) in section \.text'                      # PA of the entry, named
expect '^actlr_write in section \.text'                 # ACTLR.SMP written first ...
expect '^actlr-smp-written 1 with-mmu-and-caches-off 1$'
expect '^invalidate_dcache_range in section \.text'     # ... then BSS invalidated ...
expect '^bss-invalidate-range-is-bss 1 with-mmu-and-caches-off 1$'
expect '^bss_invalidated in section \.text'             # ... all of it
expect '^bss-invalidated-to-its-end 1$'
expect '^create_boot_tables in section \.text'          # stub breakpoint hit (PA)
expect '^#1  0x[0-9a-f]+ in bss_invalidated \(\)'       # its caller, and nothing beyond
expect '^start_hyp in section \.text'                   # C breakpoint hit (VA)
expect '^#1  0x[0-9a-f]+ in virt_entry \(\)'
expect '^\$1 = 0x40000000'                              # the physical offset the stub computed
expect '^\$2 = 0x1a'                                    # Hyp mode
expect '^level 2 \[1\] @pa 0x[0-9a-f]+ = 0x[0-9a-f]+: table'    # the image's level-3 table
expect '^level 3 \[0\] @pa 0x[0-9a-f]+ = 0x[0-9a-f]+: page 0x40200000 AP 11 \(read-only\) XN 0'
expect '^va 0x200000 -> pa 0x40200000 \(level 3 page\)'
expect '^\$3 = \(void \*\) 0x40201000$'                 # a xenheap VA, unlabelled
refuse 'corrupt stack|previous frame identical'


gdbserver_session plain "$top/$image" -ex "add-symbol-file $top/$image -o DELTA" \
    -ex "target remote 127.0.0.1:PORT" -ex 'break create_boot_tables' -ex 'break start_hyp' \
    -ex continue -ex 'info symbol $pc' -ex continue -ex 'info symbol $pc' -ex kill
expect '^create_boot_tables in section \.text of .*hyp\.elf'   # the stub, by its physical copy
expect '^Breakpoint [0-9]+\.1, start_hyp '                     # C at its link address
exit $status
