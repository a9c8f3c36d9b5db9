#!/usr/bin/env bash
# Checks the host tool build/host/dtbinfo against device trees whose memory
# we know independently: QEMU's own tree for a given -m (RAM starts at
# 0x40000000 and spans exactly -m), and broken files that must be refused.
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

out=$("$tool" "$logs/no-such-file.dtb" 2>&1); rc=$?
say "== missing file (status $rc)"; say "$out"
if [ "$rc" -eq 0 ] || ! grep -q "no-such-file.dtb" <<<"$out"; then
    say "FAIL: a missing file must exit non-zero naming it"; status=1
fi
exit $status
