/* push.c -- `lumos push`: an image of an OCI layout copied to a registry
 * with skopeo (Debian package), manifest and blobs as they are
 * (--preserve-digests: the digest the layout has is the one the registry
 * serves). */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "builder/oci.h"
#include "internal.h"

int lm_deploy_push(const char *layout, const char *tag_in, const char *dest, int tls_verify,
                   char *err) {
    char skopeo[PATH_MAX];
    if (lm_which("skopeo", skopeo, sizeof(skopeo)) != LM_OK)
        return lm_errf(err, "skopeo not found on PATH: run scripts/setup (Debian package skopeo)");
    char src[PATH_MAX + 80];
    if (lm_pathf(src, sizeof(src), "oci:%s:%s", layout, tag_in) != LM_OK)
        return lm_errf(err, "path too long: %s", layout);
    char tls[32];
    snprintf(tls, sizeof(tls), "--dest-tls-verify=%s", tls_verify ? "true" : "false");
    /* No policy.json is needed for a copy out of a local layout we made:
     * --insecure-policy accepts it without a system policy file. */
    char *argv[] = {"skopeo", "copy", "--insecure-policy", "--quiet", "--preserve-digests",
                    tls,      src,    (char *)dest,        NULL};
    char why[LM_ERRLEN];
    if (lm_oci_tool(argv, why) != LM_OK) return lm_errf(err, "push to %s: %s", dest, why);
    return LM_OK;
}
