/* oci.c -- OCI images with umoci: a function's image (a layer of its files
 * on a base), its unpacked bundle, its sizes, and a cache keyed by the
 * inputs' hash so an unchanged executable is never rebuilt. The
 * debian-slim base is built by oci_base.c. */
#include "oci.h"
#include "util/hash.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* Bumped when the way images are made changes, so old ones are redone. */
#define RECIPE "lumos-oci-2"

int lm_oci_available(char *err) {
    char path[PATH_MAX];
    if (lm_which("umoci", path, sizeof(path)) != LM_OK)
        return lm_errf(err, "umoci not found on PATH: run scripts/setup (Debian package umoci)");
    return LM_OK;
}

void lm_oci_version(char *out, size_t n) {
    snprintf(out, n, "umoci unknown");
    FILE *p = popen("umoci --version 2>/dev/null", "r");
    if (!p) return;
    char line[128];
    if (fgets(line, sizeof(line), p)) {
        line[strcspn(line, "\n+")] = 0;
        const char *v = strstr(line, "version ");
        snprintf(out, n, "umoci %s", v ? v + 8 : line);
    }
    pclose(p);
}

const char *lm_oci_cache_dir(void) {
    const char *env = getenv("LUMOS_CACHE");
    return env && *env ? env : LM_SOURCE_DIR "/build/cache";
}

int lm_oci_tool(char *const argv[], char *err) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) return lm_errf(err, "pipe: %s", strerror(errno));
    lm_child c;
    int rc = lm_spawn(argv, NULL, NULL, 0, p[1], &c, err);
    close(p[1]);
    if (rc != LM_OK) {
        close(p[0]);
        return LM_ERR;
    }
    /* Keep the tail of its output: the last lines say what went wrong. */
    char tail[400] = "";
    size_t len = 0;
    char chunk[4096];
    ssize_t r;
    while ((r = read(p[0], chunk, sizeof(chunk))) > 0 || (r < 0 && errno == EINTR)) {
        for (ssize_t i = 0; i < r; i++) {
            if (len == sizeof(tail) - 1) {
                memmove(tail, tail + 100, len - 100);
                len -= 100;
            }
            tail[len++] = chunk[i] == '\n' ? ' ' : chunk[i];
        }
    }
    tail[len] = 0;
    close(p[0]);
    int status;
    lm_child_wait(&c, -1, &status);
    if (status == 0) return LM_OK;
    char how[64];
    lm_describe_status(status, how, sizeof(how));
    return lm_errf(err, "%s %s failed (%s): %s", argv[0], argv[1] ? argv[1] : "", how, tail);
}

static uint64_t hash_str(uint64_t v, const char *s) {
    static const char sep = 0x1f; /* a separator, so "ab","c" != "a","bc" */
    return lm_fnv1a64(lm_fnv1a64(v, s, strlen(s)), &sep, 1);
}

/* A file's content hash, reused from the previous record (prev, may be
 * NULL) when its size and modification time are unchanged: hashing a large
 * executable on every start would cost milliseconds. */
static int file_hash(const char *path, json_t *prev, uint64_t *h, json_t **rec, char *err) {
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return lm_errf(err, "%s: not a readable file", path);
    long long mtime = (long long)st.st_mtim.tv_sec * 1000000000ll + st.st_mtim.tv_nsec;
    json_t *e;
    size_t i;
    json_array_foreach(prev, i, e) {
        const char *hp = json_string_value(json_object_get(e, "host"));
        const char *hh = json_string_value(json_object_get(e, "hash"));
        if (hp && hh && strcmp(hp, path) == 0 &&
            json_integer_value(json_object_get(e, "size")) == (json_int_t)st.st_size &&
            json_integer_value(json_object_get(e, "mtime_ns")) == (json_int_t)mtime &&
            sscanf(hh, "%" SCNx64, h) == 1) {
            *rec = json_pack("{s:s,s:I,s:I,s:s,s:i}", "host", path, "size", (json_int_t)st.st_size,
                             "mtime_ns", (json_int_t)mtime, "hash", hh, "mode",
                             (int)(st.st_mode & 07777));
            return LM_OK;
        }
    }
    if (lm_fnv1a64_file(LM_FNV1A64_INIT, path, h, err) != LM_OK) return LM_ERR;
    char hex[17];
    snprintf(hex, sizeof(hex), "%016" PRIx64, *h);
    *rec = json_pack("{s:s,s:I,s:I,s:s,s:i}", "host", path, "size", (json_int_t)st.st_size,
                     "mtime_ns", (json_int_t)mtime, "hash", hex, "mode", (int)(st.st_mode & 07777));
    return LM_OK;
}

/* The inputs' key (hex) and their record for the next check. */
static int inputs_key(const lm_oci_spec *s, json_t *prev, char key[17], json_t **files, char *err) {
    uint64_t v = hash_str(LM_FNV1A64_INIT, RECIPE);
    v = hash_str(v, s->base);
    v = hash_str(v, s->tag);
    if (strcmp(s->base, "scratch") != 0) {
        char index[PATH_MAX];
        uint64_t h;
        lm_pathf(index, sizeof(index), "%s/%s-image/index.json", lm_oci_cache_dir(), s->base);
        if (lm_fnv1a64_file(LM_FNV1A64_INIT, index, &h, err) != LM_OK) return LM_ERR;
        v = (v ^ h) * 1099511628211ull;
    }
    *files = json_array();
    for (int i = 0; i < s->nfiles; i++) {
        uint64_t h;
        json_t *rec = NULL;
        if (file_hash(s->files[i].host, prev, &h, &rec, err) != LM_OK) {
            json_decref(*files);
            return LM_ERR;
        }
        v = hash_str(v, s->files[i].guest);
        v = (v ^ h) * 1099511628211ull;
        v = hash_str(v, json_string_value(json_object_get(rec, "host")));
        v = (v ^ (uint64_t)json_integer_value(json_object_get(rec, "mode"))) * 1099511628211ull;
        json_object_set_new(rec, "guest", json_string(s->files[i].guest));
        json_array_append_new(*files, rec);
    }
    for (int i = 0; s->entrypoint[i]; i++)
        v = hash_str(v, s->entrypoint[i]);
    v = hash_str(v, "--env");
    for (int i = 0; s->env && s->env[i]; i++)
        v = hash_str(v, s->env[i]);
    /* The optional fields only when given, so older images keep their key. */
    for (int i = 0; s->labels && s->labels[i]; i++)
        v = hash_str(hash_str(v, "--label"), s->labels[i]);
    for (int i = 0; s->annotations && s->annotations[i]; i++)
        v = hash_str(hash_str(v, "--annotation"), s->annotations[i]);
    if (s->os) v = hash_str(hash_str(v, "--os"), s->os);
    if (s->arch) v = hash_str(hash_str(v, "--arch"), s->arch);
    if (s->no_data) v = hash_str(v, "--no-data");
    snprintf(key, 17, "%016" PRIx64, v);
    return LM_OK;
}

/* Copies host to stage/guest, making its folders. A copy, not a link:
 * the image's rootfs must not change when the artifact is rewritten. */
static int stage_file(const char *stage, const char *host, const char *guest, char *err) {
    char dst[PATH_MAX];
    if (lm_pathf(dst, sizeof(dst), "%s/%s", stage, guest) != LM_OK)
        return lm_errf(err, "path too long: %s", guest);
    char *slash = strrchr(dst, '/');
    *slash = 0;
    if (lm_mkdirs(dst, err) != LM_OK) return LM_ERR;
    *slash = '/';
    unlink(dst);
    return lm_oci_copy_file(host, dst, err);
}

int lm_oci_copy_file(const char *src, const char *dst, char *err) {
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) return lm_errf(err, "cannot open %s: %s", src, strerror(errno));
    struct stat st;
    fstat(in, &st);
    int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, st.st_mode & 07777);
    if (out < 0) {
        close(in);
        return lm_errf(err, "cannot create %s: %s", dst, strerror(errno));
    }
    fchmod(out, st.st_mode & 07777); /* exactly, whatever the umask */
    char buf[65536];
    ssize_t r;
    int ok = 1;
    while (ok && ((r = read(in, buf, sizeof(buf))) > 0 || (r < 0 && errno == EINTR)))
        for (ssize_t done = 0; ok && r > 0 && done < r;) {
            ssize_t w = write(out, buf + done, (size_t)(r - done));
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) ok = 0;
            done += w > 0 ? w : 0;
        }
    close(in);
    if (close(out) != 0 || !ok) return lm_errf(err, "cannot write %s: %s", dst, strerror(errno));
    return LM_OK;
}

/* Stages host at guest unless something is there already. */
static int stage_once(const char *stage, const char *host, const char *guest, char *err) {
    char dst[PATH_MAX];
    if (lm_pathf(dst, sizeof(dst), "%s/%s", stage, guest) != LM_OK)
        return lm_errf(err, "path too long: %s", guest);
    if (access(dst, F_OK) == 0) return LM_OK;
    return stage_file(stage, host, guest, err);
}

/* On scratch nothing provides a libc: an executable that is not static
 * brings the shared libraries (and loader) that ldd lists, at the same
 * paths. A static one makes ldd say "not a dynamic executable". */
static int stage_libraries(const char *stage, const char *exe, char *err) {
    if (access(exe, X_OK) != 0) return LM_OK;
    char cmd[PATH_MAX + 32];
    if (strchr(exe, '\'')) return lm_errf(err, "quote in path %s", exe);
    snprintf(cmd, sizeof(cmd), "ldd '%s' 2>/dev/null", exe);
    FILE *p = popen(cmd, "r");
    if (!p) return lm_errf(err, "cannot run ldd: %s", strerror(errno));
    char line[PATH_MAX + 64];
    int rc = LM_OK;
    while (rc == LM_OK && fgets(line, sizeof(line), p)) {
        /* "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or
         * "/lib64/ld-linux-x86-64.so.2 (0x...)" */
        char *path = strstr(line, "=> ");
        path = path ? path + 3 : line + strspn(line, " \t");
        if (*path != '/') continue;
        path[strcspn(path, " \t\n")] = 0;
        char real[PATH_MAX];
        if (!realpath(path, real)) continue;
        rc = stage_once(stage, real, path, err);
    }
    pclose(p);
    return rc;
}

/* Sums what an image takes on disk; see lm_oci_sizes. Hard-linked files
 * count once, as du does. */
typedef struct {
    dev_t dev;
    ino_t ino;
} inode;

typedef struct {
    long long bytes;
    inode *seen;
    size_t nseen, cap;
} walk_state;

static int seen_before(walk_state *w, const struct stat *st) {
    for (size_t i = 0; i < w->nseen; i++)
        if (w->seen[i].dev == st->st_dev && w->seen[i].ino == st->st_ino) return 1;
    if (w->nseen == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 64;
        inode *s = realloc(w->seen, cap * sizeof(*s));
        if (!s) return 0;
        w->seen = s;
        w->cap = cap;
    }
    w->seen[w->nseen++] = (inode){st->st_dev, st->st_ino};
    return 0;
}

static int walk_sum(int dirfd, const char *name, walk_state *w, int depth) {
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return LM_ERR;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return LM_ERR;
    }
    int rc = LM_OK;
    struct dirent *e;
    while (rc == LM_OK && (e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        struct stat st;
        if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
            if (depth < 64) rc = walk_sum(fd, e->d_name, w, depth + 1);
        } else if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) {
            if (st.st_nlink > 1 && seen_before(w, &st)) continue;
            w->bytes += (long long)st.st_size;
        }
    }
    closedir(d);
    return rc;
}

static int sum_tree(const char *dir, long long *bytes) {
    walk_state w = {0};
    int rc = walk_sum(AT_FDCWD, dir, &w, 0);
    free(w.seen);
    *bytes = w.bytes;
    return rc;
}

int lm_oci_sizes_of(const char *layout, const char *rootfs, lm_oci_sizes *out, char *err) {
    char blobs[PATH_MAX];
    lm_pathf(blobs, sizeof(blobs), "%s/blobs", layout);
    if (sum_tree(blobs, &out->compressed) != LM_OK)
        return lm_errf(err, "cannot read image layout %s", layout);
    if (sum_tree(rootfs, &out->uncompressed) != LM_OK)
        return lm_errf(err, "cannot read root file system %s", rootfs);
    return LM_OK;
}

/* A writer's lock on "<layout>.lock": held while checking and building. */
static int lock_image(const char *layout, char *err) {
    char path[PATH_MAX];
    lm_pathf(path, sizeof(path), "%s.lock", layout);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return lm_errf(err, "cannot open lock %s: %s", path, strerror(errno));
    while (flock(fd, LOCK_EX) != 0)
        if (errno != EINTR) {
            close(fd);
            return lm_errf(err, "cannot lock %s: %s", path, strerror(errno));
        }
    return fd;
}

/* Runs umoci with a NULL-terminated list of arguments after "umoci". */
static int umoci(char *err, const char *first, ...) {
    char *argv[64];
    int n = 0;
    argv[n++] = "umoci";
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && n < 63; a = va_arg(ap, const char *))
        argv[n++] = (char *)a;
    va_end(ap);
    argv[n] = NULL;
    return lm_oci_tool(argv, err);
}

/* The image's starting point in layout: an empty image tagged tag, or a
 * copy of the cached base image (its blobs hard-linked: the base layer is
 * shared on disk) re-tagged. */
static int start_image(const lm_oci_spec *s, const char *image, char *err) {
    if (strcmp(s->base, "scratch") == 0) {
        if (umoci(err, "init", "--layout", s->layout, NULL) != LM_OK) return LM_ERR;
        return umoci(err, "new", "--image", image, NULL);
    }
    char src[PATH_MAX];
    lm_pathf(src, sizeof(src), "%s/%s-image", lm_oci_cache_dir(), s->base);
    if (lm_oci_copy_layout(src, s->layout, err) != LM_OK) return LM_ERR;
    char base[PATH_MAX];
    lm_pathf(base, sizeof(base), "%s:base", s->layout);
    if (umoci(err, "tag", "--image", base, s->tag, NULL) != LM_OK) return LM_ERR;
    return umoci(err, "rm", "--image", base, NULL);
}

int lm_oci_copy_layout(const char *src, const char *dst, char *err) {
    char a[PATH_MAX], b[PATH_MAX];
    lm_pathf(b, sizeof(b), "%s/blobs/sha256", dst);
    if (lm_mkdirs(b, err) != LM_OK) return LM_ERR;
    const char *top[] = {"oci-layout", "index.json"};
    for (int i = 0; i < 2; i++) {
        lm_pathf(a, sizeof(a), "%s/%s", src, top[i]);
        lm_pathf(b, sizeof(b), "%s/%s", dst, top[i]);
        if (lm_oci_copy_file(a, b, err) != LM_OK) return LM_ERR;
    }
    lm_pathf(a, sizeof(a), "%s/blobs/sha256", src);
    DIR *d = opendir(a);
    if (!d) return lm_errf(err, "cannot read %s: %s", a, strerror(errno));
    struct dirent *e;
    int rc = LM_OK;
    while (rc == LM_OK && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        lm_pathf(a, sizeof(a), "%s/blobs/sha256/%s", src, e->d_name);
        lm_pathf(b, sizeof(b), "%s/blobs/sha256/%s", dst, e->d_name);
        if (link(a, b) != 0) rc = lm_oci_copy_file(a, b, err);
    }
    closedir(d);
    return rc;
}

/* Builds the image and bundle of s from nothing, in place: the base, its
 * config, unpacked into the bundle; the files added to the bundle's rootfs
 * and repacked as the image's own layer. (umoci 0.4.7's `insert` writes
 * layers without the tar end-of-archive blocks, umoci issue #436, which
 * other tools reject; `repack` writes whole tar streams.) */
static int build(const lm_oci_spec *s, char *err) {
    char image[PATH_MAX], rootfs[PATH_MAX], dir[PATH_MAX];
    lm_pathf(image, sizeof(image), "%s:%s", s->layout, s->tag);
    lm_pathf(rootfs, sizeof(rootfs), "%s/rootfs", s->bundle);
    lm_rmtree(s->layout);
    lm_rmtree(s->bundle);
    if (start_image(s, image, err) != LM_OK) return LM_ERR;
    /* The config first, so the bundle's config.json runs the entrypoint. */
    char *argv[128];
    int n = 0;
    const char *fixed[] = {"umoci",
                           "config",
                           "--image",
                           image,
                           "--author",
                           "lumos",
                           "--clear=config.cmd",
                           "--clear=config.entrypoint",
                           "--config.workingdir",
                           "/",
                           "--history.created_by",
                           "lumos build"};
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        argv[n++] = (char *)fixed[i];
    for (int i = 0; s->entrypoint[i] && n < 40; i++) {
        argv[n++] = "--config.entrypoint";
        argv[n++] = s->entrypoint[i];
    }
    for (int i = 0; s->env && s->env[i] && n < 100; i++) {
        argv[n++] = "--config.env";
        argv[n++] = s->env[i];
    }
    for (int i = 0; s->labels && s->labels[i] && n < 110; i++) {
        argv[n++] = "--config.label";
        argv[n++] = s->labels[i];
    }
    for (int i = 0; s->annotations && s->annotations[i] && n < 120; i++) {
        argv[n++] = "--manifest.annotation";
        argv[n++] = s->annotations[i];
    }
    argv[n] = NULL;
    if (lm_oci_tool(argv, err) != LM_OK) return LM_ERR;
    if (umoci(err, "unpack", "--image", image, s->bundle, NULL) != LM_OK) return LM_ERR;
    /* The layer: the files, an empty /data for the data folder's mount. */
    if (!s->no_data &&
        (lm_pathf(dir, sizeof(dir), "%s/data", rootfs) != LM_OK || lm_mkdirs(dir, err) != LM_OK))
        return LM_ERR;
    for (int i = 0; i < s->nfiles; i++) {
        if (stage_file(rootfs, s->files[i].host, s->files[i].guest, err) != LM_OK) return LM_ERR;
        if (strcmp(s->base, "scratch") == 0 &&
            stage_libraries(rootfs, s->files[i].host, err) != LM_OK)
            return LM_ERR;
    }
    if (umoci(err, "repack", "--image", image, "--history.created_by", "lumos build",
              "--refresh-bundle", s->bundle, NULL) != LM_OK)
        return LM_ERR;
    /* The platform last: umoci unpacks only images of its own OS (linux),
     * and a Wasm image's is wasi. */
    if ((s->os || s->arch) &&
        umoci(err, "config", "--image", image, "--no-history", s->os ? "--os" : "--author",
              s->os ? s->os : "lumos", s->arch ? "--architecture" : "--author",
              s->arch ? s->arch : "lumos", NULL) != LM_OK)
        return LM_ERR;
    if (umoci(err, "gc", "--layout", s->layout, NULL) != LM_OK) return LM_ERR;
    /* Mount points runc would otherwise create in the shared, read-only
     * rootfs at every start; not part of the image. */
    const char *mnt[] = {"proc", "dev", "sys"};
    for (int i = 0; i < 3; i++) {
        lm_pathf(dir, sizeof(dir), "%s/%s", rootfs, mnt[i]);
        if (lm_mkdirs(dir, err) != LM_OK) return LM_ERR;
    }
    return LM_OK;
}

int lm_oci_ensure(const lm_oci_spec *s, int *built, char *err) {
    if (built) *built = 0;
    if (s->nfiles < 1 || s->nfiles > LM_OCI_MAX_FILES || !s->entrypoint || !s->entrypoint[0])
        return lm_errf(err, "image spec for %s: 1 to %d files and an entrypoint needed", s->layout,
                       LM_OCI_MAX_FILES);
    if (lm_oci_base_ready(s->base, err) != LM_OK) return LM_ERR;
    char rec_path[PATH_MAX], rootfs[PATH_MAX], parent[PATH_MAX];
    lm_pathf(rec_path, sizeof(rec_path), "%s.json", s->layout);
    lm_pathf(rootfs, sizeof(rootfs), "%s/rootfs", s->bundle);
    snprintf(parent, sizeof(parent), "%s", s->layout);
    char *slash = strrchr(parent, '/');
    if (slash) *slash = 0;
    if (slash && lm_mkdirs(parent, err) != LM_OK) return LM_ERR;
    int lock = lock_image(s->layout, err);
    if (lock < 0) return LM_ERR;
    int rc = LM_ERR;
    json_t *prev = json_load_file(rec_path, 0, NULL), *files = NULL, *rec = NULL;
    char key[17];
    if (inputs_key(s, json_object_get(prev, "files"), key, &files, err) != LM_OK) goto out;
    const char *old = json_string_value(json_object_get(prev, "inputs"));
    char index[PATH_MAX], config[PATH_MAX];
    lm_pathf(index, sizeof(index), "%s/index.json", s->layout);
    lm_pathf(config, sizeof(config), "%s/config.json", s->bundle);
    if (old && strcmp(old, key) == 0 && lm_is_dir(rootfs) && access(index, R_OK) == 0 &&
        access(config, R_OK) == 0) {
        /* The same content under a new identity (an executable relinked to
         * the same bytes): record the identity, or every start rehashes
         * the file (milliseconds for an interpreter). Best effort. */
        if (!json_equal(json_object_get(prev, "files"), files) &&
            json_object_set(prev, "files", files) == 0) {
            char *text = json_dumps(prev, JSON_INDENT(2));
            if (text) lm_file_write(rec_path, text, strlen(text), NULL);
            free(text);
        }
        rc = LM_OK;
        goto out;
    }
    unlink(rec_path);
    if (build(s, err) != LM_OK) goto out;
    if (built) *built = 1;
    lm_oci_sizes sz;
    if (lm_oci_sizes_of(s->layout, rootfs, &sz, err) != LM_OK) goto out;
    rec = json_pack("{s:i,s:s,s:s,s:s,s:s,s:s,s:O,s:I,s:I}", "version", 1, "inputs", key, "base",
                    s->base, "tag", s->tag, "layout", s->layout, "rootfs", rootfs, "files", files,
                    "compressed_bytes", (json_int_t)sz.compressed, "uncompressed_bytes",
                    (json_int_t)sz.uncompressed);
    char *text = json_dumps(rec, JSON_INDENT(2));
    rc = text ? lm_file_write(rec_path, text, strlen(text), err) : lm_errf(err, "out of memory");
    free(text);
out:
    json_decref(prev);
    json_decref(files);
    json_decref(rec);
    close(lock);
    return rc;
}
