# interp.mk -- the wasm-interp-wabt runtime's helper program, lumos-wasm-interp-wabt: the
# wabt interpreter (Debian's static libwabt.a) with Lumos' WASI host (liblmwasi.a, from
# mk/wasi.mk), with its --fuzz-exec mode (wasm_interp_fuzz.cc, the differential fuzzing's
# oracle), and the hand-written .wat modules its tests run.

INTERP_BIN := $(BUILD)/libexec/lumos-wasm-interp-wabt
INTERP_OBJ := $(BUILD)/obj/src/helpers/wasm_interp.o $(BUILD)/obj/src/helpers/wasm_interp_fuzz.o
INTERP_WASI := $(BUILD)/libexec/liblmwasi.a
INTERP_WABT := /usr/lib/x86_64-linux-gnu/libwabt.a
# C++ takes the project's warnings except the C-only ones.
INTERP_CXXFLAGS := -std=c++17 -O2 -g $(filter-out -Wstrict-prototypes -Wmissing-prototypes,$(WARN)) \
                   $(SAN)
# A fully static helper also runs in a scratch container; the sanitizers need the dynamic
# runtime, so the sanitizer build links dynamically.
ifeq ($(SAN),)
INTERP_LDFLAGS := -static
endif

$(INTERP_OBJ): $(BUILD)/obj/%.o: %.cc
	@mkdir -p $(dir $@)
	@echo "  CXX     $<"
	$(Q)g++ -D_GNU_SOURCE -Isrc -MMD -MP $(INTERP_CXXFLAGS) -c -o $@ $<

$(INTERP_BIN): $(INTERP_OBJ) $(INTERP_WASI) $(INTERP_WABT)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)g++ $(INTERP_LDFLAGS) $(SAN) -o $@ $^

LIBEXEC += $(INTERP_BIN)

# Test modules: tests/wasm/interp_*.wat -> $(BUILD)/tests/wasm/*.wasm (built with the unit
# tests; tests/integration/test_wasm_interp.sh uses them).
INTERP_TEST_WASM := $(patsubst tests/wasm/%.wat,$(BUILD)/tests/wasm/%.wasm,\
                      $(wildcard tests/wasm/interp_*.wat))

$(INTERP_TEST_WASM): $(BUILD)/tests/wasm/%.wasm: tests/wasm/%.wat
	@mkdir -p $(dir $@)
	@echo "  WAT2WASM $<"
	$(Q)wat2wasm -o $@ $<

test-unit: $(INTERP_TEST_WASM)
