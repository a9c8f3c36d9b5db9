#!/usr/bin/env bash
# Checks tools/setup.sh's promises:
#  - for a user who cannot install: without root, with the tools missing, it must name
#    them, print the exact apt-get command to run as root, and fail. The tools are
#    "missing" because PATH hides them; the script runs as user nobody.
#  - for the ARM libfdt it fetches: the mirror comes only from the system's apt sources
#    (HYPMEM_APT_ETC points the script at a folder of sources made here): none named is a
#    clear refusal that fetches nothing; a mirror that fails is retried once, and apt's own
#    error is shown. Both run a copy of the scripts in a scratch folder, so that build/deps
#    is not touched; they need the packages installed (make test has run setup first).
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
    grep -q "run as root:  apt-get update && apt-get install -y --no-install-recommends gcc-arm-none-eabi qemu-system-arm gdb-multiarch device-tree-compiler" "$log" ||
    { echo "setup-check: no clear refusal without root" >>"$log"; exit 1; }

# Runs a scratch copy of setup.sh with apt's sources read from $1, and apt's configuration
# from the file $3 if given; its output into $2, its status in $status.
scratch_setup() {
    local top
    top=$(mktemp -d)
    mkdir "$top/tools"
    cp tools/setup.sh tools/debian-fetch.sh "$top/tools/"
    env -u LIBFDT_DIR HYPMEM_APT_ETC="$1" ${3:+APT_CONFIG="$3"} bash "$top/tools/setup.sh" \
        >"$2" 2>&1
    status=$?
    # Whether anything was fetched or apt's state made, for the no-mirror case.
    [ -e "$top/build/deps/apt" ] && echo "(apt state made in build/deps/apt)" >>"$2"
    rm -rf "$top"
    echo "status $status" >>"$2"
    return 0
}

etc=$(mktemp -d)
mkdir "$etc/sources.list.d"
nomirror=${log%.log}-no-mirror.log
scratch_setup "$etc" "$nomirror"
cat "$nomirror" >>"$log"
[ "$status" -eq 1 ] &&
    grep -q "the system's apt sources ($etc/sources.list, sources.list.d/) name no Debian mirror" "$nomirror" &&
    grep -q "make LIBFDT_DIR=" "$nomirror" &&
    ! grep -q "fetching libfdt-dev\|apt state made\|deb.debian.org" "$nomirror" ||
    { rm -rf "$etc"; echo "setup-check: no clear refusal without a mirror" >>"$log"; exit 1; }

# A mirror nothing listens at: apt's own error must be shown, after one retry. (apt's own
# retries, with their pauses, are turned off for the test through its APT_CONFIG file.)
echo "deb http://127.0.0.1:9/debian bookworm main" >"$etc/sources.list"
echo 'Acquire::Retries "0";' >"$etc/test.conf"
badmirror=${log%.log}-bad-mirror.log
scratch_setup "$etc" "$badmirror" "$etc/test.conf"
rm -rf "$etc"
cat "$badmirror" >>"$log"
[ "$status" -eq 1 ] &&
    grep -q "fetching libfdt-dev (armhf) from http://127.0.0.1:9/debian" "$badmirror" &&
    grep -q "apt-get update failed for the armhf package lists (from http://127.0.0.1:9/debian" "$badmirror" &&
    grep -q "setup: apt said:" "$badmirror" &&
    grep -q "trying once more" "$badmirror" &&
    grep -q "127.0.0.1" <(grep -i "^setup:   .*\(fail\|could not\|unable\|refused\)" "$badmirror") ||
    { echo "setup-check: a failing mirror did not show apt's error after a retry" >>"$log"; exit 1; }
