// The SIMD block-format dot products, compiled once per instruction set: quant_dot.c includes
// this file with QD_SUFFIX / QD_TARGET set (and QD_VNNI for vpdpbusd). 32 weights per step in
// a 256-bit register, unpacked to unsigned codes (or to signed values, then made unsigned with
// the sign trick of ../shared/spec/gguf.md §6.3), dotted with the int8 activations into eight
// int32 lanes of four products each: lanes 0–3 are weights 0–15, lanes 4–7 weights 16–31, so
// per-16 scales apply lane-wise. Offset and minimum terms use the activation sums.
#include <immintrin.h>

#define QD_CAT2(a, b) a##_##b
#define QD_CAT(a, b) QD_CAT2(a, b)
#define QD_FN(name) QD_CAT(name, QD_SUFFIX)
#define QD_INLINE static inline __attribute__((always_inline, target(QD_TARGET)))
#define QD_FUNC static __attribute__((target(QD_TARGET)))

/// Eight int32 lanes, lane k = Σ u[4k..4k+3]·s[4k..4k+3] (u unsigned ≤ 128 for AVX2).
QD_INLINE __m256i QD_FN(dot4)(__m256i u, __m256i s) {
#ifdef QD_VNNI
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s);
#else
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
#endif
}

/// Signed weights w against activations a: |w| · (a with w's sign).
QD_INLINE __m256i QD_FN(dot4_signed)(__m256i w, __m256i a) {
    return QD_FN(dot4)(_mm256_sign_epi8(w, w), _mm256_sign_epi8(a, w));
}

QD_INLINE float QD_FN(hsum)(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

QD_INLINE float QD_FN(f16)(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

/// 16 bytes of two 4-bit codes → 32 codes: low nibbles (weights 0–15), then high (16–31).
QD_INLINE __m256i QD_FN(nibbles)(const uint8_t *p) {
    __m128i v = _mm_loadu_si128((const __m128i *)p), m = _mm_set1_epi8(0x0F);
    return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(v, 4), m), _mm_and_si128(v, m));
}

/// Byte i is 0xFF where bit i of the 32 bits at p is set.
QD_INLINE __m256i QD_FN(bit_bytes)(const uint8_t *p) {
    uint32_t h;
    memcpy(&h, p, 4);
    __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32((int)h),
                                    _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                                     2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
    __m256i bit = _mm256_set1_epi64x((int64_t)0x8040201008040201ULL);
    return _mm256_cmpeq_epi8(_mm256_and_si256(v, bit), bit);
}

/// Each byte of v shifted right by `shift` and masked: per-byte fields of packed codes.
QD_INLINE __m256i QD_FN(field)(__m256i v, int shift, int mask) {
    return _mm256_and_si256(_mm256_srli_epi16(v, shift), _mm256_set1_epi8((char)mask));
}

QD_INLINE __m256i QD_FN(iq4_lookup)(__m256i codes) {
    const __m256i table = _mm256_setr_epi8(-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113,
                                           -127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113);
    return _mm256_shuffle_epi8(table, codes);
}

static inline int QD_FN(sum32)(const glm_q8_row *x, int64_t block) { return x->sum16[2 * block] + x->sum16[2 * block + 1]; }

/// The 32-weight formats. kind: 0 Q4_0, 1 Q4_1, 2 Q5_0, 3 Q5_1, 4 Q8_0, 5 IQ4_NL.
QD_INLINE float QD_FN(dot_legacy)(const uint8_t *w, const glm_q8_row *x, int64_t n, int kind, int bytes) {
    __m256 acc = _mm256_setzero_ps();
    float offset = 0;
    for (int64_t b = 0; b < n / 32; b++, w += bytes) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(x->qs + 32 * b)), dot;
        float d = QD_FN(f16)(w) * x->d[b];
        switch (kind) {
        case 0: dot = QD_FN(dot4)(QD_FN(nibbles)(w + 2), a); offset += 8 * d * QD_FN(sum32)(x, b); break;
        case 1: dot = QD_FN(dot4)(QD_FN(nibbles)(w + 4), a); offset -= QD_FN(f16)(w + 2) * x->d[b] * QD_FN(sum32)(x, b); break;
        case 2: {
            __m256i high = _mm256_and_si256(QD_FN(bit_bytes)(w + 2), _mm256_set1_epi8(0x10));
            dot = QD_FN(dot4)(_mm256_or_si256(QD_FN(nibbles)(w + 6), high), a);
            offset += 16 * d * QD_FN(sum32)(x, b);
            break;
        }
        case 3: {
            __m256i high = _mm256_and_si256(QD_FN(bit_bytes)(w + 4), _mm256_set1_epi8(0x10));
            dot = QD_FN(dot4)(_mm256_or_si256(QD_FN(nibbles)(w + 8), high), a);
            offset -= QD_FN(f16)(w + 2) * x->d[b] * QD_FN(sum32)(x, b);
            break;
        }
        case 4: dot = QD_FN(dot4_signed)(_mm256_loadu_si256((const __m256i *)(w + 2)), a); break;
        default: dot = QD_FN(dot4_signed)(QD_FN(iq4_lookup)(QD_FN(nibbles)(w + 2)), a); break;
        }
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), _mm256_set1_ps(d), acc);
    }
    return QD_FN(hsum)(acc) - offset;
}

/// Q4_K and Q5_K: 8 sub-blocks of 32 with 6-bit scales and mins.
QD_INLINE float QD_FN(dot_q45k)(const uint8_t *w, const glm_q8_row *x, int64_t n, int five) {
    __m256 acc = _mm256_setzero_ps();
    float minimum = 0;
    for (int64_t sb = 0; sb < n / 256; sb++, w += five ? 176 : 144) {
        float d = QD_FN(f16)(w), dmin = QD_FN(f16)(w + 2);
        const uint8_t *q = w + 4, *qs = w + (five ? 48 : 16);
        __m256i qh = five ? _mm256_loadu_si256((const __m256i *)(w + 16)) : _mm256_setzero_si256();
        for (int j = 0; j < 8; j++) {
            int sc, m;
            if (j < 4) { sc = q[j] & 63; m = q[j + 4] & 63; }
            else { sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4); m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4); }
            __m256i v = _mm256_loadu_si256((const __m256i *)(qs + 32 * (j / 2)));
            __m256i codes = QD_FN(field)(v, 4 * (j % 2), 0x0F);
            if (five) codes = _mm256_or_si256(codes, _mm256_slli_epi16(QD_FN(field)(qh, j, 1), 4));
            int64_t block = 8 * sb + j;
            __m256i a = _mm256_loadu_si256((const __m256i *)(x->qs + 32 * block));
            float da = x->d[block];
            acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(QD_FN(dot4)(codes, a)), _mm256_set1_ps(d * (float)sc * da), acc);
            minimum += dmin * (float)m * da * QD_FN(sum32)(x, block);
        }
    }
    return QD_FN(hsum)(acc) - minimum;
}

/// Adds 32 weights with per-16 scales A0 (weights 0–15) and A1 (16–31) and offsets B = k·A.
#define QD_ACC16(codes, block, A0, A1, B0, B1)                                                        \
    do {                                                                                             \
        __m256i a_ = _mm256_loadu_si256((const __m256i *)(x->qs + 32 * (block)));                     \
        float da_ = x->d[block];                                                                     \
        __m256 s_ = _mm256_set_m128(_mm_set1_ps((A1) * da_), _mm_set1_ps((A0) * da_));               \
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(QD_FN(dot4)(codes, a_)), s_, acc);                 \
        offset += da_ * ((B0) * (float)x->sum16[2 * (block)] + (B1) * (float)x->sum16[2 * (block) + 1]); \
    } while (0)

/// Q6_K: 16 sub-blocks of 16, int8 scales, 6-bit codes stored + 32.
QD_INLINE float QD_FN(dot_q6k)(const uint8_t *w, const glm_q8_row *x, int64_t n) {
    __m256 acc = _mm256_setzero_ps();
    float offset = 0;
    for (int64_t sb = 0; sb < n / 256; sb++, w += 210) {
        const int8_t *scales = (const int8_t *)(w + 192);
        float d = QD_FN(f16)(w + 208);
        for (int half = 0; half < 2; half++) {
            const uint8_t *ql = w + 64 * half;
            __m256i qh = _mm256_loadu_si256((const __m256i *)(w + 128 + 32 * half));
            __m256i l0 = _mm256_loadu_si256((const __m256i *)ql), l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
            for (int k = 0; k < 4; k++) {
                __m256i low = QD_FN(field)(k & 1 ? l1 : l0, k >= 2 ? 4 : 0, 0x0F);
                __m256i codes = _mm256_or_si256(low, _mm256_slli_epi16(QD_FN(field)(qh, 2 * k, 3), 4));
                int s = 8 * half + 2 * k;
                float A0 = d * (float)scales[s], A1 = d * (float)scales[s + 1];
                QD_ACC16(codes, 8 * sb + 4 * half + k, A0, A1, 32 * A0, 32 * A1);
            }
        }
    }
    return QD_FN(hsum)(acc) - offset;
}

/// Q3_K (codes + 4 from 2 low bits and the high-bit mask, signed 6-bit scales) and Q2_K (2-bit
/// codes, 4-bit scales and mins); both 16 sub-blocks of 16 with Q2_K's bit layout.
QD_INLINE float QD_FN(dot_q23k)(const uint8_t *w, const glm_q8_row *x, int64_t n, int three) {
    __m256 acc = _mm256_setzero_ps();
    float offset = 0;
    for (int64_t sb = 0; sb < n / 256; sb++, w += three ? 110 : 84) {
        float A[16], B[16];
        if (three) {
            const uint8_t *sc = w + 96;
            float d = QD_FN(f16)(w + 108);
            for (int k = 0; k < 16; k++) {
                int low = k < 8 ? sc[k] & 0xF : sc[k - 8] >> 4, high = (sc[8 + k % 4] >> (2 * (k / 4))) & 3;
                A[k] = d * (float)((low | high << 4) - 32);
                B[k] = 4 * A[k];
            }
        } else {
            float d = QD_FN(f16)(w + 80), dmin = QD_FN(f16)(w + 82);
            for (int k = 0; k < 16; k++) { A[k] = d * (float)(w[k] & 0xF); B[k] = dmin * (float)(w[k] >> 4); }
        }
        const uint8_t *qs = w + (three ? 32 : 16);
        __m256i hmask = three ? _mm256_loadu_si256((const __m256i *)w) : _mm256_setzero_si256();
        for (int half = 0; half < 2; half++) {
            __m256i q = _mm256_loadu_si256((const __m256i *)(qs + 32 * half));
            for (int s = 0; s < 4; s++) {
                __m256i codes = QD_FN(field)(q, 2 * s, 3);
                if (three) codes = _mm256_or_si256(codes, _mm256_slli_epi16(QD_FN(field)(hmask, 4 * half + s, 1), 2));
                int k = 8 * half + 2 * s;
                QD_ACC16(codes, 8 * sb + 4 * half + s, A[k], A[k + 1], B[k], B[k + 1]);
            }
        }
    }
    return QD_FN(hsum)(acc) - offset;
}

/// IQ4_XS: 8 sub-blocks of 32 with 6-bit scales, IQ4_NL's non-linear values.
QD_INLINE float QD_FN(dot_iq4xs)(const uint8_t *w, const glm_q8_row *x, int64_t n) {
    __m256 acc = _mm256_setzero_ps();
    for (int64_t sb = 0; sb < n / 256; sb++, w += 136) {
        float d = QD_FN(f16)(w);
        uint16_t scales_h = (uint16_t)(w[2] | (w[3] << 8));
        for (int ib = 0; ib < 8; ib++) {
            int ls = ((w[4 + ib / 2] >> (4 * (ib % 2))) & 0xF) | (((scales_h >> (2 * ib)) & 3) << 4);
            int64_t block = 8 * sb + ib;
            __m256i a = _mm256_loadu_si256((const __m256i *)(x->qs + 32 * block));
            __m256i dot = QD_FN(dot4_signed)(QD_FN(iq4_lookup)(QD_FN(nibbles)(w + 8 + 16 * ib)), a);
            acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), _mm256_set1_ps(d * (float)(ls - 32) * x->d[block]), acc);
        }
    }
    return QD_FN(hsum)(acc);
}

QD_FUNC float QD_FN(qdot)(int32_t dtype, const void *row, const glm_q8_row *x, int64_t n) {
    const uint8_t *w = row;
    switch (dtype) {
    case GLM_DTYPE_Q4_0: return QD_FN(dot_legacy)(w, x, n, 0, 18);
    case GLM_DTYPE_Q4_1: return QD_FN(dot_legacy)(w, x, n, 1, 20);
    case GLM_DTYPE_Q5_0: return QD_FN(dot_legacy)(w, x, n, 2, 22);
    case GLM_DTYPE_Q5_1: return QD_FN(dot_legacy)(w, x, n, 3, 24);
    case GLM_DTYPE_Q8_0: return QD_FN(dot_legacy)(w, x, n, 4, 34);
    case GLM_DTYPE_IQ4_NL: return QD_FN(dot_legacy)(w, x, n, 5, 18);
    case GLM_DTYPE_Q4_K: return QD_FN(dot_q45k)(w, x, n, 0);
    case GLM_DTYPE_Q5_K: return QD_FN(dot_q45k)(w, x, n, 1);
    case GLM_DTYPE_Q6_K: return QD_FN(dot_q6k)(w, x, n);
    case GLM_DTYPE_Q3_K: return QD_FN(dot_q23k)(w, x, n, 1);
    case GLM_DTYPE_Q2_K: return QD_FN(dot_q23k)(w, x, n, 0);
    case GLM_DTYPE_IQ4_XS: return QD_FN(dot_iq4xs)(w, x, n);
    default: return 0;
    }
}

#undef QD_ACC16
#undef QD_CAT2
#undef QD_CAT
#undef QD_FN
#undef QD_INLINE
#undef QD_FUNC
