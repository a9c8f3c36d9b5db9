#!/usr/bin/env bash
# Checks tools/setup.sh's promise for a user who cannot install: without root,
# with the tools missing, it must name them, print the exact apt-get command to
# run as root, and fail. The tools are "missing" because PATH hides them; the
# script runs as user nobody.
set -u
log=${1:-build/test-logs}/setup.log
mkdir -p "$(dirname "$log")"
bin=$(mktemp -d)
for tool in bash id dirname sed head cat; do ln -s "$(command -v "$tool")" "$bin/$tool"; done
chmod 755 "$bin"
setpriv --reuid=65534 --regid=65534 --clear-groups env -i PATH="$bin" \
    bash tools/setup.sh >"$log" 2>&1
status=$?
rm -rf "$bin"
echo "status $status" >>"$log"
[ "$status" -ne 0 ] &&
    grep -q "missing packages: gcc-arm-none-eabi qemu-system-arm gdb-multiarch device-tree-compiler" "$log" &&
    grep -q "run as root:  apt-get update && apt-get install -y --no-install-recommends gcc-arm-none-eabi qemu-system-arm gdb-multiarch device-tree-compiler" "$log"
