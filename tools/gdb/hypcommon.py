"""What every hypmem gdb helper shares: reading the target, naming CPUs,
reporting bad input.

The helpers only read memory and registers through gdb, never call into the
image: a call would need the image's locks and a CPU free to run it, and a
helper must work at any breakpoint, with any lock held, on any CPU.
A user's mistake (an MFN outside RAM, an unmapped address, a CPU that does
not exist) raises HypError, which the commands print as one line instead of
a Python traceback.
"""
import re

import gdb

PAGE_SHIFT = 12
PAGE_SIZE = 1 << PAGE_SHIFT


class HypError(Exception):
    """Bad input or unreadable state: printed as "<command>: <message>"."""


class HypCommand(gdb.Command):
    """A gdb command whose HypError and gdb.error become one clear line."""

    def __init__(self, name):
        super().__init__(name, gdb.COMMAND_DATA)
        self.cmd_name = name

    def invoke(self, arg, from_tty):
        try:
            self.run(gdb.string_to_argv(arg))
        except HypError as e:
            print("%s: %s" % (self.cmd_name, e))
        except gdb.MemoryError as e:
            print("%s: cannot read the target's memory (%s)" % (self.cmd_name, e))
        except gdb.error as e:
            print("%s: %s" % (self.cmd_name, e))
        except Exception as e:  # a helper's own bug: still one line, and the session goes on
            print("%s: internal error: %s: %s" % (self.cmd_name, type(e).__name__, e))

    def run(self, argv):
        raise NotImplementedError


def lookup(expr):
    """A gdb value for an expression, or HypError naming it."""
    try:
        return gdb.parse_and_eval(expr)
    except gdb.error as e:
        raise HypError("cannot evaluate %s: %s" % (expr, e))


def number(text, what):
    """An integer argument: a gdb expression (0x.., symbols, arithmetic)."""
    try:
        return int(gdb.parse_and_eval(text)) & 0xffffffffffffffff
    except gdb.error as e:
        raise HypError("%s %r is not a number or expression gdb can evaluate (%s)"
                       % (what, text, e))


def uint(value):
    """A gdb.Value as a Python int; TYPE_SAFE wrappers (debug builds) unwrapped."""
    t = value.type.strip_typedefs()
    if t.code == gdb.TYPE_CODE_STRUCT:
        value = value[t.fields()[0].name]
    return int(value)


def read_u32(va):
    return int.from_bytes(bytes(gdb.selected_inferior().read_memory(va, 4)), "little")


def read_u64(va):
    return int.from_bytes(bytes(gdb.selected_inferior().read_memory(va, 8)), "little")


_XP = re.compile(r"^[0-9a-fA-F]+:\s+(.*)$")


def read_phys_u64(pa, count=1):
    """count 64-bit words of physical memory (QEMU's monitor xp: any CPU's
    translation, MMU on or off, tables above 4 GiB included)."""
    out = gdb.execute("monitor xp /%dgx 0x%x" % (count, pa), to_string=True)
    words = []
    for line in out.splitlines():
        m = _XP.match(line.strip())
        if m:
            words += [int(w, 16) for w in m.group(1).split()]
    if len(words) != count:
        raise HypError("cannot read physical memory at 0x%x (QEMU said: %s)" % (pa, out.strip()))
    return words


def register(name):
    """A register of the selected CPU, as QEMU's gdb stub names it."""
    try:
        v = gdb.parse_and_eval("$" + name)
        return int(v) & ((1 << (8 * v.type.sizeof)) - 1)
    except gdb.error:
        raise HypError("the target has no register %s (QEMU's gdb stub names Hyp's "
                       "system registers; is this qemu-system-aarch64 -cpu cortex-a15?)" % name)


def mmu_on():
    return register("SCTLR_EL2") & 1 == 1


def threads():
    inf = gdb.selected_inferior()
    return sorted(inf.threads(), key=lambda t: t.num)


def nr_cpus():
    return len(threads())


def selected_cpu():
    """The selected CPU, numbered as the image numbers them (gdb thread N is CPU N-1:
    QEMU lists CPUs in order, and CPU i's pcpu.id is i)."""
    t = gdb.selected_thread()
    if t is None:
        raise HypError("no CPU is selected (is gdb attached to QEMU?)")
    return t.num - 1


class on_cpu:
    """Runs a block with another CPU (gdb thread) selected, then restores the selection."""

    def __init__(self, cpu):
        self.cpu = cpu

    def __enter__(self):
        self.saved = gdb.selected_thread()
        for t in threads():
            if t.num - 1 == self.cpu:
                t.switch()
                return self
        raise HypError("no CPU %d: this machine has CPUs 0-%d" % (self.cpu, nr_cpus() - 1))

    def __exit__(self, *exc):
        if self.saved is not None and self.saved.is_valid():
            self.saved.switch()
        return False


def cpu_argument(argv, index=0):
    """A CPU number from argv[index] if given, else the selected one; checked."""
    if len(argv) > index:
        cpu = number(argv[index], "CPU")
        if cpu >= nr_cpus():
            raise HypError("no CPU %d: this machine has CPUs 0-%d" % (cpu, nr_cpus() - 1))
        return cpu
    return selected_cpu()


def need_mmu(what):
    if not mmu_on():
        raise HypError("%s needs the MMU on: this CPU is still in the boot stub "
                       "(HSCTLR.M is 0), where nothing it reads is set up yet" % what)


def pcpu(cpu):
    """The image's struct pcpu of a CPU, checked to be that CPU's."""
    ncpu = int(lookup("sizeof(pcpu)/sizeof(pcpu[0])"))
    if cpu >= ncpu:
        raise HypError("no CPU %d: the image has pcpu[0..%d]" % (cpu, ncpu - 1))
    p = lookup("pcpu[%d]" % cpu)
    if cpu != 0 and not bool(p["online"]):
        raise HypError("CPU %d is not online yet (pcpu[%d].online is 0)" % (cpu, cpu))
    return p
