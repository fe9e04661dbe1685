/* test_telemetry_decode.c -- the one telemetry decoder (src/observe/decode.c,
 * folder-private: observe/internal.h) on known texts, without files: cgroup
 * v1 with and without cpuacct.usage_user/usage_sys (cpuacct.stat), v2 with
 * and without memory.peak, /proc stat with a process name holding spaces
 * and parentheses, and texts no kernel writes (truncated, non-numeric, too
 * large), which must fail naming the file. Every reader goes through this
 * decoder, so these answers are what lm_telemetry_read and the kept-open
 * handles report. Also the source table's contract (files, resets, what a
 * mark reads) and lm__text_key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "observe/internal.h"

#define MIB (1024ull * 1024ull)

/* Texts by role; names NULL (the decoder names the table's file). */
static lm__texts texts(const char *cpu, const char *user, const char *sys, const char *mem,
                       const char *peak) {
    lm__texts x;
    memset(&x, 0, sizeof(x));
    x.text[LM__CPU] = cpu;
    x.text[LM__USER] = user;
    x.text[LM__SYS] = sys;
    x.text[LM__MEM] = mem;
    x.text[LM__PEAK] = peak;
    x.hz = 100;
    return x;
}

static void decode_ok(int source, const lm__texts *x, lm_usage *u) {
    char err[LM_ERRLEN];
    if (lm__usage_decode(source, x, u, err) != LM_OK)
        fail_msg("decode %s: %s", lm_usage_source_name(source), err);
    assert_int_equal(u->source, source);
}

static void assert_usage(const lm_usage *u, uint64_t user, uint64_t sys, uint64_t mem,
                         uint64_t peak) {
    assert_int_equal(u->cpu_user_ns, user);
    assert_int_equal(u->cpu_system_ns, sys);
    assert_int_equal(u->mem_current_bytes, mem);
    assert_int_equal(u->mem_peak_bytes, peak);
}

/* A failure: LM_ERR, the reading zeroed (even where a part was decoded
 * before the bad text), and err holding each of want1 and want2. */
static void decode_fails(int source, const lm__texts *x, const char *want1, const char *want2) {
    char err[LM_ERRLEN] = "";
    lm_usage u;
    memset(&u, 0xab, sizeof(u));
    assert_int_equal(lm__usage_decode(source, x, &u, err), LM_ERR);
    printf("  %s: %s\n", lm_usage_source_name(source), err);
    assert_int_equal(u.source, LM_USAGE_NONE);
    assert_usage(&u, 0, 0, 0, 0);
    if (!strstr(err, want1) || (want2 && !strstr(err, want2)))
        fail_msg("error \"%s\" lacks \"%s\"%s%s", err, want1, want2 ? " or " : "",
                 want2 ? want2 : "");
}

static void test_decode_v1(void **state) {
    (void)state;
    lm_usage u;
    /* cpuacct.usage split in the ratio usage_user : usage_sys. */
    lm__texts x = texts("1000000000\n", "600000000\n", "200000000\n", "4096\n", "8192\n");
    decode_ok(LM_USAGE_CGROUP_V1, &x, &u);
    assert_usage(&u, 750000000ull, 250000000ull, 4096, 8192);
    /* A ratio that does not divide: the parts still add up to the total. */
    x = texts("1000000000\n", "600000000\n", "300000000\n", "4096\n", "8192\n");
    decode_ok(LM_USAGE_CGROUP_V1, &x, &u);
    assert_usage(&u, 666666666ull, 333333334ull, 4096, 8192);
    /* No tick yet, or none in the kernel: all of it is user time. */
    x = texts("1000000000\n", "0\n", "0\n", "0\n", "0\n");
    decode_ok(LM_USAGE_CGROUP_V1, &x, &u);
    assert_usage(&u, 1000000000ull, 0, 0, 0);
    x = texts("1000000000\n", "5\n", "0\n", "0\n", "0\n");
    decode_ok(LM_USAGE_CGROUP_V1, &x, &u);
    assert_usage(&u, 1000000000ull, 0, 0, 0);
    /* A total near 2^64 times a large part needs 128 bits in between. */
    x = texts("10000000000000000000\n", "3000000000\n", "1000000000\n", "1\n", "2\n");
    decode_ok(LM_USAGE_CGROUP_V1, &x, &u);
    assert_usage(&u, 7500000000000000000ull, 2500000000000000000ull, 1, 2);
    /* The largest counter there is, and no newline. */
    x = texts("18446744073709551615", "1", "0", "0", "0");
    decode_ok(LM_USAGE_CGROUP_V1, &x, &u);
    assert_int_equal(u.cpu_user_ns, 18446744073709551615ull);
    /* What a mark reads: the total and the peak; the total is user time. */
    x = texts("1234\n", NULL, NULL, NULL, "5678\n");
    decode_ok(LM_USAGE_CGROUP_V1, &x, &u);
    assert_usage(&u, 1234, 0, 0, 5678);
}

static void test_decode_v1_bad(void **state) {
    (void)state;
    lm__texts x = texts("1000000000\n", "600000000\n", "200000000\n", "max\n", "8192\n");
    decode_fails(LM_USAGE_CGROUP_V1, &x, "memory.usage_in_bytes holds no number", "\"max");
    /* The reader's path names the file when it gives one. */
    x.name[LM__MEM] = "/sys/fs/cgroup/memory/lumos/x/memory.usage_in_bytes";
    decode_fails(LM_USAGE_CGROUP_V1, &x, "/sys/fs/cgroup/memory/lumos/x/memory.usage_in_bytes",
                 "no number");
    /* Cut to nothing, a sign, one past 2^64 - 1, a peak cut off. */
    x = texts("", "1\n", "1\n", "1\n", "1\n");
    decode_fails(LM_USAGE_CGROUP_V1, &x, "cpuacct.usage holds no number", NULL);
    x = texts("-5\n", "1\n", "1\n", "1\n", "1\n");
    decode_fails(LM_USAGE_CGROUP_V1, &x, "cpuacct.usage holds no number", NULL);
    x = texts("18446744073709551616\n", "1\n", "1\n", "1\n", "1\n");
    decode_fails(LM_USAGE_CGROUP_V1, &x, "cpuacct.usage holds no number", NULL);
    x = texts("1\n", "x1\n", "1\n", "1\n", "1\n");
    decode_fails(LM_USAGE_CGROUP_V1, &x, "cpuacct.usage_user holds no number", NULL);
    x = texts("1\n", "1\n", "1\n", "1\n", "");
    decode_fails(LM_USAGE_CGROUP_V1, &x, "memory.max_usage_in_bytes holds no number", NULL);
    /* A reader that gave the user part without the system part, or no
     * total at all. */
    x = texts("1\n", "1\n", NULL, "1\n", "1\n");
    decode_fails(LM_USAGE_CGROUP_V1, &x, "cpuacct.usage_sys was not read", NULL);
    x = texts(NULL, NULL, NULL, "1\n", "1\n");
    decode_fails(LM_USAGE_CGROUP_V1, &x, "cpuacct.usage was not read", NULL);
}

/* Kernels before 4.7: the split from cpuacct.stat, in ticks. */
static void test_decode_v1_stat(void **state) {
    (void)state;
    lm_usage u;
    lm__texts x = texts("1000000000\n", "user 75\nsystem 25\n", NULL, "4096\n", "8192\n");
    decode_ok(LM_USAGE_CGROUP_V1_STAT, &x, &u);
    assert_usage(&u, 750000000ull, 250000000ull, 4096, 8192);
    /* Keys in any order, matched whole ("username" is not "user"). */
    x = texts("1000000000\n", "username 1\nsystem 25\nuser 75\n", NULL, "4096\n", "8192\n");
    decode_ok(LM_USAGE_CGROUP_V1_STAT, &x, &u);
    assert_usage(&u, 750000000ull, 250000000ull, 4096, 8192);
    /* Cut after the first line, a value that is no number. */
    x = texts("1000000000\n", "user 75\n", NULL, "4096\n", "8192\n");
    decode_fails(LM_USAGE_CGROUP_V1_STAT, &x, "cpuacct.stat lacks user or system", NULL);
    x = texts("1000000000\n", "user 75\nsystem \n", NULL, "4096\n", "8192\n");
    decode_fails(LM_USAGE_CGROUP_V1_STAT, &x, "cpuacct.stat lacks user or system", NULL);
}

static const char cpu_stat[] = "usage_usec 1500000\nuser_usec 1200000\nsystem_usec 300000\n"
                               "nr_periods 0\nnr_throttled 0\nthrottled_usec 0\n";

static void test_decode_v2(void **state) {
    (void)state;
    lm_usage u;
    lm__texts x = texts(cpu_stat, NULL, NULL, "104857600\n", "209715200\n");
    decode_ok(LM_USAGE_CGROUP_V2, &x, &u);
    assert_usage(&u, 1200000000ull, 300000000ull, 100 * MIB, 200 * MIB);
    /* Before Linux 5.19 there is no memory.peak: the peak is unknown. */
    x = texts(cpu_stat, NULL, NULL, "104857600\n", NULL);
    decode_ok(LM_USAGE_CGROUP_V2, &x, &u);
    assert_usage(&u, 1200000000ull, 300000000ull, 100 * MIB, 0);
    /* Keys in another order; µs to ns; rounding keeps the sum exact. */
    x = texts("system_usec 2\nuser_usec 1\nusage_usec 1000\n", NULL, NULL, "0\n", "0\n");
    decode_ok(LM_USAGE_CGROUP_V2, &x, &u);
    assert_usage(&u, 333333, 666667, 0, 0);
    /* What a mark reads: cpu.stat and the peak. */
    x = texts(cpu_stat, NULL, NULL, NULL, "4096\n");
    decode_ok(LM_USAGE_CGROUP_V2, &x, &u);
    assert_usage(&u, 1200000000ull, 300000000ull, 0, 4096);
}

static void test_decode_v2_bad(void **state) {
    (void)state;
    /* cpu.stat cut in the middle of its keys, without them, or with a
     * value that is no number. */
    lm__texts x = texts("usage_usec 1500000\nuser_usec 1200000\nsys", NULL, NULL, "1\n", "1\n");
    decode_fails(LM_USAGE_CGROUP_V2, &x, "cpu.stat", "system_usec");
    x = texts("nr_periods 0\n", NULL, NULL, "1\n", "1\n");
    decode_fails(LM_USAGE_CGROUP_V2, &x, "cpu.stat", "usage_usec");
    x = texts("usage_usec abc\nuser_usec 1\nsystem_usec 1\n", NULL, NULL, "1\n", "1\n");
    decode_fails(LM_USAGE_CGROUP_V2, &x, "cpu.stat lacks a number", "usage_usec");
    x = texts("", NULL, NULL, "1\n", "1\n");
    decode_fails(LM_USAGE_CGROUP_V2, &x, "cpu.stat", "usage_usec");
    /* memory.current "max" (that is memory.max's word), an empty peak. */
    x = texts(cpu_stat, NULL, NULL, "max\n", "1\n");
    decode_fails(LM_USAGE_CGROUP_V2, &x, "memory.current holds no number", NULL);
    x = texts(cpu_stat, NULL, NULL, "1\n", "");
    decode_fails(LM_USAGE_CGROUP_V2, &x, "memory.peak holds no number", NULL);
    x = texts(NULL, NULL, NULL, "1\n", "1\n");
    decode_fails(LM_USAGE_CGROUP_V2, &x, "cpu.stat was not read", NULL);
}

/* /proc/<pid>/status as the kernel writes it (VmPeak and VmSize before the
 * two that count). */
static const char status[] = "Name:\tmy (odd) name)\nUmask:\t0022\nState:\tS (sleeping)\n"
                             "Tgid:\t4242\nPid:\t4242\nPPid:\t1\nVmPeak:\t   99999 kB\n"
                             "VmSize:\t   88888 kB\nVmLck:\t       0 kB\nVmHWM:\t    2048 kB\n"
                             "VmRSS:\t    1024 kB\nThreads:\t1\n";

static void test_decode_proc(void **state) {
    (void)state;
    lm_usage u;
    /* A name with spaces and parentheses: the fields follow the last ')';
     * utime (14) is 250 ticks, stime (15) 50. */
    lm__texts x =
        texts("4242 (my (odd) name)) S 1 4242 4242 0 -1 4194560 120 0 0 0 250 50 0 0 20 0 1 0 "
              "12345 1000000 100 18446744073709551615\n",
              NULL, NULL, status, NULL);
    decode_ok(LM_USAGE_PROC, &x, &u);
    assert_usage(&u, 2500000000ull, 500000000ull, MIB, 2 * MIB);
    /* A name that looks like the fields themselves: the first ')' would
     * give utime 99 and stime 98. */
    x = texts("7 (a) S 1 2 3 4 5 6 7 8 9 10 99 98) R 1 7 7 0 -1 0 0 0 0 0 30 20 0 0 20 0\n", NULL,
              NULL, status, NULL);
    decode_ok(LM_USAGE_PROC, &x, &u);
    assert_usage(&u, 300000000ull, 200000000ull, MIB, 2 * MIB);
    /* Ticks are USER_HZ, whatever it is. */
    x.hz = 1000;
    decode_ok(LM_USAGE_PROC, &x, &u);
    assert_usage(&u, 30000000ull, 20000000ull, MIB, 2 * MIB);
    /* A zombie has no Vm lines: memory 0, the reading still good. */
    x = texts("9 (z) Z 1 9 9 0 -1 0 0 0 0 0 7 3 0 0 20 0\n", NULL, NULL,
              "Name:\tz\nState:\tZ (zombie)\nTgid:\t9\nThreads:\t1\n", NULL);
    decode_ok(LM_USAGE_PROC, &x, &u);
    assert_usage(&u, 70000000ull, 30000000ull, 0, 0);
}

static void test_decode_proc_bad(void **state) {
    (void)state;
    /* stat cut after utime, cut inside the name, a utime that is no
     * number. */
    lm__texts x =
        texts("4242 (a b) S 1 4242 4242 0 -1 4194560 120 0 0 0 250", NULL, NULL, status, NULL);
    x.name[LM__CPU] = "/proc/4242/stat";
    decode_fails(LM_USAGE_PROC, &x, "cannot parse /proc/4242/stat", "utime");
    x.text[LM__CPU] = "4242 (a b";
    decode_fails(LM_USAGE_PROC, &x, "cannot parse /proc/4242/stat", NULL);
    x.text[LM__CPU] = "4242 (a) S 1 4242 4242 0 -1 4194560 120 0 0 0 x 50 0\n";
    decode_fails(LM_USAGE_PROC, &x, "cannot parse /proc/4242/stat", NULL);
    /* status cut right after "VmRSS:", a VmHWM that is no number. */
    x = texts("4242 (a) S 1 4242 4242 0 -1 4194560 120 0 0 0 250 50 0\n", NULL, NULL,
              "Name:\ta\nVmHWM:\t    2048 kB\nVmRSS:", NULL);
    decode_fails(LM_USAGE_PROC, &x, "status holds no number for VmRSS", NULL);
    x.text[LM__MEM] = "Name:\ta\nVmHWM:\t  ? kB\nVmRSS:\t 1 kB\n";
    decode_fails(LM_USAGE_PROC, &x, "status holds no number for VmHWM", NULL);
    x.text[LM__MEM] = NULL;
    decode_fails(LM_USAGE_PROC, &x, "status was not read", NULL);
}

static void test_decode_unknown_source(void **state) {
    (void)state;
    lm__texts x = texts("1\n", "1\n", "1\n", "1\n", "1\n");
    decode_fails(LM_USAGE_NONE, &x, "unknown source", NULL);
    decode_fails(99, &x, "unknown source 99", NULL);
}

/* The table's contract: the files docs/telemetry.md lists, what each
 * kernel takes for a reset, and a mark's two reads on cgroups. */
static void test_source_table(void **state) {
    (void)state;
    assert_null(lm__source_of(LM_USAGE_NONE));
    assert_null(lm__source_of(99));
    const lm__source *v1 = lm__source_of(LM_USAGE_CGROUP_V1);
    const lm__source *st = lm__source_of(LM_USAGE_CGROUP_V1_STAT);
    const lm__source *v2 = lm__source_of(LM_USAGE_CGROUP_V2);
    const lm__source *proc = lm__source_of(LM_USAGE_PROC);
    assert_string_equal(v1->file[LM__CPU], "cpuacct.usage");
    assert_string_equal(v1->file[LM__USER], "cpuacct.usage_user");
    assert_string_equal(v1->file[LM__SYS], "cpuacct.usage_sys");
    assert_string_equal(st->file[LM__USER], "cpuacct.stat");
    assert_null(st->file[LM__SYS]);
    assert_string_equal(v1->file[LM__PEAK], "memory.max_usage_in_bytes");
    assert_string_equal(v2->file[LM__CPU], "cpu.stat");
    assert_string_equal(v2->file[LM__MEM], "memory.current");
    assert_string_equal(v2->file[LM__PEAK], "memory.peak");
    assert_string_equal(proc->file[LM__PEAK], "clear_refs");
    assert_string_equal(v1->reset, "0");
    assert_string_equal(v2->reset, "reset\n");
    assert_string_equal(proc->reset, "5");
    unsigned cpu_peak = LM__ROLE(LM__CPU) | LM__ROLE(LM__PEAK);
    assert_int_equal(v1->mark, cpu_peak);
    assert_int_equal(st->mark, cpu_peak);
    assert_int_equal(v2->mark, cpu_peak);
    assert_int_equal(proc->sample & LM__ROLE(LM__PEAK), 0); /* clear_refs is written only */
    assert_int_equal(v2->optional, LM__ROLE(LM__PEAK));
    assert_int_equal(v1->optional, 0);
}

static void test_text_key(void **state) {
    (void)state;
    uint64_t v = 7;
    assert_int_equal(lm__text_key("a 1\nkey 12\n", "key", &v), LM_OK);
    assert_int_equal(v, 12);
    assert_int_equal(lm__text_key("key 13", "key", &v), LM_OK); /* the last line, no newline */
    assert_int_equal(v, 13);
    assert_int_equal(lm__text_key("key 1\nkey 2\n", "key", &v), LM_OK); /* the first */
    assert_int_equal(v, 1);
    v = 7;
    assert_int_equal(lm__text_key("keys 1\n", "key", &v), LM_ERR);
    assert_int_equal(lm__text_key("a key 1\n", "key", &v), LM_ERR); /* at a line's start only */
    assert_int_equal(lm__text_key("key\n", "key", &v), LM_ERR);
    assert_int_equal(lm__text_key("key x\n", "key", &v), LM_ERR);
    assert_int_equal(lm__text_key("", "key", &v), LM_ERR);
    assert_int_equal(v, 7); /* untouched on failure */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_v1),       cmocka_unit_test(test_decode_v1_bad),
        cmocka_unit_test(test_decode_v1_stat),  cmocka_unit_test(test_decode_v2),
        cmocka_unit_test(test_decode_v2_bad),   cmocka_unit_test(test_decode_proc),
        cmocka_unit_test(test_decode_proc_bad), cmocka_unit_test(test_decode_unknown_source),
        cmocka_unit_test(test_source_table),    cmocka_unit_test(test_text_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
