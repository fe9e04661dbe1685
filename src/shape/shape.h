/* shape.h -- network conditions on one machine (docs/network.md): a link
 * condition (bandwidth, delay, jitter, loss, reordering), a schedule of
 * conditions over time, the pure model that gives each message its delivery
 * time, a userspace TCP shaping proxy that applies the model per direction,
 * and the kernel's tbf qdisc for bandwidth on an interface.
 *
 * Times are nanoseconds on the monotonic clock (lm_now_ns) unless a name
 * says otherwise; rates are bits per second. Functions return LM_OK or
 * LM_ERR with a message in err (LM_ERRLEN bytes), as everywhere on the host. */
#ifndef LM_SHAPE_H
#define LM_SHAPE_H

#include <stddef.h>
#include <stdint.h>

#include "util/rng.h"

/* ---- a link condition ------------------------------------------------- */

/* How jitter is drawn around the delay. jitter_ns is the spread: the
 * standard deviation for NORMAL and PARETO_NORMAL, the half-width for
 * UNIFORM. A total delay below 0 is drawn again (the distribution is
 * truncated at 0, not clamped), at most 64 times, then it is 0. */
typedef enum {
    LM_SHAPE_JITTER_NORMAL = 0,   /* delay + N(0, jitter^2) */
    LM_SHAPE_JITTER_UNIFORM,      /* delay + U(-jitter, +jitter) */
    LM_SHAPE_JITTER_PARETO_NORMAL /* netem's shape: 1/4 normal + 3/4 Pareto (a = 3),
                                     scaled to mean 0 and sd 1, times jitter */
} lm_shape_dist;

/* One direction of a link. All zero is the unshaped link. */
typedef struct {
    uint64_t rate_bps;       /* bandwidth; 0: unlimited */
    uint64_t delay_ns;       /* one-way delay */
    uint64_t jitter_ns;      /* spread of the delay; 0: none */
    lm_shape_dist dist;      /* jitter's distribution */
    double loss;             /* probability a message (chunk) is lost, [0, 1] */
    double reorder;          /* probability a message is held back, [0, 1] */
    uint64_t reorder_gap_ns; /* how long a held-back message waits; 0: delay_ns */
    uint64_t rto_ns;         /* first retransmit timeout after a loss; 0: the default
                                max(200 ms, 2 * delay + 8 * jitter), see lm_shape_rto_ns */
} lm_shape_cond;

/* Parses a compact condition, comma-separated key=value, in any order, each
 * key at most once: delay=20ms, jitter=5ms[:normal|uniform|pareto-normal],
 * loss=1% (or 0.01), rate=100mbit (bit, kbit, mbit, gbit; kbps/mbps/gbps
 * are bytes), reorder=0.5%[:GAP] (GAP a time), rto=200ms. Times take ns, us,
 * ms, s, m; a bare number is ms. "" and "none" are the unshaped link.
 * Strict: unknown keys, repeats, trailing junk, out-of-range values and a
 * jitter or gap without a delay unit are errors naming the token.
 * Returns LM_OK with *out set, or LM_ERR with err (then *out is zeroed). */
int lm_shape_cond_parse(const char *s, lm_shape_cond *out, char *err);
/* Parses a condition from JSON text: either a string (as above) or an
 * object {"rate_bps", "delay_ms", "jitter_ms", "jitter_dist", "loss",
 * "reorder", "reorder_gap_ms", "rto_ms"}, every key optional, no others. */
int lm_shape_cond_parse_json(const char *json, lm_shape_cond *out, char *err);
/* Writes c in the compact form lm_shape_cond_parse reads back to the same
 * condition (exact for whole nanoseconds and bits) into out (n bytes,
 * always NUL-terminated). Returns out. "none" for the unshaped link. */
char *lm_shape_cond_format(const lm_shape_cond *c, char *out, size_t n);
/* True when c shapes nothing (all fields zero). */
int lm_shape_cond_is_none(const lm_shape_cond *c);
/* The first retransmit timeout the model uses for c: c->rto_ns when set,
 * else max(200 ms, 2 * delay + 8 * jitter) -- Linux's RTO = SRTT + 4 *
 * RTTVAR with a symmetric link's RTT, floored at its 200 ms minimum. */
uint64_t lm_shape_rto_ns(const lm_shape_cond *c);

/* ---- a schedule ------------------------------------------------------- */

typedef struct {
    uint64_t at_ns; /* offset from the schedule's start */
    lm_shape_cond cond;
} lm_shape_step;

/* Conditions over time: step i holds from steps[i].at_ns until the next
 * step's; before the first step the link is unshaped. Steps are sorted
 * with strictly increasing at_ns. */
typedef struct {
    lm_shape_step *steps; /* malloc'd; lm_shape_sched_free frees it */
    size_t n;
} lm_shape_sched;

/* Parses a schedule from text: steps separated by ';' or newlines, each
 * "AT CONDITION" ("0s delay=20ms; 2m delay=200ms,loss=5%; 4m delay=20ms"),
 * '#' starts a comment to the end of the line. A text that is only a
 * condition (no AT) is one step at 0. Or from JSON (text starting with '['):
 * [{"at_s": 0, "condition": "delay=20ms"}, {"at_s": 120, "condition": {...}}].
 * AT must increase strictly. Returns LM_OK with *out filled (free it with
 * lm_shape_sched_free), or LM_ERR with err and *out empty. */
int lm_shape_sched_parse(const char *s, lm_shape_sched *out, char *err);
/* One step at 0 holding c. */
int lm_shape_sched_const(const lm_shape_cond *c, lm_shape_sched *out, char *err);
/* The condition in force at offset t_ns (a pointer into s; a static unshaped
 * condition before the first step or for an empty schedule). */
const lm_shape_cond *lm_shape_sched_at(const lm_shape_sched *s, uint64_t t_ns);
/* Frees the steps; NULL and an empty schedule are harmless no-ops. */
void lm_shape_sched_free(lm_shape_sched *s);

/* ---- the model -------------------------------------------------------- */

/* What happens to a lost message. */
typedef enum {
    LM_SHAPE_RETRANSMIT = 0, /* TCP: it arrives after RTO (doubling per further loss) */
    LM_SHAPE_DROP            /* a datagram: it never arrives */
} lm_shape_loss_mode;

/* One direction of one link: the schedule, the random stream and the state
 * of the line (when the last bit left, when the last message arrived). */
typedef struct {
    const lm_shape_sched *sched; /* not owned; must outlive the model */
    uint64_t start_ns;           /* the schedule's time 0 */
    lm_rng rng;
    lm_shape_loss_mode loss_mode;
    int fifo;              /* 1: deliveries never overtake (a byte stream) */
    uint64_t line_free_ns; /* when the line finishes sending what it has */
    uint64_t last_at_ns;   /* the latest delivery time given (for fifo) */
} lm_shape_model;

/* Sets m up over sched from start_ns with seed (same seed, same inputs:
 * same times). fifo 1 for a TCP byte stream (a message held back by jitter
 * or reordering holds back everything after it, as TCP's in-order delivery
 * does); 0 for independent messages that may overtake each other. */
void lm_shape_model_init(lm_shape_model *m, const lm_shape_sched *sched, uint64_t start_ns,
                         uint64_t seed, int fifo, lm_shape_loss_mode loss_mode);

/* The fate of one message. */
typedef struct {
    uint64_t at_ns;       /* delivery time (meaningless when dropped) */
    int dropped;          /* 1: lost for good (LM_SHAPE_DROP, or 15 retransmits lost) */
    unsigned retransmits; /* losses before it got through */
    int reordered;        /* 1: it was held back by the reorder gap */
} lm_shape_fate;

/* The delivery of a message of bytes bytes handed over at now_ns (now_ns
 * must not decrease between calls): it leaves when the line is free and
 * takes bytes * 8 / rate on it (a token bucket one message deep), then
 * travels delay + jitter (+ the reorder gap with probability reorder); a
 * loss (probability loss, drawn per attempt under the condition in force at
 * that attempt) resends it after the RTO, doubling per loss, up to 15
 * retransmits (Linux's tcp_retries2) then it is dropped. With fifo, at_ns is
 * at least the previous delivery's. Pure: touches only m. */
lm_shape_fate lm_shape_deliver(lm_shape_model *m, size_t bytes, uint64_t now_ns);

/* One jitter draw in units of the spread (for tests and docs): a sample of
 * dist with mean 0 (NORMAL, PARETO_NORMAL: sd 1; UNIFORM: on [-1, 1]). */
double lm_shape_draw(lm_rng *r, lm_shape_dist dist);

/* ---- the proxy -------------------------------------------------------- */

typedef struct lm_shape_proxy lm_shape_proxy;

/* Counters of one direction; "up" is client -> upstream, "down" back. */
typedef struct {
    uint64_t bytes;       /* bytes delivered */
    uint64_t chunks;      /* reads (messages) shaped */
    uint64_t drops;       /* chunks lost for good (the connection is then closed) */
    uint64_t retransmits; /* losses repaired by a retransmit delay */
    uint64_t reordered;   /* chunks held back by the reorder gap */
} lm_shape_dir_stats;

typedef struct {
    uint64_t connections; /* accepted so far */
    uint64_t active;      /* open now */
    uint64_t failed;      /* upstream connects that failed */
    lm_shape_dir_stats up, down;
} lm_shape_stats;

typedef struct {
    int listen_fd;              /* a listening socket to accept on (the proxy owns it
                                   from start); -1: bind listen_addr */
    const char *listen_addr;    /* "HOST:PORT" (port 0: any) or "unix:PATH" */
    const char *upstream;       /* "HOST:PORT" or "unix:PATH" to connect each client to */
    const lm_shape_sched *up;   /* client -> upstream; copied at start; NULL: unshaped */
    const lm_shape_sched *down; /* upstream -> client; copied; NULL: the same as up */
    uint64_t seed;              /* connection k's direction d uses seed + 2k + d */
    size_t chunk_max;           /* largest read shaped as one message; 0: 16 KiB
                                   (when rate is set: at most 1 ms of it, >= 1500) */
} lm_shape_proxy_opts;

/* Starts a proxy on a thread of its own (own event base): binds or takes
 * the listening socket, then accepts, connects each client to the upstream
 * and shapes both directions; the schedules' time 0 is the start. Returns
 * the proxy (stop it with lm_shape_proxy_stop) or NULL with err. */
lm_shape_proxy *lm_shape_proxy_start(const lm_shape_proxy_opts *o, char *err);
/* The address it listens on ("127.0.0.1:PORT", or "unix:PATH"), owned by p. */
const char *lm_shape_proxy_addr(const lm_shape_proxy *p);
/* A consistent copy of the counters (safe from any thread). */
void lm_shape_proxy_stats(lm_shape_proxy *p, lm_shape_stats *out);
/* Replaces both directions' schedules from now on (time 0 = now). */
int lm_shape_proxy_set(lm_shape_proxy *p, const lm_shape_sched *up, const lm_shape_sched *down,
                       char *err);
/* Stops the thread, closes every connection and the listener, frees p;
 * NULL is a harmless no-op. */
void lm_shape_proxy_stop(lm_shape_proxy *p);

/* Writes the stats as one JSON object into out (n bytes, NUL-terminated). */
char *lm_shape_stats_json(const lm_shape_stats *s, char *out, size_t n);

/* ---- the kernel's tbf ------------------------------------------------- */

/* The burst lm_shape_tbf_set uses for rate_bps when given 0: 1 ms of the
 * rate, at least 4 full Ethernet frames (6056 bytes), so the bucket never
 * holds less than a packet and a 1 MiB transfer is paced, not bursted. */
uint64_t lm_shape_tbf_burst(uint64_t rate_bps);

/* Sets (replaces) a tbf root qdisc on ifname: `tc qdisc replace dev IF root
 * tbf rate R burst B latency L`, run inside netns when netns is not NULL
 * (`ip netns exec NETNS`). burst 0: lm_shape_tbf_burst; latency_ns 0: 50 ms
 * (the queue's bound). Needs root (CAP_NET_ADMIN); errors give tc's words. */
int lm_shape_tbf_set(const char *ifname, const char *netns, uint64_t rate_bps, uint64_t burst,
                     uint64_t latency_ns, char *err);
/* Removes ifname's root qdisc (back to the default); no qdisc of ours is
 * not an error. */
int lm_shape_tbf_clear(const char *ifname, const char *netns, char *err);

#endif
