// The gemv kernels' software prefetches, once per 64-byte line (`offset`: bytes into the row),
// shared by matmul.c and bf16_dot.c.
#ifndef GLM_PREFETCH_H
#define GLM_PREFETCH_H

#include <stdint.h>
#if defined(__x86_64__)
#include <immintrin.h>

/// One row (gemv1): 256 B ahead into L1 and 2 KiB ahead into L2. Rows are contiguous, so near
/// a row's end these run on into the next row.
static inline void prefetch_row_ahead(const void *row, int64_t offset) {
    if (offset & 63) return;
    _mm_prefetch((const char *)row + offset + 256, _MM_HINT_T0);
    _mm_prefetch((const char *)row + offset + 2048, _MM_HINT_T2);
}

/// A row pair (gemv2): the next pair, rows `row_bytes` apart after r1, into L2 while this pair is
/// read. A bf16 row of 2,048 columns is a whole 4 KiB page, where the hardware prefetchers stop
/// (kernel_rate, 4 tokens, bf16: 14.8 → 25.2 GB/s of weights on 2 Zen 4 threads, BENCHMARKS.md
/// §5). Past the end of the matrix the prefetches are dropped; they never fault.
static inline void prefetch_next_pair(const void *r1, int64_t row_bytes, int64_t offset) {
    if (offset & 63) return;
    _mm_prefetch((const char *)r1 + row_bytes + offset, _MM_HINT_T2);
    _mm_prefetch((const char *)r1 + 2 * row_bytes + offset, _MM_HINT_T2);
}
#endif

#endif
