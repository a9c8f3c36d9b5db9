#!/usr/bin/env bash
# Boots the hypervisor image under QEMU.
#
#   tests/qemu.sh run   [MEM=1G] [SMP=1] [APPEND="..."] [DTB=file.dtb|file.dts] [QEMU_EXTRA="..."]
#   QEMU=qemu-system-arm tests/qemu.sh run ...   the 32-bit emulator instead (see QEMU below)
#
# Semihosting is on so that the image can end QEMU with its pass/fail status
# (SEMIHOSTING=off tests the PSCI SYSTEM_OFF fallback).
#
# DTB=FILE makes the image boot with exactly FILE as its device tree. QEMU's
# own -dtb cannot do that: it rejects a blob with a bad header and rewrites
# every /memory node from -m. So QEMU starts halted and gdb, through QEMU's
# gdb stub, writes FILE (padded with zeros to 64 KiB, so nothing of QEMU's
# tree shows through) over the tree QEMU placed at the start of RAM, before
# the first instruction runs. APPEND is written into FILE's /chosen/bootargs
# with fdtput when FILE is valid enough for that.
set -u

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
IMAGE=${IMAGE:-$top/build/arm/hyp.elf}
TIMEOUT=${TIMEOUT:-300}
DTB_PA=0x40000000

# The emulator. qemu-system-aarch64 (from the same qemu-system-arm package)
# runs this 32-bit image on the same virt machine with the same Cortex-A15,
# and walks LPAE tables correctly wherever they lie. qemu-system-arm 7.2, the
# 32-bit build, fetches every table descriptor through a 32-bit address: a
# table above 4 GiB is read 4 GiB lower and translations come out wrong,
# silently. QEMU=qemu-system-arm still works for RAM below 4 GiB (and shows
# the image refusing to run on such a walker when it has RAM above).
QEMU=${QEMU:-qemu-system-aarch64}

# QEMU runs each vCPU in its own host thread. With more vCPUs than host
# cores, a ticket-lock hand-over waits until the host happens to schedule the
# next ticket's thread, and lock-heavy tests crawl (minutes at -smp 8 on two
# cores). Then we use QEMU's round-robin mode, where a waiting CPU's WFE
# yields to the next vCPU at once. Real parallelism is tested with at most as
# many vCPUs as host cores.
tcg_threading() {  # SMP
    if [ "$1" -gt "$(nproc)" ]; then printf '%s\0' -accel tcg,thread=single; fi
}

qemu_args() {   # MEM SMP APPEND MACHINE_OPTS
    local machine="virt,virtualization=on${4:+,$4}"
    tcg_threading "$2"
    printf '%s\0' -M "$machine" -cpu cortex-a15 -m "$1" -smp "$2" -nic none \
        -semihosting-config "enable=${SEMIHOSTING:-on},target=native" \
        -kernel "$IMAGE" -append "$3"
}

# Produces a padded blob from a .dts or .dtb, with bootargs set if possible.
prepare_dtb() {  # FILE APPEND OUT
    local src=$1 append=$2 out=$3
    case "$src" in
        *.dts) dtc -q -I dts -O dtb -o "$out" "$src" || { echo "qemu.sh: dtc failed on $src" >&2; return 1; } ;;
        *) cp "$src" "$out" ;;
    esac
    if [ -n "$append" ]; then
        fdtput -t s "$out" /chosen bootargs "$append" 2>/dev/null ||
            echo "qemu.sh: could not set bootargs in $src (not a valid tree?); booting it as is" >&2
    fi
    local size
    size=$(stat -c %s "$out")
    [ "$size" -lt 65536 ] && truncate -s 65536 "$out"
    return 0
}

# Runs QEMU (stdout/stderr to the caller) under a timeout; returns QEMU's status.
# Arguments: MEM SMP APPEND DTB MACHINE_OPTS [extra qemu args...]
boot() {
    local mem=$1 smp=$2 append=$3 dtb=$4 mopts=$5
    shift 5
    local -a args
    mapfile -d '' args < <(qemu_args "$mem" "$smp" "$append" "$mopts")
    if [ -z "$dtb" ]; then
        timeout --foreground "$TIMEOUT" "$QEMU" "${args[@]}" "$@" </dev/null
        return $?
    fi
    local tmp sock blob pid status
    tmp=$(mktemp -d)
    blob=$tmp/dtb
    sock=$tmp/gdb.sock
    prepare_dtb "$dtb" "$append" "$blob" || { rm -rf "$tmp"; return 125; }
    timeout --foreground "$TIMEOUT" "$QEMU" "${args[@]}" "$@" -S \
        -gdb "unix:$sock,server=on,wait=off" </dev/null &
    pid=$!
    for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
    if ! gdb-multiarch -nx -q -batch -ex 'set architecture armv7' -ex "target remote $sock" \
            -ex "restore $blob binary $DTB_PA" -ex detach >"$tmp/gdb.log" 2>&1; then
        echo "qemu.sh: gdb could not write the device tree:" >&2
        cat "$tmp/gdb.log" >&2
        kill "$pid" 2>/dev/null
    fi
    wait "$pid"
    status=$?
    rm -rf "$tmp"
    return $status
}

main() {
    local mode=${1:-run}
    shift || true
    local MEM=1G SMP=1 APPEND="" DTB="" QEMU_EXTRA=""
    for a in "$@"; do
        case "$a" in
            MEM=*|SMP=*|APPEND=*|DTB=*|QEMU_EXTRA=*) eval "${a%%=*}=\"\${a#*=}\"" ;;
            *) echo "qemu.sh: unknown option $a" >&2; exit 2 ;;
        esac
    done
    [ -f "$IMAGE" ] || { echo "qemu.sh: no image at $IMAGE (run make)" >&2; exit 2; }
    local -a extra=()
    [ -n "$QEMU_EXTRA" ] && read -r -a extra <<<"$QEMU_EXTRA"
    case "$mode" in
        run)
            echo "qemu.sh: booting $IMAGE under $QEMU with -m $MEM -smp $SMP${APPEND:+ -append \"$APPEND\"}${DTB:+, device tree $DTB}" >&2
            boot "$MEM" "$SMP" "$APPEND" "$DTB" "" -display none -serial stdio -monitor none "${extra[@]}"
            local rc=$?
            [ $rc -eq 124 ] && echo "qemu.sh: timed out after ${TIMEOUT}s" >&2
            echo "qemu.sh: QEMU exited with status $rc" >&2
            exit $rc ;;
        *) echo "qemu.sh: unknown mode $mode" >&2; exit 2 ;;
    esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    main "$@"
fi
