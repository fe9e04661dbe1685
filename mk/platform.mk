# platform.mk -- the gateway's benchmark program: the latency `lumos serve`
# adds to a warm request, direct channel against HTTP (bench/gateway_latency.c,
# run by bench/platform). Built by the Makefile's generic $(BUILD)/bench/%
# rule; this names it as a target.

.PHONY: gateway-latency
gateway-latency: $(BUILD)/bench/gateway_latency
bench-tools: $(BUILD)/bench/gateway_latency
