/* knative.c -- `lumos deploy --platform knative`: the services to deploy
 * (a config's, and functions x runtimes), each file of the folder, written
 * deterministically, and `kubectl apply`. */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "functions/catalog.h"
#include "internal.h"
#include "runtime/runtime.h"

void lm_deploy_result_free(lm_deploy_result *r) {
    if (!r) return;
    for (int i = 0; i < r->nfiles; i++)
        free(r->files[i]);
    free(r->files);
    free(r->notes);
    memset(r, 0, sizeof(*r));
}

/* Whether name is in the comma-separated list. */
static int listed(const char *list, const char *name) {
    size_t n = strlen(name);
    for (const char *p = list; (p = strstr(p, name)) != NULL; p += n)
        if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == 0)) return 1;
    return 0;
}

typedef struct {
    lm_service_spec *v;
    int n, cap;
} spec_list;

static int has(const spec_list *l, const char *name) {
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->v[i].name, name) == 0) return 1;
    return 0;
}

static int push_spec(spec_list *l, const lm_service_spec *s, char *err) {
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 16;
        lm_service_spec *v = realloc(l->v, (size_t)cap * sizeof(*v));
        if (!v) return lm_errf(err, "out of memory");
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = *s;
    return LM_OK;
}

/* Every function x runtime of the lists with the defaults. */
static int cross(const lm_deploy_opts *o, spec_list *l, char *err) {
    const char *runtimes = o->runtimes ? o->runtimes : LM_DEPLOY_DEFAULT_RUNTIMES;
    char list[1024];
    snprintf(list, sizeof(list), "%s", runtimes);
    if (o->functions) {
        char fl[1024];
        snprintf(fl, sizeof(fl), "%s", o->functions);
        for (char *sv, *f = strtok_r(fl, ",", &sv); f; f = strtok_r(NULL, ",", &sv))
            if (!lm_catalog_find(f))
                return lm_errf(err, "unknown function '%s' (see `lumos functions`)", f);
    }
    for (char *sv, *r = strtok_r(list, ",", &sv); r; r = strtok_r(NULL, ",", &sv))
        if (!lm_runtime_find(r, err)) return LM_ERR;
    size_t nfn;
    const lm_fn_info *fns = lm_catalog(&nfn);
    for (size_t f = 0; f < nfn; f++) {
        if (o->functions && !listed(o->functions, fns[f].name)) continue;
        snprintf(list, sizeof(list), "%s", runtimes);
        for (char *sv, *r = strtok_r(list, ",", &sv); r; r = strtok_r(NULL, ",", &sv)) {
            lm_service_spec s = o->config->defaults;
            snprintf(s.function, sizeof(s.function), "%s", fns[f].name);
            snprintf(s.runtime, sizeof(s.runtime), "%s", r);
            snprintf(s.name, sizeof(s.name), "%s@%s", fns[f].name, r);
            if (has(l, s.name)) continue; /* the config's own settings win */
            if (push_spec(l, &s, err) != LM_OK) return LM_ERR;
        }
    }
    return LM_OK;
}

static int write_docs(const char *dir, const char *file, json_t *docs, lm_deploy_result *res,
                      char *err) {
    lm_buf b = {0};
    int rc = LM_OK;
    if (json_is_array(docs)) {
        size_t i;
        json_t *d;
        json_array_foreach(docs, i, d) if (rc == LM_OK) rc = lm__deploy_yaml(&b, d);
    } else {
        rc = lm__deploy_yaml(&b, docs);
    }
    char path[PATH_MAX];
    if (rc != LM_OK) rc = lm_errf(err, "%s: cannot write the manifest as YAML", file);
    if (rc == LM_OK && lm_pathf(path, sizeof(path), "%s/%s", dir, file) != LM_OK)
        rc = lm_errf(err, "path too long: %s/%s", dir, file);
    if (rc == LM_OK) rc = lm_file_write(path, b.data ? b.data : "", b.len, err);
    lm_buf_free(&b);
    if (rc == LM_OK) {
        char **f = realloc(res->files, (size_t)(res->nfiles + 1) * sizeof(*f));
        if (!f) return lm_errf(err, "out of memory");
        res->files = f;
        f[res->nfiles++] = strdup(file);
    }
    return rc;
}

/* Removes the service files a previous run wrote: a service left out now
 * must not be applied again. */
static void remove_old(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char path[PATH_MAX];
    while ((e = readdir(d)))
        if (strncmp(e->d_name, "50-service-", 11) == 0 && strstr(e->d_name, ".yaml") &&
            lm_pathf(path, sizeof(path), "%s/%s", dir, e->d_name) == LM_OK)
            unlink(path);
    closedir(d);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int lm_deploy_services(const lm_deploy_opts *o, lm_service_spec **out, int *n, char *err) {
    spec_list l = {0};
    int rc = LM_OK;
    for (int i = 0; rc == LM_OK && i < o->config->nservices; i++)
        rc = push_spec(&l, &o->config->services[i], err);
    if (rc == LM_OK && (o->functions || o->runtimes || o->config->nservices == 0))
        rc = cross(o, &l, err);
    if (rc == LM_OK && l.n == 0) rc = lm_errf(err, "no services to deploy");
    for (int i = 0; rc == LM_OK && i < l.n; i++)
        if (!lm_deploy_class_find(o->classes, l.v[i].runtime))
            rc = lm_errf(err,
                         "%s: runtime %s has no place on a cluster (no RuntimeClass in the "
                         "table: add it with --classes FILE, see docs/knative.md)",
                         l.v[i].name, l.v[i].runtime);
    if (rc != LM_OK) {
        free(l.v);
        return LM_ERR;
    }
    *out = l.v;
    *n = l.n;
    return LM_OK;
}

int lm_deploy_knative(const lm_deploy_opts *o, lm_deploy_result *res, char *err) {
    memset(res, 0, sizeof(*res));
    spec_list l = {0};
    lm_buf notes = {0};
    char *classes[LM_DEPLOY_MAX_CLASSES];
    int nclasses = 0;
    char ref[600];
    /* The registry and tag first: every image reference is made of them. */
    if (lm_deploy_image_ref(o->registry, "", "agent", o->tag, ref, sizeof(ref), err) != LM_OK)
        return LM_ERR;
    int rc = lm_deploy_services(o, &l.v, &l.n, err);
    /* Every service's class, and the distinct RuntimeClass names. */
    for (int i = 0; rc == LM_OK && i < l.n; i++) {
        const lm_deploy_class *c = lm_deploy_class_find(o->classes, l.v[i].runtime);
        int seen = 0;
        for (int k = 0; k < nclasses; k++)
            seen |= strcmp(classes[k], c->runtime_class) == 0;
        if (!seen) classes[nclasses++] = (char *)c->runtime_class;
    }
    qsort(classes, (size_t)nclasses, sizeof(classes[0]), cmp_str);
    if (rc == LM_OK && lm_mkdirs(o->out, err) != LM_OK) rc = LM_ERR;
    if (rc == LM_OK) remove_old(o->out);
    struct {
        const char *file;
        json_t *docs;
    } fixed[] = {
        {"00-namespace.yaml", rc == LM_OK ? lm__deploy_namespace(o) : NULL},
        {"01-config-features.yaml", rc == LM_OK ? lm__deploy_config_features() : NULL},
        {"02-config-autoscaler.yaml", rc == LM_OK ? lm__deploy_config_autoscaler() : NULL},
        {"03-config-deployment.yaml", rc == LM_OK ? lm__deploy_config_deployment(o) : NULL},
        {"10-runtimeclasses.yaml",
         rc == LM_OK ? lm__deploy_runtime_classes(o->classes, classes, nclasses) : NULL},
        {"20-redis.yaml", rc == LM_OK ? lm__deploy_redis(o) : NULL},
        {"30-agent.yaml", rc == LM_OK ? lm__deploy_agent(o, err) : NULL},
    };
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        if (rc == LM_OK && !fixed[i].docs) rc = lm_errf(err, "%s: cannot make it", fixed[i].file);
        if (rc == LM_OK) rc = write_docs(o->out, fixed[i].file, fixed[i].docs, res, err);
        json_decref(fixed[i].docs);
    }
    for (int i = 0; rc == LM_OK && i < l.n; i++) {
        const lm_deploy_class *c = lm_deploy_class_find(o->classes, l.v[i].runtime);
        json_t *doc = lm__deploy_service(o, &l.v[i], c, &notes, err);
        if (!doc) {
            rc = LM_ERR;
            break;
        }
        char file[128];
        snprintf(file, sizeof(file), "50-service-%s.yaml",
                 json_string_value(json_object_get(json_object_get(doc, "metadata"), "name")));
        char path[PATH_MAX];
        if (lm_pathf(path, sizeof(path), "%s/%s", o->out, file) == LM_OK && access(path, F_OK) == 0)
            rc = lm_errf(err, "%s and another service have the same Knative name (%s)", l.v[i].name,
                         file);
        if (rc == LM_OK) rc = write_docs(o->out, file, doc, res, err);
        json_decref(doc);
        res->nservices++;
    }
    free(l.v);
    if (rc == LM_OK && res->nfiles > 0)
        qsort(res->files, (size_t)res->nfiles, sizeof(res->files[0]), cmp_str);
    res->notes = notes.data;
    if (rc != LM_OK) lm_deploy_result_free(res);
    return rc;
}

int lm_deploy_apply(const char *dir, char *err) {
    char kubectl[PATH_MAX];
    if (lm_which("kubectl", kubectl, sizeof(kubectl)) != LM_OK)
        return lm_errf(err,
                       "kubectl not found on PATH: install it (or MicroK8s' `microk8s kubectl`, "
                       "aliased), then run `kubectl apply -f %s`",
                       dir);
    const char *kc = getenv("KUBECONFIG");
    char home_kc[PATH_MAX] = "";
    const char *home = getenv("HOME");
    if (home) lm_pathf(home_kc, sizeof(home_kc), "%s/.kube/config", home);
    if ((!kc || !*kc) && access(home_kc, R_OK) != 0)
        return lm_errf(err, "no cluster: KUBECONFIG is not set and ~/.kube/config does not exist "
                            "(point KUBECONFIG at your cluster's kubeconfig; docs/knative.md)");
    if (kc && *kc) {
        char first[PATH_MAX];
        snprintf(first, sizeof(first), "%s", kc);
        first[strcspn(first, ":")] = 0;
        if (access(first, R_OK) != 0)
            return lm_errf(err, "KUBECONFIG names %s, which cannot be read", first);
    }
    char *argv[] = {kubectl, "apply", "-f", (char *)dir, NULL};
    int st = lm_run(argv, 0, err);
    if (st < 0) return LM_ERR;
    if (st != 0) return lm_errf(err, "kubectl apply -f %s failed (exit status %d)", dir, st);
    return LM_OK;
}
