// Compute-side limits for the batching benchmark (BENCHMARKS.md §3), beside bandwidth.c's
// memory side: the CPU's peak f32 FMA rate, and what glm_matmul (Sources/CKernels) reaches on
// the bench checkpoint's matrix shapes at a batch of 16 decode tokens.
//
// Build (from the repository root; clang as SwiftPM compiles CKernels, per-function ISA targets):
//   clang -O2 -I Sources/CKernels/include -o /tmp/compute_limit Tools/bench/compute_limit.c \
//         Sources/CKernels/matmul.c Sources/CKernels/pool.c -lpthread -lm
// Usage: compute_limit [threads=2] [tokens=16]

#include "CKernels.h"
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

enum { FMA_CHAINS = 10 };  // independent accumulators: covers FMA latency × throughput
static const long FMA_STEPS = 200000000L;

// One thread's dependent-chain FMA loop: FMA_CHAINS × 8 lanes × 2 flops per step.
__attribute__((target("avx2,fma"))) static void *fma_loop(void *out) {
    __m256 acc[FMA_CHAINS], b = _mm256_set1_ps(1.0000001f), c = _mm256_set1_ps(1e-7f);
    for (int i = 0; i < FMA_CHAINS; i++) acc[i] = _mm256_set1_ps((float)i);
    for (long n = 0; n < FMA_STEPS / FMA_CHAINS; n++)
        for (int i = 0; i < FMA_CHAINS; i++) acc[i] = _mm256_fmadd_ps(acc[i], b, c);
    float sum = 0;
    for (int i = 0; i < FMA_CHAINS; i++) sum += acc[i][0];
    *(float *)out = sum;  // keeps the loop alive
    return NULL;
}

static double fma_peak(int threads) {
    pthread_t t[64];
    float sink[64];
    double t0 = now();
    for (int i = 0; i < threads; i++) pthread_create(&t[i], NULL, fma_loop, &sink[i]);
    for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
    return threads * (double)FMA_STEPS * 16 / (now() - t0) * 1e-9;
}

static void matmul_rate(glm_pool *pool, const char *name, int64_t rows, int64_t cols, int64_t tokens) {
    uint16_t *w = malloc(rows * cols * 2);
    for (int64_t i = 0; i < rows * cols; i++) w[i] = 0x3c00 + (uint16_t)(i * 7919 % 512);  // bf16 near 0.01
    float *x = malloc(tokens * cols * 4), *y = malloc(tokens * rows * 4);
    for (int64_t i = 0; i < tokens * cols; i++) x[i] = (float)(i % 13) * 0.01f;
    glm_matrix m = {w, GLM_DTYPE_BF16, rows, cols, NULL, NULL, 0};
    glm_matmul(pool, &m, x, tokens, cols, y, rows, NULL);  // warm-up
    int reps = (int)(2e10 / (2.0 * rows * cols * tokens)) + 1;
    double best = 1e30;
    for (int pass = 0; pass < 3; pass++) {
        double t0 = now();
        for (int r = 0; r < reps; r++) glm_matmul(pool, &m, x, tokens, cols, y, rows, NULL);
        double dt = (now() - t0) / reps;
        if (dt < best) best = dt;
    }
    printf("matmul_%s_gflops: %.1f  (%lld x %lld bf16, %lld tokens, %.3f ms)\n", name,
           2.0 * rows * cols * tokens / best * 1e-9, (long long)rows, (long long)cols, (long long)tokens, best * 1e3);
    free(w), free(x), free(y);
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 2;
    int64_t tokens = argc > 2 ? atol(argv[2]) : 16;
    printf("kernel: %s\n", glm_kernel_isa());
    printf("fma_peak_1thread_gflops: %.1f\n", fma_peak(1));
    printf("fma_peak_gflops: %.1f  (%d threads)\n", fma_peak(threads), threads);
    glm_pool *pool = glm_pool_create(threads);
    // The bench checkpoint (hidden 2048, 48 heads x 128, 151552 vocabulary, dense FFN 5632).
    matmul_rate(pool, "q_proj", 6144, 2048, tokens);
    matmul_rate(pool, "o_proj", 2048, 6144, tokens);
    matmul_rate(pool, "dense_up", 5632, 2048, tokens);
    matmul_rate(pool, "lm_head", 151552, 2048, tokens);
    return 0;
}
