#!/usr/bin/env bash
# make debug / make gdbserver: QEMU halted at the image's first instruction,
# its gdb stub on a TCP port of 127.0.0.1 chosen free at start and printed.
#
#   tools/debug.sh debug     [settings]   and gdb-multiarch attached with tools/gdbinit.py
#   tools/debug.sh gdbserver [settings]   QEMU alone, waiting for any gdb or IDE; console here
#   settings: MEM= SMP= APPEND= DTB= KERNEL= INITRD= KERNEL_ARGS= DOM0_MEM= DOM0_VCPUS=,
#             as for make run (tests/qemu.sh), and IMAGE= (default build/arm/hyp.elf)
#   GDB_BATCH=FILE tools/debug.sh debug ...   runs gdb non-interactively on FILE
#
# debug sends the console to build/debug/console.log, or $DEBUG_CONSOLE (watch it
# with tail -f); gdbserver prints it. A tree (DTB=, or boot modules) is written into RAM through
# the stub before anyone attaches, and QEMU stays halted (gdb disconnects
# without detaching).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
source tests/qemu.sh

mode=${1:-}
case "$mode" in
    debug|gdbserver) shift ;;
    *) echo "usage: tools/debug.sh debug|gdbserver [MEM=..] [SMP=..] [APPEND=..] [DTB=..] [KERNEL=..] ..." >&2
       exit 2 ;;
esac
MEM=1G SMP=1 APPEND="" DTB="" KERNEL="" INITRD="" KERNEL_ARGS="" DOM0_MEM="" DOM0_VCPUS=""
for a in "$@"; do
    case "$a" in
        MEM=*|SMP=*|APPEND=*|DTB=*|KERNEL=*|INITRD=*|KERNEL_ARGS=*|DOM0_MEM=*|DOM0_VCPUS=*|IMAGE=*)
            eval "${a%%=*}=\"\${a#*=}\"" ;;
        *) echo "debug.sh: unknown option $a" >&2; exit 2 ;;
    esac
done
IMAGE=$(realpath -m "$IMAGE")
[ -f "$IMAGE" ] || { echo "debug.sh: no image at $IMAGE (run make)" >&2; exit 2; }
export HYPMEM_IMAGE=$IMAGE

dir=build/debug
mkdir -p "$dir"
tmp=$(mktemp -d "$dir/run.XXXXXX")
qpid=""
trap '[ -n "$qpid" ] && kill "$qpid" 2>/dev/null; rm -rf "$tmp"' EXIT

APPEND=$(dom0_append "$APPEND" "$DOM0_MEM" "$DOM0_VCPUS")
module_loader_args=()
if [ -n "$KERNEL" ]; then
    make_module_dtb "$MEM" "$SMP" "$APPEND" "$KERNEL" "$INITRD" "$KERNEL_ARGS" "$DTB" \
        "$tmp/modules.dtb" || exit 2
    DTB=$tmp/modules.dtb
elif [ -n "$INITRD" ] || [ -n "$KERNEL_ARGS" ]; then
    echo "debug.sh: INITRD= and KERNEL_ARGS= need KERNEL=" >&2; exit 2
fi
if [ -n "$DTB" ]; then
    prepare_dtb "$DTB" "$APPEND" "$tmp/dtb" || exit 2
fi

# Is PORT listening on 127.0.0.1? (/proc/net/tcp: local address, state 0A = LISTEN)
listening() {
    grep -qi "^ *[0-9]*: 0100007F:$(printf %04X "$1") 00000000:0000 0A" /proc/net/tcp
}

# A port the kernel says is free; QEMU may still lose it to another run in
# between, in which case it exits at once and we try another.
mapfile -d '' qargs < <(qemu_args "$MEM" "$SMP" "$APPEND" "")
if [ "$mode" = debug ]; then
    console=${DEBUG_CONSOLE:-$dir/console.log}
    : >"$console"
    port_console=(-serial "file:$console")
else
    port_console=(-serial stdio)
fi
for _ in 1 2 3 4 5; do
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "$QEMU" "${qargs[@]}" "${module_loader_args[@]}" -display none "${port_console[@]}" -monitor none \
        -S -gdb "tcp:127.0.0.1:$port,server=on,wait=off" </dev/null &
    qpid=$!
    for _ in $(seq 100); do
        listening "$port" && break
        kill -0 "$qpid" 2>/dev/null || break
        sleep 0.05
    done
    listening "$port" && break
    wait "$qpid" 2>/dev/null
    qpid=""
done
[ -n "$qpid" ] || { echo "debug.sh: QEMU could not start with a gdb stub" >&2; exit 1; }

if [ -n "$DTB" ]; then
    # Written before the first instruction; disconnect leaves QEMU halted.
    if ! gdb-multiarch -nx -q -batch -ex 'set architecture armv7' -ex "target remote 127.0.0.1:$port" \
            -ex "restore $tmp/dtb binary $DTB_PA" -ex disconnect >"$tmp/dtb.log" 2>&1; then
        echo "debug.sh: gdb could not write the device tree:" >&2
        cat "$tmp/dtb.log" >&2
        exit 1
    fi
fi

delta=$(arm-none-eabi-nm "$IMAGE" 2>/dev/null | awk '$3 == "PA_DELTA" { print "0x" $1 }')
echo "debug.sh: QEMU halted at the entry point, gdb stub on 127.0.0.1:$port ($IMAGE)" >&2
if [ "$mode" = gdbserver ]; then
    cat >&2 <<EOF
Attach with:  gdb-multiarch $IMAGE -ex 'source $top/tools/gdbinit.py' -ex 'target remote 127.0.0.1:$port'
or by hand:   gdb-multiarch $IMAGE
              (gdb) add-symbol-file $IMAGE -o ${delta:-0x40000000}
              (gdb) target remote 127.0.0.1:$port
QEMU's console follows; Ctrl-C here stops QEMU.
EOF
    wait "$qpid"
    status=$?
    qpid=""
    exit $status
fi

echo "debug.sh: console output goes to $console" >&2
gdbargs=(-nx -q -x tools/gdbinit.py -ex "target remote 127.0.0.1:$port")
if [ -n "${GDB_BATCH:-}" ]; then
    gdb-multiarch -batch "${gdbargs[@]}" -x "$GDB_BATCH"
    status=$?
else
    gdb-multiarch "${gdbargs[@]}"
    status=$?
fi
exit $status
