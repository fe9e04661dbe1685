/* build.c -- `lumos build`: one compiler run per function and target, a few
 * at a time, skipped when the artifact is newer than its sources and was
 * built by the same command line. */
#include "build.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "functions/catalog.h"

#define MAX_ARGS 64

typedef struct {
    char *argv[MAX_ARGS];
    int argc;
    char cmdline[8192]; /* the command as text, stored beside the artifact */
    char out[1024];
    char tmp[1100];
    char log[1100];
    const lm_fn_info *fn;
    const char *target;
    long long newest_src; /* mtime */
    lm_child child;
    int skip;
} job;

static long long mtime_of(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_mtime : -1;
}

static void add(job *j, const char *a) {
    if (j->argc < MAX_ARGS - 1) j->argv[j->argc++] = strdup(a);
    j->argv[j->argc] = NULL;
}

static void add_src(job *j, const char *path) {
    add(j, path);
    long long m = mtime_of(path);
    if (m > j->newest_src) j->newest_src = m;
}

/* The guest's shared sources: every .c file in src/sdk and src/proto (the
 * channel's frames and the clock, shared with the host), as "ROOM/FILE.c"
 * in a stable order. */
static int list_sources(const char *root, const char *room, char names[][64], int max) {
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/src/%s", root, room);
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < max) {
        size_t len = strlen(e->d_name);
        size_t rl = strlen(room);
        if (len > 2 && strcmp(e->d_name + len - 2, ".c") == 0 && rl + 1 + len < 64) {
            memcpy(names[n], room, rl);
            names[n][rl] = '/';
            memcpy(names[n] + rl + 1, e->d_name, len + 1);
            n++;
        }
    }
    closedir(d);
    qsort(names, (size_t)n, 64, (int (*)(const void *, const void *))strcmp);
    return n;
}

static int sdk_sources(const char *root, char names[][64], int max) {
    int n = list_sources(root, "proto", names, max);
    if (n < 0) return n;
    int m = list_sources(root, "sdk", names + n, max - n);
    return m < 0 ? m : n + m;
}

static void make_job(job *j, const lm_build_opts *o, const lm_fn_info *fn, const char *target,
                     char sdk[][64], int nsdk) {
    memset(j, 0, sizeof(*j));
    j->fn = fn;
    j->target = target;
    j->child.pid = -1;
    int wasm = strcmp(target, "wasm") == 0;
    snprintf(j->out, sizeof(j->out), "%s/%s/%s%s", o->out, target, fn->name, wasm ? ".wasm" : "");
    snprintf(j->tmp, sizeof(j->tmp), "%s.tmp", j->out);
    snprintf(j->log, sizeof(j->log), "%s.log", j->out);
    char inc[4][1100];
    snprintf(inc[0], sizeof(inc[0]), "-I%s/src/sdk", o->source);
    snprintf(inc[3], sizeof(inc[3]), "-I%s/src", o->source);
    snprintf(inc[1], sizeof(inc[1]), "-I%s/src/functions", o->source);
    snprintf(inc[2], sizeof(inc[2]), "-I%s", o->gen);
    if (wasm) {
        add(j, "clang");
        add(j, "--target=wasm32-wasi");
        add(j, "--sysroot=/usr");
    } else {
        add(j, "gcc");
        add(j, "-static");
    }
    const char *common[] = {"-std=c11",
                            "-O2",
                            "-D_GNU_SOURCE",
                            "-DLM_STANDALONE",
                            "-ffp-contract=off",
                            "-Wall",
                            inc[0],
                            inc[1],
                            inc[2],
                            inc[3]};
    for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++)
        add(j, common[i]);
    char path[1200];
    for (int i = 0; i < nsdk; i++) {
        snprintf(path, sizeof(path), "%s/src/%s", o->source, sdk[i]);
        add_src(j, path);
    }
    snprintf(path, sizeof(path), "%s/%s", o->source, fn->source);
    add_src(j, path);
    for (int i = 0; i < 3 && fn->extra[i]; i++) {
        if (strncmp(fn->extra[i], "gen:", 4) == 0)
            snprintf(path, sizeof(path), "%s/%s", o->gen, fn->extra[i] + 4);
        else
            snprintf(path, sizeof(path), "%s/%s", o->source, fn->extra[i]);
        add_src(j, path);
    }
    if (wasm) {
        /* A 1 MiB stack, as native code gets much more than wasm-ld's default. */
        add(j, "-Wl,-z,stack-size=1048576");
        add(j, "-Wl,--strip-all");
    } else {
        add(j, "-s");
    }
    add(j, "-o");
    add(j, j->tmp);
    if (!wasm) add(j, "-lm");
    size_t len = 0;
    for (int i = 0; i < j->argc; i++)
        len += (size_t)snprintf(j->cmdline + len, sizeof(j->cmdline) - len, "%s%s", i ? " " : "",
                                j->argv[i]);
}

static int up_to_date(job *j) {
    long long m = mtime_of(j->out);
    if (m < 0 || m < j->newest_src) return 0;
    char cmdfile[1100];
    snprintf(cmdfile, sizeof(cmdfile), "%s.cmd", j->out);
    char *prev = lm_file_read(cmdfile, NULL, NULL);
    int same = prev && strcmp(prev, j->cmdline) == 0;
    free(prev);
    return same;
}

static void free_job(job *j) {
    for (int i = 0; i < j->argc; i++)
        free(j->argv[i]);
    j->argc = 0;
}

static int start_job(job *j, char *err) {
    int fd = open(j->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return lm_errf(err, "cannot write %s", j->log);
    int rc = lm_spawn(j->argv, NULL, NULL, 0, fd, &j->child, err);
    close(fd);
    return rc;
}

static int finish_job(job *j, int status, char *err) {
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        unlink(j->tmp);
        char *log = lm_file_read(j->log, NULL, NULL);
        lm_errf(err, "compiling %s for %s failed; compiler output in %s:\n%.1500s", j->fn->name,
                j->target, j->log, log ? log : "");
        free(log);
        return LM_ERR;
    }
    if (rename(j->tmp, j->out) != 0) return lm_errf(err, "cannot rename %s", j->tmp);
    char cmdfile[1100];
    snprintf(cmdfile, sizeof(cmdfile), "%s.cmd", j->out);
    unlink(j->log);
    return lm_file_write(cmdfile, j->cmdline, strlen(j->cmdline), err);
}

int lm_build(const lm_build_opts *o, lm_artifact **arts, size_t *n_out, char *err) {
    size_t nfn;
    const lm_fn_info *fns = lm_catalog(&nfn);
    if (o->only && !lm_catalog_find(o->only))
        return lm_errf(err, "unknown function '%s' (see `lumos functions`)", o->only);
    const char *targets = o->targets ? o->targets : "native,wasm";
    int want_native = strstr(targets, "native") != NULL,
        want_wasm = strstr(targets, "wasm") != NULL;
    if (!want_native && !want_wasm)
        return lm_errf(err, "unknown target list '%s' (use native, wasm or native,wasm)", targets);
    char tool[1024];
    if (want_native && lm_which("gcc", tool, sizeof(tool)) != LM_OK)
        return lm_errf(err, "gcc not found: run scripts/setup");
    if (want_wasm && lm_which("clang", tool, sizeof(tool)) != LM_OK)
        return lm_errf(err, "clang not found: run scripts/setup");
    if (want_wasm && access("/usr/include/wasm32-wasi/stdio.h", R_OK) != 0)
        return lm_errf(err, "wasi-libc is missing (/usr/include/wasm32-wasi): run scripts/setup");
    char sdk[32][64];
    int nsdk = sdk_sources(o->source, sdk, 32);
    if (nsdk <= 0) return lm_errf(err, "no SDK sources under %s/src/sdk", o->source);

    char d[1100];
    for (int t = 0; t < 2; t++) {
        snprintf(d, sizeof(d), "%s/%s", o->out, t ? "wasm" : "native");
        if (lm_mkdirs(d, err) != LM_OK) return LM_ERR;
    }
    size_t njobs = 0;
    job *jobs = calloc(nfn * 2, sizeof(job));
    lm_artifact *a = calloc(nfn * 2, sizeof(lm_artifact));
    if (!jobs || !a) {
        free(jobs);
        free(a);
        return lm_errf(err, "out of memory");
    }
    for (size_t i = 0; i < nfn; i++) {
        if (o->only && strcmp(o->only, fns[i].name) != 0) continue;
        if (want_native) make_job(&jobs[njobs++], o, &fns[i], "native", sdk, nsdk);
        if (want_wasm) make_job(&jobs[njobs++], o, &fns[i], "wasm", sdk, nsdk);
    }
    int rc = LM_OK, running = 0, jobs_max = o->jobs > 0 ? o->jobs : 2;
    size_t next = 0, done = 0;
    int progress = !o->quiet && lm_progress_enabled();
    while (done < njobs && rc == LM_OK) {
        while (next < njobs && running < jobs_max && rc == LM_OK) {
            job *j = &jobs[next++];
            if (!o->force && up_to_date(j)) {
                j->skip = 1;
                done++;
                continue;
            }
            if (start_job(j, err) != LM_OK)
                rc = LM_ERR;
            else
                running++;
        }
        if (running == 0) continue;
        int status;
        pid_t pid = wait(&status);
        if (pid < 0) break;
        for (size_t i = 0; i < njobs; i++) {
            if (jobs[i].child.pid != pid) continue;
            jobs[i].child.pid = -1;
            running--;
            done++;
            if (finish_job(&jobs[i], status, err) != LM_OK) rc = LM_ERR;
            if (progress)
                fprintf(stderr, "\r\033[Kbuild: %zu/%zu %s (%s)", done, njobs, jobs[i].fn->name,
                        jobs[i].target);
        }
    }
    /* On failure, let the compilers still running finish before returning. */
    while (running > 0 && wait(NULL) > 0)
        running--;
    if (progress) fprintf(stderr, "\r\033[K");
    for (size_t i = 0; i < njobs; i++) {
        snprintf(a[i].function, sizeof(a[i].function), "%s", jobs[i].fn->name);
        snprintf(a[i].target, sizeof(a[i].target), "%s", jobs[i].target);
        snprintf(a[i].path, sizeof(a[i].path), "%s", jobs[i].out);
        a[i].bytes = lm_file_size(jobs[i].out);
        a[i].rebuilt = !jobs[i].skip;
        free_job(&jobs[i]);
    }
    free(jobs);
    if (rc != LM_OK) {
        free(a);
        return LM_ERR;
    }
    *arts = a;
    *n_out = njobs;
    return LM_OK;
}
