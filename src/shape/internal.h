/* internal.h -- what the shape room's files share among themselves. */
#ifndef LM_SHAPE_INTERNAL_H
#define LM_SHAPE_INTERNAL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "shape/shape.h"

/* The name of a jitter distribution ("normal", "uniform", "pareto-normal"). */
const char *lm__shape_dist_name(lm_shape_dist d);
/* Finds the distribution named by s[0..n); LM_OK or LM_ERR. */
int lm__shape_dist_find(const char *s, size_t n, lm_shape_dist *out);
/* A time s[0..n) ("20ms", "1.5s", "2m", bare: ms) in ns, at most an hour. */
int lm__shape_time(const char *s, size_t n, uint64_t *out, char *err);
/* A condition from a JSON string or object (lm_shape_cond_parse_json). */
int lm__shape_cond_from_json(json_t *j, lm_shape_cond *out, char *err);
/* The range checks every parser ends with. */
int lm__shape_cond_check(const lm_shape_cond *c, char *err);
/* A deep copy of s into out (LM_ERR only when out of memory). */
int lm__shape_sched_copy(const lm_shape_sched *s, lm_shape_sched *out, char *err);
/* True when no step of s shapes anything. */
int lm__shape_sched_is_none(const lm_shape_sched *s);

/* "HOST:PORT" (numeric) or "unix:PATH" into ss/len; LM_OK or LM_ERR. */
int lm__shape_addr_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len, char *err);
/* The address ss as the parser reads it; returns out. */
char *lm__shape_addr_format(const struct sockaddr_storage *ss, char *out, size_t n);

#endif
