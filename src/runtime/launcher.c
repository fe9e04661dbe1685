/* launcher.c -- placement ahead of need: launchers (lumos-launch park,
 * src/helpers/launch_main.c) started before an instance is asked for, each
 * of which makes its own cgroup, joins it, opens its channel and waits.
 * On cgroup v1 the first move of a process into a group after a quiet
 * moment waits for an RCU grace period (7-12 ms here), and making the
 * directories sometimes does too; a parked launcher has paid both before
 * the start, so an instance's placement is taking one (microseconds) and
 * its spawn is one write and one exec. runtime.h has the contract
 * (lm_instances_park); this file keeps the pool. One thread at a time. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime.h"
#include "runtime/internal.h"

#define PARK_MAX 32

typedef struct {
    int used;
    lm_child child;     /* its pid, and our ends of its channel */
    int cmd, status;    /* our ends of its fds 3 (command) and 4 (report) */
    int stderr_capture; /* its stderr file (capture mode), or -1 */
    int capture;        /* 1: stderr captured; 0: inherited */
    uint64_t memory_limit;
    lm_cgroup cg;
    char cgroup_name[64];
    int state;         /* 0 placing, 1 parked, -1 failed */
    uint64_t ahead_ns; /* how long its placement took */
    char line[128];    /* the report, as it comes */
    size_t got;
} parked;

static parked park[PARK_MAX];
static unsigned park_seq;

static void close_fd(int *fd) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
}

/* Lets a launcher go: it exits at the end of its command pipe. */
static void dispose(parked *p) {
    close_fd(&p->cmd);
    close_fd(&p->status);
    lm_child_stop(&p->child, 1000);
    lm_cgroup_destroy(&p->cg);
    close_fd(&p->stderr_capture);
    p->used = 0;
}

/* Reads what a launcher has reported so far, without waiting. */
static void poll_report(parked *p) {
    if (p->state != 0) return;
    for (;;) {
        ssize_t r = read(p->status, p->line + p->got, sizeof(p->line) - 1 - p->got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0 && errno == EAGAIN) return;
        if (r <= 0) { /* it ended without a word */
            p->state = -1;
            return;
        }
        p->got += (size_t)r;
        p->line[p->got] = 0;
        if (!strchr(p->line, '\n') && p->got < sizeof(p->line) - 1) continue;
        unsigned long long t0, t1;
        if (sscanf(p->line, "ok %llu %llu", &t0, &t1) == 2 && t1 >= t0) {
            p->state = 1;
            p->ahead_ns = t1 - t0;
        } else {
            p->state = -1;
        }
        return;
    }
}

/* Starts one launcher for opts' memory limit and stderr mode. */
static int park_one(parked *p, const lm_start_opts *o, char *err) {
    memset(p, 0, sizeof(*p));
    p->cmd = p->status = p->stderr_capture = -1;
    p->child.pid = -1;
    p->child.in = p->child.out = -1;
    p->capture = o->stderr_fd == LM_STDERR_CAPTURE;
    p->memory_limit = o->memory_limit;
    snprintf(p->cgroup_name, sizeof(p->cgroup_name), "%d-p%u", (int)getpid(), ++park_seq);
    lm_cgroup_step steps[LM_CGROUP_MAX_STEPS];
    int nsteps;
    if (lm_cgroup_plan(&p->cg, p->cgroup_name, o->memory_limit, steps, LM_CGROUP_MAX_STEPS, &nsteps,
                       err) != LM_OK)
        return LM_ERR;
    char exe[4096];
    if ((size_t)snprintf(exe, sizeof(exe), "%s/lumos-launch", lm_libexec_dir()) >= sizeof(exe) ||
        access(exe, X_OK) != 0) {
        memset(&p->cg, 0, sizeof(p->cg));
        return lm_errf(err, "%s not found: run make (it builds Lumos' helper programs)", exe);
    }
    lm_strv argv = {0};
    lm_strv_add(&argv, exe);
    lm_strv_add(&argv, "park");
    for (int i = 0; i < nsteps; i++) {
        lm_strv_add(&argv, steps[i].op == 'd'   ? "--mkdir"
                           : steps[i].op == 'w' ? "--write"
                                                : "--try");
        if (steps[i].op == 'd')
            lm_strv_add(&argv, steps[i].path);
        else
            lm_strv_addf(&argv, "%s=%s", steps[i].path, steps[i].value);
    }
    for (int i = 0; i < p->cg.ndirs; i++) {
        lm_strv_add(&argv, "--join");
        lm_strv_add(&argv, p->cg.procs[i]);
    }
    int cmd[2] = {-1, -1}, status[2] = {-1, -1};
    int rc = argv.v ? LM_OK : lm_errf(err, "out of memory");
    if (rc == LM_OK && (pipe2(cmd, O_CLOEXEC) || pipe2(status, O_CLOEXEC | O_NONBLOCK)))
        rc = lm_errf(err, "pipe: %s", strerror(errno));
    int errfd = o->stderr_fd == LM_STDERR_CAPTURE ? -1 : o->stderr_fd;
    if (rc == LM_OK && p->capture) {
        const char *tmp = getenv("TMPDIR");
        p->stderr_capture = open(tmp && *tmp ? tmp : "/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (p->stderr_capture < 0)
            rc = lm_errf(err, "cannot make a temporary file for stderr: %s", strerror(errno));
        errfd = p->stderr_capture;
    }
    if (rc == LM_OK) {
        /* Its end of the report pipe must block for it: a fresh one. */
        int extra[2] = {cmd[0], status[1]};
        fcntl(status[1], F_SETFL, 0);
        rc = lm_spawn_fds(argv.v, NULL, NULL, 1, errfd, NULL, extra, 2, &p->child, err);
    }
    lm_strv_free(&argv);
    if (cmd[0] >= 0) close(cmd[0]);
    if (status[1] >= 0) close(status[1]);
    if (rc != LM_OK) {
        if (cmd[1] >= 0) close(cmd[1]);
        if (status[0] >= 0) close(status[0]);
        close_fd(&p->stderr_capture);
        memset(&p->cg, 0, sizeof(p->cg));
        return LM_ERR;
    }
    p->cmd = cmd[1];
    p->status = status[0];
    p->used = 1;
    return LM_OK;
}

static int matches(const parked *p, const lm_start_opts *o) {
    return p->used && p->memory_limit == o->memory_limit &&
           p->capture == (o->stderr_fd == LM_STDERR_CAPTURE);
}

/* Launchers may be parked for these options: a group of our own, stderr
 * captured or inherited (not another descriptor, which a launcher started
 * earlier cannot have). */
static int parkable(const lm_start_opts *o) {
    return !o->no_cgroup && (o->stderr_fd == LM_STDERR_CAPTURE || o->stderr_fd == -1);
}

int lm_instances_park(const lm_start_opts *o, int n, char *err) {
    if (!parkable(o)) return lm_errf(err, "no launcher can be parked for a start without a cgroup");
    int have = 0;
    for (int i = 0; i < PARK_MAX; i++) {
        if (!matches(&park[i], o)) continue;
        poll_report(&park[i]);
        if (park[i].state < 0)
            dispose(&park[i]);
        else
            have++;
    }
    for (int i = 0; i < PARK_MAX && have < n; i++) {
        if (park[i].used) continue;
        if (park_one(&park[i], o, err) != LM_OK) return LM_ERR;
        have++;
    }
    return LM_OK;
}

void lm_instances_unpark(void) {
    for (int i = 0; i < PARK_MAX; i++)
        if (park[i].used) dispose(&park[i]);
}

int lm__launcher_take(const lm_start_opts *o, lm_instance *inst) {
    if (!parkable(o)) return LM_ERR;
    for (int i = 0; i < PARK_MAX; i++) {
        parked *p = &park[i];
        if (!matches(p, o)) continue;
        poll_report(p);
        if (p->state < 0) {
            dispose(p);
            continue;
        }
        if (p->state != 1) continue; /* still placing itself */
        inst->child = p->child;
        inst->cgroup = p->cg;
        snprintf(inst->cgroup_name, sizeof(inst->cgroup_name), "%s", p->cgroup_name);
        inst->stderr_capture = p->stderr_capture;
        inst->launch_fd = p->cmd;
        inst->placed_ahead_ns = p->ahead_ns;
        close(p->status);
        p->used = 0;
        return LM_OK;
    }
    return LM_ERR;
}
