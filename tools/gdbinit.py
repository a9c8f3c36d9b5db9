# gdb set-up for the hypervisor image: `source /path/to/tools/gdbinit.py`
# from any directory, before `target remote`.
#
# Loads the image's symbols at link addresses, and a copy shifted by the
# physical offset for the boot stub while a CPU runs with its MMU off
# (tools/gdb/hypsyms.py); registers the helpers (hyp-pte, hyp-p2m, hyp-page,
# hyp-heap, hyp-vcpu, hyp-vmap, hyp-regs: `help COMMAND`), the struct
# page_info pretty-printer. (Backtraces through the boot stub and the trap
# vectors need no script: their call-frame information is in the image.)
#
# The image: $HYPMEM_IMAGE if set (make debug sets it), else the file gdb was
# given (gdb-multiarch build/arm-release/hyp.elf -ex 'source ...'), else
# build/arm/hyp.elf in this script's tree.
import os
import sys

import gdb

_here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(_here, "gdb"))

import hypmm  # noqa: E402
import hyppt  # noqa: E402
import hypregs  # noqa: E402
import hypsyms  # noqa: E402

gdb.execute("set pagination off")
gdb.execute("set confirm off")
gdb.execute("set print pretty on")
gdb.execute("set architecture armv7")

_image = (os.environ.get("HYPMEM_IMAGE") or gdb.current_progspace().filename or
          os.path.join(os.path.dirname(_here), "build/arm/hyp.elf"))
if not os.path.isfile(_image):
    raise gdb.GdbError("hypmem: no image at %s (run make, or set HYPMEM_IMAGE)" % _image)
hypsyms.setup(os.path.abspath(_image))
for _m in (hypmm, hyppt, hypregs):
    _m.register_all()
print("hypmem: symbols of %s; the boot stub's at +0x%x while a CPU has its MMU off; "
      "helpers: hyp-pte hyp-p2m hyp-page hyp-heap hyp-vcpu hyp-vmap hyp-regs"
      % (_image, hypsyms.state["delta"]))
