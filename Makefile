# Vesta: `make` builds build/vesta.elf (the bootable image) and build/vesta-syms (unstripped, for gdb).
# `make test` runs every test; `make run` boots the demo in QEMU; `make bench` compares against real Xen.
# `make deb` builds the Debian package build/vesta_<version>_amd64.deb (docs/debian.md).

BUILD   ?= build
CC      := gcc
LD      := ld
OBJCOPY := objcopy
NM      := nm

# The one version: the hypervisor reports it (boot banner, XENVER_changeset) and the Debian package carries it.
VERSION := $(shell cat VERSION)

HV_DIR  := hypervisor
HV_C    := $(shell find $(HV_DIR) -name '*.c' | sort)
HV_S    := $(shell find $(HV_DIR) -name '*.S' ! -name '*.lds.S' | sort)
HV_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(HV_C)) $(patsubst %.S,$(BUILD)/%.o,$(HV_S))

GCC_INC := $(shell $(CC) -print-file-name=include)
HV_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter -Wstrict-prototypes \
	-Wmissing-prototypes -ffreestanding -nostdinc -isystem $(GCC_INC) -I$(HV_DIR)/include \
	-fpie -fvisibility=hidden -mno-red-zone -mgeneral-regs-only -mno-sse -mno-mmx -mno-avx \
	-fno-stack-protector -fno-omit-frame-pointer -fno-asynchronous-unwind-tables \
	-fcf-protection=none -fno-common -fno-strict-aliasing -DVESTA_VERSION='"$(VERSION)"' \
	-MMD -MP
# `make BUILD=build-stats HYPERCALL_STATS=1`: count and time every hypercall for debug key 'p' (a separate build
# directory, since objects do not record the flags they were built with).
ifeq ($(HYPERCALL_STATS),1)
HV_CFLAGS += -DVESTA_HYPERCALL_STATS
endif
HV_ASFLAGS := -D__ASSEMBLER__ -nostdinc -I$(HV_DIR)/include -MMD -MP
HV_LDFLAGS := -nostdlib -static -no-pie -z max-page-size=0x1000 -z noexecstack --build-id=none \
	--no-warn-rwx-segments

.PHONY: all clean test unit run bench deb FORCE
all: $(BUILD)/vesta.elf $(BUILD)/vesta-syms

Q := $(if $(V),,@)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(HV_CFLAGS) -c $< -o $@

$(BUILD)/%.o: %.S
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  AS      $<")
	$(Q)$(CC) $(HV_ASFLAGS) -c $< -o $@

$(BUILD)/vesta.lds: $(HV_DIR)/arch/x86/vesta.lds.S
	@mkdir -p $(dir $@)
	$(CC) -E -P -x c $(HV_ASFLAGS) $< -o $@

# Two link passes: the first finds where every function lands, the second adds the symbol table used for
# stack traces. The table sits last in rodata, so adding it moves no code (checked below).
$(BUILD)/symtab-empty.S:
	@mkdir -p $(dir $@)
	printf '' | sh scripts/gensyms.sh > $@

$(BUILD)/vesta-pass1: $(HV_OBJS) $(BUILD)/symtab-empty.o $(BUILD)/vesta.lds
	$(LD) $(HV_LDFLAGS) -T $(BUILD)/vesta.lds $(HV_OBJS) $(BUILD)/symtab-empty.o -o $@

$(BUILD)/symtab.S: $(BUILD)/vesta-pass1 scripts/gensyms.sh
	$(NM) -n $< | sh scripts/gensyms.sh > $@

$(BUILD)/symtab.o $(BUILD)/symtab-empty.o: $(BUILD)/%.o: $(BUILD)/%.S
	$(CC) $(HV_ASFLAGS) -c $< -o $@

$(BUILD)/vesta-syms: $(HV_OBJS) $(BUILD)/symtab.o $(BUILD)/vesta.lds $(BUILD)/vesta-pass1
	$(LD) $(HV_LDFLAGS) -T $(BUILD)/vesta.lds $(HV_OBJS) $(BUILD)/symtab.o -o $@
	@$(NM) -n $(BUILD)/vesta-pass1 | grep -i ' t ' > $(BUILD)/text1.txt
	@$(NM) -n $@ | grep -i ' t ' > $(BUILD)/text2.txt
	@cmp -s $(BUILD)/text1.txt $(BUILD)/text2.txt || { echo "symbol table moved code between link passes"; exit 1; }

$(BUILD)/vesta.elf: $(BUILD)/vesta-syms
	$(OBJCOPY) --strip-all $< $@

# The objects that print VESTA_VERSION are rebuilt when it changes (`make deb VERSION=...`); the stamp is
# rewritten only when its content differs, so an unchanged version rebuilds nothing.
$(BUILD)/version.stamp: FORCE
	@mkdir -p $(dir $@)
	@echo '$(VERSION)' | cmp -s - $@ || echo '$(VERSION)' > $@
$(BUILD)/$(HV_DIR)/common/version.o $(BUILD)/$(HV_DIR)/common/setup.o: $(BUILD)/version.stamp

DEB := $(BUILD)/vesta_$(VERSION)_amd64.deb
deb: $(DEB)
$(DEB): $(BUILD)/vesta.elf scripts/mkdeb.sh $(wildcard packaging/debian/*) docs/debian.md
	bash scripts/mkdeb.sh $(VERSION) $(BUILD)/vesta.elf $@

-include $(shell find $(BUILD) -name '*.d' -type f 2>/dev/null)

clean:
	rm -rf $(BUILD)

unit:
	$(MAKE) -C tests/unit run

test:
	bash scripts/test-all.sh

run:
	bash scripts/run-demo.sh

bench:
	bash bench/boot-time.sh
	bash bench/pathlen.sh
