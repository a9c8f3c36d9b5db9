#!/usr/bin/env bash
# make debug: starts QEMU halted at the image's first instruction with its gdb
# stub, and attaches gdb-multiarch with symbols for the boot stub (physical
# addresses, MMU off) and for the rest (link addresses). The console goes to
# build/debug/console.log: watch it with `tail -f` in another terminal.
#
#   tools/debug.sh [MEM=1G] [SMP=1] [APPEND=...] [DTB=...]
#   GDB_BATCH=FILE tools/debug.sh ...   runs gdb non-interactively on FILE
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
source tests/qemu.sh

MEM=1G SMP=1 APPEND="" DTB=""
for a in "$@"; do
    case "$a" in
        MEM=*|SMP=*|APPEND=*|DTB=*) eval "${a%%=*}=\"\${a#*=}\"" ;;
        *) echo "debug.sh: unknown option $a" >&2; exit 2 ;;
    esac
done

dir=build/debug
mkdir -p "$dir"
sock=$dir/gdb.sock
rm -f "$sock"
mapfile -d '' args < <(qemu_args "$MEM" "$SMP" "$APPEND" "")
"$QEMU" "${args[@]}" -display none -serial "file:$dir/console.log" -monitor none \
    -S -gdb "unix:$sock,server=on,wait=off" </dev/null &
qpid=$!
trap 'kill $qpid 2>/dev/null' EXIT
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done

gdbargs=(-nx -q -ex "file build/arm/hyp.elf" -x tools/gdbinit -ex "target remote $sock")
if [ -n "$DTB" ]; then
    prepare_dtb "$DTB" "$APPEND" "$dir/dtb" || exit 1
    gdbargs+=(-ex "restore $dir/dtb binary $DTB_PA")
fi
echo "debug.sh: QEMU halted at the entry point; console output goes to $dir/console.log" >&2
if [ -n "${GDB_BATCH:-}" ]; then
    gdb-multiarch -batch "${gdbargs[@]}" -x "$GDB_BATCH"
else
    gdb-multiarch "${gdbargs[@]}"
fi
