#!/usr/bin/env bash
# make fuzz: runs each libFuzzer harness (build/fuzz/fuzz-NAME, tests/fuzz/NAME.c) for a
# bounded time and prints what it did.
#
#   tools/fuzz.sh SECONDS NAME...      fuzz each NAME for SECONDS
#   tools/fuzz.sh --merge NAME...      fold what the runs found into the checked-in corpora
#
# A run starts from the checked-in seeds (tests/fuzz/corpus/NAME) and what earlier runs
# found (build/fuzz/corpus/NAME, where new inputs go). A crash stops that harness's run; the
# input is saved in build/fuzz/crashes/NAME/ and the message says how to replay it.
# --merge adds to tests/fuzz/corpus/NAME only the inputs that reach edges the corpus does
# not (libFuzzer -merge=1), so make test's replay covers what the fuzzer found.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

out=build/fuzz
if [ "${1:-}" = "--merge" ]; then
    shift
    for name in "$@"; do
        before=$(ls "tests/fuzz/corpus/$name" | wc -l)
        # -use_counters=0: an input is kept for an edge nothing else reaches, not for reaching
        # one more often: the same edges in under a third of the bytes (the dt corpus: 248 KB,
        # not 820)
        "$out/fuzz-$name" -merge=1 -use_counters=0 -close_fd_mask=1 "tests/fuzz/corpus/$name" \
            "$out/corpus/$name" \
            >"$out/merge-$name.log" 2>&1 ||
            { echo "fuzz: merging $name failed:" >&2; tail -20 "$out/merge-$name.log" >&2; exit 1; }
        echo "fuzz: $name: tests/fuzz/corpus/$name has $(ls "tests/fuzz/corpus/$name" | wc -l) inputs ($before before the merge)"
    done
    exit 0
fi

seconds=$1
shift
status=0
printf '%-4s %12s %7s %12s %7s %7s %s\n' harness executions seconds corpus cov ft crashes
for name in "$@"; do
    crashes="$out/crashes/$name"
    corpus="$out/corpus/$name"
    log="$out/fuzz-$name.log"
    mkdir -p "$crashes" "$corpus"
    start=$SECONDS
    # mm's programs are worth running long from the start: libFuzzer's default would keep
    # them under a hundred bytes (a dozen operations) for minutes
    opts=()
    [ "$name" = mm ] && opts=(-max_len=1024 -len_control=0)
    # -close_fd_mask=1: the code under test prints its refusals on stdout, by the thousand
    "$out/fuzz-$name" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
        -close_fd_mask=1 -artifact_prefix="$crashes/" "${opts[@]}" "$corpus" \
        "tests/fuzz/corpus/$name" >"$log" 2>&1
    rc=$?
    secs=$((SECONDS - start))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -n 1)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    files=$(cat "$corpus"/* "tests/fuzz/corpus/$name"/* 2>/dev/null | wc -c)
    found=$(grep -l . "$crashes"/crash-* "$crashes"/leak-* "$crashes"/timeout-* "$crashes"/oom-* \
            2>/dev/null | wc -l)
    printf '%-4s %12s %7s %5s/%-6s %7s %7s %s\n' "$name" "${execs:-?}" "$secs" \
        "$(ls "$corpus" | wc -l)" "$((files / 1024))K" "${cov:-?}" "${ft:-?}" "$found"
    if [ "$rc" -ne 0 ]; then
        status=1
        input=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
        echo "fuzz: $name failed (exit $rc); what went wrong (the whole report is in $log):" >&2
        grep -E '^fuzz: |ERROR|SUMMARY|^panic|runtime error|Test unit written' "$log" | head -n 12 |
            sed 's/^/    /' >&2
        echo "fuzz: replay it:  build/host/fuzz-$name-replay ${input:-$crashes/FILE}" \
             "  (or $out/fuzz-$name ${input:-FILE})" >&2
        echo "fuzz: once fixed, keep it as a regression input:  cp ${input:-FILE} tests/fuzz/corpus/$name/" >&2
    fi
done
echo "corpus: inputs found by the runs in $out/corpus/NAME (files) and the bytes of it and the seeds;"
echo "cov/ft: libFuzzer's covered edges and features at the end. make fuzz-merge keeps new coverage in tests/fuzz/corpus/."
exit $status
