"""Symbols for both address spaces the image runs in.

The boot stub runs at the load address (PA = VA + PA_DELTA, linker.lds)
before the MMU is on; everything else runs at link addresses. A second copy
of the symbols, shifted by PA_DELTA, lets gdb name the stub's code and stop
at breakpoints in it. But once the MMU is on, the same addresses are xenheap
virtual addresses (0x40000000-0x7fffffff), and that copy would label them
as image code. So the copy is kept only while some CPU still runs with its
MMU off (the boot CPU in the stub, a secondary not yet started, which will
enter the stub), and dropped at the first stop where every CPU has it on;
breakpoints set by name keep their link-address locations and get their
physical ones back if the copy returns.
"""
import gdb

from hypcommon import threads

state = {"image": None, "delta": None, "loaded": False}


def pa_delta():
    return int(gdb.parse_and_eval("(unsigned long)&PA_DELTA"))


def _stext():
    return int(gdb.parse_and_eval("(unsigned long)&_stext"))


def load_physical_copy():
    if state["loaded"]:
        return
    gdb.execute("add-symbol-file %s -o 0x%x" % (state["image"], state["delta"]), to_string=True)
    state["loaded"] = True


def drop_physical_copy():
    if not state["loaded"]:
        return
    gdb.execute("remove-symbol-file -a 0x%x" % (_stext() + state["delta"]), to_string=True)
    state["loaded"] = False


def any_cpu_mmu_off():
    saved = gdb.selected_thread()
    try:
        for t in threads():
            t.switch()
            if int(gdb.parse_and_eval("$SCTLR_EL2")) & 1 == 0:
                return True
        return False
    finally:
        if saved is not None and saved.is_valid():
            saved.switch()


def on_stop(event):
    try:
        if any_cpu_mmu_off():
            load_physical_copy()
        else:
            drop_physical_copy()
    except gdb.error as e:
        print("hypmem: could not update the boot stub's symbols: %s" % e)


def setup(image):
    """Loads image at its link addresses and the stub's physical copy."""
    state["image"] = image
    gdb.execute("file %s" % image, to_string=True)
    state["delta"] = pa_delta()
    load_physical_copy()
    gdb.events.stop.connect(on_stop)
