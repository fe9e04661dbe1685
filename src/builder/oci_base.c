/* oci_base.c -- image bases: "scratch" needs nothing; "debian-slim" is a
 * debootstrap minbase root file system of Debian bookworm, slimmed as
 * Debian's slim images are, built once into the cache with a one-layer
 * image of it that every function's debian-slim image starts from. */
#define _XOPEN_SOURCE 700
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <unistd.h>

#include "oci.h"

#define SUITE "bookworm"
#define DEFAULT_MIRROR "http://deb.debian.org/debian"

int lm_oci_find_tool(const char *name, char *out, size_t n) {
    if (lm_which(name, out, n) == LM_OK) return LM_OK;
    /* Administrators' tools (runc, debootstrap) live in sbin, which a
     * non-login PATH may lack. */
    const char *dirs[] = {"/usr/sbin", "/sbin", "/usr/local/sbin"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(out, n, "%s/%s", dirs[i], name);
        if (access(out, X_OK) == 0) return LM_OK;
    }
    return LM_ERR;
}

int lm_oci_base_ready(const char *base, char *err) {
    if (strcmp(base, "scratch") == 0) return lm_oci_available(err);
    if (strcmp(base, "debian-slim") != 0)
        return lm_errf(err, "unknown image base '%s' (known: scratch, debian-slim)", base);
    if (lm_oci_available(err) != LM_OK) return LM_ERR;
    char index[PATH_MAX];
    lm_pathf(index, sizeof(index), "%s/debian-slim-image/index.json", lm_oci_cache_dir());
    if (access(index, R_OK) != 0)
        return lm_errf(err,
                       "the debian-slim base is not built (%s is missing): run `lumos build "
                       "--base debian-slim` (debootstrap from the Debian mirror, about a minute)",
                       index);
    return LM_OK;
}

/* The first URI of a "deb" source for SUITE in one apt sources file, in
 * either format: one-line ("deb [opts] URI SUITE comps") or deb822
 * ("Types:", "URIs:", "Suites:" stanzas). */
static int mirror_in(const char *path, char *out, size_t n) {
    FILE *f = fopen(path, "r");
    if (!f) return LM_ERR;
    char line[1024], uris[1024] = "", suites[1024] = "", types[1024] = "";
    int found = 0, enabled = 1;
    for (;;) {
        char *got = fgets(line, sizeof(line), f);
        line[strcspn(line, "\r\n")] = 0;
        if (!got || line[0] == 0) { /* a deb822 stanza ends */
            char *u = strtok(uris, " \t");
            int want = 0;
            for (char *s = strtok(suites, " \t"); s; s = strtok(NULL, " \t"))
                want |= strcmp(s, SUITE) == 0;
            if (u && want && enabled && strstr(types, "deb") && !strstr(types, "deb-src")) {
                snprintf(out, n, "%s", u);
                found = 1;
                break;
            }
            uris[0] = suites[0] = types[0] = 0;
            enabled = 1;
            if (!got) break;
            continue;
        }
        if (line[0] == '#') continue;
        char *v;
        if ((v = strchr(line, ':')) && strncmp(line, "URIs:", 5) == 0)
            snprintf(uris, sizeof(uris), "%s", v + 1);
        else if (strncmp(line, "Suites:", 7) == 0)
            snprintf(suites, sizeof(suites), "%s", line + 7);
        else if (strncmp(line, "Types:", 6) == 0)
            snprintf(types, sizeof(types), "%s", line + 6);
        else if (strncmp(line, "Enabled:", 8) == 0)
            enabled = strstr(line + 8, "no") == NULL;
        else if (strncmp(line, "deb ", 4) == 0) {
            char *tok[8];
            int k = 0, in_opts = 0;
            for (char *t = strtok(line + 4, " \t"); t && k < 8; t = strtok(NULL, " \t")) {
                if (t[0] == '[') in_opts = 1; /* "[arch=amd64 signed-by=...]" */
                if (!in_opts) tok[k++] = t;
                if (in_opts && strchr(t, ']')) in_opts = 0;
            }
            if (k >= 2 && strcmp(tok[1], SUITE) == 0) {
                snprintf(out, n, "%s", tok[0]);
                found = 1;
                break;
            }
        }
    }
    fclose(f);
    return found ? LM_OK : LM_ERR;
}

static int by_name(const struct dirent **a, const struct dirent **b) {
    return strcmp((*a)->d_name, (*b)->d_name);
}

void lm_oci_debian_mirror(char *out, size_t n) {
    const char *env = getenv("LUMOS_DEBIAN_MIRROR");
    if (env && *env) {
        snprintf(out, n, "%s", env);
        return;
    }
    if (mirror_in("/etc/apt/sources.list", out, n) == LM_OK) return;
    struct dirent **names;
    int k = scandir("/etc/apt/sources.list.d", &names, NULL, by_name);
    int found = 0;
    for (int i = 0; i < k; i++) {
        const char *nm = names[i]->d_name;
        size_t len = strlen(nm);
        int ok = (len > 5 && strcmp(nm + len - 5, ".list") == 0) ||
                 (len > 8 && strcmp(nm + len - 8, ".sources") == 0);
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "/etc/apt/sources.list.d/%s", nm);
        if (!found && ok && mirror_in(path, out, n) == LM_OK) found = 1;
        free(names[i]);
    }
    if (k >= 0) free(names);
    if (!found) snprintf(out, n, "%s", DEFAULT_MIRROR);
}

/* Removes a tree without crossing into mounts (a failed debootstrap may
 * leave /proc or a bind of /dev mounted inside): unmounts what is mounted
 * below it first. */
static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void remove_tree(const char *root) {
    if (access(root, F_OK) != 0) return;
    size_t rlen = strlen(root);
    for (int pass = 0; pass < 8; pass++) {
        FILE *f = fopen("/proc/self/mountinfo", "r");
        if (!f) break;
        char line[4096], deepest[PATH_MAX] = "";
        while (fgets(line, sizeof(line), f)) {
            char mnt[PATH_MAX];
            if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1 && strncmp(mnt, root, rlen) == 0 &&
                mnt[rlen] == '/' && strlen(mnt) > strlen(deepest))
                snprintf(deepest, sizeof(deepest), "%s", mnt);
        }
        fclose(f);
        if (!deepest[0]) break;
        umount2(deepest, MNT_DETACH);
    }
    nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

/* Empties dir (relative to root) but keeps it. */
static void empty_dir(const char *root, const char *dir, const char *keep) {
    char path[PATH_MAX];
    lm_pathf(path, sizeof(path), "%s/%s", root, dir);
    DIR *d = opendir(path);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        char sub[PATH_MAX];
        lm_pathf(sub, sizeof(sub), "%s/%s", path, e->d_name);
        if (keep && e->d_type == DT_DIR) {
            /* /usr/share/doc/<pkg>/: only the copyright file stays. */
            DIR *dd = opendir(sub);
            struct dirent *f;
            while (dd && (f = readdir(dd))) {
                if (f->d_name[0] == '.' || strcmp(f->d_name, keep) == 0) continue;
                char leaf[PATH_MAX];
                lm_pathf(leaf, sizeof(leaf), "%s/%s", sub, f->d_name);
                remove_tree(leaf);
            }
            if (dd) closedir(dd);
            continue;
        }
        remove_tree(sub);
    }
    closedir(d);
}

/* What Debian's slim images leave out (debuerreotype's slimify): manuals,
 * info, docs but their copyright, locales, apt's lists and package cache,
 * and the device nodes (runc gives /dev its own tmpfs). */
static void slimify(const char *root) {
    const char *dirs[] = {"usr/share/man",
                          "usr/share/info",
                          "usr/share/groff",
                          "usr/share/lintian",
                          "usr/share/linda",
                          "usr/share/locale",
                          "var/lib/apt/lists",
                          "var/cache/apt/archives",
                          "var/cache/debconf",
                          "var/log",
                          "dev",
                          "tmp"};
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
        empty_dir(root, dirs[i], NULL);
    empty_dir(root, "usr/share/doc", "copyright");
    char path[PATH_MAX];
    const char *files[] = {"var/cache/apt/pkgcache.bin", "var/cache/apt/srcpkgcache.bin",
                           "var/cache/ldconfig/aux-cache"};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        lm_pathf(path, sizeof(path), "%s/%s", root, files[i]);
        unlink(path);
    }
}

static int run_debootstrap(const char *target, const char *log, char *err) {
    char tool[PATH_MAX], mirror[1024];
    if (lm_oci_find_tool("debootstrap", tool, sizeof(tool)) != LM_OK)
        return lm_errf(err,
                       "debootstrap not found: run scripts/setup (Debian package debootstrap)");
    lm_oci_debian_mirror(mirror, sizeof(mirror));
    fprintf(stderr,
            "lumos: building the debian-slim base: debootstrap --variant=minbase " SUITE
            " from %s (about a minute; log: %s)\n",
            mirror, log);
    char *argv[] = {tool, "--variant=minbase", SUITE, (char *)target, mirror, NULL};
    int status;
    if (lm_run_logged(argv, log, &status, err) != LM_OK) return LM_ERR;
    if (status == 0) return LM_OK;
    char how[64];
    lm_describe_status(status, how, sizeof(how));
    return lm_errf(err,
                   "debootstrap from %s failed (%s): see %s (set LUMOS_DEBIAN_MIRROR to "
                   "another mirror)",
                   mirror, how, log);
}

/* The base image: one layer holding rootfs, made by unpacking an empty
 * image, filling its rootfs with hard links to the cached one (repack only
 * reads them) and repacking. */
static int base_image(const char *rootfs, const char *dst, char *err) {
    char tmp[PATH_MAX], image[PATH_MAX], bundle[PATH_MAX], src[PATH_MAX], into[PATH_MAX];
    lm_pathf(tmp, sizeof(tmp), "%s.tmp", dst);
    lm_pathf(image, sizeof(image), "%s:base", tmp);
    lm_pathf(bundle, sizeof(bundle), "%s.bundle", tmp);
    lm_pathf(src, sizeof(src), "%s/.", rootfs);
    lm_pathf(into, sizeof(into), "%s/rootfs/", bundle);
    lm_rmtree(tmp);
    lm_rmtree(bundle);
    char *init[] = {"umoci", "init", "--layout", tmp, NULL};
    char *mk[] = {"umoci", "new", "--image", image, NULL};
    char *cfg[] = {"umoci",
                   "config",
                   "--image",
                   image,
                   "--author",
                   "lumos",
                   "--config.env",
                   "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                   "--config.workingdir",
                   "/",
                   "--history.created_by",
                   "lumos base",
                   NULL};
    char *unpack[] = {"umoci", "unpack", "--image", image, bundle, NULL};
    char *fill[] = {"cp", "-al", src, into, NULL};
    char *repack[] = {"umoci",
                      "repack",
                      "--image",
                      image,
                      "--history.created_by",
                      "debootstrap --variant=minbase " SUITE " (slimmed)",
                      bundle,
                      NULL};
    char *gc[] = {"umoci", "gc", "--layout", tmp, NULL};
    char *const *steps[] = {init, mk, cfg, unpack, fill, repack, gc};
    int rc = LM_OK;
    for (size_t i = 0; rc == LM_OK && i < sizeof(steps) / sizeof(steps[0]); i++)
        rc = lm_oci_tool(steps[i], err);
    lm_rmtree(bundle);
    if (rc != LM_OK) return LM_ERR;
    lm_rmtree(dst);
    if (rename(tmp, dst) != 0) return lm_errf(err, "cannot rename %s: %s", tmp, strerror(errno));
    return LM_OK;
}

int lm_oci_base_build(const char *base, char *err) {
    if (strcmp(base, "scratch") == 0) return lm_oci_available(err);
    if (strcmp(base, "debian-slim") != 0)
        return lm_errf(err, "unknown image base '%s' (known: scratch, debian-slim)", base);
    if (lm_oci_available(err) != LM_OK) return LM_ERR;
    if (geteuid() != 0)
        return lm_errf(err, "building the debian-slim base needs root (debootstrap)");
    const char *cache = lm_oci_cache_dir();
    if (lm_mkdirs(cache, err) != LM_OK) return LM_ERR;
    char lock_path[PATH_MAX], rootfs[PATH_MAX], done[PATH_MAX], tmp[PATH_MAX], log[PATH_MAX],
        image[PATH_MAX];
    lm_pathf(lock_path, sizeof(lock_path), "%s/debian-slim.lock", cache);
    lm_pathf(rootfs, sizeof(rootfs), "%s/debian-slim-rootfs", cache);
    lm_pathf(done, sizeof(done), "%s/debian-slim-rootfs.done", cache);
    lm_pathf(tmp, sizeof(tmp), "%s/debian-slim-rootfs.tmp", cache);
    lm_pathf(log, sizeof(log), "%s/debootstrap.log", cache);
    lm_pathf(image, sizeof(image), "%s/debian-slim-image", cache);
    int lock = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock < 0) return lm_errf(err, "cannot open %s: %s", lock_path, strerror(errno));
    while (flock(lock, LOCK_EX) != 0 && errno == EINTR) {
    }
    int rc = LM_OK;
    char why[LM_ERRLEN];
    if (lm_oci_base_ready(base, why) == LM_OK) goto out;
    if (access(done, F_OK) != 0) {
        remove_tree(tmp);
        if ((rc = run_debootstrap(tmp, log, err)) != LM_OK) {
            remove_tree(tmp);
            goto out;
        }
        slimify(tmp);
        remove_tree(rootfs);
        if (rename(tmp, rootfs) != 0) {
            rc = lm_errf(err, "cannot rename %s: %s", tmp, strerror(errno));
            goto out;
        }
        if ((rc = lm_file_write(done, "", 0, err)) != LM_OK) goto out;
    }
    rc = base_image(rootfs, image, err);
out:
    close(lock);
    return rc;
}
