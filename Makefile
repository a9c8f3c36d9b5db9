# One non-recursive Makefile for both targets.
#
#   make            build the image (build/arm/hyp.elf) and the host programs
#   make run        boot the image under QEMU (MEM=, SMP=, APPEND=, DTB=; boot modules:
#                   KERNEL=, INITRD=, KERNEL_ARGS=; DOM0_MEM=, DOM0_VCPUS=)
#   make test       host tests, then QEMU boots, in parallel; ends with "N passed, N failed"
#   make run-linux  Debian's Linux (fetched once) as dom0 (DOM0_MEM=, DOM0_VCPUS=, DOM0_ARGS=,
#                   KERNEL=, INITRD=, MEM=, SMP=, APPEND= hypmem's options such as
#                   dom0_timeout=); the exit status is dom0's verdict
#   make guest      the test guest, build/guest/testguest.bin (a raw binary to boot as KERNEL=)
#   make debug      QEMU halted with its gdb stub, gdb-multiarch attached (tools/gdbinit.py)
#   make gdbserver  QEMU halted, its gdb stub on a free TCP port it prints, for any gdb or IDE
#                   (both: the settings of make run, and DEBUG=0 for the release image)
#   make bench      instructions per operation: image under qemu -icount, host under callgrind
#   make bench-linux  boot to user space in instructions: Linux directly, and as dom0
#   make fuzz       libFuzzer on the device-tree reader and the memory API, FUZZ_TIME
#                   seconds each (default 60); what it finds goes to build/fuzz/corpus/
#   make fuzz-merge what those runs found that reaches new coverage, into tests/fuzz/corpus/
#   V=1             show full commands
#
# Sources are picked up per directory: common/ (by subsystem) and tests/
# build for both targets, arch/arm32 and boot/ only for the image, arch/host
# only for the host.

MEM ?= 1G
SMP ?= 1
APPEND ?=
DTB ?=
KERNEL ?=
INITRD ?=
KERNEL_ARGS ?=
DOM0_MEM ?=
DOM0_VCPUS ?=
DOM0_ARGS ?=
DEBUG ?= 1
FUZZ_TIME ?= 60

ifeq ($(V),1)
Q :=
else
Q := @
endif

BUILD := build
# Debug builds (the default) check invariants and poison freed memory;
# release builds (DEBUG=0) are what the benchmarks measure.
ifeq ($(DEBUG),1)
ARM_OUT := $(BUILD)/arm
else
ARM_OUT := $(BUILD)/arm-release
endif
HOST_OUT := $(BUILD)/host
GUEST_OUT := $(BUILD)/guest
BENCH_OUT := $(BUILD)/host-release
FUZZ_OUT := $(BUILD)/fuzz

LIBFDT_DIR ?= $(BUILD)/deps/libfdt

# ---------------------------------------------------------------- sources
COMMON_SRCS := $(wildcard common/*/*.c)
# The test and benchmark runners, and the tests that run on both targets.
TEST_SRCS := $(wildcard tests/harness/*.c tests/*.c)

BENCH_SRCS := $(wildcard tests/bench/*.c)

ARM_SRCS := $(wildcard boot/*.S) $(wildcard arch/arm32/*.c arch/arm32/*.S) \
            $(COMMON_SRCS) $(TEST_SRCS) $(wildcard tests/arm32/*.c tests/arm32/*.S) $(BENCH_SRCS)
HOST_LIB_SRCS := $(wildcard arch/host/*.c) $(COMMON_SRCS)
# The test guest's portable part is also compiled for the host, whose tests
# hold its cksum and bootargs parser against the real ones.
HOST_TEST_SRCS := $(TEST_SRCS) $(wildcard tests/host/*.c) tests/guest/portable.c
# The fuzz harnesses (tests/fuzz/): each links with libFuzzer (make fuzz, clang) or with
# replay.c (make test, gcc), which runs a corpus through it.
FUZZ_HARNESSES := dt mm
FUZZ_SHARED_SRCS := tests/host/bootinfo_promises.c
# The test guest is a program of its own, never part of the image.
GUEST_SRCS := $(wildcard tests/guest/*.S tests/guest/*.c)

ARM_OBJS := $(patsubst %,$(ARM_OUT)/%.o,$(ARM_SRCS))
HOST_LIB_OBJS := $(patsubst %,$(HOST_OUT)/%.o,$(HOST_LIB_SRCS))
HOST_TEST_OBJS := $(patsubst %,$(HOST_OUT)/%.o,$(HOST_TEST_SRCS))
GUEST_OBJS := $(patsubst %,$(GUEST_OUT)/%.o,$(GUEST_SRCS))
BENCH_OBJS := $(patsubst %,$(BENCH_OUT)/%.o,$(HOST_LIB_SRCS) $(BENCH_SRCS) tests/harness/bench.c \
                                             tools/bench_host.c)

# ---------------------------------------------------------------- flags
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wpointer-arith -Wundef -Wvla -Wformat=2
DEFS := $(if $(filter 1,$(DEBUG)),-DCONFIG_DEBUG)

ARM_CROSS := arm-none-eabi-
ARM_CC := $(ARM_CROSS)gcc
# -Wframe-larger-than: no frame may step over the 12 KiB unmapped below each CPU's stack
# without touching it (asm/layout.h, docs/architecture.md).
ARM_CFLAGS := -std=gnu11 -O2 -g -mcpu=cortex-a15 -marm -mfloat-abi=soft \
              -mgeneral-regs-only -mno-unaligned-access -ffreestanding \
              -fno-pic -fno-common -fstack-protector-strong \
              -fno-tree-loop-distribute-patterns \
              $(WARN) -Wconversion -Wno-sign-conversion $(DEFS) -DCONFIG_ARM32 \
              -Wframe-larger-than=8192 \
              -Iinclude -Iarch/arm32/include -isystem $(LIBFDT_DIR)/include -MMD -MP \
              -DTEST_DTB_DIR='"$(ARM_OUT)/dtb"'
ARM_ASFLAGS := -mcpu=cortex-a15 -marm -g -Iinclude -Iarch/arm32/include $(DEFS) -MMD -MP
ARM_LDFLAGS := -nostdlib -static -Wl,-T,linker.lds -Wl,--gc-sections -Wl,--no-warn-rwx-segments -Wl,-z,noexecstack \
               -Wl,-Map,$(ARM_OUT)/hyp.map

# The test guest: same CPU and ABI as the image, its own link address and
# runtime (tests/guest/guest.lds, runtime.c), no hypervisor headers.
GUEST_CFLAGS := -std=gnu11 -O2 -g -mcpu=cortex-a15 -marm -mfloat-abi=soft -mgeneral-regs-only \
                -mno-unaligned-access -ffreestanding -fno-pic -fno-common \
                -fstack-protector-strong -fno-tree-loop-distribute-patterns \
                $(WARN) -Wconversion -Wno-sign-conversion -isystem $(LIBFDT_DIR)/include -MMD -MP
GUEST_ASFLAGS := -mcpu=cortex-a15 -marm -g -MMD -MP
GUEST_LDFLAGS := -nostdlib -static -Wl,-T,tests/guest/guest.lds -Wl,--gc-sections \
                 -Wl,--no-warn-rwx-segments -Wl,-z,noexecstack -Wl,-Map,$(GUEST_OUT)/testguest.map

HOST_CC := gcc
SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
HOST_CFLAGS := -std=gnu11 -O1 -g $(SANITIZE) $(WARN) $(DEFS) -DCONFIG_HOST \
               -Iinclude -Iarch/host/include -MMD -MP -DTEST_DTB_DIR='"$(HOST_OUT)/dtb"'
HOST_LDFLAGS := $(SANITIZE)
# The host benchmark build: optimised like the image, no sanitizers, no debug checks.
BENCH_CFLAGS := -std=gnu11 -O2 -g $(WARN) -DCONFIG_HOST -Iinclude -Iarch/host/include -MMD -MP

# ---------------------------------------------------------------- targets
.PHONY: all image host guest host-bench setup run run-linux test debug gdbserver bench bench-linux fuzz fuzz-merge clean
all: image host guest

image: $(ARM_OUT)/hyp.elf
host: $(HOST_OUT)/selftest $(HOST_OUT)/dtbinfo $(HOST_OUT)/libhypmem.a \
      $(patsubst %,$(HOST_OUT)/fuzz-%-replay,$(FUZZ_HARNESSES))
guest: $(GUEST_OUT)/testguest.bin

setup:
	$(Q)tools/setup.sh

# libfdt comes as Debian's armhf build (hard-float EABI tags, no VFP code):
# dropping the attribute sections lets it link into the soft-float image.
$(ARM_OUT)/libfdt.a: $(LIBFDT_DIR)/lib/libfdt.a
	@mkdir -p $(@D)
	$(Q)$(ARM_CROSS)objcopy --remove-section .ARM.attributes $< $@

$(LIBFDT_DIR)/lib/libfdt.a $(LIBFDT_DIR)/include/libfdt.h:
	$(Q)tools/setup.sh

$(ARM_OUT)/hyp.elf: $(ARM_OBJS) $(ARM_OUT)/libfdt.a linker.lds
	@echo "  LD      $@"
	$(Q)$(ARM_CC) $(ARM_CFLAGS) $(ARM_LDFLAGS) -o $@ $(ARM_OBJS) $(ARM_OUT)/libfdt.a -lgcc

$(ARM_OUT)/%.c.o: %.c $(LIBFDT_DIR)/include/libfdt.h
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(ARM_CC) $(ARM_CFLAGS) -c $< -o $@

$(ARM_OUT)/%.S.o: %.S
	@mkdir -p $(@D)
	@echo "  AS      $<"
	$(Q)$(ARM_CC) $(ARM_ASFLAGS) -c $< -o $@

$(GUEST_OUT)/%.c.o: %.c $(LIBFDT_DIR)/include/libfdt.h
	@mkdir -p $(@D)
	@echo "  CC      $< (guest)"
	$(Q)$(ARM_CC) $(GUEST_CFLAGS) -c $< -o $@

$(GUEST_OUT)/%.S.o: %.S
	@mkdir -p $(@D)
	@echo "  AS      $< (guest)"
	$(Q)$(ARM_CC) $(GUEST_ASFLAGS) -c $< -o $@

$(GUEST_OUT)/testguest.elf: $(GUEST_OBJS) $(ARM_OUT)/libfdt.a tests/guest/guest.lds
	@echo "  LD      $@"
	$(Q)$(ARM_CC) $(GUEST_CFLAGS) $(GUEST_LDFLAGS) -o $@ $(GUEST_OBJS) $(ARM_OUT)/libfdt.a -lgcc

# The hypervisor loads the raw binary; the guest takes [_start, _image_end)
# as what was loaded, so the file must be exactly that long (bss and stacks
# included, see guest.lds).
$(GUEST_OUT)/testguest.bin: $(GUEST_OUT)/testguest.elf
	@echo "  OBJCOPY $@"
	$(Q)$(ARM_CROSS)objcopy -O binary $< $@
	$(Q)want=$$(( 0x$$($(ARM_CROSS)nm $< | sed -n 's/ [A-Za-z] _image_end$$//p') - \
	             0x$$($(ARM_CROSS)nm $< | sed -n 's/ [A-Za-z] _start$$//p') )); \
	got=$$(stat -c %s $@); \
	if [ "$$got" -ne "$$want" ]; then \
	    echo "$@ is $$got bytes, but _image_end - _start is $$want" >&2; rm -f $@; exit 1; fi

$(HOST_OUT)/%.c.o: %.c
	@mkdir -p $(@D)
	@echo "  HOSTCC  $<"
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -c $< -o $@

$(HOST_OUT)/libhypmem.a: $(HOST_LIB_OBJS)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(HOST_OUT)/selftest: $(HOST_TEST_OBJS) $(HOST_OUT)/libhypmem.a
	@echo "  HOSTLD  $@"
	$(Q)$(HOST_CC) $(HOST_LDFLAGS) -o $@ $(HOST_TEST_OBJS) $(HOST_OUT)/libhypmem.a -lfdt

$(HOST_OUT)/fuzz-%-replay: $(HOST_OUT)/tests/fuzz/%.c.o $(HOST_OUT)/tests/fuzz/replay.c.o \
                           $(patsubst %,$(HOST_OUT)/%.o,$(FUZZ_SHARED_SRCS)) $(HOST_OUT)/libhypmem.a
	@echo "  HOSTLD  $@"
	$(Q)$(HOST_CC) $(HOST_LDFLAGS) -o $@ $^ -lfdt

# make fuzz: the same harnesses and library built by clang with coverage for libFuzzer.
FUZZ_CC := clang
FUZZ_SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_COVERAGE := -fsanitize=fuzzer-no-link
FUZZ_CFLAGS = -std=gnu11 -O1 -g $(FUZZ_COVERAGE) $(FUZZ_SANITIZE) $(WARN) -DCONFIG_DEBUG \
              -DCONFIG_HOST -Iinclude -Iarch/host/include -MMD -MP
FUZZ_LIB_OBJS := $(patsubst %,$(FUZZ_OUT)/%.o,$(HOST_LIB_SRCS) $(FUZZ_SHARED_SRCS))
# heap_check walks the whole frame table: its comparisons, traced for libFuzzer, took half
# of the memory harness's time and guide nothing (it is the checker, not the code under test).
$(FUZZ_OUT)/common/mm/heap_check.c.o: FUZZ_COVERAGE :=
# Objects made only through the pattern rules: kept, or make deletes them as intermediates.
.SECONDARY: $(patsubst %,$(HOST_OUT)/tests/fuzz/%.c.o,$(FUZZ_HARNESSES) replay) \
            $(patsubst %,$(FUZZ_OUT)/tests/fuzz/%.c.o,$(FUZZ_HARNESSES)) $(FUZZ_LIB_OBJS)

$(FUZZ_OUT)/%.c.o: %.c
	@mkdir -p $(@D)
	@echo "  FUZZCC  $<"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_OUT)/fuzz-%: $(FUZZ_OUT)/tests/fuzz/%.c.o $(FUZZ_LIB_OBJS)
	@echo "  FUZZLD  $@"
	$(Q)$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SANITIZE) -o $@ $^ -lfdt

fuzz:
	$(Q)tools/setup.sh --fuzz
	$(Q)$(MAKE) --no-print-directory $(patsubst %,$(FUZZ_OUT)/fuzz-%,$(FUZZ_HARNESSES))
	$(Q)tools/fuzz.sh $(FUZZ_TIME) $(FUZZ_HARNESSES)

fuzz-merge:
	$(Q)$(MAKE) --no-print-directory $(patsubst %,$(FUZZ_OUT)/fuzz-%,$(FUZZ_HARNESSES))
	$(Q)tools/fuzz.sh --merge $(FUZZ_HARNESSES)

host-bench: $(BENCH_OUT)/bench

$(BENCH_OUT)/%.c.o: %.c
	@mkdir -p $(@D)
	@echo "  HOSTCC  $< (release)"
	$(Q)$(HOST_CC) $(BENCH_CFLAGS) -c $< -o $@

$(BENCH_OUT)/bench: $(BENCH_OBJS)
	@echo "  HOSTLD  $@"
	$(Q)$(HOST_CC) -o $@ $^ -lfdt -pthread

$(HOST_OUT)/dtbinfo: $(HOST_OUT)/tools/dtbinfo.c.o $(HOST_OUT)/libhypmem.a
	@echo "  HOSTLD  $@"
	$(Q)$(HOST_CC) $(HOST_LDFLAGS) -o $@ $^ -lfdt

# Device trees that tests/guest_dt.c builds guests' trees from: compiled by dtc and
# embedded with .incbin (TEST_DTB_DIR), in the image and on the host alike.
TEST_DTS := qemu-virt-smp2 two-banks cells-1
define embed_test_dtbs
$(1)/tests/guest_dt.c.o: $(patsubst %,$(1)/dtb/%.dtb,$(TEST_DTS))
$(1)/dtb/%.dtb: tests/dt/%.dts
	@mkdir -p $$(@D)
	@echo "  DTC     $$<"
	$(Q)dtc -q -I dts -O dtb -o $$@ $$<
endef
$(eval $(call embed_test_dtbs,$(ARM_OUT)))
$(eval $(call embed_test_dtbs,$(HOST_OUT)))

run: setup image
	$(Q)tests/qemu.sh run MEM=$(MEM) SMP=$(SMP) APPEND="$(APPEND)" DTB="$(DTB)" \
	    KERNEL="$(KERNEL)" INITRD="$(INITRD)" KERNEL_ARGS="$(KERNEL_ARGS)" \
	    DOM0_MEM="$(DOM0_MEM)" DOM0_VCPUS="$(DOM0_VCPUS)"

# Linux's defaults (256M, 1 VCPU, its console on the PL011) are tests/linux.sh's.
run-linux: setup image
	$(Q)tests/linux.sh run MEM=$(MEM) SMP=$(SMP) $(if $(DOM0_MEM),DOM0_MEM=$(DOM0_MEM)) \
	    $(if $(DOM0_VCPUS),DOM0_VCPUS=$(DOM0_VCPUS)) $(if $(DOM0_ARGS),DOM0_ARGS="$(DOM0_ARGS)") \
	    $(if $(KERNEL),KERNEL=$(KERNEL)) $(if $(INITRD),INITRD=$(INITRD)) \
	    $(if $(APPEND),APPEND="$(APPEND)")

# Boot to /init in instructions, directly under QEMU and as hypmem's dom0 (tools/linux-bench.sh).
bench-linux: setup
	$(Q)$(MAKE) --no-print-directory DEBUG=0 image
	$(Q)tools/linux-bench.sh

# The build on every core (the tests run JOBS at a time: tests/run-all.sh).
test: setup
	$(Q)$(MAKE) --no-print-directory -j$$(nproc) all
	$(Q)tests/run-all.sh

bench:
	$(Q)tools/setup.sh --bench
	$(Q)$(MAKE) --no-print-directory DEBUG=0 image host-bench
	$(Q)tools/bench.sh

# The same settings as make run, the image of the build asked for (DEBUG=0: release).
DEBUG_SETTINGS = MEM=$(MEM) SMP=$(SMP) APPEND="$(APPEND)" DTB="$(DTB)" KERNEL="$(KERNEL)" \
    INITRD="$(INITRD)" KERNEL_ARGS="$(KERNEL_ARGS)" DOM0_MEM="$(DOM0_MEM)" \
    DOM0_VCPUS="$(DOM0_VCPUS)" IMAGE=$(ARM_OUT)/hyp.elf

debug: setup image
	$(Q)tools/debug.sh debug $(DEBUG_SETTINGS)

gdbserver: setup image
	$(Q)tools/debug.sh gdbserver $(DEBUG_SETTINGS)

clean:
	rm -rf $(BUILD)/arm $(BUILD)/arm-release $(HOST_OUT) $(BENCH_OUT) $(GUEST_OUT) \
	       $(BUILD)/test-logs $(BUILD)/bench $(FUZZ_OUT)/tests $(FUZZ_OUT)/arch $(FUZZ_OUT)/common \
	       $(patsubst %,$(FUZZ_OUT)/fuzz-%,$(FUZZ_HARNESSES))

-include $(ARM_OBJS:.o=.d) $(HOST_LIB_OBJS:.o=.d) $(HOST_TEST_OBJS:.o=.d) $(BENCH_OBJS:.o=.d) \
         $(GUEST_OBJS:.o=.d) $(wildcard $(HOST_OUT)/tests/fuzz/*.d $(FUZZ_OUT)/*/*.d $(FUZZ_OUT)/*/*/*.d)
