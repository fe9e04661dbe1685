/* load.h -- the load client: sends HTTP/1.1 requests to any endpoint
 * (`lumos serve`, a Knative service, anything on a numeric address or
 * localhost) on keep-alive connections and records every one.
 *
 * Open loop: each request is sent at its intended time (start + its
 * offset), whatever the answers do, on an idle connection of a pool that
 * grows as needed up to max_connections; beyond the cap a request waits
 * for a connection (and is counted waited, and late if it is). Closed
 * loop: `concurrency` clients, each sending the next request as soon as
 * its previous answer is complete.
 *
 * Clocks: every *_ns time is an absolute CLOCK_MONOTONIC reading
 * (lm_now_ns(), proto/clock.h), the clock the gateway stamps its rows
 * with, so on one machine intended <= send <= gateway ingress <= gateway
 * response <= receive. send_ns is read just before the write(2) that put
 * the request's first byte on the socket; receive_ns just after the
 * read(2) that brought its last byte. Corrected latency is receive -
 * intended (coordinated omission corrected, as wrk2), uncorrected is
 * receive - send. In closed loop the intended time is the moment the
 * client was free to send (its previous answer, or the start).
 *
 * One thread, one epoll loop; lm_load_run blocks until every request was
 * answered, failed or timed out, or was left unsent at the deadline. See
 * docs/load.md for the method. */
#ifndef LM_LOAD_H
#define LM_LOAD_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "load/hist.h"
#include "util/util.h"

/* One request to send. Nothing is copied: every pointer must stay valid
 * until lm_load_run returns. */
typedef struct {
    uint64_t offset_ns;  /* open loop: intended send time from the start; ignored closed */
    const char *method;  /* NULL: "POST" */
    const char *path;    /* "/function/noop"; NULL: the URL's path */
    const char *body;    /* may be NULL when body_len is 0 */
    size_t body_len;     /* sent as Content-Length (always for POST and PUT) */
    const char *headers; /* extra header lines, each "Name: value\r\n"; NULL: none */
} lm_load_req;

typedef enum { LM_LOAD_OPEN = 0, LM_LOAD_CLOSED = 1 } lm_load_mode;

#define LM_LOAD_UNBOUNDED UINT64_MAX

/* What the stats' progress snapshot and the final stats hold. */
typedef struct lm_load_stats lm_load_stats;
/* One request's record (below). */
typedef struct lm_load_record lm_load_record;

typedef struct {
    const char *url; /* "http://127.0.0.1:8080[/path]" or "HOST:PORT"; HOST is a numeric
                        IPv4 or IPv6 address or localhost (no name lookup) */
    lm_load_mode mode;
    unsigned concurrency;     /* closed: N clients (0: 1) */
    uint64_t requests;        /* closed: requests to send (0: n; LM_LOAD_UNBOUNDED: until
                                 duration_ns or stop); the i-th is reqs[i % n] */
    unsigned max_connections; /* open: the pool's cap (0: 1024) */
    uint64_t timeout_ns;      /* per request, from when it got its connection (just
                                 before its first byte, or its connect) (0: 10 s) */
    uint64_t duration_ns;     /* no request is sent later than start + this (0: no limit);
                                 those left are dropped */
    uint64_t late_ns;         /* a send more than this after its intended time is late
                                 (0: 1 ms) */
    int64_t spin_ns;          /* open: busy-wait the last spin_ns before each send time
                                 (0: 50 us; negative: never) */
    const char *headers;      /* header lines added to every request ("K: V\r\n"...) */
    const char *host;         /* sent as Host: instead of the URL's HOST:PORT (a cluster's
                                 ingress routes by it); NULL: the URL's */
    /* When not NULL, called once for each whole answer (the record
     * finished) with the value of its header field capture_header (the
     * first, at most LM_LOAD_CAPTURE_MAX bytes; "" and 0 when it had none).
     * The value is only valid during the call. */
    const char *capture_header;
    void (*on_answer)(void *arg, const lm_load_record *rec, const char *value, size_t len);
    void *answer_arg;
    int hist_digits; /* the histograms' significant digits (0: 3) */
    /* Called about every progress_ms (0: 250) with the counts so far. */
    void (*progress)(void *arg, const lm_load_stats *so_far);
    void *progress_arg;
    unsigned progress_ms;
    /* When not NULL and set non-zero (a signal handler, another thread),
     * the run ends at once: requests in flight are stopped, the rest
     * unsent. It is looked at least once a second. */
    volatile sig_atomic_t *stop;
} lm_load_opts;

/* Why a request failed. */
typedef enum {
    LM_LOAD_OK = 0,
    LM_LOAD_E_CONNECT,  /* the connection could not be made (sys_errno says why) */
    LM_LOAD_E_WRITE,    /* writing the request failed (reset, broken pipe) */
    LM_LOAD_E_CLOSED,   /* the server closed or reset the connection before the whole answer */
    LM_LOAD_E_PROTOCOL, /* the answer is not valid HTTP/1.1 */
    LM_LOAD_E_TIMEOUT,  /* no whole answer within timeout_ns */
    LM_LOAD_E_UNSENT,   /* never sent: the deadline came first (or the run was stopped) */
    LM_LOAD_E_STOPPED,  /* sent, but the run was stopped (opts.stop) before its answer */
    LM_LOAD_E_COUNT
} lm_load_error;

#define LM_LOAD_CAPTURE_MAX 4096

/* One request's record. */
struct lm_load_record {
    uint64_t intended_ns; /* when it was meant to be sent */
    uint64_t send_ns;     /* first byte written (0: never sent) */
    uint64_t receive_ns;  /* last byte of the answer read (0: no whole answer) */
    uint64_t request_id;  /* the answer's X-Lumos-Request-Id (0: none) */
    uint64_t bytes;       /* bytes of the answer read, head and body */
    uint32_t req;         /* index into the caller's reqs */
    uint32_t conn;        /* number of the connection it went on (1, 2, ...; 0: none) */
    uint16_t status;      /* HTTP status (0: none) */
    uint8_t error;        /* lm_load_error */
    uint8_t waited;       /* 1: it waited for a free connection (open loop, pool at its cap) */
    int32_t sys_errno;    /* errno of a connect or I/O error, else 0 */
};

struct lm_load_stats {
    uint64_t requests;  /* records: requests meant to be sent */
    uint64_t sent;      /* whose first byte was written */
    uint64_t completed; /* with a whole answer (any status) */
    uint64_t status_2xx, status_other;
    uint64_t errors[LM_LOAD_E_COUNT];    /* by kind; [LM_LOAD_OK] stays 0 */
    uint64_t late;                       /* sent more than late_ns after their intended time */
    uint64_t waited;                     /* waited for a connection (open loop at the cap) */
    uint64_t dropped;                    /* never sent (unsent), timed out, or stopped */
    uint64_t connections;                /* connections made (failed connects are not counted) */
    uint64_t max_in_flight;              /* most requests sent and not yet answered at once */
    uint64_t start_ns, end_ns;           /* the run's start (offset 0) and its end */
    uint64_t last_receive_ns;            /* the last answer's receive_ns (0: none) */
    double achieved_rps;                 /* completed / (last answer - start) */
    uint64_t cpu_user_ns, cpu_system_ns; /* the client thread's own CPU time (getrusage) */
    uint64_t max_rss_bytes;              /* the process's peak resident memory (getrusage) */
    uint64_t late_ns;                    /* the threshold used */
};

typedef struct {
    lm_load_record *records; /* one per request, in intended order; malloc'd */
    size_t nrecords;
    lm_load_stats stats;
    /* Of the completed requests: receive - intended (corrected),
     * receive - send (uncorrected), and send - intended (the send-time
     * error, of every sent request). */
    lm_hist *corrected, *uncorrected, *send_lag;
    /* The first message of each error kind ("" when none happened), e.g.
     * "bad status line 'HTPT/1.1 200 OK' ...". */
    char first_error[LM_LOAD_E_COUNT][160];
} lm_load_result;

/* Sends reqs[0..n) as opts say and fills out (which the caller frees with
 * lm_load_result_free, also after an error). In open loop reqs must be
 * sorted by offset_ns. Returns LM_OK when the run happened (whatever its
 * requests' fates), LM_ERR with err when it could not start: a bad URL or
 * option, a host that is not numeric or localhost, unsorted requests, no
 * memory. */
int lm_load_run(const lm_load_req *reqs, size_t n, const lm_load_opts *opts, lm_load_result *out,
                char *err);

/* Frees what lm_load_run put in r (not r itself). NULL is a harmless no-op. */
void lm_load_result_free(lm_load_result *r);

/* "connect", "write", "closed", "protocol", "timeout", "unsent", "stopped"
 * ("" for OK). */
const char *lm_load_error_name(int kind);
/* A record's error as text into out (n bytes): "" when none, else e.g.
 * "connect: Connection refused", "timeout". Returns out. */
char *lm_load_record_error(const lm_load_record *r, char *out, size_t n);

/* A parsed target (url.c). host is what to send in Host:, path the URL's
 * path ("/" when it has none). */
typedef struct {
    char host[256];
    char path[1024];
    char hostport[300];
    int port;
} lm_load_target;
/* Parses url as lm_load_opts.url says. LM_OK or LM_ERR with err. */
int lm_load_parse_url(const char *url, lm_load_target *t, char *err);

#endif
