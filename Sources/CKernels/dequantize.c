// Dequantisation of ggml's block formats (GGUF weights) to f32: the readable reference every
// quantised fast path is checked against, and the widening step of the f32-activation products.
// Layouts: ../shared/spec/gguf.md §4. The float operations and their order follow gguf-py's
// `gguf.quants.dequantize` (the oracle of Tests/Fixtures/gguf), so results are bit-identical to
// it; contraction into FMAs would change the last bit, so it is off in this file.
#pragma STDC FP_CONTRACT OFF
#include "CKernels.h"
#include "block_formats.h"

// MARK: - 32-element blocks

static void q4_0(const uint8_t *b, float *y) {
    float d = f16_at(b);
    for (int j = 0; j < 16; j++) {
        y[j] = d * (float)((b[2 + j] & 0xF) - 8);
        y[j + 16] = d * (float)((b[2 + j] >> 4) - 8);
    }
}

static void q4_1(const uint8_t *b, float *y) {
    float d = f16_at(b), m = f16_at(b + 2);
    for (int j = 0; j < 16; j++) {
        y[j] = d * (float)(b[4 + j] & 0xF) + m;
        y[j + 16] = d * (float)(b[4 + j] >> 4) + m;
    }
}

static inline uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

static void q5_0(const uint8_t *b, float *y) {
    float d = f16_at(b);
    uint32_t h = le32(b + 2);
    const uint8_t *qs = b + 6;
    for (int j = 0; j < 16; j++) {
        int lo = (qs[j] & 0xF) | (int)(((h >> j) & 1) << 4);
        int hi = (qs[j] >> 4) | (int)(((h >> (j + 16)) & 1) << 4);
        y[j] = d * (float)(lo - 16);
        y[j + 16] = d * (float)(hi - 16);
    }
}

static void q5_1(const uint8_t *b, float *y) {
    float d = f16_at(b), m = f16_at(b + 2);
    uint32_t h = le32(b + 4);
    const uint8_t *qs = b + 8;
    for (int j = 0; j < 16; j++) {
        int lo = (qs[j] & 0xF) | (int)(((h >> j) & 1) << 4);
        int hi = (qs[j] >> 4) | (int)(((h >> (j + 16)) & 1) << 4);
        y[j] = d * (float)lo + m;
        y[j + 16] = d * (float)hi + m;
    }
}

static void q8_0(const uint8_t *b, float *y) {
    float d = f16_at(b);
    for (int j = 0; j < 32; j++) y[j] = (float)(int8_t)b[2 + j] * d;
}

static void iq4_nl(const uint8_t *b, float *y) {
    float d = f16_at(b);
    for (int j = 0; j < 16; j++) {
        y[j] = d * (float)iq4_values[b[2 + j] & 0xF];
        y[j + 16] = d * (float)iq4_values[b[2 + j] >> 4];
    }
}

// MARK: - 256-element super-blocks

static void q2_k(const uint8_t *b, float *y) {
    const uint8_t *scales = b, *qs = b + 16;
    float d = f16_at(b + 80), dmin = f16_at(b + 82);
    for (int i = 0; i < 256; i++) {
        int n = i / 128, s = (i % 128) / 32, l = i % 32, sub = i / 16;
        int q = (qs[32 * n + l] >> (2 * s)) & 3;
        float dl = d * (float)(scales[sub] & 0xF), ml = dmin * (float)(scales[sub] >> 4);
        y[i] = dl * (float)q - ml;
    }
}

static void q3_k(const uint8_t *b, float *y) {
    const uint8_t *hmask = b, *qs = b + 32, *sc = b + 96;
    float d = f16_at(b + 108);
    for (int i = 0; i < 256; i++) {
        int n = i / 128, s = (i % 128) / 32, l = i % 32, j = i / 16;
        int lo = (qs[32 * n + l] >> (2 * s)) & 3;
        int hb = (hmask[i % 32] >> (i / 32)) & 1;
        int low = j < 8 ? sc[j] & 0xF : sc[j - 8] >> 4;
        int high = (sc[8 + j % 4] >> (2 * (j / 4))) & 3;
        float dl = d * (float)((low | high << 4) - 32);
        y[i] = dl * (float)(lo - (hb ? 0 : 4));
    }
}

static void q4_k(const uint8_t *b, float *y) {
    float d = f16_at(b), dmin = f16_at(b + 2);
    const uint8_t *qs = b + 16;
    uint8_t sc[8], m[8];
    k4_scales(b + 4, sc, m);
    for (int i = 0; i < 256; i++) {
        int sub = i / 32, c = i / 64, l = i % 32;
        int q = sub % 2 == 0 ? qs[32 * c + l] & 0xF : qs[32 * c + l] >> 4;
        float d1 = d * (float)sc[sub], m1 = dmin * (float)m[sub];
        y[i] = d1 * (float)q - m1;
    }
}

static void q5_k(const uint8_t *b, float *y) {
    float d = f16_at(b), dmin = f16_at(b + 2);
    const uint8_t *qh = b + 16, *qs = b + 48;
    uint8_t sc[8], m[8];
    k4_scales(b + 4, sc, m);
    for (int i = 0; i < 256; i++) {
        int sub = i / 32, c = i / 64, l = i % 32;
        int low = sub % 2 == 0 ? qs[32 * c + l] & 0xF : qs[32 * c + l] >> 4;
        int high = (qh[l] >> sub) & 1;
        float d1 = d * (float)sc[sub], m1 = dmin * (float)m[sub];
        y[i] = d1 * (float)(low | high << 4) - m1;
    }
}

static void q6_k(const uint8_t *b, float *y) {
    const uint8_t *ql = b, *qh = b + 128;
    const int8_t *scales = (const int8_t *)(b + 192);
    float d = f16_at(b + 208);
    for (int i = 0; i < 256; i++) {
        int n = i / 128, e = i % 128, quarter = e / 32, l = e % 32;
        const uint8_t *lq = ql + 64 * n, *hq = qh + 32 * n;
        int low = quarter == 0 ? lq[l] & 0xF : quarter == 1 ? lq[l + 32] & 0xF : quarter == 2 ? lq[l] >> 4 : lq[l + 32] >> 4;
        int high = (hq[l] >> (2 * quarter)) & 3;
        float dl = d * (float)scales[i / 16];
        y[i] = dl * (float)((low | high << 4) - 32);
    }
}

static void iq4_xs(const uint8_t *b, float *y) {
    float d = f16_at(b);
    uint16_t scales_h = (uint16_t)(b[2] | (b[3] << 8));
    const uint8_t *scales_l = b + 4, *qs = b + 8;
    for (int ib = 0; ib < 8; ib++) {
        int low = (scales_l[ib / 2] >> (4 * (ib % 2))) & 0xF, high = (scales_h >> (2 * ib)) & 3;
        float dl = d * (float)((low | high << 4) - 32);
        for (int j = 0; j < 16; j++) {
            y[32 * ib + j] = dl * (float)iq4_values[qs[16 * ib + j] & 0xF];
            y[32 * ib + 16 + j] = dl * (float)iq4_values[qs[16 * ib + j] >> 4];
        }
    }
}

void glm_dequantize(const void *src, int32_t dtype, int64_t count, float *out) {
    void (*block)(const uint8_t *, float *);
    switch (dtype) {
    case GLM_DTYPE_Q4_0: block = q4_0; break;
    case GLM_DTYPE_Q4_1: block = q4_1; break;
    case GLM_DTYPE_Q5_0: block = q5_0; break;
    case GLM_DTYPE_Q5_1: block = q5_1; break;
    case GLM_DTYPE_Q8_0: block = q8_0; break;
    case GLM_DTYPE_IQ4_NL: block = iq4_nl; break;
    case GLM_DTYPE_Q2_K: block = q2_k; break;
    case GLM_DTYPE_Q3_K: block = q3_k; break;
    case GLM_DTYPE_Q4_K: block = q4_k; break;
    case GLM_DTYPE_Q5_K: block = q5_k; break;
    case GLM_DTYPE_Q6_K: block = q6_k; break;
    case GLM_DTYPE_IQ4_XS: block = iq4_xs; break;
    default: glm_convert_to_f32(src, dtype, count, out); return;
    }
    int64_t elements = block_elements(dtype), bytes = block_bytes(dtype);
    const uint8_t *p = src;
    for (int64_t i = 0; i + elements <= count; i += elements, p += bytes) block(p, out + i);
}
