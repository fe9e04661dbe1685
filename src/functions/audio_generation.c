/* audio_generation.c -- the audio-generation function: writes a 16-bit PCM
 * mono RIFF/WAVE file of a requested size holding a sine tone.
 *
 * The sine is computed here, not by libm, so that the native and the Wasm
 * builds write the same bytes: the phase of sample i is the exact integer
 * (frequency * i) mod rate, reduced to a quarter wave by symmetry and to an
 * angle in [0, pi/4], where Taylor polynomials are accurate to about 1e-14,
 * far below one 16-bit step. Only IEEE basic operations are used, which are
 * correctly rounded on every target (the build uses -ffp-contract=off). */
#include <stdint.h>
#include <string.h>

#include "lumos.h"

#define WAV_HEADER 44
#define AMPLITUDE 32000.0
#define MAX_SIZE_KB 32768u
#define MAX_FREQUENCY 20000u
#define MIN_RATE 8000u
#define MAX_RATE 192000u

static void put_le16(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v & 0xff);
    p[1] = (uint8_t)((v >> 8) & 0xff);
}

static void put_le32(uint8_t *p, uint32_t v) {
    put_le16(p, v & 0xffff);
    put_le16(p + 2, v >> 16);
}

/* The canonical 44-byte header: RIFF chunk, a 16-byte "fmt " chunk for PCM
 * (format tag 1), then the "data" chunk header. */
static void write_header(uint8_t *h, uint32_t total, uint32_t rate) {
    uint32_t data_bytes = total - WAV_HEADER;
    memcpy(h, "RIFF", 4);
    put_le32(h + 4, total - 8);
    memcpy(h + 8, "WAVE", 4);
    memcpy(h + 12, "fmt ", 4);
    put_le32(h + 16, 16);       /* fmt chunk size */
    put_le16(h + 20, 1);        /* PCM */
    put_le16(h + 22, 1);        /* channels */
    put_le32(h + 24, rate);     /* samples per second */
    put_le32(h + 28, rate * 2); /* bytes per second */
    put_le16(h + 32, 2);        /* block align: one 16-bit sample */
    put_le16(h + 34, 16);       /* bits per sample */
    memcpy(h + 36, "data", 4);
    put_le32(h + 40, data_bytes);
}

/* sin(x) and cos(x) for x in [0, pi/4] by their Taylor series through x^13
 * and x^14; the first omitted term is below 3e-14 there. */
static double sin_poly(double x) {
    double x2 = x * x;
    double p = -1.0 / 6227020800.0; /* -1/13! */
    p = p * x2 + 1.0 / 39916800.0;  /* 1/11! */
    p = p * x2 - 1.0 / 362880.0;    /* -1/9! */
    p = p * x2 + 1.0 / 5040.0;      /* 1/7! */
    p = p * x2 - 1.0 / 120.0;       /* -1/5! */
    p = p * x2 + 1.0 / 6.0;         /* 1/3! */
    return x - x * x2 * p;
}

static double cos_poly(double x) {
    double x2 = x * x;
    double p = 1.0 / 87178291200.0; /* 1/14! */
    p = p * x2 - 1.0 / 479001600.0; /* -1/12! */
    p = p * x2 + 1.0 / 3628800.0;   /* 1/10! */
    p = p * x2 - 1.0 / 40320.0;     /* -1/8! */
    p = p * x2 + 1.0 / 720.0;       /* 1/6! */
    p = p * x2 - 1.0 / 24.0;        /* -1/4! */
    p = p * x2 + 0.5;               /* 1/2! */
    return 1.0 - x2 * p;
}

/* sin(2*pi*k/rate) for an integer phase k in [0, rate). The quadrant and the
 * reflection about pi/4 are decided in integers, so no rounding error in the
 * reduction can pick the wrong branch. */
static double sine_at(uint32_t k, uint32_t rate) {
    const double half_pi = 1.57079632679489661923;
    uint64_t k4 = (uint64_t)k * 4;
    uint32_t quadrant = (uint32_t)(k4 / rate);
    uint32_t rem = (uint32_t)(k4 - (uint64_t)quadrant * rate); /* angle rem/rate * pi/2 */
    int use_cos = quadrant & 1;
    if ((uint64_t)rem * 2 > rate) {
        /* Past pi/4 in the quadrant: reflect, swapping sine and cosine. */
        rem = rate - rem;
        use_cos = !use_cos;
    }
    double x = ((double)rem / (double)rate) * half_pi;
    double v = use_cos ? cos_poly(x) : sin_poly(x);
    return quadrant >= 2 ? -v : v;
}

/* Rounds half away from zero; the value is within 16-bit range. */
static int16_t to_sample(double v) {
    double a = v * AMPLITUDE;
    int32_t s = a >= 0 ? (int32_t)(a + 0.5) : -(int32_t)(-a + 0.5);
    return (int16_t)s;
}

static void fill_samples(uint8_t *out, uint32_t samples, uint32_t freq, uint32_t rate) {
    uint32_t k = 0; /* (freq * i) mod rate, kept exactly */
    for (uint32_t i = 0; i < samples; i++) {
        uint16_t s = (uint16_t)to_sample(sine_at(k, rate));
        out[2 * (size_t)i] = (uint8_t)(s & 0xff);
        out[2 * (size_t)i + 1] = (uint8_t)(s >> 8);
        k += freq;
        if (k >= rate) k -= rate; /* freq < rate, so once is enough */
    }
}

static int handler(lm_ctx *ctx, const lm_json *req, lm_jw *data) {
    uint64_t size_kb, freq, rate;
    lm_storage where;
    const char *key;
    if (lm_arg_u64(ctx, req, "size_kb", 1, 0, 1, MAX_SIZE_KB, &size_kb) != LM_OK ||
        lm_arg_u64(ctx, req, "frequency_hz", 0, 440, 1, MAX_FREQUENCY, &freq) != LM_OK ||
        lm_arg_u64(ctx, req, "sample_rate", 0, 44100, MIN_RATE, MAX_RATE, &rate) != LM_OK ||
        lm_arg_storage(ctx, req, &where) != LM_OK)
        return LM_ERR;
    if (freq * 2 >= rate)
        return lm_fail(ctx, 400, "bad_request",
                       "field 'frequency_hz' is %u; it must be below half of 'sample_rate' (%u)",
                       (unsigned)freq, (unsigned)rate);
    if (lm_arg_str(ctx, req, "output_key", where != LM_STORAGE_INLINE, NULL, &key, NULL) != LM_OK)
        return LM_ERR;

    /* size_kb KiB is even and so is the header, so the data is whole samples;
     * the rounding down the contract allows never removes anything. */
    uint32_t total = (uint32_t)size_kb * 1024u;
    total = WAV_HEADER + ((total - WAV_HEADER) & ~1u);
    uint32_t samples = (total - WAV_HEADER) / 2;

    lm_phase(ctx, LM_PHASE_COMPUTE);
    uint8_t *wav = lm_scratch(ctx, total);
    if (!wav) return lm_fail(ctx, 500, "internal", "out of memory for %u bytes", (unsigned)total);
    write_header(wav, total, (uint32_t)rate);
    fill_samples(wav + WAV_HEADER, samples, (uint32_t)freq, (uint32_t)rate);

    if (where != LM_STORAGE_INLINE && lm_storage_put(ctx, where, key, wav, total) != LM_OK)
        return LM_ERR;

    lm_phase(ctx, LM_PHASE_SER);
    /* As mandelbrot-bitmap: an inline reply names no key (one given is
     * ignored, since nothing is stored). */
    lm_jw_key(data, "output_key");
    if (where == LM_STORAGE_INLINE)
        lm_jw_null(data);
    else
        lm_jw_str(data, key);
    lm_jw_key(data, "bytes");
    lm_jw_u64(data, total);
    lm_jw_key(data, "samples");
    lm_jw_u64(data, samples);
    lm_jw_key(data, "sample_rate");
    lm_jw_u64(data, rate);
    lm_jw_key(data, "frequency_hz");
    lm_jw_u64(data, freq);
    lm_jw_key(data, "duration_ms");
    lm_jw_fixed(data, (double)samples * 1000.0 / (double)rate, 3);
    if (where == LM_STORAGE_INLINE) {
        size_t n = lm_base64_encoded_len(total);
        lm_jw_key(data, "wav_base64");
        char *out = lm_jw_str_reserve(data, n);
        if (!out) return lm_fail(ctx, 500, "internal", "out of memory for the base64 reply");
        lm_jw_str_commit(data, lm_base64_encode(wav, total, out));
    }
    if (data->err) return lm_fail(ctx, 500, "internal", "out of memory writing the reply");
    return LM_OK;
}

LM_FUNCTION(lm_fn_audio_generation, "audio-generation", handler)
