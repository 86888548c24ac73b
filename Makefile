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

install: $(BINS)
	install -D -m 0755 $(BUILD)/bin/p2v $(DESTDIR)/usr/local/bin/p2v
	install -D -m 0755 $(BUILD)/bin/ct-import $(DESTDIR)/usr/local/bin/ct-import
	install -D -m 0644 doc/man/p2v.1 $(DESTDIR)/usr/local/share/man/man1/p2v.1
	install -D -m 0644 doc/man/ct-import.1 $(DESTDIR)/usr/local/share/man/man1/ct-import.1

clean:
	rm -rf build build-asan
