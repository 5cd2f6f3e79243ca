// Pieces of ggml's block formats (../shared/spec/gguf.md §4) shared by the dequantiser, the
// int8 dot products and the matrix products: sizes, the f16 decoder, the IQ4 values, the K
// formats' 6-bit scales.
#ifndef GLM_BLOCK_FORMATS_H
#define GLM_BLOCK_FORMATS_H

#include "CKernels.h"
#include <stdint.h>
#include <string.h>

/// Elements per block of a dtype (1 for f32, bf16, f16 and fp8).
static inline int64_t block_elements(int32_t dtype) {
    switch (dtype) {
    case GLM_DTYPE_Q4_0: case GLM_DTYPE_Q4_1: case GLM_DTYPE_Q5_0: case GLM_DTYPE_Q5_1:
    case GLM_DTYPE_Q8_0: case GLM_DTYPE_IQ4_NL: return 32;
    case GLM_DTYPE_Q2_K: case GLM_DTYPE_Q3_K: case GLM_DTYPE_Q4_K: case GLM_DTYPE_Q5_K:
    case GLM_DTYPE_Q6_K: case GLM_DTYPE_IQ4_XS: return 256;
    default: return 1;
    }
}

/// Bytes per block of a dtype (per element for f32, bf16, f16 and fp8).
static inline int64_t block_bytes(int32_t dtype) {
    switch (dtype) {
    case GLM_DTYPE_F32: return 4;
    case GLM_DTYPE_BF16: case GLM_DTYPE_F16: return 2;
    case GLM_DTYPE_F8E4M3: return 1;
    case GLM_DTYPE_Q4_0: case GLM_DTYPE_IQ4_NL: return 18;
    case GLM_DTYPE_Q4_1: return 20;
    case GLM_DTYPE_Q5_0: return 22;
    case GLM_DTYPE_Q5_1: return 24;
    case GLM_DTYPE_Q8_0: return 34;
    case GLM_DTYPE_Q2_K: return 84;
    case GLM_DTYPE_Q3_K: return 110;
    case GLM_DTYPE_Q4_K: return 144;
    case GLM_DTYPE_Q5_K: return 176;
    case GLM_DTYPE_Q6_K: return 210;
    case GLM_DTYPE_IQ4_XS: return 136;
    default: return 0;
    }
}

/// Bytes of `cols` elements (whole blocks) of a dtype.
static inline int64_t row_bytes(int32_t dtype, int64_t cols) { return cols / block_elements(dtype) * block_bytes(dtype); }

/// Dequantises `count` values (whole blocks) of a block format to f32 (dequantize.c).
void glm_dequantize(const void *src, int32_t dtype, int64_t count, float *out);

/// IQ4_NL's and IQ4_XS's 16 non-linear values.
static const int8_t iq4_values[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

/// An f16 bit pattern as f32, exactly (subnormals included).
static inline float f16_bits_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff, bits;
    if (exponent == 0) {
        if (mantissa == 0) bits = sign;
        else {
            exponent = 127 - 15 + 1;
            while (!(mantissa & 0x400)) { mantissa <<= 1; exponent--; }
            bits = sign | (exponent << 23) | ((mantissa & 0x3ff) << 13);
        }
    } else if (exponent == 31) bits = sign | 0x7f800000 | (mantissa << 13);
    else bits = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/// An f16 stored little-endian at p.
static inline float f16_at(const uint8_t *p) { return f16_bits_to_f32((uint16_t)(p[0] | (p[1] << 8))); }

/// A Q4_K / Q5_K super-block's 12 scale bytes → its 8 six-bit scales and 8 six-bit mins, one
/// per sub-block of 32, as the bytes of two words (ggml's unpacking, four sub-blocks per 32-bit
/// word). The SIMD kernels move the words straight into vectors: stored as two halves and
/// loaded as one, they would wait on a failed store-to-load forward every super-block.
static inline void k4_scale_words(const uint8_t *q, uint64_t *scales, uint64_t *mins) {
    uint32_t u[3];
    memcpy(u, q, 12);
    uint32_t s0 = u[0] & 0x3f3f3f3f, s1 = (u[2] & 0x0f0f0f0f) | ((u[0] >> 6 & 0x03030303) << 4);
    uint32_t m0 = u[1] & 0x3f3f3f3f, m1 = (u[2] >> 4 & 0x0f0f0f0f) | ((u[1] >> 6 & 0x03030303) << 4);
    *scales = s0 | (uint64_t)s1 << 32;
    *mins = m0 | (uint64_t)m1 << 32;
}

/// `k4_scale_words` as byte arrays (little-endian), for the scalar code.
static inline void k4_scales(const uint8_t *q, uint8_t scales[8], uint8_t mins[8]) {
    uint64_t s, m;
    k4_scale_words(q, &s, &m);
    memcpy(scales, &s, 8), memcpy(mins, &m, 8);
}

#endif
