# launch.mk -- lumos-launch (src/helpers/launch_main.c), the small static
# program that places an instance ahead of need: a launcher parked in its
# own cgroup, which execs the runtime when a start asks for it
# (docs/cold-start.md). Static and without the sanitizers, like the AoT
# runner: it is exec'd ahead of every start, and the runtime's exec from it
# is counted in every cold start.

LAUNCH_BIN := $(BUILD)/libexec/lumos-launch
LAUNCH_OBJ := $(BUILD)/obj/launch/src/helpers/launch_main.o

$(LAUNCH_OBJ): src/helpers/launch_main.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (launcher)"
	$(Q)$(CC) $(CPPFLAGS) $(filter-out $(SAN),$(CFLAGS)) -c -o $@ $<

$(LAUNCH_BIN): $(LAUNCH_OBJ)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) -static -o $@ $^

LIBEXEC += $(LAUNCH_BIN)
