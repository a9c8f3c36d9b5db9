#!/usr/bin/env bash
# Installs what the build, the QEMU boots and the debugger need, only when missing.
#
#   tools/setup.sh            check and install the Debian packages, fetch libfdt for ARM
#   tools/setup.sh --bench    the same, plus valgrind (callgrind) for make bench
#   tools/setup.sh --fuzz     the same, plus clang and its libFuzzer runtime for make fuzz
#   LIBFDT_DIR=DIR            use an ARM libfdt you already have (DIR/include, DIR/lib)
#
# libfdt for ARM: Debian's mirror carries no source packages, so we take the armhf
# build of libfdt-dev and unpack it into build/deps/ with apt's state kept in private
# folders there (tools/debian-fetch.sh): the system's apt configuration and architecture
# list are never touched, and the mirror is the one the system's apt sources name.
#   HYPMEM_APT_ETC=DIR        read apt's sources from DIR instead of /etc/apt (tests)
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
deps="$top/build/deps"

say() { printf 'setup: %s\n' "$*"; }

missing=()
command -v arm-none-eabi-gcc >/dev/null || missing+=(gcc-arm-none-eabi)
[ -f /usr/lib/arm-none-eabi/include/stdint.h ] || missing+=(libnewlib-arm-none-eabi)
# Debian's qemu-system-arm package holds qemu-system-aarch64 too, which is
# the one we run (tests/qemu.sh says why).
command -v qemu-system-aarch64 >/dev/null || missing+=(qemu-system-arm)
command -v gdb-multiarch >/dev/null || missing+=(gdb-multiarch)
command -v dtc >/dev/null || missing+=(device-tree-compiler)
# the host build of the boot-info code (build/host/dtbinfo, host tests) links the host libfdt
[ -f /usr/include/libfdt.h ] || missing+=(libfdt-dev)
# make run-linux packs dom0's initramfs
command -v cpio >/dev/null || missing+=(cpio)
# make debug and make gdbserver pick a free TCP port with it; the gdb test compares with it;
# make bench draws its plots with it
command -v python3 >/dev/null || missing+=(python3)
if [ "${1:-}" = "--bench" ]; then
    command -v valgrind >/dev/null || missing+=(valgrind)
fi
# Debian's clang leaves libFuzzer's runtime to libclang-rt-dev (not even a recommend):
# a test link is what tells whether -fsanitize=fuzzer works.
if [ "${1:-}" = "--fuzz" ]; then
    command -v clang >/dev/null || missing+=(clang)
    if ! printf 'int LLVMFuzzerTestOneInput(const char *d, long n) { return d && n; }\n' |
            clang -fsanitize=fuzzer -x c - -o /dev/null 2>/dev/null; then
        missing+=(libclang-rt-dev)
    fi
fi

if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        say "missing packages: ${missing[*]}"
        say "run as root:  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
        exit 1
    fi
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q || say "apt-get update reported errors; trying the install anyway"
    if ! apt-get install -y -q --no-install-recommends "${missing[@]}"; then
        say "could not install ${missing[*]}"
        say "run as root:  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
        exit 1
    fi
fi

# --- libfdt for ARM -------------------------------------------------------------
if [ -n "${LIBFDT_DIR:-}" ]; then
    for f in include/libfdt.h include/fdt.h include/libfdt_env.h lib/libfdt.a; do
        [ -f "$LIBFDT_DIR/$f" ] || { say "LIBFDT_DIR=$LIBFDT_DIR has no $f"; exit 1; }
    done
    exit 0
fi

stamp="$deps/libfdt/.done"
[ -f "$stamp" ] && exit 0

# The mirror comes from the system's own apt sources, never from this file.
source "$top/tools/debian-fetch.sh"
if ! mirror=$(debian_mirror); then
    say "the system's apt sources (${HYPMEM_APT_ETC:-/etc/apt}/sources.list, sources.list.d/) name no Debian mirror to fetch libfdt-dev for armhf from"
    say "add one to apt's sources, or give an ARM libfdt instead:  make LIBFDT_DIR=/path/with/include-and-lib"
    exit 1
fi
suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")

apt_dir="$deps/apt"
debian_apt_init "$apt_dir" "$mirror" "$suite" armhf
# apt's own words go to the log and are shown when something fails; each step is retried once.
fetch_failed() {
    say "$1 (from $mirror $suite, armhf)"
    debian_apt_said | sed 's/^/setup: /'
    say "give an ARM libfdt instead:  make LIBFDT_DIR=/path/with/include-and-lib"
    exit 1
}
say "fetching libfdt-dev (armhf) from $mirror $suite"
debian_try apt-get "${debian_aptopts[@]}" -q --error-on=any update ||
    fetch_failed "apt-get update failed for the armhf package lists"
(cd "$apt_dir" && debian_try apt-get "${debian_aptopts[@]}" -q download libfdt-dev:armhf libfdt1:armhf) ||
    fetch_failed "could not download libfdt-dev for armhf"
deb=$(ls "$apt_dir"/libfdt-dev_*_armhf.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || fetch_failed "apt-get download left no libfdt-dev_*_armhf.deb"
root="$deps/libfdt/root"
rm -rf "$deps/libfdt"
mkdir -p "$root" "$deps/libfdt/include" "$deps/libfdt/lib"
dpkg -x "$deb" "$root"
cp "$root"/usr/include/fdt.h "$root"/usr/include/libfdt.h "$root"/usr/include/libfdt_env.h "$deps/libfdt/include/"
lib=$(find "$root" -name libfdt.a | head -n 1)
[ -n "$lib" ] || { say "libfdt-dev package has no libfdt.a"; exit 1; }
cp "$lib" "$deps/libfdt/lib/libfdt.a"
touch "$stamp"
say "libfdt ready in $deps/libfdt"
