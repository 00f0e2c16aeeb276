# tcplens -- one plain Makefile. `make demo` and `make test` install what is
# missing on a fresh Debian 12 machine, then build.

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN    := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter
CPPFLAGS += -D_GNU_SOURCE -Iinclude -Isrc -I.
# libpcap is loaded when first needed (src/source/pcap_lazy.c), not linked
LDLIBS  += -ldl -lpthread -lm
PREFIX  ?= /usr/local
DESTDIR ?=

B       ?= build
# V=1 shows whole compiler command lines.
Q       := $(if $(V),,@)
say      = $(if $(V),,@printf '  %-6s %s\n' $(1) $(2);)
LIB_SRCS  := $(shell find src -name '*.c' | sort)
CLI_SRCS  := $(shell find cli -name '*.c' | sort)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
TOOL_SRCS := $(wildcard tests/tools/*.c)
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)

LIB_OBJS  := $(LIB_SRCS:%.c=$(B)/%.o)
CLI_OBJS  := $(CLI_SRCS:%.c=$(B)/%.o)
LIB       := $(B)/libtcplens.a
BIN       := $(B)/tcplens
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/unit/%)
TOOL_BINS := $(TOOL_SRCS:tests/tools/%.c=$(B)/tests/tools/%)

.PHONY: all demo test check unit deps bench fuzz fuzz-run san san-build install clean
all: $(BIN) $(TOOL_BINS)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,$@) $(CC) $(WARN) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(LIB): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(call say,AR,$@) rm -f $@ && ar rcs $@ $^

$(BIN): $(CLI_OBJS) $(LIB)
	$(call say,LD,$@) $(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(CLI_OBJS) $(LIB) $(LDLIBS)

$(B)/tests/unit/%: tests/unit/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(call say,TEST,$@) $(CC) $(WARN) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LIB) $(LDLIBS) -lcmocka

$(B)/tests/tools/%: tests/tools/%.c
	@mkdir -p $(dir $@)
	$(call say,TOOL,$@) $(CC) $(WARN) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LDLIBS)

unit: $(UNIT_BINS)

# Installs missing Debian packages (no-op when present).
deps:
	@tools/install-deps.sh

demo: deps
	$(MAKE) all
	tools/demo.sh $(BIN)

# The whole suite: unit tests, golden/kernel/corpus scripts, the sanitizer
# build over the same suite, and a bounded libFuzzer run.
test: deps
	$(MAKE) all unit
	@tests/run-all.sh $(B)

check: test

# AddressSanitizer + UndefinedBehaviorSanitizer build, then the suite on it.
SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
san: san-build
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  TL_SANITIZER=1 tests/run-tests.sh build/san
san-build:
	$(MAKE) B=build/san CC=clang CFLAGS="$(SAN_FLAGS)" LDFLAGS="$(SAN_FLAGS)" all unit

FUZZ_FLAGS := -O1 -g -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer
FUZZ_BINS  := $(FUZZ_SRCS:tests/fuzz/%.c=build/fuzz/%)
fuzz:
	$(MAKE) B=build/fuzzlib CC=clang CFLAGS="-O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer" build/fuzzlib/libtcplens.a
	$(MAKE) $(FUZZ_BINS)
build/fuzz/%: tests/fuzz/%.c build/fuzzlib/libtcplens.a
	@mkdir -p $(dir $@)
	$(call say,FUZZ,$@) clang $(WARN) $(CPPFLAGS) $(FUZZ_FLAGS) -o $@ $< build/fuzzlib/libtcplens.a $(LDLIBS)

FUZZ_SECONDS ?= 30
fuzz-run: fuzz
	tests/fuzz/run-fuzz.sh $(FUZZ_SECONDS)

bench: deps
	$(MAKE) all
	bench/run-bench.sh $(BIN)

install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/include/tcplens $(DESTDIR)$(PREFIX)/lib \
	  $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 644 doc/tcplens.1 $(DESTDIR)$(PREFIX)/share/man/man1/tcplens.1
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/tcplens
	install -m 644 include/tcplens/*.h $(DESTDIR)$(PREFIX)/include/tcplens/
	install -m 644 $(LIB) $(DESTDIR)$(PREFIX)/lib/

clean:
	rm -rf build

-include $(shell find $(B) -name '*.d' 2>/dev/null)
