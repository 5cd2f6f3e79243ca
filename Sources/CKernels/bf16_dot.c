// bf16 weights · bf16 activations with vdpbf16ps: each instruction multiplies 32 bf16 pairs and
// adds them into 16 f32 lanes, twice the products of an f32 FMA and with no widening of the
// weights. The same two regimes as matmul.c: a gemv that streams each row once (decode) and an
// outer-product tile over a panel of rows (prefill). vdpbf16ps treats bf16 subnormals as zero
// and flushes subnormal sums, so the rounding below sends subnormal activations to zero too.
// FP8 E4M3 weights widen to bf16 exactly (every E4M3 value is a bf16 normal) and their scales
// multiply each scale block's f32 sums, so they read half of bf16's bytes for the same products.
#include "bf16_dot.h"
#include "activation_buffer.h"
#include "fp8_scales.h"
#include "prefetch.h"
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

enum { GEMV_GROUP = 8, FP8_GROUP = 4, TILE_R = 12 };

int bf16_dot_cpu(void) {
#if defined(__x86_64__)
    static int supported = -1;
    if (supported < 0) {
        __builtin_cpu_init();
        supported = __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512bw") &&
                    __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512f");
    }
    return supported;
#else
    return 0;
#endif
}

static int vbmi_cpu(void) {
#if defined(__x86_64__)
    static int supported = -1;
    if (supported < 0) {
        __builtin_cpu_init();
        supported = __builtin_cpu_supports("avx512vbmi");
    }
    return supported;
#else
    return 0;
#endif
}

int bf16_dot_takes(const glm_matrix *w) {
    if (!bf16_dot_cpu()) return 0;
    if (w->dtype == GLM_DTYPE_BF16) return 1;
    return w->dtype == GLM_DTYPE_F8E4M3 && vbmi_cpu() && (!w->block_scale || w->block % 64 == 0);
}

/// The bf16 bits of the 128 E4M3 magnitudes (code 127 is NaN), split into high and low bytes
/// for vpermi2b.
static uint8_t fp8_bf16_high[128], fp8_bf16_low[128];
static pthread_once_t fp8_tables_once = PTHREAD_ONCE_INIT;

static void fp8_tables_init(void) {
    for (int m = 0; m < 128; m++) {
        int exponent = m >> 3, mantissa = m & 7;
        float v = exponent == 0 ? ldexpf((float)mantissa / 8.0f, -6) : ldexpf(1.0f + (float)mantissa / 8.0f, exponent - 7);
        uint32_t u;
        memcpy(&u, &v, 4);
        uint16_t bits = m == 127 ? 0x7FC0 : (uint16_t)(u >> 16);  // exact: at most 4 significant bits
        fp8_bf16_high[m] = (uint8_t)(bits >> 8);
        fp8_bf16_low[m] = (uint8_t)bits;
    }
}

/// f32 to bf16, rounding to nearest even; subnormals to signed zero, NaN kept quiet.
static inline uint16_t bf16_round(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7F800000u) == 0) return (uint16_t)((u >> 16) & 0x8000u);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((u >> 16) | 0x0040u);
    return (uint16_t)((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

static uint16_t *alloc_bf16(int64_t count) {
    return activation_buffer((size_t)count * 2);
}

uint16_t *bf16_round_rows(const float *x, int64_t tokens, int64_t ldx, int64_t cols) {
    uint16_t *out = alloc_bf16(tokens * cols);
    for (int64_t t = 0; t < tokens; t++)
        for (int64_t c = 0; c < cols; c++) out[t * cols + c] = bf16_round(x[t * ldx + c]);
    return out;
}

uint16_t *bf16_pack_transposed(const float *x, int64_t tokens, int64_t ldx, int64_t cols) {
    int64_t vectors = (tokens + 15) / 16, pairs = (cols + 1) / 2;
    uint16_t *out = alloc_bf16(vectors * pairs * 32);
    memset(out, 0, (size_t)(vectors * pairs * 32) * 2);
    for (int64_t t = 0; t < tokens; t++) {
        uint16_t *dst = out + (t / 16) * pairs * 32 + (t % 16) * 2;
        for (int64_t c = 0; c < cols; c++) dst[(c / 2) * 32 + (c & 1)] = bf16_round(x[t * ldx + c]);
    }
    return out;
}

#if defined(__x86_64__)
#define BF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
#define INLINE_BF16 static inline __attribute__((always_inline, target("avx512f,avx512bw,avx512vl,avx512bf16")))

INLINE_BF16 __m512 dot_pairs(__m512 acc, __m512i w, __m512i x) {
    return _mm512_dpbf16_ps(acc, (__m512bh)w, (__m512bh)x);
}

INLINE_BF16 __mmask32 first_lanes(int64_t n) { return n >= 32 ? 0xFFFFFFFFu : n <= 0 ? 0 : (1u << n) - 1; }

/// One row against one token: 32 columns per step into one accumulator, the order in which
/// `dot_row_pair` sums each (row, token), so a token gives the same bits alone as batched.
INLINE_BF16 float dot_row(const uint16_t *row, const uint16_t *x, int64_t cols) {
    __m512 acc = _mm512_setzero_ps();
    int64_t c = 0;
    for (; c + 32 <= cols; c += 32) {
        prefetch_row_ahead(row, c * 2);
        acc = dot_pairs(acc, _mm512_loadu_si512(row + c), _mm512_loadu_si512(x + c));
    }
    if (c < cols) {
        __mmask32 m = first_lanes(cols - c);
        acc = dot_pairs(acc, _mm512_maskz_loadu_epi16(m, row + c), _mm512_maskz_loadu_epi16(m, x + c));
    }
    return _mm512_reduce_add_ps(acc);
}

/// Two rows against `nt` ≤ GEMV_GROUP tokens (rows of `x`, stride cols); `nt` is a constant at
/// each call so the accumulators stay in registers.
INLINE_BF16 void dot_row_pair(const uint16_t *r0, const uint16_t *r1, const uint16_t *x, int64_t cols, int nt,
                              float out[2][GEMV_GROUP]) {
    __m512 a0[GEMV_GROUP], a1[GEMV_GROUP];
    for (int t = 0; t < nt; t++) { a0[t] = _mm512_setzero_ps(); a1[t] = _mm512_setzero_ps(); }
    for (int64_t c = 0; c < cols; c += 32) {
        __mmask32 m = first_lanes(cols - c);
        prefetch_next_pair(r1, cols * 2, c * 2);
        __m512i w0 = _mm512_maskz_loadu_epi16(m, r0 + c), w1 = _mm512_maskz_loadu_epi16(m, r1 + c);
        for (int t = 0; t < nt; t++) {
            __m512i xv = _mm512_maskz_loadu_epi16(m, x + t * cols + c);
            a0[t] = dot_pairs(a0[t], w0, xv);
            a1[t] = dot_pairs(a1[t], w1, xv);
        }
    }
    for (int t = 0; t < nt; t++) {
        out[0][t] = _mm512_reduce_add_ps(a0[t]);
        out[1][t] = _mm512_reduce_add_ps(a1[t]);
    }
}

#define PAIR_CASE(NT)                                                                           \
    case NT:                                                                                    \
        dot_row_pair(row0, row1, xb + t0 * cols, cols, NT, out);                                \
        for (int t = 0; t < NT; t++) {                                                          \
            y[(t0 + t) * ldy + r] = out[0][t] + (bias ? bias[r] : 0.0f);                        \
            if (rb != r) y[(t0 + t) * ldy + rb] = out[1][t] + (bias ? bias[rb] : 0.0f);         \
        }                                                                                       \
        break;

/// The tables of `fp8_widen` in registers.
typedef struct {
    __m512i high0, high1, low0, low1, first, second;
} fp8_widening;

#define FP8_WIDEN __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,avx512vbmi")))
#define INLINE_FP8 static inline __attribute__((always_inline, target("avx512f,avx512bw,avx512vl,avx512bf16,avx512vbmi")))

FP8_WIDEN static fp8_widening fp8_widening_make(void) {
    pthread_once(&fp8_tables_once, fp8_tables_init);
    uint8_t first[64], second[64];
    // vpermt2b indices interleaving (low, high) byte pairs: entries ≥ 64 pick from the high bytes.
    for (int i = 0; i < 32; i++) {
        first[2 * i] = (uint8_t)i, first[2 * i + 1] = (uint8_t)(64 + i);
        second[2 * i] = (uint8_t)(32 + i), second[2 * i + 1] = (uint8_t)(96 + i);
    }
    return (fp8_widening){_mm512_loadu_si512(fp8_bf16_high), _mm512_loadu_si512(fp8_bf16_high + 64),
                          _mm512_loadu_si512(fp8_bf16_low), _mm512_loadu_si512(fp8_bf16_low + 64),
                          _mm512_loadu_si512(first), _mm512_loadu_si512(second)};
}

/// 64 E4M3 bytes to 64 bf16 values in order (w0: 0–31, w1: 32–63): each magnitude's two bytes
/// looked up (vpermi2b reads the low 7 bits of the index), the sign ORed into the high byte.
INLINE_FP8 void fp8_widen(const fp8_widening *t, __m512i bytes, __m512i *w0, __m512i *w1) {
    __m512i high = _mm512_permutex2var_epi8(t->high0, bytes, t->high1);
    __m512i low = _mm512_permutex2var_epi8(t->low0, bytes, t->low1);
    high = _mm512_ternarylogic_epi32(high, bytes, _mm512_set1_epi8((char)0x80), 0xF8);  // high | (bytes & 0x80)
    *w0 = _mm512_permutex2var_epi8(low, t->first, high);
    *w1 = _mm512_permutex2var_epi8(low, t->second, high);
}

INLINE_FP8 __mmask64 first_bytes(int64_t n) { return n >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << n) - 1; }

/// One FP8 row against `nt` ≤ FP8_GROUP tokens (rows of `x`, stride cols): per scale block,
/// two partial sums per token (the 32-column halves of each 64-column step), then one FMA by
/// the block's scale. The order is the same for every nt, so a token gives the same bits alone
/// as batched; `nt` is a constant at each call.
INLINE_FP8 void fp8_dot_row(const fp8_widening *t, const uint8_t *row, const float *scales, int64_t block,
                            const uint16_t *x, int64_t cols, int nt, float *out) {
    __m512 acc[FP8_GROUP];
    for (int k = 0; k < nt; k++) acc[k] = _mm512_setzero_ps();
    int64_t scale_index = 0;
    for (int64_t b0 = 0; b0 < cols; b0 += block, scale_index++) {
        int64_t end = block < cols - b0 ? b0 + block : cols;
        __m512 p0[FP8_GROUP], p1[FP8_GROUP];
        for (int k = 0; k < nt; k++) { p0[k] = _mm512_setzero_ps(); p1[k] = _mm512_setzero_ps(); }
        for (int64_t c = b0; c < end; c += 64) {
            prefetch_row_ahead(row, c);
            int64_t left = end - c;
            __m512i w0, w1;
            fp8_widen(t, _mm512_maskz_loadu_epi8(first_bytes(left), row + c), &w0, &w1);
            __mmask32 m0 = first_lanes(left), m1 = first_lanes(left - 32);
            for (int k = 0; k < nt; k++) {
                p0[k] = dot_pairs(p0[k], w0, _mm512_maskz_loadu_epi16(m0, x + k * cols + c));
                p1[k] = dot_pairs(p1[k], w1, _mm512_maskz_loadu_epi16(m1, x + k * cols + c + 32));
            }
        }
        __m512 scale = _mm512_set1_ps(scales[scale_index]);
        for (int k = 0; k < nt; k++) acc[k] = _mm512_fmadd_ps(_mm512_add_ps(p0[k], p1[k]), scale, acc[k]);
    }
    for (int k = 0; k < nt; k++) out[k] = _mm512_reduce_add_ps(acc[k]);
}

#define FP8_CASE(NT)                                                                             \
    case NT:                                                                                     \
        fp8_dot_row(&t, row, scales, block, xb + t0 * cols, cols, NT, out);                      \
        break;

FP8_WIDEN static void fp8_gemv_rows(const glm_matrix *w, const uint16_t *xb, int64_t tokens, float *y, int64_t ldy,
                                    const float *bias, int64_t r0, int64_t r1) {
    const fp8_widening t = fp8_widening_make();
    int64_t cols = w->cols, block;
    float out[FP8_GROUP];
    for (int64_t r = r0; r < r1; r++) {
        const uint8_t *row = (const uint8_t *)w->data + r * cols;
        const float *scales;
        fp8_scales(w, r, &scales, &block);
        for (int64_t t0 = 0; t0 < tokens; t0 += FP8_GROUP) {
            int nt = tokens - t0 < FP8_GROUP ? (int)(tokens - t0) : FP8_GROUP;
            switch (nt) { FP8_CASE(1) FP8_CASE(2) FP8_CASE(3) FP8_CASE(4) }
            for (int k = 0; k < nt; k++) y[(t0 + k) * ldy + r] = out[k] + (bias ? bias[r] : 0.0f);
        }
    }
}

/// Rows r0..<r0 + rows of an FP8 matrix widened to bf16 (unscaled) into `dst`, row stride ldw.
FP8_WIDEN static void fp8_widen_rows(const glm_matrix *w, int64_t r0, int64_t rows, uint16_t *dst, int64_t ldw) {
    const fp8_widening t = fp8_widening_make();
    int64_t cols = w->cols;
    for (int64_t r = 0; r < rows; r++) {
        const uint8_t *row = (const uint8_t *)w->data + (r0 + r) * cols;
        for (int64_t c = 0; c < cols; c += 64) {
            __m512i w0, w1;
            fp8_widen(&t, _mm512_maskz_loadu_epi8(first_bytes(cols - c), row + c), &w0, &w1);
            _mm512_mask_storeu_epi16(dst + r * ldw + c, first_lanes(cols - c), w0);
            _mm512_mask_storeu_epi16(dst + r * ldw + c + 32, first_lanes(cols - c - 32), w1);
        }
    }
}

BF16 void bf16_gemv_rows(const glm_matrix *w, const uint16_t *xb, int64_t tokens, float *y, int64_t ldy,
                         const float *bias, int64_t r0, int64_t r1) {
    if (w->dtype == GLM_DTYPE_F8E4M3) {
        fp8_gemv_rows(w, xb, tokens, y, ldy, bias, r0, r1);
        return;
    }
    const uint16_t *wd = w->data;
    int64_t cols = w->cols;
    if (tokens == 1) {
        for (int64_t r = r0; r < r1; r++) y[r] = dot_row(wd + r * cols, xb, cols) + (bias ? bias[r] : 0.0f);
        return;
    }
    float out[2][GEMV_GROUP];
    for (int64_t r = r0; r < r1; r += 2) {
        int64_t rb = r + 1 < r1 ? r + 1 : r;
        const uint16_t *row0 = wd + r * cols, *row1 = wd + rb * cols;
        for (int64_t t0 = 0; t0 < tokens; t0 += GEMV_GROUP) {
            switch (tokens - t0 < GEMV_GROUP ? (int)(tokens - t0) : GEMV_GROUP) {
                PAIR_CASE(1) PAIR_CASE(2) PAIR_CASE(3) PAIR_CASE(4) PAIR_CASE(5) PAIR_CASE(6) PAIR_CASE(7) PAIR_CASE(8)
            }
        }
    }
}

/// Outer-product tile: acc[r][v] (v-th group of 16 tokens) += Σ over column pairs p of
/// (W[r][2p], W[r][2p+1]) · Xᵀ[p][16v..16v+16][0, 1]. `nr` ≤ TILE_R rows are broadcast a pair at
/// a time from the panel (row stride `ldw`), `nv` ≤ 2 token vectors come from the packed Xᵀ;
/// both are constants at each call.
INLINE_BF16 void tile_kernel(const uint16_t *wp, int64_t ldw, int64_t pairs, const uint16_t *xt0, const uint16_t *xt1,
                             int nr, int nv, float *out /* [TILE_R][32] */) {
    __m512 acc[TILE_R][2];
    for (int r = 0; r < nr; r++) { acc[r][0] = _mm512_setzero_ps(); acc[r][1] = _mm512_setzero_ps(); }
    for (int64_t p = 0; p < pairs; p++) {
        __m512i x0 = _mm512_load_si512(xt0 + p * 32);
        __m512i x1 = nv > 1 ? _mm512_load_si512(xt1 + p * 32) : x0;
        for (int r = 0; r < nr; r++) {
            int32_t pair;
            memcpy(&pair, wp + r * ldw + 2 * p, 4);
            __m512i wv = _mm512_set1_epi32(pair);
            acc[r][0] = dot_pairs(acc[r][0], wv, x0);
            if (nv > 1) acc[r][1] = dot_pairs(acc[r][1], wv, x1);
        }
    }
    for (int r = 0; r < nr; r++) {
        _mm512_storeu_ps(out + r * 32, acc[r][0]);
        if (nv > 1) _mm512_storeu_ps(out + r * 32 + 16, acc[r][1]);
    }
}

#define TILE_CASE(NR)                                                      \
    case NR:                                                               \
        if (nv == 2) tile_kernel(wp, ldw, pairs, xt0, xt1, NR, 2, out);    \
        else tile_kernel(wp, ldw, pairs, xt0, xt1, NR, 1, out);            \
        break;

BF16 static void tile_dispatch(const uint16_t *wp, int64_t ldw, int64_t pairs, const uint16_t *xt0,
                               const uint16_t *xt1, int nr, int nv, float *out) {
    switch (nr) {
        TILE_CASE(1) TILE_CASE(2) TILE_CASE(3) TILE_CASE(4) TILE_CASE(5) TILE_CASE(6)
        TILE_CASE(7) TILE_CASE(8) TILE_CASE(9) TILE_CASE(10) TILE_CASE(11) TILE_CASE(12)
    }
}

/// FP8 tile rows r..<r + nr: the tile of each scale block, times each row's scale of that
/// block, summed in f32 into `sum` [TILE_R][32].
BF16 static void fp8_scaled_tile(const glm_matrix *w, const uint16_t *wp, int64_t ldw, const uint16_t *xt0,
                                 const uint16_t *xt1, int64_t row, int nr, int nv, float *sum) {
    float out[TILE_R * 32];
    int64_t cols = w->cols, block;
    const float *scales[TILE_R];
    for (int i = 0; i < nr; i++) fp8_scales(w, row + i, &scales[i], &block);
    for (int64_t b0 = 0, k = 0; b0 < cols; b0 += block, k++) {
        int64_t first = b0 / 2, pairs = ((block < cols - b0 ? b0 + block : cols) - b0 + 1) / 2;
        tile_dispatch(wp + 2 * first, ldw, pairs, xt0 + first * 32, xt1 + first * 32, nr, nv, out);
        for (int i = 0; i < nr; i++) {
            float s = scales[i][k];
            for (int j = 0; j < 32; j++) sum[i * 32 + j] = b0 ? fmaf(s, out[i * 32 + j], sum[i * 32 + j]) : s * out[i * 32 + j];
        }
    }
}

BF16 void bf16_gemm_panel(const glm_matrix *w, const uint16_t *xt, int64_t tokens, float *y, int64_t ldy,
                          const float *bias, int64_t r0, int64_t rows, uint16_t *scratch) {
    // Rows are copied with a cache line of padding so the TILE_R broadcast streams don't alias
    // in L1 (a 2,048-column bf16 row is exactly one 4 KiB page), and zero-padded to whole pairs.
    int64_t cols = w->cols, pairs = (cols + 1) / 2, ldw = 2 * pairs + 32, vectors = (tokens + 15) / 16;
    int fp8 = w->dtype == GLM_DTYPE_F8E4M3;
    if (fp8) fp8_widen_rows(w, r0, rows, scratch, ldw);
    for (int64_t r = 0; r < rows; r++) {
        if (!fp8) memcpy(scratch + r * ldw, (const uint16_t *)w->data + (r0 + r) * cols, (size_t)cols * 2);
        if (cols & 1) scratch[r * ldw + cols] = 0;
    }
    float out[TILE_R * 32];
    for (int64_t v = 0; v < vectors; v += 2) {
        int nv = vectors - v >= 2 ? 2 : 1;
        const uint16_t *xt0 = xt + v * pairs * 32, *xt1 = xt0 + pairs * 32;
        int64_t t_end = (v + nv) * 16 < tokens ? (v + nv) * 16 : tokens;
        for (int64_t r = 0; r < rows; r += TILE_R) {
            int nr = rows - r < TILE_R ? (int)(rows - r) : TILE_R;
            if (fp8) fp8_scaled_tile(w, scratch + r * ldw, ldw, xt0, xt1, r0 + r, nr, nv, out);
            else tile_dispatch(scratch + r * ldw, ldw, pairs, xt0, xt1, nr, nv, out);
            for (int i = 0; i < nr; i++) {
                float b = bias ? bias[r0 + r + i] : 0.0f;
                for (int64_t t = v * 16; t < t_end; t++) y[t * ldy + r0 + r + i] = out[i * 32 + (t - v * 16)] + b;
            }
        }
    }
}
#else
void bf16_gemv_rows(const glm_matrix *w, const uint16_t *xb, int64_t tokens, float *y, int64_t ldy,
                    const float *bias, int64_t r0, int64_t r1) {
    (void)w, (void)xb, (void)tokens, (void)y, (void)ldy, (void)bias, (void)r0, (void)r1;
    abort();  // unreachable: bf16_dot_cpu() is 0 off x86-64
}

void bf16_gemm_panel(const glm_matrix *w, const uint16_t *xt, int64_t tokens, float *y, int64_t ldy,
                     const float *bias, int64_t r0, int64_t rows, uint16_t *scratch) {
    (void)w, (void)xt, (void)tokens, (void)y, (void)ldy, (void)bias, (void)r0, (void)rows, (void)scratch;
    abort();  // unreachable: bf16_dot_cpu() is 0 off x86-64
}
#endif
