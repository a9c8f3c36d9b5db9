#!/usr/bin/env bash
# Builds the initramfs `make run-linux` gives dom0: Debian's static busybox, /init
# (tests/linux/init), /bin/cntvct (tests/linux/cntvct.S) and a 1 MiB payload of random
# bytes made once, with the host's md5sum of it beside it (Debian's busybox has md5sum,
# not cksum), so that the guest can prove the
# initrd arrived intact. Usage: mkinitramfs.sh BUSYBOX OUT.cpio.gz
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
busybox=$1 out=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
payload="$top/build/linux/payload.bin"

command -v cpio >/dev/null || { echo "mkinitramfs: cpio missing (tools/setup.sh installs it)" >&2; exit 1; }
mkdir -p "$top/build/linux" "$work/root/bin" "$work/root/proc" "$work/root/sys" "$work/root/dev"
[ -f "$payload" ] || head -c 1048576 /dev/urandom > "$payload"
cp "$busybox" "$work/root/bin/busybox"
cp "$top/tests/linux/init" "$work/root/init"
chmod 755 "$work/root/init" "$work/root/bin/busybox"
arm-none-eabi-gcc -nostdlib -static -Wl,--build-id=none -o "$work/root/bin/cntvct" \
    "$top/tests/linux/cntvct.S"
cp "$payload" "$work/root/payload.bin"
md5sum < "$payload" | cut -d' ' -f1 > "$work/root/payload.md5"
(cd "$work/root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) | gzip -9 > "$out"
