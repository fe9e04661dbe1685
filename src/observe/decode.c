/* decode.c -- what a reading means: the table of sources (which kernel file
 * holds what on cgroup v1, v2 and /proc) and the one decoder of those
 * files' texts into an lm_usage, for every reader (telemetry.c); the
 * source names and the delta of two readings. No I/O here, so the decoder
 * is tested on known texts (tests/unit/test_telemetry_decode.c). */
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define NS_PER_S 1000000000ull

#define CPU LM__ROLE(LM__CPU)
#define USER LM__ROLE(LM__USER)
#define SYS LM__ROLE(LM__SYS)
#define MEM LM__ROLE(LM__MEM)
#define PEAK LM__ROLE(LM__PEAK)

/* One row per source. A sample reads every role the source has (but
 * /proc's clear_refs, written only); a mark only the exact total and the
 * peak (on /proc status, for VmHWM). */
static const lm__source sources[] = {
    {.source = LM_USAGE_CGROUP_V1,
     .file = {[LM__CPU] = "cpuacct.usage",
              [LM__USER] = "cpuacct.usage_user",
              [LM__SYS] = "cpuacct.usage_sys",
              [LM__MEM] = "memory.usage_in_bytes",
              [LM__PEAK] = "memory.max_usage_in_bytes"},
     .sample = CPU | USER | SYS | MEM | PEAK,
     .mark = CPU | PEAK,
     .reset = "0"}, /* v1 ignores the value: any write resets */
    /* Kernels before 4.7 lack usage_user/usage_sys: the split from
     * cpuacct.stat (USER_HZ ticks; only the ratio is used, so the unit
     * cancels). */
    {.source = LM_USAGE_CGROUP_V1_STAT,
     .file = {[LM__CPU] = "cpuacct.usage",
              [LM__USER] = "cpuacct.stat",
              [LM__MEM] = "memory.usage_in_bytes",
              [LM__PEAK] = "memory.max_usage_in_bytes"},
     .sample = CPU | USER | MEM | PEAK,
     .mark = CPU | PEAK,
     .reset = "0"},
    /* memory.peak exists from Linux 5.19 and takes "reset" from 6.12. */
    {.source = LM_USAGE_CGROUP_V2,
     .file = {[LM__CPU] = "cpu.stat", [LM__MEM] = "memory.current", [LM__PEAK] = "memory.peak"},
     .sample = CPU | MEM | PEAK,
     .mark = CPU | PEAK,
     .optional = PEAK,
     .reset = "reset\n"},
    /* "5" to clear_refs resets VmHWM, which status holds beside VmRSS. */
    {.source = LM_USAGE_PROC,
     .file = {[LM__CPU] = "stat", [LM__MEM] = "status", [LM__PEAK] = "clear_refs"},
     .sample = CPU | MEM,
     .mark = CPU | MEM,
     .optional = PEAK,
     .reset = "5"},
};

const lm__source *lm__source_of(int source) {
    for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++)
        if (sources[i].source == source) return &sources[i];
    return NULL;
}

/* A decimal number and where it ends; LM_ERR when s starts with none
 * (leading blanks are skipped) or it does not fit 64 bits. */
static int number(const char *s, uint64_t *v, const char **end) {
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s < '0' || *s > '9') return LM_ERR;
    char *e;
    errno = 0;
    unsigned long long x = strtoull(s, &e, 10);
    if (x == ULLONG_MAX && errno == ERANGE) return LM_ERR;
    *v = x;
    if (end) *end = e;
    return LM_OK;
}

int lm__text_key(const char *text, const char *key, uint64_t *v) {
    size_t klen = strlen(key);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, key, klen) == 0 && p[klen] == ' ') return number(p + klen + 1, v, NULL);
    return LM_ERR;
}

void lm__usage_split(uint64_t total, uint64_t user, uint64_t sys, lm_usage *out) {
    if (user + sys == 0 || sys == 0) {
        out->cpu_user_ns = total;
        out->cpu_system_ns = 0;
        return;
    }
    unsigned __int128 u = (unsigned __int128)total * user / (user + sys);
    out->cpu_user_ns = (uint64_t)u;
    out->cpu_system_ns = total - (uint64_t)u;
}

/* What the decoder works with: the texts and the names for messages. */
typedef struct {
    const lm__source *src;
    const lm__texts *x;
} texts;

static const char *name_of(const texts *t, int role) {
    return t->x->name[role] ? t->x->name[role] : t->src->file[role];
}

/* The text of role, or NULL with err when the reader gave none. */
static const char *text_of(const texts *t, int role, char *err) {
    const char *s = t->x->text[role];
    if (!s) lm_errf(err, "telemetry: %s was not read", name_of(t, role));
    return s;
}

/* A file that holds one number (the cgroup counters). */
static int file_number(const texts *t, int role, uint64_t *v, char *err) {
    const char *s = text_of(t, role, err);
    if (!s) return LM_ERR;
    if (number(s, v, NULL) != LM_OK) {
        int n = (int)strcspn(s, "\n");
        return lm_errf(err, "%s holds no number: \"%.*s\"", name_of(t, role), n < 20 ? n : 20, s);
    }
    return LM_OK;
}

static int decode_v1(const texts *t, lm_usage *out, char *err) {
    const lm__texts *x = t->x;
    uint64_t total, user = 0, sys = 0;
    if (file_number(t, LM__CPU, &total, err) != LM_OK) return LM_ERR;
    if (x->text[LM__USER] && t->src->source == LM_USAGE_CGROUP_V1) {
        if (file_number(t, LM__USER, &user, err) != LM_OK ||
            file_number(t, LM__SYS, &sys, err) != LM_OK)
            return LM_ERR;
    } else if (x->text[LM__USER]) {
        if (lm__text_key(x->text[LM__USER], "user", &user) != LM_OK ||
            lm__text_key(x->text[LM__USER], "system", &sys) != LM_OK)
            return lm_errf(err, "%s lacks user or system", name_of(t, LM__USER));
    }
    lm__usage_split(total, user, sys, out);
    if (x->text[LM__MEM] && file_number(t, LM__MEM, &out->mem_current_bytes, err) != LM_OK)
        return LM_ERR;
    if (x->text[LM__PEAK] && file_number(t, LM__PEAK, &out->mem_peak_bytes, err) != LM_OK)
        return LM_ERR;
    return LM_OK;
}

static int decode_v2(const texts *t, lm_usage *out, char *err) {
    const char *stat = text_of(t, LM__CPU, err);
    uint64_t total, user, sys;
    if (!stat) return LM_ERR;
    if (lm__text_key(stat, "usage_usec", &total) != LM_OK ||
        lm__text_key(stat, "user_usec", &user) != LM_OK ||
        lm__text_key(stat, "system_usec", &sys) != LM_OK)
        return lm_errf(err, "%s lacks a number for usage_usec, user_usec or system_usec",
                       name_of(t, LM__CPU));
    /* The kernel already scaled user and system to add up to the exact
     * usage (cputime_adjust); the split only keeps that true after rounding. */
    lm__usage_split(total * 1000, user, sys, out);
    if (t->x->text[LM__MEM] && file_number(t, LM__MEM, &out->mem_current_bytes, err) != LM_OK)
        return LM_ERR;
    if (t->x->text[LM__PEAK] && file_number(t, LM__PEAK, &out->mem_peak_bytes, err) != LM_OK)
        return LM_ERR;
    return LM_OK;
}

/* utime and stime (fields 14 and 15) of a /proc/<pid>/stat text. The name
 * in parentheses may hold spaces and ')': fields follow the last ')', and
 * field 3 (state) comes first. */
static int stat_times(const char *text, uint64_t *ut, uint64_t *st) {
    const char *p = strrchr(text, ')');
    for (int field = 2; p && field < 14; field++)
        p = strchr(p + 1, ' ');
    if (!p) return LM_ERR;
    const char *end;
    if (number(p + 1, ut, &end) != LM_OK || *end != ' ') return LM_ERR;
    return number(end, st, NULL);
}

/* A "Key: N kB" line of /proc/<pid>/status, in bytes; 0 when there is no
 * such line (a zombie has no Vm lines). */
static int status_kib(const texts *t, const char *status, const char *key, uint64_t *bytes,
                      char *err) {
    const char *line = strstr(status, key);
    uint64_t kib = 0;
    if (line && number(line + strlen(key), &kib, NULL) != LM_OK)
        return lm_errf(err, "%s holds no number for %.*s", name_of(t, LM__MEM),
                       (int)strlen(key) - 2, key + 1); /* key is "\nName:" */
    *bytes = kib * 1024;
    return LM_OK;
}

static int decode_proc(const texts *t, lm_usage *out, char *err) {
    const char *stat = text_of(t, LM__CPU, err), *status = text_of(t, LM__MEM, err);
    uint64_t ut, st;
    if (!stat || !status) return LM_ERR;
    if (stat_times(stat, &ut, &st) != LM_OK)
        return lm_errf(err, "cannot parse %s: no utime and stime after the name",
                       name_of(t, LM__CPU));
    uint64_t hz = t->x->hz > 0 ? (uint64_t)t->x->hz : 100;
    out->cpu_user_ns = ut * NS_PER_S / hz;
    out->cpu_system_ns = st * NS_PER_S / hz;
    if (status_kib(t, status, "\nVmRSS:", &out->mem_current_bytes, err) != LM_OK ||
        status_kib(t, status, "\nVmHWM:", &out->mem_peak_bytes, err) != LM_OK)
        return LM_ERR;
    return LM_OK;
}

int lm__usage_decode(int source, const lm__texts *x, lm_usage *out, char *err) {
    memset(out, 0, sizeof(*out));
    texts t = {lm__source_of(source), x};
    int rc;
    if (!t.src)
        rc = lm_errf(err, "telemetry: unknown source %d", source);
    else if (source == LM_USAGE_CGROUP_V2)
        rc = decode_v2(&t, out, err);
    else if (source == LM_USAGE_PROC)
        rc = decode_proc(&t, out, err);
    else
        rc = decode_v1(&t, out, err);
    if (rc != LM_OK) {
        memset(out, 0, sizeof(*out));
        return LM_ERR;
    }
    out->source = source;
    return LM_OK;
}

const char *lm_usage_source_name(int source) {
    switch (source) {
    case LM_USAGE_CGROUP_V1: return "cgroup-v1";
    case LM_USAGE_CGROUP_V1_STAT: return "cgroup-v1-stat";
    case LM_USAGE_CGROUP_V2: return "cgroup-v2";
    case LM_USAGE_PROC: return "proc";
    default: return "none";
    }
}

void lm_usage_delta(const lm_usage *before, const lm_usage *after, lm_usage *delta) {
    uint64_t b = before->cpu_user_ns + before->cpu_system_ns;
    uint64_t a = after->cpu_user_ns + after->cpu_system_ns;
    uint64_t total = a > b ? a - b : 0;
    uint64_t user =
        after->cpu_user_ns > before->cpu_user_ns ? after->cpu_user_ns - before->cpu_user_ns : 0;
    if (user > total) user = total;
    delta->cpu_user_ns = user;
    delta->cpu_system_ns = total - user;
    delta->mem_current_bytes = after->mem_current_bytes;
    delta->mem_peak_bytes = after->mem_peak_bytes;
    delta->source = after->source;
}
