#!/usr/bin/env bash
# Boots the hypervisor image under QEMU.
#
#   tests/qemu.sh run   [MEM=1G] [SMP=1] [APPEND="..."] [DTB=file.dtb|file.dts] [QEMU_EXTRA="..."]
#                       [KERNEL=file [INITRD=file] [KERNEL_ARGS="..."]] [DOM0_MEM=size] [DOM0_VCPUS=n]
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
#
# KERNEL=FILE boots the hypervisor with boot modules, as Xen takes them: the
# tree (QEMU's own for the same -m and -smp, or DTB= when given) gets
# /chosen/module@ADDR nodes ("multiboot,kernel" with KERNEL_ARGS as its
# bootargs; "multiboot,ramdisk" for INITRD=), and QEMU's loader device puts
# each file's raw bytes at ADDR before the first instruction: the kernel at
# RAM + 128 MiB, the initrd at the next 2 MiB boundary after it. The
# hypervisor builds a domain from them. DOM0_MEM= and DOM0_VCPUS= go on the
# hypervisor's command line as dom0_mem= and dom0_max_vcpus=.
set -u

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
IMAGE=${IMAGE:-$top/build/arm/hyp.elf}
TIMEOUT=${TIMEOUT:-300}
DTB_PA=0x40000000
RAM_BASE=0x40000000
# The kernel module's address: 128 MiB into RAM, clear of the tree at the
# start of RAM and of the hypervisor image at 0x40200000.
MODULE_KERNEL_PA=$((RAM_BASE + 0x08000000))
# The tree is written over QEMU's with this much padding (see prepare_dtb):
# the module nodes must fit inside it.
DTB_PAD=65536

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
    [ "$size" -lt "$DTB_PAD" ] && truncate -s "$DTB_PAD" "$out"
    return 0
}

# QEMU's -m size (plain numbers are MiB, as QEMU reads them) in bytes; empty if unreadable.
mem_bytes() {  # MEM
    local n unit
    [[ "$1" =~ ^([0-9]+)([kKmMgGtT]?)[bB]?$ ]] || return 0
    n=${BASH_REMATCH[1]}
    unit=${BASH_REMATCH[2]:-M}
    case "$unit" in
        k|K) echo $((n << 10)) ;;
        m|M) echo $((n << 20)) ;;
        g|G) echo $((n << 30)) ;;
        t|T) echo $((n << 40)) ;;
    esac
}

# Adds a /chosen/module@ADDR node. Arguments: DTB ADDR SIZE BOOTARGS COMPATIBLE...
add_module_node() {
    local dtb=$1 addr=$2 size=$3 args=$4 node
    shift 4
    node=$(printf '/chosen/module@%x' "$addr")
    fdtput -c "$dtb" "$node" &&
        fdtput -t s "$dtb" "$node" compatible "$@" &&
        fdtput -t x "$dtb" "$node" reg $(printf '%x %x %x %x' $((addr >> 32)) \
            $((addr & 0xffffffff)) $((size >> 32)) $((size & 0xffffffff))) &&
        { [ -z "$args" ] || fdtput -t s "$dtb" "$node" bootargs "$args"; }
}

# Builds the tree with boot modules into OUT and sets the global array
# module_loader_args to the QEMU arguments that load the files. BASE_DTB is
# a .dtb or .dts to start from, or empty for QEMU's own tree for MEM, SMP and
# MACHINE_OPTS. Prints why and returns non-zero when it cannot.
# Arguments: MEM SMP APPEND KERNEL INITRD KERNEL_ARGS BASE_DTB OUT [MACHINE_OPTS]
make_module_dtb() {
    local mem=$1 smp=$2 append=$3 kernel=$4 initrd=$5 kargs=$6 base=$7 out=$8 mopts=${9:-}
    local ram kernel_size initrd_pa=0 initrd_size=0 end size
    module_loader_args=()
    if [ ! -f "$kernel" ]; then
        echo "qemu.sh: KERNEL=$kernel: no such file" >&2; return 2
    fi
    if [ -n "$initrd" ] && [ ! -f "$initrd" ]; then
        echo "qemu.sh: INITRD=$initrd: no such file" >&2; return 2
    fi
    ram=$(mem_bytes "$mem")
    if [ -z "$ram" ]; then
        echo "qemu.sh: cannot read MEM=$mem as a size for boot modules" >&2; return 2
    fi
    kernel_size=$(stat -c %s "$kernel")
    end=$((MODULE_KERNEL_PA + kernel_size))
    if [ -n "$initrd" ]; then
        initrd_pa=$(( (end + 0x1fffff) & ~0x1fffff ))
        initrd_size=$(stat -c %s "$initrd")
        end=$((initrd_pa + initrd_size))
    fi
    if [ "$end" -gt $((RAM_BASE + ram)) ]; then
        printf 'qemu.sh: MEM=%s is too small for the boot modules: RAM ends at 0x%x, the %s ends at 0x%x\n' \
            "$mem" $((RAM_BASE + ram)) "$([ -n "$initrd" ] && echo initrd || echo kernel)" "$end" >&2
        return 2
    fi
    if [ -n "$base" ]; then
        case "$base" in
            *.dts) dtc -q -I dts -O dtb -o "$out" "$base" ||
                       { echo "qemu.sh: dtc failed on $base" >&2; return 2; } ;;
            *) cp "$base" "$out" || return 2 ;;
        esac
    else
        local -a args
        mapfile -d '' args < <(qemu_args "$mem" "$smp" "$append" "dumpdtb=$out${mopts:+,$mopts}")
        if ! "$QEMU" "${args[@]}" -display none </dev/null >/dev/null 2>&1 || [ ! -s "$out" ]; then
            echo "qemu.sh: $QEMU could not dump its device tree for -m $mem -smp $smp" >&2
            return 2
        fi
    fi
    if ! { fdtput -t i "$out" /chosen '#address-cells' 2 &&
           fdtput -t i "$out" /chosen '#size-cells' 2 &&
           add_module_node "$out" "$MODULE_KERNEL_PA" "$kernel_size" "$kargs" \
               multiboot,kernel multiboot,module &&
           { [ -z "$initrd" ] || add_module_node "$out" "$initrd_pa" "$initrd_size" "" \
               multiboot,ramdisk multiboot,module; }; }; then
        echo "qemu.sh: could not add the boot module nodes to the device tree" >&2
        return 2
    fi
    size=$(stat -c %s "$out")
    if [ "$size" -gt "$DTB_PAD" ]; then
        echo "qemu.sh: the device tree with modules is $size bytes, more than the $DTB_PAD written at $DTB_PA" >&2
        return 2
    fi
    module_loader_args=(-device "loader,file=$kernel,addr=$(printf 0x%x "$MODULE_KERNEL_PA"),force-raw=on")
    [ -n "$initrd" ] &&
        module_loader_args+=(-device "loader,file=$initrd,addr=$(printf 0x%x "$initrd_pa"),force-raw=on")
    return 0
}

# The hypervisor's command line with dom0_mem= and dom0_max_vcpus= added when given.
dom0_append() {  # APPEND DOM0_MEM DOM0_VCPUS
    local a=$1
    [ -n "$2" ] && a="${a:+$a }dom0_mem=$2"
    [ -n "$3" ] && a="${a:+$a }dom0_max_vcpus=$3"
    printf '%s' "$a"
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

# Boots the hypervisor with a kernel module (and an initrd module unless
# INITRD is empty) on QEMU's own tree, as boot() does otherwise; returns
# QEMU's status (2 when the modules cannot be set up).
# Arguments: MEM SMP APPEND KERNEL INITRD KERNEL_ARGS [extra qemu args...]
boot_with_modules() {
    local mem=$1 smp=$2 append=$3 kernel=$4 initrd=$5 kargs=$6 tmp status
    shift 6
    tmp=$(mktemp -d)
    if ! make_module_dtb "$mem" "$smp" "$append" "$kernel" "$initrd" "$kargs" "" "$tmp/modules.dtb"; then
        rm -rf "$tmp"
        return 2
    fi
    boot "$mem" "$smp" "$append" "$tmp/modules.dtb" "" "${module_loader_args[@]}" "$@"
    status=$?
    rm -rf "$tmp"
    return $status
}

main() {
    local mode=${1:-run}
    shift || true
    local MEM=1G SMP=1 APPEND="" DTB="" QEMU_EXTRA=""
    local KERNEL="" INITRD="" KERNEL_ARGS="" DOM0_MEM="" DOM0_VCPUS=""
    for a in "$@"; do
        case "$a" in
            MEM=*|SMP=*|APPEND=*|DTB=*|QEMU_EXTRA=*|KERNEL=*|INITRD=*|KERNEL_ARGS=*|DOM0_MEM=*|DOM0_VCPUS=*)
                eval "${a%%=*}=\"\${a#*=}\"" ;;
            *) echo "qemu.sh: unknown option $a" >&2; exit 2 ;;
        esac
    done
    [ -f "$IMAGE" ] || { echo "qemu.sh: no image at $IMAGE (run make)" >&2; exit 2; }
    local -a extra=()
    [ -n "$QEMU_EXTRA" ] && read -r -a extra <<<"$QEMU_EXTRA"
    if [ -z "$KERNEL" ] && { [ -n "$INITRD" ] || [ -n "$KERNEL_ARGS" ]; }; then
        echo "qemu.sh: INITRD= and KERNEL_ARGS= need KERNEL=" >&2; exit 2
    fi
    APPEND=$(dom0_append "$APPEND" "$DOM0_MEM" "$DOM0_VCPUS")
    local tmp=""
    module_loader_args=()
    if [ -n "$KERNEL" ]; then
        tmp=$(mktemp -d)
        trap 'rm -rf "$tmp"' EXIT
        make_module_dtb "$MEM" "$SMP" "$APPEND" "$KERNEL" "$INITRD" "$KERNEL_ARGS" "$DTB" \
            "$tmp/modules.dtb" || exit 2
        DTB=$tmp/modules.dtb
        echo "qemu.sh: boot modules: kernel $KERNEL${INITRD:+, initrd $INITRD}${KERNEL_ARGS:+, bootargs \"$KERNEL_ARGS\"} (${module_loader_args[*]})" >&2
    fi
    case "$mode" in
        run)
            echo "qemu.sh: booting $IMAGE under $QEMU with -m $MEM -smp $SMP${APPEND:+ -append \"$APPEND\"}${DTB:+, device tree $DTB}" >&2
            boot "$MEM" "$SMP" "$APPEND" "$DTB" "" -display none -serial stdio -monitor none \
                "${module_loader_args[@]}" "${extra[@]}"
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
