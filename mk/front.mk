# front.mk -- lumos-front (src/helpers/front_main.c over src/cluster/front.c),
# the HTTP function front a cluster's pod runs as its entrypoint
# (docs/knative-front.md). It links the host objects (the runtime adapters,
# the channel, the stores), so it runs an instance exactly as `lumos invoke`.

FRONT_BIN := $(BUILD)/libexec/lumos-front
FRONT_OBJ := $(BUILD)/obj/src/helpers/front_main.o

$(FRONT_BIN): $(FRONT_OBJ) $(HOST_OBJ)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(HOST_LIBS)

LIBEXEC += $(FRONT_BIN)
