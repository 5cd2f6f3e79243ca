// Weight-streaming rate of glm_matmul per stored type, against the machine's read bandwidth:
// the kernel side of BENCHMARKS.md §5 without a model. Each type gets a set of [rows, cols]
// matrices totalling `mib` MiB (far beyond the caches), multiplied in turn by `tokens` tokens,
// so every product streams its weights from memory as a decode step does.
//
// Build (from the repository root; clang as SwiftPM compiles CKernels, per-function ISA targets):
//   clang -O2 -I Sources/CKernels/include -o /tmp/kernel_rate Tools/bench/kernel_rate.c \
//         Sources/CKernels/matmul.c Sources/CKernels/quant_dot.c Sources/CKernels/dequantize.c \
//         Sources/CKernels/pool.c Sources/CKernels/bf16_dot.c -lpthread -lm
// Usage: kernel_rate [threads=2] [tokens=1] [rows=1408] [cols=2048] [mib=1024] [types=all]
// (bf16dot, fp8dot: bf16 and 128-block FP8 weights with GLM_PRECISION_BF16, the vdpbf16ps path
// where the CPU has it)
// Block data are random bytes with their f16 scale fields set to 2^-7, so every code pattern
// occurs and no value is a NaN, an infinity or a subnormal.

#include "CKernels.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

typedef struct { const char *name; int32_t dtype; int elements, bytes; int scale_at[2]; int32_t precision; } type_info;

static const type_info types[] = {
    {"bf16", GLM_DTYPE_BF16, 1, 2, {-1, -1}},     {"bf16dot", GLM_DTYPE_BF16, 1, 2, {-1, -1}, GLM_PRECISION_BF16},
    {"fp8", GLM_DTYPE_F8E4M3, 1, 1, {-1, -1}},    {"fp8dot", GLM_DTYPE_F8E4M3, 1, 1, {-1, -1}, GLM_PRECISION_BF16},
    {"q8_0", GLM_DTYPE_Q8_0, 32, 34, {0, -1}},    {"q4_0", GLM_DTYPE_Q4_0, 32, 18, {0, -1}},
    {"q5_0", GLM_DTYPE_Q5_0, 32, 22, {0, -1}},    {"q4_k", GLM_DTYPE_Q4_K, 256, 144, {0, 2}},
    {"q5_k", GLM_DTYPE_Q5_K, 256, 176, {0, 2}},   {"q6_k", GLM_DTYPE_Q6_K, 256, 210, {208, -1}},
    {"q3_k", GLM_DTYPE_Q3_K, 256, 110, {108, -1}}, {"q2_k", GLM_DTYPE_Q2_K, 256, 84, {80, 82}},
    {"iq4_xs", GLM_DTYPE_IQ4_XS, 256, 136, {0, -1}},
};

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static uint8_t next_byte(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (uint8_t)(rng >> 24);
}

static void fill(const type_info *t, uint8_t *data, size_t size) {
    for (size_t i = 0; i < size; i++) data[i] = next_byte();
    if (t->dtype == GLM_DTYPE_BF16) {
        for (size_t i = 1; i < size; i += 2) data[i] = 0x3c + (data[i] & 1);  // |v| around 0.01
    } else if (t->dtype == GLM_DTYPE_F8E4M3) {
        for (size_t i = 0; i < size; i++) if ((data[i] & 0x7f) == 0x7f) data[i] ^= 1;  // no NaN
    } else {
        for (size_t b = 0; b + t->bytes <= size; b += t->bytes)
            for (int s = 0; s < 2; s++)
                if (t->scale_at[s] >= 0) data[b + t->scale_at[s]] = 0x00, data[b + t->scale_at[s] + 1] = 0x20;
    }
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 2;
    int64_t tokens = argc > 2 ? atol(argv[2]) : 1;
    int64_t rows = argc > 3 ? atol(argv[3]) : 1408, cols = argc > 4 ? atol(argv[4]) : 2048;
    double mib = argc > 5 ? atof(argv[5]) : 1024;
    const char *only = argc > 6 ? argv[6] : "all";
    glm_pool *pool = glm_pool_create(threads);
    float *x = malloc((size_t)(tokens * cols) * 4), *y = malloc((size_t)(tokens * rows) * 4);
    for (int64_t i = 0; i < tokens * cols; i++) x[i] = (float)((i * 37) % 101 - 50) * 0.01f;
    printf("kernel %s, %d threads, %lld tokens, [%lld, %lld] matrices, %.0f MiB per type\n", glm_kernel_isa(), threads,
           (long long)tokens, (long long)rows, (long long)cols, mib);
    for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
        const type_info *t = &types[k];
        if (strcmp(only, "all") != 0 && !strstr(only, t->name)) continue;
        size_t matrix_bytes = (size_t)(rows * (cols / t->elements) * t->bytes);
        int count = (int)(mib * 1048576 / matrix_bytes) + 1;
        uint8_t *data = aligned_alloc(64, ((matrix_bytes * count + 63) / 64) * 64);
        fill(t, data, matrix_bytes * count);
        float *block_scale = NULL;
        int64_t block = 0;
        if (t->dtype == GLM_DTYPE_F8E4M3) {
            block = 128;
            size_t scales = (size_t)(((rows + 127) / 128) * ((cols + 127) / 128));
            block_scale = malloc(scales * 4);
            for (size_t i = 0; i < scales; i++) block_scale[i] = 0.01f;
        }
        double best = 1e30;
        for (int pass = 0; pass < 4; pass++) {
            double t0 = now();
            for (int m = 0; m < count; m++) {
                glm_matrix w = {data + matrix_bytes * m, t->dtype, rows, cols, NULL, block_scale, block};
                glm_matmul_item item = {&w, x, tokens, cols, y, rows, NULL, t->precision};
                glm_matmul_batch(pool, &item, 1);
            }
            double dt = (now() - t0) / count;
            if (pass > 0 && dt < best) best = dt;
        }
        printf("%-7s %8.1f us per matrix  %6.1f GB/s of weights  %7.1f Gmac/s\n", t->name, best * 1e6,
               matrix_bytes / best * 1e-9, (double)rows * cols * tokens / best * 1e-9);
        free(data);
        free(block_scale);
    }
    return 0;
}
