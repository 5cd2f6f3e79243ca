// Integer dot products between ggml block-format weight rows and int8 activations (the gemv
// regime of block-format products). Not part of the public header: matmul.c drives them.
#ifndef GLM_QUANT_DOT_H
#define GLM_QUANT_DOT_H

#include <stdint.h>

/// One activation row quantised to int8 per `block` elements (32 for the 32-weight formats, as
/// llama.cpp's Q8_0; 256 for the super-block formats, as its Q8_K), with f32 scales:
/// x[i] ≈ d[i / block] · qs[i]. `sum16[k]` is the sum of codes 16k..16k+15, which the weight
/// formats with an offset or a minimum need (w = A·c − B gives Σ w·x = A·Σ c·q − B·Σ q).
typedef struct {
    const int8_t *qs;      // [n]
    const float *d;        // [n / block]
    const int16_t *sum16;  // [n / 16]
    int64_t block;
} glm_q8_row;

/// Bytes `glm_quantize_q8` needs for a row of n elements (a multiple of 32).
int64_t glm_q8_row_bytes(int64_t n);
/// Quantises x[0..<n] (n a multiple of `block`, 32 or 256) into `buffer` (glm_q8_row_bytes(n)
/// bytes, 32-byte aligned). `isa` as for `glm_qdot`; every path gives the same bytes for finite x.
glm_q8_row glm_quantize_q8(const float *x, int64_t n, int64_t block, int isa, void *buffer);

/// Tokens one `glm_qdot` call takes.
enum { GLM_QDOT_TOKENS = 8 };

/// out[t] = Σ_i w[i]·x[t][i] for t < nt ≤ GLM_QDOT_TOKENS, over one weight row of n elements
/// in block format `dtype` against quantised activation rows; each weight block is unpacked
/// once for all nt tokens. `isa`: 0 portable, 1 AVX2, 2 AVX2 with 256-bit VNNI (vpdpbusd).
void glm_qdot(int32_t dtype, const void *row, const glm_q8_row *x, int nt, int64_t n, int isa, float *out);

#endif
