# telemetry.mk -- the telemetry benchmark: ns per call of lm_telemetry_read
# against a kept-open handle's sample and sample_and_reset, on a real cgroup
# (bench/telemetry_cost.c). Built by the Makefile's generic $(BUILD)/bench/%
# rule; this names it as a target.

.PHONY: telemetry-bench
telemetry-bench: $(BUILD)/bench/telemetry_cost
bench-tools: $(BUILD)/bench/telemetry_cost
