// Causal attention over a paged KV cache, one task per (query head, token), with AVX-512 or
// AVX2 where the CPU has them.
// Scores are computed into a per-thread buffer, softmax in f32 (max-subtracted, as torch does),
// then the value rows are summed with the probabilities.
#include "CKernels.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

static _Thread_local float *scores = NULL;
static _Thread_local int64_t scores_capacity = 0;

static float *score_buffer(int64_t n) {
    if (n > scores_capacity) {
        free(scores);
        scores = malloc((size_t)n * sizeof(float));
        scores_capacity = n;
    }
    return scores;
}

typedef struct {
    const float *q;
    float *out;
    int64_t tokens, heads, kv_heads, dim, block_size;
    const float *k_cache, *v_cache;
    const int32_t *block_table;
    const int64_t *table_offset, *context;
    float scale;
    int avx512, avx2;
} attention_job;

static inline const float *cache_row(const attention_job *job, const float *cache, int64_t t, int64_t pos, int64_t kvh) {
    int32_t block = job->block_table[job->table_offset[t] + pos / job->block_size];
    return cache + ((((int64_t)block * job->block_size + pos % job->block_size) * job->kv_heads + kvh) * job->dim);
}

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
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma")))
static void head_avx512(const attention_job *job, int64_t t, int64_t h) {
    int64_t n = job->context[t], d = job->dim, kvh = h / (job->heads / job->kv_heads);
    const float *q = job->q + (t * job->heads + h) * d;
    float *out = job->out + (t * job->heads + h) * d;
    float *s = score_buffer(n);
    for (int64_t j = 0; j < n; j++) {
        const float *k = cache_row(job, job->k_cache, t, j, kvh);
        __m512 acc = _mm512_setzero_ps(), acc2 = _mm512_setzero_ps();
        int64_t i = 0;
        for (; i + 32 <= d; i += 32) {
            acc = _mm512_fmadd_ps(_mm512_loadu_ps(q + i), _mm512_loadu_ps(k + i), acc);
            acc2 = _mm512_fmadd_ps(_mm512_loadu_ps(q + i + 16), _mm512_loadu_ps(k + i + 16), acc2);
        }
        for (; i < d; i += 16) {
            __mmask16 m = d - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (d - i)) - 1);
            acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, q + i), _mm512_maskz_loadu_ps(m, k + i), acc);
        }
        s[j] = _mm512_reduce_add_ps(_mm512_add_ps(acc, acc2)) * job->scale;
    }
    softmax_inplace(s, n);
    if (d == 128) {
        // GLM's head size: eight accumulators in registers, one pass over the values.
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (int64_t j = 0; j < n; j++) {
            const float *v = cache_row(job, job->v_cache, t, j, kvh);
            __m512 p = _mm512_set1_ps(s[j]);
            a0 = _mm512_fmadd_ps(p, _mm512_loadu_ps(v), a0);
            a1 = _mm512_fmadd_ps(p, _mm512_loadu_ps(v + 16), a1);
            a2 = _mm512_fmadd_ps(p, _mm512_loadu_ps(v + 32), a2);
            a3 = _mm512_fmadd_ps(p, _mm512_loadu_ps(v + 48), a3);
            a4 = _mm512_fmadd_ps(p, _mm512_loadu_ps(v + 64), a4);
            a5 = _mm512_fmadd_ps(p, _mm512_loadu_ps(v + 80), a5);
            a6 = _mm512_fmadd_ps(p, _mm512_loadu_ps(v + 96), a6);
            a7 = _mm512_fmadd_ps(p, _mm512_loadu_ps(v + 112), a7);
        }
        _mm512_storeu_ps(out, a0); _mm512_storeu_ps(out + 16, a1);
        _mm512_storeu_ps(out + 32, a2); _mm512_storeu_ps(out + 48, a3);
        _mm512_storeu_ps(out + 64, a4); _mm512_storeu_ps(out + 80, a5);
        _mm512_storeu_ps(out + 96, a6); _mm512_storeu_ps(out + 112, a7);
        return;
    }
    for (int64_t i = 0; i < d; i += 16) {
        __mmask16 m = d - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (d - i)) - 1);
        __m512 acc = _mm512_setzero_ps();
        for (int64_t j = 0; j < n; j++) {
            const float *v = cache_row(job, job->v_cache, t, j, kvh);
            acc = _mm512_fmadd_ps(_mm512_set1_ps(s[j]), _mm512_maskz_loadu_ps(m, v + i), acc);
        }
        _mm512_mask_storeu_ps(out + i, m, acc);
    }
}

#define INLINE_AVX2 static inline __attribute__((always_inline, target("avx2,fma")))

/// out[0..<8·nc] = Σ_j p_j · v_j[i0 ..< i0 + 8·nc], with the nc accumulators in registers.
INLINE_AVX2 void weighted_values_avx2(const attention_job *job, int64_t t, int64_t kvh, const float *p, int64_t n,
                                      int64_t i0, int nc, float *out) {
    __m256 acc[8];
    for (int c = 0; c < nc; c++) acc[c] = _mm256_setzero_ps();
    for (int64_t j = 0; j < n; j++) {
        const float *v = cache_row(job, job->v_cache, t, j, kvh) + i0;
        __m256 pj = _mm256_set1_ps(p[j]);
        for (int c = 0; c < nc; c++) acc[c] = _mm256_fmadd_ps(pj, _mm256_loadu_ps(v + 8 * c), acc[c]);
    }
    for (int c = 0; c < nc; c++) _mm256_storeu_ps(out + 8 * c, acc[c]);
}

/// Head sizes that are a multiple of 8 (GLM's 128, the demo's 64); others take the portable path.
__attribute__((target("avx2,fma")))
static void head_avx2(const attention_job *job, int64_t t, int64_t h) {
    int64_t n = job->context[t], d = job->dim, kvh = h / (job->heads / job->kv_heads);
    const float *q = job->q + (t * job->heads + h) * d;
    float *out = job->out + (t * job->heads + h) * d;
    float *s = score_buffer(n);
    for (int64_t j = 0; j < n; j++) {
        const float *k = cache_row(job, job->k_cache, t, j, kvh);
        __m256 acc = _mm256_setzero_ps(), acc2 = _mm256_setzero_ps();
        int64_t i = 0;
        for (; i + 16 <= d; i += 16) {
            acc = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), _mm256_loadu_ps(k + i), acc);
            acc2 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 8), _mm256_loadu_ps(k + i + 8), acc2);
        }
        if (i < d) acc = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), _mm256_loadu_ps(k + i), acc);
        acc = _mm256_add_ps(acc, acc2);
        __m128 r = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
        r = _mm_add_ps(r, _mm_movehl_ps(r, r));
        r = _mm_add_ss(r, _mm_movehdup_ps(r));
        s[j] = _mm_cvtss_f32(r) * job->scale;
    }
    softmax_inplace(s, n);
    for (int64_t i0 = 0; i0 < d; i0 += 64) {
        switch ((d - i0) / 8 < 8 ? (int)((d - i0) / 8) : 8) {
        case 1: weighted_values_avx2(job, t, kvh, s, n, i0, 1, out + i0); break;
        case 2: weighted_values_avx2(job, t, kvh, s, n, i0, 2, out + i0); break;
        case 3: weighted_values_avx2(job, t, kvh, s, n, i0, 3, out + i0); break;
        case 4: weighted_values_avx2(job, t, kvh, s, n, i0, 4, out + i0); break;
        case 5: weighted_values_avx2(job, t, kvh, s, n, i0, 5, out + i0); break;
        case 6: weighted_values_avx2(job, t, kvh, s, n, i0, 6, out + i0); break;
        case 7: weighted_values_avx2(job, t, kvh, s, n, i0, 7, out + i0); break;
        default: weighted_values_avx2(job, t, kvh, s, n, i0, 8, out + i0); break;
        }
    }
}
#endif

static void attention_task(void *raw, int64_t task, int32_t thread) {
    (void)thread;
    const attention_job *job = raw;
    // Head-major order: consecutive tasks share a KV head, so its keys and values stay in L2.
    int64_t tokens = job->tokens, h = task / tokens, t = task % tokens;
#if defined(__x86_64__)
    if (job->avx512) { head_avx512(job, t, h); return; }
    if (job->avx2 && job->dim % 8 == 0) { head_avx2(job, t, h); return; }
#endif
    head_portable(job, t, h);
}

void glm_attention(glm_pool *pool, const float *q, float *out, int64_t tokens, int64_t heads,
                   int64_t kv_heads, int64_t dim, const float *k_cache, const float *v_cache,
                   int64_t block_size, const int32_t *block_table, const int64_t *table_offset,
                   const int64_t *context, float scale) {
    attention_job job = {q, out, tokens, heads, kv_heads, dim, block_size, k_cache, v_cache,
                         block_table, table_offset, context, scale,
                         strcmp(glm_kernel_isa(), "avx512") == 0, strcmp(glm_kernel_isa(), "avx2") == 0};
    glm_pool_run(pool, tokens * heads, attention_task, &job);
}
