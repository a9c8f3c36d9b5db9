"""hyp-regs: the general registers and Hyp's system registers of one CPU, with
HSR decoded (exception class, and for aborts the fault status, access and
address). The floating-point bank is left out: the image never uses it
(-mfloat-abi=soft, and the VFP is off).

Names are those of QEMU's gdb stub for a Cortex-A15 under qemu-system-aarch64,
which calls several AArch32 Hyp registers by their AArch64 names: HSR is
ESR_EL2, HSCTLR is SCTLR_EL2, HTCR is TCR_EL2, HTPIDR is TPIDR_EL2, HVBAR is
VBAR_EL2, HMAIR0/1 are MAIR_EL2, and FAR_EL2 holds HIFAR:HDFAR.
"""
from hypcommon import HypCommand, HypError, cpu_argument, on_cpu, register

MODES = {0x10: "usr", 0x11: "fiq", 0x12: "irq", 0x13: "svc", 0x16: "mon", 0x17: "abt",
         0x1a: "hyp", 0x1b: "und", 0x1f: "sys"}
EC = {0x00: "unknown reason", 0x01: "WFI/WFE", 0x03: "MCR/MRC cp15", 0x04: "MCRR/MRRC cp15",
      0x05: "MCR/MRC cp14", 0x07: "FP/SIMD access", 0x0c: "MRRC cp14", 0x0e: "illegal state",
      0x11: "SVC", 0x12: "HVC", 0x13: "SMC", 0x20: "instruction abort from a lower mode",
      0x21: "instruction abort in Hyp", 0x24: "data abort from a lower mode",
      0x25: "data abort in Hyp"}
FSC = {0x04: "translation fault", 0x08: "access flag fault", 0x0c: "permission fault",
       0x10: "synchronous external abort", 0x21: "alignment fault", 0x22: "debug event",
       0x30: "TLB conflict abort"}


def decode_hsr(hsr):
    ec = hsr >> 26
    s = "EC 0x%02x (%s) IL %d ISS 0x%07x" % (ec, EC.get(ec, "other"), hsr >> 25 & 1,
                                            hsr & 0x1ffffff)
    if ec in (0x20, 0x21, 0x24, 0x25):
        fsc = hsr & 0x3f
        name = FSC.get(fsc & 0x3c if fsc & 0x3c in (4, 8, 12) else fsc, "FSC 0x%x" % fsc)
        if fsc & 0x3c in (4, 8, 12):
            name += ", level %d" % (fsc & 3)
        s += ": %s" % name
        if ec >= 0x24:
            s += ", %s" % ("write" if hsr >> 6 & 1 else "read")
            if hsr >> 24 & 1:
                s += ", %d-byte access to r%d" % (1 << (hsr >> 22 & 3), hsr >> 16 & 0xf)
    return s


class HypRegs(HypCommand):
    """Shows a CPU's registers: general ones, then Hyp's system registers decoded.

Usage: hyp-regs [CPU]       (default: the selected CPU, gdb thread N = CPU N-1)
r0-r12, sp, lr, pc, cpsr with its mode; HSR decoded (exception class; for an
abort its fault status, level, read or write), HDFAR, HIFAR, HPFAR, HSCTLR
(MMU, caches), HTTBR, HTCR, HCR, VTTBR, VTCR, HMAIR0/1, HVBAR, HTPIDR."""

    def __init__(self):
        super().__init__("hyp-regs")

    def run(self, argv):
        if len(argv) > 1:
            raise HypError("usage: hyp-regs [CPU]")
        cpu = cpu_argument(argv)
        with on_cpu(cpu):
            r = {n: register(n) for n in ["r%d" % i for i in range(13)] + ["sp", "lr", "pc", "cpsr"]}
            sysr = {n: register(n) for n in ["ESR_EL2", "FAR_EL2", "HPFAR", "SCTLR_EL2", "HTTBR",
                                             "TCR_EL2", "HCR", "VTTBR", "VTCR", "MAIR_EL2",
                                             "VBAR_EL2", "TPIDR_EL2"]}
        print("cpu %d" % cpu)
        for row in range(0, 16, 4):
            names = ["r%d" % i if i < 13 else ["sp", "lr", "pc"][i - 13] for i in range(row, row + 4)]
            print("  ".join("%-3s 0x%08x" % (n, r[n]) for n in names))
        cpsr = r["cpsr"]
        print("cpsr 0x%08x mode %s%s%s%s" % (cpsr, MODES.get(cpsr & 0x1f, "0x%x" % (cpsr & 0x1f)),
                                             " I" if cpsr & 0x80 else "", " F" if cpsr & 0x40 else "",
                                             " A" if cpsr & 0x100 else ""))
        print("HSR    0x%08x %s" % (sysr["ESR_EL2"], decode_hsr(sysr["ESR_EL2"])))
        far = sysr["FAR_EL2"]
        print("HDFAR  0x%08x  HIFAR 0x%08x  HPFAR 0x%08x (IPA page 0x%x)"
              % (far & 0xffffffff, far >> 32, sysr["HPFAR"], (sysr["HPFAR"] >> 4) << 12))
        sc = sysr["SCTLR_EL2"]
        print("HSCTLR 0x%08x M %d C %d I %d A %d WXN %d" % (sc, sc & 1, sc >> 2 & 1, sc >> 12 & 1,
                                                           sc >> 1 & 1, sc >> 19 & 1))
        print("HTTBR  0x%016x  HTCR 0x%08x  HCR 0x%08x" % (sysr["HTTBR"], sysr["TCR_EL2"], sysr["HCR"]))
        print("VTTBR  0x%016x (VMID %d)  VTCR 0x%08x" % (sysr["VTTBR"], sysr["VTTBR"] >> 48 & 0xff,
                                                         sysr["VTCR"]))
        print("HMAIR0 0x%08x  HMAIR1 0x%08x  HVBAR 0x%08x  HTPIDR 0x%08x"
              % (sysr["MAIR_EL2"] & 0xffffffff, sysr["MAIR_EL2"] >> 32, sysr["VBAR_EL2"],
                 sysr["TPIDR_EL2"]))


def register_all():
    HypRegs()
