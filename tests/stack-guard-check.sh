#!/usr/bin/env bash
# Checks that the stack protector's guard changes from boot to boot because of the device
# tree's seeds, without showing it: gdb reads __stack_chk_guard once start_hyp() has set it
# (at vm_init), and only "same" or "different" is printed.
#
# Under -icount shift=0,sleep=off CNTPCT counts instructions, so it reads the same in two
# boots (with sleep=on, the default, it did not):
#   - QEMU's own tree (a fresh /chosen/rng-seed and kaslr-seed each boot): the guards differ;
#   - that tree without both seeds: the guards are the same (the image warns): the check can
#     tell, and CNTPCT alone is no source of its own here.
# Usage: tests/stack-guard-check.sh [LOG_DIR]; status 0 if both hold.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
source tests/qemu.sh

dir=${1:-build/test-logs}/stack-guard
mkdir -p "$dir"
log=$dir/../stack-guard.log
: >"$log"

# One boot halted at vm_init; prints the guard on stdout (captured, never echoed).
guard_of_one_boot() {  # NAME [DTB]
    local name=$1 dtb=${2:-} sock=$dir/$1.sock qpid args gdbargs
    rm -f "$sock"
    mapfile -d '' args < <(qemu_args 512M 1 "test=none" "")
    "$QEMU" "${args[@]}" -icount shift=0,sleep=off -display none -serial "file:$dir/$name.console" \
        -monitor none -S -gdb "unix:$sock,server=on,wait=off" </dev/null &
    qpid=$!
    for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
    gdbargs=(-nx -q -batch -ex "file $IMAGE" -ex "target remote $sock")
    [ -n "$dtb" ] && gdbargs+=(-ex "restore $dtb binary $DTB_PA")
    timeout 60 gdb-multiarch "${gdbargs[@]}" -ex "break vm_init" -ex continue \
        -ex 'printf "guard=%08x\n", __stack_chk_guard' -ex kill 2>>"$log" |
        sed -n 's/^guard=\([0-9a-f]\{8\}\)$/\1/p'
    kill "$qpid" 2>/dev/null
    wait "$qpid" 2>/dev/null
}

compare() {  # WHAT WANT(same|different) A B
    local got=different
    [ "$3" = "$4" ] && got=same
    if [ -z "$3" ] || [ -z "$4" ]; then
        echo "FAIL  $1: gdb read no guard (see $log)"
        return 1
    fi
    echo "$1: the guards of two boots are $got (want $2)" >>"$log"
    if [ "$got" = "$2" ]; then echo "ok    $1: $got"; else echo "FAIL  $1: $got, want $2"; return 1; fi
}

status=0
a=$(guard_of_one_boot seeded-1)
b=$(guard_of_one_boot seeded-2)
compare "QEMU's tree, fresh rng-seed and kaslr-seed" different "$a" "$b" || status=1
grep -q "^stack protector: guard from /chosen/rng-seed, /chosen/kaslr-seed" "$dir/seeded-1.console" ||
    { echo "FAIL  the seeded boot did not say where its guard came from"; status=1; }

"$QEMU" -M virt,virtualization=on,dumpdtb="$dir/virt.dtb" -cpu cortex-a15 -m 512M -nic none \
    >/dev/null 2>&1
fdtput -d "$dir/virt.dtb" /chosen rng-seed && fdtput -d "$dir/virt.dtb" /chosen kaslr-seed &&
    prepare_dtb "$dir/virt.dtb" "test=none" "$dir/unseeded.dtb" || { echo "FAIL  no unseeded tree"; exit 1; }
a=$(guard_of_one_boot unseeded-1 "$dir/unseeded.dtb")
b=$(guard_of_one_boot unseeded-2 "$dir/unseeded.dtb")
compare "the same tree without seeds (CNTPCT only, repeatable under -icount)" same "$a" "$b" ||
    status=1
grep -q "^stack protector: warning: the device tree has no /chosen/rng-seed or kaslr-seed" \
    "$dir/unseeded-1.console" || { echo "FAIL  the unseeded boot gave no warning"; status=1; }
exit $status
