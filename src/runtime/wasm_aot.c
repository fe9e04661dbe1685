/* wasm_aot.c -- the `wasm-aot` runtime: wasm2c translates the module to C,
 * gcc -O2 compiles it and links it statically with the precompiled runner
 * (src/helpers/aot_main.c), wasm2c's runtime and Lumos' WASI host, all found
 * in the libexec folder. The executable is cached under
 * ARTIFACTS/wasm-aot/cache/<sha256 of the module and of every compile
 * input>, so an unchanged module is compiled once; `lumos build` gives each
 * function a name for it, ARTIFACTS/wasm-aot/<fn>. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "runtime.h"
#include "util/hash.h"
#include "wasi/wasi.h"

#define WASM2C_RT "/usr/share/wabt/wasm2c"
/* The module name given to wasm2c: it prefixes every generated symbol. */
#define MOD "lm"

/* SHA-256, OpenSSL's: the cache key. A module's hash is kept per file
 * identity (see module_hash). A context that OpenSSL could not allocate
 * makes every call a no-op and sha_hex fail. */
typedef struct {
    EVP_MD_CTX *c;
} sha256;

static void sha_init(sha256 *s) {
    s->c = EVP_MD_CTX_new();
    if (s->c && EVP_DigestInit_ex(s->c, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(s->c);
        s->c = NULL;
    }
}

static void sha_add(sha256 *s, const void *data, size_t n) {
    if (s->c && EVP_DigestUpdate(s->c, data, n) != 1) {
        EVP_MD_CTX_free(s->c);
        s->c = NULL;
    }
}

/* Finishes: the digest as 64 hex digits in out, and LM_OK; LM_ERR with err
 * when OpenSSL failed (out of memory). */
static int sha_hex(sha256 *s, char out[65], char *err) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    int ok = s->c && EVP_DigestFinal_ex(s->c, md, &len) == 1 && len == 32;
    EVP_MD_CTX_free(s->c);
    s->c = NULL;
    if (!ok) return lm_errf(err, "wasm-aot: SHA-256 of the cache key failed (out of memory?)");
    for (unsigned i = 0; i < len; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    return LM_OK;
}

/* The precompiled runner pieces in the libexec folder, in link order. */
static const char *const pieces[] = {"lm-aot-main.o", "wasm-rt-impl.o", "lm-aot-wasi.a"};
#define NPIECES 3

/* The compiler's command line, less the paths that differ per build. The
 * same text goes into the cache key. */
static const char *const cc_flags[] = {
    "-O2", "-fno-optimize-sibling-calls", "-ffp-contract=off", "-w", "-I" WASM2C_RT, "-static",
    "-s"};
#define NFLAGS 7

static int available(const lm_runtime *rt, char *err) {
    /* Checked on every start: once everything was there, it stays for the
     * rest of the process (a cold start need not pay six look-ups). */
    static int found;
    if (found) return LM_OK;
    char path[4096];
    if (lm_which("wasm2c", path, sizeof(path)) != LM_OK)
        return lm_errf(err, "wasm2c not found on PATH: run scripts/setup (Debian package wabt)");
    if (lm_which("gcc", path, sizeof(path)) != LM_OK)
        return lm_errf(err, "gcc not found on PATH: run scripts/setup (Debian package gcc)");
    if (access(WASM2C_RT "/wasm-rt-impl.h", R_OK) != 0 || access("/usr/include/wasm-rt.h", R_OK))
        return lm_errf(err,
                       "wasm2c's runtime (%s) is missing: run scripts/setup (Debian package "
                       "wabt)",
                       WASM2C_RT);
    for (int i = 0; i < NPIECES; i++) {
        snprintf(path, sizeof(path), "%s/%s", lm_libexec_dir(), pieces[i]);
        if (access(path, R_OK) != 0)
            return lm_errf(err, "the AoT runner piece %s is missing: run make", path);
    }
    found = 1;
    return LM_OK;
}

/* The first line a command prints, or "" (no shell: argv as given). */
static void first_line(char *const argv[], char *out, size_t n) {
    out[0] = 0;
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) return;
    lm_child c;
    if (lm_spawn(argv, NULL, NULL, 0, p[1], &c, NULL) == LM_OK) {
        close(p[1]);
        ssize_t k = read(p[0], out, n - 1);
        out[k > 0 ? k : 0] = 0;
        out[strcspn(out, "\n")] = 0;
        int status;
        lm_child_wait(&c, -1, &status);
    } else {
        close(p[1]);
    }
    close(p[0]);
}

static void version(const lm_runtime *rt, char *out, size_t n) {
    char w[64], g[64];
    char *wv[] = {"wasm2c", "--version", NULL}, *gv[] = {"gcc", "-dumpfullversion", NULL};
    first_line(wv, w, sizeof(w));
    first_line(gv, g, sizeof(g));
    snprintf(out, n, "wasm2c %s + gcc %s", *w ? w : "unknown", *g ? g : "unknown");
}

/* Adds a file's identity (path, size, modification time) to the key: a
 * rebuilt runner piece or a new compiler gives a new key. */
static void add_identity(sha256 *s, const char *path) {
    struct stat st;
    char line[4200];
    int n = stat(path, &st) == 0
                ? snprintf(line, sizeof(line), "%s %lld %lld.%09ld\n", path, (long long)st.st_size,
                           (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec)
                : snprintf(line, sizeof(line), "%s missing\n", path);
    sha_add(s, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

/* The SHA-256 of a module's bytes. Hashing a 300 KB module costs about
 * a millisecond, which would land in every cold start, so the digest is
 * remembered per file identity (device, inode, size, modification time in
 * ns): in this process, and in cache/ids/<FNV-1a of the identity> for the
 * next one (the file holds the identity too, so an FNV collision only
 * costs a rehash). */
static int module_hash(const char *module, const char *cache, char hex[65], char *err) {
    static struct {
        char id[128];
        char hex[65];
    } memo[16];
    static int next;
    struct stat st;
    if (stat(module, &st) != 0)
        return lm_errf(err, "cannot read module %s: %s", module, strerror(errno));
    char id[128], memo_path[4300];
    snprintf(id, sizeof(id), "%llu %llu %lld %lld.%09ld\n", (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino, (long long)st.st_size, (long long)st.st_mtim.tv_sec,
             st.st_mtim.tv_nsec);
    for (int i = 0; i < 16; i++) {
        if (strcmp(memo[i].id, id) == 0) {
            memcpy(hex, memo[i].hex, 65);
            return LM_OK;
        }
    }
    uint64_t fnv = lm_fnv1a64(LM_FNV1A64_INIT, id, strlen(id));
    snprintf(memo_path, sizeof(memo_path), "%s/ids/%016llx", cache, (unsigned long long)fnv);
    size_t idlen = strlen(id), len;
    char *saved = lm_file_read(memo_path, &len, NULL);
    int hit = saved && len == idlen + 64 && memcmp(saved, id, idlen) == 0;
    if (hit) memcpy(hex, saved + idlen, 64), hex[64] = 0;
    free(saved);
    if (!hit) {
        char why[LM_ERRLEN], dir[4200];
        char *bytes = lm_file_read(module, &len, why);
        if (!bytes) return lm_errf(err, "cannot read module %s: %s", module, why);
        sha256 s;
        sha_init(&s);
        sha_add(&s, bytes, len);
        free(bytes);
        if (sha_hex(&s, hex, err) != LM_OK) return LM_ERR;
        char rec[200];
        snprintf(rec, sizeof(rec), "%s%s", id, hex);
        snprintf(dir, sizeof(dir), "%s/ids", cache);
        /* Best effort: without it the next process hashes again. */
        if (lm_mkdirs(dir, NULL) == LM_OK) lm_file_write(memo_path, rec, strlen(rec), NULL);
    }
    int i = next++ % 16;
    memcpy(memo[i].id, id, sizeof(id));
    memcpy(memo[i].hex, hex, 65);
    return LM_OK;
}

/* The cache key: the module's bytes, the compile command, and the
 * identities of the tools and runner pieces. */
static int cache_key(const char *module, const char *cache, char key[65], char *err) {
    char mod[65], path[4096];
    if (module_hash(module, cache, mod, err) != LM_OK) return LM_ERR;
    sha256 s;
    sha_init(&s);
    sha_add(&s, "lumos wasm-aot 2\n", 17); /* 2: the glue has lm_aot_load */
    sha_add(&s, mod, 64);
    sha_add(&s, "wasm2c -n " MOD "\n", strlen("wasm2c -n " MOD "\n"));
    for (int i = 0; i < NFLAGS; i++)
        sha_add(&s, cc_flags[i], strlen(cc_flags[i]) + 1);
    const char *tools[] = {"wasm2c", "gcc"};
    for (int i = 0; i < 2; i++)
        if (lm_which(tools[i], path, sizeof(path)) == LM_OK) add_identity(&s, path);
    for (int i = 0; i < NPIECES; i++) {
        snprintf(path, sizeof(path), "%s/%s", lm_libexec_dir(), pieces[i]);
        add_identity(&s, path);
    }
    return sha_hex(&s, key, err);
}

/* Runs a tool with its output into log; LM_OK when it exits 0, else err
 * gets what it said (its last lines). */
static int run_logged(char *const argv[], const char *log, const char *what, const char *module,
                      char *err) {
    int status;
    if (lm_run_logged(argv, log, &status, err) != LM_OK) return LM_ERR;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return LM_OK;
    char *text = lm_file_read(log, NULL, NULL);
    char *say = text ? text : "";
    size_t len = strlen(say);
    while (len && (say[len - 1] == '\n' || say[len - 1] == ' '))
        say[--len] = 0;
    if (len > 300) say += len - 300; /* the end says most */
    for (char *p = say; *p; p++)
        if (*p == '\n') *p = ' ';
    char how[64];
    lm_describe_status(status, how, sizeof(how));
    lm_errf(err, "cannot compile %s for wasm-aot: %s failed (%s): %s", module, what, how,
            *say ? say : "no message");
    free(text);
    return LM_ERR;
}

/* The prototype wasm2c 1.0.32 writes for an import of wasi function f. */
static void import_proto(const lm_wasi_func *f, char *out, size_t n) {
    size_t len = (size_t)snprintf(out, n,
                                  "%s Z_wasi_snapshot_preview1Z_%s(struct "
                                  "Z_wasi_snapshot_preview1_instance_t*",
                                  *f->results ? "u32" : "void", f->name);
    for (const char *p = f->params; *p && len < n; p++)
        len += (size_t)snprintf(out + len, n - len, ", %s", *p == 'I' ? "u64" : "u32");
    if (len < n) snprintf(out + len, n - len, ");");
}

/* Reads the generated header: every import must be a preview1 function
 * with its preview1 type (the runner defines them; C would link a wrong
 * type silently), and _start must be exported. Sets *has_memory and
 * *takes_wasi (instantiate takes the WASI instance only with imports). */
static int check_header(const char *hpath, const char *module, int *has_memory, int *takes_wasi,
                        char *err) {
    char *h = lm_file_read(hpath, NULL, err);
    if (!h) return LM_ERR;
    static const char instantiate[] = "void Z_" MOD "_instantiate(";
    int rc = LM_OK, has_start = 0;
    *has_memory = *takes_wasi = 0;
    for (char *line = h; line && *line && rc == LM_OK;) {
        char *next = strchr(line, '\n');
        if (next) *next++ = 0;
        char mod[128], name[128];
        if (sscanf(line, "/* import: '%127[^']' '%127[^']' */", mod, name) == 2) {
            const lm_wasi_func *f =
                strcmp(mod, "wasi_snapshot_preview1") == 0 ? lm_wasi_find(name) : NULL;
            char want[512];
            if (f) import_proto(f, want, sizeof(want));
            if (!f)
                rc = lm_errf(err, "cannot run %s: it imports %s.%s, %s", module, mod, name,
                             strcmp(mod, "wasi_snapshot_preview1") == 0
                                 ? "which WASI preview1 does not have"
                                 : "and Lumos provides only wasi_snapshot_preview1 functions");
            else if (!next || strncmp(next, want, strlen(want)) != 0)
                rc = lm_errf(err,
                             "cannot run %s: its import %s.%s does not have the type WASI "
                             "preview1 gives it (params %s)",
                             module, mod, name, *f->params ? f->params : "none");
        } else if (strcmp(line, "/* export: '_start' */") == 0) {
            static const char start[] = "void Z_" MOD "Z__start(Z_" MOD "_instance_t*);";
            if (!next || strncmp(next, start, strlen(start)) != 0)
                rc = lm_errf(err, "cannot run %s: its _start is not a function () -> ()", module);
            has_start = 1;
        } else if (strcmp(line, "/* export: 'memory' */") == 0) {
            *has_memory = 1;
        } else if (strncmp(line, instantiate, strlen(instantiate)) == 0) {
            *takes_wasi = strstr(line, "Z_wasi_snapshot_preview1_instance_t") != NULL;
        }
        line = next;
    }
    free(h);
    if (rc == LM_OK && !has_start)
        rc = lm_errf(err,
                     "cannot run %s: it exports no _start function (not a WASI command "
                     "module)",
                     module);
    return rc;
}

/* The few lines that tie the generated module to the runner (aot_main.c
 * declares them). */
static int append_glue(const char *cpath, int has_memory, int takes_wasi, char *err) {
    FILE *f = fopen(cpath, "a");
    if (!f) return lm_errf(err, "cannot write %s: %s", cpath, strerror(errno));
    fprintf(f,
            "\n/* Lumos wasm-aot glue */\n"
            "struct Z_wasi_snapshot_preview1_instance_t;\n"
            "static Z_" MOD "_instance_t lm_aot_instance;\n"
            "void lm_aot_load(void);\n"
            "wasm_rt_memory_t *lm_aot_instantiate(struct Z_wasi_snapshot_preview1_instance_t *h);\n"
            "void lm_aot_start(void);\n"
            "void lm_aot_load(void) { Z_" MOD "_init_module(); }\n"
            "wasm_rt_memory_t *lm_aot_instantiate(struct Z_wasi_snapshot_preview1_instance_t *h) "
            "{\n"
            "    Z_" MOD "_instantiate(&lm_aot_instance%s);\n"
            "    %s\n"
            "}\n"
            "void lm_aot_start(void) { Z_" MOD "Z__start(&lm_aot_instance); }\n",
            takes_wasi ? ", h" : "",
            has_memory ? "return Z_" MOD "Z_memory(&lm_aot_instance);" : "(void)h; return 0;");
    return fclose(f) == 0 ? LM_OK : lm_errf(err, "cannot write %s", cpath);
}

/* Translates and compiles module into out (in a scratch folder beside it,
 * renamed into place at the end, so a reader never sees half a file and
 * two builders of one key cannot collide). */
static int compile(const char *module, const char *cache, const char *out, char *err) {
    char tmp[4200], c[4300], h[4300], log[4300], exe[4300];
    snprintf(tmp, sizeof(tmp), "%s/.build-XXXXXX", cache);
    if (!mkdtemp(tmp))
        return lm_errf(err, "cannot make a folder in %s: %s", cache, strerror(errno));
    snprintf(c, sizeof(c), "%s/" MOD ".c", tmp);
    snprintf(h, sizeof(h), "%s/" MOD ".h", tmp);
    snprintf(exe, sizeof(exe), "%s/exe", tmp);
    int has_memory, takes_wasi, rc = LM_ERR;
    char *w2c[] = {"wasm2c", (char *)module, "-n", MOD, "-o", c, NULL};
    snprintf(log, sizeof(log), "%s/wasm2c.log", tmp);
    if (run_logged(w2c, log, "wasm2c", module, err) != LM_OK) goto out;
    if (check_header(h, module, &has_memory, &takes_wasi, err) != LM_OK) goto out;
    if (append_glue(c, has_memory, takes_wasi, err) != LM_OK) goto out;
    char piece[NPIECES][4200];
    char *cc[NFLAGS + NPIECES + 8];
    int n = 0;
    cc[n++] = "gcc";
    for (int i = 0; i < NFLAGS; i++)
        cc[n++] = (char *)cc_flags[i];
    cc[n++] = "-o";
    cc[n++] = exe;
    cc[n++] = c;
    for (int i = 0; i < NPIECES; i++) {
        snprintf(piece[i], sizeof(piece[i]), "%s/%s", lm_libexec_dir(), pieces[i]);
        cc[n++] = piece[i];
    }
    cc[n++] = "-lm";
    cc[n] = NULL;
    snprintf(log, sizeof(log), "%s/gcc.log", tmp);
    if (run_logged(cc, log, "gcc", module, err) != LM_OK) goto out;
    if (rename(exe, out) != 0) {
        lm_errf(err, "cannot move the AoT executable to %s: %s", out, strerror(errno));
        goto out;
    }
    rc = LM_OK;
out:
    lm_rmtree(tmp);
    return rc;
}

/* The executables found in this process, per module file (its path and
 * identity: a changed module is looked up again), so a cold start does
 * not recompute the cache key (hashes and a dozen stat calls). */
static struct { char module[4096], id[128], exe[4200]; } found[16];
static int nfound;

static void identity(const char *module, char *id, size_t n) {
    struct stat st;
    if (stat(module, &st) != 0) {
        id[0] = 0;
        return;
    }
    snprintf(id, n, "%llu %llu %lld %lld.%09ld", (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino, (long long)st.st_size, (long long)st.st_mtim.tv_sec,
             st.st_mtim.tv_nsec);
}

/* The cached executable for module (compiled now when missing). */
static int executable(const lm_runtime *rt, const char *module, const char *artifacts, char *out,
                      size_t n, char *err) {
    char key[65], cache[4096], id[128];
    identity(module, id, sizeof(id));
    for (int i = 0; *id && i < nfound && i < 16; i++)
        if (strcmp(found[i].module, module) == 0 && strcmp(found[i].id, id) == 0 &&
            access(found[i].exe, X_OK) == 0) {
            if ((size_t)snprintf(out, n, "%s", found[i].exe) >= n)
                return lm_errf(err, "path too long");
            return LM_OK;
        }
    if (available(rt, err) != LM_OK) return LM_ERR;
    if (access(module, R_OK) != 0)
        return lm_errf(err, "cannot read module %s: %s", module, strerror(errno));
    snprintf(cache, sizeof(cache), "%s/wasm-aot/cache",
             artifacts ? artifacts : lm_artifacts_dir(NULL));
    if (cache_key(module, cache, key, err) != LM_OK) return LM_ERR;
    if ((size_t)snprintf(out, n, "%s/%s", cache, key) >= n) return lm_errf(err, "path too long");
    if (access(out, X_OK) != 0) {
        if (lm_mkdirs(cache, err) != LM_OK) return LM_ERR;
        if (compile(module, cache, out, err) != LM_OK) return LM_ERR;
    }
    if (*id && strlen(module) < sizeof(found[0].module) && strlen(out) < sizeof(found[0].exe)) {
        int i = nfound++ % 16;
        snprintf(found[i].module, sizeof(found[i].module), "%s", module);
        snprintf(found[i].id, sizeof(found[i].id), "%s", id);
        snprintf(found[i].exe, sizeof(found[i].exe), "%s", out);
    }
    return LM_OK;
}

static int aot_command(const lm_runtime *rt, const lm_exec_opts *o, lm_strv *argv, lm_strv *env,
                       char *err) {
    char exe[4200];
    if (executable(rt, o->module, o->artifacts, exe, sizeof(exe), err) != LM_OK) return LM_ERR;
    int rc = lm_strv_add(argv, exe);
    rc |= lm_strv_add(argv, "--argv0");
    rc |= lm_strv_add(argv, o->module);
    for (int i = 0; i < o->ndirs; i++) {
        rc |= lm_strv_add(argv, "--dir");
        rc |= lm_strv_addf(argv, "%s::%s", o->dirs[i].host, o->dirs[i].guest);
    }
    for (int i = 0; o->env && o->env[i]; i++) {
        rc |= lm_strv_add(argv, "--env");
        rc |= lm_strv_add(argv, o->env[i]);
    }
    rc |= lm_strv_add(argv, "--");
    for (int i = 0; o->args && o->args[i]; i++)
        rc |= lm_strv_add(argv, o->args[i]);
    return rc == LM_OK ? LM_OK : lm_errf(err, "out of memory");
}

/* ARTIFACTS/wasm-aot/<fn>: a hard link to the cached executable (a copy
 * where links cannot be made), replaced only when it is another file. */
static int name_it(const char *cached, const char *dest, char *err) {
    struct stat a, b;
    if (stat(cached, &a) == 0 && stat(dest, &b) == 0 && a.st_dev == b.st_dev &&
        a.st_ino == b.st_ino)
        return LM_OK;
    char tmp[4400];
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%d", dest, (int)getpid()) >= sizeof(tmp))
        return lm_errf(err, "path too long: %s", dest);
    unlink(tmp);
    if (link(cached, tmp) != 0) {
        size_t len;
        char *bytes = lm_file_read(cached, &len, err);
        if (!bytes) return LM_ERR;
        int rc = lm_file_write(tmp, bytes, len, err);
        free(bytes);
        if (rc != LM_OK || chmod(tmp, 0755) != 0) return lm_errf(err, "cannot write %s", tmp);
    }
    if (rename(tmp, dest) != 0) {
        unlink(tmp);
        return lm_errf(err, "cannot write %s: %s", dest, strerror(errno));
    }
    return LM_OK;
}

static int aot_prepare(const lm_runtime *rt, const char *fn, const char *artifacts,
                       lm_artifact_file *files, int *nfiles, char *err) {
    char module[4096], exe[4200], dir[4200], dest[4300];
    *nfiles = 0;
    if (lm_artifact_path(artifacts, "wasm", fn, module, sizeof(module), err) != LM_OK)
        return LM_ERR;
    if (executable(rt, module, artifacts, exe, sizeof(exe), err) != LM_OK) return LM_ERR;
    snprintf(dir, sizeof(dir), "%s/wasm-aot", artifacts);
    snprintf(dest, sizeof(dest), "%s/%s", dir, fn);
    if (name_it(exe, dest, err) != LM_OK) return LM_ERR;
    if ((size_t)snprintf(files[0].path, sizeof(files[0].path), "%s", module) >=
            sizeof(files[0].path) ||
        (size_t)snprintf(files[1].path, sizeof(files[1].path), "%s", dest) >= sizeof(files[1].path))
        return lm_errf(err, "artifact path too long: %s", dest);
    snprintf(files[0].kind, sizeof(files[0].kind), "wasm");
    files[0].bytes = lm_file_size(module);
    snprintf(files[1].kind, sizeof(files[1].kind), "aot-executable");
    files[1].bytes = lm_file_size(dest);
    *nfiles = 2;
    return LM_OK;
}

const lm_runtime lm_runtime_wasm_aot = {
    .name = "wasm-aot",
    .description = "the .wasm translated by wasm2c, compiled by gcc -O2, with Lumos' WASI host",
    .target = "wasm",
    .available = available,
    .version = version,
    .prepare = aot_prepare,
    .command = aot_command,
};
