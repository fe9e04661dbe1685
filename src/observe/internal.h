/* internal.h -- what the telemetry files share: the table of sources (which
 * kernel file holds what, for cgroup v1, v2 and /proc) and the one decoder
 * that turns those files' texts into an lm_usage (decode.c), used by every
 * reading, kept-open or not (telemetry.c). Not for use outside src/observe
 * (tests/unit/test_telemetry_decode.c feeds the decoder known texts). */
#ifndef LM_OBSERVE_INTERNAL_H
#define LM_OBSERVE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "observe/telemetry.h"

/* The files of a reading, by role; which file plays which role for each
 * source is the table's (lm__source_of). CPU holds the exact CPU total
 * (on v2 and /proc also its user/system split); USER and SYS the
 * tick-sampled parts that divide it on v1 (cgroup-v1-stat has both in
 * USER's cpuacct.stat); MEM the current memory (on /proc also the peak);
 * PEAK the peak, and the file a reset is written to. */
enum { LM__CPU, LM__USER, LM__SYS, LM__MEM, LM__PEAK, LM__ROLES };

#define LM__ROLE(r) (1u << (r))

/* One source of readings. The CPU roles (CPU, USER, SYS) are files of
 * the group's cpuacct (v1) or unified (v2) directory, MEM and PEAK of its
 * memory directory; on /proc all are files of /proc/<pid>. */
typedef struct {
    int source;                  /* LM_USAGE_* */
    const char *file[LM__ROLES]; /* by role; NULL for a role the source lacks */
    unsigned sample;             /* LM__ROLE bits a full reading reads */
    unsigned mark;               /* LM__ROLE bits lm_telemetry_mark reads */
    unsigned optional;           /* roles whose file may be missing: the reading goes without */
    const char *reset;           /* written to PEAK to reset the peak */
} lm__source;

/* The table's row for source (LM_USAGE_*): a static row, or NULL for
 * LM_USAGE_NONE and unknown values. */
const lm__source *lm__source_of(int source);

/* The texts of one reading: text[role] is the file's content,
 * NUL-terminated, or NULL for a role that was not read (a mark reads fewer,
 * and an optional file may be missing); name[role] names its file in
 * messages (NULL: the table's file name). hz is USER_HZ for /proc's ticks
 * (sysconf(_SC_CLK_TCK)). Nothing is owned. */
typedef struct {
    const char *text[LM__ROLES];
    const char *name[LM__ROLES];
    long hz;
} lm__texts;

/* The one decoder: fills *out from the texts of source (LM_USAGE_*) and
 * returns LM_OK; out->source is source. What a NULL text means: no split
 * texts, the exact total counts as user time (only user + system is then
 * meaningful: lm_telemetry_mark); no MEM (cgroups), current memory 0; no
 * PEAK, peak 0 (unknown). On /proc, a status without VmRSS / VmHWM (a
 * zombie) gives 0. LM_ERR with err naming the file and what it lacks when
 * a text is not what the kernel writes (no number, a key missing, a
 * /proc/<pid>/stat without 15 fields after the name), or for an unknown
 * source; out is zeroed then. */
int lm__usage_decode(int source, const lm__texts *x, lm_usage *out, char *err);

/* Divides an exact CPU total in the ratio user : sys (both tick-sampled)
 * into out's user and system parts, as the kernel does for /proc and cgroup
 * v2 (cputime_adjust): all of it is user time while sys is 0. */
void lm__usage_split(uint64_t total, uint64_t user, uint64_t sys, lm_usage *out);

/* The value of "key N" in a flat-keyed text (cpu.stat, cpuacct.stat): the
 * first line that starts with key and a space. LM_ERR when no line has the
 * key or no decimal number follows it. */
int lm__text_key(const char *text, const char *key, uint64_t *v);

#endif
