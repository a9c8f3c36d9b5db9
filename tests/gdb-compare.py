#!/usr/bin/env python3
"""Compares what gdb's helpers printed (tests/gdb-check-views.gdb) with what
the image printed about the same state (tests/arm32/gdb_views.c), number by
number. Prints one line per comparison ("ok ..." or "MISMATCH ..."), and
exits non-zero if anything differs or is missing.

    tests/gdb-compare.py CONSOLE GDB_LOG
"""
import re
import sys

failures = 0


def check(what, image, gdb):
    global failures
    if image == gdb and image is not None:
        print("ok       %s: %s" % (what, image))
    else:
        failures += 1
        print("MISMATCH %s: image %s, gdb %s" % (what, image, gdb))


def sections(log):
    """gdb's output split at "=== stage N cpu C" / "=== invalid" markers."""
    out, name = {}, None
    for line in log:
        m = re.match(r"^=== (stage \d+b?|invalid|end)", line)
        if m:
            name = m.group(1)
            out[name] = []
        elif name:
            out[name].append(line)
    return out


def first(lines, pattern, group=1):
    for line in lines:
        m = re.search(pattern, line)
        if m:
            return m.group(group) if isinstance(group, int) else m.groups()
    return None


def num(s):
    return None if s is None else int(s, 0)


def main():
    console = [l.rstrip("\r\n") for l in open(sys.argv[1], errors="replace")]
    log = [l.rstrip("\n") for l in open(sys.argv[2], errors="replace")]
    img = [l.split() for l in console if l.startswith("gdbview ")]
    sec = sections(log)

    def need(name):
        if name not in sec:
            check("gdb reached " + name, True, False)
            return []
        return sec[name]

    # 1. Heap: every (heap, zone, order) list, the totals, the buffer pages; frames.
    s1 = need("stage 1")
    want = {(w[2], int(w[4]), int(w[6])): int(w[8]) for w in img if w[1] == "heap"}
    got = {(m[1], int(m[2]), int(m[3])): int(m[4]) for m in
           (re.match(r"^heap (\w+) zone (\d+) order (\d+) blocks (\d+)", l) for l in s1) if m}
    for key in sorted(set(want) | set(got)):
        check("heap %s zone %d order %d blocks" % key, want.get(key), got.get(key))
    check("heap lock at the allocator's entry", "free", first(s1, r"^heap lock (\w+)"))
    # 1b. The same lists seen from inside the allocator, lock held (split_block_locked's entry).
    s1b = need("stage 1b")
    got_b = {(m[1], int(m[2]), int(m[3])): int(m[4]) for m in
             (re.match(r"^heap (\w+) zone (\d+) order (\d+) blocks (\d+)", l) for l in s1b) if m}
    check("heap lists with the lock held (split_block_locked)", want, got_b)
    check("heap lock in split_block_locked", "held", first(s1b, r"^heap lock (\w+)"))
    free = next((w for w in img if w[1] == "free"), None)
    for name in ("xenheap", "domheap"):
        check("heap %s free pages" % name, num(free[free.index(name) + 1]) if free else None,
              num(first(s1, r"^heap %s free (\d+)" % name)))
    buf = next((w for w in img if w[1] == "buffer"), None)
    check("buffer pages", [num(x) for x in buf[2:]] if buf else None,
          [num(x) for x in re.findall(r"(\d+|0x[0-9a-f]+)",
                                      first(s1, r"^buffer pages (.*)") or "")][:1] +
          [num(x) for x in re.findall(r"mfn (0x[0-9a-f]+)", first(s1, r"^buffer pages (.*)") or "")])
    pages = [w for w in img if w[1] == "page"]
    check("frames shown by hyp-page", len(pages),
          len([l for l in s1 if l.startswith("--- hyp-page")]) if pages else None)
    for w in pages:
        mfn = w[2]
        try:
            i = s1.index("--- hyp-page %s" % mfn)
        except ValueError:
            check("hyp-page %s" % mfn, "shown", None)
            continue
        out = s1[i + 1:i + 7]
        ci = first(out, r"count_info 0x[0-9a-f]+: (\S+) zone (\d+)", (1, 2))
        names = ci[0].split("|") if ci else []
        check("page %s state" % mfn, w[4], names[0] if names else None)
        check("page %s head" % mfn, w[6] == "1", "head" in names)
        check("page %s zone" % mfn, int(w[10]), int(ci[1]) if ci else None)
        check("page %s heap" % mfn, w[12], first(out, r"^\s*heap (\w+)"))
        if w[6] == "1":
            check("page %s order" % mfn, int(w[8]), num(first(out, r"^\s*order (\d+)")))
        if w[4] == "inuse":
            owner = first(out, r"^\s*owner (\S+)")
            check("page %s owner" % mfn, num(w[14]),
                  0 if owner == "none" else num(first(out, r"\*\)(0x[0-9a-f]+)")))

    # 2 and 4. A CPU's VCPU: counters, every slot, one slot's entry and HTTBR.
    for stage, cpu in (("stage 2", "0"), ("stage 4", "1")):
        s = need(stage)
        vc = next((w for w in img if w[1] == "vcpu" and w[3] == cpu), None)
        if vc is None:
            check("%s: the image's VCPU lines" % stage, "present", None)
            continue
        check("%s cpu" % stage, int(cpu), num(first(s, r"^cpu (\d+) vcpu")))
        check("%s slots in use" % stage, int(vc[5]), num(first(s, r" in_use (\d+)")))
        check("%s slots cached" % stage, int(vc[7]), num(first(s, r" cached (\d+) misses")))
        check("%s slots free" % stage, int(vc[9]), num(first(s, r"^slots free (\d+)")))
        # The image's slot lines for this CPU come between its vcpu and pte lines.
        start = img.index(vc)
        want_slots, got_slots = [], []
        for w in img[start + 1:]:
            if w[1] != "slot":
                break
            want_slots.append((int(w[2]), num(w[4]), w[6] if w[5] == "count" else "cached"))
        for l in s:
            m = re.match(r"^slot (\d+) va 0x[0-9a-f]+ mfn (0x[0-9a-f]+) (count (\d+)|cached)", l)
            if m:
                got_slots.append((int(m.group(1)), num(m.group(2)), m.group(4) or "cached"))
        check("%s slots (slot, mfn, count)" % stage, want_slots, got_slots)
        pte = next((w for w in img if w[1] == "pte" and w[3] == cpu), None)
        if pte:
            check("%s pte of va %s, level 3" % (stage, pte[5]), num(pte[7]),
                  num(first(s, r"^level 3 \[\d+\] @pa 0x[0-9a-f]+ = (0x[0-9a-f]+)")))
            check("%s pa of va %s" % (stage, pte[5]), num(pte[9]),
                  num(first(s, r"^va 0x[0-9a-f]+ -> pa (0x[0-9a-f]+)")))
            check("%s HTTBR (hyp-pte)" % stage, num(pte[11]), num(first(s, r"^cpu \d+ HTTBR (0x[0-9a-f]+)")))
            check("%s HTTBR (hyp-regs)" % stage, num(pte[11]), num(first(s, r"^HTTBR\s+(0x[0-9a-f]+)")))

    # 3. vmap: counters and the test's allocations with their guard pages.
    s3 = need("stage 3")
    st = next((w for w in img if w[1] == "vmstats"), None)
    if st:
        check("vmap allocations", int(st[3]), num(first(s3, r"^allocations (\d+)")))
        check("vmap pages", int(st[5]), num(first(s3, r"^allocations \d+ pages (\d+)")))
        check("vmap bitmap pages", int(st[7]), num(first(s3, r" bitmap_pages (\d+)")))
        check("vmap bitmap pages mapped", int(st[9]), num(first(s3, r" mapped (\d+)")))
    for w in (w for w in img if w[1] == "vmap"):
        va, n = num(w[3]), int(w[5])
        got = first(s3, r"^allocation va 0x%08x pages (\d+) guard (0x[0-9a-f]+) kind (\w+)" % va,
                    (1, 2, 3))
        check("vmap allocation 0x%x pages" % va, n, num(got[0]) if got else None)
        check("vmap allocation 0x%x guard" % va, va + n * 4096, num(got[1]) if got else None)
        check("vmap allocation 0x%x kind" % va, w[7], got[2] if got else None)

    # 5. Stage 2 of a domain.
    s5 = need("stage 5")
    p2m = next((w for w in img if w[1] == "p2m"), None)
    if p2m:
        check("p2m level", int(p2m[7]), num(first(s5, r"^ipa 0x[0-9a-f]+ -> pa 0x[0-9a-f]+ \(level (\d+)")))
        check("p2m descriptor", num(p2m[9]),
              num(first(s5, r"^level %s \[\d+\] @pa 0x[0-9a-f]+ = (0x[0-9a-f]+)" % p2m[7])))
        check("p2m machine address", num(p2m[11]), num(first(s5, r"^ipa 0x[0-9a-f]+ -> pa (0x[0-9a-f]+)")))
    else:
        check("the image's p2m line", "present", None)

    # 6. From the trap handler through the vector's frame to the code that faulted.
    s6 = [l for l in need("stage 6") if l.startswith("#")]
    names = [first([l], r"^#\d+\s+(?:0x[0-9a-f]+ in )?(\w+|<signal handler called>)") for l in s6]
    # gdb shows the vector's frame (a DWARF signal frame) as "<signal handler called>".
    check("backtrace from hyp_trap through the vector's frame to the faulting code and the test",
          ["hyp_trap", "<signal handler called>", "arch_probe_read32", "selftest_gdb_views"],
          names[:4])
    check("backtrace ends at the boot stub's entry", "virt_entry", names[-1] if names else None)
    check("backtrace ends without a corrupt-stack complaint", True,
          not any("corrupt stack" in l or "previous frame identical" in l for l in log))

    # Bad input: one clear line each, no traceback.
    bad = need("invalid")
    check("invalid inputs answered by a message", 11,
          len([l for l in bad if re.match(r"^hyp-[a-z0-9]+: ", l) or "not mapped" in l]))
    check("Python tracebacks", 0, len([l for l in log if "Traceback" in l or "Python Exception" in l
                                       or "internal error" in l]))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
