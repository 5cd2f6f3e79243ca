// The SIMD block-format dot products, compiled once per instruction set: quant_dot.c includes
// this file with QD_SUFFIX / QD_TARGET set (and QD_VNNI for vpdpbusd). 32 weights per step in
// a 256-bit register, unpacked to unsigned codes (or to signed values, then made unsigned with
// the sign trick of ../shared/spec/gguf.md §6.3), dotted with the int8 activations into eight
// int32 lanes of four products each. The super-block formats apply their integer sub-block
// scales in int16/int32 and take one float step per 256 weights. Offset and minimum terms use
// the activation sums.
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

/// One block of a 32-weight format: its integer dot in eight lanes; *scale gets d_w·d_x and
/// *offset the block's offset or minimum term. kind: 0 Q4_0, 1 Q4_1, 2 Q5_0, 3 Q5_1, 4 Q8_0, 5 IQ4_NL.
QD_INLINE __m256i QD_FN(legacy_block)(const uint8_t *w, const glm_q8_row *x, int64_t b, int kind, float *scale, float *offset) {
    __m256i a = _mm256_loadu_si256((const __m256i *)(x->qs + 32 * b));
    float d = QD_FN(f16)(w) * x->d[b];
    *scale = d;
    switch (kind) {
    case 0: *offset += 8 * d * QD_FN(sum32)(x, b); return QD_FN(dot4)(QD_FN(nibbles)(w + 2), a);
    case 1: *offset -= QD_FN(f16)(w + 2) * x->d[b] * QD_FN(sum32)(x, b); return QD_FN(dot4)(QD_FN(nibbles)(w + 4), a);
    case 2: {
        __m256i high = _mm256_and_si256(QD_FN(bit_bytes)(w + 2), _mm256_set1_epi8(0x10));
        *offset += 16 * d * QD_FN(sum32)(x, b);
        return QD_FN(dot4)(_mm256_or_si256(QD_FN(nibbles)(w + 6), high), a);
    }
    case 3: {
        __m256i high = _mm256_and_si256(QD_FN(bit_bytes)(w + 4), _mm256_set1_epi8(0x10));
        *offset -= QD_FN(f16)(w + 2) * x->d[b] * QD_FN(sum32)(x, b);
        return QD_FN(dot4)(_mm256_or_si256(QD_FN(nibbles)(w + 8), high), a);
    }
    case 4: return QD_FN(dot4_signed)(_mm256_loadu_si256((const __m256i *)(w + 2)), a);
    default: return QD_FN(dot4_signed)(QD_FN(iq4_lookup)(QD_FN(nibbles)(w + 2)), a);
    }
}

/// The 32-weight formats, two blocks per step into two accumulators, so that consecutive FMAs
/// do not wait on each other.
QD_INLINE float QD_FN(dot_legacy)(const uint8_t *w, const glm_q8_row *x, int64_t n, int kind, int bytes) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    float offset = 0, s0, s1;
    int64_t b = 0, blocks = n / 32;
    for (; b + 1 < blocks; b += 2, w += 2 * bytes) {
        __m256i d0 = QD_FN(legacy_block)(w, x, b, kind, &s0, &offset);
        __m256i d1 = QD_FN(legacy_block)(w + bytes, x, b + 1, kind, &s1, &offset);
        acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(d0), _mm256_set1_ps(s0), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(d1), _mm256_set1_ps(s1), acc1);
    }
    if (b < blocks) {
        __m256i d0 = QD_FN(legacy_block)(w, x, b, kind, &s0, &offset);
        acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(d0), _mm256_set1_ps(s0), acc0);
    }
    return QD_FN(hsum)(_mm256_add_ps(acc0, acc1)) - offset;
}

/// Σ over pairs of u·s, times a per-16-bit-lane integer scale, in eight int32 lanes: the
/// sub-block scales of the super-block formats are applied in integers (vpmaddubsw, then
/// vpmaddwd by the scales), so a super-block needs one float step. u ≤ 63, or ≤ 127 after the
/// sign trick, keeps every pair sum inside int16.
QD_INLINE __m256i QD_FN(scaled_dot)(__m256i u, __m256i s, __m256i scales16) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), scales16);
}

/// Scales for 32 weights: sub-block scale lo for weights 0–15, hi for 16–31.
QD_INLINE __m256i QD_FN(scale_pair)(int lo, int hi) {
    return _mm256_set_m128i(_mm_set1_epi16((short)hi), _mm_set1_epi16((short)lo));
}

/// Q4_K and Q5_K: 8 sub-blocks of 32 with 6-bit scales and mins.
QD_INLINE float QD_FN(dot_q45k)(const uint8_t *w, const glm_q8_row *x, int64_t n, int five) {
    __m256 acc = _mm256_setzero_ps();
    float minimum = 0;
    for (int64_t sb = 0; sb < n / 256; sb++, w += five ? 176 : 144) {
        const uint8_t *q = w + 4, *qs = w + (five ? 48 : 16);
        const int8_t *xq = x->qs + 256 * sb;
        __m256i qh = five ? _mm256_loadu_si256((const __m256i *)(w + 16)) : _mm256_setzero_si256();
        __m256i isum = _mm256_setzero_si256();
        int msum = 0;
        for (int j = 0; j < 8; j++) {
            int sc, m;
            scale_min_k4(j, q, &sc, &m);
            __m256i v = _mm256_loadu_si256((const __m256i *)(qs + 32 * (j / 2)));
            __m256i codes = QD_FN(field)(v, 4 * (j % 2), 0x0F);
            if (five) codes = _mm256_or_si256(codes, _mm256_slli_epi16(QD_FN(field)(qh, j, 1), 4));
            __m256i a = _mm256_loadu_si256((const __m256i *)(xq + 32 * j));
            isum = _mm256_add_epi32(isum, QD_FN(scaled_dot)(codes, a, _mm256_set1_epi16((short)sc)));
            msum += m * QD_FN(sum32)(x, 8 * sb + j);
        }
        float da = x->d[sb];
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(QD_FN(f16)(w) * da), acc);
        minimum += QD_FN(f16)(w + 2) * da * (float)msum;
    }
    return QD_FN(hsum)(acc) - minimum;
}

/// Q6_K: 16 sub-blocks of 16, int8 scales, 6-bit codes stored + 32.
QD_INLINE float QD_FN(dot_q6k)(const uint8_t *w, const glm_q8_row *x, int64_t n) {
    __m256 acc = _mm256_setzero_ps();
    float offset = 0;
    for (int64_t sb = 0; sb < n / 256; sb++, w += 210) {
        const int8_t *scales = (const int8_t *)(w + 192), *xq = x->qs + 256 * sb;
        const int16_t *sums = x->sum16 + 16 * sb;
        __m256i isum = _mm256_setzero_si256();
        int osum = 0;
        for (int half = 0; half < 2; half++) {
            const uint8_t *ql = w + 64 * half;
            __m256i qh = _mm256_loadu_si256((const __m256i *)(w + 128 + 32 * half));
            __m256i l0 = _mm256_loadu_si256((const __m256i *)ql), l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
            for (int k = 0; k < 4; k++) {
                __m256i low = QD_FN(field)(k & 1 ? l1 : l0, k >= 2 ? 4 : 0, 0x0F);
                __m256i codes = _mm256_or_si256(low, _mm256_slli_epi16(QD_FN(field)(qh, 2 * k, 3), 4));
                int s = 8 * half + 2 * k;
                __m256i a = _mm256_loadu_si256((const __m256i *)(xq + 128 * half + 32 * k));
                isum = _mm256_add_epi32(isum, QD_FN(scaled_dot)(codes, a, QD_FN(scale_pair)(scales[s], scales[s + 1])));
                osum += scales[s] * sums[s] + scales[s + 1] * sums[s + 1];
            }
        }
        float dd = QD_FN(f16)(w + 208) * x->d[sb];
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(dd), acc);
        offset += 32 * dd * (float)osum;
    }
    return QD_FN(hsum)(acc) - offset;
}

/// Q3_K (codes + 4 from 2 low bits and the high-bit mask, signed 6-bit scales) and Q2_K (2-bit
/// codes, 4-bit scales and mins); both 16 sub-blocks of 16 with Q2_K's bit layout.
QD_INLINE float QD_FN(dot_q23k)(const uint8_t *w, const glm_q8_row *x, int64_t n, int three) {
    __m256 acc = _mm256_setzero_ps();
    float offset = 0;
    for (int64_t sb = 0; sb < n / 256; sb++, w += three ? 110 : 84) {
        int sc[16], m[16];
        if (three) {
            const uint8_t *packed = w + 96;
            for (int k = 0; k < 16; k++) {
                int low = k < 8 ? packed[k] & 0xF : packed[k - 8] >> 4, high = (packed[8 + k % 4] >> (2 * (k / 4))) & 3;
                sc[k] = (low | high << 4) - 32;
                m[k] = 4 * sc[k];
            }
        } else {
            for (int k = 0; k < 16; k++) { sc[k] = w[k] & 0xF; m[k] = w[k] >> 4; }
        }
        const uint8_t *qs = w + (three ? 32 : 16);
        const int8_t *xq = x->qs + 256 * sb;
        const int16_t *sums = x->sum16 + 16 * sb;
        __m256i hmask = three ? _mm256_loadu_si256((const __m256i *)w) : _mm256_setzero_si256();
        __m256i isum = _mm256_setzero_si256();
        int msum = 0;
        for (int half = 0; half < 2; half++) {
            __m256i q = _mm256_loadu_si256((const __m256i *)(qs + 32 * half));
            for (int s = 0; s < 4; s++) {
                __m256i codes = QD_FN(field)(q, 2 * s, 3);
                if (three) codes = _mm256_or_si256(codes, _mm256_slli_epi16(QD_FN(field)(hmask, 4 * half + s, 1), 2));
                int k = 8 * half + 2 * s;
                __m256i a = _mm256_loadu_si256((const __m256i *)(xq + 128 * half + 32 * s));
                isum = _mm256_add_epi32(isum, QD_FN(scaled_dot)(codes, a, QD_FN(scale_pair)(sc[k], sc[k + 1])));
                msum += m[k] * sums[k] + m[k + 1] * sums[k + 1];
            }
        }
        float da = x->d[sb], d = QD_FN(f16)(w + (three ? 108 : 80));
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(d * da), acc);
        offset += (three ? d : QD_FN(f16)(w + 82)) * da * (float)msum;
    }
    return QD_FN(hsum)(acc) - offset;
}

/// IQ4_XS: 8 sub-blocks of 32 with 6-bit scales, IQ4_NL's non-linear values.
QD_INLINE float QD_FN(dot_iq4xs)(const uint8_t *w, const glm_q8_row *x, int64_t n) {
    __m256 acc = _mm256_setzero_ps();
    for (int64_t sb = 0; sb < n / 256; sb++, w += 136) {
        uint16_t scales_h = (uint16_t)(w[2] | (w[3] << 8));
        const int8_t *xq = x->qs + 256 * sb;
        __m256i isum = _mm256_setzero_si256();
        for (int ib = 0; ib < 8; ib++) {
            int ls = ((w[4 + ib / 2] >> (4 * (ib % 2))) & 0xF) | (((scales_h >> (2 * ib)) & 3) << 4);
            __m256i a = _mm256_loadu_si256((const __m256i *)(xq + 32 * ib));
            __m256i v = QD_FN(iq4_lookup)(QD_FN(nibbles)(w + 8 + 16 * ib));
            isum = _mm256_add_epi32(isum, QD_FN(scaled_dot)(_mm256_sign_epi8(v, v), _mm256_sign_epi8(a, v),
                                                            _mm256_set1_epi16((short)(ls - 32))));
        }
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(QD_FN(f16)(w) * x->d[sb]), acc);
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

#undef QD_CAT2
#undef QD_CAT
#undef QD_FN
#undef QD_INLINE
#undef QD_FUNC
