# lmi.mk -- Lumos' own interpreter (src/interp) as liblminterp.a; its helper program
# lumos-interp (src/helpers/interp_main.c, the same command line as lumos-wasm-interp, with
# Lumos' WASI host; static outside the sanitizer build); the spec test runner
# (tests/interp/spec_runner.c) that tests/integration/test_interp_spec.sh runs on
# ../shared/wasm-spec-tests; and bench/interp_load (load time and memory per module).

LMI_SRC := $(wildcard src/interp/*.c)
LMI_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(LMI_SRC))
LMI_LIB := $(BUILD)/liblminterp.a
LMI_BIN := $(BUILD)/libexec/lumos-interp
LMI_SPEC := $(BUILD)/tests/interp_spec

$(LMI_LIB): $(LMI_OBJ)
	@mkdir -p $(dir $@)
	@rm -f $@
	@echo "  AR      $@"
	$(Q)ar rcs $@ $^

# Fully static, as lumos-wasm-interp-wabt is, so that container+wasm-interp can put it in a
# scratch image; the sanitizers need the dynamic runtime, so the sanitizer build links it
# dynamically.
ifeq ($(SAN),)
LMI_LDFLAGS := -static
endif

# liblmwasi.a by name: mk/wasi.mk, which defines WASI_LIB, is read after this file.
$(LMI_BIN): $(BUILD)/obj/src/helpers/interp_main.o $(LMI_LIB) $(BUILD)/libexec/liblmwasi.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) $(LMI_LDFLAGS) -o $@ $^ -lm

$(LMI_SPEC): $(BUILD)/obj/tests/interp/spec_runner.o $(LMI_LIB)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ -ljansson -lm

LIBEXEC += $(LMI_BIN)
test-unit: $(LMI_SPEC)

# bench/interp_load: decode+validate+translate time and memory per module (bench/runtimes
# runs it on every built function module).
LMI_LOAD_BENCH := $(BUILD)/bench/interp_load

$(LMI_LOAD_BENCH): $(BUILD)/obj/bench/interp_load.o $(LMI_LIB)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ -lm

bench-tools: $(LMI_LOAD_BENCH)
