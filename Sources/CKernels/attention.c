// Causal attention over a paged KV cache. Scores are computed into a per-thread buffer, softmax
// in f32 (max-subtracted, as torch does), then the value rows are summed with the probabilities.
// With AVX2, one task per (run of a sequence's tokens, KV head); portable C, one per (token, head).
#include "CKernels.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

// Per-thread buffers that grow as needed and live as long as the thread.
static _Thread_local float *scores = NULL;
static _Thread_local const float **cache_rows = NULL;
static _Thread_local int64_t scores_capacity = 0, cache_rows_capacity = 0;

static void *grown(void *buffer, int64_t *capacity, int64_t n, size_t size) {
    if (n <= *capacity) return buffer;
    free(buffer);
    *capacity = n;
    return malloc((size_t)n * size);
}

static float *score_buffer(int64_t n) { return scores = grown(scores, &scores_capacity, n, sizeof(float)); }

typedef struct {
    const float *q;
    float *out;
    int64_t tokens, heads, kv_heads, dim, block_size;
    const float *k_cache, *v_cache;
    const int32_t *block_table;
    const int64_t *table_offset, *context;
    float scale;
} attention_job;

static inline const float *cache_row(const attention_job *job, const float *cache, int64_t t, int64_t pos, int64_t kvh) {
    int32_t block = job->block_table[job->table_offset[t] + pos / job->block_size];
    return cache + ((((int64_t)block * job->block_size + pos % job->block_size) * job->kv_heads + kvh) * job->dim);
}

#if defined(__x86_64__)
/// Where each of positions 0..<n of token t's sequence keeps KV head kvh, in `cache`: walked
/// block by block, so the inner loops of run_avx2 index an array instead of dividing by the
/// block size for every key and column block (Q4_K_M bench checkpoint, 2 Zen 4 threads:
/// decode at depth 512 went from 25–31 to 33–36 tok/s).
static void cache_rows_of(const attention_job *job, const float *cache, int64_t t, int64_t n, int64_t kvh,
                          const float **rows) {
    int64_t stride = job->kv_heads * job->dim;
    for (int64_t j0 = 0; j0 < n; j0 += job->block_size) {
        const float *first = cache_row(job, cache, t, j0, kvh);
        int64_t end = j0 + job->block_size < n ? j0 + job->block_size : n;
        for (int64_t j = j0; j < end; j++) rows[j] = first + (j - j0) * stride;
    }
}
#endif

static void softmax_inplace(float *s, int64_t n) {
    float max = -INFINITY;
    for (int64_t j = 0; j < n; j++) if (s[j] > max) max = s[j];
    float sum = 0;
    for (int64_t j = 0; j < n; j++) { s[j] = expf(s[j] - max); sum += s[j]; }
    float inv = 1.0f / sum;
    for (int64_t j = 0; j < n; j++) s[j] *= inv;
}

static void head_portable(const attention_job *job, int64_t t, int64_t h) {
    int64_t n = job->context[t], d = job->dim, kvh = h / (job->heads / job->kv_heads);
    const float *q = job->q + (t * job->heads + h) * d;
    float *out = job->out + (t * job->heads + h) * d;
    float *s = score_buffer(n);
    for (int64_t j = 0; j < n; j++) {
        const float *k = cache_row(job, job->k_cache, t, j, kvh);
        float acc = 0;
        for (int64_t i = 0; i < d; i++) acc += q[i] * k[i];
        s[j] = acc * job->scale;
    }
    softmax_inplace(s, n);
    for (int64_t i = 0; i < d; i++) out[i] = 0;
    for (int64_t j = 0; j < n; j++) {
        const float *v = cache_row(job, job->v_cache, t, j, kvh);
        for (int64_t i = 0; i < d; i++) out[i] += s[j] * v[i];
    }
}

#if defined(__x86_64__)
#define INLINE_AVX2 static inline __attribute__((always_inline, target("avx2,fma")))

// Several query rows at once: all heads that share a KV head, for up to RUN_TOKENS consecutive
// tokens of one sequence (a prefill chunk, or one decode token). Their keys and values are read
// once per task instead of once per (token, head), which at long contexts (MBs of f32 cache per
// KV head, beyond L2) was the cost. Each row's arithmetic is the same whatever rows share its
// task, so a token's result does not depend on what it is batched with.
// MAX_GROUP: query heads per KV head the run kernel takes (GLM-4.5: 12); more go portable.
enum { RUN_TOKENS = 4, KEY_BLOCK = 256, MAX_GROUP = 64 };

/// Eight dot products, one per accumulator, into the lanes of one vector (the same reduction
/// tree for every lane).
INLINE_AVX2 __m256 sum8x8(const __m256 a[8]) {
    __m256 h01 = _mm256_hadd_ps(a[0], a[1]), h23 = _mm256_hadd_ps(a[2], a[3]);
    __m256 h45 = _mm256_hadd_ps(a[4], a[5]), h67 = _mm256_hadd_ps(a[6], a[7]);
    __m256 lo = _mm256_hadd_ps(h01, h23), hi = _mm256_hadd_ps(h45, h67);
    return _mm256_add_ps(_mm256_permute2f128_ps(lo, hi, 0x20), _mm256_permute2f128_ps(lo, hi, 0x31));
}

/// Tokens t0..<t0+nt (one sequence, contexts increasing by one) × the heads of KV head kvh.
/// Row r is token t0 + r / G, head kvh·G + r % G. Needs dim % 16 == 0.
__attribute__((target("avx2,fma")))
static void run_avx2(const attention_job *job, int64_t t0, int64_t nt, int64_t kvh) {
    int64_t G = job->heads / job->kv_heads, d = job->dim, rows = nt * G, n = job->context[t0 + nt - 1];
    float *s = score_buffer(rows * n);  // [rows][n]
    cache_rows = grown((void *)cache_rows, &cache_rows_capacity, 2 * n, sizeof(const float *));
    const float **keys = cache_rows, **values = cache_rows + n;  // [n] each
    cache_rows_of(job, job->k_cache, t0, n, kvh, keys);
    cache_rows_of(job, job->v_cache, t0, n, kvh, values);
    const float *q[RUN_TOKENS * MAX_GROUP];
    float *out[RUN_TOKENS * MAX_GROUP];
    for (int64_t r = 0; r < rows; r++) {
        int64_t offset = ((t0 + r / G) * job->heads + kvh * G + r % G) * d;
        q[r] = job->q + offset;
        out[r] = job->out + offset;
    }
    // Scores, eight rows against each key of a block (the block stays in L2 across row groups).
    for (int64_t j0 = 0; j0 < n; j0 += KEY_BLOCK) {
        int64_t j1 = j0 + KEY_BLOCK < n ? j0 + KEY_BLOCK : n;
        for (int64_t r0 = 0; r0 < rows; r0 += 8) {
            int nr = rows - r0 < 8 ? (int)(rows - r0) : 8;
            const float *qr[8];
            for (int r = 0; r < 8; r++) qr[r] = q[r0 + (r < nr ? r : 0)];
            for (int64_t j = j0; j < j1; j++) {
                const float *k = keys[j];
                __m256 a[8];
                for (int r = 0; r < 8; r++) a[r] = _mm256_setzero_ps();
                for (int64_t i = 0; i < d; i += 8) {
                    __m256 kv = _mm256_loadu_ps(k + i);
                    for (int r = 0; r < 8; r++) a[r] = _mm256_fmadd_ps(_mm256_loadu_ps(qr[r] + i), kv, a[r]);
                }
                float dots[8];
                _mm256_storeu_ps(dots, _mm256_mul_ps(sum8x8(a), _mm256_set1_ps(job->scale)));
                for (int r = 0; r < nr; r++) s[(r0 + r) * n + j] = dots[r];
            }
        }
    }
    // Softmax over each row's own (causal) context; later keys weigh zero.
    for (int64_t r = 0; r < rows; r++) {
        int64_t c = job->context[t0 + r / G];
        softmax_inplace(s + r * n, c);
        for (int64_t j = c; j < n; j++) s[r * n + j] = 0;
    }
    // Values: four rows × sixteen columns in registers, keys in order (block by block).
    for (int64_t r = 0; r < rows; r++) memset(out[r], 0, (size_t)d * sizeof(float));
    for (int64_t j0 = 0; j0 < n; j0 += KEY_BLOCK) {
        int64_t j1 = j0 + KEY_BLOCK < n ? j0 + KEY_BLOCK : n;
        for (int64_t r0 = 0; r0 < rows; r0 += 4) {
            int nr = rows - r0 < 4 ? (int)(rows - r0) : 4;
            for (int64_t i = 0; i < d; i += 16) {
                __m256 a[4][2];
                for (int r = 0; r < 4; r++) {
                    int64_t rr = r0 + (r < nr ? r : 0);
                    a[r][0] = _mm256_loadu_ps(out[rr] + i);
                    a[r][1] = _mm256_loadu_ps(out[rr] + i + 8);
                }
                for (int64_t j = j0; j < j1; j++) {
                    const float *v = values[j] + i;
                    __m256 v0 = _mm256_loadu_ps(v), v1 = _mm256_loadu_ps(v + 8);
                    for (int r = 0; r < 4; r++) {
                        __m256 p = _mm256_set1_ps(s[(r0 + (r < nr ? r : 0)) * n + j]);
                        a[r][0] = _mm256_fmadd_ps(p, v0, a[r][0]);
                        a[r][1] = _mm256_fmadd_ps(p, v1, a[r][1]);
                    }
                }
                for (int r = 0; r < nr; r++) {
                    _mm256_storeu_ps(out[r0 + r] + i, a[r][0]);
                    _mm256_storeu_ps(out[r0 + r] + i + 8, a[r][1]);
                }
            }
        }
    }
}
#endif

static void attention_task(void *raw, int64_t task, int32_t thread) {
    (void)thread;
    const attention_job *job = raw;
    // KV-head-major order: consecutive tasks share a KV head, so its keys and values stay in cache.
    int64_t tokens = job->tokens, h = task / tokens, t = task % tokens;
    head_portable(job, t, h);
}

#if defined(__x86_64__)
typedef struct {
    const attention_job *job;
    const int64_t *run_start;  // [runs + 1]
    int64_t runs;
} run_job;

static void run_task(void *raw, int64_t task, int32_t thread) {
    (void)thread;
    const run_job *rj = raw;
    int64_t kvh = task / rj->runs, run = task % rj->runs;
    run_avx2(rj->job, rj->run_start[run], rj->run_start[run + 1] - rj->run_start[run], kvh);
}
#endif

void glm_attention(glm_pool *pool, const float *q, float *out, int64_t tokens, int64_t heads,
                   int64_t kv_heads, int64_t dim, const float *k_cache, const float *v_cache,
                   int64_t block_size, const int32_t *block_table, const int64_t *table_offset,
                   const int64_t *context, float scale) {
    attention_job job = {q, out, tokens, heads, kv_heads, dim, block_size, k_cache, v_cache,
                         block_table, table_offset, context, scale};
#if defined(__x86_64__)
    // AVX2 (also on AVX-512 CPUs): runs of up to RUN_TOKENS consecutive tokens of one sequence.
    if (strcmp(glm_kernel_isa(), "portable") != 0 && dim % 16 == 0 && heads / kv_heads <= MAX_GROUP) {
        int64_t *run_start = malloc((size_t)(tokens + 1) * sizeof(int64_t)), runs = 0;
        for (int64_t t = 0; t < tokens; t++) {
            int continues = t > 0 && t - run_start[runs - 1] < RUN_TOKENS && table_offset[t] == table_offset[t - 1] &&
                            context[t] == context[t - 1] + 1;
            if (!continues) run_start[runs++] = t;
        }
        run_start[runs] = tokens;
        run_job rj = {&job, run_start, runs};
        glm_pool_run(pool, runs * kv_heads, run_task, &rj);
        free(run_start);
        return;
    }
#endif
    glm_pool_run(pool, tokens * heads, attention_task, &job);
}
