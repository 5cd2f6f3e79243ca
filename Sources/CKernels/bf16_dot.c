// bf16 weights · bf16 activations with vdpbf16ps: each instruction multiplies 32 bf16 pairs and
// adds them into 16 f32 lanes, twice the products of an f32 FMA and with no widening of the
// weights. The same two regimes as matmul.c: a gemv that streams each row once (decode) and an
// outer-product tile over a panel of rows (prefill). vdpbf16ps treats bf16 subnormals as zero
// and flushes subnormal sums, so the rounding below sends subnormal activations to zero too.
#include "bf16_dot.h"
#include "prefetch.h"
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

enum { GEMV_GROUP = 8, TILE_R = 12 };

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

/// f32 to bf16, rounding to nearest even; subnormals to signed zero, NaN kept quiet.
static inline uint16_t bf16_round(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7F800000u) == 0) return (uint16_t)((u >> 16) & 0x8000u);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((u >> 16) | 0x0040u);
    return (uint16_t)((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

static uint16_t *alloc_bf16(int64_t count) {
    return aligned_alloc(64, (((size_t)count * 2 + 63) / 64) * 64);
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

INLINE_BF16 __mmask32 first_lanes(int64_t n) { return n >= 32 ? 0xFFFFFFFFu : (1u << n) - 1; }

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

BF16 void bf16_gemv_rows(const uint16_t *w, int64_t cols, const uint16_t *xb, int64_t tokens, float *y, int64_t ldy,
                         const float *bias, int64_t r0, int64_t r1) {
    if (tokens == 1) {
        for (int64_t r = r0; r < r1; r++) y[r] = dot_row(w + r * cols, xb, cols) + (bias ? bias[r] : 0.0f);
        return;
    }
    float out[2][GEMV_GROUP];
    for (int64_t r = r0; r < r1; r += 2) {
        int64_t rb = r + 1 < r1 ? r + 1 : r;
        const uint16_t *row0 = w + r * cols, *row1 = w + rb * cols;
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

BF16 void bf16_gemm_panel(const uint16_t *w, int64_t cols, const uint16_t *xt, int64_t tokens, float *y, int64_t ldy,
                          const float *bias, int64_t r0, int64_t rows, uint16_t *scratch) {
    // Rows are copied with a cache line of padding so the TILE_R broadcast streams don't alias
    // in L1 (a 2,048-column bf16 row is exactly one 4 KiB page), and zero-padded to whole pairs.
    int64_t pairs = (cols + 1) / 2, ldw = 2 * pairs + 32, vectors = (tokens + 15) / 16;
    for (int64_t r = 0; r < rows; r++) {
        memcpy(scratch + r * ldw, w + (r0 + r) * cols, (size_t)cols * 2);
        if (cols & 1) scratch[r * ldw + cols] = 0;
    }
    float out[TILE_R * 32];
    for (int64_t v = 0; v < vectors; v += 2) {
        int nv = vectors - v >= 2 ? 2 : 1;
        const uint16_t *xt0 = xt + v * pairs * 32, *xt1 = xt0 + pairs * 32;
        int64_t t_end = (v + nv) * 16 < tokens ? (v + nv) * 16 : tokens;
        for (int64_t r = 0; r < rows; r += TILE_R) {
            int nr = rows - r < TILE_R ? (int)(rows - r) : TILE_R;
            tile_dispatch(scratch + r * ldw, ldw, pairs, xt0, xt1, nr, nv, out);
            for (int i = 0; i < nr; i++) {
                float b = bias ? bias[r0 + r + i] : 0.0f;
                for (int64_t t = v * 16; t < t_end; t++) y[t * ldy + r0 + r + i] = out[i * 32 + (t - v * 16)] + b;
            }
        }
    }
}
#else
void bf16_gemv_rows(const uint16_t *w, int64_t cols, const uint16_t *xb, int64_t tokens, float *y, int64_t ldy,
                    const float *bias, int64_t r0, int64_t r1) {
    (void)w, (void)cols, (void)xb, (void)tokens, (void)y, (void)ldy, (void)bias, (void)r0, (void)r1;
    abort();  // unreachable: bf16_dot_cpu() is 0 off x86-64
}

void bf16_gemm_panel(const uint16_t *w, int64_t cols, const uint16_t *xt, int64_t tokens, float *y, int64_t ldy,
                     const float *bias, int64_t r0, int64_t rows, uint16_t *scratch) {
    (void)w, (void)cols, (void)xt, (void)tokens, (void)y, (void)ldy, (void)bias, (void)r0, (void)rows, (void)scratch;
    abort();  // unreachable: bf16_dot_cpu() is 0 off x86-64
}
#endif
