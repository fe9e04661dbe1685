# store.mk -- the results store's benchmark: the cost of one add_request call
# and the write throughput of a flush (bench/results_bench.c). Built by the
# Makefile's generic $(BUILD)/bench/% rule; this names it as a target.

.PHONY: results-bench
results-bench: $(BUILD)/bench/results_bench
bench-tools: $(BUILD)/bench/results_bench
