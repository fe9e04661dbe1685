/* test_telemetry.c -- per-instance telemetry on real instances of the built
 * artifacts (run `make` first): CPU attribution against the process's own
 * scheduler run time (native and wasm-aot), a request's memory peak after a
 * reset, the /proc fallback, the sampler, a removed cgroup, and the v2 and
 * cpuacct.stat parsers on files laid out as the kernel writes them. The
 * kept-open handle (lm_telemetry_open) on real groups holding a forked
 * worker: agreement with lm_telemetry_read, CPU attribution against the
 * worker's own CPU clock, the peak reset, /proc, bad inputs. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "channel/channel.h"
#include "observe/telemetry.h"
#include "runtime/runtime.h"

#define MIB (1024ull * 1024ull)

static void start(const char *rt_name, const char *fn, int no_cgroup, lm_instance *inst) {
    char err[LM_ERRLEN];
    const lm_runtime *rt = lm_runtime_find(rt_name, err);
    assert_non_null(rt);
    lm_start_opts o = {
        .artifacts = lm_artifacts_dir(NULL), .stderr_fd = -1, .no_cgroup = no_cgroup};
    if (lm_instance_start(rt, fn, &o, inst, err) != LM_OK) fail_msg("start: %s", err);
    uint64_t ready;
    if (lm_wait_ready(inst, 20000, &ready, err) != LM_OK) fail_msg("ready: %s", err);
}

static void call(lm_instance *inst, const char *body, lm_call_result *r) {
    char err[LM_ERRLEN];
    if (lm_call(inst, body, strlen(body), NULL, 60000, NULL, NULL, r, err) != LM_OK)
        fail_msg("call %s: %s", body, err);
    if (r->status != 200) fail_msg("call %s: status %d: %s", body, r->status, r->body);
}

/* Skips a test that needs per-instance cgroups when the machine gives none
 * (not root, no writable hierarchy). */
static void need_cgroups(void) {
    char err[LM_ERRLEN];
    if (lm_cgroup_version(err) == 0) {
        printf("  skipped: %s\n", err);
        skip();
    }
}

/* The source a reading from an instance's own group has. */
static int cgroup_source(const lm_instance *inst) {
    return inst->cgroup.version == 2 ? LM_USAGE_CGROUP_V2 : LM_USAGE_CGROUP_V1;
}

static void read_ok(const lm_instance *inst, lm_usage *u) {
    char err[LM_ERRLEN];
    if (lm_telemetry_read(&inst->cgroup, inst->child.pid, u, err) != LM_OK)
        fail_msg("read %s: %s", inst->id, err);
}

/* The process's own CPU clock: the first field of /proc/PID/schedstat, its
 * scheduler run time in ns, read per process rather than from the group
 * Lumos reads (v1's cpuacct counts the same clock, so attribution must
 * match it closely; the /proc fallback counts 10 ms ticks). Unlike the
 * compute probe, a wall clock, a busy machine does not stretch it. */
static uint64_t sched_ns(pid_t pid) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/schedstat", (int)pid);
    FILE *f = fopen(path, "r");
    unsigned long long ns = 0;
    if (!f || fscanf(f, "%llu", &ns) != 1) fail_msg("read %s: %s", path, strerror(errno));
    fclose(f);
    return ns;
}

/* One CPU-bound request: the CPU time attributed to it (the delta around
 * the call) must match the process's scheduler run time within 10%, and
 * may not exceed the function's compute probe (its own wall clock) by more
 * than that. */
static int attribution_once(const char *rt_name, int no_cgroup, const char *body, int reps,
                            int want_source) {
    lm_instance inst;
    start(rt_name, "fibonacci", no_cgroup, &inst);
    if (!no_cgroup) {
        assert_int_not_equal(inst.cgroup.version, 0);
        want_source = cgroup_source(&inst);
    }
    lm_usage before, after, d;
    read_ok(&inst, &before);
    uint64_t sched0 = sched_ns(inst.child.pid);
    uint64_t compute = 0;
    for (int i = 0; i < reps; i++) {
        lm_call_result r;
        call(&inst, body, &r);
        compute += r.probes[LM_PROBE_COMPUTE_NS];
        lm_call_result_free(&r);
    }
    uint64_t sched = sched_ns(inst.child.pid) - sched0;
    read_ok(&inst, &after);
    lm_usage_delta(&before, &after, &d);
    assert_int_equal(before.source, want_source);
    assert_int_equal(d.source, want_source);
    uint64_t cpu = d.cpu_user_ns + d.cpu_system_ns;
    double ratio = (double)cpu / (double)sched;
    printf("  %-9s %-9s %d request(s): compute %.1f ms, attributed CPU %.1f ms "
           "(user %.1f, system %.1f), scheduler run time %.1f ms, ratio %.3f\n",
           rt_name, lm_usage_source_name(d.source), reps, compute / 1e6, cpu / 1e6,
           d.cpu_user_ns / 1e6, d.cpu_system_ns / 1e6, sched / 1e6, ratio);
    assert_true(compute > 100000000ull);          /* it really computed */
    assert_true(d.cpu_user_ns > d.cpu_system_ns); /* a loop, not system calls */
    assert_true(cpu < compute * 1.1);             /* CPU time within the wall clock */
    lm_instance_stop(&inst, 1000);
    return ratio > 0.9 && ratio < 1.1;
}

/* A reading that straddles a tick boundary unluckily is repeated, at most
 * twice. */
static void cpu_attribution(const char *rt_name, int no_cgroup, const char *body, int reps,
                            int want_source) {
    for (int attempt = 0; attempt < 3; attempt++)
        if (attribution_once(rt_name, no_cgroup, body, reps, want_source)) return;
    fail_msg("%s: attributed CPU time and scheduler run time differ by 10%% or more", rt_name);
}

static void test_cpu_attribution_native(void **state) {
    (void)state;
    need_cgroups();
    cpu_attribution("native", 0, "{\"n\":1000000000}", 1, LM_USAGE_CGROUP_V1);
}

static void test_cpu_attribution_wasm_aot(void **state) {
    (void)state;
    char err[LM_ERRLEN];
    const lm_runtime *rt = lm_runtime_find("wasm-aot", err);
    assert_non_null(rt);
    if (rt->available(rt, err) != LM_OK) {
        printf("  skipped: %s\n", err);
        skip();
    }
    need_cgroups();
    cpu_attribution("wasm-aot", 0, "{\"n\":1000000000}", 1, LM_USAGE_CGROUP_V1);
}

/* The /proc fallback counts 10 ms ticks: four requests (about 1 s here)
 * keep that under 10%. */
static void test_cpu_attribution_proc(void **state) {
    (void)state;
    cpu_attribution("native", 1, "{\"n\":1000000000}", 4, LM_USAGE_PROC);
}

/* A request that takes 200 MiB: after a reset, the peak is that request's. */
static void test_memory_peak_after_reset(void **state) {
    (void)state;
    need_cgroups();
    lm_instance inst;
    start("native", "faulty", 0, &inst);
    lm_call_result r;
    call(&inst, "{\"mode\":\"ok\"}", &r);
    lm_call_result_free(&r);
    assert_int_equal(lm_telemetry_reset_peak(&inst.cgroup), LM_OK);
    lm_usage before, after, d;
    read_ok(&inst, &before);
    /* Just reset: the peak is about the current usage of a small process. */
    assert_true(before.mem_peak_bytes < 32 * MIB);
    assert_true(before.mem_peak_bytes >= before.mem_current_bytes / 2);
    call(&inst, "{\"mode\":\"oom\",\"mb\":200}", &r);
    lm_call_result_free(&r);
    read_ok(&inst, &after);
    lm_usage_delta(&before, &after, &d);
    printf("  native cgroup-v1: current before %.1f MiB, request peak %.1f MiB, current after "
           "%.1f MiB\n",
           before.mem_current_bytes / (double)MIB, d.mem_peak_bytes / (double)MIB,
           after.mem_current_bytes / (double)MIB);
    assert_true(d.mem_peak_bytes >= 200 * MIB);
    assert_true(d.mem_peak_bytes < 300 * MIB);
    assert_true(after.mem_current_bytes >= 200 * MIB); /* faulty keeps what it took */
    /* A reset brings the peak down to the usage of the moment. */
    assert_int_equal(lm_telemetry_reset_peak(&inst.cgroup), LM_OK);
    read_ok(&inst, &after);
    assert_true(after.mem_peak_bytes < after.mem_current_bytes + 8 * MIB);
    lm_telemetry_release(&inst.cgroup); /* nothing kept on v1: a no-op */
    lm_instance_stop(&inst, 1000);
}

/* /proc: RSS and its peak (VmHWM), resettable through clear_refs. */
static void test_proc_memory(void **state) {
    (void)state;
    lm_instance inst;
    start("native", "faulty", 1, &inst);
    assert_int_equal(inst.cgroup.version, 0);
    assert_int_equal(lm_telemetry_reset_peak(&inst.cgroup), LM_ERR); /* no group */
    lm_usage u0, u1;
    read_ok(&inst, &u0);
    assert_int_equal(u0.source, LM_USAGE_PROC);
    /* A static executable: some hundreds of KiB resident. */
    assert_true(u0.mem_current_bytes >= 64 * 1024 && u0.mem_current_bytes < 64 * MIB);
    assert_true(u0.mem_peak_bytes >= u0.mem_current_bytes);
    lm_call_result r;
    call(&inst, "{\"mode\":\"oom\",\"mb\":64}", &r);
    lm_call_result_free(&r);
    read_ok(&inst, &u1);
    printf("  native proc: RSS %.1f MiB before, %.1f MiB after 64 MiB, VmHWM %.1f MiB\n",
           u0.mem_current_bytes / (double)MIB, u1.mem_current_bytes / (double)MIB,
           u1.mem_peak_bytes / (double)MIB);
    assert_true(u1.mem_current_bytes >= 64 * MIB && u1.mem_current_bytes < 96 * MIB);
    assert_true(u1.mem_peak_bytes >= u1.mem_current_bytes);
    assert_int_equal(lm_telemetry_reset_peak_pid(inst.child.pid), LM_OK);
    assert_int_equal(lm_telemetry_reset_peak_pid(0), LM_ERR);
    pid_t pid = inst.child.pid;
    lm_instance_stop(&inst, 1000);
    /* The process has ended: a clear error, not zeros. */
    char err[LM_ERRLEN];
    lm_usage u;
    assert_int_equal(lm_telemetry_read(NULL, pid, &u, err), LM_ERR);
    assert_non_null(strstr(err, "has ended"));
    assert_int_equal(u.source, LM_USAGE_NONE);
}

/* The sampler's records, kept by the callback. */
#define MAX_SAMPLES 256
typedef struct {
    pthread_mutex_t mu;
    int n[2], null_n[2];
    uint64_t t[2][MAX_SAMPLES];
    lm_sampler *self;
    int remove_b_in_cb;
} samples;

static void on_sample(void *arg, const char *id, uint64_t t_ns, const lm_usage *u) {
    samples *s = arg;
    int k = strcmp(id, "a") == 0 ? 0 : strcmp(id, "b") == 0 ? 1 : -1;
    if (k < 0) return;
    pthread_mutex_lock(&s->mu);
    if (!u)
        s->null_n[k]++;
    else if (s->n[k] < MAX_SAMPLES)
        s->t[k][s->n[k]++] = t_ns;
    int remove_b = k == 1 && s->remove_b_in_cb;
    pthread_mutex_unlock(&s->mu);
    if (remove_b) lm_sampler_remove(s->self, "b"); /* allowed from the callback */
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_sampler_two_instances(void **state) {
    (void)state;
    need_cgroups();
    lm_instance a, b;
    start("native", "noop", 0, &a);
    start("native", "noop", 1, &b); /* one from its cgroup, one from /proc */
    /* What one reading costs (a figure, not a test). */
    for (int k = 0; k < 2; k++) {
        lm_instance *in = k ? &b : &a;
        lm_usage u;
        uint64_t t0 = lm_now_ns();
        for (int i = 0; i < 1000; i++)
            read_ok(in, &u);
        printf("  one reading from %s: %.1f us\n", lm_usage_source_name(u.source),
               (lm_now_ns() - t0) / 1000 / 1e3);
    }
    samples s;
    memset(&s, 0, sizeof(s));
    pthread_mutex_init(&s.mu, NULL);
    char err[LM_ERRLEN];
    lm_sampler *sp = lm_sampler_start(20, on_sample, &s, err);
    if (!sp) fail_msg("%s", err);
    s.self = sp;
    assert_int_equal(lm_sampler_add(sp, "a", &a.cgroup, a.child.pid), LM_OK);
    assert_int_equal(lm_sampler_add(sp, "b", &b.cgroup, b.child.pid), LM_OK);
    /* Bad additions. */
    assert_int_equal(lm_sampler_add(sp, "a", &a.cgroup, a.child.pid), LM_ERR); /* duplicate */
    assert_int_equal(lm_sampler_add(sp, "c", NULL, 0), LM_ERR);                /* nothing to read */
    assert_int_equal(lm_sampler_add(sp, "", &a.cgroup, 0), LM_ERR);
    assert_int_equal(lm_sampler_add(NULL, "d", &a.cgroup, 0), LM_ERR);
    char long_id[100];
    memset(long_id, 'x', sizeof(long_id) - 1);
    long_id[sizeof(long_id) - 1] = 0;
    assert_int_equal(lm_sampler_add(sp, long_id, &a.cgroup, 0), LM_ERR);
    lm_sampler_remove(sp, "unknown"); /* ignored */
    sleep_ms(1000);
    lm_sampler_remove(sp, "a");
    pthread_mutex_lock(&s.mu);
    int na = s.n[0], nb1 = s.n[1];
    pthread_mutex_unlock(&s.mu);
    sleep_ms(200);
    pthread_mutex_lock(&s.mu);
    assert_int_equal(s.n[0], na); /* none after remove returned */
    int nb = s.n[1];
    s.remove_b_in_cb = 1;
    pthread_mutex_unlock(&s.mu);
    sleep_ms(200);
    pthread_mutex_lock(&s.mu);
    int nb2 = s.n[1];
    pthread_mutex_unlock(&s.mu);
    sleep_ms(100);
    lm_sampler_stop(sp);
    lm_sampler_stop(NULL);         /* a harmless no-op */
    assert_int_equal(s.n[1], nb2); /* removed from its own callback */
    assert_true(nb2 - nb <= 2);
    for (int k = 0; k < 2; k++) {
        int n = k ? nb1 : na;
        double mean_ms = (double)(s.t[k][n - 1] - s.t[k][0]) / (n - 1) / 1e6;
        printf("  sampler 20 ms: instance %c: %d samples in 1 s, mean interval %.2f ms\n", "ab"[k],
               n, mean_ms);
        assert_true(n >= 35 && n <= 52); /* 50 due; a loaded machine may delay some */
        assert_true(mean_ms > 18 && mean_ms < 25);
        assert_int_equal(s.null_n[k], 0);
    }
    pthread_mutex_destroy(&s.mu);
    lm_instance_stop(&a, 1000);
    lm_instance_stop(&b, 1000);
}

static void test_sampler_bad_start(void **state) {
    (void)state;
    char err[LM_ERRLEN];
    assert_null(lm_sampler_start(0, on_sample, NULL, err));
    assert_non_null(strstr(err, "interval_ms"));
    assert_null(lm_sampler_start(10, NULL, NULL, err));
}

/* A group that was removed (its instance stopped): LM_ERR naming it, in
 * a direct read, a reset, and as a NULL reading in the sampler. */
static void test_removed_cgroup(void **state) {
    (void)state;
    need_cgroups();
    lm_instance inst;
    start("native", "noop", 0, &inst);
    lm_cgroup cg = inst.cgroup;
    assert_int_not_equal(cg.version, 0);
    lm_instance_stop(&inst, 1000);
    char err[LM_ERRLEN];
    lm_usage u;
    assert_int_equal(lm_telemetry_read(&cg, 0, &u, err), LM_ERR);
    printf("  removed group: %s\n", err);
    assert_non_null(strstr(err, "gone"));
    assert_non_null(strstr(err, inst.cgroup_name));
    assert_int_equal(lm_telemetry_reset_peak(&cg), LM_ERR);
    samples s;
    memset(&s, 0, sizeof(s));
    pthread_mutex_init(&s.mu, NULL);
    lm_sampler *sp = lm_sampler_start(10, on_sample, &s, err);
    assert_non_null(sp);
    assert_int_equal(lm_sampler_add(sp, "a", &cg, 0), LM_OK);
    sleep_ms(100);
    lm_sampler_stop(sp);
    assert_true(s.null_n[0] >= 5);
    assert_int_equal(s.n[0], 0);
    pthread_mutex_destroy(&s.mu);
    /* Neither a group nor a pid. */
    assert_int_equal(lm_telemetry_read(NULL, 0, &u, err), LM_ERR);
    assert_non_null(strstr(err, "neither"));
    lm_telemetry_release(NULL); /* a harmless no-op */
}

/* A fake group in a temporary folder, with files as the kernel writes them. */
static void put(const char *dir, const char *file, const char *text) {
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void fake_group(lm_cgroup *cg, int version, char *dir) {
    strcpy(dir, "/tmp/lumos-telemetry-XXXXXX");
    assert_non_null(mkdtemp(dir));
    memset(cg, 0, sizeof(*cg));
    cg->version = version;
    cg->ndirs = 1;
    snprintf(cg->dirs[0], sizeof(cg->dirs[0]), "%s", dir);
    snprintf(cg->memory_dir, sizeof(cg->memory_dir), "%s", dir);
}

static void test_v2_files(void **state) {
    (void)state;
    lm_cgroup cg;
    char dir[64], err[LM_ERRLEN];
    fake_group(&cg, 2, dir);
    put(dir, "cpu.stat",
        "usage_usec 1500000\nuser_usec 1200000\nsystem_usec 300000\nnr_periods 0\n"
        "nr_throttled 0\nthrottled_usec 0\n");
    put(dir, "memory.current", "104857600\n");
    put(dir, "memory.peak", "209715200\n");
    lm_usage u;
    assert_int_equal(lm_telemetry_read(&cg, 0, &u, err), LM_OK);
    assert_int_equal(u.source, LM_USAGE_CGROUP_V2);
    assert_string_equal(lm_usage_source_name(u.source), "cgroup-v2");
    assert_int_equal(u.cpu_user_ns, 1200000000ull);
    assert_int_equal(u.cpu_system_ns, 300000000ull);
    assert_int_equal(u.mem_current_bytes, 100 * MIB);
    assert_int_equal(u.mem_peak_bytes, 200 * MIB);
    /* Before Linux 5.19 there is no memory.peak: peak unknown (0). */
    char path[128];
    snprintf(path, sizeof(path), "%s/memory.peak", dir);
    unlink(path);
    assert_int_equal(lm_telemetry_read(&cg, 0, &u, err), LM_OK);
    assert_int_equal(u.mem_peak_bytes, 0);
    assert_int_equal(lm_telemetry_reset_peak(&cg), LM_ERR); /* nothing to reset */
    /* A cpu.stat without the keys, a memory.current that is no number. */
    put(dir, "cpu.stat", "nr_periods 0\n");
    assert_int_equal(lm_telemetry_read(&cg, 0, &u, err), LM_ERR);
    assert_non_null(strstr(err, "usage_usec"));
    put(dir, "cpu.stat", "usage_usec 10\nuser_usec 0\nsystem_usec 0\n");
    put(dir, "memory.current", "max\n");
    assert_int_equal(lm_telemetry_read(&cg, 0, &u, err), LM_ERR);
    assert_non_null(strstr(err, "no number"));
    lm_rmtree(dir);
}

static void test_v1_stat_fallback(void **state) {
    (void)state;
    lm_cgroup cg;
    char dir[64], err[LM_ERRLEN];
    fake_group(&cg, 1, dir);
    /* An old kernel: cpuacct.usage and cpuacct.stat (ticks), no usage_user. */
    put(dir, "cpuacct.usage", "1000000000\n");
    put(dir, "cpuacct.stat", "user 75\nsystem 25\n");
    put(dir, "memory.usage_in_bytes", "4096\n");
    put(dir, "memory.max_usage_in_bytes", "8192\n");
    lm_usage u;
    assert_int_equal(lm_telemetry_read(&cg, 0, &u, err), LM_OK);
    assert_int_equal(u.source, LM_USAGE_CGROUP_V1_STAT);
    assert_int_equal(u.cpu_user_ns, 750000000ull);
    assert_int_equal(u.cpu_system_ns, 250000000ull);
    assert_int_equal(u.mem_current_bytes, 4096);
    assert_int_equal(u.mem_peak_bytes, 8192);
    /* With usage_user and usage_sys: their ratio splits the exact total. */
    put(dir, "cpuacct.usage_user", "600000000\n");
    put(dir, "cpuacct.usage_sys", "200000000\n");
    assert_int_equal(lm_telemetry_read(&cg, 0, &u, err), LM_OK);
    assert_int_equal(u.source, LM_USAGE_CGROUP_V1);
    assert_int_equal(u.cpu_user_ns, 750000000ull);
    assert_int_equal(u.cpu_system_ns, 250000000ull);
    /* No tick yet: all of it is user time. */
    put(dir, "cpuacct.usage_user", "0\n");
    put(dir, "cpuacct.usage_sys", "0\n");
    assert_int_equal(lm_telemetry_read(&cg, 0, &u, err), LM_OK);
    assert_int_equal(u.cpu_user_ns, 1000000000ull);
    assert_int_equal(u.cpu_system_ns, 0);
    lm_rmtree(dir);
}

static void test_usage_delta(void **state) {
    (void)state;
    lm_usage a = {100, 50, 10, 20, LM_USAGE_CGROUP_V1};
    lm_usage b = {180, 90, 30, 40, LM_USAGE_CGROUP_V1};
    lm_usage d;
    lm_usage_delta(&a, &b, &d);
    assert_int_equal(d.cpu_user_ns, 80);
    assert_int_equal(d.cpu_system_ns, 40);
    assert_int_equal(d.mem_current_bytes, 30);
    assert_int_equal(d.mem_peak_bytes, 40);
    assert_int_equal(d.source, LM_USAGE_CGROUP_V1);
    /* A re-split moved user time to system: the sum still holds. */
    lm_usage c = {95, 75, 0, 0, LM_USAGE_CGROUP_V1};
    lm_usage_delta(&a, &c, &d);
    assert_int_equal(d.cpu_user_ns, 0);
    assert_int_equal(d.cpu_system_ns, 20);
    /* Readings out of order (or a new group): never negative. */
    lm_usage_delta(&b, &a, &d);
    assert_int_equal(d.cpu_user_ns + d.cpu_system_ns, 0);
    assert_string_equal(lm_usage_source_name(LM_USAGE_PROC), "proc");
    assert_string_equal(lm_usage_source_name(LM_USAGE_CGROUP_V1_STAT), "cgroup-v1-stat");
    assert_string_equal(lm_usage_source_name(99), "none");
}

/* The kept-open handle. A worker is a forked child, in a group of its own
 * or none, that obeys one-byte commands on a pipe and answers each with 8
 * bytes: 'b' burns about 200 ms of CPU and answers the CPU time its own
 * clock measured; 'a' maps and touches 64 MiB; 'f' unmaps them. EOF ends
 * it. Memory comes from mmap, not malloc, so that ASan's quarantine does
 * not keep freed memory resident. */
typedef struct {
    pid_t pid;
    int cmd, ans; /* the parent's ends */
} worker;

#define WORKER_MIB 64

static uint64_t cpu_clock_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t burn(uint64_t ns) {
    uint64_t t0 = cpu_clock_ns(), t;
    volatile uint64_t x = 0;
    do {
        for (int i = 0; i < 100000; i++)
            x += (uint64_t)i * 2654435761u;
        t = cpu_clock_ns();
    } while (t - t0 < ns);
    return t - t0;
}

static void answer(int fd, uint64_t v) {
    if (write(fd, &v, sizeof(v)) != (ssize_t)sizeof(v)) _exit(3);
}

static void worker_main(int cmd, int ans, const lm_cgroup *cg) {
    const char *const *procs = cg ? lm_cgroup_procs(cg) : NULL;
    for (int i = 0; procs && procs[i]; i++) {
        int fd = open(procs[i], O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, "0", 1) != 1) _exit(2);
        close(fd);
    }
    answer(ans, 0); /* ready: in its group, idle from here on */
    size_t len = WORKER_MIB * MIB;
    char *mem = NULL, c;
    while (read(cmd, &c, 1) == 1) {
        uint64_t v = 0;
        if (c == 'b') v = burn(200000000ull);
        if (c == 'a' && !mem) {
            mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (mem == MAP_FAILED) _exit(4);
            memset(mem, 1, len);
        }
        if (c == 'f' && mem) {
            munmap(mem, len);
            mem = NULL;
        }
        answer(ans, v);
    }
    _exit(0);
}

static uint64_t worker_do(const worker *w, char c) {
    uint64_t v;
    if (c && write(w->cmd, &c, 1) != 1) fail_msg("worker %d: cannot send '%c'", (int)w->pid, c);
    if (read(w->ans, &v, sizeof(v)) != (ssize_t)sizeof(v))
        fail_msg("worker %d: no answer to '%c' (it died)", (int)w->pid, c ? c : '-');
    return v;
}

static void worker_start(worker *w, const lm_cgroup *cg) {
    int cmd[2], ans[2];
    assert_int_equal(pipe(cmd), 0);
    assert_int_equal(pipe(ans), 0);
    w->pid = fork();
    assert_true(w->pid >= 0);
    if (w->pid == 0) {
        close(cmd[1]);
        close(ans[0]);
        worker_main(cmd[0], ans[1], cg);
    }
    close(cmd[0]);
    close(ans[1]);
    w->cmd = cmd[1];
    w->ans = ans[0];
    worker_do(w, 0); /* ready */
}

/* Ends the worker and reaps it: its pid is then free. */
static void worker_stop(worker *w) {
    close(w->cmd);
    close(w->ans);
    int status;
    assert_int_equal(waitpid(w->pid, &status, 0), w->pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void group_create(lm_cgroup *cg) {
    static int seq;
    char name[64], err[LM_ERRLEN];
    snprintf(name, sizeof(name), "test-telemetry-%d-%d", (int)getpid(), seq++);
    if (lm_cgroup_create(cg, name, 0, err) != LM_OK) fail_msg("cgroup: %s", err);
}

static lm_telemetry *open_ok(const lm_cgroup *cg, pid_t pid) {
    char err[LM_ERRLEN];
    lm_telemetry *t = lm_telemetry_open(cg, pid, err);
    if (!t) fail_msg("open: %s", err);
    return t;
}

static void sample_ok(lm_telemetry *t, lm_usage *u, int reset) {
    char err[LM_ERRLEN];
    int rc = reset ? lm_telemetry_sample_and_reset(t, u, err) : lm_telemetry_sample(t, u, err);
    if (rc != LM_OK) fail_msg("sample: %s", err);
}

static void read_pid_ok(const lm_cgroup *cg, pid_t pid, lm_usage *u) {
    char err[LM_ERRLEN];
    if (lm_telemetry_read(cg, pid, u, err) != LM_OK) fail_msg("read: %s", err);
}

static uint64_t cpu_of(const lm_usage *u) { return u->cpu_user_ns + u->cpu_system_ns; }

/* A handle reading taken between two lm_telemetry_read readings of an idle
 * worker lies between them: the exact CPU total in order, its parts and
 * the memory within a little slack (a tick may re-split; v1's memory
 * counter is fuzzy by a per-CPU batch). After a reset (reset set) the
 * second reading's peak may be lower, never higher. */
static void assert_between(const lm_usage *r1, const lm_usage *s, const lm_usage *r2, int reset) {
    const uint64_t ms = 1000000ull, slack = 2 * MIB;
    printf("  %s: read %.3f ms / %.1f MiB, sample %.3f ms / %.1f MiB, read %.3f ms / %.1f MiB\n",
           lm_usage_source_name(s->source), cpu_of(r1) / 1e6, r1->mem_current_bytes / (double)MIB,
           cpu_of(s) / 1e6, s->mem_current_bytes / (double)MIB, cpu_of(r2) / 1e6,
           r2->mem_current_bytes / (double)MIB);
    assert_int_equal(s->source, r1->source);
    assert_true(cpu_of(r1) <= cpu_of(s) && cpu_of(s) <= cpu_of(r2));
    assert_true(s->cpu_user_ns + ms >= r1->cpu_user_ns && s->cpu_user_ns <= r2->cpu_user_ns + ms);
    assert_true(s->mem_current_bytes + slack >= r1->mem_current_bytes);
    assert_true(s->mem_current_bytes <= r2->mem_current_bytes + slack);
    assert_true(s->mem_peak_bytes + slack >= r1->mem_peak_bytes);
    if (reset)
        assert_true(r2->mem_peak_bytes <= s->mem_peak_bytes + slack);
    else
        assert_true(s->mem_peak_bytes <= r2->mem_peak_bytes + slack);
}

static void test_handle_agrees_with_read(void **state) {
    (void)state;
    need_cgroups();
    lm_cgroup cg;
    group_create(&cg);
    worker w;
    worker_start(&w, &cg);
    worker_do(&w, 'b'); /* some CPU time to compare */
    lm_telemetry *t = open_ok(&cg, 0);
    const char *want = cg.version == 2 ? "cgroup-v2" : "cgroup-v1";
    assert_string_equal(lm_telemetry_source(t), want);
    lm_usage r1, s, r2;
    for (int reset = 0; reset < 2; reset++) {
        read_pid_ok(&cg, 0, &r1);
        sample_ok(t, &s, reset);
        read_pid_ok(&cg, 0, &r2);
        assert_between(&r1, &s, &r2, reset);
        assert_true(cpu_of(&s) >= 150000000ull); /* the burn is in */
    }
    lm_telemetry_close(t);
    /* The same from /proc, for the same worker. */
    t = open_ok(NULL, w.pid);
    assert_string_equal(lm_telemetry_source(t), "proc");
    read_pid_ok(NULL, w.pid, &r1);
    sample_ok(t, &s, 0);
    read_pid_ok(NULL, w.pid, &r2);
    assert_between(&r1, &s, &r2, 0);
    lm_telemetry_close(t);
    worker_stop(&w);
    lm_cgroup_destroy(&cg);
}

/* The CPU a worker burned between two handle readings against its own CPU
 * clock. Both are CPU times, so a loaded machine does not skew them; the
 * group adds only the worker's pipe calls. Retried like cpu_attribution. */
static void handle_attribution(lm_telemetry *t, const worker *w, int reset, uint64_t slack_ns) {
    for (int attempt = 0; attempt < 3; attempt++) {
        lm_usage before, after, d;
        sample_ok(t, &before, reset);
        uint64_t burned = worker_do(w, 'b');
        sample_ok(t, &after, reset);
        lm_usage_delta(&before, &after, &d);
        double ratio = (double)cpu_of(&d) / (double)burned;
        printf("  %-9s %s: burned %.1f ms by its clock, attributed %.1f ms (user %.1f, system "
               "%.1f), ratio %.3f\n",
               lm_telemetry_source(t), reset ? "sample_and_reset" : "sample", burned / 1e6,
               cpu_of(&d) / 1e6, d.cpu_user_ns / 1e6, d.cpu_system_ns / 1e6, ratio);
        assert_true(burned >= 200000000ull);
        assert_int_equal(d.source, before.source);
        uint64_t cpu = cpu_of(&d), tol = burned / 10 + slack_ns;
        if (cpu + tol >= burned && cpu <= burned + tol) return;
    }
    fail_msg("%s: attributed CPU time and the worker's own differ by 10%% or more",
             lm_telemetry_source(t));
}

static void test_handle_cpu_attribution(void **state) {
    (void)state;
    need_cgroups();
    lm_cgroup cg;
    group_create(&cg);
    worker w;
    worker_start(&w, &cg);
    lm_telemetry *t = open_ok(&cg, w.pid);
    handle_attribution(t, &w, 0, 0);
    handle_attribution(t, &w, 1, 0);
    lm_telemetry_close(t);
    /* /proc counts 10 ms ticks: each reading truncates user and system,
     * so a delta may be off by 20 ms more. */
    t = open_ok(NULL, w.pid);
    handle_attribution(t, &w, 0, 20000000ull);
    handle_attribution(t, &w, 1, 20000000ull);
    lm_telemetry_close(t);
    worker_stop(&w);
    lm_cgroup_destroy(&cg);
}

/* lm_telemetry_mark, the gateway's per-request reading: the difference of
 * two marks is the CPU the worker burned between them (its own clock, within
 * 10%); the peak a mark returns is the one since the previous mark, which
 * reset it; and it agrees with a full sample's total. */
static void mark_ok(lm_telemetry *t, uint64_t *cpu, uint64_t *peak) {
    char err[LM_ERRLEN];
    if (lm_telemetry_mark(t, cpu, peak, err) != LM_OK) fail_msg("mark: %s", err);
}

static void marks(lm_telemetry *t, const worker *w, uint64_t slack_ns) {
    uint64_t c0, c1, p0, p1, p2, c2;
    int ok = 0;
    for (int attempt = 0; attempt < 3 && !ok; attempt++) {
        mark_ok(t, &c0, &p0);
        uint64_t burned = worker_do(w, 'b');
        mark_ok(t, &c1, &p1);
        uint64_t d = c1 - c0, tol = burned / 10 + slack_ns;
        printf("  %-9s mark: burned %.1f ms, marks %.1f ms apart\n", lm_telemetry_source(t),
               burned / 1e6, d / 1e6);
        ok = d + tol >= burned && d <= burned + tol;
    }
    if (!ok) fail_msg("%s: two marks do not bracket the burned CPU", lm_telemetry_source(t));
    lm_usage u;
    sample_ok(t, &u, 0);
    assert_true(cpu_of(&u) >= c1);
    if (!lm_telemetry_resets_peak(t)) return;
    /* Allocate and free between two marks: the second shows the peak, the
     * third (after its reset) does not. */
    worker_do(w, 'a');
    worker_do(w, 'f');
    mark_ok(t, &c2, &p1);
    mark_ok(t, &c2, &p2);
    printf("  %-9s mark: peak %.1f MiB with %d MiB held between, %.1f MiB after\n",
           lm_telemetry_source(t), p1 / (double)MIB, WORKER_MIB, p2 / (double)MIB);
    assert_true(p1 >= (WORKER_MIB - 4) * MIB);
    assert_true(p2 + (WORKER_MIB - 8) * MIB <= p1);
}

static void test_handle_mark(void **state) {
    (void)state;
    need_cgroups();
    lm_cgroup cg;
    group_create(&cg);
    worker w;
    worker_start(&w, &cg);
    lm_telemetry *t = open_ok(&cg, w.pid);
    marks(t, &w, 0);
    lm_telemetry_close(t);
    t = open_ok(NULL, w.pid); /* /proc: ticks, as above */
    marks(t, &w, 20000000ull);
    lm_telemetry_close(t);
    worker_stop(&w);
    lm_cgroup_destroy(&cg);
}

/* A request's peak: the reset at the end of one request makes the next
 * request's peak start at the usage of that moment. */
static void peak_after_reset(lm_telemetry *t, const worker *w) {
    lm_usage u0, held, still, freed, next;
    sample_ok(t, &u0, 1);
    worker_do(w, 'a');
    sample_ok(t, &held, 0);
    assert_true(held.mem_current_bytes >= u0.mem_current_bytes + (WORKER_MIB - 4) * MIB);
    assert_true(held.mem_peak_bytes >= held.mem_current_bytes - MIB);
    worker_do(w, 'f');
    sample_ok(t, &still, 0); /* a plain sample does not reset */
    assert_true(still.mem_peak_bytes >= held.mem_current_bytes - MIB);
    assert_true(still.mem_current_bytes + (WORKER_MIB - 4) * MIB <= held.mem_current_bytes);
    sample_ok(t, &freed, 1); /* the end of the request that freed */
    assert_true(freed.mem_peak_bytes >= held.mem_current_bytes - MIB);
    sample_ok(t, &next, 0);
    printf("  %s: peak %.1f MiB while %d MiB were held, %.1f MiB after freeing and a reset "
           "(current %.1f MiB)\n",
           lm_telemetry_source(t), freed.mem_peak_bytes / (double)MIB, WORKER_MIB,
           next.mem_peak_bytes / (double)MIB, next.mem_current_bytes / (double)MIB);
    assert_true(next.mem_peak_bytes + (WORKER_MIB - 8) * MIB <= freed.mem_peak_bytes);
    assert_true(next.mem_peak_bytes <= next.mem_current_bytes + 4 * MIB);
}

static void test_handle_peak_reset(void **state) {
    (void)state;
    need_cgroups();
    lm_cgroup cg;
    group_create(&cg);
    worker w;
    worker_start(&w, &cg);
    lm_telemetry *t = open_ok(&cg, 0);
    if (!lm_telemetry_resets_peak(t)) {
        printf("  skipped: this kernel offers no peak reset through %s\n", lm_telemetry_source(t));
        lm_telemetry_close(t);
        worker_stop(&w);
        lm_cgroup_destroy(&cg);
        skip();
    }
    peak_after_reset(t, &w);
    if (cg.version == 1) {
        /* v1 has one peak per group: the old reset moves the handle's too. */
        lm_usage u;
        worker_do(&w, 'a');
        worker_do(&w, 'f');
        assert_int_equal(lm_telemetry_reset_peak(&cg), LM_OK);
        sample_ok(t, &u, 0);
        assert_true(u.mem_peak_bytes <= u.mem_current_bytes + 4 * MIB);
    }
    lm_telemetry_close(t);
    /* /proc: VmHWM, reset through clear_refs. */
    t = open_ok(NULL, w.pid);
    assert_int_equal(lm_telemetry_resets_peak(t), 1);
    peak_after_reset(t, &w);
    lm_telemetry_close(t);
    worker_stop(&w);
    lm_cgroup_destroy(&cg);
}

/* A process without a group: the handle reads /proc, for a NULL group and
 * for a group of version 0 alike. */
static void test_handle_proc_fallback(void **state) {
    (void)state;
    worker w;
    worker_start(&w, NULL);
    worker_do(&w, 'b');
    lm_cgroup none;
    memset(&none, 0, sizeof(none));
    for (int k = 0; k < 2; k++) {
        lm_telemetry *t = open_ok(k ? &none : NULL, w.pid);
        assert_string_equal(lm_telemetry_source(t), "proc");
        lm_usage r1, s, r2;
        read_pid_ok(NULL, w.pid, &r1);
        sample_ok(t, &s, 0);
        read_pid_ok(NULL, w.pid, &r2);
        assert_between(&r1, &s, &r2, 0);
        assert_int_equal(s.source, LM_USAGE_PROC);
        assert_true(cpu_of(&s) >= 150000000ull); /* the burn, in 10 ms ticks */
        assert_true(s.mem_current_bytes >= 64 * 1024 && s.mem_peak_bytes >= s.mem_current_bytes);
        lm_telemetry_close(t);
    }
    worker_stop(&w);
}

static void test_handle_bad_inputs(void **state) {
    (void)state;
    char err[LM_ERRLEN];
    lm_usage u;
    /* Neither a group nor a pid. */
    assert_null(lm_telemetry_open(NULL, 0, err));
    assert_non_null(strstr(err, "neither"));
    /* A group that does not exist, on either version: the file is named. */
    lm_cgroup cg;
    memset(&cg, 0, sizeof(cg));
    cg.version = 1;
    cg.ndirs = 1;
    snprintf(cg.dirs[0], sizeof(cg.dirs[0]), "/sys/fs/cgroup/memory/lumos/no-such-group-%d",
             (int)getpid());
    snprintf(cg.memory_dir, sizeof(cg.memory_dir), "%s", cg.dirs[0]);
    assert_null(lm_telemetry_open(&cg, 0, err));
    printf("  missing group: %s\n", err);
    assert_non_null(strstr(err, cg.dirs[0]));
    assert_non_null(strstr(err, "memory.usage_in_bytes"));
    assert_non_null(strstr(err, "gone"));
    cg.version = 2;
    assert_null(lm_telemetry_open(&cg, 0, err));
    assert_non_null(strstr(err, "cpu.stat"));
    /* The pid of a process that has ended and been reaped. */
    worker w;
    worker_start(&w, NULL);
    pid_t pid = w.pid;
    lm_telemetry *t = open_ok(NULL, pid);
    worker_stop(&w);
    char want[64];
    snprintf(want, sizeof(want), "/proc/%d/stat", (int)pid);
    assert_null(lm_telemetry_open(NULL, pid, err));
    printf("  ended process: %s\n", err);
    assert_non_null(strstr(err, want));
    assert_non_null(strstr(err, "has ended"));
    /* A handle that outlived its process. */
    assert_int_equal(lm_telemetry_sample(t, &u, err), LM_ERR);
    printf("  handle of an ended process: %s\n", err);
    assert_non_null(strstr(err, want));
    assert_int_equal(u.source, LM_USAGE_NONE);
    assert_int_equal(lm_telemetry_sample_and_reset(t, &u, err), LM_ERR);
    assert_int_equal(u.source, LM_USAGE_NONE);
    lm_telemetry_close(t);
    /* Harmless NULLs. */
    lm_telemetry_close(NULL);
    assert_string_equal(lm_telemetry_source(NULL), "none");
    assert_int_equal(lm_telemetry_resets_peak(NULL), 0);
}

/* A handle whose group was removed under it (its instance stopped). */
static void test_handle_removed_group(void **state) {
    (void)state;
    need_cgroups();
    lm_cgroup cg;
    group_create(&cg);
    worker w;
    worker_start(&w, &cg);
    lm_telemetry *t = open_ok(&cg, 0);
    worker_stop(&w);
    char dir[256], err[LM_ERRLEN];
    snprintf(dir, sizeof(dir), "%s", cg.memory_dir);
    lm_cgroup_destroy(&cg);
    assert_int_not_equal(access(dir, F_OK), 0); /* open files did not keep it */
    lm_usage u;
    assert_int_equal(lm_telemetry_sample(t, &u, err), LM_ERR);
    printf("  handle of a removed group: %s\n", err);
    assert_non_null(strstr(err, "gone"));
    assert_non_null(strstr(err, "test-telemetry-"));
    assert_int_equal(u.source, LM_USAGE_NONE);
    lm_telemetry_close(t);
}

/* The handle on fake groups: the same numbers as lm_telemetry_read, and the
 * reset written where each kernel takes it. */
static void file_starts(const char *dir, const char *file, const char *want) {
    char path[512], buf[64] = {0};
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    assert_true(n >= strlen(want));
    assert_memory_equal(buf, want, strlen(want));
}

static void same_as_read(lm_telemetry *t, const lm_cgroup *cg) {
    lm_usage r, s;
    read_pid_ok(cg, 0, &r);
    sample_ok(t, &s, 0);
    assert_memory_equal(&r, &s, sizeof(r));
}

static void test_handle_fake_files(void **state) {
    (void)state;
    lm_cgroup cg;
    char dir[64], err[LM_ERRLEN];
    /* v1 with cpuacct.stat only (before 4.7), then with usage_user/sys. */
    fake_group(&cg, 1, dir);
    put(dir, "cpuacct.usage", "1000000000\n");
    put(dir, "cpuacct.stat", "user 75\nsystem 25\n");
    put(dir, "memory.usage_in_bytes", "4096\n");
    put(dir, "memory.max_usage_in_bytes", "8192\n");
    lm_telemetry *t = open_ok(&cg, 0);
    assert_string_equal(lm_telemetry_source(t), "cgroup-v1-stat");
    lm_usage u;
    sample_ok(t, &u, 0);
    assert_int_equal(u.cpu_user_ns, 750000000ull);
    assert_int_equal(u.cpu_system_ns, 250000000ull);
    assert_int_equal(u.mem_peak_bytes, 8192);
    same_as_read(t, &cg);
    lm_telemetry_close(t);
    put(dir, "cpuacct.usage_user", "600000000\n");
    put(dir, "cpuacct.usage_sys", "300000000\n");
    t = open_ok(&cg, 0);
    assert_string_equal(lm_telemetry_source(t), "cgroup-v1");
    sample_ok(t, &u, 0);
    assert_int_equal(u.cpu_user_ns, 666666666ull);
    assert_int_equal(u.cpu_system_ns, 333333334ull);
    same_as_read(t, &cg);
    /* The files are read anew on each sample (pread at offset 0). */
    put(dir, "cpuacct.usage", "2000000000\n");
    put(dir, "memory.usage_in_bytes", "1048576\n");
    sample_ok(t, &u, 0);
    assert_int_equal(cpu_of(&u), 2000000000ull);
    assert_int_equal(u.mem_current_bytes, MIB);
    same_as_read(t, &cg);
    /* v1's reset writes 0 to memory.max_usage_in_bytes. */
    assert_int_equal(lm_telemetry_resets_peak(t), 1);
    sample_ok(t, &u, 1);
    assert_int_equal(u.mem_peak_bytes, 8192); /* read before the reset */
    file_starts(dir, "memory.max_usage_in_bytes", "0");
    put(dir, "memory.usage_in_bytes", "max\n");
    assert_int_equal(lm_telemetry_sample(t, &u, err), LM_ERR);
    assert_non_null(strstr(err, "memory.usage_in_bytes holds no number"));
    assert_int_equal(u.source, LM_USAGE_NONE);
    lm_telemetry_close(t);
    lm_rmtree(dir);

    /* v2. */
    fake_group(&cg, 2, dir);
    put(dir, "cpu.stat", "usage_usec 1500000\nuser_usec 1200000\nsystem_usec 300000\n");
    put(dir, "memory.current", "104857600\n");
    put(dir, "memory.peak", "209715200\n");
    t = open_ok(&cg, 0);
    assert_string_equal(lm_telemetry_source(t), "cgroup-v2");
    sample_ok(t, &u, 0);
    assert_int_equal(u.cpu_user_ns, 1200000000ull);
    assert_int_equal(u.cpu_system_ns, 300000000ull);
    assert_int_equal(u.mem_current_bytes, 100 * MIB);
    assert_int_equal(u.mem_peak_bytes, 200 * MIB);
    same_as_read(t, &cg);
    sample_ok(t, &u, 1);
    assert_int_equal(u.mem_peak_bytes, 200 * MIB);
    file_starts(dir, "memory.peak", "reset\n"); /* what Linux 6.12 takes */
    lm_telemetry_close(t);
    /* Before Linux 5.19: no memory.peak, peak unknown, no reset. */
    char path[128];
    snprintf(path, sizeof(path), "%s/memory.peak", dir);
    unlink(path);
    t = open_ok(&cg, 0);
    assert_int_equal(lm_telemetry_resets_peak(t), 0);
    sample_ok(t, &u, 1);
    assert_int_equal(u.mem_peak_bytes, 0);
    assert_int_equal(u.mem_current_bytes, 100 * MIB);
    lm_telemetry_close(t);
    /* A cpu.stat without the keys: the trial reading at open says so. */
    put(dir, "cpu.stat", "nr_periods 0\n");
    assert_null(lm_telemetry_open(&cg, 0, err));
    assert_non_null(strstr(err, "usage_usec"));
    assert_non_null(strstr(err, "cpu.stat"));
    lm_rmtree(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_usage_delta),
        cmocka_unit_test(test_v2_files),
        cmocka_unit_test(test_v1_stat_fallback),
        cmocka_unit_test(test_sampler_bad_start),
        cmocka_unit_test(test_removed_cgroup),
        cmocka_unit_test(test_memory_peak_after_reset),
        cmocka_unit_test(test_proc_memory),
        cmocka_unit_test(test_cpu_attribution_native),
        cmocka_unit_test(test_cpu_attribution_proc),
        cmocka_unit_test(test_cpu_attribution_wasm_aot),
        cmocka_unit_test(test_sampler_two_instances),
        cmocka_unit_test(test_handle_fake_files),
        cmocka_unit_test(test_handle_mark),
        cmocka_unit_test(test_handle_bad_inputs),
        cmocka_unit_test(test_handle_proc_fallback),
        cmocka_unit_test(test_handle_agrees_with_read),
        cmocka_unit_test(test_handle_cpu_attribution),
        cmocka_unit_test(test_handle_peak_reset),
        cmocka_unit_test(test_handle_removed_group),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
