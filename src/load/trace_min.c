/* trace_min.c -- the load room's minimal trace reader (trace_min.h). Each
 * distinct path and body is stored once in the plan's pool, found again
 * by its FNV-1a hash (a trace names few functions and payloads). */
#include "load/trace_min.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"

#define TRACE_MAX_BYTES (1ull << 30)
#define HEADER "offset_us,function,runtime,payload,start"

typedef struct {
    uint64_t hash;
    char *key;
    size_t pool; /* index of its value in the plan's pool */
} cache_entry;

typedef struct {
    lm_load_plan *p;
    const char *path;
    char dir[4096];
    lm_load_group_body_fn group;
    void *arg;
    cache_entry *cache;
    size_t ncache, capcache;
    size_t nreq, capreq;
} reader;

static lm_buf *pool_new(lm_load_plan *p) {
    if (p->npool == p->cap_pool) {
        size_t cap = p->cap_pool ? p->cap_pool * 2 : 16;
        lm_buf *b = realloc(p->pool, cap * sizeof(*b));
        if (!b) return NULL;
        p->pool = b;
        p->cap_pool = cap;
    }
    lm_buf *b = &p->pool[p->npool++];
    memset(b, 0, sizeof(*b));
    return b;
}

/* The stored value for key, or NULL when there is none yet. */
static lm_buf *cache_find(reader *r, const char *key, uint64_t h) {
    for (size_t i = 0; i < r->ncache; i++)
        if (r->cache[i].hash == h && strcmp(r->cache[i].key, key) == 0)
            return &r->p->pool[r->cache[i].pool];
    return NULL;
}

static int cache_add(reader *r, const char *key, uint64_t h, size_t pool) {
    if (r->ncache == r->capcache) {
        size_t cap = r->capcache ? r->capcache * 2 : 16;
        cache_entry *c = realloc(r->cache, cap * sizeof(*c));
        if (!c) return LM_ERR;
        r->cache = c;
        r->capcache = cap;
    }
    char *k = strdup(key);
    if (!k) return LM_ERR;
    r->cache[r->ncache++] = (cache_entry){.hash = h, .key = k, .pool = pool};
    return LM_OK;
}

/* Splits one line into at most max fields (RFC 4180 quotes, "" inside);
 * the fields are written NUL-terminated over the line itself. Returns
 * the count, or -1 for a quote out of place. */
static int split(char *line, char **f, int max) {
    int n = 0;
    char *s = line;
    for (;;) {
        if (n == max) return max + 1;
        char *out = s;
        f[n++] = s;
        if (*s == '"') {
            char *in = s + 1;
            for (;;) {
                if (!*in) return -1;
                if (*in == '"' && in[1] == '"') {
                    *out++ = '"';
                    in += 2;
                } else if (*in == '"') {
                    in++;
                    break;
                } else {
                    *out++ = *in++;
                }
            }
            if (*in && *in != ',') return -1;
            char *next = in;
            *out = 0;
            if (!*next) return n;
            s = next + 1;
            continue;
        }
        char *c = strchr(s, ',');
        if (c && memchr(s, '"', (size_t)(c - s))) return -1;
        if (!c) {
            if (strchr(s, '"')) return -1;
            return n;
        }
        *c = 0;
        s = c + 1;
    }
}

static int name_ok(const char *s, const char *extra) {
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || strchr(extra, *s))) return 0;
    return 1;
}

/* The request path of function on runtime, stored once. */
static const char *path_of(reader *r, const char *fn, const char *rt, char *err, int line) {
    char key[600];
    snprintf(key, sizeof(key), "/function/%s%s%s", fn, *rt ? "@" : "", rt);
    uint64_t h = lm_fnv1a64(LM_FNV1A64_INIT, key, strlen(key));
    lm_buf *b = cache_find(r, key, h);
    if (b) return b->data;
    b = pool_new(r->p);
    if (!b || lm_buf_append(b, key, strlen(key)) != LM_OK ||
        cache_add(r, key, h, r->p->npool - 1) != LM_OK) {
        lm_errf(err, "%s:%d: out of memory", r->path, line);
        return NULL;
    }
    return b->data;
}

/* The body of a payload, stored once; NULL with err on failure. */
static lm_buf *body_of(reader *r, const char *fn, const char *payload, char *err, int line) {
    char key[4200];
    int group = strncmp(payload, "group:", 6) == 0;
    snprintf(key, sizeof(key), "%s %s", group ? fn : "", payload);
    uint64_t h = lm_fnv1a64(LM_FNV1A64_INIT, key, strlen(key));
    lm_buf *b = cache_find(r, key, h);
    if (b) return b;
    char e[LM_ERRLEN];
    lm_buf body = {0};
    if (group) {
        if (!r->group) {
            lm_errf(err, "%s:%d: payload: %s needs the data set (give --data DIR)", r->path, line,
                    payload);
            return NULL;
        }
        if (r->group(r->arg, fn, payload + 6, &body, e) != LM_OK) {
            lm_buf_free(&body);
            lm_errf(err, "%s:%d: payload: %s", r->path, line, e);
            return NULL;
        }
    } else {
        const char *f = payload + 5;
        char full[8400];
        if (f[0] == '/' || !r->dir[0])
            snprintf(full, sizeof(full), "%s", f);
        else
            snprintf(full, sizeof(full), "%s/%s", r->dir, f);
        size_t len = 0;
        char *data = lm_file_read(full, &len, e);
        if (!data) {
            lm_errf(err, "%s:%d: payload: %s", r->path, line, e);
            return NULL;
        }
        body.data = data;
        body.len = len;
        body.cap = len + 1;
    }
    b = pool_new(r->p);
    if (!b || cache_add(r, key, h, r->p->npool - 1) != LM_OK) {
        lm_buf_free(&body);
        if (b) r->p->npool--;
        lm_errf(err, "%s:%d: out of memory", r->path, line);
        return NULL;
    }
    *b = body;
    return b;
}

static int first_line(reader *r, char *l, char *err) {
    const char *magic = "# lumos-trace 1";
    size_t m = strlen(magic);
    if (strncmp(l, magic, m) != 0 || (l[m] && l[m] != ' '))
        return lm_errf(err, "%s:1: not a Lumos trace (the first line must start with '%s')",
                       r->path, magic);
    r->p->meta = strdup(l[m] ? l + m + 1 : "");
    if (!r->p->meta) return lm_errf(err, "%s:1: out of memory", r->path);
    char *save = NULL, *copy = strdup(r->p->meta);
    if (!copy) return lm_errf(err, "%s:1: out of memory", r->path);
    int mode_seen = 0, rc = LM_OK;
    long conc = 0;
    for (char *kv = strtok_r(copy, " ", &save); kv && rc == LM_OK;
         kv = strtok_r(NULL, " ", &save)) {
        if (strncmp(kv, "mode=", 5) == 0) {
            mode_seen = 1;
            if (strcmp(kv + 5, "closed") == 0)
                r->p->closed = 1;
            else if (strcmp(kv + 5, "open") != 0)
                rc = lm_errf(err, "%s:1: mode: '%s' is not open or closed", r->path, kv + 5);
        } else if (strncmp(kv, "concurrency=", 12) == 0) {
            char *end;
            conc = strtol(kv + 12, &end, 10);
            if (*end || end == kv + 12 || conc < 1 || conc > 100000)
                rc = lm_errf(err, "%s:1: concurrency: '%s' is not a number from 1 to 100000",
                             r->path, kv + 12);
        }
    }
    free(copy);
    if (rc != LM_OK) return rc;
    if (!mode_seen) return lm_errf(err, "%s:1: no mode= (open or closed)", r->path);
    if (r->p->closed && conc < 1)
        return lm_errf(err, "%s:1: mode=closed needs concurrency=N", r->path);
    r->p->concurrency = (unsigned)conc;
    return LM_OK;
}

static int row(reader *r, char *l, int line, uint64_t *prev_us, char *err) {
    char *f[6];
    int n = split(l, f, 5);
    if (n < 0) return lm_errf(err, "%s:%d: a quote out of place", r->path, line);
    if (n > 5) return lm_errf(err, "%s:%d: more than 5 fields (" HEADER ")", r->path, line);
    if (n != 5) return lm_errf(err, "%s:%d: %d fields, expected 5 (" HEADER ")", r->path, line, n);
    char *end;
    if (!*f[0] || *f[0] == '-' || *f[0] == '+')
        return lm_errf(err, "%s:%d: offset_us: '%s' is not a whole number of microseconds", r->path,
                       line, f[0]);
    unsigned long long us = strtoull(f[0], &end, 10);
    if (*end || us > 1000000000000ull)
        return lm_errf(err, "%s:%d: offset_us: '%s' is not a whole number of microseconds", r->path,
                       line, f[0]);
    if (us < *prev_us)
        return lm_errf(err,
                       "%s:%d: offset_us: %llu is before the previous row's %llu (the trace must "
                       "be sorted)",
                       r->path, line, us, (unsigned long long)*prev_us);
    *prev_us = us;
    if (!*f[1] || strlen(f[1]) > 64 || !name_ok(f[1], "-_"))
        return lm_errf(err, "%s:%d: function: '%s' is not a function name", r->path, line, f[1]);
    if (strlen(f[2]) > 64 || !name_ok(f[2], "-_+."))
        return lm_errf(err, "%s:%d: runtime: '%s' is not a runtime name", r->path, line, f[2]);
    if (!((strncmp(f[3], "group:", 6) == 0 && f[3][6]) ||
          (strncmp(f[3], "file:", 5) == 0 && f[3][5])))
        return lm_errf(err, "%s:%d: payload: '%s' is not group:NAME or file:PATH", r->path, line,
                       f[3]);
    int cold = strcmp(f[4], "cold") == 0;
    if (!cold && strcmp(f[4], "warm") != 0 && strcmp(f[4], "any") != 0)
        return lm_errf(err, "%s:%d: start: '%s' is not cold, warm or any", r->path, line, f[4]);
    const char *path = path_of(r, f[1], f[2], err, line);
    if (!path) return LM_ERR;
    lm_buf *body = body_of(r, f[1], f[3], err, line);
    if (!body) return LM_ERR;
    if (r->nreq == r->capreq) {
        size_t cap = r->capreq ? r->capreq * 2 : 1024;
        lm_load_req *q = realloc(r->p->reqs, cap * sizeof(*q));
        if (!q) return lm_errf(err, "%s:%d: out of memory", r->path, line);
        r->p->reqs = q;
        r->capreq = cap;
    }
    r->p->reqs[r->nreq++] = (lm_load_req){.offset_ns = r->p->closed ? 0 : us * 1000,
                                          .path = path,
                                          .body = body->data,
                                          .body_len = body->len,
                                          .headers = cold ? "X-Lumos-Start: cold\r\n" : NULL};
    r->p->n = r->nreq;
    return LM_OK;
}

int lm_load_trace_plan(const char *path, lm_load_group_body_fn group, void *arg, lm_load_plan *p,
                       char *err) {
    memset(p, 0, sizeof(*p));
    reader r = {.p = p, .path = path, .group = group, .arg = arg};
    const char *slash = strrchr(path, '/');
    if (slash) snprintf(r.dir, sizeof(r.dir), "%.*s", (int)(slash - path), path);
    if (slash == path) snprintf(r.dir, sizeof(r.dir), "/");
    char *text = lm_file_read_max(path, TRACE_MAX_BYTES, NULL, err);
    if (!text) return LM_ERR;
    int rc = LM_OK, line = 0;
    uint64_t prev = 0;
    char *s = text;
    while (rc == LM_OK && *s) {
        char *nl = strchr(s, '\n');
        if (nl) *nl = 0;
        size_t len = strlen(s);
        if (len && s[len - 1] == '\r') s[len - 1] = 0;
        line++;
        if (line == 1)
            rc = first_line(&r, s, err);
        else if (line == 2 && strcmp(s, HEADER) != 0)
            rc = lm_errf(err, "%s:2: the column header must be '" HEADER "'", path);
        else if (line > 2 && !*s)
            rc = lm_errf(err, "%s:%d: an empty line", path, line);
        else if (line > 2)
            rc = row(&r, s, line, &prev, err);
        if (!nl) break;
        s = nl + 1;
    }
    if (rc == LM_OK && line < 2)
        rc = lm_errf(err, "%s: %s", path,
                     line == 0 ? "empty: not a Lumos trace" : "no column header line");
    if (rc == LM_OK && p->n == 0) rc = lm_errf(err, "%s: no requests in the trace", path);
    free(text);
    for (size_t i = 0; i < r.ncache; i++)
        free(r.cache[i].key);
    free(r.cache);
    return rc;
}

void lm_load_plan_free(lm_load_plan *p) {
    if (!p) return;
    for (size_t i = 0; i < p->npool; i++)
        lm_buf_free(&p->pool[i]);
    free(p->pool);
    free(p->reqs);
    free(p->meta);
    memset(p, 0, sizeof(*p));
}
