# Driven by tests/gdb-check.sh: stops where tests/arm32/gdb_views.c has just
# printed its "gdbview" lines (console: $GDB_VIEWS_CONSOLE) and runs each helper
# there; tests/gdb-compare.py compares the two, number by number.
# First, each CPU (a gdb thread) writes ACTLR.SMP in the boot stub, caches and
# MMU off, the secondary on its way through secondary_entry.
break actlr_write
continue
printf "actlr-smp-written-on-cpu-thread %d with-mmu-and-caches-off %d\n", $_thread, ($SCTLR_EL2 & 5) == 0
continue
printf "actlr-smp-written-on-cpu-thread %d with-mmu-and-caches-off %d\n", $_thread, ($SCTLR_EL2 & 5) == 0
delete

break alloc_domheap_pages if gdb_view_stage == 1
break split_block_locked if gdb_view_stage == 1
break map_domain_page if gdb_view_stage == 2 || gdb_view_stage == 4
break vmap if gdb_view_stage == 3
break gdb_view_point
break hyp_trap if gdb_view_stage == 6
python
import os
import re

def console_lines(prefix):
    with open(os.environ["GDB_VIEWS_CONSOLE"], errors="replace") as f:
        return [l.split() for l in f if l.startswith("gdbview " + prefix + " ")]

def stage(n):
    print("=== stage %d cpu %d" % (n, gdb.selected_thread().num - 1))
end

# 1: in the allocator.
continue
python stage(1)
hyp-heap
python
for w in console_lines("page"):
    print("--- hyp-page %s" % w[2])
    gdb.execute("hyp-page %s" % w[2])
end
bt 3

# 1b: deeper in the allocator, with the heap lock held.
continue
python print("=== stage 1b cpu %d" % (gdb.selected_thread().num - 1))
hyp-heap

# 2: in map_domain_page, a cached slot among those in use.
continue
python stage(2)
hyp-vcpu
python
for w in console_lines("pte"):
    if w[3] == "0":
        gdb.execute("hyp-pte %s" % w[5])
end
hyp-regs

# 3: in vmap.
continue
python stage(3)
hyp-vmap

# 4: in map_domain_page on CPU 1.
continue
python stage(4)
hyp-vcpu
python
for w in console_lines("pte"):
    if w[3] == "1":
        gdb.execute("hyp-pte %s" % w[5])
end
hyp-regs

# 5: a domain's stage 2.
continue
python stage(5)
python
for w in console_lines("p2m"):
    gdb.execute("hyp-p2m %s %s" % (w[5], w[3]))
end

# 6: a trap: the backtrace goes on through the exception frame into the faulting code.
continue
python stage(6)
bt

# Bad input: each a one-line message, never a traceback.
echo === invalid\n
hyp-page 0x7ffffff
hyp-page pa:0x10000000000
hyp-page (struct page_info *)0x1234
hyp-pte 0x00100000
hyp-pte 0x100000000
hyp-pte 0x200000 9
hyp-vcpu 9
hyp-regs 9
hyp-p2m 0x1000
hyp-p2m 0x10000000000 0
hyp-heap extra
echo === end\n
# The image finishes its test (and ends QEMU with its verdict).
delete
continue
