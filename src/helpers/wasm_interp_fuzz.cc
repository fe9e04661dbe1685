// wasm_interp_fuzz.cc -- lumos-wasm-interp-wabt --fuzz-exec MODULE.wasm: runs a module made by
// binaryen's `wasm-opt -ttf` in the wabt interpreter and prints what happened, one event a line
// (the format is in docs/wasm-interp-wabt.md; lumos-interp --fuzz-exec prints the same, and
// tests/fuzz/run_interp_diff compares the two):
//   log i32 -7                      a fuzzing-support log-TYPE import was called
//   call NAME -> i32 5 f64 0x...    an export returned (its results, in order)
//   call NAME trap KIND             an export trapped (KIND normalised, see trap_kind)
//   memory PAGES HASH               at the end: memory 0's size and FNV-1a 64 of its bytes
// Integers print as signed decimal, floats as their bit patterns in hex, every NaN as the
// canonical one of its type, so NaN payloads (which the spec leaves open) never differ.
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <wabt/binary-reader.h>
#include <wabt/error.h>
#include <wabt/interp/binary-reader-interp.h>
#include <wabt/interp/interp.h>

#include "helpers/wasm_interp_fuzz.h"

using namespace wabt;
using namespace wabt::interp;

namespace {

enum { EXIT_LOAD = 3 };

bool read_file(const char *path, std::vector<uint8_t> *out) {
    FILE *f = std::fopen(path, "rb");
    if (!f) return false;
    uint8_t buf[65536];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0)
        out->insert(out->end(), buf, buf + n);
    bool ok = !std::ferror(f);
    std::fclose(f);
    return ok;
}

std::string f32_bits(f32 v) {
    uint32_t b;
    std::memcpy(&b, &v, sizeof b);
    if ((b & 0x7f800000u) == 0x7f800000u && (b & 0x007fffffu)) b = 0x7fc00000u;
    char s[16];
    std::snprintf(s, sizeof s, "0x%08" PRIx32, b);
    return s;
}

std::string f64_bits(f64 v) {
    uint64_t b;
    std::memcpy(&b, &v, sizeof b);
    if ((b & 0x7ff0000000000000ull) == 0x7ff0000000000000ull && (b & 0x000fffffffffffffull))
        b = 0x7ff8000000000000ull;
    char s[24];
    std::snprintf(s, sizeof s, "0x%016" PRIx64, b);
    return s;
}

// "i32 -7", "f32 0x7fc00000"; types the fuzzing subset does not use print by name alone.
std::string show(ValueType t, const Value &v) {
    switch (t) {
    case Type::I32: return "i32 " + std::to_string(static_cast<int32_t>(v.Get<u32>()));
    case Type::I64: return "i64 " + std::to_string(static_cast<int64_t>(v.Get<u64>()));
    case Type::F32: return "f32 " + f32_bits(v.Get<f32>());
    case Type::F64: return "f64 " + f64_bits(v.Get<f64>());
    default: return std::string(t.GetName()) + " ?";
    }
}

// wabt's trap message as one of the classes both interpreters agree on. wabt says "undefined
// table index" for a call_indirect past the table and "uninitialized table element" for a
// null entry: both are "undefined element" (wasm2c does not tell them apart either).
std::string trap_kind(const std::string &msg) {
    static const struct {
        const char *has, *kind;
    } kinds[] = {
        {"unreachable", "unreachable"},
        {"divide by zero", "integer divide by zero"},
        {"integer overflow", "integer overflow"},
        {"invalid conversion", "invalid conversion"},
        {"out of bounds memory", "out of bounds memory"},
        {"undefined table index", "undefined element"},
        {"uninitialized", "undefined element"},
        {"out of bounds table", "out of bounds table"},
        {"signature mismatch", "indirect call type mismatch"},
        {"exhausted", "call stack exhausted"},
    };
    for (const auto &k : kinds)
        if (msg.find(k.has) != std::string::npos) return k.kind;
    return "other: " + msg;
}

// The imports binaryen's -ttf modules use (version 108: fuzzing-support.log-i32, -i64, -f32,
// -f64, each (param T)); NULL ref and a message for anything else.
Ref bind(Store &store, const ImportType &imp, std::string *why) {
    const auto *ft = dyn_cast<FuncType>(imp.type.get());
    bool log = imp.module == "fuzzing-support" && imp.name.rfind("log-", 0) == 0 && ft &&
               ft->params.size() == 1 && ft->results.empty();
    if (!log) {
        *why += "\n  import " + imp.module + "." + imp.name + ": not a fuzzing-support log";
        return Ref::Null;
    }
    ValueType t = ft->params[0];
    auto fn = [t](Thread &, const Values &params, Values &, Trap::Ptr *) {
        std::printf("log %s\n", show(t, params[0]).c_str());
        return Result::Ok;
    };
    return HostFunc::New(store, FuncType(*ft), fn).ref();
}

uint64_t fnv1a64(const uint8_t *p, uint64_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (uint64_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

} // namespace

int lm_wabt_fuzz_exec(const char *path) {
    std::vector<uint8_t> bytes;
    if (!read_file(path, &bytes)) {
        std::fprintf(stderr, "lumos: cannot read %s\n", path);
        return EXIT_LOAD;
    }
    Store store;
    Errors errors;
    ModuleDesc desc;
    ReadBinaryOptions ropts(store.features(), nullptr, false, true, false);
    if (Failed(ReadBinaryInterp(path, bytes.data(), bytes.size(), ropts, &errors, &desc))) {
        std::fprintf(stderr, "lumos: cannot load %s: not a valid WebAssembly module: %s\n", path,
                     errors.empty() ? "(no detail)" : errors[0].message.c_str());
        return EXIT_LOAD;
    }
    Module::Ptr mod = Module::New(store, std::move(desc));
    RefVec imports;
    std::string why;
    for (const ImportType &imp : mod->import_types())
        imports.push_back(bind(store, imp, &why));
    if (!why.empty()) {
        std::fprintf(stderr, "lumos: cannot link %s:%s\n", path, why.c_str());
        return EXIT_LOAD;
    }
    Trap::Ptr trap;
    Instance::Ptr inst = Instance::Instantiate(store, mod.ref(), imports, &trap);
    if (!inst) {
        std::printf("instantiate trap %s\n",
                    trap_kind(trap ? trap->message() : std::string("unknown")).c_str());
        return 0;
    }
    const auto &exports = mod->export_types();
    for (size_t i = 0; i < exports.size(); i++) {
        if (exports[i].type->kind != ExternKind::Func) continue;
        const std::string &name = exports[i].name;
        Func::Ptr fn = store.UnsafeGet<Func>(inst->exports()[i]);
        const FuncType &ft = fn->type();
        Values params, results;
        for (ValueType t : ft.params) {
            Value zero; // all bits 0: 0 of every numeric type
            zero.SetType(t);
            params.push_back(zero);
        }
        trap.reset();
        if (Failed(fn->Call(store, params, results, &trap))) {
            std::printf("call %s trap %s\n", name.c_str(),
                        trap_kind(trap ? trap->message() : std::string("unknown")).c_str());
            continue;
        }
        std::string line = "call " + name + " ->";
        for (size_t r = 0; r < results.size(); r++)
            line += " " + show(ft.results[r], results[r]);
        std::printf("%s\n", line.c_str());
    }
    if (inst->memories().empty()) {
        std::printf("memory none\n");
    } else {
        Memory::Ptr mem = store.UnsafeGet<Memory>(inst->memories()[0]);
        std::printf("memory %" PRIu64 " %016" PRIx64 "\n", mem->PageSize(),
                    fnv1a64(mem->UnsafeData(), mem->ByteSize()));
    }
    return 0;
}
