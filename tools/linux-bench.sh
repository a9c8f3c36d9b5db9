#!/usr/bin/env bash
# Boot to user space, in instructions: the same Debian kernel and initramfs booted directly
# by QEMU and as dom0 of hypmem, both under `qemu -icount shift=0`, and their ratio (what
# stage 2 and hypmem's own boot cost).
#
# The measure: under -icount shift=0 QEMU's virtual clock advances one nanosecond per
# instruction, and the generic counter runs on it at CNTFRQ = 62.5 MHz, one tick per 16
# instructions. /init's first command, /bin/cntvct (tests/linux/cntvct.S), prints the
# virtual counter; hypmem sets CNTVOFF = 0 and QEMU's direct boot has no offset, so both
# values count from QEMU's reset: hypmem's boot, dom0's building and Linux's boot up to
# /init for the one, Linux's boot alone for the other. Precision: 16 instructions, plus the
# few hundred /init and the shell run before cntvct reads the counter.
#   tools/linux-bench.sh   (DOM0_MEM=256M; the direct boot gets -m of the same size)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
source tests/qemu.sh

mem=${DOM0_MEM:-256M}
args="console=ttyAMA0 panic=-1 rdinit=/init"
read -r kernel initrd < <(tests/linux.sh parts) || { echo "linux-bench: no kernel" >&2; exit 1; }
mkdir -p build/bench
counter_of() { tr -d '\r' <"$1" | sed -n 's/^dom0: counter-at-init 0x\([0-9a-f]*\)$/\1/p'; }

timeout 600 "$QEMU" -M virt -cpu cortex-a15 -m "$mem" -nographic -nic none -icount shift=0 \
    -kernel "$kernel" -initrd "$initrd" -append "$args" </dev/null >build/bench/linux-direct.log 2>&1
direct=$(counter_of build/bench/linux-direct.log)
# The release image, as every benchmark; -icount goes to QEMU through QEMU_EXTRA.
IMAGE=build/arm-release/hyp.elf TIMEOUT=600 tests/qemu.sh run MEM=1G KERNEL="$kernel" INITRD="$initrd" \
    KERNEL_ARGS="$args" DOM0_MEM="$mem" QEMU_EXTRA="-icount shift=0" >build/bench/linux-hypmem.log 2>&1
hyp=$(counter_of build/bench/linux-hypmem.log)
if [ -z "$direct" ] || [ -z "$hyp" ]; then
    echo "linux-bench: a boot did not reach /init (build/bench/linux-direct.log, linux-hypmem.log)" >&2
    exit 1
fi
awk -v d=$((16#$direct * 16)) -v h=$((16#$hyp * 16)) 'BEGIN {
    printf "boot to /init, instructions (-icount shift=0, counter x 16):\n"
    printf "  QEMU boots the kernel directly:  %14.0f\n", d
    printf "  hypmem boots it as dom0:         %14.0f\n", h
    printf "  ratio: %.3f (hypmem, dom0 building and stage 2 add %.0f)\n", h / d, h - d
}'
