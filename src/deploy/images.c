/* images.c -- the images a cluster pulls, made with the builder's umoci
 * code (builder/oci.h) into ARTIFACTS/cluster/IMAGE/FUNCTION:
 *
 *   wasm             the module alone at /module.wasm, its entrypoint, on
 *                    scratch, platform wasi/wasm, annotated and labelled
 *                    module.wasm.image/variant=compat-smart: the layout
 *                    runwasi's shims and crun's Wasm handler run;
 *   front-R[-slim]   the HTTP front (lumos-front) with what Lumos runtime R
 *                    needs in Lumos' own layout (/artifacts/..., /libexec/...,
 *                    found through LUMOS_ARTIFACTS and LUMOS_LIBEXEC), so the
 *                    front runs the function as on one machine. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builder/oci.h"
#include "internal.h"
#include "runtime/runtime.h"

#define WASM_VARIANT "module.wasm.image/variant=compat-smart"

typedef struct {
    lm_oci_file files[LM_OCI_MAX_FILES];
    lm_strv hosts, guests, entry, env;
    int n;
} image_files;

static void files_free(image_files *f) {
    lm_strv_free(&f->hosts);
    lm_strv_free(&f->guests);
    lm_strv_free(&f->entry);
    lm_strv_free(&f->env);
}

static int add(image_files *f, const char *host, const char *guest, char *err) {
    for (int i = 0; i < f->guests.n; i++)
        if (strcmp(f->guests.v[i], guest) == 0) return LM_OK;
    if (f->hosts.n >= LM_OCI_MAX_FILES)
        return lm_errf(err, "too many files for one image (%d at most)", LM_OCI_MAX_FILES);
    if (lm_strv_add(&f->hosts, host) != LM_OK || lm_strv_add(&f->guests, guest) != LM_OK)
        return lm_errf(err, "out of memory");
    return LM_OK;
}

/* host's place in the image: under /artifacts or /libexec as it is under
 * the artifact or helper folder here; LM_ERR for a file elsewhere. */
static int guest_path(const char *artifacts, const char *host, char *out, size_t n, char *err) {
    const char *roots[][2] = {{artifacts, "/artifacts"}, {lm_libexec_dir(), "/libexec"}};
    for (int i = 0; i < 2; i++) {
        size_t l = strlen(roots[i][0]);
        if (strncmp(host, roots[i][0], l) == 0 && host[l] == '/') {
            if (lm_pathf(out, n, "%s%s", roots[i][1], host + l) != LM_OK)
                return lm_errf(err, "path too long: %s", host);
            return LM_OK;
        }
    }
    return lm_errf(err, "%s is neither under the artifacts (%s) nor under %s", host, artifacts,
                   lm_libexec_dir());
}

static int add_mapped(image_files *f, const char *artifacts, const char *host, char *err) {
    char guest[PATH_MAX];
    if (guest_path(artifacts, host, guest, sizeof(guest), err) != LM_OK) return LM_ERR;
    return add(f, host, guest, err);
}

/* What runtime R needs: its target artifact, what its prepare makes (the
 * AoT executable), its command's program (lumos-wasm-interp). */
static int runtime_files(const char *artifacts, const char *fn, const char *rtname, image_files *f,
                         char *err) {
    const lm_runtime *rt = lm_runtime_find(rtname, err);
    if (!rt) return LM_ERR;
    char art[PATH_MAX];
    if (lm_artifact_path(artifacts, rt->target, fn, art, sizeof(art), err) != LM_OK) return LM_ERR;
    if (add_mapped(f, artifacts, art, err) != LM_OK) return LM_ERR;
    if (rt->prepare) {
        lm_artifact_file pf[LM_MAX_ARTIFACT_FILES];
        int np = 0;
        if (rt->prepare(rt, fn, artifacts, pf, &np, err) != LM_OK) return LM_ERR;
        for (int i = 0; i < np; i++)
            if (strncmp(pf[i].kind, "image", 5) != 0 &&
                add_mapped(f, artifacts, pf[i].path, err) != LM_OK)
                return LM_ERR;
    }
    if (rt->command) {
        lm_dir_map dir = {"/data", "/data"};
        lm_exec_opts eo = {art, &dir, 1, NULL, NULL, artifacts};
        lm_strv argv = {0}, env = {0};
        int rc = rt->command(rt, &eo, &argv, &env, err);
        char prog[PATH_MAX];
        /* A program of Lumos' own goes in; a system one (node) cannot. */
        if (rc == LM_OK && guest_path(artifacts, argv.v[0], prog, sizeof(prog), NULL) != LM_OK)
            rc = lm_errf(err, "runtime %s runs %s, which a front image cannot hold", rtname,
                         argv.v[0]);
        if (rc == LM_OK) rc = add(f, argv.v[0], prog, err);
        lm_strv_free(&argv);
        lm_strv_free(&env);
        if (rc != LM_OK) return LM_ERR;
    }
    return LM_OK;
}

/* Splits "front-R" / "front-R-slim" into R and the base. */
static int parse_front(const char *image, char *rt, size_t n, const char **base) {
    if (strncmp(image, "front-", 6) != 0) return LM_ERR;
    snprintf(rt, n, "%s", image + 6);
    size_t l = strlen(rt);
    *base = "scratch";
    if (l > 5 && strcmp(rt + l - 5, "-slim") == 0) {
        rt[l - 5] = 0;
        *base = "debian-slim";
    }
    return rt[0] ? LM_OK : LM_ERR;
}

int lm_deploy_image_build(const lm_deploy_image_opts *o, const char *fn, const char *image,
                          char *layout_out, size_t layout_n, int *skipped, char *err) {
    if (skipped) *skipped = 0;
    char layout[PATH_MAX], bundle[PATH_MAX + 8];
    if (lm_pathf(layout, sizeof(layout), "%s/cluster/%s/%s", o->artifacts, image, fn) != LM_OK)
        return lm_errf(err, "artifact path too long: %s", o->artifacts);
    snprintf(bundle, sizeof(bundle), "%s.bundle", layout);
    if (layout_out) snprintf(layout_out, layout_n, "%s", layout);
    image_files f = {0};
    lm_oci_spec spec = {0};
    static char *const wasm_meta[] = {WASM_VARIANT, NULL};
    int rc = LM_OK;
    if (strcmp(image, "agent") == 0) {
        /* lumos itself, for `lumos agent` (its shared libraries come along:
         * builder/oci.c stages what ldd lists on scratch). */
        char self[PATH_MAX];
        ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (len <= 0) return lm_errf(err, "cannot find the lumos program (/proc/self/exe)");
        self[len] = 0;
        rc = add(&f, self, "/lumos", err);
        if (rc == LM_OK && lm_strv_add(&f.entry, "/lumos") != LM_OK)
            rc = lm_errf(err, "out of memory");
        spec.base = "scratch";
    } else if (strcmp(image, "wasm") == 0) {
        char module[PATH_MAX];
        if (o->module)
            snprintf(module, sizeof(module), "%s", o->module);
        else
            rc = lm_artifact_path(o->artifacts, "wasm", fn, module, sizeof(module), err);
        if (rc == LM_OK && access(module, R_OK) != 0)
            rc = lm_errf(err, "%s: no module there", module);
        if (rc == LM_OK) rc = add(&f, module, "/module.wasm", err);
        if (rc == LM_OK && lm_strv_add(&f.entry, "/module.wasm") != LM_OK)
            rc = lm_errf(err, "out of memory");
        spec.base = "scratch";
        spec.labels = wasm_meta;
        spec.annotations = wasm_meta;
        spec.os = "wasi";
        spec.arch = "wasm";
        spec.no_data = 1;
    } else {
        char rt[LM_DEPLOY_NAME_MAX], front[PATH_MAX];
        if (parse_front(image, rt, sizeof(rt), &spec.base) != LM_OK)
            return lm_errf(err, "unknown image '%s' (wasm, front-RUNTIME, front-RUNTIME-slim)",
                           image);
        if (o->front)
            snprintf(front, sizeof(front), "%s", o->front);
        else
            lm_pathf(front, sizeof(front), "%s/lumos-front", lm_libexec_dir());
        char why[LM_ERRLEN] = "";
        if (access(front, X_OK) != 0)
            snprintf(why, sizeof(why),
                     "%s: no HTTP front program at %.300s (the front is built with lumos; "
                     "--front PATH names another)",
                     image, front);
        else if (lm_oci_base_ready(spec.base, why) != LM_OK) {
            char base_why[LM_ERRLEN];
            snprintf(base_why, sizeof(base_why), "%s", why);
            snprintf(why, sizeof(why), "%s: %.400s", image, base_why);
        }
        if (why[0]) {
            files_free(&f);
            lm_errf(err, "%s", why);
            if (!skipped) return LM_ERR;
            *skipped = 1;
            return LM_OK;
        }
        rc = add(&f, front, "/lumos-front", err);
        if (rc == LM_OK) rc = runtime_files(o->artifacts, fn, rt, &f, err);
        const char *entry[] = {"/lumos-front", "--function", fn, "--runtime", rt};
        for (int i = 0; rc == LM_OK && i < 5; i++)
            if (lm_strv_add(&f.entry, entry[i]) != LM_OK) rc = lm_errf(err, "out of memory");
        if (rc == LM_OK && (lm_strv_add(&f.env, "LUMOS_ARTIFACTS=/artifacts") != LM_OK ||
                            lm_strv_add(&f.env, "LUMOS_LIBEXEC=/libexec") != LM_OK ||
                            lm_strv_add(&f.env, "LUMOS_DATA_DIR=/data") != LM_OK ||
                            lm_strv_addf(&f.env, "LUMOS_RUNTIME=%s", rt) != LM_OK))
            rc = lm_errf(err, "out of memory");
    }
    if (rc == LM_OK) {
        for (int i = 0; i < f.hosts.n; i++)
            f.files[i] = (lm_oci_file){f.hosts.v[i], f.guests.v[i]};
        spec.files = f.files;
        spec.nfiles = f.hosts.n;
        spec.entrypoint = f.entry.v;
        spec.env = f.env.v;
        spec.tag = fn;
        spec.layout = layout;
        spec.bundle = bundle;
        char why[LM_ERRLEN];
        if (lm_oci_ensure(&spec, NULL, why) != LM_OK)
            rc = lm_errf(err, "image %s of %s at %s: %s", image, fn, layout, why);
    }
    files_free(&f);
    return rc;
}
