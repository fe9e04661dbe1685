/* tbf.c -- bandwidth in the kernel: a tbf root qdisc on an interface, set
 * and removed with iproute2's tc (shape.h). tc's own words become the
 * error, so "Operation not permitted" or "Cannot find device" reach the
 * user as the kernel said them. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shape/shape.h"
#include "util/util.h"

uint64_t lm_shape_tbf_burst(uint64_t rate_bps) {
    uint64_t b = rate_bps / 8 / 1000; /* 1 ms of the rate */
    return b < 6056 ? 6056 : b;
}

/* Interface and namespace names go to argv, never a shell; still, only the
 * characters the kernel and ip allow. */
static int name_ok(const char *s, size_t max) {
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max) return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr("-_.@", s[i])) return 0;
    return 1;
}

/* Runs argv, its stdout and stderr captured into out (n bytes); returns
 * the exit status, or -1 when it did not run. */
static int run_capture(char *const argv[], char *out, size_t n) {
    int fds[2];
    out[0] = 0;
    if (pipe(fds) < 0) return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]), close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        execvp(argv[0], argv);
        dprintf(2, "%s: not found (install iproute2: scripts/setup)", argv[0]);
        _exit(127);
    }
    close(fds[1]);
    size_t len = 0;
    ssize_t r;
    while ((r = read(fds[0], out + len, n - 1 - len)) > 0 && len + (size_t)r < n - 1)
        len += (size_t)r;
    if (r > 0) len += (size_t)r;
    out[len] = 0;
    char sink[256];
    while (read(fds[0], sink, sizeof sink) > 0) {
    }
    close(fds[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0) {
    }
    while (len && isspace((unsigned char)out[len - 1]))
        out[--len] = 0;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int tc(const char *netns, const char *const *args, const char *what, const char *ifname,
              int tolerate_missing, char *err) {
    const char *argv[24];
    int k = 0;
    if (netns) argv[k++] = "ip", argv[k++] = "netns", argv[k++] = "exec", argv[k++] = netns;
    argv[k++] = "tc";
    for (int i = 0; args[i] && k < 23; i++)
        argv[k++] = args[i];
    argv[k] = NULL;
    char out[512];
    int rc = run_capture((char *const *)argv, out, sizeof out);
    if (rc == 0) return LM_OK;
    if (tolerate_missing &&
        (strstr(out, "No such file") || strstr(out, "Cannot delete qdisc with handle of zero")))
        return LM_OK;
    return lm_errf(err, "tbf %s on %s%s%s: tc failed: %s", what, ifname, netns ? " in netns " : "",
                   netns ? netns : "", out[0] ? out : "(no message)");
}

int lm_shape_tbf_set(const char *ifname, const char *netns, uint64_t rate_bps, uint64_t burst,
                     uint64_t latency_ns, char *err) {
    if (!name_ok(ifname, 15))
        return lm_errf(err, "tbf: '%s' is not an interface name", ifname ? ifname : "");
    if (netns && !name_ok(netns, 200)) return lm_errf(err, "tbf: '%s' is not a netns name", netns);
    if (rate_bps < 8) return lm_errf(err, "tbf: a rate of at least 8bit");
    if (!burst) burst = lm_shape_tbf_burst(rate_bps);
    if (!latency_ns) latency_ns = 50000000ull;
    char r[32], b[32], l[32];
    snprintf(r, sizeof r, "%llubit", (unsigned long long)rate_bps);
    snprintf(b, sizeof b, "%llu", (unsigned long long)burst);
    snprintf(l, sizeof l, "%lluus", (unsigned long long)(latency_ns / 1000));
    const char *args[] = {"qdisc", "replace", "dev", ifname,    "root", "tbf", "rate",
                          r,       "burst",   b,     "latency", l,      NULL};
    return tc(netns, args, "set", ifname, 0, err);
}

int lm_shape_tbf_clear(const char *ifname, const char *netns, char *err) {
    if (!name_ok(ifname, 15))
        return lm_errf(err, "tbf: '%s' is not an interface name", ifname ? ifname : "");
    if (netns && !name_ok(netns, 200)) return lm_errf(err, "tbf: '%s' is not a netns name", netns);
    const char *args[] = {"qdisc", "del", "dev", ifname, "root", NULL};
    return tc(netns, args, "clear", ifname, 1, err);
}
