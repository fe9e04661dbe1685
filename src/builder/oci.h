/* oci.h -- OCI images on disk, built with umoci: an image layout (gzip
 * layers, config, manifest) holding a function's executable on a base, and
 * its unpacked bundle (config.json + rootfs) that runc runs. Two bases:
 * "scratch" (nothing but what the image adds) and "debian-slim" (a
 * debootstrap --variant=minbase root file system of Debian bookworm, built
 * once and cached, the image's first layer). See docs/containers.md. */
#ifndef LM_OCI_H
#define LM_OCI_H

#include <stddef.h>

#include "util/util.h"

/* One file put into an image: its host path and its path in the image. */
typedef struct {
    const char *host;
    const char *guest;
} lm_oci_file;

/* What an image holds. The image's own layer has the files (with their
 * modes; on scratch, a dynamically linked executable brings the shared
 * libraries ldd lists), an empty /data, and nothing else. */
typedef struct {
    const char *base;         /* "scratch" or "debian-slim" */
    const lm_oci_file *files; /* nfiles files */
    int nfiles;               /* at least 1, at most LM_OCI_MAX_FILES */
    char *const *entrypoint;  /* the process' argv, NULL-terminated */
    char *const *env;         /* "K=V" entries, NULL-terminated; may be NULL */
    const char *tag;          /* the image's tag in its layout */
    const char *layout;       /* the OCI layout directory (created or replaced) */
    const char *bundle;       /* the unpacked bundle directory (created or replaced) */
    /* Optional (zero: none, the defaults): */
    char *const *labels;      /* "K=V" config labels, NULL-terminated */
    char *const *annotations; /* "K=V" manifest annotations, NULL-terminated */
    const char *os;           /* the config's os ("wasi"); NULL: umoci's (linux) */
    const char *arch;         /* its architecture ("wasm"); NULL: this machine's */
    int no_data;              /* leave out the empty /data folder */
} lm_oci_spec;

#define LM_OCI_MAX_FILES 8

/* Real sizes of an image on disk. */
typedef struct {
    long long compressed;   /* every blob of the layout: gzip layers, config, manifest */
    long long uncompressed; /* every regular file and symlink of the rootfs, each inode once */
} lm_oci_sizes;

/* LM_OK when umoci can be run; otherwise err names the package. */
int lm_oci_available(char *err);
/* Writes umoci's version ("umoci 0.4.7") into out. */
void lm_oci_version(char *out, size_t n);

/* Builds spec's image and bundle unless spec->layout already holds an image
 * of the same inputs (base, file contents, entrypoint, env): the inputs'
 * hash is kept in "<layout>.json" beside it, with the sizes. Concurrent
 * callers (other lumos processes too) build it once: a lock file
 * "<layout>.lock" serialises them. *built (may be NULL) says whether it was
 * built now. On LM_ERR err names the failed step and umoci's message. */
int lm_oci_ensure(const lm_oci_spec *spec, int *built, char *err);

/* The sizes of layout (its blobs) and rootfs (an unpacked bundle's
 * rootfs). LM_ERR when either cannot be read. */
int lm_oci_sizes_of(const char *layout, const char *rootfs, lm_oci_sizes *out, char *err);

/* The folder that caches bases: $LUMOS_CACHE, else LM_SOURCE_DIR/build/cache. */
const char *lm_oci_cache_dir(void);

/* LM_OK when base can be used now: "scratch" always (given umoci);
 * "debian-slim" once lm_oci_base_build() has built it (otherwise err says
 * how). LM_ERR for an unknown base. */
int lm_oci_base_ready(const char *base, char *err);

/* Builds base once and caches it: for "debian-slim", debootstrap's minbase
 * root file system of bookworm from the Debian mirror apt uses (slimmed as
 * the slim images are: no manuals, docs, locales or apt lists) at
 * CACHE/debian-slim-rootfs/, and a one-layer image of it at
 * CACHE/debian-slim-image/. Takes minutes and needs the network to the
 * mirror; progress goes to the log named on stderr. A no-op for "scratch"
 * or a base already built. */
int lm_oci_base_build(const char *base, char *err);

/* The Debian mirror debootstrap uses: $LUMOS_DEBIAN_MIRROR, else the first
 * bookworm URI in apt's sources (/etc/apt/sources.list, sources.list.d/
 * *.list and *.sources), else http://deb.debian.org/debian. */
void lm_oci_debian_mirror(char *out, size_t n);

/* Helpers shared by oci.c and oci_base.c. */
/* Runs argv to completion with its output captured; on failure LM_ERR and
 * err holds the command, its exit status and the tail of its output. */
int lm_oci_tool(char *const argv[], char *err);
/* Finds a tool on PATH or in the sbin folders; LM_OK with its path. */
int lm_oci_find_tool(const char *name, char *out, size_t n);
/* Copies a file with its mode. */
int lm_oci_copy_file(const char *src, const char *dst, char *err);
/* Copies an OCI layout, hard-linking its blobs (they are immutable, named
 * by their digest) where the file system allows. */
int lm_oci_copy_layout(const char *src, const char *dst, char *err);

#endif
