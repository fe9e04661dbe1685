# launch.mk -- lumos-launch (src/helpers/launch_main.c), the small static
# program between lumos and an instance's runtime: launchers parked in their
# cgroup ahead of need, and containers started as `runc create` and `runc
# start` with their marks (docs/cold-start.md). Static and without the
# sanitizers, like the AoT runner: it is exec'd on every start, and its own
# start-up is counted in every cold start.

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
