#!/usr/bin/env bash
# make bench: instructions per operation, two ways, printed as a table.
#   image: release build under qemu -icount shift=0, PMU cycle counter = instructions
#   host:  release build under valgrind --tool=callgrind, Ir(N ops) - Ir(0 ops)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
source tests/qemu.sh

N=${BENCH_ITERATIONS:-2000}
IMAGE=build/arm-release/hyp.elf
host=build/host-release/bench
out=build/bench
mkdir -p "$out"

command -v valgrind >/dev/null || { echo "bench: valgrind missing; run: apt-get install -y valgrind" >&2; exit 1; }

TIMEOUT=600 boot 1G 1 "bench=all bench_iterations=$N" "" "" -icount shift=0 \
    -display none -serial stdio -monitor none >"$out/image.log" 2>&1
grep -q '^bench: [0-9]* benchmarks run' "$out/image.log" ||
    { echo "bench: the image did not finish its benchmarks:" >&2; tail -20 "$out/image.log" >&2; exit 1; }

ir() {  # NAME ITERATIONS -> total instructions of the run
    # The host's software MMU (arch/host/pt.c) resumes from SIGSEGV: valgrind
    # must hand the handler up-to-date registers for that to work.
    valgrind --tool=callgrind --px-file-backed=allregs-at-mem-access \
        --callgrind-out-file=/dev/null "$host" "$1" "$2" 2>&1 |
        sed -n 's/^==[0-9]*== Collected : \([0-9]*\)$/\1/p'
}

printf '%-28s %14s %14s  %s\n' "benchmark" "image instr/op" "host instr/op" "operation"
while IFS=$'\t' read -r name what fixed units; do
    # A benchmark may fix its own number of operations, and count each as several units.
    n=$N; [ "$fixed" -gt 0 ] && n=$fixed
    img=$(sed -n "s/^bench $name: \([0-9.]*\) instructions\/op.*/\1/p" "$out/image.log")
    a=$(ir "$name" 0); b=$(ir "$name" "$n")
    hst=$(awk -v a="$a" -v b="$b" -v n="$n" -v u="$units" 'BEGIN { printf "%.2f", (b - a) / (n * u) }')
    printf '%-28s %14s %14s  %s\n' "$name" "${img:--}" "$hst" "$what"
done < <("$host" --list)
echo "(image: $N ops per benchmark, harness cost subtracted; host: callgrind, $N ops minus 0 ops)"

echo
echo "boot: setup_mm (frame table, xenheap, heap handover) in the image under -icount"
for mem in 1G 16G; do
    TIMEOUT=600 boot "$mem" 1 "test=none" "" "" -icount shift=0 \
        -display none -serial stdio -monitor none >"$out/boot-$mem.log" 2>&1
    line=$(tr -d '\r' <"$out/boot-$mem.log" |
           sed -n 's/^mm: setup_mm took \([0-9]*\) PMU cycles \(.*\) (instructions.*/\1 instructions \2/p')
    printf '  -m %-4s %s\n' "$mem" "${line:-(no figure: see $out/boot-$mem.log)}"
done
