// Block-format weights · int8 activations. Every format is written as w = A·c − B per 16
// weights (c a small integer code, A and B floats from the block's scales), so a dot product is
// Σ_16 d_x·(A·Σ c·q − B·Σ q) with integer inner sums, as llama.cpp computes them. The 32-weight
// formats take activations scaled per 32, the super-block formats per 256, so that their
// integer sub-block scales can be applied before any float work
// (../shared/spec/gguf.md §6). The portable path unpacks codes with `unpack_block`; the SIMD
// paths (quant_dot_simd.h, once for AVX2 and once for VNNI) unpack in registers and sum with
// vpmaddubsw/vpdpbusd. All paths agree up to float summation order.
#include "quant_dot.h"
#include "CKernels.h"
#include "block_formats.h"
#include <math.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

int64_t glm_q8_row_bytes(int64_t n) { return n + n / 32 * 4 + n / 16 * 2 + 64; }

/// One block of `glm_quantize_q8`: codes, their sums of 16, and the block's scale returned.
static float quantize_block_portable(const float *x, int64_t block, int8_t *qs, int16_t *sum16) {
    float amax = 0;
    for (int64_t i = 0; i < block; i++) amax = fmaxf(amax, fabsf(x[i]));
    float inverse = amax > 0 ? 127.0f / amax : 0.0f;
    for (int64_t i = 0; i < block; i++) {
        int q = (int)nearbyintf(x[i] * inverse);
        qs[i] = (int8_t)(q > 127 ? 127 : q < -127 ? -127 : q);
    }
    for (int64_t k = 0; k < block / 16; k++) {
        int sum = 0;
        for (int i = 0; i < 16; i++) sum += qs[16 * k + i];
        sum16[k] = (int16_t)sum;
    }
    return amax / 127.0f;
}

#if defined(__x86_64__)
/// As `quantize_block_portable`, 32 values per step. vcvtps2dq rounds to nearest even, as
/// nearbyintf does in the default rounding mode, and the maximum is exact in any order, so the
/// bytes are the portable loop's.
__attribute__((target("avx2,fma"))) static float quantize_block_avx2(const float *x, int64_t block, int8_t *qs,
                                                                    int16_t *sum16) {
    const __m256 magnitude = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
    __m256 vmax = _mm256_setzero_ps();
    for (int64_t i = 0; i < block; i += 8) vmax = _mm256_max_ps(vmax, _mm256_and_ps(_mm256_loadu_ps(x + i), magnitude));
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(vmax), _mm256_extractf128_ps(vmax, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    float amax = _mm_cvtss_f32(_mm_max_ss(m, _mm_movehdup_ps(m)));
    const __m256 scale = _mm256_set1_ps(amax > 0 ? 127.0f / amax : 0.0f);
    const __m256i lowest = _mm256_set1_epi32(-127), order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (int64_t i = 0; i < block; i += 32) {
        __m256i q[4];
        for (int k = 0; k < 4; k++)
            q[k] = _mm256_max_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + i + 8 * k), scale)), lowest);
        for (int h = 0; h < 2; h++) {
            __m256i pair = _mm256_add_epi32(q[2 * h], q[2 * h + 1]);
            __m128i s = _mm_add_epi32(_mm256_castsi256_si128(pair), _mm256_extracti128_si256(pair, 1));
            s = _mm_hadd_epi32(s, s);
            sum16[i / 16 + h] = (int16_t)(_mm_cvtsi128_si32(s) + _mm_extract_epi32(s, 1));
        }
        // The packs saturate at 127 (the portable clamp) and interleave 128-bit lanes; `order` undoes that.
        __m256i bytes = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
        _mm256_storeu_si256((__m256i *)(qs + i), _mm256_permutevar8x32_epi32(bytes, order));
    }
    return amax / 127.0f;
}
#endif

glm_q8_row glm_quantize_q8(const float *x, int64_t n, int64_t block, int isa, void *buffer) {
    int8_t *qs = buffer;
    float *d = (float *)(qs + n);
    int16_t *sum16 = (int16_t *)(d + n / 32);
    for (int64_t b = 0; b < n / block; b++) {
#if defined(__x86_64__)
        if (isa != 0) {
            d[b] = quantize_block_avx2(x + block * b, block, qs + block * b, sum16 + block * b / 16);
            continue;
        }
#endif
        d[b] = quantize_block_portable(x + block * b, block, qs + block * b, sum16 + block * b / 16);
    }
    (void)isa;
    return (glm_q8_row){qs, d, sum16, block};
}

/// Codes c[i] and per-16 A[k], B[k] with w[i] = A[i/16]·c[i] − B[i/16]; returns the elements.
static int unpack_block(int32_t dtype, const uint8_t *b, int8_t *c, float *A, float *B) {
    switch (dtype) {
    case GLM_DTYPE_Q8_0:
        for (int i = 0; i < 32; i++) c[i] = (int8_t)b[2 + i];
        A[0] = A[1] = f16_at(b); B[0] = B[1] = 0;
        return 32;
    case GLM_DTYPE_Q4_0: case GLM_DTYPE_Q4_1: case GLM_DTYPE_IQ4_NL: {
        const uint8_t *qs = b + (dtype == GLM_DTYPE_Q4_1 ? 4 : 2);
        for (int j = 0; j < 16; j++) { c[j] = qs[j] & 0xF; c[j + 16] = qs[j] >> 4; }
        float d = f16_at(b);
        A[0] = A[1] = d;
        B[0] = B[1] = dtype == GLM_DTYPE_Q4_0 ? 8 * d : dtype == GLM_DTYPE_Q4_1 ? -f16_at(b + 2) : 0;
        if (dtype == GLM_DTYPE_IQ4_NL) for (int i = 0; i < 32; i++) c[i] = iq4_values[c[i]];
        return 32;
    }
    case GLM_DTYPE_Q5_0: case GLM_DTYPE_Q5_1: {
        int one = dtype == GLM_DTYPE_Q5_1;
        uint32_t h;
        memcpy(&h, b + (one ? 4 : 2), 4);
        const uint8_t *qs = b + (one ? 8 : 6);
        for (int j = 0; j < 16; j++) {
            c[j] = (int8_t)((qs[j] & 0xF) | (((h >> j) & 1) << 4));
            c[j + 16] = (int8_t)((qs[j] >> 4) | (((h >> (j + 16)) & 1) << 4));
        }
        float d = f16_at(b);
        A[0] = A[1] = d;
        B[0] = B[1] = one ? -f16_at(b + 2) : 16 * d;
        return 32;
    }
    case GLM_DTYPE_Q2_K: {
        float d = f16_at(b + 80), dmin = f16_at(b + 82);
        for (int i = 0; i < 256; i++) c[i] = (b[16 + 32 * (i / 128) + i % 32] >> (2 * ((i % 128) / 32))) & 3;
        for (int k = 0; k < 16; k++) { A[k] = d * (float)(b[k] & 0xF); B[k] = dmin * (float)(b[k] >> 4); }
        return 256;
    }
    case GLM_DTYPE_Q3_K: {
        const uint8_t *hmask = b, *qs = b + 32, *sc = b + 96;
        float d = f16_at(b + 108);
        for (int i = 0; i < 256; i++) {
            int lo = (qs[32 * (i / 128) + i % 32] >> (2 * ((i % 128) / 32))) & 3, hb = (hmask[i % 32] >> (i / 32)) & 1;
            c[i] = (int8_t)(lo + 4 * hb);  // code + 4, 0..7
        }
        for (int k = 0; k < 16; k++) {
            int low = k < 8 ? sc[k] & 0xF : sc[k - 8] >> 4, high = (sc[8 + k % 4] >> (2 * (k / 4))) & 3;
            A[k] = d * (float)((low | high << 4) - 32);
            B[k] = 4 * A[k];
        }
        return 256;
    }
    case GLM_DTYPE_Q4_K: case GLM_DTYPE_Q5_K: {
        int five = dtype == GLM_DTYPE_Q5_K;
        float d = f16_at(b), dmin = f16_at(b + 2);
        const uint8_t *scales = b + 4, *qh = b + 16, *qs = b + (five ? 48 : 16);
        for (int i = 0; i < 256; i++) {
            int sub = i / 32, byte = qs[32 * (i / 64) + i % 32];
            int q = sub % 2 ? byte >> 4 : byte & 0xF;
            if (five) q |= ((qh[i % 32] >> sub) & 1) << 4;
            c[i] = (int8_t)q;
        }
        uint8_t sc[8], m[8];
        k4_scales(scales, sc, m);
        for (int j = 0; j < 8; j++) {
            A[2 * j] = A[2 * j + 1] = d * (float)sc[j];
            B[2 * j] = B[2 * j + 1] = dmin * (float)m[j];
        }
        return 256;
    }
    case GLM_DTYPE_Q6_K: {
        const uint8_t *ql = b, *qh = b + 128;
        const int8_t *scales = (const int8_t *)(b + 192);
        float d = f16_at(b + 208);
        for (int i = 0; i < 256; i++) {
            int n = i / 128, quarter = (i % 128) / 32, l = i % 32;
            int low = ql[64 * n + (quarter & 1) * 32 + l], high = (qh[32 * n + l] >> (2 * quarter)) & 3;
            c[i] = (int8_t)(((quarter >= 2 ? low >> 4 : low & 0xF)) | high << 4);  // code + 32, 0..63
        }
        for (int k = 0; k < 16; k++) { A[k] = d * (float)scales[k]; B[k] = 32 * A[k]; }
        return 256;
    }
    case GLM_DTYPE_IQ4_XS: {
        float d = f16_at(b);
        uint16_t scales_h = (uint16_t)(b[2] | (b[3] << 8));
        for (int ib = 0; ib < 8; ib++) {
            int ls = ((b[4 + ib / 2] >> (4 * (ib % 2))) & 0xF) | (((scales_h >> (2 * ib)) & 3) << 4);
            A[2 * ib] = A[2 * ib + 1] = d * (float)(ls - 32);
            B[2 * ib] = B[2 * ib + 1] = 0;
            for (int j = 0; j < 16; j++) {
                c[32 * ib + j] = iq4_values[b[8 + 16 * ib + j] & 0xF];
                c[32 * ib + 16 + j] = iq4_values[b[8 + 16 * ib + j] >> 4];
            }
        }
        return 256;
    }
    }
    return 0;
}

static void qdot_portable(int32_t dtype, const uint8_t *row, const glm_q8_row *x, int nt, int64_t n, float *out) {
    int8_t c[256];
    float A[16], B[16];
    int64_t bytes = block_bytes(dtype);
    for (int t = 0; t < nt; t++) out[t] = 0;
    for (int64_t i = 0; i < n; row += bytes) {
        int elements = unpack_block(dtype, row, c, A, B);
        for (int k = 0; k < elements / 16; k++, i += 16) {
            for (int t = 0; t < nt; t++) {
                int dot = 0;
                for (int j = 0; j < 16; j++) dot += c[16 * k + j] * x[t].qs[i + j];
                out[t] += x[t].d[i / x[t].block] * (A[k] * (float)dot - B[k] * (float)x[t].sum16[i / 16]);
            }
        }
    }
}

#if defined(__x86_64__)
#define QD_SUFFIX avx2
#define QD_TARGET "avx2,fma,f16c"
#include "quant_dot_simd.h"
#undef QD_SUFFIX
#undef QD_TARGET
#define QD_SUFFIX vnni
#define QD_TARGET "avx2,fma,f16c,avx512f,avx512vl,avx512bw,avx512vnni"
#define QD_VNNI 1
#include "quant_dot_simd.h"
#endif

void glm_qdot(int32_t dtype, const void *row, const glm_q8_row *x, int nt, int64_t n, int isa, float *out) {
#if defined(__x86_64__)
    if (isa == 2) {
        qdot_vnni(dtype, row, x, nt, n, out);
        return;
    }
    if (isa == 1) {
        qdot_avx2(dtype, row, x, nt, n, out);
        return;
    }
#endif
    (void)isa;
    qdot_portable(dtype, row, x, nt, n, out);
}
