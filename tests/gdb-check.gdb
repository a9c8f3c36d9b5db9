# Driven by tests/gdb-check.sh through tools/debug.sh.
# 1. Halted at reset: the PC is the physical entry, and gdb names it.
info symbol $pc
# 2. A rule only the manual can check, seen where QEMU cannot show its
#    effect: ACTLR.SMP is written before the caches and MMU are on.
break actlr_write
continue
info symbol $pc
printf "actlr-smp-written %d with-mmu-and-caches-off %d\n", ($r0 & 0x40) != 0, ($SCTLR_EL2 & 5) == 0
delete
# 3. A breakpoint in the boot stub, by name, before the MMU is on.
break create_boot_tables
continue
info symbol $pc
# 4. A breakpoint in C at its link address, after the MMU is on.
delete
break start_hyp
continue
info symbol $pc
print/x offset
print/x $cpsr & 0x1f
hyp-pte 0x00200000
kill
