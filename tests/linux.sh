#!/usr/bin/env bash
# Debian's Linux as dom0 of hypmem (issue 11).
#
#   tests/linux.sh run   [MEM=1G] [SMP=1] [DOM0_MEM=256M] [DOM0_VCPUS=1] [DOM0_ARGS=...]
#                        [KERNEL=zImage] [INITRD=initramfs] [APPEND=hypmem's options]
#                        [TIMEOUT=120]
#       boots it (make run-linux); the exit status is dom0's verdict
#   tests/linux.sh direct [MEM=256M] [SMP=1] [DOM0_ARGS=...] [KERNEL=...] [INITRD=...] [TIMEOUT=120]
#       the same kernel and initramfs booted by QEMU alone (-M virt, no hypmem): shows
#       they are good whatever hypmem does; the exit status is QEMU's (0 after poweroff)
#   tests/linux.sh check [--direct] LOG DOM0_MEM VCPUS [POKE_ADDR]
#       checks a run's log against what dom0 was given; prints "ok"/"FAIL" lines and
#       exits non-zero on any failure. --direct: a log of `direct` (QEMU's own PSCI
#       powered off, no hypmem line to look for)
#
# A boot that reaches no verdict within TIMEOUT seconds is ended (status 124) with the
# last lines it printed, so that a hang says where it hung.
#
# Without KERNEL= and INITRD=, Debian's kernel and busybox are fetched once
# (tools/fetch-linux.sh) and the initramfs is built from tests/linux/.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

DEFAULT_ARGS="console=ttyAMA0 earlycon panic=-1 rdinit=/init"
INITRAMFS=build/linux/initramfs.cpio.gz

# Fetches and builds what is not given; prints "KERNEL INITRD".
linux_parts() {
    local kernel=$1 initrd=$2
    if [ -z "$kernel" ] || [ -z "$initrd" ]; then
        tools/fetch-linux.sh || return 1
    fi
    if [ -z "$initrd" ]; then
        mkdir -p build/linux
        if [ ! -f "$INITRAMFS" ] || [ -n "$(find tests/linux build/deps/linux/busybox -newer "$INITRAMFS" 2>/dev/null)" ]; then
            tests/linux/mkinitramfs.sh build/deps/linux/busybox "$INITRAMFS" || return 1
        fi
        initrd=$INITRAMFS
    fi
    echo "${kernel:-build/deps/linux/zImage} $initrd"
}

run() {
    local MEM=1G SMP=1 DOM0_MEM=256M DOM0_VCPUS=1 DOM0_ARGS=$DEFAULT_ARGS KERNEL="" INITRD=""
    local APPEND="" TIMEOUT=${TIMEOUT:-120} a parts status
    for a in "$@"; do
        case "$a" in
            MEM=*|SMP=*|DOM0_MEM=*|DOM0_VCPUS=*|DOM0_ARGS=*|KERNEL=*|INITRD=*|APPEND=*|TIMEOUT=*)
                eval "${a%%=*}=\"\${a#*=}\"" ;;
            *) echo "linux.sh: unknown option $a" >&2; return 2 ;;
        esac
    done
    parts=$(linux_parts "$KERNEL" "$INITRD") || return 2
    set -- $parts
    TIMEOUT=$TIMEOUT watched tests/qemu.sh run MEM="$MEM" SMP="$SMP" APPEND="$APPEND" KERNEL="$1" \
        INITRD="$2" KERNEL_ARGS="$DOM0_ARGS" DOM0_MEM="$DOM0_MEM" DOM0_VCPUS="$DOM0_VCPUS"
}

# Runs a boot command with its output passed through and kept; if it timed out
# (timeout's 124), names the last lines seen: a hang in Linux shows where it stopped,
# one in hypmem shows its last report. Returns the command's status.
watched() {
    local seen status
    seen=$(mktemp)
    "$@" 2>&1 | tee "$seen"
    status=${PIPESTATUS[0]}
    if [ "$status" -eq 124 ]; then
        echo "linux.sh: no verdict within ${TIMEOUT}s (TIMEOUT=); the last lines seen were:" >&2
        tr -d '\r' <"$seen" | grep -v -e '^qemu.sh: ' -e 'terminating on signal' | grep . | tail -n 5 | sed 's/^/linux.sh: | /' >&2
    fi
    rm -f "$seen"
    return "$status"
}

# QEMU boots the kernel itself, as a Linux image on its virt board: no hypmem, no
# virtualization=on, QEMU's own PSCI (SYSTEM_OFF ends QEMU with status 0).
direct() {
    local MEM=256M SMP=1 DOM0_ARGS=$DEFAULT_ARGS KERNEL="" INITRD="" TIMEOUT=${TIMEOUT:-120} a parts
    for a in "$@"; do
        case "$a" in
            MEM=*|SMP=*|DOM0_ARGS=*|KERNEL=*|INITRD=*|TIMEOUT=*) eval "${a%%=*}=\"\${a#*=}\"" ;;
            *) echo "linux.sh: unknown option for direct: $a" >&2; return 2 ;;
        esac
    done
    parts=$(linux_parts "$KERNEL" "$INITRD") || return 2
    set -- $parts
    echo "linux.sh: QEMU alone boots $1 with -m $MEM -smp $SMP, initrd $2" >&2
    TIMEOUT=$TIMEOUT watched timeout --foreground "$TIMEOUT" "${QEMU:-qemu-system-aarch64}" \
        -M virt -cpu cortex-a15 -m "$MEM" -smp "$SMP" -nic none -display none -serial stdio \
        -monitor none -kernel "$1" -initrd "$2" -append "$DOM0_ARGS" </dev/null
}

bytes() {  # 256M -> bytes
    local n=${1%[KMGkmg]}
    case "$1" in
        *[Kk]) echo $((n << 10)) ;; *[Mm]) echo $((n << 20)) ;; *[Gg]) echo $((n << 30)) ;;
        *) echo "$n" ;;
    esac
}

check() {
    local direct=0
    [ "${1:-}" = --direct ] && { direct=1; shift; }
    if [ $# -lt 3 ] || [ ! -f "$1" ]; then
        echo "linux.sh: check needs an existing LOG, DOM0_MEM and VCPUS (got: $*)" >&2; return 2
    fi
    local log=$1 mem=$(bytes "$2") vcpus=$3 poke=${4:-} bad=0
    ok() { echo "ok    $*"; }
    no() { echo "FAIL  $*"; bad=1; }
    local r
    r() { tr -d '\r' <"$log" | sed -n "s/^dom0: $1 //p"; }

    # Under hypmem, its verdict line; booted directly, Linux's own last word before PSCI
    # SYSTEM_OFF (there is no hypmem to say anything).
    if [ "$direct" -eq 1 ]; then
        grep -q 'reboot: Power down' "$log" && ok "Linux powered off (QEMU's PSCI SYSTEM_OFF)" ||
            no "Linux did not power off: $(tr -d '\r' <"$log" | tail -n 3 | tr '\n' '|')"
    else
        grep -q '^d0: the run passes (status 0)' "$log" && ok "dom0 powered off (SYSTEM_OFF)" ||
            no "dom0 did not power off: $(tr -d '\r' <"$log" | tail -n 3 | tr '\n' '|')"
    fi
    grep -q '^dom0: done' "$log" && ok "/init reached its end" || no "/init never reported done"

    # The System RAM of /proc/iomem against the memory nodes of dom0's tree (16 bytes each:
    # a 64-bit address and a 64-bit size, both big-endian).
    local iomem dt
    iomem=$(r iomem | sed -n 's/^\([0-9a-f]*\)-\([0-9a-f]*\) : System RAM$/\1 \2/p' |
            while read -r s e; do printf '%x-%x\n' $((16#$s)) $((16#$e + 1)); done | sort)
    dt=$(r dt-memory | while read -r hex; do
             while [ ${#hex} -ge 32 ]; do
                 printf '%x-%x\n' $((16#${hex:0:16})) $((16#${hex:0:16} + 16#${hex:16:16}))
                 hex=${hex:32}
             done
         done | sort)
    if [ -n "$iomem" ] && [ "$iomem" = "$dt" ]; then
        ok "System RAM in /proc/iomem is exactly the tree's memory: $(echo $iomem)"
    else
        no "System RAM in /proc/iomem ($(echo $iomem)) differs from the tree's memory ($(echo $dt))"
    fi
    # ... and adds up to what hypmem gave.
    local total=0 range
    for range in $dt; do total=$((total + 16#${range#*-} - 16#${range%-*})); done
    [ "$total" -eq "$mem" ] && ok "the tree's memory adds up to the $((mem >> 20)) MiB given" ||
        no "the tree's memory adds up to $total bytes, $mem were given"

    # MemTotal: what Linux keeps for itself comes off the RAM given. For this kernel that is
    # its image (text, data, bss: about 12 MiB), its struct page array (32 bytes per 4 KiB
    # page, 1/128 of RAM) and early allocations (page tables, per-CPU areas, log buffer):
    # measured 20.7 MiB at 256 MiB under hypmem, 21.7 MiB when QEMU boots it directly (its
    # tree, 1 MiB, is reserved in that RAM). Allowed: up to 24 MiB plus 1/128 of RAM (about
    # 2 MiB of margin at 256 MiB), and never more than was given.
    local kb given_kb slack_kb
    kb=$(r MemTotal: | tr -dc 0-9)
    given_kb=$((mem >> 10)); slack_kb=$((24 * 1024 + given_kb / 128))
    if [ -n "$kb" ] && [ "$kb" -le "$given_kb" ] && [ $((given_kb - kb)) -le "$slack_kb" ]; then
        ok "MemTotal $kb kB: $((given_kb - kb)) kB under the $given_kb kB given (allowed $slack_kb)"
    else
        no "MemTotal ${kb:-?} kB is not within $slack_kb kB under the $given_kb kB given"
    fi

    local sums want
    sums=$(r payload); want=$(md5sum <build/linux/payload.bin | cut -d' ' -f1)
    [ "${sums%% *}" = "$want" ] && ok "the initramfs payload's md5sum in the guest is the host's ($want)" ||
        no "payload md5sum in the guest '${sums%% *}', on the host $want"

    local online want_cpus=0
    [ "$vcpus" -gt 1 ] && want_cpus="0-$((vcpus - 1))"
    online=$(r cpus-online)
    [ "$online" = "$want_cpus" ] && ok "CPUs online: $online" || no "CPUs online '$online', want $want_cpus"

    if [ -n "$poke" ]; then
        local ipa
        ipa=$(printf '0x%010x' "$poke")
        grep -qE "^d0v[0-9]+: stage-2 abort: write of 4 bytes at IPA $ipa .*guest PC 0x[0-9a-f]+: injecting an external abort" "$log" &&
            ok "the /dev/mem write to $poke was reported as a stage-2 abort with the guest's PC" ||
            no "no stage-2 abort report for IPA $ipa"
        r "poke $poke:" | grep -q 'bus error (SIGBUS), dom0 carries on' &&
            ok "devmem died with a bus error, and dom0 carried on" || no "devmem did not die with a bus error"
    fi
    return $bad
}

case "${1:-run}" in
    run) shift; run "$@" ;;
    direct) shift; direct "$@" ;;
    check) shift; check "$@" ;;
    parts) shift; linux_parts "" "" ;;
    *) echo "usage: tests/linux.sh run|direct [VAR=...] | check [--direct] LOG DOM0_MEM VCPUS [POKE]" >&2
       exit 2 ;;
esac
