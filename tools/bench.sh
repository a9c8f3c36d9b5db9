#!/usr/bin/env bash
# make bench: instructions per operation, two ways, printed as a table.
#   image: release build under qemu -icount shift=0, PMU cycle counter = instructions
#   host:  release build under valgrind --tool=callgrind, Ir(N ops) - Ir(0 ops)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
source tests/qemu.sh

N=${BENCH_ITERATIONS:-2000}
BENCH_MAX_ITERATIONS=50000     # include/test/bench.h
# BENCH=pattern[,pattern...] (as the image's bench=): only these benchmarks, no boot figures.
BENCH=${BENCH:-all}
IMAGE=build/arm-release/hyp.elf
host=build/host-release/bench
out=build/bench
mkdir -p "$out"

command -v valgrind >/dev/null || { echo "bench: valgrind missing; run: apt-get install -y valgrind" >&2; exit 1; }

TIMEOUT=600 boot 1G 1 "bench=$BENCH bench_iterations=$N" "" "" -icount shift=0 \
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

# Host benchmarks the image ran, in the image's order, with their reference and lock pairs.
declare -A img hst
rows=()
: >"$out/ratios.tsv"
while IFS=$'\t' read -r name what fixed units ref locks; do
    grep -q "^bench $name: " "$out/image.log" || continue
    n=$N; [ "$fixed" -gt 0 ] && n=$fixed
    img[$name]=$(sed -n "s/^bench $name: \([0-9.]*\) instructions\/op.*/\1/p" "$out/image.log")
    a=$(ir "$name" 0); b=$(ir "$name" "$n")
    hst[$name]=$(awk -v a="$a" -v b="$b" -v n="$n" -v u="$units" 'BEGIN { printf "%.2f", (b - a) / (n * u) }')
    rows+=("$name"$'\t'"$what"$'\t'"$ref"$'\t'"$locks")
done < <("$host" --list)

# The spinlock benchmark's figures, taken out of a ratio as its lock pairs say (0 if not run).
lock_img=${img[spinlock]:-0} lock_hst=${hst[spinlock]:-0}

ratio() {  # FIGURE REF_FIGURE LOCK_PAIRS LOCK_COST -> "with / without the lock"
    awk -v x="$1" -v r="$2" -v l="$3" -v c="$4" \
        'BEGIN { if (r > 0) printf "%.2fx / %.2fx", x / r, (x - l * c) / r; else printf "-" }'
}

printf '%-22s %10s %10s  %-17s %-17s %s\n' "benchmark" "image" "host" "image: x ref" "host: x ref" \
    "operation"
for row in "${rows[@]}"; do
    IFS=$'\t' read -r name what ref locks <<<"$row"
    ri=- rh=-
    if [ "$ref" != - ] && [ -n "${img[$ref]:-}" ]; then
        ri=$(ratio "${img[$name]}" "${img[$ref]}" "$locks" "$lock_img")
        rh=$(ratio "${hst[$name]}" "${hst[$ref]}" "$locks" "$lock_hst")
    fi
    printf '%-22s %10s %10s  %-17s %-17s %s\n' "$name" "${img[$name]:--}" "${hst[$name]}" "$ri" \
        "$rh" "$what"
    # For the plot: rows with a reference, their lock-free ratios.
    if [ "$ref" != - ] && [ -n "${img[$ref]:-}" ]; then
        printf '%s\t%s\t%s\n' "$name" \
            "$(awk -v x="${img[$name]}" -v r="${img[$ref]}" -v l="$locks" -v c="$lock_img" 'BEGIN { printf "%.3f", (x - l * c) / r }')" \
            "$(awk -v x="${hst[$name]}" -v r="${hst[$ref]}" -v l="$locks" -v c="$lock_hst" 'BEGIN { printf "%.3f", (x - l * c) / r }')"
    fi >>"$out/ratios.tsv"
done
echo "(instructions per operation. image: $N ops per benchmark under qemu -icount, harness cost"
echo " subtracted; host: callgrind, $N ops minus 0 ops. x ref: the figure over its reference's,"
echo " with the lock / with its lock pairs taken out at the spinlock row's cost; aim: 1.5x."
echo " What keeps a heap row above it: docs/benchmarks.md, \"What stops the rest\")"
[ "$BENCH" = all ] || exit 0
echo
echo "SMP: heap_smp_order0 (heap_order0 on every CPU at once), image, boot CPU's count per pair"
for cpus in 1 2 4; do
    TIMEOUT=600 boot 1G "$cpus" "bench=heap_smp_order0 bench_iterations=$N" "" "" -icount shift=0 \
        -display none -serial stdio -monitor none >"$out/smp-$cpus.log" 2>&1
    line=$(sed -n 's/^bench heap_smp_order0: \([0-9.]*\) instructions.*/\1/p' "$out/smp-$cpus.log")
    printf '  %s CPU(s): %s instructions per pair\n' "$cpus" "${line:-(no figure: see $out/smp-$cpus.log)}"
done
echo "SMP: host threads, each running order-0 domheap pairs at once (wall clock; $(nproc) host CPUs,"
echo "     load average $(cut -d' ' -f1 /proc/loadavg) before)"
for threads in 1 2 4; do
    if line=$(timeout 120 "$host" --threads "$threads" "$BENCH_MAX_ITERATIONS" 2>/dev/null); then
        printf '%s\n' "$line" | sed -n 's/^heap_threads /  threads /p'
    else
        echo "  threads $threads: failed, or did not finish within 120 s"
    fi
done

echo
echo "boot: setup_mm (frame table, xenheap, heap handover) in the image under -icount"
: >"$out/boot.tsv"
for mem in 1G 4G 16G; do
    TIMEOUT=600 boot "$mem" 1 "test=none" "" "" -icount shift=0 \
        -display none -serial stdio -monitor none >"$out/boot-$mem.log" 2>&1
    line=$(tr -d '\r' <"$out/boot-$mem.log" |
           sed -n 's/^mm: setup_mm took \([0-9]*\) PMU cycles \(.*\) (instructions.*/\1 instructions \2/p')
    printf '  -m %-4s %s\n' "$mem" "${line:-(no figure: see $out/boot-$mem.log)}"
    pages=$(printf '%s\n' "$line" | sed -n 's/.* for \([0-9]*\) RAM pages.*/\1/p')
    [ -n "$pages" ] && printf '%s\t%s\n' "$pages" "${line%% *}" >>"$out/boot.tsv"
done

python3 tools/bench_plot.py "$out" && echo "plots: $out/heap-ratios.svg, $out/boot.svg"
