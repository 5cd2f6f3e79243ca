// Where an FP8 row's scales are, for the kernels of matmul.c and bf16_dot.c alike.
#ifndef GLM_FP8_SCALES_H
#define GLM_FP8_SCALES_H

#include "CKernels.h"
#include <stdint.h>

static const float fp8_unit_scale = 1.0f;

/// The scales of FP8 row `row`: column c takes (*scales)[c / *block]; with per-row scales or
/// none, *block is INT64_MAX (one scale for the whole row).
static inline void fp8_scales(const glm_matrix *w, int64_t row, const float **scales, int64_t *block) {
    *block = INT64_MAX;
    if (w->row_scale) {
        *scales = w->row_scale + row;
    } else if (w->block_scale) {
        *scales = w->block_scale + (row / w->block) * ((w->cols + w->block - 1) / w->block);
        *block = w->block;
    } else {
        *scales = &fp8_unit_scale;
    }
}

#endif
