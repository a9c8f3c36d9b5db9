"""Page-table walks as the MMU does them: hyp-pte (Hyp's stage 1, from the
selected CPU's own HTTBR) and hyp-p2m (a domain's stage 2, from its VTTBR).

Descriptors are read from physical memory (QEMU's monitor xp), so the walk
is the one the CPU does whatever is mapped where: tables above 4 GiB, the
per-VCPU domheap window (root entry 2 of each CPU's own root table) and a
guest's tables, which the hypervisor itself maps only while it edits them.
Every level's descriptor is decoded: type, output address, and the
attribute fields of the Arm ARM's long-descriptor format (B3.6.1).
"""
import gdb

from hypcommon import (HypCommand, HypError, cpu_argument, lookup, number, on_cpu,
                       read_phys_u64, register, uint)

ADDR_MASK = 0x000000fffffff000
SHIFT = {1: 30, 2: 21, 3: 12}
MT_NAMES = ["MT_NORMAL", "MT_DEVICE", "MT_NORMAL_NC", "MT_STRONGLY_ORDERED"]
VM_KINDS = ["vmap", "vmalloc", "ioremap", "map_domain_page_global"]


def hyp_attrs(d):
    ap2 = d >> 7 & 1
    return ("AP %d%d (%s) XN %d AttrIndx %d (%s) SH %d AF %d tag %d"
            % (ap2, d >> 6 & 1, "read-only" if ap2 else "read-write", d >> 54 & 1,
               d >> 2 & 7, MT_NAMES[d >> 2 & 7] if (d >> 2 & 7) < 4 else "HMAIR1",
               d >> 8 & 3, d >> 10 & 1, d >> 55 & 3))


def s2_attrs(d):
    ap = d >> 6 & 3
    return ("S2AP %d%d (%s) XN %d MemAttr 0x%x (%s) SH %d AF %d type %d"
            % (ap >> 1, ap & 1, ["none", "read-only", "write-only", "read-write"][ap],
               d >> 54 & 1, d >> 2 & 0xf,
               "normal write-back" if (d >> 2 & 0xf) == 0xf else
               "device" if (d >> 2 & 0xf) < 4 else "normal", d >> 8 & 3, d >> 10 & 1,
               d >> 55 & 0xf))


def walk(root, addr, first_level, root_index_bits, attrs, what):
    """Prints each level's descriptor for addr; returns (output address, level) or None."""
    table = root
    for level in range(first_level, 4):
        shift = SHIFT[level]
        bits = root_index_bits if level == first_level else 9
        index = addr >> shift & ((1 << bits) - 1)
        desc_pa = table + index * 8
        d = read_phys_u64(desc_pa)[0]
        head = "level %d [%d] @pa 0x%x = 0x%016x" % (level, index, desc_pa, d)
        kind = d & 3
        if kind in (0, 2) or (level == 3 and kind == 1):
            print("%s: invalid" % head)
            print("%s 0x%x: not mapped (level %d)" % (what, addr, level))
            return None
        out = d & ADDR_MASK
        if level < 3 and kind == 3:
            print("%s: table 0x%x NSTable %d APTable %d XNTable %d PXNTable %d"
                  % (head, out, d >> 63 & 1, d >> 61 & 3, d >> 60 & 1, d >> 59 & 1))
            table = out
            continue
        size = 1 << shift
        base = d & ADDR_MASK & ~(size - 1)
        print("%s: %s 0x%x %s" % (head, "page" if level == 3 else "block", base, attrs(d)))
        pa = base | (addr & (size - 1))
        print("%s 0x%x -> pa 0x%x (level %d %s)" % (what, addr, pa, level,
                                                    "page" if level == 3 else "block"))
        return pa, level, d
    return None


def hyp_leaf(va):
    """The descriptor that maps va in the selected CPU's tables, or None; silent."""
    table = register("HTTBR") & 0xffffffffe0 & ((1 << 40) - 1)
    for level in (1, 2, 3):
        bits = 2 if level == 1 else 9
        d = read_phys_u64(table + (va >> SHIFT[level] & ((1 << bits) - 1)) * 8)[0]
        if d & 3 in (0, 2) or (level == 3 and d & 3 == 1):
            return None
        if level < 3 and d & 3 == 3:
            table = d & ADDR_MASK
            continue
        return d
    return None


class HypPte(HypCommand):
    """Walks Hyp's stage-1 page tables for a virtual address, as the MMU would.

Usage: hyp-pte VA [CPU]    (default: the selected CPU, gdb thread N = CPU N-1)
Starts from that CPU's own HTTBR, so the domheap window shows that CPU's
current VCPU. Prints each level's descriptor decoded (table, block or page,
output address, AP, XN, AttrIndx, SH, AF and vmap's kind tag), then the
physical address. Reads physical memory only; works with the MMU off too,
once HTTBR is set."""

    def __init__(self):
        super().__init__("hyp-pte")

    def run(self, argv):
        if len(argv) not in (1, 2):
            raise HypError("usage: hyp-pte VA [CPU]")
        va = number(argv[0], "virtual address")
        if va >> 32:
            raise HypError("VA 0x%x is beyond Hyp's 32-bit address space" % va)
        cpu = cpu_argument(argv, 1)
        with on_cpu(cpu):
            httbr = register("HTTBR")
        root = httbr & 0xffffffffe0 & ((1 << 40) - 1)
        if root == 0:
            raise HypError("CPU %d has no page tables yet (HTTBR is 0)" % cpu)
        print("cpu %d HTTBR 0x%x" % (cpu, httbr))
        walk(root, va, 1, 2, hyp_attrs, "va")


class HypP2m(HypCommand):
    """Walks a domain's stage-2 (p2m) tables for an intermediate physical address.

Usage: hyp-p2m IPA [DOMAIN]
DOMAIN is a struct domain * expression; without it, the domain of the guest
VCPU the selected CPU runs (pcpu[cpu].guest). The walk starts at the domain's
two concatenated level-1 tables (40-bit IPAs) and prints each descriptor
decoded (S2AP, XN, MemAttr, SH, AF, the p2m type), then the machine address."""

    def __init__(self):
        super().__init__("hyp-p2m")

    def run(self, argv):
        if not argv:
            raise HypError("usage: hyp-p2m IPA [DOMAIN]")
        ipa = number(argv[0], "IPA")
        if ipa >> 40:
            raise HypError("IPA 0x%x is beyond the p2m's 40 bits" % ipa)
        if len(argv) > 1:
            d = lookup("(struct domain *)(%s)" % " ".join(argv[1:]))
        else:
            cpu = cpu_argument([])
            g = lookup("pcpu[%d].guest" % cpu)
            if int(g) == 0:
                raise HypError("CPU %d runs no guest VCPU: name the domain (hyp-p2m IPA &dom)"
                               % cpu)
            d = g["domain"]
        if int(d) == 0:
            raise HypError("the domain pointer is NULL")
        p2m = d["p2m"]
        root_mfn = uint(p2m["root"])
        if root_mfn in (0xffffffff, 0xffffffffffffffff):
            raise HypError("domain %d has no p2m yet (p2m.root is INVALID_MFN)"
                           % int(d["domain_id"]))
        print("d%d VTTBR 0x%x VMID %d" % (int(d["domain_id"]), int(p2m["vttbr"]),
                                          int(p2m["vmid"])))
        walk(root_mfn << 12, ipa, 1, 10, s2_attrs, "ipa")


def register_all():
    HypPte()
    HypP2m()
