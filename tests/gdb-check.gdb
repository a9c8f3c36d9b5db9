# Driven by tests/gdb-check.sh through tools/debug.sh.
# 1. Halted at reset: the PC is the physical entry, and gdb names it.
info symbol $pc
# 2. Rules only the manual can check, seen where QEMU cannot show their
#    effect: ACTLR.SMP is written before the caches and MMU are on (and
#    before any cache maintenance), then all of BSS is invalidated, with the
#    caches and MMU still off, before anything is written to it.
break actlr_write
break invalidate_dcache_range
break bss_invalidated
continue
info symbol $pc
printf "actlr-smp-written %d with-mmu-and-caches-off %d\n", ($r0 & 0x40) != 0, ($SCTLR_EL2 & 5) == 0
continue
info symbol $pc
set $bss_pa = (unsigned int)&__bss_start + 0x40000000
set $bss_end_pa = (unsigned int)&__bss_end + 0x40000000
printf "bss-invalidate-range-is-bss %d with-mmu-and-caches-off %d\n", $r0 == $bss_pa && $r1 == $bss_end_pa, ($SCTLR_EL2 & 5) == 0
continue
info symbol $pc
printf "bss-invalidated-to-its-end %d\n", $r0 >= $bss_end_pa
delete
# 3. A breakpoint in the boot stub, by name, before the MMU is on; the
#    backtrace ends at the stub's entry, cleanly.
break create_boot_tables
continue
info symbol $pc
bt
# 4. A breakpoint in C at its link address, after the MMU is on.
delete
break start_hyp
continue
info symbol $pc
print/x offset
print/x $cpsr & 0x1f
hyp-pte 0x00200000
bt
# 5. The MMU is on: a xenheap VA is not labelled as the image's code (the
#    stub's physical copy of the symbols is gone).
print (void *)0x40201000
kill
