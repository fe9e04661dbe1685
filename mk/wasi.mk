# wasi.mk -- Lumos' WASI preview1 host (src/wasi) as liblmwasi.a for the Wasm
# runners; the wasm-aot runner's precompiled pieces (its main and wasm2c's
# runtime), so each AoT compile builds only the module's own C; and the WASI
# test modules (tests/wasi).

WASI_SRC := $(wildcard src/wasi/*.c)
WASI_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(WASI_SRC))
WASI_LIB := $(BUILD)/libexec/liblmwasi.a
WASM2C_RT := /usr/share/wabt/wasm2c
# The AoT runner's pieces are linked into static executables, which the
# sanitizers cannot be: they take the project's flags without them, and get
# their own copy of the host (the sanitizer build's liblmwasi.a is
# instrumented).
AOT_CFLAGS := $(filter-out $(SAN),$(CFLAGS))
AOT_MAIN := $(BUILD)/libexec/lm-aot-main.o
AOT_RT := $(BUILD)/libexec/wasm-rt-impl.o
AOT_WASI := $(BUILD)/libexec/lm-aot-wasi.a
AOT_WASI_OBJ := $(patsubst %.c,$(BUILD)/obj/aot/%.o,$(WASI_SRC))

$(WASI_LIB): $(WASI_OBJ)
	@mkdir -p $(dir $@)
	@rm -f $@
	@echo "  AR      $@"
	$(Q)ar rcs $@ $^

# Compiled under obj/aot (whose dependency files the Makefile reads), then
# copied into libexec.
$(BUILD)/obj/aot/src/helpers/aot_main.o: AOT_INC := -I$(WASM2C_RT)
$(BUILD)/obj/aot/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (AoT runner)"
	$(Q)$(CC) $(CPPFLAGS) $(AOT_INC) $(AOT_CFLAGS) -c -o $@ $<

$(AOT_WASI): $(AOT_WASI_OBJ)
	@mkdir -p $(dir $@)
	@rm -f $@
	@echo "  AR      $@"
	$(Q)ar rcs $@ $^

$(AOT_MAIN): $(BUILD)/obj/aot/src/helpers/aot_main.o
	@mkdir -p $(dir $@)
	$(Q)cp $< $@

# Third-party code: its own warnings are not ours to fix.
$(AOT_RT): $(WASM2C_RT)/wasm-rt-impl.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) -O2 -g -w -c -o $@ $<

LIBEXEC += $(WASI_LIB) $(AOT_MAIN) $(AOT_RT) $(AOT_WASI)


# Test modules: the conformance program (C, wasm32-wasi) and the
# hand-written out-of-bounds module; tests/integration/test_wasi.sh and
# test_wasm_aot.sh run them.
WASI_TEST_WASM := $(BUILD)/tests/wasi_suite.wasm \
                  $(patsubst tests/wasi/%.wat,$(BUILD)/tests/wasi/%.wasm,$(wildcard tests/wasi/*.wat))

$(BUILD)/tests/wasi_suite.wasm: tests/wasi/wasi_suite.c
	@mkdir -p $(dir $@)
	@echo "  CLANG   $<"
	$(Q)clang --target=wasm32-wasi --sysroot=/usr -O2 -std=c11 -D_GNU_SOURCE $(WARN) -o $@ $<

$(BUILD)/tests/wasi/%.wasm: tests/wasi/%.wat
	@mkdir -p $(dir $@)
	@echo "  WAT2WASM $<"
	$(Q)wat2wasm -o $@ $<

test-unit: $(WASI_TEST_WASM)
