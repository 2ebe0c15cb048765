# sealgate - top-level Makefile.
#   make            build build/sealgate
#   make run        install, build, start private PostgreSQL + gateway (demo)
#   make check      install, build, run every test
#   make asan       build with ASan+UBSan into build-asan/ and run the tests
#   make fuzz       build libFuzzer targets (clang) and smoke-run them
#   make lint       banned-function check
#   make bench      throughput and latency against a private Postfix

BUILD    ?= build
CC       ?= cc
PKGS      = openssl libpq gpgme gmime-3.0 libmicrohttpd
# system headers (glib's among them) as -isystem: -Werror is for our code
PKG_CFLAGS := $(patsubst -I%,-isystem %,$(shell pkg-config --cflags $(PKGS) 2>/dev/null))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN      = -Wall -Wextra -Werror -Wformat=2 -Wvla -Wshadow -Wno-unused-parameter
HARDEN    = -O2 -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
SAN_FLAGS =
CFLAGS   ?= $(HARDEN) -g
ALL_CFLAGS = -std=gnu11 $(WARN) $(CFLAGS) $(SAN_FLAGS) -I. -Igateway -Idb \
	     -Icrypto -Iescrow-web $(PKG_CFLAGS) -MMD -MP
LDFLAGS  ?= -pie -Wl,-z,relro,-z,now
LIBS      = $(PKG_LIBS) -lunbound -lcurl -lz -lpthread

# Components: every .c in these folders except the CLI entry point.
LIB_SRCS     = $(wildcard gateway/lib/*.c)
GATEWAY_SRCS = $(filter-out gateway/main.c,$(wildcard gateway/*.c))
CRYPTO_SRCS  = $(wildcard crypto/*.c)
DB_SRCS      = $(wildcard db/*.c)
WEB_SRCS     = $(wildcard escrow-web/*.c)
CORE_SRCS    = $(LIB_SRCS) $(GATEWAY_SRCS) $(CRYPTO_SRCS) $(DB_SRCS) $(WEB_SRCS)
MIGRATIONS   = $(sort $(wildcard db/migrations/*.sql))
GEN_SRCS     = $(BUILD)/gen/migrations.c
CORE_OBJS    = $(CORE_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/gen/migrations.o

UNIT_SRCS    = $(wildcard tests/unit/test_*.c)
UNIT_BINS    = $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRCS    = $(wildcard tests/fuzz/fuzz_*.c)
TOOL_BINS    = $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(wildcard tests/tools/*.c))

.PHONY: all deps run check unit integration asan fuzz fuzz-smoke lint bench clean

all: $(BUILD)/sealgate

deps:
	@./scripts/install-deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# The schema travels inside the binary (db/migrate.h).
$(BUILD)/gen/migrations.c: scripts/embed-sql.sh $(MIGRATIONS)
	@mkdir -p $(dir $@)
	./scripts/embed-sql.sh $@ $(MIGRATIONS)

$(BUILD)/gen/migrations.o: $(BUILD)/gen/migrations.c
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libsg.a: $(CORE_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/sealgate: $(BUILD)/gateway/main.o $(BUILD)/libsg.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libsg.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libsg.a $(LIBS) -lcmocka

$(BUILD)/tools/%: tests/tools/%.c $(BUILD)/libsg.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libsg.a $(LIBS)

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

integration: $(BUILD)/sealgate $(BUILD)/tests/test_queue_db \
	    $(BUILD)/tests/test_dns $(TOOL_BINS) \
	    $(BUILD)/tools/tlsrpt_record
	@BUILD=$(BUILD) ./tests/integration/db_restart.sh
	@BUILD=$(BUILD) ./tests/integration/run-all.sh

run: deps all
	@./scripts/run.sh

check: deps
	@$(MAKE) --no-print-directory all unit
	@$(MAKE) --no-print-directory fuzz-smoke
	@$(MAKE) --no-print-directory integration
	@$(MAKE) --no-print-directory lint

# ASan + UBSan build in its own tree; the same tests run against it.
asan: deps
	@$(MAKE) --no-print-directory BUILD=build-asan \
	    CFLAGS="-O1 -g -fno-omit-frame-pointer" \
	    SAN_FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all" \
	    LDFLAGS="" all unit integration

# Fuzz targets: the core is compiled once with coverage instrumentation
# (fuzzer-no-link) into build-fuzz/libsg.a; each target links against it.
FUZZ_SAN    = -fsanitize=address,undefined
FUZZ_CFLAGS = -std=gnu11 -g -O1 $(FUZZ_SAN) -I. -Igateway -Idb -Icrypto -Iescrow-web \
	$(PKG_CFLAGS)
FUZZ_OBJS   = $(CORE_SRCS:%.c=build-fuzz/obj/%.o) build-fuzz/obj/gen/migrations.o
fuzz: $(FUZZ_SRCS:tests/fuzz/%.c=build-fuzz/%)
build-fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@
build-fuzz/obj/gen/migrations.o: build-fuzz/gen/migrations.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -c $< -o $@
build-fuzz/libsg.a: $(FUZZ_OBJS)
	@rm -f $@
	ar rcs $@ $^
build-fuzz/%: tests/fuzz/%.c build-fuzz/libsg.a
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< build-fuzz/libsg.a \
	    $(PKG_LIBS) -lunbound -lcurl -lz -lpthread
build-fuzz/gen/migrations.c: scripts/embed-sql.sh $(MIGRATIONS)
	@mkdir -p $(dir $@)
	./scripts/embed-sql.sh $@ $(MIGRATIONS)

fuzz-smoke: fuzz
	@./tests/fuzz/smoke.sh

lint:
	@./scripts/lint.sh

# Not part of check: sealgate and a private Postfix side by side.
bench: deps all
	@./scripts/bench.sh

clean:
	rm -rf build build-asan build-fuzz

-include $(CORE_OBJS:.o=.d) $(BUILD)/gateway/main.d
