// Matrix products y = x · Wᵀ with W in its stored dtype (f32, bf16, f16, fp8) and f32 math.
//
// Two regimes, because decode and prefill are limited by different things:
// - few tokens (decode, small expert batches): memory-bound. Each weight row (one at a time for
//   one token, in pairs for more) is read from memory once, widened in registers and multiplied
//   against every token ("gemv").
// - many tokens (prefill): compute-bound. The tokens are transposed once into 16-token
//   vectors (Xᵀ), a panel of PANEL weight rows is widened to f32 once per thread, and an
//   outer-product kernel (TILE_R rows × 32 tokens in registers) does 24 FMAs per 14 loads
//   ("gemm").
// Each has an AVX-512 and an AVX2 version, chosen at run time, and a portable one.
// Most time in a forward pass is spent in these two loops.
#include "CKernels.h"
#include "activation_buffer.h"
#include "bf16_dot.h"
#include "block_formats.h"
#include "fp8_scales.h"
#include "prefetch.h"
#include "quant_dot.h"
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

// GEMV_MAX_TOKENS: up to this many tokens the gemv regime is the faster one (bench checkpoint, one
// thread: a 16-token decode step 1.07 s against 1.32 s through the packed gemm; at 32 the gemm
// wins). GEMV_GROUP: tokens per register block of the gemv kernel. With AVX2 the gemm wins from 9
// tokens (bench checkpoint, 16 streams, two threads: a decode step 0.39 s against 0.44 s).
enum { GEMV_MAX_TOKENS = 16, GEMV_MAX_TOKENS_AVX2 = 8, GEMV_GROUP = 8, PANEL = 48, TILE_R = 12, QDOT_ROW_TILE = 8,
       FP8_ROW_TILE = 8, FP8_SPAN = 128, PREFETCH_ROWS = 8, PREFETCH_MAX_TOKENS = 4, KQUANT_GEMM_TOKENS = 128 };

// MARK: - Scalar conversions

static float fp8_table[256];
static pthread_once_t fp8_once = PTHREAD_ONCE_INIT;

static void fp8_init(void) {
    for (int b = 0; b < 256; b++) {
        int sign = b >> 7, exponent = (b >> 3) & 15, mantissa = b & 7;
        float v;
        if (exponent == 15 && mantissa == 7) v = NAN;  // E4M3FN has NaN but no infinities
        else if (exponent == 0) v = ldexpf((float)mantissa / 8.0f, -6);
        else v = ldexpf(1.0f + (float)mantissa / 8.0f, exponent - 7);
        fp8_table[b] = sign ? -v : v;
    }
}

static inline float bf16_bits_to_f32(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

void glm_convert_to_f32(const void *src, int32_t dtype, int64_t count, float *out) {
    switch (dtype) {
    case GLM_DTYPE_F32: memcpy(out, src, (size_t)count * 4); break;
    case GLM_DTYPE_BF16: for (int64_t i = 0; i < count; i++) out[i] = bf16_bits_to_f32(((const uint16_t *)src)[i]); break;
    case GLM_DTYPE_F16: for (int64_t i = 0; i < count; i++) out[i] = f16_bits_to_f32(((const uint16_t *)src)[i]); break;
    case GLM_DTYPE_F8E4M3:
        pthread_once(&fp8_once, fp8_init);
        for (int64_t i = 0; i < count; i++) out[i] = fp8_table[((const uint8_t *)src)[i]];
        break;
    default: glm_dequantize(src, dtype, count, out); break;
    }
}

static inline int is_block_format(int32_t dtype) { return dtype >= GLM_DTYPE_Q4_0; }

/// The super-block formats whose rows the AVX-512 gemm widens in SIMD (`widen_kquant_row`), so that
/// KQUANT_GEMM_TOKENS tokens or more take the f32 tile product instead of the int8 gemv.
static inline int takes_kquant_gemm(int32_t dtype) { return dtype == GLM_DTYPE_Q4_K || dtype == GLM_DTYPE_Q6_K; }

/// Where row `row` of `w` starts.
static inline const char *row_start(const glm_matrix *w, int64_t row) {
    return (const char *)w->data + (size_t)(row * row_bytes(w->dtype, w->cols));
}

// MARK: - ISA selection

static int isa_avx512 = -1, isa_avx2 = -1;
// Per thread, so that a parity test forcing a path leaves other threads' products alone; a
// product's path is chosen on the calling thread and travels with its job to the workers.
static _Thread_local int forced_portable = 0, forced_avx2 = 0;

/// GLM_KERNELS=portable selects the portable path, e.g. to measure what SIMD buys;
/// GLM_KERNELS=avx2 the AVX2 path on a CPU that also has AVX-512.
static int kernels_allow(const char *isa) {
    const char *choice = getenv("GLM_KERNELS");
    if (choice && strcmp(choice, "portable") == 0) return 0;
    return !(choice && strcmp(choice, "avx2") == 0 && strcmp(isa, "avx512") == 0);
}

static int use_avx512(void) {
#if defined(__x86_64__)
    if (isa_avx512 < 0) {
        __builtin_cpu_init();
        isa_avx512 = kernels_allow("avx512") &&
                     __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                     __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
                     __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    }
    return isa_avx512 && !forced_portable && !forced_avx2;
#else
    return 0;
#endif
}

static int use_avx2(void) {
#if defined(__x86_64__)
    if (isa_avx2 < 0) {
        __builtin_cpu_init();
        isa_avx2 = kernels_allow("avx2") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                   __builtin_cpu_supports("f16c");
    }
    return isa_avx2 && !forced_portable;
#else
    return 0;
#endif
}

/// vpdpbusd on 256-bit vectors (AVX512-VNNI with VL), for the block-format dot products.
static int use_vnni(void) {
#if defined(__x86_64__)
    static int vnni = -1;
    if (vnni < 0) {
        __builtin_cpu_init();
        vnni = __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw");
    }
    return vnni && use_avx512();
#else
    return 0;
#endif
}

int32_t glm_bf16_dot_available(void) { return use_avx512() && bf16_dot_cpu(); }

const char *glm_kernel_isa(void) { return use_avx512() ? "avx512" : use_avx2() ? "avx2" : "portable"; }

int32_t glm_force_portable(int32_t on) {
    int32_t previous = forced_portable;
    forced_portable = on;
    return previous;
}

int32_t glm_force_avx2(int32_t on) {
    int32_t previous = forced_avx2;
    forced_avx2 = on;
    return previous;
}

// MARK: - Row widening (shared by both regimes)

/// Widens `count` values of row `row` starting at column `col0` to f32, applying fp8 scales.
/// For the block formats col0 and count are whole blocks.
static void widen_row_portable(const glm_matrix *w, int64_t row, int64_t col0, int64_t count, float *out) {
    const char *base = row_start(w, row) + row_bytes(w->dtype, col0);
    glm_convert_to_f32(base, w->dtype, count, out);
    if (w->dtype != GLM_DTYPE_F8E4M3) return;
    if (w->row_scale) {
        float s = w->row_scale[row];
        for (int64_t i = 0; i < count; i++) out[i] *= s;
    } else if (w->block_scale) {
        int64_t bcols = (w->cols + w->block - 1) / w->block;
        const float *scales = w->block_scale + (row / w->block) * bcols;
        for (int64_t i = 0; i < count; i++) out[i] *= scales[(col0 + i) / w->block];
    }
}

void glm_matrix_row_f32(const glm_matrix *w, int64_t row, float *out) {
    widen_row_portable(w, row, 0, w->cols, out);
}

/// FP8 takes the gemv regime when each 16-column chunk lies inside one scale block.
static inline int fp8_gemv_ok(const glm_matrix *w) { return !w->block_scale || w->block % 16 == 0; }

/// Walks a gemv kernel's FP8 scales along a row as column c advances (no division per chunk):
/// scale0/scale1 hold s0/s1[c / block] × 256 (the widening's 1/256 folded in).
#define FP8_SCALE_WALK_BEGIN                                                                    \
    int64_t scale_block = 0, scale_end = block;                                                \
    float scale0 = s0 ? s0[0] * 256.0f : 0, scale1 = s1 ? s1[0] * 256.0f : 0;
#define FP8_SCALE_WALK_STEP                                                                     \
    while (c >= scale_end) {                                                                   \
        scale_block++;                                                                         \
        scale_end += block;                                                                    \
        scale0 = s0[scale_block] * 256.0f;                                                     \
        scale1 = s1[scale_block] * 256.0f;                                                     \
    }

// Per-thread scratch for widened panels; grows as needed and lives as long as the thread.
static _Thread_local float *scratch = NULL;
static _Thread_local size_t scratch_floats = 0;

static float *thread_scratch(size_t floats) {
    if (floats > scratch_floats) {
        free(scratch);
        scratch = aligned_alloc(64, ((floats * 4 + 63) / 64) * 64);
        scratch_floats = floats;
    }
    return scratch;
}

// MARK: - Portable kernels

static void gemv_rows_portable(const glm_matrix *w, const float *x, int64_t tokens, int64_t ldx,
                               float *y, int64_t ldy, const float *bias, int64_t r0, int64_t r1) {
    float *row = thread_scratch((size_t)w->cols);
    for (int64_t r = r0; r < r1; r++) {
        widen_row_portable(w, r, 0, w->cols, row);
        for (int64_t t = 0; t < tokens; t++) {
            const float *xt = x + t * ldx;
            float acc = 0;
            for (int64_t c = 0; c < w->cols; c++) acc += row[c] * xt[c];
            y[t * ldy + r] = acc + (bias ? bias[r] : 0.0f);
        }
    }
}

// MARK: - AVX-512 kernels

#if defined(__x86_64__)
#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma,f16c,avx2")))
#define INLINE512 static inline __attribute__((always_inline, target("avx512f,avx512bw,avx512vl,avx512dq,fma,f16c,avx2")))

/// FP8 E4M3 bytes to the f16 bit patterns of their values / 256: sign to bit 15, exponent and
/// mantissa shifted in whole, so normals and subnormals alike come out exact (E4M3's bias is 7,
/// f16's 15: eight binades apart). Callers fold the 256 into the scale.
INLINE512 __m512 fp8x16_over_256(__m128i bytes) {
    // Sign-extended, the sign fills bits 8–15: shifted left by 7 it lands in bit 15 and (cleared)
    // bit 14, with exponent and mantissa in bits 7–13.
    __m256i h = _mm256_slli_epi16(_mm256_cvtepi8_epi16(bytes), 7);
    return _mm512_cvtph_ps(_mm256_and_si256(h, _mm256_set1_epi16((short)0xBFFF)));
}

INLINE512 __m512 load16(const void *base, int64_t i, int32_t dtype, __mmask16 m) {
    switch (dtype) {
    case GLM_DTYPE_BF16: {
        __m256i h = _mm256_maskz_loadu_epi16(m, (const uint16_t *)base + i);
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
    }
    case GLM_DTYPE_F16:
        return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, (const uint16_t *)base + i));
    default:
        return _mm512_maskz_loadu_ps(m, (const float *)base + i);
    }
}

INLINE512 __m512 load16_full(const void *base, int64_t i, int32_t dtype) {
    switch (dtype) {
    case GLM_DTYPE_BF16: {
        __m256i h = _mm256_loadu_si256((const __m256i *)((const uint16_t *)base + i));
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
    }
    case GLM_DTYPE_F16:
        return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)((const uint16_t *)base + i)));
    default:
        return _mm512_loadu_ps((const float *)base + i);
    }
}

/// Two weight rows (f32, bf16 or f16) against `nt` tokens at once; `nt` and `dtype` are
/// constants at each call site so the accumulators stay in registers. FP8 takes
/// `fp8_gemv_rows_avx512` (the scale arguments are for the AVX2 kernels' signature).
INLINE512 void gemv2(const void *r0p, const void *r1p, int32_t dtype, int64_t cols, const float *x,
                     int64_t ldx, int nt, float out[2][GEMV_GROUP], const float *s0, const float *s1, int64_t block) {
    (void)s0, (void)s1, (void)block;
    __m512 acc0[GEMV_GROUP], acc1[GEMV_GROUP];
    for (int t = 0; t < nt; t++) { acc0[t] = _mm512_setzero_ps(); acc1[t] = _mm512_setzero_ps(); }
    int64_t c = 0;
    size_t esize = dtype == GLM_DTYPE_F32 ? 4 : 2;
    for (; c + 16 <= cols; c += 16) {
        prefetch_next_pair(r1p, (int64_t)esize * cols, c * (int64_t)esize);
        __m512 w0 = load16_full(r0p, c, dtype), w1 = load16_full(r1p, c, dtype);
        for (int t = 0; t < nt; t++) {
            __m512 xv = _mm512_loadu_ps(x + t * ldx + c);
            acc0[t] = _mm512_fmadd_ps(w0, xv, acc0[t]);
            acc1[t] = _mm512_fmadd_ps(w1, xv, acc1[t]);
        }
    }
    if (c < cols) {
        __mmask16 m = (__mmask16)((1u << (cols - c)) - 1);
        __m512 w0 = load16(r0p, c, dtype, m), w1 = load16(r1p, c, dtype, m);
        for (int t = 0; t < nt; t++) {
            __m512 xv = _mm512_maskz_loadu_ps(m, x + t * ldx + c);
            acc0[t] = _mm512_fmadd_ps(w0, xv, acc0[t]);
            acc1[t] = _mm512_fmadd_ps(w1, xv, acc1[t]);
        }
    }
    for (int t = 0; t < nt; t++) {
        out[0][t] = _mm512_reduce_add_ps(acc0[t]);
        out[1][t] = _mm512_reduce_add_ps(acc1[t]);
    }
}

/// One weight row against one token (decode), summed exactly as gemv2 sums each (row, token),
/// so a token's result does not depend on whether it is alone. One row at a time is one
/// sequential stream per thread, which the prefetchers follow from row to row; gemv2's two
/// concurrent rows moved 70–90 % of its bytes per second on 2 Zen 4 threads (kernel_rate,
/// BENCHMARKS.md §5).
INLINE512 float gemv1(const void *rp, int32_t dtype, int64_t cols, const float *x, const float *s0, int64_t block) {
    (void)s0, (void)block;
    __m512 acc = _mm512_setzero_ps();
    size_t esize = dtype == GLM_DTYPE_F32 ? 4 : 2;
    int64_t c = 0;
    for (; c + 16 <= cols; c += 16) {
        prefetch_row_ahead(rp, c * (int64_t)esize);
        acc = _mm512_fmadd_ps(load16_full(rp, c, dtype), _mm512_loadu_ps(x + c), acc);
    }
    if (c < cols) {
        __mmask16 m = (__mmask16)((1u << (cols - c)) - 1);
        acc = _mm512_fmadd_ps(load16(rp, c, dtype, m), _mm512_maskz_loadu_ps(m, x + c), acc);
    }
    return _mm512_reduce_add_ps(acc);
}

/// Rows r0..<r1 against one token with KERNEL (gemv1 or gemv1_avx2), for dtype DT.
#define GEMV1_ROWS(KERNEL, DT)                                                                  \
    for (int64_t r = r0; r < r1; r++) {                                                         \
        const float *s0 = NULL;                                                                 \
        int64_t block = INT64_MAX;                                                              \
        if (DT == GLM_DTYPE_F8E4M3) fp8_scales(w, r, &s0, &block);                              \
        y[r] = KERNEL(row_start(w, r), DT, w->cols, x, s0, block) + (bias ? bias[r] : 0.0f);    \
    }

/// The one-token body of a gemv_rows_* function: GEMV1_ROWS specialised for each dtype
/// (`FP8_CASE`: the FP8 case, or nothing where FP8 has a kernel of its own).
#define GEMV1_BY_DTYPE(KERNEL, FP8_CASE)                                                        \
    switch (w->dtype) {                                                                         \
    FP8_CASE                                                                                    \
    case GLM_DTYPE_BF16: GEMV1_ROWS(KERNEL, GLM_DTYPE_BF16) break;                              \
    case GLM_DTYPE_F16: GEMV1_ROWS(KERNEL, GLM_DTYPE_F16) break;                                \
    default: GEMV1_ROWS(KERNEL, GLM_DTYPE_F32) break;                                           \
    }

/// One row pair against tokens t0..<t0+NT with KERNEL (gemv2 or gemv2_avx2); writes y (+ bias).
#define GEMV_PAIR(KERNEL, NT, DT)                                                               \
    case NT: {                                                                                  \
        KERNEL(row0, row1, DT, w->cols, x + t0 * ldx, ldx, NT, out, s0, s1, block);             \
        for (int t = 0; t < NT; t++) {                                                          \
            y[(t0 + t) * ldy + r] = out[0][t] + (bias ? bias[r] : 0.0f);                        \
            if (rb != r) y[(t0 + t) * ldy + rb] = out[1][t] + (bias ? bias[rb] : 0.0f);         \
        }                                                                                       \
        break;                                                                                  \
    }

/// Rows in pairs; for each pair every group of up to GROUP tokens, so a pair is read from memory
/// once and from L1 for the other groups. A token's sums run in the same order whatever else is
/// in the batch, so its result does not depend on what it is batched with. CASES(DT) lists a
/// GEMV_PAIR for each group size.
#define GEMV_ROWS(GROUP, CASES, DT)                                                             \
    for (int64_t r = r0; r < r1; r += 2) {                                                      \
        int64_t rb = r + 1 < r1 ? r + 1 : r;                                                    \
        const void *row0 = row_start(w, r), *row1 = row_start(w, rb);                           \
        const float *s0 = NULL, *s1 = NULL;                                                     \
        int64_t block = INT64_MAX;                                                              \
        if (DT == GLM_DTYPE_F8E4M3) { fp8_scales(w, r, &s0, &block); fp8_scales(w, rb, &s1, &block); } \
        for (int64_t t0 = 0; t0 < tokens; t0 += GROUP) {                                        \
            switch (tokens - t0 < GROUP ? (int)(tokens - t0) : GROUP) { CASES(DT) }             \
        }                                                                                       \
    }

/// The body of a gemv_rows_* function: GEMV_ROWS specialised for each dtype (`FP8_CASE` as
/// for GEMV1_BY_DTYPE).
#define GEMV_BY_DTYPE(GROUP, CASES, FP8_CASE)                                                   \
    float out[2][GEMV_GROUP];                                                                   \
    switch (w->dtype) {                                                                         \
    FP8_CASE                                                                                    \
    case GLM_DTYPE_BF16: GEMV_ROWS(GROUP, CASES, GLM_DTYPE_BF16) break;                         \
    case GLM_DTYPE_F16: GEMV_ROWS(GROUP, CASES, GLM_DTYPE_F16) break;                           \
    default: GEMV_ROWS(GROUP, CASES, GLM_DTYPE_F32) break;                                      \
    }

#define GEMV_CASES_AVX512(DT)                                                                   \
    GEMV_PAIR(gemv2, 1, DT) GEMV_PAIR(gemv2, 2, DT) GEMV_PAIR(gemv2, 3, DT) GEMV_PAIR(gemv2, 4, DT) \
    GEMV_PAIR(gemv2, 5, DT) GEMV_PAIR(gemv2, 6, DT) GEMV_PAIR(gemv2, 7, DT) GEMV_PAIR(gemv2, 8, DT)

/// acc[t] += scale · Σ_c w[c]·x[t][c] over one FP8 scale block of n columns, for `nt` ≤
/// GEMV_GROUP tokens (rows of x, stride ldx): 32 weights per step, widened once for every token,
/// summed in two partials per token (one per 16-column half). `scale` includes the 256 of
/// `fp8x16_over_256`. Widening bounds FP8, so it is done once per weight and the scale once per
/// block; `nt` is a constant at each call.
INLINE512 void fp8_block_dot(const uint8_t *w, int64_t n, float scale, const float *x, int64_t ldx, int nt,
                             float (*acc)[16]) {
    __m512 p0[GEMV_GROUP], p1[GEMV_GROUP];
    for (int t = 0; t < nt; t++) { p0[t] = _mm512_setzero_ps(); p1[t] = _mm512_setzero_ps(); }
    int64_t c = 0;
    for (; c + 32 <= n; c += 32) {
        prefetch_row_ahead(w, c);
        __m512 w0 = fp8x16_over_256(_mm_loadu_si128((const __m128i *)(w + c)));
        __m512 w1 = fp8x16_over_256(_mm_loadu_si128((const __m128i *)(w + c + 16)));
        for (int t = 0; t < nt; t++) {
            p0[t] = _mm512_fmadd_ps(w0, _mm512_loadu_ps(x + t * ldx + c), p0[t]);
            p1[t] = _mm512_fmadd_ps(w1, _mm512_loadu_ps(x + t * ldx + c + 16), p1[t]);
        }
    }
    if (c < n) {  // the last 1–31 columns
        int64_t left = n - c;
        __mmask16 m0 = left >= 16 ? 0xFFFF : (__mmask16)((1u << left) - 1);
        __mmask16 m1 = left <= 16 ? 0 : (__mmask16)((1u << (left - 16)) - 1);
        __m512 w0 = fp8x16_over_256(_mm_maskz_loadu_epi8(m0, w + c));
        __m512 w1 = fp8x16_over_256(_mm_maskz_loadu_epi8(m1, w + c + 16));
        for (int t = 0; t < nt; t++) {
            p0[t] = _mm512_fmadd_ps(w0, _mm512_maskz_loadu_ps(m0, x + t * ldx + c), p0[t]);
            p1[t] = _mm512_fmadd_ps(w1, _mm512_maskz_loadu_ps(m1, x + t * ldx + c + 16), p1[t]);
        }
    }
    __m512 s = _mm512_set1_ps(scale);
    for (int t = 0; t < nt; t++) _mm512_store_ps(acc[t], _mm512_fmadd_ps(_mm512_add_ps(p0[t], p1[t]), s, _mm512_load_ps(acc[t])));
}

#define FP8_BLOCK_CASE(NT)                                                                       \
    case NT: fp8_block_dot(row + b0, n, scale, xg + b0, ldx, NT, acc[i]); break;

/// FP8 rows in tiles of FP8_ROW_TILE: for each scale block (or FP8_SPAN columns under one row
/// scale), every row of the tile takes the tokens' block of x while it is in L1 (eight tokens'
/// whole rows are 64 KiB at 2,048 columns, more than L1, and would stream from L2 for every
/// row). Where x fits L1 anyway, rows go one at a time. Sums per (row, token) run in the same
/// order for any number of tokens and any tiling, so a token's result does not depend on its batch.
AVX512 static void fp8_gemv_rows_avx512(const glm_matrix *w, const float *x, int64_t tokens, int64_t ldx,
                                        float *y, int64_t ldy, const float *bias, int64_t r0, int64_t r1) {
    __attribute__((aligned(64))) float acc[FP8_ROW_TILE][GEMV_GROUP][16];
    const float *scales[FP8_ROW_TILE];
    int64_t cols = w->cols, span = w->block_scale ? w->block : FP8_SPAN;
    // One row at a time (one sequential stream) while the tokens' x fits L1 with room to spare.
    int64_t per_tile = (tokens < GEMV_GROUP ? tokens : GEMV_GROUP) * cols * 4 <= 16384 ? 1 : FP8_ROW_TILE;
    for (int64_t tile = r0; tile < r1; tile += per_tile) {
        int rows = r1 - tile < per_tile ? (int)(r1 - tile) : (int)per_tile;
        int64_t block;
        for (int i = 0; i < rows; i++) fp8_scales(w, tile + i, &scales[i], &block);
        for (int64_t t0 = 0; t0 < tokens; t0 += GEMV_GROUP) {
            int nt = tokens - t0 < GEMV_GROUP ? (int)(tokens - t0) : GEMV_GROUP;
            const float *xg = x + t0 * ldx;
            for (int i = 0; i < rows; i++)
                for (int t = 0; t < nt; t++) _mm512_store_ps(acc[i][t], _mm512_setzero_ps());
            for (int64_t b0 = 0, k = 0; b0 < cols; b0 += span, k++) {
                int64_t n = span < cols - b0 ? span : cols - b0;
                for (int i = 0; i < rows; i++) {
                    const uint8_t *row = (const uint8_t *)row_start(w, tile + i);
                    float scale = scales[i][w->block_scale ? k : 0] * 256.0f;
                    switch (nt) {
                        FP8_BLOCK_CASE(1) FP8_BLOCK_CASE(2) FP8_BLOCK_CASE(3) FP8_BLOCK_CASE(4)
                        FP8_BLOCK_CASE(5) FP8_BLOCK_CASE(6) FP8_BLOCK_CASE(7) FP8_BLOCK_CASE(8)
                    }
                }
            }
            for (int i = 0; i < rows; i++)
                for (int t = 0; t < nt; t++)
                    y[(t0 + t) * ldy + tile + i] = _mm512_reduce_add_ps(_mm512_load_ps(acc[i][t])) + (bias ? bias[tile + i] : 0.0f);
        }
    }
}

AVX512 static void gemv_rows_avx512(const glm_matrix *w, const float *x, int64_t tokens, int64_t ldx,
                                    float *y, int64_t ldy, const float *bias, int64_t r0, int64_t r1) {
    if (w->dtype == GLM_DTYPE_F8E4M3) {
        fp8_gemv_rows_avx512(w, x, tokens, ldx, y, ldy, bias, r0, r1);
        return;
    }
    if (tokens == 1) {
        GEMV1_BY_DTYPE(gemv1, )
        return;
    }
    GEMV_BY_DTYPE(GEMV_GROUP, GEMV_CASES_AVX512, )
}

// Widening is a conversion bound by memory reads; the AVX2 version serves the AVX-512 panels too.
__attribute__((target("avx2,fma,f16c"))) static void widen_rows_avx2(const glm_matrix *w, int64_t r0, int64_t rows,
                                                                   float *out, int64_t ld);

/// Outer-product tile: acc[r][v] (v-th group of 16 tokens) += W[r][k] · Xᵀ[k][16v..16v+16] over
/// all k. `nr` ≤ TILE_R weight rows are broadcast from the widened panel (row stride `cols`);
/// `nv` ≤ 2 token vectors come from the packed Xᵀ tile ([cols][16] per vector). Both are
/// compile-time constants at each call so the accumulators stay in registers.
INLINE512 void tile_kernel(const float *wp, int64_t ldw, int64_t cols, const float *xt0, const float *xt1, int nr,
                           int nv, float *out /* [TILE_R][32] */) {
    __m512 acc[TILE_R][2];
    for (int r = 0; r < nr; r++) { acc[r][0] = _mm512_setzero_ps(); acc[r][1] = _mm512_setzero_ps(); }
    for (int64_t k = 0; k < cols; k++) {
        __m512 x0 = _mm512_load_ps(xt0 + k * 16);
        __m512 x1 = nv > 1 ? _mm512_load_ps(xt1 + k * 16) : x0;
        for (int r = 0; r < nr; r++) {
            __m512 w = _mm512_set1_ps(wp[r * ldw + k]);
            acc[r][0] = _mm512_fmadd_ps(w, x0, acc[r][0]);
            if (nv > 1) acc[r][1] = _mm512_fmadd_ps(w, x1, acc[r][1]);
        }
    }
    for (int r = 0; r < nr; r++) {
        _mm512_storeu_ps(out + r * 32, acc[r][0]);
        if (nv > 1) _mm512_storeu_ps(out + r * 32 + 16, acc[r][1]);
    }
}

#define TILE_CASE(NR)                                                     \
    case NR:                                                              \
        if (nv == 2) tile_kernel(wp, ldw, cols, xt0, xt1, NR, 2, out);    \
        else tile_kernel(wp, ldw, cols, xt0, xt1, NR, 1, out);            \
        break;

AVX512 static void tile_dispatch(const float *wp, int64_t ldw, int64_t cols, const float *xt0, const float *xt1,
                                 int nr, int nv, float *out) {
    switch (nr) {
        TILE_CASE(1) TILE_CASE(2) TILE_CASE(3) TILE_CASE(4) TILE_CASE(5) TILE_CASE(6)
        TILE_CASE(7) TILE_CASE(8) TILE_CASE(9) TILE_CASE(10) TILE_CASE(11) TILE_CASE(12)
    }
}

/// 16 codes (bytes, unsigned) minus `offset`, times `scale`, minus `minimum`, as f32: the scalar
/// dequantiser's operations in its order (one product, then one difference), so the bits match.
INLINE512 void store_dequantised16(__m128i codes, int offset, float scale, float minimum, float *out) {
    __m512 q = _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_cvtepu8_epi32(codes), _mm512_set1_epi32(offset)));
    _mm512_storeu_ps(out, _mm512_sub_ps(_mm512_mul_ps(_mm512_set1_ps(scale), q), _mm512_set1_ps(minimum)));
}

/// One row of Q4_K or Q6_K to f32 for the gemm panels, bit for bit what `glm_dequantize` gives
/// (the layouts of ../shared/spec/gguf.md §4). The scalar loop was slower than the whole tile
/// product at prefill lengths.
INLINE512 void widen_kquant_row(const uint8_t *b, int32_t dtype, int64_t cols, float *y) {
    const __m256i low4 = _mm256_set1_epi8(0x0F), two = _mm256_set1_epi8(3);
    for (int64_t i = 0; i < cols; i += 256, y += 256) {
        if (dtype == GLM_DTYPE_Q4_K) {
            float d = f16_at(b), dmin = f16_at(b + 2);
            uint8_t sc[8], m[8];
            k4_scales(b + 4, sc, m);
            for (int c = 0; c < 4; c++) {
                __m256i bytes = _mm256_loadu_si256((const __m256i *)(b + 16 + 32 * c));
                __m256i codes[2] = {_mm256_and_si256(bytes, low4), _mm256_and_si256(_mm256_srli_epi16(bytes, 4), low4)};
                for (int h = 0; h < 2; h++) {
                    int sub = 2 * c + h;
                    float d1 = d * (float)sc[sub], m1 = dmin * (float)m[sub];
                    store_dequantised16(_mm256_castsi256_si128(codes[h]), 0, d1, m1, y + 32 * sub);
                    store_dequantised16(_mm256_extracti128_si256(codes[h], 1), 0, d1, m1, y + 32 * sub + 16);
                }
            }
            b += 144;
        } else {
            const int8_t *scales = (const int8_t *)(b + 192);
            float d = f16_at(b + 208);
            for (int n = 0; n < 2; n++) {
                __m256i l0 = _mm256_loadu_si256((const __m256i *)(b + 64 * n));
                __m256i l1 = _mm256_loadu_si256((const __m256i *)(b + 64 * n + 32));
                __m256i high = _mm256_loadu_si256((const __m256i *)(b + 128 + 32 * n));
                for (int quarter = 0; quarter < 4; quarter++) {
                    __m256i low = quarter & 1 ? l1 : l0;
                    if (quarter >= 2) low = _mm256_srli_epi16(low, 4);
                    __m256i h2 = _mm256_and_si256(_mm256_srli_epi16(high, 2 * quarter), two);
                    __m256i codes = _mm256_or_si256(_mm256_and_si256(low, low4), _mm256_slli_epi16(h2, 4));
                    int first = 128 * n + 32 * quarter;
                    store_dequantised16(_mm256_castsi256_si128(codes), 32, d * (float)scales[first / 16], 0, y + first);
                    store_dequantised16(_mm256_extracti128_si256(codes, 1), 32, d * (float)scales[first / 16 + 1], 0, y + first + 16);
                }
            }
            b += 210;
        }
    }
}

AVX512 static void gemm_panel_avx512(const glm_matrix *w, const float *xt, int64_t tokens, float *y, int64_t ldy,
                                     const float *bias, int64_t r0, int64_t rows) {
    // Rows are padded by one cache line so the TILE_R broadcast streams don't alias in L1.
    int64_t cols = w->cols, ldw = cols + 16, vectors = (tokens + 15) / 16;
    float *wp = thread_scratch((size_t)(rows * ldw));
    if (takes_kquant_gemm(w->dtype)) {
        for (int64_t r = 0; r < rows; r++) widen_kquant_row((const uint8_t *)row_start(w, r0 + r), w->dtype, cols, wp + r * ldw);
    } else {
        widen_rows_avx2(w, r0, rows, wp, ldw);
    }
    float out[TILE_R * 32];
    for (int64_t v = 0; v < vectors; v += 2) {
        int nv = vectors - v >= 2 ? 2 : 1;
        const float *xt0 = xt + v * cols * 16, *xt1 = xt0 + cols * 16;
        for (int64_t r = 0; r < rows; r += TILE_R) {
            int nr = rows - r < TILE_R ? (int)(rows - r) : TILE_R;
            tile_dispatch(wp + r * ldw, ldw, cols, xt0, xt1, nr, nv, out);
            int64_t t_end = (v + nv) * 16 < tokens ? (v + nv) * 16 : tokens;
            for (int i = 0; i < nr; i++) {
                float b = bias ? bias[r0 + r + i] : 0.0f;
                for (int64_t t = v * 16; t < t_end; t++) y[t * ldy + r0 + r + i] = out[i * 32 + (t - v * 16)] + b;
            }
        }
    }
}
#endif

// MARK: - AVX2 kernels
//
// The same two regimes with 8-lane vectors, for x86-64 CPUs without AVX-512 (most AMD before
// Zen 4, Intel client chips). Sixteen registers: the gemv kernel takes two rows × two tokens with
// two accumulators each (so one token still has four FMA chains in flight), the gemm tile six
// rows × one 16-token vector. The gemm tile accumulates each token over k in order, exactly as
// the AVX-512 tile does, so prefill gives the same bits on both.

#if defined(__x86_64__)
#define AVX2 __attribute__((target("avx2,fma,f16c")))
#define INLINE2 static inline __attribute__((always_inline, target("avx2,fma,f16c")))

/// As `fp8x16_over_256`, for 8 bytes.
INLINE2 __m256 fp8x8_over_256(__m128i bytes) {
    __m128i h = _mm_cvtepu8_epi16(bytes);
    __m128i bits = _mm_or_si128(_mm_slli_epi16(_mm_and_si128(h, _mm_set1_epi16(0x80)), 8),
                                _mm_slli_epi16(_mm_and_si128(h, _mm_set1_epi16(0x7F)), 7));
    return _mm256_cvtph_ps(bits);
}

INLINE2 __m256 load8_full(const void *base, int64_t i, int32_t dtype) {
    switch (dtype) {
    case GLM_DTYPE_F8E4M3: return fp8x8_over_256(_mm_loadl_epi64((const __m128i *)((const uint8_t *)base + i)));
    case GLM_DTYPE_BF16: {
        __m128i h = _mm_loadu_si128((const __m128i *)((const uint16_t *)base + i));
        return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
    }
    case GLM_DTYPE_F16:
        return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)base + i)));
    default:
        return _mm256_loadu_ps((const float *)base + i);
    }
}

/// Lanes 0..<n set (n in 0...8), for masked loads of the last columns.
INLINE2 __m256i lanes_below(int64_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/// The last n < 8 values of a row from column i, widened, zeros beyond.
INLINE2 __m256 load8_tail(const void *base, int64_t i, int32_t dtype, int64_t n) {
    if (dtype == GLM_DTYPE_F32) return _mm256_maskload_ps((const float *)base + i, lanes_below(n));
    if (dtype == GLM_DTYPE_F8E4M3) {
        uint8_t bytes[16] = {0};
        memcpy(bytes, (const uint8_t *)base + i, (size_t)n);
        return fp8x8_over_256(_mm_loadu_si128((const __m128i *)bytes));
    }
    float tmp[8] = {0};
    glm_convert_to_f32((const uint16_t *)base + i, dtype, n, tmp);
    return _mm256_loadu_ps(tmp);
}

INLINE2 float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

enum { GEMV_GROUP_AVX2 = 2, TILE_R_AVX2 = 6 };

/// Two weight rows against `nt` ≤ 2 tokens; columns alternate between two accumulators per
/// (row, token). `nt` and `dtype` are constants at each call site.
INLINE2 void gemv2_avx2(const void *r0p, const void *r1p, int32_t dtype, int64_t cols, const float *x,
                        int64_t ldx, int nt, float out[2][GEMV_GROUP], const float *s0, const float *s1, int64_t block) {
    __m256 a0[GEMV_GROUP_AVX2][2], a1[GEMV_GROUP_AVX2][2];
    for (int t = 0; t < nt; t++)
        for (int s = 0; s < 2; s++) { a0[t][s] = _mm256_setzero_ps(); a1[t][s] = _mm256_setzero_ps(); }
    size_t esize = dtype == GLM_DTYPE_F32 ? 4 : dtype == GLM_DTYPE_F8E4M3 ? 1 : 2;
    int64_t c = 0;
    FP8_SCALE_WALK_BEGIN
    for (; c + 16 <= cols; c += 16) {
        if (dtype == GLM_DTYPE_F8E4M3) { FP8_SCALE_WALK_STEP }
        prefetch_next_pair(r1p, (int64_t)esize * cols, c * (int64_t)esize);
        for (int s = 0; s < 2; s++) {
            __m256 w0 = load8_full(r0p, c + 8 * s, dtype), w1 = load8_full(r1p, c + 8 * s, dtype);
            if (dtype == GLM_DTYPE_F8E4M3) {
                w0 = _mm256_mul_ps(w0, _mm256_set1_ps(scale0));
                w1 = _mm256_mul_ps(w1, _mm256_set1_ps(scale1));
            }
            for (int t = 0; t < nt; t++) {
                __m256 xv = _mm256_loadu_ps(x + t * ldx + c + 8 * s);
                a0[t][s] = _mm256_fmadd_ps(w0, xv, a0[t][s]);
                a1[t][s] = _mm256_fmadd_ps(w1, xv, a1[t][s]);
            }
        }
    }
    for (; c < cols; c += 8) {
        int64_t n = cols - c < 8 ? cols - c : 8;
        __m256 w0 = n == 8 ? load8_full(r0p, c, dtype) : load8_tail(r0p, c, dtype, n);
        __m256 w1 = n == 8 ? load8_full(r1p, c, dtype) : load8_tail(r1p, c, dtype, n);
        if (dtype == GLM_DTYPE_F8E4M3) {
            FP8_SCALE_WALK_STEP
            w0 = _mm256_mul_ps(w0, _mm256_set1_ps(scale0));
            w1 = _mm256_mul_ps(w1, _mm256_set1_ps(scale1));
        }
        for (int t = 0; t < nt; t++) {
            __m256 xv = _mm256_maskload_ps(x + t * ldx + c, lanes_below(n));
            a0[t][0] = _mm256_fmadd_ps(w0, xv, a0[t][0]);
            a1[t][0] = _mm256_fmadd_ps(w1, xv, a1[t][0]);
        }
    }
    for (int t = 0; t < nt; t++) {
        out[0][t] = hsum8(_mm256_add_ps(a0[t][0], a0[t][1]));
        out[1][t] = hsum8(_mm256_add_ps(a1[t][0], a1[t][1]));
    }
}

/// As gemv1, for AVX2: one row, one token, summed as gemv2_avx2 sums each (row, token).
INLINE2 float gemv1_avx2(const void *rp, int32_t dtype, int64_t cols, const float *x, const float *s0, int64_t block) {
    __m256 a[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
    size_t esize = dtype == GLM_DTYPE_F32 ? 4 : dtype == GLM_DTYPE_F8E4M3 ? 1 : 2;
    const float *s1 = s0;
    int64_t c = 0;
    FP8_SCALE_WALK_BEGIN
    for (; c + 16 <= cols; c += 16) {
        if (dtype == GLM_DTYPE_F8E4M3) { FP8_SCALE_WALK_STEP }
        prefetch_row_ahead(rp, c * (int64_t)esize);
        for (int h = 0; h < 2; h++) {
            __m256 wv = load8_full(rp, c + 8 * h, dtype);
            if (dtype == GLM_DTYPE_F8E4M3) wv = _mm256_mul_ps(wv, _mm256_set1_ps(scale0));
            a[h] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x + c + 8 * h), a[h]);
        }
    }
    for (; c < cols; c += 8) {
        int64_t n = cols - c < 8 ? cols - c : 8;
        __m256 wv = n == 8 ? load8_full(rp, c, dtype) : load8_tail(rp, c, dtype, n);
        if (dtype == GLM_DTYPE_F8E4M3) {
            FP8_SCALE_WALK_STEP
            wv = _mm256_mul_ps(wv, _mm256_set1_ps(scale0));
        }
        a[0] = _mm256_fmadd_ps(wv, _mm256_maskload_ps(x + c, lanes_below(n)), a[0]);
    }
    (void)scale1;
    return hsum8(_mm256_add_ps(a[0], a[1]));
}

#define GEMV_CASES_AVX2(DT) GEMV_PAIR(gemv2_avx2, 1, DT) GEMV_PAIR(gemv2_avx2, 2, DT)

AVX2 static void gemv_rows_avx2(const glm_matrix *w, const float *x, int64_t tokens, int64_t ldx,
                                float *y, int64_t ldy, const float *bias, int64_t r0, int64_t r1) {
    if (tokens == 1) {
        GEMV1_BY_DTYPE(gemv1_avx2, case GLM_DTYPE_F8E4M3: GEMV1_ROWS(gemv1_avx2, GLM_DTYPE_F8E4M3) break;)
        return;
    }
    GEMV_BY_DTYPE(GEMV_GROUP_AVX2, GEMV_CASES_AVX2, case GLM_DTYPE_F8E4M3: GEMV_ROWS(GEMV_GROUP_AVX2, GEMV_CASES_AVX2, GLM_DTYPE_F8E4M3) break;)
}

/// Widens rows r0..<r0+rows to f32 rows of stride `ld` floats (AVX-512 and AVX2 panels).
AVX2 static void widen_rows_avx2(const glm_matrix *w, int64_t r0, int64_t rows, float *out, int64_t ld) {
    if (w->dtype == GLM_DTYPE_F8E4M3 && (!w->block_scale || w->block % 8 == 0)) {
        for (int64_t r = 0; r < rows; r++) {
            const float *scales;
            int64_t block, c = 0;
            fp8_scales(w, r0 + r, &scales, &block);
            const void *src = row_start(w, r0 + r);
            float *dst = out + r * ld;
            for (int64_t b = 0; b * block < w->cols && c + 8 <= w->cols; b++) {
                __m256 scale = _mm256_set1_ps(scales[b] * 256.0f);
                for (int64_t end = block < w->cols - c ? c + block : w->cols; c + 8 <= end; c += 8)
                    _mm256_storeu_ps(dst + c, _mm256_mul_ps(load8_full(src, c, GLM_DTYPE_F8E4M3), scale));
            }
            if (c < w->cols) widen_row_portable(w, r0 + r, c, w->cols - c, dst + c);
        }
        return;
    }
    if (w->dtype == GLM_DTYPE_F8E4M3 || is_block_format(w->dtype)) {
        for (int64_t r = 0; r < rows; r++) widen_row_portable(w, r0 + r, 0, w->cols, out + r * ld);
        return;
    }
    for (int64_t r = 0; r < rows; r++) {
        const void *src = row_start(w, r0 + r);
        float *dst = out + r * ld;
        int64_t c = 0;
        for (; c + 8 <= w->cols; c += 8) _mm256_storeu_ps(dst + c, load8_full(src, c, w->dtype));
        if (c < w->cols) widen_row_portable(w, r0 + r, c, w->cols - c, dst + c);
    }
}

/// Outer-product tile: acc[r][h] (h-th half of the 16-token vector) += W[r][k] · Xᵀ[k][8h..8h+8]
/// over all k, for `nr` ≤ TILE_R_AVX2 rows of the widened panel (a constant at each call).
INLINE2 void tile_kernel_avx2(const float *wp, int64_t ldw, int64_t cols, const float *xt, int nr,
                              float *out /* [TILE_R_AVX2][16] */) {
    __m256 acc[TILE_R_AVX2][2];
    for (int r = 0; r < nr; r++) { acc[r][0] = _mm256_setzero_ps(); acc[r][1] = _mm256_setzero_ps(); }
    for (int64_t k = 0; k < cols; k++) {
        __m256 x0 = _mm256_load_ps(xt + k * 16), x1 = _mm256_load_ps(xt + k * 16 + 8);
        for (int r = 0; r < nr; r++) {
            __m256 w = _mm256_broadcast_ss(wp + r * ldw + k);
            acc[r][0] = _mm256_fmadd_ps(w, x0, acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(w, x1, acc[r][1]);
        }
    }
    for (int r = 0; r < nr; r++) {
        _mm256_storeu_ps(out + r * 16, acc[r][0]);
        _mm256_storeu_ps(out + r * 16 + 8, acc[r][1]);
    }
}

AVX2 static void tile_dispatch_avx2(const float *wp, int64_t ldw, int64_t cols, const float *xt, int nr, float *out) {
    switch (nr) {
    case 1: tile_kernel_avx2(wp, ldw, cols, xt, 1, out); break;
    case 2: tile_kernel_avx2(wp, ldw, cols, xt, 2, out); break;
    case 3: tile_kernel_avx2(wp, ldw, cols, xt, 3, out); break;
    case 4: tile_kernel_avx2(wp, ldw, cols, xt, 4, out); break;
    case 5: tile_kernel_avx2(wp, ldw, cols, xt, 5, out); break;
    case 6: tile_kernel_avx2(wp, ldw, cols, xt, 6, out); break;
    }
}

AVX2 static void gemm_panel_avx2(const glm_matrix *w, const float *xt, int64_t tokens, float *y, int64_t ldy,
                                 const float *bias, int64_t r0, int64_t rows) {
    int64_t cols = w->cols, ldw = cols + 16, vectors = (tokens + 15) / 16;
    float *wp = thread_scratch((size_t)(rows * ldw));
    widen_rows_avx2(w, r0, rows, wp, ldw);
    float out[TILE_R_AVX2 * 16];
    for (int64_t v = 0; v < vectors; v++) {
        const float *xtv = xt + v * cols * 16;
        int64_t t_end = (v + 1) * 16 < tokens ? (v + 1) * 16 : tokens;
        for (int64_t r = 0; r < rows; r += TILE_R_AVX2) {
            int nr = rows - r < TILE_R_AVX2 ? (int)(rows - r) : TILE_R_AVX2;
            tile_dispatch_avx2(wp + r * ldw, ldw, cols, xtv, nr, out);
            for (int i = 0; i < nr; i++) {
                float b = bias ? bias[r0 + r + i] : 0.0f;
                for (int64_t t = v * 16; t < t_end; t++) y[t * ldy + r0 + r + i] = out[i * 16 + (t - v * 16)] + b;
            }
        }
    }
}
#endif

// MARK: - Dispatch

/// Xᵀ in 16-token vectors: [ceil(tokens/16)][cols][16], zero-padded past the last token.
static float *pack_transposed(const float *x, int64_t tokens, int64_t ldx, int64_t cols) {
    int64_t vectors = (tokens + 15) / 16;
    float *xt = activation_buffer((size_t)(vectors * cols * 16) * sizeof(float));
    for (int64_t v = 0; v < vectors; v++) {
        float *dst = xt + v * cols * 16;
        for (int i = 0; i < 16; i++) {
            int64_t t = v * 16 + i;
            if (t < tokens) {
                const float *src = x + t * ldx;
                for (int64_t c = 0; c < cols; c++) dst[c * 16 + i] = src[c];
            } else {
                for (int64_t c = 0; c < cols; c++) dst[c * 16 + i] = 0.0f;
            }
        }
    }
    return xt;
}

typedef struct {
    const glm_matrix *w;
    const float *x;
    // The activations in the form the kernels read, made once per distinct input of a batch
    // (items with the same input, e.g. gate and up projections, share them); `owned` is freed
    // by the job that made it.
    const float *xt;  // packed Xᵀ for the gemm regime
    const glm_q8_row *q8;  // [tokens] int8 activations for block formats in the gemv regime
    const uint16_t *xb;  // bf16 rows (bf16 precision, gemv regime)
    const uint16_t *xtb;  // bf16 packed Xᵀ (bf16 precision, gemm regime)
    void *owned;
    int bf16;  // vdpbf16ps (GLM_PRECISION_BF16 on bf16 or FP8 weights)
    int64_t tokens, ldx, ldy, rows_per_task, tasks;
    float *y;
    const float *bias;
    int gemv;
    int isa;  // ISA_* chosen by the calling thread
    int qdot_isa;  // glm_qdot's isa argument
} matmul_job;

enum { ISA_PORTABLE, ISA_AVX2, ISA_AVX512 };

/// Before row r is dotted: the row PREFETCH_ROWS rows ahead into L2, one prefetch per 64-byte
/// line. The int8 kernels compute hard while they stream, and with the hardware prefetchers
/// alone one token read Q4_K at 10–12 GB/s of weights on two Xeon threads against 15–17 with
/// this (kernel_rate, BENCHMARKS.md §5). Only for up to PREFETCH_MAX_TOKENS tokens: with more,
/// each row takes long enough for the hardware prefetchers, and the prefetches waited for fill
/// buffers (6 % of a 16-stream run's samples under `perf record -e cpu-clock`).
static inline void prefetch_rows_ahead(const glm_matrix *w, int64_t r) {
#if defined(__x86_64__)
    if (r + PREFETCH_ROWS >= w->rows) return;
    const char *ahead = row_start(w, r + PREFETCH_ROWS);
    int64_t bytes = row_start(w, r + 1) - row_start(w, r);
    for (int64_t offset = 0; offset < bytes; offset += 64) _mm_prefetch(ahead + offset, _MM_HINT_T1);
#else
    (void)w, (void)r;
#endif
}

/// Block formats in the int8 regime: each tile of rows is dotted with the tokens' int8
/// activations, GLM_QDOT_TOKENS at a time, while the tile's rows are in L1 (the activations
/// are then read once per tile rather than once per row).
static void gemv_rows_quantised(const matmul_job *job, int64_t r0, int64_t r1) {
    const glm_matrix *w = job->w;
    float out[GLM_QDOT_TOKENS];
    for (int64_t tile = r0; tile < r1; tile += QDOT_ROW_TILE) {
        int64_t tile_end = tile + QDOT_ROW_TILE < r1 ? tile + QDOT_ROW_TILE : r1;
        for (int64_t t0 = 0; t0 < job->tokens; t0 += GLM_QDOT_TOKENS) {
            int nt = job->tokens - t0 < GLM_QDOT_TOKENS ? (int)(job->tokens - t0) : GLM_QDOT_TOKENS;
            for (int64_t r = tile; r < tile_end; r++) {
                if (t0 == 0 && job->tokens <= PREFETCH_MAX_TOKENS) prefetch_rows_ahead(w, r);
                glm_qdot(w->dtype, row_start(w, r), &job->q8[t0], nt, w->cols, job->qdot_isa, out);
                float b = job->bias ? job->bias[r] : 0.0f;
                for (int t = 0; t < nt; t++) job->y[(t0 + t) * job->ldy + r] = out[t] + b;
            }
        }
    }
}

/// Quantises each token of x to int8 once for `job` (items with the same input share it).
static void quantise_activations(matmul_job *job) {
    int64_t n = job->w->cols, bytes = (glm_q8_row_bytes(n) + 63) & ~(int64_t)63;
    size_t total = (size_t)(job->tokens * bytes) + (((size_t)job->tokens * sizeof(glm_q8_row) + 63) & ~(size_t)63);
    char *buffer = activation_buffer(total);
    glm_q8_row *rows = (glm_q8_row *)(buffer + job->tokens * bytes);
    int64_t block = block_elements(job->w->dtype);
    for (int64_t t = 0; t < job->tokens; t++) rows[t] = glm_quantize_q8(job->x + t * job->ldx, n, block, job->qdot_isa, buffer + t * bytes);
    job->q8 = rows;
    job->owned = buffer;
}

static void run_gemv(const matmul_job *job, int64_t task) {
    int64_t r0 = task * job->rows_per_task, r1 = r0 + job->rows_per_task;
    if (r1 > job->w->rows) r1 = job->w->rows;
    if (job->q8) {
        gemv_rows_quantised(job, r0, r1);
        return;
    }
    if (job->bf16) {
        bf16_gemv_rows(job->w, job->xb, job->tokens, job->y, job->ldy, job->bias, r0, r1);
        return;
    }
#if defined(__x86_64__)
    if (job->isa == ISA_AVX512) {
        gemv_rows_avx512(job->w, job->x, job->tokens, job->ldx, job->y, job->ldy, job->bias, r0, r1);
        return;
    }
    if (job->isa == ISA_AVX2) {
        gemv_rows_avx2(job->w, job->x, job->tokens, job->ldx, job->y, job->ldy, job->bias, r0, r1);
        return;
    }
#endif
    gemv_rows_portable(job->w, job->x, job->tokens, job->ldx, job->y, job->ldy, job->bias, r0, r1);
}

static void run_gemm(const matmul_job *job, int64_t task) {
    int64_t r0 = task * PANEL, rows = job->w->rows - r0 < PANEL ? job->w->rows - r0 : PANEL;
    if (job->bf16) {
        uint16_t *scratch = (uint16_t *)thread_scratch((size_t)(rows * (job->w->cols + 33) + 1) / 2);
        bf16_gemm_panel(job->w, job->xtb, job->tokens, job->y, job->ldy, job->bias, r0, rows, scratch);
        return;
    }
#if defined(__x86_64__)
    if (job->xt) {
        if (job->isa == ISA_AVX512) gemm_panel_avx512(job->w, job->xt, job->tokens, job->y, job->ldy, job->bias, r0, rows);
        else gemm_panel_avx2(job->w, job->xt, job->tokens, job->y, job->ldy, job->bias, r0, rows);
        return;
    }
#endif
    gemv_rows_portable(job->w, job->x, job->tokens, job->ldx, job->y, job->ldy, job->bias, r0, r0 + rows);
}

typedef struct {
    matmul_job *jobs;
    int64_t count;
    int64_t *first_task;  // [count + 1] prefix sums of tasks
} batch_job;

static void batch_task(void *raw, int64_t task, int32_t thread) {
    (void)thread;
    const batch_job *batch = raw;
    int64_t lo = 0, hi = batch->count - 1;  // the job whose task range holds `task`
    while (lo < hi) {
        int64_t mid = (lo + hi + 1) / 2;
        if (batch->first_task[mid] <= task) lo = mid; else hi = mid - 1;
    }
    const matmul_job *job = &batch->jobs[lo];
    int64_t local = task - batch->first_task[lo];
    if (job->gemv) run_gemv(job, local); else run_gemm(job, local);
}

/// The block size a job's int8 activations are quantised by (0: it has none).
static int64_t activation_block(const matmul_job *j) {
    return j->gemv && is_block_format(j->w->dtype) ? block_elements(j->w->dtype) : 0;
}

static int same_input(const matmul_job *a, const matmul_job *b) {
    return a->x == b->x && a->tokens == b->tokens && a->ldx == b->ldx && a->w->cols == b->w->cols &&
           activation_block(a) == activation_block(b);
}

/// The activations field at `offset` (xt, q8, xb or xtb) of an earlier job with the same input
/// as `job`, or NULL.
static const void *shared_activations(const matmul_job *jobs, const matmul_job *job, size_t offset) {
    for (const matmul_job *j = jobs; j < job; j++) {
        const void *made = *(const void *const *)((const char *)j + offset);
        if (made && same_input(j, job)) return made;
    }
    return NULL;
}

/// Points `job` at its activations in the form its kernel reads: an earlier job's where one has
/// the same input, else its own.
static void prepare_activations(const matmul_job *jobs, matmul_job *job) {
    if (activation_block(job)) {
        if (!(job->q8 = shared_activations(jobs, job, offsetof(matmul_job, q8)))) quantise_activations(job);
    } else if (job->bf16 && job->gemv) {
        if (!(job->xb = shared_activations(jobs, job, offsetof(matmul_job, xb))))
            job->owned = (void *)(job->xb = bf16_round_rows(job->x, job->tokens, job->ldx, job->w->cols));
    } else if (job->bf16) {
        if (!(job->xtb = shared_activations(jobs, job, offsetof(matmul_job, xtb))))
            job->owned = (void *)(job->xtb = bf16_pack_transposed(job->x, job->tokens, job->ldx, job->w->cols));
    } else if (!job->gemv && job->isa != ISA_PORTABLE) {
        if (!(job->xt = shared_activations(jobs, job, offsetof(matmul_job, xt))))
            job->owned = (void *)(job->xt = pack_transposed(job->x, job->tokens, job->ldx, job->w->cols));
    }
}

void glm_matmul_batch(glm_pool *pool, const glm_matmul_item *items, int64_t count) {
    if (count <= 0) return;
    matmul_job *jobs = calloc((size_t)count, sizeof(matmul_job));
    int64_t *first_task = calloc((size_t)count + 1, sizeof(int64_t));
    int64_t threads = glm_pool_threads(pool);
    const int isa = use_avx512() ? ISA_AVX512 : use_avx2() ? ISA_AVX2 : ISA_PORTABLE;
    const int qdot_isa = isa == ISA_PORTABLE ? 0 : use_vnni() ? 2 : 1;
    const int bf16_ok = glm_bf16_dot_available();
    for (int64_t i = 0; i < count; i++) {
        const glm_matmul_item *it = &items[i];
        matmul_job *job = &jobs[i];
        *job = (matmul_job){.w = it->w, .x = it->x, .tokens = it->tokens, .ldx = it->ldx, .ldy = it->ldy, .y = it->y,
                            .bias = it->bias, .isa = isa, .qdot_isa = qdot_isa,
                            .bf16 = bf16_ok && it->precision == GLM_PRECISION_BF16 && bf16_dot_takes(it->w)};
        if (it->w->dtype == GLM_DTYPE_F8E4M3) pthread_once(&fp8_once, fp8_init);
        if (it->tokens > 0 && it->w->rows > 0) {
            // The super-block formats stay int8 at every token count, where their panels would be
            // widened by the scalar dequantiser (a third of the int8 rate, BENCHMARKS.md §5); Q4_K
            // and Q6_K on AVX-512 are widened in SIMD and take the f32 tiles from
            // KQUANT_GEMM_TOKENS (kernel_rate: 1.15–1.3× the int8 rate at 128–512 tokens).
            int super_block = is_block_format(it->w->dtype) && block_elements(it->w->dtype) == 256 &&
                              !(isa == ISA_AVX512 && takes_kquant_gemm(it->w->dtype) && it->tokens >= KQUANT_GEMM_TOKENS);
            job->gemv = super_block || (it->tokens <= (isa == ISA_AVX512 ? GEMV_MAX_TOKENS : GEMV_MAX_TOKENS_AVX2) &&
                                        (it->w->dtype != GLM_DTYPE_F8E4M3 || fp8_gemv_ok(it->w)));
            prepare_activations(jobs, job);
            if (job->gemv) {
                // Several chunks per thread balance uneven progress; even-sized for gemv2.
                int64_t chunks = threads * 4;
                int64_t per = (it->w->rows + chunks - 1) / chunks;
                per = per < 16 ? 16 : (per + 1) & ~(int64_t)1;
                job->rows_per_task = per;
                job->tasks = (it->w->rows + per - 1) / per;
            } else {
                job->tasks = (it->w->rows + PANEL - 1) / PANEL;
            }
        }
        first_task[i + 1] = first_task[i] + job->tasks;
    }
    batch_job batch = {jobs, count, first_task};
    glm_pool_run(pool, first_task[count], batch_task, &batch);
    for (int64_t i = 0; i < count; i++) activation_buffer_free(jobs[i].owned);
    free(jobs);
    free(first_task);
}

void glm_matmul(glm_pool *pool, const glm_matrix *w, const float *x, int64_t tokens, int64_t ldx,
                float *y, int64_t ldy, const float *bias) {
    glm_matmul_item item = {w, x, tokens, ldx, y, ldy, bias, GLM_PRECISION_F32};
    glm_matmul_batch(pool, &item, 1);
}
