# Driven by tests/gdb-check.sh through tools/debug.sh, with two CPUs: each
# CPU (a gdb thread) writes ACTLR.SMP in the boot stub, caches and MMU off,
# the secondary on its way through secondary_entry.
break actlr_write
continue
printf "actlr-smp-written-on-cpu-thread %d with-mmu-and-caches-off %d\n", $_thread, ($SCTLR_EL2 & 5) == 0
continue
printf "actlr-smp-written-on-cpu-thread %d with-mmu-and-caches-off %d\n", $_thread, ($SCTLR_EL2 & 5) == 0
kill
