/* knative_names.c -- a knative run's templates (experiment.h): the URL
 * template's tokens and a service's DNS-label name. Only util: the fuzz
 * target (tests/fuzz/fuzz_kn_names.c) builds it alone. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "experiment/experiment.h"

int lm_exp_expand(const char *tmpl, const char *function, const char *runtime, const char *service,
                  char *out, size_t n, char *err) {
    static const char *const names[] = {"function", "runtime", "service"};
    const char *vals[] = {function, runtime, service};
    size_t o = 0;
    for (const char *p = tmpl; *p;) {
        if (*p == '}')
            return lm_errf(err, "template '%s': a '}' without its '{' at column %d", tmpl,
                           (int)(p - tmpl) + 1);
        if (*p != '{') {
            if (o + 1 >= n) return lm_errf(err, "template '%s': the result is too long", tmpl);
            out[o++] = *p++;
            continue;
        }
        const char *end = strchr(p, '}');
        if (!end)
            return lm_errf(err, "template '%s': '{' at column %d is not closed by '}'", tmpl,
                           (int)(p - tmpl) + 1);
        size_t len = (size_t)(end - p - 1);
        int k = -1;
        for (int i = 0; i < 3; i++)
            if (strlen(names[i]) == len && strncmp(p + 1, names[i], len) == 0) k = i;
        if (k < 0)
            return lm_errf(err,
                           "template '%s': unknown token {%.*s} (known: {function}, {runtime}, "
                           "{service})",
                           tmpl, (int)len, p + 1);
        const char *v = vals[k] ? vals[k] : "";
        size_t vl = strlen(v);
        if (o + vl + 1 >= n) return lm_errf(err, "template '%s': the result is too long", tmpl);
        memcpy(out + o, v, vl);
        o += vl;
        p = end + 1;
    }
    out[o] = 0;
    return LM_OK;
}

int lm_exp_service_name(const char *tmpl, const char *function, const char *runtime, char *out,
                        size_t n, char *err) {
    char raw[512];
    if (lm_exp_expand(tmpl ? tmpl : "{function}-{runtime}", function, runtime, NULL, raw,
                      sizeof raw, err) != LM_OK)
        return LM_ERR;
    size_t o = 0;
    for (const char *p = raw; *p && o + 1 < sizeof raw; p++) {
        char c = (char)tolower((unsigned char)*p);
        if (!isalnum((unsigned char)c)) c = '-';
        if (c == '-' && (o == 0 || out[o - 1] == '-')) continue; /* no leading or double '-' */
        if (o + 1 >= n) return lm_errf(err, "service name of %s@%s too long", function, runtime);
        out[o++] = c;
    }
    while (o > 0 && out[o - 1] == '-')
        o--;
    out[o] = 0;
    /* A DNS-1035 label, and room for Knative's "-00001" revision suffix. */
    if (o == 0 || !isalpha((unsigned char)out[0]))
        return lm_errf(err, "service name '%s' of %s@%s must begin with a letter", out, function,
                       runtime);
    if (o > 57)
        return lm_errf(err, "service name '%s' of %s@%s is over 57 characters", out, function,
                       runtime);
    return LM_OK;
}
