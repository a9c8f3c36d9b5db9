# gdb (Python) helper for tests/guest-check.sh: stands in for the hypervisor's
# console hypercall while the test guest runs on QEMU's own PSCI, without a
# hypervisor. A breakpoint on every "hvc #0xea1" of the guest writes the text
# (r2, r1 bytes) to the console log, returns r1 in r0 and steps over the
# instruction; a breakpoint on finish() records the guest's verdict.
import re
import subprocess

import gdb

elf = str(gdb.convenience_variable("guest_elf").string())
log = open(str(gdb.convenience_variable("guest_log").string()), "w")

listing = subprocess.run(["arm-none-eabi-objdump", "-d", elf], capture_output=True,
                         text=True, check=True).stdout
# e140ea71 is the encoding of hvc #0xea1 (the hypercall, not PSCI's hvc #0).
hvc_addrs = [int(m.group(1), 16) for m in re.finditer(r"^\s*([0-9a-f]+):\s+e140ea71\b",
                                                        listing, re.M)]
finish_addr = int(re.search(r"^([0-9a-f]+) <finish>:", listing, re.M).group(1), 16)


def reg(name):
    return int(gdb.selected_frame().read_register(name)) & 0xffffffff


class ConsoleWrite(gdb.Breakpoint):
    def stop(self):
        n, text = reg("r1"), reg("r2")
        data = bytes(gdb.selected_inferior().read_memory(text, n))
        log.write("(d1) " + data.decode(errors="replace"))
        log.flush()
        gdb.execute("set $r0 = %d" % n)
        gdb.execute("set $pc = $pc + 4")
        return False


class Verdict(gdb.Breakpoint):
    def stop(self):
        log.write("verdict: %s\n" % ("SYSTEM_OFF" if reg("r0") & 0xff else "SYSTEM_RESET"))
        log.flush()
        return False


for a in hvc_addrs:
    ConsoleWrite("*0x%x" % a, internal=True)
Verdict("*0x%x" % finish_addr, internal=True)
log.write("# %d console hypercalls in %s\n" % (len(hvc_addrs), elf))
log.flush()
