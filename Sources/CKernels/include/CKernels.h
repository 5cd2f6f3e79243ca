// Hot CPU loops for swift-glm. Every entry point picks its instruction set at run time
// (AVX-512 or AVX2 where the CPU has them, otherwise portable C), so the package builds without
// CPU-specific compiler flags and still reaches wide vector units.
#ifndef GLM_CKERNELS_H
#define GLM_CKERNELS_H

#include <stdint.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

// MARK: - Thread pool

/// A persistent pool of worker threads. `glm_pool_run` hands out task indices 0..<n to the
/// calling thread and the workers, and returns when all tasks are done.
typedef struct glm_pool glm_pool;
typedef void (*glm_task_fn)(void *context, int64_t task, int32_t thread);

glm_pool *glm_pool_create(int32_t threads);
void glm_pool_destroy(glm_pool *pool);
int32_t glm_pool_threads(const glm_pool *pool);
void glm_pool_run(glm_pool *pool, int64_t tasks, glm_task_fn fn, void *context);

// MARK: - Weights

enum {
    GLM_DTYPE_F32 = 0,
    GLM_DTYPE_BF16 = 1,
    GLM_DTYPE_F16 = 2,
    GLM_DTYPE_F8E4M3 = 3,
    // ggml's block formats (GGUF), ../shared/spec/gguf.md §4: a row is a run of whole blocks.
    GLM_DTYPE_Q4_0 = 10,
    GLM_DTYPE_Q4_1 = 11,
    GLM_DTYPE_Q5_0 = 12,
    GLM_DTYPE_Q5_1 = 13,
    GLM_DTYPE_Q8_0 = 14,
    GLM_DTYPE_Q2_K = 15,
    GLM_DTYPE_Q3_K = 16,
    GLM_DTYPE_Q4_K = 17,
    GLM_DTYPE_Q5_K = 18,
    GLM_DTYPE_Q6_K = 19,
    GLM_DTYPE_IQ4_NL = 20,
    GLM_DTYPE_IQ4_XS = 21,
};


/// A [rows, cols] row-major weight matrix in its stored dtype (rows of whole blocks for the
/// block formats). FP8 weights carry either one
/// scale per row (`row_scale`, [rows]) or one per block (`block_scale`,
/// [ceil(rows/block), ceil(cols/block)]); the dequantised value is fp8 * scale.
typedef struct {
    const void *data;
    int32_t dtype;
    int64_t rows;
    int64_t cols;
    const float *row_scale;
    const float *block_scale;
    int64_t block;
} glm_matrix;

/// y[t, r] = sum_c x[t, c] * W[r, c] (+ bias[r]) for t < tokens, computed in f32.
/// x: [tokens, ldx] with ldx >= cols; y: [tokens, ldy] with ldy >= rows.
void glm_matmul(glm_pool *pool, const glm_matrix *w, const float *x, int64_t tokens, int64_t ldx,
                float *y, int64_t ldy, const float *bias);

/// How a product multiplies. F32: activations stay f32 (the exact path, the default).
/// BF16: for bf16 weights on a CPU with AVX512-BF16 (and FP8 weights where it also has
/// AVX512-VBMI, their scale blocks a multiple of 64 wide), activations are rounded to bf16
/// (nearest even, subnormals to zero) and multiplied with vdpbf16ps, sums in f32; any other
/// weight or CPU takes the f32 path.
enum { GLM_PRECISION_F32 = 0, GLM_PRECISION_BF16 = 1 };

/// One product of a batch: y = x · Wᵀ (+ bias), as in `glm_matmul`.
typedef struct {
    const glm_matrix *w;
    const float *x;
    int64_t tokens;
    int64_t ldx;
    float *y;
    int64_t ldy;
    const float *bias;
    int32_t precision;  // GLM_PRECISION_*
} glm_matmul_item;

/// Several independent products in one pool dispatch (e.g. every chosen expert's gate and up
/// projections), so threads balance across them and synchronise once.
void glm_matmul_batch(glm_pool *pool, const glm_matmul_item *items, int64_t count);

/// Copies row `row` of `w` to f32 (dequantising fp8).
void glm_matrix_row_f32(const glm_matrix *w, int64_t row, float *out);

/// Converts `count` values of a stored dtype to f32 (no fp8 scale; block formats: whole blocks,
/// bit-identical to gguf-py's dequantisation).
void glm_convert_to_f32(const void *src, int32_t dtype, int64_t count, float *out);

// MARK: - Attention over a paged KV cache

/// Causal attention for a batch of query tokens from several sequences.
/// q, out: [tokens, heads, dim]. Caches: [blocks, block_size, kv_heads, dim] f32.
/// For token t, its keys are positions 0..<context[t] of its sequence, whose cache blocks are
/// block_table[table_offset[t] ..]. Query head h reads KV head h / (heads / kv_heads).
void glm_attention(glm_pool *pool, const float *q, float *out, int64_t tokens, int64_t heads,
                   int64_t kv_heads, int64_t dim, const float *k_cache, const float *v_cache,
                   int64_t block_size, const int32_t *block_table, const int64_t *table_offset,
                   const int64_t *context, float scale);

// MARK: - Introspection

/// The instruction set the kernels use on this CPU: "avx512", "avx2" or "portable".
const char *glm_kernel_isa(void);
/// Whether GLM_PRECISION_BF16 takes vdpbf16ps on this CPU (for bf16 weights; FP8 weights also
/// need AVX512-VBMI).
int32_t glm_bf16_dot_available(void);
/// Forces the portable path for products and attention called from this thread (for parity
/// tests); returns the previous setting.
int32_t glm_force_portable(int32_t on);
/// Keeps this thread's calls to AVX2 on a CPU with AVX-512 (for parity tests); returns the
/// previous setting.
int32_t glm_force_avx2(int32_t on);

#ifdef __cplusplus
}
#endif
#endif
