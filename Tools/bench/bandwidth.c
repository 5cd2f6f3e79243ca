// Memory read-bandwidth probe for Tools/bench/run.sh.
//
// Reads a buffer much larger than the last-level cache with the widest loads
// the CPU has (AVX-512 when compiled with -march=native on a CPU that has it,
// otherwise AVX2 / SSE2), eight independent accumulators per thread, on every
// thread (OpenMP), and reports the best of N passes. The number is the ceiling
// a weight-streaming decode step can hope for: decode reads every weight byte
// it needs once per token.
//
// Build: gcc -O3 -march=native -fopenmp -o bandwidth bandwidth.c
// Usage: bandwidth [MiB=2048] [passes=10] [threads=all]
// Output (one "key: value" per line, parsed by run.py):
//   buffer_bytes: ...
//   threads: N
//   read_bandwidth_gbps: X        (best pass, 1 GB = 1e9 bytes, N threads)
//   read_bandwidth_gbps_median: Y
//   read_bandwidth_1thread_gbps: Z (best pass, one thread)
//   kernel: avx512|avx2|sse2

#define _GNU_SOURCE
#include <immintrin.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#if defined(__AVX512F__)
#define KERNEL "avx512"
typedef __m512i vec;
#define VLOAD(p) _mm512_load_si512((const void *)(p))
#define VADD(a, b) _mm512_add_epi64((a), (b))
#define VZERO() _mm512_setzero_si512()
#elif defined(__AVX2__)
#define KERNEL "avx2"
typedef __m256i vec;
#define VLOAD(p) _mm256_load_si256((const __m256i *)(p))
#define VADD(a, b) _mm256_add_epi64((a), (b))
#define VZERO() _mm256_setzero_si256()
#else
#define KERNEL "sse2"
typedef __m128i vec;
#define VLOAD(p) _mm_load_si128((const __m128i *)(p))
#define VADD(a, b) _mm_add_epi64((a), (b))
#define VZERO() _mm_setzero_si128()
#endif

#define VBYTES ((size_t)sizeof(vec))
#define UNROLL 8
#define STEP (VBYTES * UNROLL)

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

// Sum of a [begin, end) slice, 8 independent accumulators so the loads are
// never serialised behind one dependency chain.
static uint64_t read_slice(const uint8_t *begin, const uint8_t *end) {
    vec a0 = VZERO(), a1 = VZERO(), a2 = VZERO(), a3 = VZERO();
    vec a4 = VZERO(), a5 = VZERO(), a6 = VZERO(), a7 = VZERO();
    for (const uint8_t *p = begin; p < end; p += STEP) {
        a0 = VADD(a0, VLOAD(p + 0 * VBYTES));
        a1 = VADD(a1, VLOAD(p + 1 * VBYTES));
        a2 = VADD(a2, VLOAD(p + 2 * VBYTES));
        a3 = VADD(a3, VLOAD(p + 3 * VBYTES));
        a4 = VADD(a4, VLOAD(p + 4 * VBYTES));
        a5 = VADD(a5, VLOAD(p + 5 * VBYTES));
        a6 = VADD(a6, VLOAD(p + 6 * VBYTES));
        a7 = VADD(a7, VLOAD(p + 7 * VBYTES));
    }
    a0 = VADD(VADD(VADD(a0, a1), VADD(a2, a3)), VADD(VADD(a4, a5), VADD(a6, a7)));
    uint64_t lanes[sizeof(vec) / 8];
    memcpy(lanes, &a0, sizeof(vec));
    uint64_t s = 0;
    for (size_t i = 0; i < sizeof(vec) / 8; i++) s += lanes[i];
    return s;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

// One timed pass over the whole buffer with `nthreads` threads; returns GB/s.
static double pass(const uint8_t *buf, size_t bytes, int nthreads, volatile uint64_t *sink) {
    size_t chunks = bytes / STEP;
    uint64_t total = 0;
    double t0 = now_s();
#pragma omp parallel num_threads(nthreads) reduction(+ : total)
    {
        int t = omp_get_thread_num(), n = omp_get_num_threads();
        size_t c0 = chunks * (size_t)t / (size_t)n, c1 = chunks * (size_t)(t + 1) / (size_t)n;
        total += read_slice(buf + c0 * STEP, buf + c1 * STEP);
    }
    double dt = now_s() - t0;
    *sink += total;
    return (double)(chunks * STEP) / dt / 1e9;
}

int main(int argc, char **argv) {
    size_t mib = argc > 1 ? strtoull(argv[1], NULL, 10) : 2048;
    int passes = argc > 2 ? atoi(argv[2]) : 10;
    int nthreads = argc > 3 ? atoi(argv[3]) : omp_get_max_threads();
    if (mib < 64) mib = 64;
    if (passes < 1) passes = 1;
    if (nthreads < 1) nthreads = 1;

    size_t bytes = mib << 20;
    bytes -= bytes % STEP;
    uint8_t *buf = NULL;
    if (posix_memalign((void **)&buf, 2 << 20, bytes) != 0) {
        fprintf(stderr, "bandwidth: cannot allocate %zu bytes\n", bytes);
        return 1;
    }
#ifdef MADV_HUGEPAGE
    madvise(buf, bytes, MADV_HUGEPAGE);  // fewer TLB misses while streaming (THP "madvise" mode)
#endif
    // First touch from the threads that will read it (NUMA placement), with a
    // non-constant pattern so nothing can be folded away.
#pragma omp parallel for num_threads(nthreads) schedule(static)
    for (size_t i = 0; i < bytes / 8; i++) ((uint64_t *)buf)[i] = i * 0x9E3779B97F4A7C15ull;

    volatile uint64_t sink = 0;
    double *gbps = calloc((size_t)passes, sizeof(double));
    pass(buf, bytes, nthreads, &sink);  // warm-up (page tables, TLB, frequency)
    for (int i = 0; i < passes; i++) gbps[i] = pass(buf, bytes, nthreads, &sink);
    qsort(gbps, (size_t)passes, sizeof(double), cmp_double);
    double best = gbps[passes - 1], median = gbps[passes / 2];

    double best1 = 0;
    if (nthreads > 1) {
        for (int i = 0; i < (passes + 1) / 2; i++) {
            double g = pass(buf, bytes, 1, &sink);
            if (g > best1) best1 = g;
        }
    } else {
        best1 = best;
    }

    printf("buffer_bytes: %zu\n", bytes);
    printf("threads: %d\n", nthreads);
    printf("passes: %d\n", passes);
    printf("kernel: %s\n", KERNEL);
    printf("read_bandwidth_gbps: %.2f\n", best);
    printf("read_bandwidth_gbps_median: %.2f\n", median);
    printf("read_bandwidth_1thread_gbps: %.2f\n", best1);
    printf("checksum: %llu\n", (unsigned long long)sink);
    free(gbps);
    free(buf);
    return 0;
}
