/* internal.h -- the channel core, private to src/channel/: the host's half
 * of one instance's conversation, with no I/O in it. Like hiredis' one
 * reply reader under its sync and async contexts, the core is written
 * once and two drivers move the bytes: sync.c (poll, read, lm_frame_write)
 * and event.c (bufferevents, timers). The core assembles frames from
 * whatever pieces arrive, knows which frame may come in which state,
 * decodes GET, PUT and RESULT, builds each storage answer and accounts for
 * it, and words every error. Names are lm__chan_ (libuv's uv__): nothing
 * outside this folder uses them.
 *
 * A driver's part, start to end:
 *   lm__chan_init()                      WAIT_READY, or IDLE when READY came
 *                                        earlier (sync.c, between calls)
 *   lm__chan_space() / lm__chan_got()    read into the core, learn what a
 *                                        completed frame was (lm__chan_what)
 *   lm__chan_invoke(), then send INVOKE  IDLE -> BUSY
 *   lm__chan_serve() or lm__chan_answer(), then send the frame it built,
 *                                        for each GET and PUT
 *   lm__chan_ended(), lm__chan_timed_out()   the other ways a wait ends
 *   lm__chan_release()
 * The core never reads past the frame it is assembling, so a driver can
 * drop a core between frames and start another on the same descriptor. */
#ifndef LM_CHANNEL_INTERNAL_H
#define LM_CHANNEL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "channel/channel.h"

/* The longest key of a GET or PUT, in bytes. The SDK sends keys of a few
 * dozen; a longer one means a broken guest and breaks the channel. */
#define LM__CHAN_KEY_MAX 599

typedef enum {
    LM__CHAN_WAIT_READY, /* started: LOG and READY may come */
    LM__CHAN_IDLE,       /* READY came, no request in flight: only LOG may come */
    LM__CHAN_BUSY,       /* INVOKE sent: LOG, then GET and PUT one at a time, then RESULT */
    LM__CHAN_DEAD        /* broken, ended or past its deadline: nothing more is taken */
} lm__chan_state;

/* What a completed frame was. */
typedef enum {
    LM__CHAN_MORE,   /* no frame completed yet: read more (lm__chan_got only) */
    LM__CHAN_READY,  /* READY: now IDLE, ready_ns set */
    LM__CHAN_LOG,    /* a LOG line in data[0..len), in any state but DEAD */
    LM__CHAN_MARK,   /* a MARK frame, in any state but DEAD; filed into the
                        instance's marks while WAIT_READY (lm_instance_mark) */
    LM__CHAN_GET,    /* a GET of key: answer it before the guest may send more */
    LM__CHAN_PUT,    /* a PUT of data[0..len) under key: the same */
    LM__CHAN_RESULT, /* RESULT decoded into res (body inside the payload): now IDLE */
    LM__CHAN_ERROR   /* the instance broke the protocol, err says how: now DEAD */
} lm__chan_what;

typedef struct {
    lm_instance *inst; /* named in messages, asked how it ended; not owned */
    lm__chan_state state;
    /* The request in flight, reset by lm__chan_invoke(): times, the
     * storage accounting, and after RESULT its status, probes and body. */
    lm_call_result res;
    uint64_t ready_ns;              /* when READY came (monotonic) */
    char key[LM__CHAN_KEY_MAX + 1]; /* the last GET's or PUT's key, NUL-terminated */
    /* The storage call waiting for its answer. */
    int pending;
    uint8_t storage_type; /* LM_FRAME_GET or LM_FRAME_PUT */
    size_t put_len;       /* that PUT's value bytes */
    uint64_t storage_t0;  /* when its frame came */
    /* The frame being assembled: its header, then its payload. */
    uint8_t hdr[LM_FRAME_HEADER];
    lm_frame_header h;
    int have_header;
    size_t got;    /* bytes of hdr, then of payload, in so far */
    char *payload; /* h.len + 1 bytes, malloc'd when the header is in */
} lm__chan;

/* Where a completed frame's bytes are (lm__chan_frame, lm__chan_got). */
typedef struct {
    /* lm__chan_got: the whole payload, malloc'd, with a NUL after it; the
     * caller owns it from then on (free it; RESULT's res.body and data
     * point into it). NULL from lm__chan_frame and on LM__CHAN_MORE. */
    char *payload;
    const char *data; /* LOG: the line; PUT: the value; else NULL */
    size_t len;
} lm__chan_msg;

/* One frame for the driver to send: a storage answer. */
typedef struct {
    uint8_t type;        /* LM_FRAME_VALUE, _NOT_FOUND, _STORED or _STORAGE_ERROR */
    const void *payload; /* NULL when len is 0 */
    size_t len;
    char *owned;         /* malloc'd memory payload points into, or NULL */
    char msg[LM_ERRLEN]; /* the text of an error answer (or the store's err) */
} lm__chan_out;

/* A conversation with inst (not owned: it must outlive ch), in state
 * WAIT_READY or IDLE. */
void lm__chan_init(lm__chan *ch, lm_instance *inst, lm__chan_state state);
/* Frees a partly assembled frame. ch itself is the caller's; NULL is a
 * harmless no-op. */
void lm__chan_release(lm__chan *ch);

/* The frame reader. lm__chan_space() says where the next bytes go and, in
 * *n (at least 1), how many the current frame still lacks: read at most
 * that many there. lm__chan_got() takes the n that came (1 <= n <= *n) and
 * returns LM__CHAN_MORE until a frame is complete, then what lm__chan_frame()
 * returns for it, with m->payload handed to the caller. A bad header or a
 * frame that cannot be allocated is LM__CHAN_ERROR with err. */
char *lm__chan_space(lm__chan *ch, size_t *n);
lm__chan_what lm__chan_got(lm__chan *ch, size_t n, lm__chan_msg *m, char *err);

/* Takes one whole frame, type and payload p[0..len), and returns what it
 * was (never LM__CHAN_MORE), with m->data pointing into p where the frame
 * carried a line or a value and res.body into p for RESULT: p must outlive
 * their use, and m->payload is NULL. Moves the state as the conversation
 * goes; anything the state does not allow is LM__CHAN_ERROR with err and
 * DEAD. A GET or PUT counts in res.storage_calls and starts the clock of
 * res.storage_ns; answer it with lm__chan_serve() or lm__chan_answer(). */
lm__chan_what lm__chan_frame(lm__chan *ch, uint8_t type, const char *p, size_t len, lm__chan_msg *m,
                             char *err);

/* Begins a request of a len-byte body: LM_OK with res reset, res.sent_ns
 * now and BUSY; the driver sends INVOKE next. LM_ERR with err when not
 * IDLE ("busy", "dead", "not ready") or len is past LM_FRAME_MAX; then
 * nothing changed. */
int lm__chan_invoke(lm__chan *ch, size_t len, char *err);

/* Serves the pending GET or PUT from store on the spot (m is what
 * lm__chan_got() or lm__chan_frame() said of its frame: a PUT's value is in
 * it) and builds its answer into out as lm__chan_answer() does; store NULL
 * answers a storage error that says how to give one ("no Redis for this
 * instance: ..."), and counts no storage time. The caller sends out, then
 * lm__chan_out_free(out). */
void lm__chan_serve(lm__chan *ch, lm_store *store, const lm__chan_msg *m, lm__chan_out *out);
/* Builds the answer to the pending GET or PUT from the store's outcome
 * (status as in lm_store_cb: 0 found with data[0..len), or stored; 1 not
 * found; -1 a fault, err saying which) and accounts for it: storage_ns up
 * to now, the VALUE's bytes read, the PUT's bytes written. An object past
 * LM_FRAME_MAX is a storage error naming it. out->payload may point into
 * data or err: send out before they go. Nothing pending: out is a storage
 * error and nothing is counted. */
void lm__chan_answer(lm__chan *ch, int status, const char *data, size_t len, const char *err,
                     lm__chan_out *out);
/* Frees what out owns (a served object). NULL is a harmless no-op. */
void lm__chan_out_free(lm__chan_out *out);

/* The instance's stdout or stdin closed: DEAD, and err says how it ended
 * ("instance ID of FN ended (exit status 2)"), after waiting up to 1 s for
 * its exit status. */
void lm__chan_ended(lm__chan *ch, char *err);
/* The wait's deadline passed: DEAD, and err says for what. bound_ms > 0
 * names the bound, as lumos run and invoke report it ("instance ID of FN
 * did not answer within 1500 ms", "... did not get READY within ..."); 0
 * says "instance ID did not answer in time" (or "did not get READY in
 * time"), the words by which the pool tells a hang from other failures. */
void lm__chan_timed_out(lm__chan *ch, int bound_ms, char *err);

#endif
