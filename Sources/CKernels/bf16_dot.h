// bf16 × bf16 products with f32 sums (AVX512-BF16's vdpbf16ps), for bf16 and FP8 weights when
// the caller asks for bf16 activations (GLM_PRECISION_BF16). Not part of the public header:
// matmul.c drives them. Activations are rounded to bf16 once per product, as llama.cpp's BF16
// path and SGLang's `--dtype bfloat16` do; FP8 weights widen to bf16 exactly; sums stay f32.
#ifndef GLM_BF16_DOT_H
#define GLM_BF16_DOT_H

#include "CKernels.h"
#include <stdint.h>

/// Whether this CPU has vdpbf16ps on 512-bit vectors (AVX512-BF16 with AVX512-BW).
int bf16_dot_cpu(void);

/// Whether `w` takes these kernels on this CPU: bf16 weights, or FP8 E4M3 weights (widened with
/// vpermi2b, so AVX512-VBMI too) with no scales, per-row scales or blocks a multiple of 64 wide.
int bf16_dot_takes(const glm_matrix *w);

/// x [tokens, ldx] rounded to bf16 rows of `cols` values, row stride `cols` (gemv regime); this
/// and `bf16_pack_transposed` return an `activation_buffer`.
uint16_t *bf16_round_rows(const float *x, int64_t tokens, int64_t ldx, int64_t cols);

/// Xᵀ in 16-token vectors of column pairs: [ceil(tokens/16)][ceil(cols/2)][16][2] bf16,
/// zero-padded past the last token and column (gemm regime).
uint16_t *bf16_pack_transposed(const float *x, int64_t tokens, int64_t ldx, int64_t cols);

/// y[t, r] = Σ_c W[r, c]·xb[t, c] (+ bias[r]) for rows r0..<r1 and t < tokens ≤ 16, W one
/// that `bf16_dot_takes` and xb from `bf16_round_rows`.
void bf16_gemv_rows(const glm_matrix *w, const uint16_t *xb, int64_t tokens, float *y, int64_t ldy,
                    const float *bias, int64_t r0, int64_t r1);

/// The same for `rows` rows from r0 against every token of `xt` (from `bf16_pack_transposed`),
/// any number of tokens; `scratch` holds rows × (cols + 33) bf16 values.
void bf16_gemm_panel(const glm_matrix *w, const uint16_t *xt, int64_t tokens, float *y, int64_t ldy,
                     const float *bias, int64_t r0, int64_t rows, uint16_t *scratch);

#endif
