# Lumos build. `make` builds the lumos command (./lumos) and every function
# artifact; `make test` runs the whole suite on a normal and a sanitizer
# (ASan+UBSan) build. SANITIZE=1 selects the sanitizer build in build-asan/.

BUILD ?= build
# One job per core unless the caller chose -j (CI runs a plain `make test`).
ifeq ($(filter -j%,$(MAKEFLAGS)),)
MAKEFLAGS += -j$(shell nproc)
endif
CC ?= cc
ifeq ($(origin CC),default)
CC := gcc
endif

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
OPT ?= -O2 -g
ifeq ($(SANITIZE),1)
BUILD := build-asan
OPT := -O1 -g -fno-omit-frame-pointer
SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
endif

GEN := $(BUILD)/gen
# `make V=1` shows the full commands.
ifeq ($(V),1)
Q :=
else
Q := @
endif
CPPFLAGS += -D_GNU_SOURCE -Isrc -Isrc/sdk -Isrc/functions -Itests/support -I$(GEN) -MMD -MP
CFLAGS := -std=c11 $(WARN) $(OPT) $(SAN) -ffp-contract=off
LDFLAGS := $(SAN)
HOST_LIBS := -levent -lhiredis -ljansson -lsqlite3 -lcrypto -lm -lpthread
TEST_LIBS := -lcmocka -lssl -lcrypto

# Where the lumos binary finds the sources it compiles functions from.
PATHS := -DLM_SOURCE_DIR=\"$(CURDIR)\" -DLM_GEN_DIR=\"$(CURDIR)/$(GEN)\" \
         -DLM_DEFAULT_LIBEXEC=\"$(CURDIR)/$(BUILD)/libexec\"

# Guest code: the SDK and the functions (libc only), compiled here without
# LM_STANDALONE for the in-process tests of the functions, which link it
# with the host objects; `lumos build` compiles the same files (and proto/)
# into the real native and wasm artifacts. The lumos binary links none of
# it (tests/check_arrows says so). The protocol room (src/proto) is shared:
# it is a host room here, and the guest artifacts compile it themselves.
# functions/catalog.c is the host's list of the functions, not guest code.
HOST_ROOMS := proto channel storage runtime wasi platform observe results data report stats shape \
              cluster builder load trace runner experiment model node functions util deploy
GUEST_SRC := $(wildcard src/sdk/*.c) $(filter-out src/functions/catalog.c,$(wildcard src/functions/*.c)) \
             $(GEN)/lang_profiles.c
CLI_SRC := $(wildcard src/cli/*.c)
HOST_SRC := $(filter-out $(GUEST_SRC),$(foreach r,$(HOST_ROOMS),$(wildcard src/$(r)/*.c)))
CLI_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(CLI_SRC))
GUEST_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(GUEST_SRC:$(GEN)/%=gen/%))
HOST_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(HOST_SRC)) $(BUILD)/obj/gen/lang_words.o
TEST_SUPPORT := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard tests/support/*.c))
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))
EMBED := $(GEN)/node_wasi_host.h $(GEN)/runtimes_json.h $(GEN)/quick_json.h $(GEN)/nodes_json.h

.SECONDARY:
.PHONY: all lumos artifacts bench-tools test test-unit check format format-check fuzz clean
all: lumos artifacts

lumos: $(BUILD)/lumos
ifneq ($(SANITIZE),1)
	@ln -sf $(BUILD)/lumos lumos
endif

artifacts: lumos $(GEN)/lang_profiles.c
ifneq ($(SANITIZE),1)
	@./lumos build --quiet
endif

$(BUILD)/lumos: $(CLI_OBJ) $(HOST_OBJ)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(HOST_LIBS)

$(BUILD)/libguest.a: $(GUEST_OBJ)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(BUILD)/obj/gen/%.o: $(GEN)/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -Wno-missing-prototypes -c -o $@ $<

$(BUILD)/obj/%.o: %.c | $(EMBED)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(PATHS) $(CFLAGS) -c -o $@ $<

# Generated sources. The language profiles (and the data generator's word
# lists) are rebuilt only when the generator, the sources list or one of the
# catalogs it names changes: the generator writes that list of catalogs as a
# make fragment (lang_profiles.d).
$(GEN)/lang_profiles.c: $(BUILD)/lang_profiles_gen tools/lang_sources.txt
	@mkdir -p $(GEN)
	@echo "  GEN     $@"
	$(Q)$(BUILD)/lang_profiles_gen tools/lang_sources.txt $@.tmp $(GEN)/lang_words.c.tmp \
	  $(GEN)/lang_profiles.d.tmp && mv $(GEN)/lang_words.c.tmp $(GEN)/lang_words.c && \
	  mv $(GEN)/lang_profiles.d.tmp $(GEN)/lang_profiles.d && mv $@.tmp $@

$(GEN)/lang_words.c: $(GEN)/lang_profiles.c ;

-include $(GEN)/lang_profiles.d

LANG_GEN_SRC := tools/lang_profiles_gen.c tools/lang_catalog.c tools/lang_l10n.c tools/lang_translit.c src/sdk/text.c
$(BUILD)/lang_profiles_gen: $(LANG_GEN_SRC) tools/lang_catalog.h src/functions/lang_profiles.h
	@mkdir -p $(BUILD)
	@echo "  CC      $@"
	$(Q)$(CC) -std=c11 $(WARN) -O2 -D_GNU_SOURCE -Isrc/sdk -Isrc/functions -Itools -o $@ $(LANG_GEN_SRC)

$(GEN)/node_wasi_host.h: src/runtime/node_wasi_host.mjs scripts/embed.sh
	@mkdir -p $(GEN)
	scripts/embed.sh lm_node_wasi_host $< > $@.tmp && mv $@.tmp $@

$(GEN)/quick_json.h: experiments/quick.json scripts/embed.sh
	@mkdir -p $(GEN)
	scripts/embed.sh lm_quick_json $< > $@.tmp && mv $@.tmp $@

$(GEN)/nodes_json.h: config/nodes.json scripts/embed.sh
	@mkdir -p $(GEN)
	scripts/embed.sh lm_nodes_json $< > $@.tmp && mv $@.tmp $@

$(GEN)/runtimes_json.h: config/runtimes.json scripts/embed.sh
	@mkdir -p $(GEN)
	scripts/embed.sh lm_runtimes_json $< > $@.tmp && mv $@.tmp $@

# Language detection's held-out test set: passages from the manpages-*
# packages and held-out catalogs that tools/lang_sources.txt names (never
# trained on); the unit test reads it.
$(GEN)/lang_heldout.tsv: tools/lang_heldout.py tools/lang_sources.txt
	@mkdir -p $(GEN)
	@echo "  GEN     $@"
	$(Q)python3 tools/lang_heldout.py tools/lang_sources.txt $@.tmp && mv $@.tmp $@

$(BUILD)/tests/test_language_detection: | $(GEN)/lang_heldout.tsv

# Tests: every tests/unit/test_*.c is one cmocka program.
$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(TEST_SUPPORT) $(HOST_OBJ) $(BUILD)/libguest.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(HOST_LIBS) $(TEST_LIBS)

test-unit: $(UNIT_TESTS)

# Benchmarks (not tests): bench/functions and friends build what they need.
bench-tools: $(BUILD)/bench/channel_rtt $(BUILD)/bench/start_time $(BUILD)/bench/http_trivial

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(HOST_OBJ) $(BUILD)/libguest.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(HOST_LIBS)

test: all
	$(MAKE) SANITIZE=1 lumos test-unit
	$(MAKE) test-unit
	tests/run

# run_interp_diff exits 77 while lumos-interp is not built (nothing to compare with wabt).
fuzz:
	tests/fuzz/run $(FUZZ_SECONDS)
	tests/fuzz/run_service_config $(FUZZ_SECONDS)
	tests/fuzz/run_spec $(FUZZ_SECONDS)
	tests/fuzz/run_trace $(FUZZ_SECONDS)
	tests/fuzz/run_rfc3339 $(FUZZ_SECONDS)
	tests/fuzz/run_http_resp $(FUZZ_SECONDS)
	tests/fuzz/run_model_target $(FUZZ_SECONDS)
	tests/fuzz/run_deploy $(FUZZ_SECONDS)
	tests/fuzz/run_shape $(FUZZ_SECONDS)
	tests/fuzz/run_nodes $(FUZZ_SECONDS)
	tests/fuzz/run_interp_load $(FUZZ_SECONDS)
	tests/fuzz/run_kn_names $(FUZZ_SECONDS)
	tests/fuzz/run_interp_diff $(FUZZ_SECONDS) || [ $$? -eq 77 ]

format:
	clang-format -i $$(git ls-files '*.c' '*.h' '*.cc')

format-check:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h' '*.cc')

clean:
	rm -rf build build-asan lumos

# Each room may add its own rules in mk/NAME.mk (helper programs, libraries
# for runtimes); they see every variable above and add their products to
# LIBEXEC (built by `make lumos`).
LIBEXEC :=
-include $(sort $(wildcard mk/*.mk))
lumos: $(LIBEXEC)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
