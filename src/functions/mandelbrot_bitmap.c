/* mandelbrot_bitmap.c -- the mandelbrot-bitmap function: the Computer
 * Language Benchmarks Game's Mandelbrot set as a binary PBM (P4) image. */
#include <stdint.h>
#include <string.h>

#include "lumos.h"

/* The largest side accepted: a 32 MiB bitmap, 44 MiB as base64 inline, which
 * still fits in one reply frame. */
#define MANDEL_MAX_SIZE 16384u
/* The Benchmarks Game's definition: 50 iterations, escape when |z|^2 > 4. */
#define MANDEL_ITERATIONS 50
#define MANDEL_LIMIT_SQ 4.0
/* Room for "P4\n" and two sides of up to five digits. */
#define MANDEL_HEADER_MAX 32

/* The P4 header "P4\n<w> <w>\n" at out; returns its length. */
static size_t pbm_header(char *out, uint32_t w) {
    size_t n = 0;
    out[n++] = 'P';
    out[n++] = '4';
    out[n++] = '\n';
    n += lm_u64_dec(w, out + n);
    out[n++] = ' ';
    n += lm_u64_dec(w, out + n);
    out[n++] = '\n';
    return n;
}

/* One byte of the image: the eight pixels x0..x0+7 of the row whose
 * imaginary part is ci, most significant bit first, 1 for a point that has
 * not escaped after all iterations. The eight points are iterated together
 * (which compilers can vectorize) until all have escaped. A point that has
 * escaped keeps iterating, but it cannot come back: once |z| > 2 with
 * |c| < 1.81 everywhere in the region, |z^2 + c| >= |z|^2 - |c| > 2 again,
 * and values that overflow become inf or NaN, which the final "<= 4" test
 * also counts as outside. So every bit equals the one-point-at-a-time loop
 * of the definition; the unit test checks that against such a loop.
 *
 * The arithmetic is the definition's, operation for operation, in doubles:
 * Cr = 2x/w - 1.5, Ci = 2y/h - 1, Zi = 2 Zr Zi + Ci, Zr = Tr - Ti + Cr,
 * Tr = Zr^2, Ti = Zi^2. With -ffp-contract=off no step is fused into an
 * FMA, so native and wasm32 builds produce the same bits. */
static uint8_t render_byte(uint32_t x0, double ci, double wd) {
    double cr[8], zr[8], zi[8], tr[8], ti[8];
    for (int k = 0; k < 8; k++) {
        cr[k] = 2.0 * (double)(x0 + (uint32_t)k) / wd - 1.5;
        zr[k] = zi[k] = tr[k] = ti[k] = 0.0;
    }
    for (int i = 0; i < MANDEL_ITERATIONS; i++) {
        int escaped = 0;
        for (int k = 0; k < 8; k++) {
            zi[k] = 2.0 * zr[k] * zi[k] + ci;
            zr[k] = tr[k] - ti[k] + cr[k];
            tr[k] = zr[k] * zr[k];
            ti[k] = zi[k] * zi[k];
            escaped += !(tr[k] + ti[k] <= MANDEL_LIMIT_SQ);
        }
        if (escaped == 8) break;
    }
    unsigned bits = 0;
    for (int k = 0; k < 8; k++)
        bits = (bits << 1) | (tr[k] + ti[k] <= MANDEL_LIMIT_SQ);
    return (uint8_t)bits;
}

/* Renders the w x w image (w a multiple of 8) as packed rows at out. */
static void render(uint8_t *out, uint32_t w) {
    const double wd = (double)w;
    const uint32_t row_bytes = w / 8;
    for (uint32_t y = 0; y < w; y++) {
        double ci = 2.0 * (double)y / wd - 1.0;
        uint8_t *row = out + (size_t)y * row_bytes;
        for (uint32_t b = 0; b < row_bytes; b++)
            row[b] = render_byte(b * 8, ci, wd);
    }
}

static int handler(lm_ctx *ctx, const lm_json *req, lm_jw *data) {
    uint64_t size;
    lm_storage where;
    const char *key = NULL;
    if (lm_arg_u64(ctx, req, "size", 1, 0, 1, MANDEL_MAX_SIZE, &size) != LM_OK) return LM_ERR;
    if (lm_arg_storage(ctx, req, &where) != LM_OK) return LM_ERR;
    int inline_out = where == LM_STORAGE_INLINE;
    if (lm_arg_str(ctx, req, "output_key", !inline_out, NULL, &key, NULL) != LM_OK) return LM_ERR;

    /* The side is rounded up to a multiple of 8 so every row is whole bytes;
     * the header then names the rounded side, and the image is the
     * Benchmarks Game's output for that side. */
    uint32_t w = ((uint32_t)size + 7u) & ~7u;

    lm_phase(ctx, LM_PHASE_COMPUTE);
    size_t pixels_bytes = (size_t)w / 8 * w;
    uint8_t *pbm = lm_scratch(ctx, MANDEL_HEADER_MAX + pixels_bytes);
    if (!pbm) return lm_fail(ctx, 500, "internal", "out of memory for a %u-pixel bitmap", w);
    size_t header_len = pbm_header((char *)pbm, w);
    render(pbm + header_len, w);
    size_t total = header_len + pixels_bytes;

    if (!inline_out && lm_storage_put(ctx, where, key, pbm, total) != LM_OK) return LM_ERR;

    lm_phase(ctx, LM_PHASE_SER);
    lm_jw_key(data, "output_key");
    if (inline_out)
        lm_jw_null(data);
    else
        lm_jw_str(data, key);
    lm_jw_key(data, "bytes");
    lm_jw_u64(data, total);
    lm_jw_key(data, "width");
    lm_jw_u64(data, w);
    lm_jw_key(data, "height");
    lm_jw_u64(data, w);
    if (inline_out) {
        size_t enc = lm_base64_encoded_len(total);
        lm_jw_key(data, "bitmap_base64");
        char *dst = lm_jw_str_reserve(data, enc);
        if (!dst) return lm_fail(ctx, 500, "internal", "out of memory for the base64 bitmap");
        lm_base64_encode(pbm, total, dst);
        lm_jw_str_commit(data, enc);
    }
    return LM_OK;
}

LM_FUNCTION(lm_fn_mandelbrot_bitmap, "mandelbrot-bitmap", handler)
