// wasm_interp.cc -- lumos-wasm-interp-wabt: runs one WASI command module in the wabt
// interpreter (libwabt), its "wasi_snapshot_preview1" imports served by Lumos' own WASI host
// (src/wasi). The wasm-interp-wabt runtime's helper; Lumos' own interpreter (lumos-interp)
// has the same command line.
//
// Usage: lumos-wasm-interp-wabt [--dir HOST::GUEST]... [--env K=V]... [--] MODULE.wasm [ARGS...]
//        lumos-wasm-interp-wabt --fuzz-exec MODULE.wasm   (wasm_interp_fuzz.cc)
// Exit status: the guest's (proc_exit, or 0 when _start returns); 134 after a trap (printed
// as "lumos: wasm trap: MESSAGE"); 3 when the module cannot be loaded, linked or started;
// 2 for a bad command line.
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include <wabt/binary-reader.h>
#include <wabt/config.h>
#include <wabt/error.h>
#include <wabt/interp/binary-reader-interp.h>
#include <wabt/interp/interp.h>

extern "C" {
#include "proto/mark.h"
#include "wasi/wasi.h"
}
#include "helpers/wasm_interp_fuzz.h"

using namespace wabt;
using namespace wabt::interp;

namespace {

enum { EXIT_USAGE = 2, EXIT_LOAD = 3, EXIT_TRAP = 134 };
// The most parameters a preview1 function has is 9 (path_open).
constexpr size_t kMaxParams = 16;

struct Options {
    std::vector<std::string> dir_host, dir_guest;
    std::vector<std::string> env;
    const char *module = nullptr;
    std::vector<char *> args; // guest argv, argv[0] = the module path as given (as node does)
};

// What every host call needs: the WASI host and the instance's memory, which exists only
// after instantiation (the import functions are made before it).
struct Host {
    lm_wasi *wasi = nullptr;
    Memory::Ptr memory;
};

[[noreturn]] void die(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void die(int status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    std::fputs("lumos: ", stderr);
    std::vfprintf(stderr, fmt, ap);
    std::fputc('\n', stderr);
    va_end(ap);
    std::exit(status);
}

[[noreturn]] void usage(const char *why) {
    std::fprintf(stderr,
                 "lumos-wasm-interp-wabt: %s\nusage: lumos-wasm-interp-wabt [--dir HOST::GUEST]... "
                 "[--env K=V]... [--] MODULE.wasm [ARGS...]\n"
                 "       lumos-wasm-interp-wabt --fuzz-exec MODULE.wasm\n",
                 why);
    std::exit(EXIT_USAGE);
}

Options parse_args(int argc, char **argv) {
    Options o;
    int i = 1;
    for (; i < argc; i++) {
        std::string a = argv[i];
        if (a == "--") {
            i++;
            break;
        }
        if (a == "--version") {
            std::printf("lumos-wasm-interp-wabt (wabt %s interpreter)\n", WABT_VERSION_STRING);
            std::exit(0);
        }
        if (a == "--help" || a == "-h") {
            std::printf("usage: lumos-wasm-interp-wabt [--dir HOST::GUEST]... [--env K=V]... [--] "
                        "MODULE.wasm [ARGS...]\n"
                        "       lumos-wasm-interp-wabt --fuzz-exec MODULE.wasm\n"
                        "--fuzz-exec runs a binaryen -ttf module's exports and prints what they "
                        "did (docs/wasm-interp-wabt.md)\n");
            std::exit(0);
        }
        if (a == "--fuzz-exec") {
            if (i + 2 != argc) usage("--fuzz-exec takes one module and nothing else");
            std::exit(lm_wabt_fuzz_exec(argv[i + 1]));
        }
        if (a.rfind("--", 0) != 0) break;
        if (i + 1 >= argc) usage(("option " + a + " needs a value").c_str());
        std::string v = argv[++i];
        if (a == "--dir") {
            size_t sep = v.find("::");
            o.dir_host.push_back(sep == std::string::npos ? v : v.substr(0, sep));
            o.dir_guest.push_back(sep == std::string::npos ? v : v.substr(sep + 2));
        } else if (a == "--env") {
            if (v.find('=') == std::string::npos) usage(("--env " + v + ": expected K=V").c_str());
            o.env.push_back(v);
        } else {
            usage(("unknown option " + a).c_str());
        }
    }
    if (i >= argc) usage("no module given");
    o.module = argv[i];
    for (; i < argc; i++)
        o.args.push_back(argv[i]);
    return o;
}

std::vector<uint8_t> read_module(const char *path) {
    FILE *f = std::fopen(path, "rb");
    if (!f) die(EXIT_LOAD, "cannot read %s: %s", path, std::strerror(errno));
    std::vector<uint8_t> data;
    uint8_t buf[65536];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0)
        data.insert(data.end(), buf, buf + n);
    int bad = std::ferror(f);
    std::fclose(f);
    if (bad) die(EXIT_LOAD, "cannot read %s: %s", path, std::strerror(errno));
    return data;
}

ValueTypes types_of(const char *letters) {
    ValueTypes t;
    for (const char *c = letters; *c; c++)
        t.push_back(*c == 'I' ? Type::I64 : Type::I32);
    return t;
}

std::string describe(const FuncType &t) {
    std::string s = "(";
    for (size_t i = 0; i < t.params.size(); i++)
        s += (i ? ", " : "") + t.params[i].GetName();
    s += ") -> (";
    for (size_t i = 0; i < t.results.size(); i++)
        s += (i ? ", " : "") + t.results[i].GetName();
    return s + ")";
}

// One WASI call: widens the arguments to 64 bits and passes the memory as it is now
// (memory.grow may have moved it since the last call).
void call_wasi(Host *host, const lm_wasi_func *wf, const Values &params, Values &results) {
    uint64_t args[kMaxParams];
    for (size_t i = 0; wf->params[i]; i++)
        args[i] = wf->params[i] == 'I' ? params[i].Get<u64>() : params[i].Get<u32>();
    lm_wasi_mem mem = {nullptr, 0};
    if (host->memory) {
        mem.base = host->memory->UnsafeData();
        mem.size = host->memory->ByteSize();
    }
    uint32_t rc = wf->fn(host->wasi, mem, args);
    if (!results.empty()) results[0] = Value::Make(rc);
}

// Resolves every import to the WASI host, or names each one it cannot resolve and exits.
RefVec bind_imports(Store &store, const Module::Ptr &mod, Host *host, const char *path) {
    RefVec refs;
    std::string errors;
    for (const ImportType &imp : mod->import_types()) {
        std::string name = imp.module + "." + imp.name;
        const lm_wasi_func *wf =
            imp.module == "wasi_snapshot_preview1" ? lm_wasi_find(imp.name.c_str()) : nullptr;
        if (!wf) {
            errors += "\n  import " + name + " (" + GetName(imp.type->kind) + "): " +
                      (imp.module == "wasi_snapshot_preview1"
                           ? "WASI preview1 has no such function"
                           : "not provided; Lumos provides only wasi_snapshot_preview1 functions");
            refs.push_back(Ref::Null);
            continue;
        }
        FuncType want(types_of(wf->params), types_of(wf->results));
        const auto *have = dyn_cast<FuncType>(imp.type.get());
        if (!have || have->params != want.params || have->results != want.results ||
            want.params.size() > kMaxParams) {
            errors += "\n  import " + name + ": declared as " +
                      (have ? "func " + describe(*have) : std::string(GetName(imp.type->kind))) +
                      ", but WASI preview1 has func " + describe(want);
            refs.push_back(Ref::Null);
            continue;
        }
        auto fn = [host, wf](Thread &, const Values &params, Values &results, Trap::Ptr *) {
            call_wasi(host, wf, params, results);
            return Result::Ok;
        };
        refs.push_back(HostFunc::New(store, std::move(want), fn).ref());
    }
    if (!errors.empty()) die(EXIT_LOAD, "cannot link %s:%s", path, errors.c_str());
    return refs;
}

// The index of the export named name of kind, or -1.
int find_export(const Module::Ptr &mod, const char *name, ExternKind kind) {
    const auto &exports = mod->export_types();
    for (size_t i = 0; i < exports.size(); i++)
        if (exports[i].name == name && exports[i].type->kind == kind) return (int)i;
    return -1;
}

// A function instance's runner reports its cold start's marks on the channel (LUMOS_MARKS,
// set by lumos); a plain command does not.
bool marks = false;

int run(const Options &o) {
    uint64_t load_ns = lm_mark_now();
    std::vector<uint8_t> bytes = read_module(o.module);
    Store store;
    Errors errors;
    ModuleDesc desc;
    // Debug names are not needed (no traces printed); a damaged custom section is ignored as
    // engines do. ReadBinaryInterp validates the module as well.
    ReadBinaryOptions ropts(store.features(), nullptr, false, true, false);
    if (Failed(ReadBinaryInterp(o.module, bytes.data(), bytes.size(), ropts, &errors, &desc))) {
        std::string msg;
        for (const Error &e : errors) {
            char at[48];
            std::snprintf(at, sizeof(at), " (at byte 0x%zx)", e.loc.offset);
            msg += "\n  " + e.message + at;
        }
        die(EXIT_LOAD, "cannot load %s: not a valid WebAssembly module:%s", o.module,
            msg.empty() ? " (no detail)" : msg.c_str());
    }
    Module::Ptr mod = Module::New(store, std::move(desc));
    if (marks) {
        uint64_t kinds[2] = {LM_MARK_LOAD_BEGIN, LM_MARK_LOADED}, ts[2] = {load_ns, lm_mark_now()};
        uint8_t frame[LM_FRAME_HEADER + 2 * LM_MARK_RECORD];
        size_t n = lm_mark_frame(frame, kinds, ts, 2);
        if (write(1, frame, n) != (ssize_t)n) marks = false;
    }

    int start = find_export(mod, "_start", ExternKind::Func);
    if (start < 0)
        die(EXIT_LOAD, "cannot run %s: it exports no _start function (not a WASI command module)",
            o.module);
    const auto *start_type = cast<FuncType>(mod->export_types()[start].type.get());
    if (!start_type->params.empty() || !start_type->results.empty())
        die(EXIT_LOAD, "cannot run %s: its _start is func %s, expected () -> ()", o.module,
            describe(*start_type).c_str());

    Host host;
    RefVec imports = bind_imports(store, mod, &host, o.module);

    std::vector<lm_wasi_dir> dirs;
    for (size_t i = 0; i < o.dir_host.size(); i++)
        dirs.push_back({o.dir_host[i].c_str(), o.dir_guest[i].c_str()});
    std::vector<char *> env;
    for (const std::string &e : o.env)
        env.push_back(const_cast<char *>(e.c_str()));
    env.push_back(nullptr);
    std::vector<char *> args = o.args;
    args.push_back(nullptr);
    lm_wasi_config cfg = {};
    cfg.argc = (int)o.args.size();
    cfg.argv = args.data();
    cfg.env = env.data();
    cfg.dirs = dirs.data();
    cfg.ndirs = (int)dirs.size();
    cfg.stdin_fd = 0;
    cfg.stdout_fd = 1;
    cfg.stderr_fd = 2;
    char err[LM_WASI_ERRLEN] = "";
    host.wasi = lm_wasi_new(&cfg, err);
    if (!host.wasi) die(EXIT_LOAD, "cannot run %s: %s", o.module, err);

    Trap::Ptr trap;
    Instance::Ptr inst = Instance::Instantiate(store, mod.ref(), imports, &trap);
    int status = 0;
    if (!inst) {
        std::fprintf(stderr, "lumos: cannot instantiate %s: %s\n", o.module,
                     trap ? trap->message().c_str() : "unknown error");
        status = EXIT_LOAD;
    } else {
        int mem = find_export(mod, "memory", ExternKind::Memory);
        if (mem >= 0) host.memory = store.UnsafeGet<Memory>(inst->exports()[mem]);
        Func::Ptr fn = store.UnsafeGet<Func>(inst->exports()[start]);
        Values params, results;
        if (Failed(fn->Call(store, params, results, &trap))) {
            std::fprintf(stderr, "lumos: wasm trap: %s\n",
                         trap ? trap->message().c_str() : "unknown trap");
            status = EXIT_TRAP;
        }
    }
    lm_wasi_free(host.wasi);
    return status;
}

} // namespace

int main(int argc, char **argv) {
    uint64_t main_ns = lm_mark_now();
    marks = std::getenv("LUMOS_MARKS") != nullptr;
    if (marks) lm_mark_write(1, LM_MARK_PROGRAM, main_ns);
    Options o = parse_args(argc, argv);
    try {
        return run(o);
    } catch (const std::bad_alloc &) {
        // wabt grows linear memory and its stacks with std::vector.
        std::fputs("lumos: wasm trap: out of memory\n", stderr);
        return EXIT_TRAP;
    }
}
