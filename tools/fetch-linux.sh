#!/usr/bin/env bash
# Fetches what `make run-linux` boots as dom0, once, into build/deps/linux/:
#   zImage   Debian bookworm's 32-bit LPAE kernel (linux-image-armmp-lpae's current version)
#   busybox  Debian's busybox-static for armhf, the initramfs's only program
# Like tools/setup.sh's libfdt, through the same tools/debian-fetch.sh: `apt-get download`
# with apt's state in a private folder (build/deps/apt-linux), one retry, apt's own words on
# failure, and the mirror taken from the system's own apt sources (HYPMEM_APT_ETC for tests),
# so the system's apt configuration and architecture list are never touched.
# Exits 0 with the files in place (a second run fetches nothing), or 1 saying what it tried
# and how to give the files by hand.
#   LINUX_MIRROR=URL   fetch from this Debian mirror instead of the system's (a local one)
#   LINUX_DIR=DIR      put the files in DIR (apt's state in DIR.apt) instead of build/deps/linux
#                      (make test fetches from a dead mirror this way to see the failure report)
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
out=${LINUX_DIR:-$top/build/deps/linux}
say() { printf 'fetch-linux: %s\n' "$*" >&2; }

[ -f "$out/.done" ] && exit 0

source "$top/tools/debian-fetch.sh"
mirror=${LINUX_MIRROR:-}
if [ -z "$mirror" ] && ! mirror=$(debian_mirror); then
    say "the system's apt sources (${HYPMEM_APT_ETC:-/etc/apt}/sources.list, sources.list.d/) name no Debian mirror to fetch from"
    say "give the files by hand:  make run-linux KERNEL=/path/to/zImage INITRD=/path/to/initramfs"
    exit 1
fi
suite=bookworm      # the armmp-lpae kernel the issue names is bookworm's

apt_dir="$top/build/deps/apt-linux"
[ -n "${LINUX_DIR:-}" ] && apt_dir="${LINUX_DIR%/}.apt"
debian_apt_init "$apt_dir" "$mirror" "$suite" armhf
aptopts=("${debian_aptopts[@]}")

# apt's own words go to the log, and are shown when something fails; each step is retried once.
log=$debian_log
fail() {
    say "$1"
    say "tried: $mirror $suite (armhf): $2"
    debian_apt_said >&2
    say "give the files by hand:  make run-linux KERNEL=/path/to/zImage INITRD=/path/to/initramfs"
    exit 1
}

say "fetching the armmp-lpae kernel and busybox-static (armhf) from $mirror $suite"
debian_try apt-get "${aptopts[@]}" -q --error-on=any update || fail "apt-get update failed" "the package lists"
kernel_pkg=$(apt-cache "${aptopts[@]}" depends linux-image-armmp-lpae 2>>"$log" |
             sed -n 's/^[[:space:]]*Depends:[[:space:]]*\(linux-image-[0-9][^[:space:]]*-armmp-lpae\)$/\1/p' |
             head -n 1)
[ -n "$kernel_pkg" ] || fail "no kernel version behind linux-image-armmp-lpae" "apt-cache depends linux-image-armmp-lpae"
(cd "$apt_dir" && debian_try apt-get "${aptopts[@]}" -q download "$kernel_pkg" busybox-static) ||
    fail "could not download the packages" "$kernel_pkg busybox-static"

rm -rf "$out"
mkdir -p "$out/root"
dpkg-deb -x "$apt_dir"/linux-image-*_armhf.deb "$out/root" &&
    dpkg-deb -x "$apt_dir"/busybox-static_*_armhf.deb "$out/root" ||
    fail "could not unpack the packages" "dpkg-deb -x"
cp "$out"/root/boot/vmlinuz-* "$out/zImage" && cp "$out/root/bin/busybox" "$out/busybox" ||
    fail "the packages hold no /boot/vmlinuz-* or /bin/busybox" "$kernel_pkg busybox-static"
(cd "$apt_dir" && ls ./*.deb) | sed 's|^\./||' > "$out/VERSIONS"
rm -rf "$out/root"
touch "$out/.done"
say "ready: $out/zImage and $out/busybox ($(tr '\n' ' ' < "$out/VERSIONS"))"
