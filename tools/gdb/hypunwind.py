"""Backtraces through Hyp's exception vectors.

Every vector saves the interrupted registers in a struct cpu_regs on the
Hyp stack and calls hyp_trap() from trap_common with SP pointing at it
(arch/arm32/entry.S). gdb's own unwinders stop at trap_common, which has no
call frame to describe; this one says that the frame "calling" trap_common
is the interrupted code, with the registers the vector saved, so `bt` from
inside a trap handler goes on into the code that faulted.
"""
import gdb
from gdb.unwinder import Unwinder, register_unwinder

REGS = ["r%d" % i for i in range(13)] + ["sp", "lr", "pc", "cpsr"]


class FrameId:
    def __init__(self, sp, pc):
        self.sp = sp
        self.pc = pc


def _address(sym):
    try:
        return int(gdb.parse_and_eval("(unsigned int)&%s" % sym))
    except gdb.error:
        return None


class TrapFrameUnwinder(Unwinder):
    def __init__(self):
        super().__init__("hypmem trap frame")
        self.range = None

    def __call__(self, pending_frame):
        if self.range is None:
            start, end = _address("trap_common"), _address("arch_probe_read32")
            if start is None or end is None:
                return None
            self.range = (start, end)
        pc = int(pending_frame.read_register("pc"))
        if not self.range[0] <= pc < self.range[1]:
            return None
        sp = int(pending_frame.read_register("sp"))
        u32 = gdb.lookup_type("unsigned int")
        unwind = pending_frame.create_unwind_info(FrameId(pending_frame.read_register("sp"),
                                                          gdb.Value(self.range[0]).cast(u32)))
        inf = gdb.selected_inferior()
        words = bytes(inf.read_memory(sp, 4 * len(REGS)))
        for i, name in enumerate(REGS):
            value = int.from_bytes(words[4 * i:4 * i + 4], "little")
            unwind.add_saved_register(name, gdb.Value(value).cast(u32))
        return unwind


def register_all():
    register_unwinder(None, TrapFrameUnwinder(), replace=True)
