/* kubectl.c -- how a knative run makes a cold request cold (internal.h):
 * kubectl against the user's KUBECONFIG, waiting for a service's pods to
 * reach zero (--cold zero) or for a new revision to be ready (--cold
 * revision). Knative's scale-to-zero grace period is global, so a run
 * cannot shorten it per service: it waits. */
#include "experiment/internal.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proto/clock.h"

/* Runs argv with its stdout into out (n bytes, NUL-ended, truncated) and
 * its stderr into why (LM_ERRLEN); kills it after timeout_ms. Returns its
 * exit code, or -1 with why when it could not run or was killed. */
static int capture(char *const argv[], char *out, size_t n, int timeout_ms, char *why) {
    int po[2], pe[2];
    out[0] = why[0] = 0;
    if (pipe(po) != 0) return lm_errf(why, "pipe: %s", strerror(errno)), -1;
    if (pipe(pe) != 0) {
        close(po[0]);
        close(po[1]);
        return lm_errf(why, "pipe: %s", strerror(errno)), -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(po[0]), close(po[1]), close(pe[0]), close(pe[1]);
        return lm_errf(why, "fork: %s", strerror(errno)), -1;
    }
    if (pid == 0) {
        dup2(po[1], 1);
        dup2(pe[1], 2);
        close(po[0]), close(po[1]), close(pe[0]), close(pe[1]);
        execvp(argv[0], argv);
        fprintf(stderr, "cannot run %s: %s", argv[0], strerror(errno));
        _exit(127);
    }
    close(po[1]);
    close(pe[1]);
    size_t on = 0, en = 0;
    uint64_t deadline = lm_now_ns() + (uint64_t)timeout_ms * 1000000u;
    struct pollfd fds[2] = {{.fd = po[0], .events = POLLIN}, {.fd = pe[0], .events = POLLIN}};
    int open_fds = 2, killed = 0;
    while (open_fds > 0) {
        uint64_t now = lm_now_ns();
        if (now >= deadline) {
            kill(pid, SIGKILL);
            killed = 1;
            break;
        }
        int rc = poll(fds, 2, (int)((deadline - now) / 1000000u) + 1);
        if (rc < 0 && errno == EINTR) continue;
        if (rc < 0) break;
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            char buf[1024];
            ssize_t r = read(fds[i].fd, buf, sizeof buf);
            if (r <= 0) {
                close(fds[i].fd);
                fds[i].fd = -1;
                open_fds--;
                continue;
            }
            char *dst = i == 0 ? out : why;
            size_t *len = i == 0 ? &on : &en, cap = i == 0 ? n : LM_ERRLEN;
            size_t take = (size_t)r < cap - 1 - *len ? (size_t)r : cap - 1 - *len;
            memcpy(dst + *len, buf, take);
            *len += take;
            dst[*len] = 0;
        }
    }
    for (int i = 0; i < 2; i++)
        if (fds[i].fd >= 0) close(fds[i].fd);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    why[strcspn(why, "\n")] = 0;
    if (killed) return lm_errf(why, "%s did not answer within %d ms", argv[0], timeout_ms), -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int has_line(const char *s) {
    for (; *s; s++)
        if (*s != ' ' && *s != '\n' && *s != '\r' && *s != '\t') return 1;
    return 0;
}

static void pause_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

int lm__kn_force_cold(const lm_exp_knative *kn, const char *service, volatile sig_atomic_t *stop,
                      lm__kn_cold_wait *w, char *err) {
    memset(w, 0, sizeof *w);
    if (kn->cold == LM_EXP_COLD_NONE) return LM_OK;
    const char *k = kn->kubectl ? kn->kubectl : "kubectl";
    const char *ns = kn->kube_namespace ? kn->kube_namespace : "default";
    int timeout_s = kn->cold_timeout_s > 0 ? kn->cold_timeout_s : 300;
    uint64_t t0 = lm_now_ns(), deadline = t0 + (uint64_t)timeout_s * 1000000000u;
    char out[8192], why[LM_ERRLEN], label[300], prev[256] = "";
    snprintf(label, sizeof label, "serving.knative.dev/service=%s", service);
    char *pods[] = {(char *)k, "get", "pods", "-n", (char *)ns, "-l", label, "-o", "name", NULL};
    char *rev[] = {(char *)k, "get",      "ksvc", (char *)service,
                   "-n",      (char *)ns, "-o",   "jsonpath={.status.latestReadyRevisionName}",
                   NULL};
    if (kn->cold == LM_EXP_COLD_REVISION) {
        int rc = capture(rev, out, sizeof out, 30000, why);
        w->calls++;
        if (rc != 0)
            return lm_errf(err, "%s get ksvc %s -n %s: %s", k, service, ns,
                           why[0] ? why : "failed");
        snprintf(prev, sizeof prev, "%.255s", out);
        char patch[256];
        snprintf(patch, sizeof patch,
                 "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"lumos.dev/"
                 "cold-start\":\"%llu\"}}}}}",
                 (unsigned long long)lm_wall_ns());
        char *p[] = {(char *)k, "patch", "ksvc", (char *)service, "-n", (char *)ns,
                     "--type",  "merge", "-p",   patch,           NULL};
        rc = capture(p, out, sizeof out, 30000, why);
        w->calls++;
        if (rc != 0)
            return lm_errf(err, "%s patch ksvc %s (a new revision): %s", k, service,
                           why[0] ? why : "failed");
    }
    for (;;) {
        if (stop && *stop) return lm_errf(err, "stopped");
        int done;
        if (kn->cold == LM_EXP_COLD_REVISION) {
            int rc = capture(rev, out, sizeof out, 30000, why);
            w->calls++;
            if (rc != 0)
                return lm_errf(err, "%s get ksvc %s: %s", k, service, why[0] ? why : "failed");
            done = has_line(out) && strcmp(out, prev) != 0;
        } else {
            int rc = capture(pods, out, sizeof out, 30000, why);
            w->calls++;
            if (rc != 0)
                return lm_errf(err, "%s get pods -l %s -n %s: %s", k, label, ns,
                               why[0] ? why : "failed");
            done = !has_line(out);
        }
        if (done) break;
        if (lm_now_ns() >= deadline)
            return lm_errf(err,
                           "service %s: %s after %d s (--cold-timeout; Knative's "
                           "scale-to-zero-grace-period and stable window decide how long it "
                           "takes)",
                           service,
                           kn->cold == LM_EXP_COLD_REVISION ? "no new revision ready"
                                                            : "its pods did not reach zero",
                           timeout_s);
        pause_ms(1000);
    }
    w->waited_ns = lm_now_ns() - t0;
    return LM_OK;
}
