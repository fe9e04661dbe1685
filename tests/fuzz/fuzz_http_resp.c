/* fuzz_http_resp.c -- libFuzzer target for the load client's HTTP/1.1
 * response parser (src/load/http_resp.c). The first input byte picks the
 * read sizes and whether the answer is to a HEAD request; the rest is what
 * the server sent. Properties: the same outcome (state, status, close,
 * request id, body bytes, bytes consumed, error text) whether the bytes
 * come whole or in pieces; never more consumed than given; a done answer
 * counts exactly the bytes it took; a refused one says why; and never a
 * crash, undefined behaviour or a read past the input (ASan, UBSan).
 *
 * Built alone by tests/fuzz/run_http_resp with the parser only. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    int state, status, close;
    uint64_t request_id, body_bytes, bytes;
    size_t used;
    char err[160];
} outcome;

static void die(const char *what) {
    fprintf(stderr, "fuzz_http_resp: %s\n", what);
    abort();
}

static lm__http_resp p; /* large (its line buffer): not on the stack */

static outcome parse(const char *text, size_t n, int no_body, size_t step, int eof) {
    lm__http_resp_init(&p, no_body);
    /* The knative run keeps one field's value (load.h capture_header). */
    p.capture = "X-Lumos-Front";
    size_t off = 0;
    while (off < n && p.state != LM__HTTP_DONE && p.state != LM__HTTP_ERROR) {
        size_t k = step && step < n - off ? step : n - off;
        /* A copy of exactly k bytes, so ASan sees any read past them. */
        char *piece = malloc(k ? k : 1);
        if (!piece) die("out of memory");
        memcpy(piece, text + off, k);
        size_t used = lm__http_resp_feed(&p, piece, k);
        free(piece);
        if (used > k) die("consumed more than it was given");
        off += used;
        if (used < k) {
            if (p.state != LM__HTTP_DONE && p.state != LM__HTTP_ERROR)
                die("stopped short while not done");
            break;
        }
    }
    if (eof && p.state != LM__HTTP_DONE && p.state != LM__HTTP_ERROR) {
        int rc = lm__http_resp_eof(&p);
        if ((rc == LM_OK) != (p.state == LM__HTTP_DONE)) die("eof's answer and state disagree");
    }
    if (p.state == LM__HTTP_ERROR && !p.err[0]) die("refused without a message");
    if (p.state == LM__HTTP_DONE && p.bytes != off) die("bytes differ from what it took");
    if (p.body_bytes > p.bytes) die("more body than bytes");
    if (p.captured_len > LM_LOAD_CAPTURE_MAX || p.captured[p.captured_len] != 0)
        die("the captured value is not a string of at most LM_LOAD_CAPTURE_MAX bytes");
    outcome o = {p.state, p.status, p.close, p.request_id, p.body_bytes, p.bytes, off, ""};
    memcpy(o.err, p.err, sizeof(o.err));
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    int no_body = data[0] & 1, eof = (data[0] >> 1) & 1;
    size_t step = (size_t)(data[0] >> 2) + 1;
    const char *text = (const char *)data + 1;
    size_t n = size - 1;
    outcome a = parse(text, n, no_body, 0, eof);
    outcome b = parse(text, n, no_body, step, eof);
    outcome c = parse(text, n, no_body, 1, eof);
    if (a.state != b.state || a.state != c.state) die("state depends on the read sizes");
    if (a.used != b.used || a.used != c.used) die("bytes taken depend on the read sizes");
    if (a.status != b.status || a.close != b.close || a.request_id != b.request_id ||
        a.body_bytes != b.body_bytes || a.status != c.status || a.body_bytes != c.body_bytes)
        die("the answer depends on the read sizes");
    if (strcmp(a.err, b.err) != 0 || strcmp(a.err, c.err) != 0)
        die("the error depends on the read sizes");
    return 0;
}
