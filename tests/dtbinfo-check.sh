#!/usr/bin/env bash
# Checks the host tool build/host/dtbinfo against device trees whose memory
# we know independently: QEMU's own tree for a given -m (RAM starts at
# 0x40000000 and spans exactly -m), a tree with boot modules whose ranges
# its source states, and broken files that must be refused.
set -u
logs=${1:-build/test-logs}
mkdir -p "$logs"
log=$logs/dtbinfo.log
: >"$log"
tool=build/host/dtbinfo
status=0

say() { echo "$*" >>"$log"; }

for mib in 512 6144; do
    dtb=$logs/dtbinfo-$mib.dtb
    "${QEMU:-qemu-system-aarch64}" -M "virt,virtualization=on,dumpdtb=$dtb" -cpu cortex-a15 -m "${mib}M" \
        -nic none >/dev/null 2>&1
    out=$("$tool" "$dtb" 2>&1); rc=$?
    say "== -m ${mib}M (status $rc)"; say "$out"
    want_end=$((0x40000000 + mib * 1024 * 1024))
    # dtbinfo does not know where the blob was loaded, so all of RAM is usable.
    got=$(awk '$1 == "usable" { print $2, $3 }' <<<"$out")
    if [ "$rc" -ne 0 ] || [ "$(wc -l <<<"$got")" -ne 1 ]; then
        say "FAIL: expected exactly one usable range"; status=1; continue
    fi
    read -r s e <<<"$got"
    if [ $((s)) -ne $((0x40000000)) ] || [ $((e)) -ne $want_end ]; then
        say "FAIL: usable $s-$e, expected 0x40000000-$(printf '0x%x' $want_end)"; status=1
    fi
done

printf 'XXXX' >"$logs/dtbinfo-bad.dtb"
tail -c +5 "$logs/dtbinfo-512.dtb" >>"$logs/dtbinfo-bad.dtb"
out=$("$tool" "$logs/dtbinfo-bad.dtb" 2>&1); rc=$?
say "== bad magic (status $rc)"; say "$out"
if [ "$rc" -eq 0 ] || ! grep -q "dtbinfo: .*dtbinfo-bad.dtb: .*magic" <<<"$out"; then
    say "FAIL: a bad magic must exit non-zero naming the file and the problem"; status=1
fi

# Boot modules: each listed with its kind and exact range, and reserved.
dtc -q -I dts -O dtb -o "$logs/dtbinfo-modules.dtb" tests/dt/modules.dts
out=$("$tool" --dtb-at 0x40000000 "$logs/dtbinfo-modules.dtb" 2>&1); rc=$?
say "== modules.dts (status $rc)"; say "$out"
want="module kernel 0x48000000 0x48012345 /chosen/module@48000000
module ramdisk 0x49000000 0x49200000 /chosen/module@49000000
module module 0x4a000000 0x4a001000 /chosen/module@4a000000"
if [ "$rc" -ne 0 ] || [ "$(grep '^module ' <<<"$out")" != "$want" ]; then
    say "FAIL: expected exactly these module lines:"; say "$want"; status=1
fi
if [ "$(grep -c '^reserved .* module$' <<<"$out")" -ne 3 ] ||
   ! grep -q '^usable 0x48013000 0x49000000$' <<<"$out"; then
    say "FAIL: the three modules must be reserved and cut out of usable RAM"; status=1
fi
dtc -q -I dts -O dtb -o "$logs/dtbinfo-module-bad.dtb" tests/dt/module-over-image.dts
out=$("$tool" --image 0x40200000 0x40400000 "$logs/dtbinfo-module-bad.dtb" 2>&1); rc=$?
say "== module-over-image.dts (status $rc)"; say "$out"
if [ "$rc" -eq 0 ] || ! grep -q "/chosen/module@40201000: module at 0x40201000-0x40211000 overlaps the hypervisor image" <<<"$out"; then
    say "FAIL: a module over the image must be refused, naming the node"; status=1
fi

out=$("$tool" "$logs/no-such-file.dtb" 2>&1); rc=$?
say "== missing file (status $rc)"; say "$out"
if [ "$rc" -eq 0 ] || ! grep -q "no-such-file.dtb" <<<"$out"; then
    say "FAIL: a missing file must exit non-zero naming it"; status=1
fi
exit $status
