/* test_load_http.c -- the load client's HTTP/1.1 response parser
 * (src/load/http_resp.c): known answers (Content-Length, chunked with
 * extensions and trailers, a body to the connection's end, 204, HEAD,
 * interim 1xx, HTTP/1.0, Connection: close, X-Lumos-Request-Id), the same
 * results whatever the reads' sizes (every split of every answer), bytes
 * after an answer left unconsumed, and bad answers with their exact
 * messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "load/internal.h"

typedef struct {
    int state, status, close;
    uint64_t request_id, body_bytes, bytes;
    size_t used; /* bytes the parser took */
    char err[160];
} outcome;

/* Feeds text in pieces of step bytes (0: all at once), then EOF when eof
 * and the answer is not done. */
static outcome parse(const char *text, size_t n, int no_body, size_t step, int eof) {
    static lm__http_resp p;
    lm__http_resp_init(&p, no_body);
    size_t off = 0;
    while (off < n && p.state != LM__HTTP_DONE && p.state != LM__HTTP_ERROR) {
        size_t k = step && step < n - off ? step : n - off;
        size_t used = lm__http_resp_feed(&p, text + off, k);
        assert_true(used <= k);
        off += used;
        if (used < k) break;
    }
    if (eof && p.state != LM__HTTP_DONE && p.state != LM__HTTP_ERROR) lm__http_resp_eof(&p);
    outcome o = {.state = p.state,
                 .status = p.status,
                 .close = p.close,
                 .request_id = p.request_id,
                 .body_bytes = p.body_bytes,
                 .bytes = p.bytes,
                 .used = off};
    snprintf(o.err, sizeof(o.err), "%s", p.err);
    return o;
}

/* Parses text whole and split at every size; all must agree. */
static outcome parse_all_ways(const char *text, int no_body, int eof) {
    size_t n = strlen(text);
    outcome whole = parse(text, n, no_body, 0, eof);
    for (size_t step = 1; step < n; step++) {
        outcome o = parse(text, n, no_body, step, eof);
        if (o.state != whole.state || o.status != whole.status || o.close != whole.close ||
            o.request_id != whole.request_id || o.body_bytes != whole.body_bytes ||
            o.used != whole.used || strcmp(o.err, whole.err) != 0) {
            fprintf(stderr, "step %zu differs: state %d/%d used %zu/%zu err '%s'/'%s'\n", step,
                    o.state, whole.state, o.used, whole.used, o.err, whole.err);
            fail();
        }
    }
    return whole;
}

static void test_content_length(void **state) {
    (void)state;
    const char *t = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\n"
                    "X-Lumos-Request-Id: 4711\r\nServer-Timing: total;dur=0.1\r\n\r\n{\"a\":1}";
    outcome o = parse_all_ways(t, 0, 0);
    assert_int_equal(o.state, LM__HTTP_DONE);
    assert_int_equal(o.status, 200);
    assert_int_equal(o.close, 0);
    assert_int_equal(o.request_id, 4711);
    assert_int_equal(o.body_bytes, 7);
    assert_int_equal(o.used, strlen(t));
    assert_int_equal(o.bytes, strlen(t));
    /* Zero length, a reason-less status line, bare LF line ends. */
    o = parse_all_ways("HTTP/1.1 404\nContent-Length: 0\n\n", 0, 0);
    assert_int_equal(o.state, LM__HTTP_DONE);
    assert_int_equal(o.status, 404);
    assert_int_equal(o.body_bytes, 0);
    /* The same length twice is fine; names are case-insensitive. */
    o = parse_all_ways("HTTP/1.1 200 OK\r\ncontent-LENGTH: 2\r\nContent-Length:2 \r\n\r\nhi", 0, 0);
    assert_int_equal(o.state, LM__HTTP_DONE);
    assert_int_equal(o.body_bytes, 2);
}

static void test_bytes_after_the_answer(void **state) {
    (void)state;
    const char *t = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1 200 OK\r\n";
    outcome o = parse(t, strlen(t), 0, 0, 0);
    assert_int_equal(o.state, LM__HTTP_DONE);
    assert_int_equal(o.used, strlen("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"));
}

static void test_chunked(void **state) {
    (void)state;
    const char *t = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n"
                    "X-Lumos-Request-Id: 12\r\n\r\n"
                    "5;name=value\r\nhello\r\nA \r\n0123456789\r\n0\r\nTrailer-One: x\r\n\r\n";
    outcome o = parse_all_ways(t, 0, 0);
    assert_int_equal(o.state, LM__HTTP_DONE);
    assert_int_equal(o.body_bytes, 15);
    assert_int_equal(o.request_id, 12);
    assert_int_equal(o.used, strlen(t));
    /* Chunked wins over Content-Length. */
    o = parse_all_ways(
        "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n"
        "3\r\nabc\r\n0\r\n\r\n",
        0, 0);
    assert_int_equal(o.state, LM__HTTP_DONE);
    assert_int_equal(o.body_bytes, 3);
}

static void test_body_to_the_end(void **state) {
    (void)state;
    /* No length: the body runs to the close, which ends the answer. */
    outcome o = parse_all_ways("HTTP/1.1 200 OK\r\n\r\nall of this", 0, 1);
    assert_int_equal(o.state, LM__HTTP_DONE);
    assert_int_equal(o.close, 1);
    assert_int_equal(o.body_bytes, 11);
    /* A coding that is not chunked, too. */
    o = parse_all_ways("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzz", 0, 1);
    assert_int_equal(o.state, LM__HTTP_DONE);
    assert_int_equal(o.close, 1);
    /* Without the close it is not done. */
    o = parse_all_ways("HTTP/1.1 200 OK\r\n\r\nmore to come", 0, 0);
    assert_int_equal(o.state, LM__HTTP_EOF_BODY);
}

static void test_no_body(void **state) {
    (void)state;
    outcome o = parse_all_ways("HTTP/1.1 204 No Content\r\nX-Lumos-Request-Id: 3\r\n\r\n", 0, 0);
    assert_int_equal(o.state, LM__HTTP_DONE);
    assert_int_equal(o.status, 204);
    assert_int_equal(o.request_id, 3);
    o = parse_all_ways("HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n", 0, 0);
    assert_int_equal(o.state, LM__HTTP_DONE);
    /* An answer to HEAD has no body whatever it says. */
    o = parse_all_ways("HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n", 1, 0);
    assert_int_equal(o.state, LM__HTTP_DONE);
    assert_int_equal(o.body_bytes, 0);
}

static void test_interim_and_versions(void **state) {
    (void)state;
    const char *t = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                    "HTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx";
    outcome o = parse_all_ways(t, 0, 0);
    assert_int_equal(o.state, LM__HTTP_DONE);
    assert_int_equal(o.status, 201);
    assert_int_equal(o.bytes, strlen(t));
    /* HTTP/1.0 closes unless it says keep-alive. */
    o = parse_all_ways("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx", 0, 0);
    assert_int_equal(o.close, 1);
    o = parse_all_ways("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\nx", 0,
                       0);
    assert_int_equal(o.close, 0);
    o = parse_all_ways(
        "HTTP/1.1 200 OK\r\nConnection: upgrade, close\r\nContent-Length: 1\r\n\r\nx", 0, 0);
    assert_int_equal(o.close, 1);
    /* A request id that is not a number reads as none. */
    o = parse_all_ways("HTTP/1.1 200 OK\r\nX-Lumos-Request-Id: 12a\r\nContent-Length: 0\r\n\r\n", 0,
                       0);
    assert_int_equal(o.request_id, 0);
}

/* text must be refused with exactly msg. */
static void refused(const char *text, int eof, const char *msg) {
    outcome o = parse_all_ways(text, 0, eof);
    if (o.state != LM__HTTP_ERROR || strcmp(o.err, msg) != 0) {
        fprintf(stderr, "for %s\n got state %d '%s'\n want '%s'\n", text, o.state, o.err, msg);
        fail();
    }
}

static void test_bad_answers(void **state) {
    (void)state;
    refused("HTTP/2 200 OK\r\n\r\n", 0,
            "bad status line 'HTTP/2 200 OK' (expected 'HTTP/1.x NNN reason')");
    refused("HTTP/1.1 20 OK\r\n\r\n", 0,
            "bad status line 'HTTP/1.1 20 OK' (expected 'HTTP/1.x NNN reason')");
    refused("HTTP/1.1 200OK\r\n\r\n", 0,
            "bad status line 'HTTP/1.1 200OK' (expected 'HTTP/1.x NNN reason')");
    refused("http/1.1 200 OK\r\n\r\n", 0,
            "bad status line 'http/1.1 200 OK' (expected 'HTTP/1.x NNN reason')");
    refused("HTTP/1.1 101 Switching Protocols\r\n\r\n", 0,
            "101 Switching Protocols: the load client speaks HTTP/1.1 only");
    refused("HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", 0,
            "Content-Length '1x' is not a length");
    refused("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 0,
            "Content-Length '-1' is not a length");
    refused("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", 0,
            "Content-Length '99999999999999999999' is not a length");
    refused("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 0,
            "two different Content-Lengths (1 and 2)");
    refused("HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", 0,
            "bad header field 'Bad Name: x' (expected 'Name: value')");
    refused("HTTP/1.1 200 OK\r\nName : x\r\n\r\n", 0,
            "bad header field 'Name : x' (expected 'Name: value')");
    refused("HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", 0,
            "bad header field 'NoColon' (expected 'Name: value')");
    refused("HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n", 0,
            "obsolete line folding in a header field");
    refused("HTTP/1.1 200 OK\r\nA: b\001c\r\n\r\n", 0, "control character in header field 'A'");
    refused("HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n", 0, "a bare CR inside a line");
    refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 0,
            "bad chunk size line 'zz'");
    refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n", 0,
            "a chunk's data does not end where its size says");
    refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n", 0,
            "chunk size too large");
    refused("", 1, "the server closed the connection before answering");
    refused("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 1,
            "the server closed the connection in the middle of its answer");
    /* Limits: one line, and the whole head. */
    char *big = malloc(80000);
    assert_non_null(big);
    strcpy(big, "HTTP/1.1 200 OK\r\nX: ");
    memset(big + strlen(big), 'a', 9000);
    strcpy(big + 21 + 9000, "\r\n\r\n");
    outcome o = parse(big, strlen(big), 0, 0, 0);
    assert_int_equal(o.state, LM__HTTP_ERROR);
    assert_string_equal(o.err, "a line longer than 8192 bytes");
    strcpy(big, "HTTP/1.1 200 OK\r\n");
    for (int i = 0; i < 1500; i++)
        strcat(big, "Some-Header: a value of some length here.....\r\n");
    strcat(big, "\r\n");
    o = parse(big, strlen(big), 0, 0, 0);
    assert_int_equal(o.state, LM__HTTP_ERROR);
    assert_string_equal(o.err, "header section longer than 65536 bytes");
    free(big);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_content_length), cmocka_unit_test(test_bytes_after_the_answer),
        cmocka_unit_test(test_chunked),        cmocka_unit_test(test_body_to_the_end),
        cmocka_unit_test(test_no_body),        cmocka_unit_test(test_interim_and_versions),
        cmocka_unit_test(test_bad_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
