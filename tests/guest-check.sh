#!/usr/bin/env bash
# Runs the test guest (build/guest/testguest.bin) without the hypervisor, to
# show that its checks pass and fail where they should: on QEMU's virt
# machine without virtualization, the guest starts in SVC mode and QEMU
# itself answers PSCI through HVC (CPU_ON, CPU_OFF, SYSTEM_OFF/RESET, ...),
# while gdb stands in for the console hypercall (tests/guest-console.py).
# The guest is written at its link address through the gdb stub, over QEMU's
# own tree (which QEMU places at the start of RAM even without a kernel),
# and entered with the zImage protocol's registers; its tree (QEMU's, with
# bootargs and an initrd added) and the initrd go in with QEMU's loader.
#
# Without a hypervisor there is no stage 2: the words outside RAM still abort
# (QEMU answers unassigned addresses with an external abort), the GIC is in
# the tree (so it must read without a fault; without virtualization QEMU has
# no GIC hypervisor interface, which must abort) and QEMU's PSCI is 1.1, so
# exactly psci_version must fail. A second run plants a word in free RAM and gives a wrong
# initrd_cksum, which ram_zero and initrd must catch.
# Writes LOGS/guest-*.log; exits non-zero on any failure.
set -u
logs=${1:-build/test-logs}
mkdir -p "$logs"
top=$(cd "$(dirname "$0")/.." && pwd)
QEMU=${QEMU:-qemu-system-aarch64}
bin=$top/build/guest/testguest.bin
elf=$top/build/guest/testguest.elf
status=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

RAM_MIB=64
DT_PA=0x43f00000
INITRD_PA=0x43000000

# Boots the guest. Arguments: NAME SMP BOOTARGS [gdb commands run before it starts...]
run_guest() {
    local name=$1 smp=$2 args=$3 ilen sock=$work/gdb.sock qpid
    shift 3
    local log=$logs/guest-$name.log
    "$QEMU" -M "virt,dumpdtb=$work/virt.dtb" -cpu cortex-a15 -m "${RAM_MIB}M" -smp "$smp" \
        -nic none >/dev/null 2>&1
    ilen=$(stat -c %s "$work/initrd")
    fdtput -t s "$work/virt.dtb" /chosen bootargs "$args"
    fdtput -t x "$work/virt.dtb" /chosen linux,initrd-start 0 "${INITRD_PA#0x}"
    fdtput -t x "$work/virt.dtb" /chosen linux,initrd-end 0 "$(printf %x $((INITRD_PA + ilen)))"
    head -c 1048576 /dev/zero >"$work/zero"
    rm -f "$sock"
    timeout 120 "$QEMU" -M virt -cpu cortex-a15 -m "${RAM_MIB}M" -smp "$smp" -nic none \
        -display none -monitor none -serial "file:$log.uart" -no-reboot \
        -device "loader,file=$work/virt.dtb,addr=$DT_PA,force-raw=on" \
        -device "loader,file=$work/initrd,addr=$INITRD_PA,force-raw=on" \
        -S -gdb "unix:$sock,server=on,wait=off" </dev/null >"$log.qemu" 2>&1 &
    qpid=$!
    for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
    local -a pre=()
    for c in "$@"; do pre+=(-ex "$c"); done
    timeout 110 gdb-multiarch -nx -q -batch -ex 'set architecture armv7' \
        -ex "target remote $sock" \
        -ex "set \$guest_elf = \"$elf\"" -ex "set \$guest_log = \"$log\"" \
        -ex "source $top/tests/guest-console.py" \
        -ex "restore $work/zero binary 0x40000000" -ex "restore $bin binary 0x40008000" \
        "${pre[@]}" \
        -ex 'set $r0 = 0' -ex 'set $r1 = 0xffffffff' -ex "set \$r2 = $DT_PA" \
        -ex 'set $cpsr = 0x1d3' -ex 'set $pc = 0x40008000' -ex continue \
        >"$log.gdb" 2>&1
    wait "$qpid"
}

# Checks that LOG has a line matching each pattern. Arguments: NAME LOG PATTERN...
expect_lines() {
    local name=$1 log=$2 p
    shift 2
    for p in "$@"; do
        if ! grep -qE -- "$p" "$log"; then
            echo "FAIL guest $name: no line matching: $p (see $log)"
            status=1
        fi
    done
}

# Checks the set of verdict lines exactly. Arguments: NAME LOG EXPECTED-VERDICTS
expect_verdicts() {
    local got
    got=$(grep -oE '^\(d1\) (ok [a-z_]+|FAIL [a-z_]+)' "$2" | sed 's/^(d1) //' | sort | tr '\n' ' ')
    if [ "$got" != "$3" ]; then
        echo "FAIL guest $1: verdicts '$got', expected '$3' (see $2)"
        status=1
    fi
}

head -c 1000003 /dev/urandom >"$work/initrd"
ilen=$(stat -c %s "$work/initrd")
ck=$(cksum <"$work/initrd" | cut -d' ' -f1)

run_guest smp2 2 "seed=5 initrd_len=$ilen initrd_cksum=$ck poke=0x44100000"
log=$logs/guest-smp2.log
expect_verdicts smp2 "$log" "$(printf '%s\n' 'FAIL psci_version' ok\ {gic,entry,dt,bootargs,ram_zero,ram_writable,ram_bounds,exec,initrd,psci_features,cpu_on,cpu_on_already_on,cpu_on_absent,cpu_off,uart,poke} | sort | tr '\n' ' ')"
expect_lines smp2 "$log" '^\(d1\) testguest: cpu 1 up: context id 0xc0de0001' \
    'ram_bounds: touching 0x3ffffffc \(below bank 0\)' 'ram_bounds: touching 0x44000000 \(above bank 0\)' \
    '^\(d1\) guest: 1 failed$' '^verdict: SYSTEM_RESET$'
expect_lines smp2 "$log.uart" '^testguest: hello through the passed-through UART$'

run_guest planted 1 "seed=6 initrd_len=$ilen initrd_cksum=$((ck ^ 1))" 'set *(unsigned int *)0x42000000 = 0x1234'
log=$logs/guest-planted.log
expect_lines planted "$log" '^\(d1\) FAIL ram_zero: 0x42000000 reads 0x00001234, not 0' \
    "^\(d1\) FAIL initrd: cksum $ck, initrd_cksum= says $((ck ^ 1))" \
    '^\(d1\) # smp: one VCPU' '^\(d1\) guest: 3 failed$' '^verdict: SYSTEM_RESET$'

exit $status
