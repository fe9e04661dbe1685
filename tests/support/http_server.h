/* http_server.h -- a small HTTP/1.1 server on 127.0.0.1 for the load
 * client's tests: one thread, one epoll loop, an ephemeral port. It
 * answers every request (any method, any path; the body is read by its
 * Content-Length) with 200 and a fixed body, in the shape the options
 * ask for, and counts what it saw. */
#ifndef LM_TEST_HTTP_SERVER_H
#define LM_TEST_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *body;  /* the answer's body (NULL: "ok") */
    const char *raw;   /* when set, the whole answer, sent as it is (bad answers) */
    int chunked;       /* send it with Transfer-Encoding: chunked, in pieces */
    int close_after;   /* Connection: close, and close after each answer */
    int no_answer;     /* read requests, never answer */
    int request_ids;   /* add X-Lumos-Request-Id: 1000 + the request's number */
    uint64_t delay_ns; /* hold each answer this long after its request is read */
    uint64_t stall_at; /* when request number stall_at (1, 2, ...) is read ... */
    uint64_t stall_ns; /* ... the server does nothing for this long, then answers */
} lm_test_http_opts;

typedef struct {
    uint64_t connections; /* accepted */
    uint64_t requests;    /* read whole */
    uint64_t answered;
    uint64_t max_outstanding;              /* most requests read and not yet answered at once */
    uint64_t stall_begin_ns, stall_end_ns; /* when the stall ran (lm_now_ns) */
} lm_test_http_stats;

typedef struct lm_test_http lm_test_http;

/* Starts the server; *port gets its port. NULL when it cannot. */
lm_test_http *lm_test_http_start(const lm_test_http_opts *o, int *port);
/* A snapshot of its counts (safe while it runs). */
void lm_test_http_stats_get(lm_test_http *s, lm_test_http_stats *out);
/* Stops it, closes every connection. NULL is a no-op. */
void lm_test_http_stop(lm_test_http *s);

#endif
