/* check.c -- the checks of a trace row's fields (trace.h): function names
 * against the catalog, runtimes against the runtime registry, payload
 * groups against the data set's groups, body files on disk, start kinds. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/dataset.h"
#include "functions/catalog.h"
#include "runtime/runtime.h"
#include "trace/internal.h"

int lm_trace_check_function(const char *name, char *err) {
    if (!*name) return lm_errf(err, "empty: every row needs a function");
    if (lm_catalog_find(name)) return LM_OK;
    return lm_errf(err, "unknown function '%s' (see `lumos functions`)", name);
}

int lm_trace_check_runtime(const char *name, char *err) {
    if (!*name) return LM_OK;
    return lm_runtime_find(name, err) ? LM_OK : LM_ERR;
}

int lm_trace_check_payload(const char *payload, const char *dir, char *err) {
    if (strncmp(payload, "group:", 6) == 0) {
        if (lm_group_find(payload + 6)) return LM_OK;
        size_t n;
        const lm_group *g = lm_groups(&n);
        char names[128] = "";
        for (size_t i = 0, k = 0; i < n && k < sizeof(names); i++)
            k += (size_t)snprintf(names + k, sizeof(names) - k, "%s%s", i ? ", " : "", g[i].name);
        return lm_errf(err, "unknown payload group '%s' (groups: %s; see docs/data.md)",
                       payload + 6, names);
    }
    if (strncmp(payload, "file:", 5) == 0) {
        const char *path = payload + 5;
        if (!*path) return lm_errf(err, "file: needs a path (file:PATH)");
        char full[4096];
        if (path[0] == '/' || !dir || strcmp(dir, ".") == 0)
            snprintf(full, sizeof(full), "%s", path);
        else if (lm_pathf(full, sizeof(full), "%s/%s", dir, path) != LM_OK)
            return lm_errf(err, "file:%s: the path is too long", path);
        struct stat st;
        if (stat(full, &st) != 0 || access(full, R_OK) != 0)
            return lm_errf(err, "file:%s: cannot read %s: %s", path, full, strerror(errno));
        if (!S_ISREG(st.st_mode))
            return lm_errf(err, "file:%s: %s is not a regular file", path, full);
        return LM_OK;
    }
    if (!*payload) return lm_errf(err, "empty: give group:NAME or file:PATH");
    return lm_errf(err, "'%s' is neither group:NAME (a payload group) nor file:PATH (a body file)",
                   payload);
}

static const char *const start_names[] = {"any", "cold", "warm"};

int lm_trace_parse_start(const char *s, lm_trace_start *out, char *err) {
    for (int i = 0; i < 3; i++)
        if (strcmp(s, start_names[i]) == 0) {
            *out = (lm_trace_start)i;
            return LM_OK;
        }
    return lm_errf(err, "'%s' is not a start kind (cold, warm or any)", s);
}

const char *lm_trace_start_name(lm_trace_start s) {
    return (unsigned)s < 3 ? start_names[s] : "any";
}
