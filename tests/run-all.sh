#!/usr/bin/env bash
# Runs every test: the host self-tests, then the image under QEMU in several
# machine shapes, then boots that must fail in a precise way. Each KTAP result
# counts as one test, each expectation about a boot as one more. Ends with
# "N passed, N failed" and a non-zero status if anything failed.
#
# A KTAP run fails on a hang (timeout), a missing plan, a count that differs
# from the plan, any "not ok", or a non-zero exit status.
#
# Steps run in parallel, their results are printed in the order of this file.
# This file only lists steps; run_steps (at the end) runs them, JOBS at a time
# (default: the number of cores), longest first, each in a subshell of its own
# with its output in $LOGS/steps/. Each step's totals go to a file there, and
# are added up here.
#
# HOW TO ADD A STEP
#   - A boot on its own: write the ktap_boot or expect_boot line at the top level,
#     as before; outside a step, each of these becomes a step of its own
#     (VAR=value before it, QEMU= or SEMIHOSTING=, still applies to it). COST=seconds
#     before it says how long it runs alone on an idle machine (default 1; see
#     $LOGS/steps/times after a run): longer steps start first, so that the run ends
#     sooner. The results are the same in any order.
#   - Several commands, or a check that reads another boot's log: a function,
#     registered with  step NAME COST THREADS FUNCTION [ARGS...] (COST as above; a step
#     that mostly waits: its wall time, so that it starts early). THREADS is how many
#     cores it keeps busy: 1, or the vCPUs of a boot with -smp 2 (2 host threads
#     under QEMU's multi-threaded TCG; more vCPUs than cores run on one thread,
#     see tcg_threading in tests/qemu.sh); 0 for a step that mostly waits.
#   - section "== title" prints a heading at its place.
#   - A step must not read what another step writes: each writes its own files
#     ($LOGS/NAME.log, $LOGS/NAME-*, or mktemp), and makes what it reads.
#     pass, fail and check_ktap called outside a step are reported as failures.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
source tests/qemu.sh

LOGS=build/test-logs
rm -rf "$LOGS"
mkdir -p "$LOGS/steps"
# Per boot. Alone the slowest boot takes about 10 s; with JOBS boots at once, and
# whatever else the machine runs, several times that.
TIMEOUT=${TIMEOUT:-300}
JOBS=${JOBS:-$(nproc)}
passed=0
failed=0
skipped=0
failures=()
STEP=""         # the step this shell runs; empty in the main shell

# Outside a step the totals would be lost (or printed out of order): say so, loudly.
outside_step() {
    [ -n "$STEP" ] && return 1
    echo "run-all.sh: $1 called outside a step (see HOW TO ADD A STEP): $2" >&2
    top_level_misuse+=("$1: $2")
    return 0
}
top_level_misuse=()

pass() {
    outside_step pass "$1" && return
    passed=$((passed + 1)); printf '  ok    %s\n' "$1"
}
fail() {
    outside_step fail "$1" && return
    failed=$((failed + 1)); failures+=("$1")
    printf '  FAIL  %s: %s\n' "$1" "$2"
    [ -n "${3:-}" ] && [ -f "$3" ] && { echo "  --- last lines of $3:"; tail -n 25 "$3" | sed 's/^/  | /'; }
}

# Checks a KTAP log; adds its results to the totals. Arguments: NAME LOG STATUS
check_ktap() {
    outside_step check_ktap "$1" && return
    local name=$1 log=$2 status=$3 plan ok notok
    plan=$(sed -n 's/\r$//; s/^1\.\.\([0-9]\+\)$/\1/p' "$log" | head -n 1)
    ok=$(tr -d '\r' <"$log" | grep -c '^ok [0-9]')
    notok=$(grep -c '^not ok [0-9]' "$log")
    skip=$(tr -d '\r' <"$log" | grep -c '^ok [0-9].* # SKIP')
    passed=$((passed + ok - skip))
    skipped=$((skipped + skip))
    failed=$((failed + notok))
    grep '^not ok [0-9]' "$log" | sed "s/^/  FAIL  $name: /"
    [ "$notok" -gt 0 ] && failures+=("$name: $notok not ok")
    if [ "$status" -eq 124 ]; then
        fail "$name" "hung: no exit within ${TIMEOUT}s" "$log"
    elif [ -z "$plan" ]; then
        fail "$name" "no KTAP plan line" "$log"
    elif [ $((ok + notok)) -ne "$plan" ]; then
        fail "$name" "plan says $plan tests, $((ok + notok)) reported" "$log"
    elif [ "$status" -ne 0 ] && [ "$notok" -eq 0 ]; then
        fail "$name" "exit status $status" "$log"
    else
        printf '  %-5s %s: %d tests, %d failed, %d skipped\n' \
            "$([ "$notok" -eq 0 ] && echo ok || echo FAIL)" "$name" "$plan" "$notok" "$skip"
    fi
}

# Host threads a boot with SMP vCPUs keeps busy (see tcg_threading in tests/qemu.sh).
boot_threads() {  # SMP
    [ "$1" -gt "$(nproc)" ] && echo 1 || echo "$1"
}

# Boots and checks KTAP. Arguments: NAME MEM SMP APPEND DTB [MACHINE_OPTS [QEMU ARGS...]]
ktap_boot() {
    if [ -z "$STEP" ]; then
        step "$1" "${COST:-1}" "$(boot_threads "$3")" ktap_boot "$@"
        return
    fi
    local name=$1 mem=$2 smp=$3 append=$4 dtb=$5 mopts=${6:-} log=$LOGS/$1.log status
    shift $(( $# < 6 ? $# : 6 ))
    boot "$mem" "$smp" "$append" "$dtb" "$mopts" -display none -serial stdio -monitor none "$@" \
        >"$log" 2>&1
    status=$?
    check_ktap "qemu $name (-m $mem)" "$log" $status
}

# Boots expecting a given exit status and lines. Arguments:
# NAME MEM APPEND DTB MACHINE_OPTS WANT_STATUS PATTERN...
expect_boot() {
    if [ -z "$STEP" ]; then
        step "$1" "${COST:-1}" 1 expect_boot "$@"
        return
    fi
    local name=$1 mem=$2 append=$3 dtb=$4 mopts=$5 want=$6 log=$LOGS/$1.log status
    shift 6
    boot "$mem" 1 "$append" "$dtb" "$mopts" -display none -serial stdio -monitor none >"$log" 2>&1
    status=$?
    if [ "$status" -ne "$want" ]; then
        fail "boot $name" "exit status $status, expected $want" "$log"
        return
    fi
    for pat in "$@"; do
        if ! grep -qE -- "$pat" "$log"; then
            fail "boot $name" "no line matching: $pat" "$log"
            return
        fi
    done
    pass "boot $name (status $want; $*)"
}

# Debian's Linux as dom0 (issue 11): boots with tests/linux.sh and checks its report.
# Each boot takes 5-10 s of wall time on two cores. MODE is run (hypmem) or direct (QEMU alone).
linux_boot() {  # MODE NAME CHECK-ARGS RUN-ARGS...
    local mode=$1 name=$2 check_args=$3 log=$LOGS/$2.log out status
    shift 3
    tests/linux.sh "$mode" "$@" >"$log" 2>&1
    status=$?
    [ "$status" -eq 0 ] && pass "$name: exit status 0" || fail "$name" "exit status $status, want 0" "$log"
    out=$(tests/linux.sh check $([ "$mode" = direct ] && echo --direct) "$log" $check_args)
    while IFS= read -r line; do
        case "$line" in
            ok*) pass "$name: ${line#ok    }" ;;
            FAIL*) fail "$name" "${line#FAIL  }" "$log" ;;
        esac
    done <<<"$out"
}

# --- the step list and its runner ---------------------------------------------------------

step_name=()
step_cost=()
step_threads=()
step_cmd=()     # the command, quoted for eval; empty for a section heading
step_title=()

# Registers a step. Arguments: NAME COST THREADS COMMAND [ARGS...]
step() {
    local name=$1 cost=$2 threads=$3 cmd
    shift 3
    if [ -n "$STEP" ]; then
        echo "run-all.sh: step $name registered inside step $STEP" >&2
        exit 2
    fi
    [ "$threads" -gt "$JOBS" ] && threads=$JOBS
    # What a VAR=value before the call set must hold when the step runs.
    cmd="QEMU=$(printf %q "$QEMU") TIMEOUT=$(printf %q "$TIMEOUT")"
    [ -n "${SEMIHOSTING+set}" ] && cmd+=" SEMIHOSTING=$(printf %q "$SEMIHOSTING")"
    cmd+=" $(printf '%q ' "$@")"
    step_name+=("$name"); step_cost+=("$cost"); step_threads+=("$threads")
    step_cmd+=("$cmd"); step_title+=("")
}

section() {  # TITLE
    step_name+=("section"); step_cost+=(0); step_threads+=(0); step_cmd+=(""); step_title+=("$1")
}

# Runs step I in this (sub)shell: its output, totals, failures, wall and CPU seconds
# go to $LOGS/steps/I.*.
run_one_step() {  # I
    local i=$1 f=$LOGS/steps/$1 start t
    STEP=${step_name[$i]}
    passed=0 failed=0 skipped=0 failures=()
    start=$EPOCHREALTIME
    eval "${step_cmd[$i]}" >"$f.out" 2>&1
    # User and system seconds of this shell and of its children: times runs here, not in
    # a subshell of its own, whose counts would start from nothing.
    times >"$f.times"
    t=$(tr -s ' \n' '  ' <"$f.times" | sed 's/m/ /g; s/s//g' |
        awk '{ printf "%.1f", $1*60+$2 + $3*60+$4 + $5*60+$6 + $7*60+$8 }')
    printf '%s\n' "${failures[@]}" >"$f.failures"
    echo "$passed $failed $skipped $(awk "BEGIN { printf \"%.1f\", $EPOCHREALTIME - $start }") $t" \
        >"$f.counts"
}

# Prints step I's output and adds its totals; a step that left no totals failed.
collect_step() {  # I
    local i=$1 f=$LOGS/steps/$1 p fl s wall cpu line
    if [ -z "${step_cmd[$i]}" ]; then
        echo "${step_title[$i]}"
        return
    fi
    cat "$f.out"
    if ! read -r p fl s wall cpu 2>/dev/null <"$f.counts"; then
        failed=$((failed + 1)); failures+=("step ${step_name[$i]}: ended without its totals")
        echo "  FAIL  step ${step_name[$i]}: ended without its totals (see $f.out)"
        return
    fi
    passed=$((passed + p)); failed=$((failed + fl)); skipped=$((skipped + s))
    while IFS= read -r line; do [ -n "$line" ] && failures+=("$line"); done <"$f.failures"
    printf '%7s %7s %s %3s %s\n' "$wall" "$cpu" "${step_threads[$i]}" "${step_cost[$i]}" \
        "${step_name[$i]}" >>"$LOGS/steps/times"
}

# Runs every step, JOBS cores' worth at a time, the costliest first; prints each
# step's output in the order the steps were listed, as soon as all before it are done.
run_steps() {
    local n=${#step_name[@]} free=$JOBS next_print=0 i pid started=0 t0=$EPOCHREALTIME
    local -a order state pid_of threads_of_pid
    # Costliest first; equal costs in the order listed.
    mapfile -t order < <(for ((i = 0; i < n; i++)); do echo "${step_cost[$i]} $i"; done |
                         sort -k1,1nr -k2,2n -s | cut -d' ' -f2)
    for ((i = 0; i < n; i++)); do state[i]=waiting; done
    echo "# wall-s cpu-s threads cost step (in the order printed)" >"$LOGS/steps/times"
    while [ "$next_print" -lt "$n" ]; do
        # Start whatever fits, in cost order.
        for i in "${order[@]}"; do
            [ "${state[i]}" = waiting ] || continue
            if [ -z "${step_cmd[$i]}" ]; then state[i]=done; continue; fi
            [ "${step_threads[$i]}" -le "$free" ] || continue
            run_one_step "$i" &
            pid_of[$!]=$i
            state[i]=running
            free=$((free - step_threads[i]))
        done
        # Print what is done, in order.
        while [ "$next_print" -lt "$n" ] && [ "${state[next_print]}" = done ]; do
            collect_step "$next_print"
            next_print=$((next_print + 1))
        done
        [ "$next_print" -lt "$n" ] || break
        wait -n -p pid
        i=${pid_of[$pid]}
        state[i]=done
        free=$((free + step_threads[i]))
    done
    total_wall=$(awk "BEGIN { printf \"%.0f\", $EPOCHREALTIME - $t0 }")
}

# --- the steps, in the order their results are printed ------------------------------------

section "== host self-tests (ASan + UBSan)"
host_selftest() {
    build/host/selftest >"$LOGS/host.log" 2>&1
    check_ktap "host selftest" "$LOGS/host.log" $?
}
step host 36 1 host_selftest

section "== dtbinfo host tool"
dtbinfo_check() {
    tests/dtbinfo-check.sh "$LOGS" && pass "dtbinfo" || fail "dtbinfo" "see $LOGS/dtbinfo.log" "$LOGS/dtbinfo.log"
}
step dtbinfo 1 1 dtbinfo_check

section "== fuzz corpora replayed (gcc, ASan+UBSan; make fuzz grows them)"
fuzz_replay() {  # HARNESS
    local h=$1 n
    n=$(ls "tests/fuzz/corpus/$h" | wc -l)
    if [ "$n" -gt 0 ] && build/host/fuzz-$h-replay "tests/fuzz/corpus/$h" >"$LOGS/fuzz-$h.log" 2>&1 &&
       grep -q "^replay: $n inputs replayed$" "$LOGS/fuzz-$h.log"; then
        pass "fuzz corpus $h ($n inputs)"
    else
        fail "fuzz corpus $h" "an input crashed or broke a promise (its name is above the report)" \
             "$LOGS/fuzz-$h.log"
    fi
}
step fuzz-dt 2 1 fuzz_replay dt
step fuzz-mm 2 1 fuzz_replay mm

section "== boot modules (KERNEL=, INITRD=, KERNEL_ARGS=): the tree and the loaded files"
modules_check() {
    tests/modules-check.sh "$LOGS" &&
        pass "boot modules: module nodes read back from the tree, files at their addresses, refusals" ||
        fail "boot modules" "see $LOGS/modules.log" "$LOGS/modules.log"
}
step modules 4 1 modules_check

section "== the test guest on QEMU's own PSCI, no hypervisor (console hypercall through gdb)"
guest_check() {
    tests/guest-check.sh "$LOGS" >"$LOGS/guest-check.log" 2>&1 &&
        pass "test guest: its checks pass, and fail exactly where QEMU alone differs or RAM and initrd were spoiled" ||
        fail "test guest" "see $LOGS/guest-check.log" "$LOGS/guest-check.log"
}
step guest-check 16 1 guest_check

section "== set-up"
# A LIBFDT_DIR that holds no libfdt must be named in a clear message, not fail obscurely.
libfdt_dir_check() {
    if ! make --no-print-directory LIBFDT_DIR="$LOGS/no-libfdt" image >"$LOGS/libfdt-dir.log" 2>&1 &&
       grep -q "LIBFDT_DIR=$LOGS/no-libfdt has no include/libfdt.h" "$LOGS/libfdt-dir.log"; then
        pass "a LIBFDT_DIR without libfdt is refused with a message naming it"
    else
        fail "LIBFDT_DIR" "no clear refusal" "$LOGS/libfdt-dir.log"
    fi
}
step libfdt-dir 1 1 libfdt_dir_check
setup_check() {
    if tests/setup-check.sh "$LOGS"; then
        pass "setup: without root it names the missing packages and the apt-get command; the ARM libfdt comes only from the system's apt mirror (none: refused), retried once, apt's own error shown"
    else
        fail "setup without root" "see $LOGS/setup.log" "$LOGS/setup.log"
    fi
}
step setup 12 0 setup_check

section "== gdb attached to QEMU's stub (make debug, make gdbserver)"
gdb_check() {
    tests/gdb-check.sh "$LOGS" && pass "gdb: symbols and breakpoints before and after the MMU is on, backtraces, each helper against the image, a plain gdb on make gdbserver" ||
        fail "gdb" "see $LOGS/gdb.log" "$LOGS/gdb.log"
}
step gdb 12 0 gdb_check

section "== image under QEMU"
COST=5 ktap_boot mem512m 512M 1 "" ""
COST=9 ktap_boot mem1g 1G 1 "" ""
# Where RAM lies above 4 GiB, a table there must be walked where it lies:
# the test must run and pass there, not be skipped.
table_above_4g() {  # NAME
    if tr -d '\r' <"$LOGS/$1.log" | grep -qE '^ok [0-9]+ mmu\.table_above_4g$'; then
        pass "qemu $1: a level-3 table above 4 GiB is walked where it lies (mmu.table_above_4g ran)"
    else
        fail "qemu $1" "mmu.table_above_4g did not run and pass" "$LOGS/$1.log"
    fi
}
mem6g() {
    ktap_boot mem6g 6G 1 "" ""
    table_above_4g mem6g
}
step mem6g 4 1 mem6g
COST=9 ktap_boot two-banks 1G 1 "" tests/dt/two-banks.dts
COST=6 ktap_boot cells-1 1G 1 "" tests/dt/cells-1.dts
# RAM only above 4 GiB: every table, the frame table, both heaps lie there.
high_only() {
    ktap_boot high-only 6G 2 "" tests/dt/high-only.dts
    table_above_4g high-only
}
step high-only 3 2 high_only

# SMP: every CPU the tree lists comes up; the in-image tests run on all of them.
# -smp 2 runs both vCPUs truly in parallel on a two-core host: that is where a
# broken lock would lose updates. More vCPUs than host cores run round-robin
# (see tcg_threading in tests/qemu.sh).
COST=12 ktap_boot smp2 1G 2 "" ""
smp4() {
    ktap_boot smp4 1G 4 "" ""
    # QEMU's Cortex-A15 reads ACTLR.SMP as 0 and ignores writes: every CPU must
    # be warned of, by number (a warning, not a failure).
    warned=$(tr -d '\r' <"$LOGS/smp4.log" | grep -cE '^cpu [0-3]: warning: ACTLR\.SMP reads 0')
    if [ "$warned" -eq 4 ] && grep -q '^ok [0-9]* smp.actlr_smp_set_or_warned' "$LOGS/smp4.log"; then
        pass "smp4: ACTLR.SMP reads 0 under QEMU, and each of the 4 CPUs is warned of by number"
    else
        fail "smp4 ACTLR.SMP" "$warned CPUs warned of, expected 4" "$LOGS/smp4.log"
    fi
    # Each CPU printed 10 lines at once: each must arrive whole, none lost.
    whole=$(tr -d '\r' <"$LOGS/smp4.log" |
            grep -c '^smp-line cpu=[0-3] n=[0-9] abcdefghijklmnopqrstuvwxyz0123456789 end$')
    any=$(grep -c 'smp-line' "$LOGS/smp4.log")
    if [ "$whole" -eq 40 ] && [ "$any" -eq 40 ]; then
        pass "smp4: 40 console lines from 4 CPUs at once, all whole"
    else
        fail "smp4 console" "$whole whole lines of $any with smp-line, expected 40" "$LOGS/smp4.log"
    fi
}
step smp4 17 1 smp4
COST=2 ktap_boot smp8 2G 8 "test=smp,vcpu" ""

# -m 1023G: the frame-table window covers 24 GiB; the rest must be ignored with
# a warning, not crash. A sparse file backs the RAM so the host pays only for
# the pages the image touches.
mem1023g() {
    local sparse
    sparse=$(mktemp -p "${TMPDIR:-/tmp}" hypmem-ram.XXXXXX)
    ktap_boot mem1023g 1023G 1 "" "" "memory-backend=ram0" \
        -object "memory-backend-file,id=ram0,size=1023G,mem-path=$sparse,share=on"
    rm -f "$sparse"
    if grep -q "ignoring [0-9]* MiB of RAM" "$LOGS/mem1023g.log"; then
        pass "qemu mem1023g says how much RAM it ignored"
    else
        fail "qemu mem1023g" "no warning about ignored RAM" "$LOGS/mem1023g.log"
    fi
}
step mem1023g 14 1 mem1023g

# Guests (issue 10): the test guest (tests/guest/) as a multiboot,kernel module and an
# initrd of random bytes whose length and cksum go in the guest's bootargs. The guest
# checks from inside what it was given and powers off only if all of it held.
# Each step makes its own initrd (guest_initrd NAME), so that none waits for another.
guest_kernel=build/guest/testguest.bin
guest_initrd() {  # NAME: makes $LOGS/NAME-initrd.bin and sets guest_initrd, guest_args
    guest_initrd=$LOGS/$1-initrd.bin
    head -c 300001 /dev/urandom >"$guest_initrd"
    guest_args="initrd_cksum=$(cksum <"$guest_initrd" | cut -d' ' -f1) initrd_len=300001"
}

# Every self-test, with the guests first (the image runs tests/arm32/ before tests/*.c):
# the guests' accesses outside their RAM are reported, and nothing that follows minds.
guests() {
    local log=$LOGS/guests.log passed_guests reports
    guest_initrd guests
    boot_with_modules 1G 1 "test=*" "$guest_kernel" "$guest_initrd" "$guest_args" \
        -display none -serial stdio -monitor none >"$log" 2>&1
    check_ktap "qemu guests (-m 1G, all tests, the test guest as a boot module)" "$log" $?
    passed_guests=$(grep -c '^(d[0-9]*) guest: all passed' "$log")
    reports=$(grep -c '^d[0-9]*v0: stage-2 abort: .* at IPA 0x0008000000 .*injecting an external abort' "$log")
    if [ "$passed_guests" -eq 3 ] && [ "$reports" -ge 3 ]; then
        pass "guests: 3 test guests passed their own checks; $reports reports of reads of the GIC they were not given"
    else
        fail "guests" "$passed_guests guests passed (want 3), $reports abort reports at the GIC" "$log"
    fi
}
step guests 13 1 guests
# RAM above 4 GiB, two guests side by side on two CPUs, one guest with two VCPUs.
guests_6g_smp2() {
    local log=$LOGS/guests-6g-smp2.log skips
    guest_initrd guests-6g-smp2
    boot_with_modules 6G 2 "test=guest.*" "$guest_kernel" "$guest_initrd" "$guest_args" \
        -display none -serial stdio -monitor none >"$log" 2>&1
    check_ktap "qemu guests-6g-smp2 (-m 6G -smp 2)" "$log" $?
    skips=$(grep -c '^ok [0-9].* # SKIP' "$log")
    [ "$skips" -eq 0 ] && pass "guests-6g-smp2: no guest test skipped" ||
        fail "guests-6g-smp2" "$skips guest tests skipped" "$log"
}
step guests-6g-smp2 3 2 guests_6g_smp2
# dom0: no test= on the command line, so the image builds dom0 from the modules and its
# verdict is the run's: two VCPUs pass; a wrong initrd checksum fails the run.
dom0() {
    local log=$LOGS/dom0.log status
    guest_initrd dom0
    TIMEOUT=$TIMEOUT tests/qemu.sh run SMP=2 KERNEL="$guest_kernel" INITRD="$guest_initrd" \
        KERNEL_ARGS="$guest_args" DOM0_MEM=32M DOM0_VCPUS=2 >"$log" 2>&1
    status=$?
    if [ "$status" -eq 0 ] && grep -q '^(d0) ok cpu_off' "$log" &&
       grep -q '^d0: the run passes (status 0)' "$log"; then
        pass "dom0 with 2 VCPUs from the boot modules: its SYSTEM_OFF ends the run with status 0"
    else
        fail "dom0" "status $status (want 0), or no cpu_off/SYSTEM_OFF line" "$log"
    fi
}
step dom0 1 2 dom0
# A dom0 that hangs with its interrupts masked (the test guest's hang=1, after its checks):
# the Hyp timer still reaches hypmem, whose watchdog ends the run with status 6, its
# VCPU's last ticks showing CPSR.I set.
dom0_hangs() {
    local log=$LOGS/dom0-hangs.log status
    guest_initrd dom0-hangs
    TIMEOUT=$TIMEOUT tests/qemu.sh run KERNEL="$guest_kernel" INITRD="$guest_initrd" \
        KERNEL_ARGS="$guest_args hang=1" DOM0_MEM=32M APPEND=dom0_timeout=10 >"$log" 2>&1
    status=$?
    if [ "$status" -eq 6 ] && grep -q '^(d0) testguest: hang=1: no verdict' "$log" &&
       grep -q '^d0: no verdict 10 s after its start' "$log" &&
       [ "$(tr -d '\r' <"$log" | grep '^d0v0:   tick at' | tail -n 1 | grep -c '(IRQs masked)$')" -eq 1 ]; then
        pass "dom0 that hangs with interrupts masked: the watchdog ends the run with status 6"
    else
        fail "dom0-hangs" "status $status (want 6), or no watchdog report with a masked last tick" "$log"
    fi
}
step dom0-hangs 11 1 dom0_hangs
dom0_fails() {
    local log=$LOGS/dom0-fails.log status
    guest_initrd dom0-fails
    TIMEOUT=$TIMEOUT tests/qemu.sh run KERNEL="$guest_kernel" INITRD="$guest_initrd" \
        KERNEL_ARGS="initrd_cksum=1 initrd_len=300001" DOM0_MEM=16M >"$log" 2>&1
    status=$?
    if [ "$status" -eq 1 ] && grep -q '^(d0) FAIL initrd' "$log" &&
       grep -q '^d0: the run fails (status 1)' "$log"; then
        pass "dom0 that finds its initrd wrong: SYSTEM_RESET ends the run with status 1"
    else
        fail "dom0-fails" "status $status (want 1), or no FAIL initrd/SYSTEM_RESET line" "$log"
    fi
}
step dom0-fails 2 1 dom0_fails

# Debian's Linux as dom0 (issue 11): its kernel and busybox are fetched once
# (tools/fetch-linux.sh); /init reports what Linux sees and tests/linux.sh checks it against
# what hypmem gave: System RAM == the tree's memory == DOM0_MEM, MemTotal within its
# allowance, the initramfs intact, the CPUs online, a /dev/mem write outside dom0 reported
# by hypmem and turned into a bus error.
# The fetch and the initramfs are made here, before any step runs: every Linux boot
# reads them, and none must find them half made.
# LINUX_UNDER_HYPMEM=0 leaves out the boots under hypmem (for a tree whose hypervisor
# cannot run Linux yet), keeping the fetch, the direct boot and the checker's own tests.
LINUX_UNDER_HYPMEM=${LINUX_UNDER_HYPMEM:-1}
if tests/linux.sh parts >"$LOGS/linux-fetch.log" 2>&1; then
    # The kernel and initramfs without hypmem: QEMU boots them itself (256 MiB at
    # 0x40000000, its own PSCI). If this fails, a failure below is not hypmem's.
    linux_direct() {
        linux_boot direct linux-direct "256M 1" MEM=256M
        # The checker must be able to fail: the direct boot's report with one System RAM
        # line cut short and the payload's sum spoiled must give exactly those two FAILs.
        sed -e 's/^\(dom0: iomem [0-9a-f]*-\)4ffff\(fff : System RAM\)/\14fffe\2/' \
            -e 's/^\(dom0: payload \)[0-9a-f]/\1x/' "$LOGS/linux-direct.log" >"$LOGS/linux-spoiled.log"
        out=$(tests/linux.sh check --direct "$LOGS/linux-spoiled.log" 256M 1)
        if [ "$(grep -c '^FAIL' <<<"$out")" -eq 2 ] &&
           grep -q '^FAIL  System RAM in /proc/iomem (40000000-4ffff000) differs' <<<"$out" &&
           grep -q '^FAIL  payload md5sum in the guest' <<<"$out"; then
            pass "linux checker: a spoiled report fails exactly on its System RAM and its payload"
        else
            fail "linux checker" "a spoiled report gave: $(grep '^FAIL' <<<"$out" | tr '\n' '|')" \
                "$LOGS/linux-spoiled.log"
        fi
    }
    step linux-direct 6 1 linux_direct
fi
if [ "$LINUX_UNDER_HYPMEM" = 1 ] && [ -s build/deps/linux/zImage ]; then
    step linux-1g 8 1 linux_boot run linux-1g "256M 1 0x30000000" MEM=1G \
        DOM0_ARGS="console=ttyAMA0 earlycon panic=-1 rdinit=/init hypmem.poke=0x30000000"
    step linux-smp2 6 2 linux_boot run linux-smp2 "256M 2" MEM=1G SMP=2 DOM0_VCPUS=2
    linux_direct_map() {
        linux_boot run linux-direct-map "256M 1" MEM=1G APPEND=dom0_direct_map
        # 1:1: the machine range hypmem reports is the System RAM Linux sees.
        pa=$(tr -d '\r' <"$LOGS/linux-direct-map.log" |
             sed -n 's/^dom0: RAM from machine addresses 0x\([0-9a-f]*\)-0x\([0-9a-f]*\), in 1 piece(s)$/\1-\2/p')
        ipa=$(tr -d '\r' <"$LOGS/linux-direct-map.log" |
              sed -n 's/^dom0: iomem \([0-9a-f]*-[0-9a-f]*\) : System RAM$/\1/p' | paste -sd ' ')
        [ -n "$pa" ] && [ "$pa" = "$ipa" ] &&
            pass "linux-direct-map: dom0's RAM is at IPA == PA ($ipa)" ||
            fail "linux-direct-map" "machine range '$pa', Linux's System RAM '$ipa'" "$LOGS/linux-direct-map.log"
    }
    step linux-direct-map 8 1 linux_direct_map
    linux_6g() {
        linux_boot run linux-6g "384M 1" MEM=6G DOM0_MEM=384M
        # 384 MiB: a 256 MiB and a 128 MiB chunk from the top of RAM, one contiguous guest bank.
        span=$(tr -d '\r' <"$LOGS/linux-6g.log" |
               sed -n 's/^dom0: RAM from machine addresses 0x\([0-9a-f]*\)-0x[0-9a-f]*, in \([0-9]*\) piece(s)$/\1 \2/p')
        read -r low pieces <<<"$span"
        if [ -n "$low" ] && [ $((16#$low)) -ge $((1 << 32)) ] && [ "${pieces:-0}" -ge 2 ]; then
            pass "linux-6g: dom0's RAM is above 4 GiB (from 0x$low), in $pieces machine pieces, one guest bank"
        else
            fail "linux-6g" "dom0's RAM from 0x${low:-?} in ${pieces:-?} pieces: want above 4 GiB, 2 or more" "$LOGS/linux-6g.log"
        fi
    }
    step linux-6g 7 1 linux_6g
    # A panic reboots at once (panic=-1): dom0's SYSTEM_RESET makes the run fail. No
    # /init in the initramfs at that name: Linux looks for a root device, has none, panics.
    linux_panic() {
        local log=$LOGS/linux-panic.log status
        tests/linux.sh run DOM0_ARGS="console=ttyAMA0 earlycon panic=-1 rdinit=/no-such-init" >"$log" 2>&1
        status=$?
        if [ "$status" -eq 1 ] && grep -q 'Kernel panic' "$log" && grep -q '^d0: shut down: SYSTEM_RESET' "$log"; then
            pass "linux-panic: Linux's panic resets dom0, and the run fails with status 1"
        else
            fail "linux-panic" "status $status (want 1), or no panic/SYSTEM_RESET line" "$log"
        fi
    }
    step linux-panic 7 1 linux_panic
    # A hang is ended by hypmem's watchdog (dom0_timeout=), with its own report and status
    # 6, long before the runner's TIMEOUT: Linux panics with panic=0 and then waits for
    # ever (with interrupts on, its timer ticking) with no verdict. (On a loaded machine the
    # watchdog may end it before the panic: dom0 has given no verdict either way.)
    linux_timeout() {
        local log=$LOGS/linux-timeout.log status
        tests/linux.sh run DOM0_ARGS="console=ttyAMA0 earlycon panic=0 rdinit=/no-such-init" \
            APPEND=dom0_timeout=10 >"$log" 2>&1
        status=$?
        if [ "$status" -eq 6 ] && grep -q '^d0: no verdict 10 s after its start' "$log" &&
           grep -q '^d0v0:   tick at [0-9]* ms: PC 0x' "$log" &&
           grep -q '^d0: the run fails (status 6)' "$log" && ! grep -q '^linux.sh: no verdict' "$log"; then
            pass "linux-timeout: hypmem's watchdog ends a hung dom0 with status 6 and what it did last"
        else
            fail "linux-timeout" "status $status (want 6), or no watchdog report from hypmem" "$log"
        fi
    }
    step linux-timeout 11 1 linux_timeout
    # The runner's own backstop: cut off by TIMEOUT well before Linux can reach /init (3 s of
    # wall time; the boot needs 5 or more), it ends with status 124 and the last lines seen.
    linux_runner_timeout() {
        local log=$LOGS/linux-runner-timeout.log status
        TIMEOUT=3 tests/linux.sh run >"$log" 2>&1
        status=$?
        if [ "$status" -eq 124 ] &&
           grep -q '^linux.sh: no verdict within 3s (TIMEOUT=); the last lines seen were:$' "$log" &&
           [ "$(grep -c '^linux.sh: | .' "$log")" -ge 1 ]; then
            pass "linux-runner-timeout: a boot cut off by the runner ends with status 124 and its last lines"
        else
            fail "linux-runner-timeout" "status $status (want 124), or no last lines named" "$log"
        fi
    }
    step linux-runner-timeout 3 1 linux_runner_timeout
fi
linux_fetched() {
    [ -s build/deps/linux/zImage ] ||
        fail "linux" "could not fetch Debian's kernel and busybox" "$LOGS/linux-fetch.log"
}
step linux-fetched 0 0 linux_fetched
# A fetch that fails must say what it tried, apt's own words, and how to do without it. A
# mirror nothing listens at (loopback port 9), into a folder of its own: the cache is untouched.
fetch_linux_fails() {
    local log=$LOGS/linux-fetch-fails.log dead status
    dead=$(mktemp -d)
    LINUX_MIRROR=http://127.0.0.1:9/debian LINUX_DIR="$dead/linux" tools/fetch-linux.sh >"$log" 2>&1
    status=$?
    rm -rf "$dead"
    if [ "$status" -eq 1 ] && grep -q 'tried: http://127.0.0.1:9/debian bookworm (armhf)' "$log" &&
       grep -q 'Could not connect to 127.0.0.1:9' "$log" &&
       grep -q 'make run-linux KERNEL=/path/to/zImage INITRD=/path/to/initramfs' "$log"; then
        pass "fetch-linux from a dead mirror: status 1, names the mirror, quotes apt, says KERNEL=/INITRD="
    else
        fail "fetch-linux failing" "status $status (want 1), or the report lacks what it tried" "$log"
    fi
}
step fetch-linux-fails 20 0 fetch_linux_fails

# Selecting tests on the command line: the image must run exactly the tests
# the host runs for the same filter (these suites are shared by both builds).
select_check() {
    local filter="bootargs,format.integers,format.width_and_padding" want got
    want=$(build/host/selftest "$filter" | sed -n 's/^1\.\.\([0-9]*\)$/\1/p')
    ktap_boot select 512M 1 "test=$filter" ""
    got=$(sed -n 's/\r$//; s/^1\.\.\([0-9]*\)$/\1/p' "$LOGS/select.log")
    if [ -n "$want" ] && [ "$want" -gt 0 ] && [ "$got" = "$want" ]; then
        pass "test=$filter selects the same $want tests in the image as on the host"
    else
        fail "test selection" "image ran ${got:-none}, host ${want:-none}" "$LOGS/select.log"
    fi
}
step select 1 1 select_check

# A selection that matches nothing is a typo, not a pass: on the host and in the image the
# run fails and names each such pattern; test=none is the way to run no test on purpose.
typos="nonexistent,MMU,mmu."
host_typos() {
    build/host/selftest "$typos" >"$LOGS/host-typo.log" 2>&1
    status=$?
    if [ "$status" -eq 1 ] && grep -q 'the pattern "nonexistent" matches no test' "$LOGS/host-typo.log" &&
       grep -q 'the pattern "MMU" matches no test' "$LOGS/host-typo.log" &&
       grep -q 'the pattern "mmu\." matches no test' "$LOGS/host-typo.log" &&
       ! grep -q '^ok ' "$LOGS/host-typo.log"; then
        pass "host: test=$typos fails, naming each pattern that matches nothing"
    else
        fail "host test typo" "status $status, or a pattern not named" "$LOGS/host-typo.log"
    fi
    build/host/selftest none >"$LOGS/host-none.log" 2>&1 && grep -q '^1\.\.0$' "$LOGS/host-none.log" &&
        pass "host: test=none runs no test and passes" ||
        fail "host test=none" "did not pass with 1..0" "$LOGS/host-none.log"
}
step host-typos 1 1 host_typos
expect_boot test-typo 512M "test=$typos" "" "" 1 '^1\.\.0' \
    'the pattern "nonexistent" matches no test' 'the pattern "MMU" matches no test' \
    'the pattern "mmu\." matches no test' "selftest: FAILED"
expect_boot test-none 512M "test=none" "" "" 0 '^1\.\.0' "no test run, as asked" \
    "mm: setup_mm took"
expect_boot bench-typo 512M "bench=heap_orderr0,nothing*" "" "" 1 \
    'the pattern "heap_orderr0" matches no benchmark' 'the pattern "nothing\*" matches no benchmark' \
    "bench: nothing run"
# strtoul read -1 as ULONG_MAX and the run spun for minutes: numbers are digits in range.
expect_boot bench-iterations 512M "bench=heap* bench_iterations=-1" "" "" 1 \
    "bench_iterations=-1 is not a whole number from 1 to 50000" "boot: stopping"

section "== boots that must fail, each in its own way"
expect_boot not-hyp 512M "" "" "virtualization=off" 1 \
    "must start in Hyp mode" "virtualization=on"
expect_boot unexpected-fault 512M "test=crash.unmapped_read" "" "" 2 \
    "unexpected exception in Hyp mode" "data abort exception, HSR 0x9" \
    "read of 0x00000100: translation fault, level 2" "ELR_hyp 0x" "r0  0x"
expect_boot failing-test-fails-run 512M "test=crash.failing_check" "" "" 1 \
    "^not ok 1 crash.failing_check" "expected 1 \+ 1 == 3"
# Stack overflow and smashing (issue 12, docs/hardening.md): each reported as such, status 2.
expect_boot stack-overflow 512M "test=crash.stack_overflow" "" "" 2 \
    "^\*\*\* stack overflow on CPU 0 \*\*\*" "SP 0x[0-9a-f]+ is [0-9]+ bytes (below|above) the bottom" \
    "write of 0x0100[0-3][0-9a-f]{3}: translation fault, level 3" "ELR_hyp 0x"
expect_boot stack-smash 512M "test=crash.stack_smash" "" "" 2 \
    "stack smashing detected on CPU 0: the stack protector's check at 0x[0-9a-f]{8}"
stack_overflow_cpu1() {
    local log=$LOGS/stack-overflow-cpu1.log status    # expect_boot boots one CPU: CPU 1's needs two
    boot 512M 2 "test=crash.stack_overflow_cpu1" "" "" -display none -serial stdio -monitor none >"$log" 2>&1
    status=$?
    if [ "$status" -eq 2 ] && grep -q '^\*\*\* stack overflow on CPU 1 \*\*\*' "$log" &&
       grep -qE 'write of 0x0100[8-b][0-9a-f]{3}: translation fault, level 3' "$log" &&
       ! grep -q 'unexpected exception' "$log"; then
        pass "boot stack-overflow-cpu1 (status 2; stack overflow on CPU 1, in its own hole)"
    else
        fail "boot stack-overflow-cpu1" "status $status (want 2), or no report naming CPU 1" "$log"
    fi
}
step stack-overflow-cpu1 1 2 stack_overflow_cpu1
# Use after free (debug builds' vmap quarantine): the stale read faults, the report names it.
expect_boot use-after-vfree 512M "test=crash.use_after_vfree" "" "" 2 \
    "crash: reading (0x[0-9a-f]+) after vfree" "read of 0x[0-9a-f]{8}: translation fault, level 3" \
    "vmap: page 0 of the freed 1-page allocation at 0x[0-9a-f]{8} \(in quarantine: a use after free\)"
# The guard differs between boots because of the tree's seeds (gdb compares, prints neither).
stack_guard() {
    tests/stack-guard-check.sh "$LOGS" >"$LOGS/stack-guard-check.log" 2>&1 &&
        pass "stack guard: two boots' guards differ with QEMU's seeds, are equal without (CNTPCT only, -icount)" ||
        fail "stack guard" "see $LOGS/stack-guard-check.log" "$LOGS/stack-guard-check.log"
}
step stack-guard 8 1 stack_guard
# Broken trees made from QEMU's own.
broken_trees() {
    local good=$LOGS/virt.dtb
    "$QEMU" -M virt,virtualization=on,dumpdtb="$good" -cpu cortex-a15 -m 512M -nic none \
        >/dev/null 2>&1
    printf 'XXXX' | dd of="$LOGS/bad-magic.dtb" bs=1 count=4 2>/dev/null
    tail -c +5 "$good" >>"$LOGS/bad-magic.dtb"
    expect_boot dtb-bad-magic 512M "" "$LOGS/bad-magic.dtb" "" 1 \
        "device tree at 0x40000000: bad magic 0x58585858" "cannot continue"
    # No tree at all: the memory where one should be holds zeros.
    head -c 65536 /dev/zero >"$LOGS/missing.dtb"
    expect_boot dtb-missing 512M "" "$LOGS/missing.dtb" "" 1 \
        "device tree at 0x40000000: no device tree: bad magic 0x00000000" "cannot continue"
    # Cut in the middle of the structure block, header left as it was: what
    # follows the cut reads as zeros, which is no valid structure token.
    head -c 2048 "$good" >"$LOGS/cut.dtb"
    expect_boot dtb-cut-short 512M "" "$LOGS/cut.dtb" "" 1 \
        "device tree at 0x40000000: malformed .*FDT_ERR_BADSTRUCTURE" "cannot continue"
    # Cut, with the header's totalsize saying so: its blocks no longer fit.
    { head -c 4 "$good"; printf '\x00\x00\x08\x00'; tail -c +9 "$LOGS/cut.dtb"; } >"$LOGS/truncated.dtb"
    expect_boot dtb-truncated 512M "" "$LOGS/truncated.dtb" "" 1 \
        "device tree at 0x40000000: .*truncated" "cannot continue"
}
step broken-trees 4 1 broken_trees
expect_boot dtb-reg-mismatch 512M "" tests/dt/reg-mismatch.dts "" 1 \
    "device tree at 0x40000000: .*reg" "cannot continue"
expect_boot dtb-no-memory 512M "" tests/dt/no-memory.dts "" 1 \
    "device tree at 0x40000000: .*memory" "cannot continue"
# Boot modules in /chosen: listed and reserved at boot; one over the image stops the boot.
expect_boot dtb-modules 1G "test=bootmodules" tests/dt/modules.dts "" 0 \
    "^reserved: 0x0000000048000000 - 0x0000000048012345 \(module\)" \
    "^module 0: kernel 0x0000000048000000-0x0000000048012345 \(74565 bytes\) /chosen/module@48000000 bootargs \"console=hvc0 earlyprintk\"" \
    "^module 1: ramdisk 0x0000000049000000-0x0000000049200000 \(2 MiB\)" \
    "^usable [0-9]+: 0x0000000048013000-0x0000000049000000" "selftest: all passed"
expect_boot dtb-module-over-image 512M "" tests/dt/module-over-image.dts "" 1 \
    "device tree at 0x40000000: /chosen/module@40201000: module at 0x40201000-0x40211000 overlaps the hypervisor image" \
    "cannot continue"
# Hostile trees (issue 12, docs/hardening.md): each ends with a message naming the node, or
# boots on what is valid with a warning; never a hang. Small -m and a few tests each.
expect_boot console-aborts 128M "test=format.integers" tests/dt/console-aborts.dts "" 2 \
    "^console: the PL011 at 0x9100000 \(/pl011@9100000\) aborts on access; given up, back on the early UART" \
    "unexpected exception in Hyp mode" "synchronous external abort"
expect_boot console-flags-ones 128M "test=console" tests/dt/console-flags-ones.dts "" 0 \
    "^warning: /pl011@fffffffffffff000: PL011 at 0xfffffffffffff000 size 0x1000 lies beyond the 40-bit physical address limit; no console" \
    "^console: a fake PL011 whose registers read all ones does not drain: FR.TXFF stayed set for 2\^21 polls; given up" \
    "^ok 1 console.a_uart_that_never_drains_is_given_up" "selftest: all passed"
expect_boot console-beyond-40-bits 128M "test=vmap.ioremap_is_device_memory,traps" \
    tests/dt/console-beyond-40-bits.dts "" 0 \
    "^warning: /pl011@10000009000000: PL011 at 0x1000009000000 size 0x1000 lies beyond the 40-bit physical address limit; no console" \
    "^ok 1 vmap.ioremap_is_device_memory" "^ok 2 traps.fault_status_names" "selftest: all passed"
expect_boot console-in-ram 512M "" tests/dt/console-in-ram.dts "" 1 \
    "device tree at 0x40000000: /pl011@50000000: reg 0x50000000-0x50001000 lies in RAM 0x40000000-0x60000000 \(/memory@40000000\): the tree names RAM where a device is" \
    "cannot continue"
expect_boot ram-at-0 128M "" tests/dt/ram-at-0.dts "" 1 \
    "device tree at 0x40000000: /intc@8000000: reg 0x8000000-0x8010000 lies in RAM 0x0-0x40000000 \(/memory@0\)" \
    "cannot continue"
expect_boot ram-over-gic 128M "" tests/dt/ram-over-gic.dts "" 1 \
    "device tree at 0x40000000: /intc@8000000: reg 0x8000000-0x8010000 lies in RAM 0x8000000-0x48000000 \(/memory@8000000\)" \
    "cannot continue"
# The boot CPU listed second: both CPUs start, by MPIDR.
cpus_reversed() {
    ktap_boot cpus-reversed 128M 2 "test=smp" tests/dt/cpus-reversed.dts
    grep -q "^smp: 2 of 2 CPUs online" "$LOGS/cpus-reversed.log" &&
        pass "cpus-reversed: the boot CPU listed second, both CPUs online" ||
        fail "cpus-reversed" "not both CPUs online" "$LOGS/cpus-reversed.log"
}
step cpus-reversed 1 2 cpus_reversed
# No /cpus: the boot CPU alone, with a warning; the tests that need a second CPU skip.
no_cpus() {
    ktap_boot no-cpus 128M 1 "test=smp,console" tests/dt/no-cpus.dts
    if grep -q "^warning: no /cpus node: running on the boot CPU alone" "$LOGS/no-cpus.log" &&
       grep -q "^ok [0-9]* smp.*# SKIP" "$LOGS/no-cpus.log"; then
        pass "no-cpus: boots on the boot CPU with a warning, SMP tests skipped"
    else
        fail "no-cpus" "no warning, or no SMP test skipped" "$LOGS/no-cpus.log"
    fi
}
step no-cpus 1 1 no_cpus
# qemu-system-arm 7.2 reads a table above 4 GiB 4 GiB lower: with RAM up
# there, the image must refuse to run and name the cause, not translate wrongly.
QEMU=qemu-system-arm expect_boot qemu-system-arm-above-4g 6G "" "" "" 1 \
    "the table walker does not read a table above 4 GiB where it lies" \
    "run under qemu-system-aarch64" "page tables above 4 GiB would translate wrongly"
SEMIHOSTING=off expect_boot no-semihosting 512M "test=format" "" "" 0 "^ok 1 format" \
    "selftest: all passed"

run_steps
echo
for f in "${failures[@]}" "${top_level_misuse[@]}"; do echo "failed: $f"; done
failed=$((failed + ${#top_level_misuse[@]}))
echo "$passed passed, $failed failed, $skipped skipped"
cpu=$(awk '{ s += $2 } END { printf "%.0f", s }' "$LOGS/steps/times")
echo "($total_wall s of wall time with JOBS=$JOBS, $cpu s of CPU; per step: $LOGS/steps/times)"
[ "$failed" -eq 0 ]
