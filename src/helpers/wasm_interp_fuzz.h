// wasm_interp_fuzz.h -- lumos-wasm-interp-wabt --fuzz-exec: the wabt side of the interpreters'
// differential fuzzing (docs/wasm-interp-wabt.md has the output format, which lumos-interp
// --fuzz-exec prints too).
#ifndef LM_WASM_INTERP_FUZZ_H
#define LM_WASM_INTERP_FUZZ_H

// Loads the binaryen -ttf module at path in the wabt interpreter, its "fuzzing-support" imports
// printing what they are given, calls every exported function in export order with zero
// arguments and prints one line per event on stdout, then its memory's size and hash.
// Returns the exit status: 0 when it ran (traps are events, not failures), 3 when the module
// cannot be read, loaded or linked.
int lm_wabt_fuzz_exec(const char *path);

#endif
