#!/usr/bin/env bash
# Checks the runner's boot modules without booting the hypervisor: the tree
# that tests/qemu.sh builds for KERNEL=/INITRD=/KERNEL_ARGS= is read back
# with fdtget (module nodes, addresses, sizes, compatibles, bootargs), a
# given DTB= keeps its own nodes and gains the modules, bad requests are
# refused, and QEMU's loader really puts each file's bytes at the address
# its node names (read back through the gdb stub before the first
# instruction). Writes its log to LOGS/modules.log; exits non-zero on any
# failure.
set -u
logs=${1:-build/test-logs}
mkdir -p "$logs"
log=$logs/modules.log
: >"$log"
top=$(cd "$(dirname "$0")/.." && pwd)
source "$top/tests/qemu.sh"
status=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

say() { echo "$*" >>"$log"; }
bad() { say "FAIL: $*"; status=1; }

# Expects fdtget's output for NODE PROP (fdtget options first) to be WANT.
expect_prop() {  # DTB WANT FDTGET-ARGS...
    local dtb=$1 want=$2 got
    shift 2
    got=$(fdtget "$@" 2>&1)
    if [ "$got" = "$want" ]; then
        say "ok: fdtget $* = $want"
    else
        bad "fdtget $*: got '$got', expected '$want' ($dtb)"
    fi
}

# Kernel and initrd of known sizes: the guest itself, and an odd-sized initrd.
kernel=$top/build/guest/testguest.bin
[ -f "$kernel" ] || { say "FAIL: no $kernel (make guest)"; exit 1; }
initrd=$work/initrd.img
head -c 3000001 /dev/urandom >"$initrd"
ksize=$(stat -c %s "$kernel")
isize=$(stat -c %s "$initrd")
initrd_pa=$(( (0x48000000 + ksize + 0x1fffff) & ~0x1fffff ))
kargs="seed=7 initrd_len=$isize initrd_cksum=$(cksum <"$initrd" | cut -d' ' -f1)"

say "== QEMU's tree for -m 512M -smp 2, kernel $ksize bytes, initrd $isize bytes"
dtb=$work/modules.dtb
if ! make_module_dtb 512M 2 "test=none" "$kernel" "$initrd" "$kargs" "" "$dtb" 2>>"$log"; then
    bad "make_module_dtb refused a valid request"
else
    k=/chosen/module@48000000
    i=$(printf '/chosen/module@%x' "$initrd_pa")
    expect_prop "$dtb" 2 "$dtb" /chosen '#address-cells'
    expect_prop "$dtb" 2 "$dtb" /chosen '#size-cells'
    expect_prop "$dtb" "0 48000000 0 $(printf %x "$ksize")" -t x "$dtb" "$k" reg
    expect_prop "$dtb" "multiboot,kernel multiboot,module" "$dtb" "$k" compatible
    expect_prop "$dtb" "$kargs" "$dtb" "$k" bootargs
    expect_prop "$dtb" "0 $(printf %x "$initrd_pa") 0 $(printf %x "$isize")" -t x "$dtb" "$i" reg
    expect_prop "$dtb" "multiboot,ramdisk multiboot,module" "$dtb" "$i" compatible
    # The rest of QEMU's tree is still there: both CPUs, the UART, -m's memory.
    expect_prop "$dtb" "0 40000000 0 20000000" -t x "$dtb" /memory@40000000 reg
    cpus=$(fdtget -l "$dtb" /cpus | grep '^cpu@' | tr '\n' ' ')
    [ "$cpus" = "cpu@0 cpu@1 " ] && say "ok: /cpus holds $cpus" || bad "/cpus holds '$cpus'"
    expect_prop "$dtb" "test=none" "$dtb" /chosen bootargs
    want="-device loader,file=$kernel,addr=0x48000000,force-raw=on -device loader,file=$initrd,addr=$(printf 0x%x "$initrd_pa"),force-raw=on"
    if [ "${module_loader_args[*]}" = "$want" ]; then
        say "ok: loader arguments $want"
    else
        bad "loader arguments '${module_loader_args[*]}', expected '$want'"
    fi

    # The loader puts the bytes where the nodes say: read them back before
    # the first instruction, through the gdb stub.
    sock=$work/gdb.sock
    mapfile -d '' args < <(qemu_args 512M 1 "" "")
    timeout 60 "$QEMU" "${args[@]}" "${module_loader_args[@]}" -display none -S \
        -gdb "unix:$sock,server=on,wait=off" </dev/null >>"$log" 2>&1 &
    qpid=$!
    for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
    gdb-multiarch -nx -q -batch -ex 'set architecture armv7' -ex "target remote $sock" \
        -ex "dump binary memory $work/k.out 0x48000000 $((0x48000000 + ksize))" \
        -ex "dump binary memory $work/i.out $initrd_pa $((initrd_pa + isize))" \
        -ex kill >>"$log" 2>&1
    kill "$qpid" 2>/dev/null
    wait "$qpid" 2>/dev/null
    if cmp -s "$kernel" "$work/k.out" && cmp -s "$initrd" "$work/i.out"; then
        say "ok: QEMU's memory holds the kernel at 0x48000000 and the initrd at $(printf 0x%x "$initrd_pa")"
    else
        bad "the memory at the module addresses does not hold the files"
    fi
fi

say "== the initrd goes to the next 2 MiB boundary after the kernel"
for size in 2097152 2097153; do
    head -c "$size" /dev/zero >"$work/k$size"
    want=$(( size == 2097152 ? 0x48200000 : 0x48400000 ))
    if make_module_dtb 512M 1 "" "$work/k$size" "$initrd" "" "" "$work/b.dtb" 2>>"$log"; then
        expect_prop "$work/b.dtb" "0 $(printf %x $want) 0 $(printf %x "$isize")" \
            -t x "$work/b.dtb" "$(printf '/chosen/module@%x' $want)" reg
    else
        bad "a $size-byte kernel was refused"
    fi
done

say "== DTB= gets the modules added to it"
if make_module_dtb 1G 1 "" "$kernel" "" "a b" "$top/tests/dt/two-banks.dts" "$work/t.dtb" 2>>"$log"; then
    expect_prop "$work/t.dtb" "a b" "$work/t.dtb" /chosen/module@48000000 bootargs
    if fdtget -l "$work/t.dtb" / | grep -q '^memory@60000000$'; then
        say "ok: two-banks.dts keeps its second bank"
    else
        bad "the tree built from two-banks.dts lost its second bank"
    fi
else
    bad "modules could not be added to tests/dt/two-banks.dts"
fi

say "== refusals"
# Each must fail with status 2 and say why. Arguments: WHAT PATTERN qemu.sh-ARGS...
refuse() {
    local what=$1 pattern=$2 out rc
    shift 2
    out=$("$top/tests/qemu.sh" run "$@" 2>&1 </dev/null); rc=$?
    if [ "$rc" -eq 2 ] && grep -q -- "$pattern" <<<"$out"; then
        say "ok: $what refused: $(grep -- "$pattern" <<<"$out")"
    else
        bad "$what: status $rc, output: $out"
    fi
}
refuse "a missing kernel" "KERNEL=$work/none: no such file" KERNEL="$work/none"
refuse "a missing initrd" "INITRD=$work/none: no such file" KERNEL="$kernel" INITRD="$work/none"
refuse "MEM too small for the kernel" "MEM=128M is too small for the boot modules" \
    MEM=128M KERNEL="$kernel"
refuse "MEM too small for the initrd" "MEM=130M is too small for the boot modules: .* the initrd ends" \
    MEM=130M KERNEL="$kernel" INITRD="$initrd"
refuse "INITRD= without KERNEL=" "need KERNEL=" INITRD="$initrd"

[ "$status" -eq 0 ] && say "all passed"
exit $status
