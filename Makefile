# p2v toolkit. `make` builds bin/p2v and bin/ct-import; `make check` runs every test.
CC      ?= cc
PKGS    := libarchive libssh blkid devmapper libparted libzstd libcrypto jansson ext2fs zlib
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -Ilib $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lacl -lpthread
BUILD   ?= build
# `make asan check` (or SAN=1) builds and tests with AddressSanitizer + UBSan.
ifneq ($(filter asan,$(MAKECMDGOALS)),)
SAN := 1
endif
ifeq ($(SAN),1)
BUILD   := build-asan
CFLAGS  += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
SAN_OBJ := $(BUILD)/obj/lib/san/asan_options.o
endif

LIB_SRC := $(wildcard lib/*.c)
P2V_SRC := $(filter-out p2v/main.c,$(wildcard p2v/*.c))
CTI_SRC := $(filter-out ct-import/main.c,$(wildcard ct-import/*.c))
UNIT_SRC := $(wildcard tests/unit/test_*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
LIB_A := $(BUILD)/libcommon.a
P2V_A := $(BUILD)/libp2v.a
CTI_A := $(BUILD)/libctimport.a
BINS  := $(BUILD)/bin/p2v $(BUILD)/bin/ct-import
UNITS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))

.SECONDARY:
.PHONY: all deps check unit integration asan demo bench clean install fuzz
all: $(BINS)

$(BUILD)/obj/%.o: %.c $(wildcard lib/*.h p2v/*.h ct-import/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(LIB_A): $(call obj,$(LIB_SRC))
	@rm -f $@; ar rcs $@ $^
$(P2V_A): $(call obj,$(P2V_SRC))
	@rm -f $@; ar rcs $@ $^
$(CTI_A): $(call obj,$(CTI_SRC))
	@rm -f $@; ar rcs $@ $^

$(BUILD)/bin/p2v: $(call obj,p2v/main.c) $(P2V_A) $(LIB_A) $(SAN_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/bin/ct-import: $(call obj,ct-import/main.c) $(CTI_A) $(LIB_A) $(SAN_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Unit tests see every module's header.
$(BUILD)/obj/tests/%.o: CFLAGS += -Ip2v -Ict-import

$(BUILD)/tests/%: $(call obj,tests/unit/%.c) $(P2V_A) $(CTI_A) $(LIB_A) $(SAN_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

# The qcow2 unit test judges images with the reader it shares with fuzz_qcow2.
$(BUILD)/tests/test_qcow2: $(call obj,tests/tools/qcow2_read.c)
$(call obj,tests/unit/test_qcow2.c tests/tools/qcow2_read.c): tests/tools/qcow2_read.h

deps:
	@sh scripts/deps.sh

# The test command README.md names: dependencies, unit tests, integration tests.
check: deps
	$(MAKE) unit integration

unit: $(UNITS)
	@sh tests/run-unit.sh $(UNITS)

integration: $(BINS)
	@BUILD=$(abspath $(BUILD)) sh tests/run-integration.sh

asan: all

demo: deps $(BINS)
	@BUILD=$(abspath $(BUILD)) bash tests/demo.sh

bench: deps $(BINS)
	@BUILD=$(abspath $(BUILD)) bash bench/ct.sh

# A relocatable p2v (binary, its libraries and glibc's loader, a sh wrapper)
# for rescue systems of any distribution: rescue-iso/bundle.sh.
.PHONY: bundle
# Always rebuilt (a few seconds): its VERSION follows the tree's git describe.
bundle: $(BUILD)/bin/p2v
	@sh rescue-iso/bundle.sh $(BUILD)/bin/p2v $(BUILD)/bundle

# `make iso`: $(BUILD)/p2v-rescue.iso, a hybrid ISO (CD or USB stick, BIOS or
# UEFI) with Debian's kernel, busybox and the bundle (rescue-iso/mkiso.sh).
.PHONY: iso
iso: bundle
	@BUILD=$(abspath $(BUILD)) bash rescue-iso/mkiso.sh --out $(BUILD)/p2v-rescue.iso --bundle $(BUILD)/bundle

# `make remaster ISO=systemrescue.iso [OUT=file.iso]`: that SystemRescue ISO
# with p2v as an SRM module and nodmraid on every boot entry (rescue-iso/remaster.sh).
.PHONY: remaster
remaster: bundle
	@test -n "$(ISO)" || { echo "usage: make remaster ISO=systemrescue.iso [OUT=file.iso]" >&2; exit 2; }
	@sh rescue-iso/remaster.sh "$(ISO)" "$(or $(OUT),$(BUILD)/p2v-$(notdir $(ISO)))" $(BUILD)/bundle

# The initramfs-tools and dracut hooks plus the bundle in /usr/lib/p2v/bundle,
# so a server migrates itself with one reboot (doc/boot-media.md); then
# update-initramfs -u or dracut -f.
.PHONY: install-hooks
install-hooks: bundle
	@sh initramfs-hooks/install.sh "$(or $(DESTDIR),/)" $(BUILD)/bundle

install: $(BINS)
	install -D -m 0755 $(BUILD)/bin/p2v $(DESTDIR)/usr/local/bin/p2v
	install -D -m 0755 $(BUILD)/bin/ct-import $(DESTDIR)/usr/local/bin/ct-import
	install -D -m 0644 doc/man/p2v.1 $(DESTDIR)/usr/local/share/man/man1/p2v.1
	install -D -m 0644 doc/man/ct-import.1 $(DESTDIR)/usr/local/share/man/man1/ct-import.1

clean:
	rm -rf build build-asan

# libFuzzer harnesses (tests/fuzz/fuzz_*.c, clang with ASan + UBSan): the
# sources are built again into $(FUZZ_BUILD) with coverage instrumentation.
# `make fuzz` runs each target FUZZ_SECONDS on its corpus (new inputs are
# kept there; crashes go to $(FUZZ_BUILD)/crashes/); `make fuzz-regress`
# replays every corpus and saved crash file once.
FUZZ_CC      ?= clang
FUZZ_BUILD   := build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS  := -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
		-fno-sanitize-recover=undefined
FUZZ_NAMES   := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS    := $(addprefix $(FUZZ_BUILD)/,$(FUZZ_NAMES))
# Of p2v only what the harnesses use (the whole of it does not build with clang yet).
FUZZ_LIBS    := $(FUZZ_BUILD)/obj/p2v/fstab.o $(FUZZ_BUILD)/libctimport.a $(FUZZ_BUILD)/libcommon.a
FUZZ_OPTS    := -close_fd_mask=3 -rss_limit_mb=2048 -timeout=30
.PHONY: fuzz-build fuzz-regress

fuzz-build:
	@CFLAGS='$(FUZZ_CFLAGS)' $(MAKE) --no-print-directory CC=$(FUZZ_CC) BUILD=$(FUZZ_BUILD) $(FUZZ_LIBS)
	@$(MAKE) --no-print-directory $(FUZZ_BINS)

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/tools/qcow2_read.c $(wildcard tests/fuzz/*.h tests/tools/*.h) $(FUZZ_LIBS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE \
	  -Ilib -Ip2v -Ict-import -o $@ $(filter %.c,$^) $(FUZZ_LIBS) -Wl,--as-needed $(LDLIBS)

fuzz: fuzz-build
	@for t in $(FUZZ_NAMES); do \
	  mkdir -p tests/fuzz/corpus/$$t $(FUZZ_BUILD)/crashes/$$t; \
	  echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
	  $(FUZZ_BUILD)/$$t $(FUZZ_OPTS) -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    -artifact_prefix=$(FUZZ_BUILD)/crashes/$$t/ tests/fuzz/corpus/$$t || exit 1; \
	done

fuzz-regress: fuzz-build
	@for t in $(FUZZ_NAMES); do \
	  dirs=$$(ls -d tests/fuzz/corpus/$$t tests/fuzz/crashes/$$t 2>/dev/null); \
	  [ -n "$$dirs" ] || continue; \
	  echo "fuzz-regress: $$t ($$(find $$dirs -type f | wc -l) inputs)"; \
	  $(FUZZ_BUILD)/$$t $(FUZZ_OPTS) -runs=0 $$dirs >$(FUZZ_BUILD)/$$t.regress.log 2>&1 || \
	    { tail -50 $(FUZZ_BUILD)/$$t.regress.log; exit 1; }; \
	done
