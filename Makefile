# hagen & halog: one GNU Makefile for both tools, their tests, the demo and the benchmark.
# Switches: WERROR=1 (warnings are errors), SANITIZE=address,undefined, O=<build dir>.

O        ?= build
PREFIX   ?= /usr/local
CC       ?= cc
PKGS     := yaml-0.1 libpcre2-8 sqlite3 libcurl zlib libzstd libmicrohttpd
# Compiled against (types, constants) but not linked: halog opens them at run time when a command
# needs them (common/lazylib.h), so other commands start without their ~35 libraries.
PKGS_RUNTIME := libcurl libmicrohttpd
VERSION  := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

WARN := -Wall -Wextra -Wshadow -Wpointer-arith -Wcast-align -Wwrite-strings \
        -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wundef \
        -Wnull-dereference -Wvla -Wimplicit-fallthrough -Wno-unused-parameter
CFLAGS   ?= -O2 -g
CPPFLAGS += -D_GNU_SOURCE -DHAGEN_VERSION='"$(VERSION)"' -Icommon -Ilib -I$(O)/gen
ALL_CFLAGS = -std=c11 $(WARN) $(CFLAGS) -MMD -MP
ifeq ($(WERROR),1)
ALL_CFLAGS += -Werror
endif
ifeq ($(FUZZ),1)
ALL_CFLAGS += -fsanitize=fuzzer-no-link
endif
ifneq ($(SANITIZE),)
ALL_CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS    += -fsanitize=$(SANITIZE)
endif

# pkg-config is asked only when something is compiled, so `make clean` works on a bare machine.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(filter-out $(PKGS_RUNTIME),$(PKGS)) 2>/dev/null)
LIBS       = $(PKG_LIBS) -lpthread -lm
# Each binary records only the libraries it calls (hagen needs no zstd, sample-app no SQLite).
LDFLAGS   += -Wl,--as-needed

COMMON_SRC := $(wildcard common/*.c)
# lib/: libraries between common/ and the tools (lib/inventory: the inventory both tools read).
INV_SRC    := $(wildcard lib/inventory/*.c)
HAGEN_SRC  := $(wildcard tools/hagen/*.c)
HALOG_SRC  := $(wildcard tools/halog/*/*.c)
SAMPLE_SRC := $(wildcard samples/app/*.c)
TMPL       := $(sort $(wildcard templates/*.tmpl))
# halog serve's page, script and style, compiled into halog (no file is read at run time)
ASSETS     := $(sort $(wildcard tools/halog/serve/assets/*))

COMMON_OBJ := $(COMMON_SRC:%.c=$(O)/%.o)
INV_OBJ    := $(INV_SRC:%.c=$(O)/%.o)
HAGEN_OBJ  := $(HAGEN_SRC:%.c=$(O)/%.o) $(O)/gen/templates.o
HALOG_OBJ  := $(HALOG_SRC:%.c=$(O)/%.o) $(O)/gen/serve_assets.o
# Everything but main.c, so unit tests can link a tool's modules.
HAGEN_LIB  := $(filter-out $(O)/tools/hagen/main.o,$(HAGEN_OBJ))
HALOG_LIB  := $(filter-out $(O)/tools/halog/cli/main.o,$(HALOG_OBJ))

UNIT_SRC   := $(wildcard tests/unit/test_*.c)
# Test and benchmark helper programs: tests/helpers/NAME.c -> $(O)/helpers/NAME (links libcommon).
HELPER_SRC := $(wildcard tests/helpers/*.c)
HELPER_BIN := $(HELPER_SRC:tests/helpers/%.c=$(O)/helpers/%)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(O)/tests/%)

BINS := $(O)/hagen $(O)/halog $(if $(SAMPLE_SRC),$(O)/sample-app)

.SECONDARY:
.PHONY: all deps test check unit cases e2e demo demo-serve bench install uninstall clean fuzz fuzz-bins memcheck format FORCE
all: $(BINS)

deps:
	@sh mk/deps.sh build

# Objects depend on the flags they were built with, so WERROR/SANITIZE changes rebuild them.
FLAGS_NOW = $(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS)
$(O)/.flags: FORCE | $(O)/.deps-build
	@echo '$(FLAGS_NOW)' | cmp -s - $@ || echo '$(FLAGS_NOW)' > $@
FORCE:

$(O)/%.o: %.c $(O)/.flags | $(O)/.deps-build
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(ALL_CFLAGS) -c -o $@ $<

# Install build dependencies once per build directory (a stamp, so `make` stays fast).
$(O)/.deps-build: mk/deps.sh
	@sh mk/deps.sh build
	@mkdir -p $(O) && touch $@

$(O)/gen/templates.c: $(TMPL) mk/embed.sh
	@mkdir -p $(@D)
	sh mk/embed.sh $(TMPL) > $@.tmp && mv $@.tmp $@

$(O)/gen/templates.o: $(O)/gen/templates.c $(O)/.flags
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(O)/gen/serve_assets.c: $(ASSETS) mk/embed.sh
	@mkdir -p $(@D)
	sh mk/embed.sh -a serve_assets $(ASSETS) > $@.tmp && mv $@.tmp $@

$(O)/gen/serve_assets.o: $(O)/gen/serve_assets.c $(O)/.flags
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(O)/libcommon.a: $(COMMON_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(O)/libinventory.a: $(INV_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

# Libraries in link order: a lib/ library before libcommon.a, which it uses.
LIBS_OWN := $(O)/libinventory.a $(O)/libcommon.a

$(O)/hagen: $(HAGEN_OBJ) $(LIBS_OWN) | $(O)/.layers
	$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) $(LIBS)

$(O)/halog: $(HALOG_OBJ) $(LIBS_OWN) | $(O)/.layers
	$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) $(LIBS)

# The layer rule (mk/layers.sh): an include that goes up a layer fails the build.
$(O)/.layers: mk/layers.sh $(wildcard common/*.[ch] lib/*/*.[ch] tools/hagen/*.[ch] tools/halog/*/*.[ch])
	@sh mk/layers.sh
	@mkdir -p $(@D) && touch $@

$(O)/sample-app: $(SAMPLE_SRC:%.c=$(O)/%.o) $(O)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

# A unit test links the modules of the tool its name starts with (test_hagen_*, test_halog_*,
# test_inventory_*: lib/inventory alone, test_common_*) and cmocka.
$(O)/tests/test_hagen_%: $(O)/tests/unit/test_hagen_%.o $(HAGEN_LIB) $(LIBS_OWN)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) -lcmocka
$(O)/tests/test_halog_%: $(O)/tests/unit/test_halog_%.o $(HALOG_LIB) $(LIBS_OWN)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) -lcmocka
$(O)/tests/test_common_%: $(O)/tests/unit/test_common_%.o $(O)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) -lcmocka
$(O)/tests/test_inventory_%: $(O)/tests/unit/test_inventory_%.o $(LIBS_OWN)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) -lcmocka

$(O)/helpers/%: $(O)/tests/helpers/%.o $(O)/libcommon.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)
# servebench is a libcurl client itself (not through common/lazylib.h)
$(O)/helpers/servebench: LIBS += $(shell pkg-config --libs libcurl 2>/dev/null)
# storeproto measures the store's block codec as built, so it links it
$(O)/helpers/storeproto: $(O)/tests/helpers/storeproto.o $(O)/tools/halog/store/block.o \
			 $(O)/tools/halog/store/rollup.o $(O)/libcommon.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

# chwide writes rows of an older ClickHouse schema with halog's own encoder, so it links halog
$(O)/helpers/chwide: $(O)/tests/helpers/chwide.o $(HALOG_LIB) $(LIBS_OWN)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

# libFuzzer harnesses: tests/fuzz/fuzz_<tool>_<name>.c, built with clang into build-fuzz/.
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(O)/fuzz/%)
$(O)/fuzz/fuzz_hagen_%: $(O)/tests/fuzz/fuzz_hagen_%.o $(HAGEN_LIB) $(LIBS_OWN)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(LIBS)
$(O)/fuzz/fuzz_halog_%: $(O)/tests/fuzz/fuzz_halog_%.o $(HALOG_LIB) $(LIBS_OWN)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(LIBS)
fuzz-bins: $(FUZZ_BIN)
# halog's headers are named by layer ("store/store.h"); tests and harnesses see them the same way.
$(O)/tools/halog/%.o $(O)/tests/helpers/%.o: CPPFLAGS += -Itools/halog
$(O)/tests/unit/test_halog_%.o $(O)/tests/fuzz/fuzz_halog_%.o: CPPFLAGS += -Itools/halog
$(O)/tests/unit/test_hagen_%.o $(O)/tests/fuzz/fuzz_hagen_%.o: CPPFLAGS += -Itools/hagen

unit: $(UNIT_BIN)

# `make test` runs every test: unit (cmocka), golden cases, end-to-end. Ends with `N passed, N failed`.
test: all unit $(HELPER_BIN)
	@sh mk/deps.sh test
	@O=$(O) sh tests/run.sh $(TESTS)

check:
	$(MAKE) O=build-check WERROR=1 SANITIZE=address,undefined test

demo: all $(HELPER_BIN)
	@sh mk/deps.sh demo
	@O=$(O) sh samples/demo.sh

# the demo, then its store in halog serve on http://127.0.0.1:8690/ until Ctrl-C
demo-serve: demo
	@O=$(O) sh samples/demo-serve.sh

bench: all $(HELPER_BIN)
	@sh mk/deps.sh bench
	@O=$(O) sh bench/run.sh

# `make fuzz FUZZ_SECONDS=60` runs each harness for that long (FUZZ_RUNS=N instead: N inputs
# from a fixed seed, reproducible, as CI does); regression inputs in
# tests/fuzz/regress/<harness>/ are replayed first.
fuzz:
	@sh mk/deps.sh fuzz
	$(MAKE) O=build-fuzz CC=clang FUZZ=1 SANITIZE=address,undefined fuzz-bins
	@O=build-fuzz sh tests/fuzz/run.sh

# The golden and end-to-end cases with every hagen/halog run under valgrind's memcheck
# (no leaks, no errors); built without sanitizers.
memcheck: all unit $(HELPER_BIN)
	@sh mk/deps.sh bench
	@O=$(O) MEMCHECK=1 sh tests/run.sh $(TESTS)

# Debian's haproxy package ships its own /usr/sbin/halog; HALOG_NAME installs ours under
# another name (e.g. `make install HALOG_NAME=halog-db`) when both should stay reachable.
HALOG_NAME ?= halog
install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(O)/hagen $(DESTDIR)$(PREFIX)/bin/hagen
	install -m 0755 $(O)/halog $(DESTDIR)$(PREFIX)/bin/$(HALOG_NAME)
	@if [ -z "$(DESTDIR)" ] && [ "$(HALOG_NAME)" = halog ] && [ -x /usr/sbin/halog ]; then \
		echo "note: $(PREFIX)/bin/halog and Debian's /usr/sbin/halog (HAProxy's log analyser) now"; \
		echo "      share a name; the one earlier in PATH wins (check: type -a halog)."; \
		echo "      'make install HALOG_NAME=halog-db' installs ours under another name."; \
	fi

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/hagen $(DESTDIR)$(PREFIX)/bin/$(HALOG_NAME)

format:
	clang-format -i common/*.[ch] lib/*/*.[ch] tools/hagen/*.[ch] tools/halog/*/*.[ch] tests/unit/*.c

# Removes what this Makefile builds: the build dir, make check's and make fuzz's.
clean:
	rm -rf $(O) build-check build-fuzz

-include $(shell find $(O) -name '*.d' 2>/dev/null)
