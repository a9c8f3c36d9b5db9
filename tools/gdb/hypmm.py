"""Views of the memory subsystem's live structures: one frame (hyp-page, and a
pretty-printer for struct page_info), the buddy heap's free lists (hyp-heap),
a CPU's VCPU and its map_domain_page slots (hyp-vcpu) and the vmap region
(hyp-vmap).

Each reads the structures the way the C code lays them out (mm.h, heap.h,
mapcache.h, vmap.c) and follows the same rules, but by reading memory only:
see hypcommon.py for why. The list walks are bounded by the number of frames,
so a corrupt list ends with a message rather than a hang.
"""
import gdb

import hyppt
from hypcommon import (HypCommand, HypError, PAGE_SHIFT, PAGE_SIZE, cpu_argument, lookup,
                       need_mmu, number, on_cpu, pcpu, read_u32, uint)

# count_info (include/mm/mm.h)
STATES = {0: "none", 1: "free", 2: "inuse", 3: "buffer"}
FLAGS = [(1 << 2, "head"), (1 << 3, "need_scrub"), (1 << 4, "poisoned"),
         (1 << 5, "listed"), (1 << 6, "xen_heap")]
ZONE_SHIFT = 27
ZONE_MASK = 0x1f
PDX_GROUP_SHIFT = 15
PDX_GROUP_NONE = 0xffff
PDX_NONE = 0xffffffff
MFN_LIMIT = 1 << 28          # 40-bit physical addresses


def decode_count_info(ci):
    """"inuse|head|xen_heap zone 18": state, flags by name, zone."""
    names = [STATES[ci & 3]] + [n for bit, n in FLAGS if ci & bit]
    return "%s zone %d" % ("|".join(names), (ci >> ZONE_SHIFT) & ZONE_MASK)


class FrameTable:
    """The frame table and the pdx mapping, read once per command."""

    def __init__(self):
        self.base = int(lookup("frame_table"))
        if self.base == 0:
            raise HypError("the frame table is not set up yet (frame_table is NULL): "
                           "stop later than setup_mm")
        self.max_pdx = int(lookup("max_pdx"))
        self.size = int(lookup("sizeof(struct page_info)"))
        self.off_next = int(lookup("(unsigned long)&((struct page_info *)0)->u.list.next"))
        self.off_owner = int(lookup("(unsigned long)&((struct page_info *)0)->u.owner"))
        self.off_ci = int(lookup("(unsigned long)&((struct page_info *)0)->count_info"))
        self.off_order = int(lookup("(unsigned long)&((struct page_info *)0)->order"))
        self.xen_start = uint(lookup("xenheap_mfn_start"))
        self.xen_end = uint(lookup("xenheap_mfn_end"))
        self.groups = {}

    def group(self, g):
        if g not in self.groups:
            self.groups[g] = int(lookup("pdx_group_of[%d]" % g))
        return self.groups[g]

    def mfn_valid(self, mfn):
        return mfn < MFN_LIMIT and self.group(mfn >> PDX_GROUP_SHIFT) != PDX_GROUP_NONE

    def mfn_to_pdx(self, mfn):
        return self.group(mfn >> PDX_GROUP_SHIFT) << PDX_GROUP_SHIFT | \
            (mfn & ((1 << PDX_GROUP_SHIFT) - 1))

    def pdx_to_mfn(self, pdx):
        g = int(lookup("mfn_group_of[%d]" % (pdx >> PDX_GROUP_SHIFT)))
        return g << PDX_GROUP_SHIFT | (pdx & ((1 << PDX_GROUP_SHIFT) - 1))

    def page_addr(self, pdx):
        return self.base + pdx * self.size

    def page_pdx(self, addr):
        off = addr - self.base
        if off < 0 or off % self.size or off // self.size >= self.max_pdx:
            raise HypError("0x%x is not a struct page_info in the frame table "
                           "(0x%x, %d entries of %d bytes)"
                           % (addr, self.base, self.max_pdx, self.size))
        return off // self.size

    def count_info(self, pdx):
        return read_u32(self.page_addr(pdx) + self.off_ci)

    def order(self, pdx):
        return read_u32(self.page_addr(pdx) + self.off_order)

    def next(self, pdx):
        return read_u32(self.page_addr(pdx) + self.off_next)

    def owner(self, pdx):
        return read_u32(self.page_addr(pdx) + self.off_owner)

    def heap_of(self, mfn):
        return "xenheap" if self.xen_start <= mfn < self.xen_end else "domheap"


def parse_frame(ft, text):
    """MFN, physical address (0x... with "pa:" or above the MFN range) or struct page_info *."""
    if text.startswith("pa:"):
        pa = number(text[3:], "physical address")
        return pa >> PAGE_SHIFT, "physical address 0x%x" % pa
    try:
        v = gdb.parse_and_eval(text)
    except gdb.error as e:
        raise HypError("cannot evaluate %s: %s" % (text, e))
    t = v.type.strip_typedefs()
    if t.code == gdb.TYPE_CODE_PTR and str(t.target().strip_typedefs()) == "struct page_info":
        pdx = ft.page_pdx(int(v))
        return ft.pdx_to_mfn(pdx), "page_info 0x%x" % int(v)
    n = uint(v)
    if n >= MFN_LIMIT:
        return n >> PAGE_SHIFT, "physical address 0x%x" % n
    return n, "MFN 0x%x" % n


def free_block_of(ft, mfn):
    """(head MFN, order) of the free block that holds a PGS_free frame, or None."""
    max_order = int(lookup("(int)sizeof(heaps.heap[0].first)/sizeof(heaps.heap[0].first[0])")) - 1
    for o in range(0, max_order + 1):
        head = mfn & ~((1 << o) - 1)
        if not ft.mfn_valid(head):
            break
        p = ft.mfn_to_pdx(head)
        ci = ft.count_info(p)
        if ci & 3 == 1 and ci & (1 << 2) and ft.order(p) >= o and head + (1 << ft.order(p)) > mfn:
            return head, ft.order(p)
    return None


def domain_name(addr):
    if addr == 0:
        return None
    try:
        return "d%d (struct domain *)0x%x" % (int(lookup("((struct domain *)%d)->domain_id" % addr)),
                                               addr)
    except HypError:
        return "(struct domain *)0x%x (unreadable)" % addr


def describe_frame(ft, mfn):
    if not ft.mfn_valid(mfn):
        raise HypError("MFN 0x%x (PA 0x%x) has no page_info: it is outside every 128 MiB "
                       "group that holds RAM" % (mfn, mfn << PAGE_SHIFT))
    pdx = ft.mfn_to_pdx(mfn)
    ci = ft.count_info(pdx)
    state = ci & 3
    lines = ["mfn 0x%x pa 0x%x pdx 0x%x page_info 0x%x" % (mfn, mfn << PAGE_SHIFT, pdx,
                                                            ft.page_addr(pdx)),
             "count_info 0x%08x: %s" % (ci, decode_count_info(ci)),
             "heap %s" % ft.heap_of(mfn)]
    if ci & (1 << 2):
        lines.append("order %d (first frame of %s %d pages)"
                     % (ft.order(pdx), "a free block of" if state == 1 else "an allocation of",
                        1 << ft.order(pdx)))
    elif state == 1:
        blk = free_block_of(ft, mfn)
        lines.append("inside the free block at mfn 0x%x of order %d" % blk if blk
                     else "free but no free block head found below it (heap corrupt?)")
    if state == 2:
        owner = ft.owner(pdx)
        lines.append("owner %s" % (domain_name(owner) or
                                   ("none (xenheap)" if ci & (1 << 6) else "none (anonymous)")))
    return lines


class HypPage(HypCommand):
    """Shows one frame's struct page_info, decoded.

Usage: hyp-page MFN | pa:PHYSICAL-ADDRESS | (struct page_info *)ADDR
A number at or above 2^28 is taken as a physical address. Prints the frame's
state (none, free, inuse, buffer), flags by name, zone, which heap holds it,
its order (first frame of a block; for a free frame inside a block, the block),
and the owner of an allocated frame. Reads memory only."""

    def __init__(self):
        super().__init__("hyp-page")

    def run(self, argv):
        if not argv:
            raise HypError("usage: hyp-page MFN | pa:ADDRESS | (struct page_info *)ADDR")
        need_mmu("hyp-page")
        ft = FrameTable()
        mfn, what = parse_frame(ft, " ".join(argv))
        lines = describe_frame(ft, mfn)
        print("%s:" % what)
        for line in lines:
            print("  " + line)


class PageInfoPrinter:
    """struct page_info with count_info decoded."""

    def __init__(self, val):
        self.val = val

    def to_string(self):
        ci = int(self.val["count_info"])
        s = "{count_info = 0x%08x <%s>, order = %d" % (ci, decode_count_info(ci),
                                                      int(self.val["order"]))
        if ci & 3 == 2:
            s += ", owner = 0x%x" % int(self.val["u"]["owner"])
        elif ci & 3 == 1 and ci & (1 << 2):
            s += ", next = 0x%x, prev = 0x%x" % (int(self.val["u"]["list"]["next"]),
                                                 int(self.val["u"]["list"]["prev"]))
        return s + "}"


def page_info_lookup(val):
    t = val.type.strip_typedefs()
    if t.code == gdb.TYPE_CODE_STRUCT and t.tag == "page_info":
        return PageInfoPrinter(val)
    return None


class HypHeap(HypCommand):
    """Shows the buddy heap's free lists: blocks per heap, zone and order.

Usage: hyp-heap
For each heap (domheap, xenheap) and zone, one line per non-empty order with
the number of free blocks and pages, found by walking the list; then each
heap's total, checked against the zone counters (free_pages), and the buffer
pages withheld from the xenheap, and whether the heap lock is held. Works
with the lock held: nothing is called in the image."""

    def __init__(self):
        super().__init__("hyp-heap")

    def run(self, argv):
        if argv:
            raise HypError("usage: hyp-heap (no arguments)")
        need_mmu("hyp-heap")
        ft = FrameTable()
        nheaps = int(lookup("sizeof(heaps.heap)/sizeof(heaps.heap[0])"))
        nzones = int(lookup("sizeof(heaps.heap[0].nonempty)/sizeof(heaps.heap[0].nonempty[0])"))
        norders = int(lookup("sizeof(heaps.heap[0].first)/sizeof(heaps.heap[0].first[0])"))
        t = lookup("heaps.lock.raw.t")
        owner, nxt = int(t["owner"]), int(t["next"])
        print("heap lock %s (ticket serving %d, next %d)" % ("held" if owner != nxt else "free",
                                                            owner, nxt))
        total = 0
        for h in range(nheaps):
            name = lookup("heap_name[%d]" % h).string()
            hp = lookup("heaps.heap[%d]" % h)
            heap_pages = 0
            for z in range(nzones):
                bits = int(hp["nonempty"][z])
                zone_pages = 0
                for o in range(norders):
                    if not bits & (1 << o):
                        continue
                    n, p = 0, int(hp["first"][o][z])
                    while p != PDX_NONE:
                        if n > ft.max_pdx or p >= ft.max_pdx:
                            raise HypError("heap %s zone %d order %d: the list is corrupt "
                                           "(pdx 0x%x after %d blocks)" % (name, z, o, p, n))
                        n += 1
                        p = ft.next(p)
                    print("heap %s zone %d order %d blocks %d pages %d" % (name, z, o, n, n << o))
                    zone_pages += n << o
                counted = int(hp["free_pages"][z])
                if zone_pages != counted:
                    print("heap %s zone %d: the lists hold %d pages but free_pages[%d] says %d"
                          % (name, z, zone_pages, z, counted))
                heap_pages += zone_pages
            print("heap %s free %d" % (name, heap_pages))
            total += heap_pages
        print("free total %d" % total)
        nbuf = int(lookup("nr_buffer_pages"))
        print("buffer pages %d%s" % (nbuf, "".join(" mfn 0x%x" % uint(lookup("buffer_page_mfn[%d]" % i))
                                                   for i in range(nbuf))))


MAPCACHE_VIRT_START = 0x80000000     # include/mm/mapcache.h


class HypVcpu(HypCommand):
    """Shows a CPU's current VCPU and its map_domain_page slots.

Usage: hyp-vcpu [CPU]       (default: the selected CPU, gdb thread N = CPU N-1)
Prints the VCPU (domain and id, or idle), the mapcache policy and counters
(in use and cached counted from the slots; misses, evictions, the clock's hand),
then each slot in use (slot, VA, MFN, references) and each cached slot, and
how many are free. Reads memory only."""

    def __init__(self):
        super().__init__("hyp-vcpu")

    def run(self, argv):
        if len(argv) > 1:
            raise HypError("usage: hyp-vcpu [CPU]")
        cpu = cpu_argument(argv)
        with on_cpu(cpu):
            need_mmu("hyp-vcpu")
        p = pcpu(cpu)
        v = p["current"]
        if int(v) == 0:
            raise HypError("CPU %d has no current VCPU yet (pcpu[%d].current is NULL)" % (cpu, cpu))
        v = v.dereference()
        d = int(v["domain"])
        who = ("d%dv%d" % (int(v["domain"]["domain_id"]), int(v["vcpu_id"])) if d
               else "idle-v%d" % int(v["vcpu_id"]))
        mc = v["mapcache"]
        print("cpu %d vcpu %s (struct vcpu *)0x%x" % (cpu, who, int(p["current"])))
        # The slot array ends with a sentinel (an empty chain points at it): not a slot.
        nslots = int(lookup("sizeof(((struct mapcache *)0)->link)/sizeof(struct mapcache_link)"))
        window = MAPCACHE_VIRT_START
        slots = mc["slot"]
        in_use, cached, lines = 0, 0, []
        for i in range(nslots):
            s = slots[i]
            mfn = uint(s["mfn"])
            count = int(s["count"])
            if count:
                in_use += 1
                lines.append("slot %d va 0x%08x mfn 0x%x count %d"
                             % (i, window + (i << PAGE_SHIFT), mfn, count))
            elif not _is_invalid(mfn):
                cached += 1
                lines.append("slot %d va 0x%08x mfn 0x%x cached"
                             % (i, window + (i << PAGE_SHIFT), mfn))
        free = nslots - in_use - cached
        print("mapcache %s in_use %d cached %d misses %d evictions %d hand %d"
              % ("strict" if bool(mc["strict"]) else "caching", in_use, cached,
                 int(mc["misses"]), int(mc["evictions"]), int(mc["hand"])))
        for line in lines:
            print(line)
        print("slots free %d of %d" % (free, nslots))


def _is_invalid(mfn):
    # INVALID_MFN is ~0 in mfn_t's width: all ones in 32 bits on ARM32.
    return mfn in (0xffffffff, 0xffffffffffffffff)


class HypVmap(HypCommand):
    """Shows the vmap region: its allocations, their guard pages, the bitmap.

Usage: hyp-vmap
Reads vmap.c's bitmap (mapped at the region's start) up to its mapped top:
each allocation's VA, size in pages, the guard page after it and its kind
(vmap, vmalloc, ioremap, map_domain_page_global: the tag in its first page's
entry), then the
counters vmap keeps (allocations, pages, bitmap pages mapped and needed).
The bitmap's own pages are the first run. Reads memory only."""

    def __init__(self):
        super().__init__("hyp-vmap")

    def run(self, argv):
        if argv:
            raise HypError("usage: hyp-vmap (no arguments)")
        need_mmu("hyp-vmap")
        vm = lookup("'vmap.c'::vm")
        if not bool(vm["ready"]):
            raise HypError("vmap is not initialised yet (vm.ready is false): stop after vm_init")
        base, top, end = int(vm["base"]), int(vm["top"]), int(vm["end"])
        bpages = int(vm["bitmap_pages"])
        words = (top + 31) // 32
        data = bytes(gdb.selected_inferior().read_memory(base, words * 4))
        bits = int.from_bytes(data, "little")
        runs, i = [], 0
        while i < top:
            if bits >> i & 1:
                j = i
                while j < top and bits >> j & 1:
                    j += 1
                runs.append((i, j - i))
                i = j
            else:
                i += 1
        print("vmap region 0x%08x-0x%08x pages %d bitmap_pages %d mapped %d top %d"
              % (base, base + (end << PAGE_SHIFT), end, bpages, int(vm["mapped"]), top))
        for start, n in runs:
            va = base + (start << PAGE_SHIFT)
            if start == 0:
                print("bitmap va 0x%08x pages %d guard 0x%08x" % (va, n, va + (n << PAGE_SHIFT)))
                continue
            # The kind is vmap's tag in the first page's entry (mm/pt.h, _PAGE_TAG).
            d = hyppt.hyp_leaf(va)
            kind = hyppt.VM_KINDS[d >> 55 & 3] if d is not None else "unmapped"
            print("allocation va 0x%08x pages %d guard 0x%08x kind %s"
                  % (va, n, va + (n << PAGE_SHIFT), kind))
        allocs = [r for r in runs if r[0] != 0]
        print("allocations %d pages %d (vm.allocations %d vm.pages %d)"
              % (len(allocs), sum(n for _, n in allocs), int(vm["allocations"]), int(vm["pages"])))


def register_all():
    HypPage()
    HypHeap()
    HypVcpu()
    HypVmap()
    gdb.pretty_printers.append(page_info_lookup)
