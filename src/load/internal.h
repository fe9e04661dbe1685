/* internal.h -- what the load client's files share inside src/load: the
 * HTTP response parser (http_resp.c), the run and its connections (run.c,
 * conn.c). Not a contract for other rooms (they use load.h). */
#ifndef LM_LOAD_INTERNAL_H
#define LM_LOAD_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "load/load.h"

/* ---- the response parser (http_resp.c) ---------------------------------- */

#define LM__HTTP_LINE_MAX 8192

enum {
    LM__HTTP_STATUS,     /* reading the status line */
    LM__HTTP_HEADERS,    /* reading header fields */
    LM__HTTP_BODY,       /* left bytes of a Content-Length body to come */
    LM__HTTP_CHUNK_SIZE, /* reading a chunk-size line */
    LM__HTTP_CHUNK_DATA, /* left bytes of a chunk to come */
    LM__HTTP_CHUNK_END,  /* the CRLF after a chunk's data */
    LM__HTTP_TRAILERS,   /* trailer fields after the last chunk */
    LM__HTTP_EOF_BODY,   /* the body runs to the connection's end */
    LM__HTTP_DONE,       /* the whole answer was read */
    LM__HTTP_ERROR,      /* not valid HTTP/1.1: err says why */
};

typedef struct {
    int state;
    int no_body;    /* the request was HEAD: no body follows any status */
    int status;     /* 100..999 once the status line was read */
    int minor;      /* HTTP/1.minor */
    int close;      /* the connection ends after this answer */
    int keep_alive; /* Connection: keep-alive (matters for HTTP/1.0) */
    int chunked, has_te, has_length;
    uint64_t length;     /* Content-Length */
    uint64_t left;       /* body or chunk bytes still to come */
    uint64_t request_id; /* X-Lumos-Request-Id (0: absent or not a number) */
    uint64_t bytes;      /* bytes of the answer consumed, head and body */
    uint64_t body_bytes;
    size_t head_bytes;
    size_t linelen;      /* a line split across reads, kept in line */
    const char *capture; /* the field whose value to keep (NULL: none) */
    size_t captured_len; /* bytes of captured (0: not seen) */
    int captured_seen;
    char captured[LM_LOAD_CAPTURE_MAX + 1];
    char err[160];
    char line[LM__HTTP_LINE_MAX];
} lm__http_resp;

/* Starts a new answer (no_body: it answers a HEAD request), capturing no
 * field: set p->capture after it to keep that field's value in captured. */
void lm__http_resp_init(lm__http_resp *p, int no_body);
/* Consumes bytes of buf[0..n) and returns how many it took: all of them
 * unless the answer ended (state DONE: the rest is not this answer's) or
 * was found invalid (state ERROR, err says why). */
size_t lm__http_resp_feed(lm__http_resp *p, const char *buf, size_t n);
/* The peer closed the connection: LM_OK when that ends the answer (a body
 * delimited by the close, or one already done), else LM_ERR (state ERROR,
 * err says what was missing). */
int lm__http_resp_eof(lm__http_resp *p);

/* ---- the run and its connections (run.c, conn.c) -------------------------- */

enum { LM__CONN_FREE, LM__CONN_CONNECTING, LM__CONN_IDLE, LM__CONN_BUSY };

typedef struct lm__conn lm__conn;
struct lm__conn {
    int fd;
    int state;
    uint32_t slot, gen; /* its place in run->slots, and a generation for stale events */
    uint32_t num;       /* 1, 2, ... in the order connections were opened */
    int want_out;       /* EPOLLOUT is registered */
    int64_t rec;        /* the record of its request, -1: none */
    const lm_load_req *req;
    const lm_load_req *built; /* the request out holds the head of */
    lm_buf out;               /* the request's head */
    size_t sent;              /* bytes of head and body written */
    uint64_t deadline;        /* its request times out then */
    lm__conn *prev, *next;    /* the in-flight list, by deadline */
    int idle_pos;             /* index in run->idle while idle */
    lm__http_resp resp;
};

typedef struct {
    const lm_load_req *reqs;
    size_t n;
    lm_load_opts o; /* defaults filled in */
    lm_load_target target;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    int ep;
    lm_load_result *out;
    lm_load_stats *st;
    uint64_t start;
    int stopping; /* the deadline passed or stop was set: nothing more is sent */
    int bounded;  /* closed: a fixed number of requests */

    lm_load_record *rec;
    size_t nrec, caprec;
    size_t next;    /* open: the first request not yet given a connection; closed: issued */
    size_t marked;  /* open: requests before this were marked waited */
    uint64_t total; /* closed: requests to send (bounded) */

    lm__conn **slots; /* nslots places; a FREE one may be reused */
    uint32_t nslots;
    uint32_t *free_slots;
    uint32_t nfree, nopen; /* free slot indexes; connections open */
    uint32_t attempts;     /* connections tried: the next one's number */
    lm__conn **idle;
    int nidle;
    lm__conn *head, *tail; /* in flight, oldest deadline first */
    uint64_t in_flight;
    char *buf; /* reads land here */
    size_t buflen;
} lm__run;

/* A connection to the target in a free slot (connecting, or connected);
 * NULL when every slot is taken. *errno_out gets the errno of a connect
 * that failed at once (the conn is then NULL too). */
lm__conn *lm__conn_open(lm__run *r, int *errno_out);
/* Gives request record rec (reqs[req]) to c and starts writing it. May
 * finish the request at once (a write error). */
void lm__conn_assign(lm__run *r, lm__conn *c, size_t rec);
/* Handles readiness of c (events as epoll gives them). */
void lm__conn_event(lm__run *r, lm__conn *c, uint32_t events);
/* Ends c's request with error kind (and sys_errno e), closes c. */
void lm__conn_fail(lm__run *r, lm__conn *c, int kind, int e, const char *msg);
/* Closes c (its request, if any, must be finished first). */
void lm__conn_close(lm__run *r, lm__conn *c);

/* A request of c ended (run.c): c is idle (keep_open) or closed, and the
 * run gives it, or a new connection, the next request as its mode says. */
void lm__run_conn_free(lm__run *r, lm__conn *c, int keep_open);
/* The record rec was finished with error kind (msg: its first example). */
void lm__run_note_error(lm__run *r, size_t rec, int kind, int e, const char *msg);

#endif
