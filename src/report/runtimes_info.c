/* runtimes_info.c -- what each runtime is, and what that means for its
 * numbers, for the report's runtimes section (docs/runtimes.md has the
 * adapters' details). The version of each comes from the database's meta
 * (machine.runtime.NAME), this text from here: a report made on another
 * machine says what ran there. */
#include <string.h>

#include "report/internal.h"

static const struct {
    const char *name, *about;
} about[] = {
    {"native", "The function's static executable run as a plain process in its own cgroup: the "
               "baseline without a sandbox. Its numbers are the machine's and the C compiler's."},
    {"container",
     "The same static executable in an OCI bundle on a scratch base (umoci), run by runc: "
     "namespaces, mounts and a cgroup around the native code. The work inside is native; "
     "what differs is the start (runc create and start) and the image."},
    {"container-slim",
     "As container, on a debian-slim base: the paper's container image. The base adds "
     "megabytes to the image and files to the bundle, not work to a request."},
    {"wasm-aot",
     "The .wasm translated to C by wabt's wasm2c and compiled by gcc -O2, linked with Lumos' "
     "WASI host: ahead-of-time compiled Wasm, near native speed, with the sandbox's bounds "
     "checks and every storage byte copied through WASI into linear memory."},
    {"wasm-interp",
     "The .wasm in Lumos' own interpreter (src/interp), embedded with Lumos' WASI host as "
     "wasm-aot is: each function is validated and translated once, at load, into a compact "
     "internal code run with threaded dispatch, as production interpreters (wasm3, WAMR's "
     "fast interpreter) are built. It stands for the interpreted Wasm people deploy; "
     "wasm-interp-wabt is the reference beside it."},
    {"wasm-interp-wabt",
     "The .wasm in wabt's reference interpreter (libwabt's interp), embedded with Lumos' WASI "
     "host. It is written for correctness, not speed: it decodes and checks every instruction "
     "as it goes, with no JIT and few optimizations, so its compute times are an upper bound "
     "for interpreted Wasm; fast interpreters (wasm3, WAMR's fast interpreter) are several "
     "times faster. Its start is short: there is nothing to compile."},
    {"wasm-jit",
     "The .wasm under V8 (node's WASI), its optimizing tier (TurboFan): compiled when the "
     "module loads, so its start includes node's own and the compilation."},
    {"wasm-baseline",
     "The .wasm under V8 with its baseline compiler only (Liftoff): faster to compile, slower "
     "to run than wasm-jit."},
    {"container+wasm-aot",
     "Kwasm: the AoT-compiled module in a scratch OCI image under runc, the container's start "
     "and the Wasm sandbox together."},
    {"container+wasm-interp",
     "Kwasm: Lumos' interpreter (lumos-interp, linked statically) and the module in a scratch "
     "OCI image under runc."},
    {"container+wasm-interp-wabt",
     "Kwasm: the wabt interpreter and the module in a scratch OCI image under runc."},
    {"wasmtime", "Wasmtime's command line (Cranelift JIT), where installed: an external runtime "
                 "run per instance through its command-line template."},
    {"wasmedge", "WasmEdge's command line, where installed (its AoT mode is the paper's)."},
    {"iwasm", "WAMR's iwasm command line, where installed."},
    {"wasmer", "Wasmer's command line, where installed."},
    {"wasm3", "The wasm3 interpreter's command line, where installed."},
};

const char *lm__report_runtime_about(const char *runtime) {
    for (size_t i = 0; runtime && i < sizeof about / sizeof about[0]; i++)
        if (strcmp(about[i].name, runtime) == 0) return about[i].about;
    return "A runtime this Lumos has no description of (an external runtime of the user's "
           "config): see its version line.";
}
