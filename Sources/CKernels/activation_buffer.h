// Buffers for a product's activations in the form its kernel reads (packed Xᵀ, int8 or bf16
// rows), made and freed once per batch. A prefill's are megabytes; from malloc, freed ones of
// that size stay in the heap (glibc raises its mmap threshold after the first free), which on
// bench-air Q4_K_M added 57 MB to peak RSS. Large ones are mapped and unmapped instead.
#ifndef GLM_ACTIVATION_BUFFER_H
#define GLM_ACTIVATION_BUFFER_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

enum { ACTIVATION_BUFFER_HEADER = 64, ACTIVATION_BUFFER_MAPPED = 1 << 20 };

/// `bytes` bytes, 64-byte aligned; free with `activation_buffer_free`.
static inline void *activation_buffer(size_t bytes) {
    size_t total = ((bytes + 63) & ~(size_t)63) + ACTIVATION_BUFFER_HEADER;
    char *base;
    if (total >= ACTIVATION_BUFFER_MAPPED) {
        base = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (base == MAP_FAILED) abort();
    } else {
        base = aligned_alloc(64, total);
        if (!base) abort();
    }
    *(size_t *)base = total;
    return base + ACTIVATION_BUFFER_HEADER;
}

static inline void activation_buffer_free(void *buffer) {
    if (!buffer) return;
    char *base = (char *)buffer - ACTIVATION_BUFFER_HEADER;
    size_t total = *(size_t *)base;
    if (total >= ACTIVATION_BUFFER_MAPPED) munmap(base, total);
    else free(base);
}

#endif
