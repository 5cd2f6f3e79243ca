// The SIMD block-format dot products, compiled once per instruction set: quant_dot.c includes
// this file with QD_SUFFIX / QD_TARGET set (and QD_VNNI for vpdpbusd). 32 weights per step in
// a 256-bit register, unpacked to unsigned codes (or to signed values, then made unsigned with
// the sign trick of ../shared/spec/gguf.md §6.3), dotted with the int8 activations into eight
// int32 lanes of four products each. The super-block formats apply their integer sub-block
// scales in int16/int32 and take one float step per 256 weights. Offset and minimum terms use
// the activation sums. With VNNI (an AVX-512 CPU), Q4_K, Q5_K and Q6_K take 64 weights per
// 512-bit step instead (the QD_VNNI section below).
//
// One weight row is dotted with `nt` ≤ GLM_QDOT_TOKENS tokens at once: each block is unpacked
// once and its codes stay in registers for every token (a batch of decode streams, or an
// expert's share of a prompt, costs one unpacking per block instead of one per token). `nt` is
// a constant at each call (`QD_FN(qdot)` dispatches on it), so the per-token accumulators stay
// in registers.
#include <immintrin.h>

#define QD_CAT2(a, b) a##_##b
#define QD_CAT(a, b) QD_CAT2(a, b)
#define QD_FN(name) QD_CAT(name, QD_SUFFIX)
#define QD_INLINE static inline __attribute__((always_inline, target(QD_TARGET)))
#define QD_FUNC static __attribute__((target(QD_TARGET)))
#define QD_TOKENS GLM_QDOT_TOKENS

/// Eight int32 lanes, lane k = Σ u[4k..4k+3]·s[4k..4k+3] (u unsigned ≤ 128 for AVX2).
QD_INLINE __m256i QD_FN(dot4)(__m256i u, __m256i s) {
#ifdef QD_VNNI
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s);
#else
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
#endif
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

QD_INLINE __m256i QD_FN(load)(const void *p) { return _mm256_loadu_si256((const __m256i *)p); }

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

/// One 32-weight block unpacked: |w| (`magnitude`) with the signs to put on the activations
/// (`sign`), or, for the formats with a minimum (Q4_1, Q5_1), unsigned codes in `magnitude`
/// and `sign` unused; `d` is the block's scale and `minimum` its offset (w = d·c + minimum).
typedef struct {
    __m256i magnitude, sign;
    float d, minimum;
} QD_FN(legacy_codes);

/// kind: 0 Q4_0, 1 Q4_1, 2 Q5_0, 3 Q5_1, 4 Q8_0, 5 IQ4_NL. Q4_0 and Q5_0 are made signed
/// (c − 8, c − 16), so that, like Q8_0, they need no offset term per token.
QD_INLINE QD_FN(legacy_codes) QD_FN(legacy_unpack)(const uint8_t *w, int kind) {
    QD_FN(legacy_codes) b = {.d = QD_FN(f16)(w), .minimum = 0};
    __m256i v;
    switch (kind) {
    case 0: v = _mm256_sub_epi8(QD_FN(nibbles)(w + 2), _mm256_set1_epi8(8)); break;
    case 1:
        b.minimum = QD_FN(f16)(w + 2);
        b.magnitude = QD_FN(nibbles)(w + 4);
        return b;
    case 2: {
        __m256i high = _mm256_and_si256(QD_FN(bit_bytes)(w + 2), _mm256_set1_epi8(0x10));
        v = _mm256_sub_epi8(_mm256_or_si256(QD_FN(nibbles)(w + 6), high), _mm256_set1_epi8(16));
        break;
    }
    case 3: {
        __m256i high = _mm256_and_si256(QD_FN(bit_bytes)(w + 4), _mm256_set1_epi8(0x10));
        b.minimum = QD_FN(f16)(w + 2);
        b.magnitude = _mm256_or_si256(QD_FN(nibbles)(w + 8), high);
        return b;
    }
    case 4: v = QD_FN(load)(w + 2); break;
    default: v = QD_FN(iq4_lookup)(QD_FN(nibbles)(w + 2)); break;
    }
    b.magnitude = _mm256_sign_epi8(v, v);
    b.sign = v;
    return b;
}

/// The 32-weight formats: per block, one unpacking and one FMA per token; the formats with a
/// minimum add d_x·m·Σq per token in scalars. Two accumulators per token when there is one
/// token, so that consecutive FMAs do not wait on each other.
QD_INLINE void QD_FN(dot_legacy)(const uint8_t *w, const glm_q8_row *x, int nt, int64_t n, int kind, int bytes,
                                 float *out) {
    __m256 acc[QD_TOKENS], acc1 = _mm256_setzero_ps();
    float offset[QD_TOKENS];
    int has_minimum = kind == 1 || kind == 3;
    for (int t = 0; t < nt; t++) { acc[t] = _mm256_setzero_ps(); offset[t] = 0; }
    int64_t blocks = n / 32;
    for (int64_t b = 0; b < blocks; b++, w += bytes) {
        QD_FN(legacy_codes) c = QD_FN(legacy_unpack)(w, kind);
        for (int t = 0; t < nt; t++) {
            __m256i a = QD_FN(load)(x[t].qs + 32 * b);
            __m256i dot = has_minimum ? QD_FN(dot4)(c.magnitude, a) : QD_FN(dot4)(c.magnitude, _mm256_sign_epi8(a, c.sign));
            __m256 scale = _mm256_set1_ps(c.d * x[t].d[b]);
            if (nt == 1 && (b & 1)) acc1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), scale, acc1);
            else acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), scale, acc[t]);
            if (has_minimum) offset[t] += c.minimum * x[t].d[b] * (float)QD_FN(sum32)(&x[t], b);
        }
    }
    if (nt == 1) acc[0] = _mm256_add_ps(acc[0], acc1);
    for (int t = 0; t < nt; t++) out[t] = QD_FN(hsum)(acc[t]) + offset[t];
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

/// Σ_j m_j·(Σ q over sub-block j of 32) as eight int32 lanes: the mins doubled to 16 int16
/// (one per 16 activations) against the activations' 16 sums of 16.
QD_INLINE __m256i QD_FN(min_dot)(__m256i mins16, const int16_t *sum16) {
    return _mm256_madd_epi16(mins16, QD_FN(load)(sum16));
}

/// The 8 mins of `k4_scale_words`, each doubled to cover its sub-block's two sums of 16, as
/// the 16 int16 lanes `min_dot` takes.
QD_INLINE __m256i QD_FN(k4_mins16)(uint64_t mins) {
    __m128i m = _mm_cvtsi64_si128((long long)mins);
    return _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(m, m));
}

/// `minimum` + dmin · d_x · Σ_j m_j·(Σ q over sub-block j) for super-block sb of one token.
QD_INLINE __m256 QD_FN(add_minimum)(__m256 minimum, __m256i mins16, const glm_q8_row *x, int64_t sb, float dmin) {
    __m256i dot = QD_FN(min_dot)(mins16, x->sum16 + 16 * sb);
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), _mm256_set1_ps(dmin * x->d[sb]), minimum);
}

/// Q4_K and Q5_K: 8 sub-blocks of 32 with 6-bit scales and mins.
QD_INLINE void QD_FN(dot_q45k)(const uint8_t *w, const glm_q8_row *x, int nt, int64_t n, int five, float *out) {
    __m256 acc[QD_TOKENS], minimum[QD_TOKENS];
    for (int t = 0; t < nt; t++) { acc[t] = _mm256_setzero_ps(); minimum[t] = _mm256_setzero_ps(); }
    for (int64_t sb = 0; sb < n / 256; sb++, w += five ? 176 : 144) {
        const uint8_t *qs = w + (five ? 48 : 16);
        uint64_t sc8, m8;
        k4_scale_words(w + 4, &sc8, &m8);
        __m256i mins16 = QD_FN(k4_mins16)(m8);
        __m256i qh = five ? QD_FN(load)(w + 16) : _mm256_setzero_si256();
        __m256i isum[QD_TOKENS];
        for (int t = 0; t < nt; t++) isum[t] = _mm256_setzero_si256();
        for (int j = 0; j < 8; j++) {
            __m256i codes = QD_FN(field)(QD_FN(load)(qs + 32 * (j / 2)), 4 * (j % 2), 0x0F);
            if (five) codes = _mm256_or_si256(codes, _mm256_slli_epi16(QD_FN(field)(qh, j, 1), 4));
            __m256i scale = _mm256_set1_epi16((short)(sc8 >> 8 * j & 0xFF));
            for (int t = 0; t < nt; t++)
                isum[t] = _mm256_add_epi32(isum[t], QD_FN(scaled_dot)(codes, QD_FN(load)(x[t].qs + 256 * sb + 32 * j), scale));
        }
        float d = QD_FN(f16)(w), dmin = QD_FN(f16)(w + 2);
        for (int t = 0; t < nt; t++) {
            acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[t]), _mm256_set1_ps(d * x[t].d[sb]), acc[t]);
            minimum[t] = QD_FN(add_minimum)(minimum[t], mins16, &x[t], sb, dmin);
        }
    }
    for (int t = 0; t < nt; t++) out[t] = QD_FN(hsum)(_mm256_sub_ps(acc[t], minimum[t]));
}

/// Q6_K: 16 sub-blocks of 16, int8 scales, 6-bit codes stored + 32.
QD_INLINE void QD_FN(dot_q6k)(const uint8_t *w, const glm_q8_row *x, int nt, int64_t n, float *out) {
    __m256 acc[QD_TOKENS];
    for (int t = 0; t < nt; t++) acc[t] = _mm256_setzero_ps();
    for (int64_t sb = 0; sb < n / 256; sb++, w += 210) {
        const int8_t *scales = (const int8_t *)(w + 192);
        // The +32 of every code, as 32·scale against the activations' sums of 16.
        __m256i offset16 = _mm256_slli_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)scales)), 5);
        __m256i isum[QD_TOKENS];
        for (int t = 0; t < nt; t++) isum[t] = _mm256_sub_epi32(_mm256_setzero_si256(), QD_FN(min_dot)(offset16, x[t].sum16 + 16 * sb));
        for (int half = 0; half < 2; half++) {
            const uint8_t *ql = w + 64 * half;
            __m256i qh = QD_FN(load)(w + 128 + 32 * half), l0 = QD_FN(load)(ql), l1 = QD_FN(load)(ql + 32);
            for (int k = 0; k < 4; k++) {
                __m256i low = QD_FN(field)(k & 1 ? l1 : l0, k >= 2 ? 4 : 0, 0x0F);
                __m256i codes = _mm256_or_si256(low, _mm256_slli_epi16(QD_FN(field)(qh, 2 * k, 3), 4));
                int s = 8 * half + 2 * k;
                __m256i scale = QD_FN(scale_pair)(scales[s], scales[s + 1]);
                for (int t = 0; t < nt; t++)
                    isum[t] = _mm256_add_epi32(isum[t], QD_FN(scaled_dot)(codes, QD_FN(load)(x[t].qs + 256 * sb + 128 * half + 32 * k), scale));
            }
        }
        float d = QD_FN(f16)(w + 208);
        for (int t = 0; t < nt; t++) acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[t]), _mm256_set1_ps(d * x[t].d[sb]), acc[t]);
    }
    for (int t = 0; t < nt; t++) out[t] = QD_FN(hsum)(acc[t]);
}

/// Q3_K (codes + 4 from 2 low bits and the high-bit mask, signed 6-bit scales) and Q2_K (2-bit
/// codes, 4-bit scales and mins); both 16 sub-blocks of 16 with Q2_K's bit layout.
QD_INLINE void QD_FN(dot_q23k)(const uint8_t *w, const glm_q8_row *x, int nt, int64_t n, int three, float *out) {
    __m256 acc[QD_TOKENS];
    for (int t = 0; t < nt; t++) acc[t] = _mm256_setzero_ps();
    // Takes int16 lane 0 of each dword to lanes 0-7 (low 128 bits) and lane 1 to lanes 8-15.
    const __m256i pair_lanes = _mm256_setr_epi8(0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1,
                                                2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3);
    for (int64_t sb = 0; sb < n / 256; sb++, w += three ? 110 : 84) {
        // The 16 scales (and mins) as int16 lanes, unpacked in registers.
        __m256i scales16, mins16;
        if (three) {
            // ggml's unpacking of the 12 packed bytes, four 6-bit scales per 32-bit word.
            uint32_t u[3];
            memcpy(u, w + 96, 12);
            __m128i low = _mm_and_si128(_mm_setr_epi32((int)u[0], (int)u[1], (int)(u[0] >> 4), (int)(u[1] >> 4)),
                                        _mm_set1_epi8(0x0F));
            __m128i high = _mm_and_si128(_mm_setr_epi32((int)u[2], (int)(u[2] >> 2), (int)(u[2] >> 4), (int)(u[2] >> 6)),
                                         _mm_set1_epi8(0x03));
            scales16 = _mm256_cvtepi8_epi16(_mm_sub_epi8(_mm_or_si128(low, _mm_slli_epi16(high, 4)), _mm_set1_epi8(32)));
            mins16 = _mm256_slli_epi16(scales16, 2);
        } else {
            __m128i raw = _mm_loadu_si128((const __m128i *)w);
            scales16 = _mm256_cvtepu8_epi16(_mm_and_si128(raw, _mm_set1_epi8(0x0F)));
            mins16 = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(raw, 4), _mm_set1_epi8(0x0F)));
        }
        const uint8_t *qs = w + (three ? 32 : 16);
        __m256i hmask = three ? QD_FN(load)(w) : _mm256_setzero_si256();
        __m256i isum[QD_TOKENS];
        for (int t = 0; t < nt; t++) isum[t] = _mm256_setzero_si256();
        for (int half = 0; half < 2; half++) {
            __m256i q = QD_FN(load)(qs + 32 * half);
            for (int s = 0; s < 4; s++) {
                __m256i codes = QD_FN(field)(q, 2 * s, 3);
                if (three) codes = _mm256_or_si256(codes, _mm256_slli_epi16(QD_FN(field)(hmask, 4 * half + s, 1), 2));
                // Sub-blocks k and k + 1 (k = 8·half + 2·s): their scales sit in dword k / 2.
                __m256i scale = _mm256_shuffle_epi8(_mm256_permutevar8x32_epi32(scales16, _mm256_set1_epi32(4 * half + s)), pair_lanes);
                for (int t = 0; t < nt; t++)
                    isum[t] = _mm256_add_epi32(isum[t], QD_FN(scaled_dot)(codes, QD_FN(load)(x[t].qs + 256 * sb + 128 * half + 32 * s), scale));
            }
        }
        float d = QD_FN(f16)(w + (three ? 108 : 80)), dmin = three ? d : QD_FN(f16)(w + 82);
        for (int t = 0; t < nt; t++) {
            float da = x[t].d[sb];
            acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[t]), _mm256_set1_ps(d * da), acc[t]);
            __m256i msum = QD_FN(min_dot)(mins16, x[t].sum16 + 16 * sb);
            acc[t] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(msum), _mm256_set1_ps(dmin * da), acc[t]);
        }
    }
    for (int t = 0; t < nt; t++) out[t] = QD_FN(hsum)(acc[t]);
}

/// IQ4_XS: 8 sub-blocks of 32 with 6-bit scales, IQ4_NL's non-linear values.
QD_INLINE void QD_FN(dot_iq4xs)(const uint8_t *w, const glm_q8_row *x, int nt, int64_t n, float *out) {
    __m256 acc[QD_TOKENS];
    for (int t = 0; t < nt; t++) acc[t] = _mm256_setzero_ps();
    for (int64_t sb = 0; sb < n / 256; sb++, w += 136) {
        uint16_t scales_h = (uint16_t)(w[2] | (w[3] << 8));
        __m256i isum[QD_TOKENS];
        for (int t = 0; t < nt; t++) isum[t] = _mm256_setzero_si256();
        for (int ib = 0; ib < 8; ib++) {
            int ls = ((w[4 + ib / 2] >> (4 * (ib % 2))) & 0xF) | (((scales_h >> (2 * ib)) & 3) << 4);
            __m256i v = QD_FN(iq4_lookup)(QD_FN(nibbles)(w + 8 + 16 * ib)), magnitude = _mm256_sign_epi8(v, v);
            __m256i scale = _mm256_set1_epi16((short)(ls - 32));
            for (int t = 0; t < nt; t++) {
                __m256i a = _mm256_sign_epi8(QD_FN(load)(x[t].qs + 256 * sb + 32 * ib), v);
                isum[t] = _mm256_add_epi32(isum[t], QD_FN(scaled_dot)(magnitude, a, scale));
            }
        }
        float d = QD_FN(f16)(w);
        for (int t = 0; t < nt; t++) acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[t]), _mm256_set1_ps(d * x[t].d[sb]), acc[t]);
    }
    for (int t = 0; t < nt; t++) out[t] = QD_FN(hsum)(acc[t]);
}

#ifdef QD_VNNI
// With AVX-512, the formats that carry most of a Q4_K_M or Q5_K_M file (Q4_K or Q5_K, and Q6_K
// for the lm_head and half the ffn_down) unpack 64 weights per 512-bit step: half the instructions of
// the 256-bit loops above, which are instruction-bound when a token streams its weights
// (kernel_rate, BENCHMARKS.md §5). vpdpwssd applies the integer sub-block scales and adds.

/// Lane j of a 32-lane int16 vector takes lane (j / span + first) of `scales`.
QD_INLINE __m512i QD_FN(spread_scales)(__m512i scales, int first, int span) {
    __m512i lane = _mm512_set_epi16(31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16,
                                    15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    __m512i index = _mm512_add_epi16(_mm512_srli_epi16(lane, span == 16 ? 4 : 3), _mm512_set1_epi16((short)first));
    return _mm512_permutexvar_epi16(index, scales);
}

/// 16-bit shift counts: `lo` for the low 256 bits, `hi` for the high.
QD_INLINE __m512i QD_FN(half_counts)(int lo, int hi) {
    return _mm512_inserti64x4(_mm512_set1_epi16((short)lo), _mm256_set1_epi16((short)hi), 1);
}

/// Q4_K and Q5_K, 64 weights (sub-blocks 2p and 2p+1: the low and high nibbles of 32 bytes, and
/// for Q5_K bits 2p and 2p+1 of the 32 high-bit bytes) per step.
QD_INLINE void QD_FN(dot_q45k_512)(const uint8_t *w, const glm_q8_row *x, int nt, int64_t n, int five, float *out) {
    __m512 acc[QD_TOKENS];
    __m256 minimum[QD_TOKENS];
    for (int t = 0; t < nt; t++) { acc[t] = _mm512_setzero_ps(); minimum[t] = _mm256_setzero_ps(); }
    const __m512i nibble = _mm512_set1_epi8(0x0F), high_half = QD_FN(half_counts)(0, 4), bit4 = _mm512_set1_epi8(0x10);
    for (int64_t sb = 0; sb < n / 256; sb++, w += five ? 176 : 144) {
        const uint8_t *qs = w + (five ? 48 : 16);
        uint64_t sc8, m8;
        k4_scale_words(w + 4, &sc8, &m8);
        __m512i scales = _mm512_castsi128_si512(_mm_cvtepu8_epi16(_mm_cvtsi64_si128((long long)sc8)));
        __m256i mins16 = QD_FN(k4_mins16)(m8);
        __m512i qh = five ? _mm512_broadcast_i64x4(QD_FN(load)(w + 16)) : _mm512_setzero_si512();
        __m512i isum[QD_TOKENS];
        for (int t = 0; t < nt; t++) isum[t] = _mm512_setzero_si512();
        for (int p = 0; p < 4; p++) {
            __m512i bytes = _mm512_broadcast_i64x4(QD_FN(load)(qs + 32 * p));
            __m512i codes = _mm512_and_si512(_mm512_srlv_epi16(bytes, high_half), nibble);
            if (five) {
                // Bit 2p (low half) or 2p + 1 (high half) of each qh byte, moved to bit 4.
                __m512i high = QD_FN(half_counts)(2 * p, 2 * p + 1);
                codes = _mm512_or_si512(codes, _mm512_and_si512(_mm512_slli_epi16(_mm512_srlv_epi16(qh, high), 4), bit4));
            }
            __m512i scale = QD_FN(spread_scales)(scales, 2 * p, 16);
            for (int t = 0; t < nt; t++) {
                __m512i a = _mm512_loadu_si512((const void *)(x[t].qs + 256 * sb + 64 * p));
                isum[t] = _mm512_dpwssd_epi32(isum[t], _mm512_maddubs_epi16(codes, a), scale);
            }
        }
        float d = QD_FN(f16)(w), dmin = QD_FN(f16)(w + 2);
        for (int t = 0; t < nt; t++) {
            acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[t]), _mm512_set1_ps(d * x[t].d[sb]), acc[t]);
            minimum[t] = QD_FN(add_minimum)(minimum[t], mins16, &x[t], sb, dmin);
        }
    }
    for (int t = 0; t < nt; t++) out[t] = _mm512_reduce_add_ps(acc[t]) - QD_FN(hsum)(minimum[t]);
}

/// Q6_K, 64 weights (four sub-blocks of 16) per step.
QD_INLINE void QD_FN(dot_q6k_512)(const uint8_t *w, const glm_q8_row *x, int nt, int64_t n, float *out) {
    __m512 acc[QD_TOKENS];
    for (int t = 0; t < nt; t++) acc[t] = _mm512_setzero_ps();
    const __m512i nibble = _mm512_set1_epi8(0x0F), bits45 = _mm512_set1_epi8(0x30);
    // Bits 2s..2s+1 of qh to bits 4..5: s = 0, 1 (left 4, 2) for the first 64 weights of a
    // half, s = 2, 3 (right 0, 2) for the second.
    const __m512i first_shift = QD_FN(half_counts)(4, 2), second_shift = QD_FN(half_counts)(0, 2);
    for (int64_t sb = 0; sb < n / 256; sb++, w += 210) {
        __m128i raw = _mm_loadu_si128((const __m128i *)(w + 192));
        __m512i scales = _mm512_castsi256_si512(_mm256_cvtepi8_epi16(raw));
        // The +32 of every code, as 32·scale against the activations' sums of 16.
        __m256i offset16 = _mm256_slli_epi16(_mm256_cvtepi8_epi16(raw), 5);
        __m512i isum[QD_TOKENS];
        for (int t = 0; t < nt; t++)
            isum[t] = _mm512_zextsi256_si512(_mm256_sub_epi32(_mm256_setzero_si256(), QD_FN(min_dot)(offset16, x[t].sum16 + 16 * sb)));
        for (int half = 0; half < 2; half++) {
            __m512i low = _mm512_loadu_si512((const void *)(w + 64 * half));
            __m512i qh = _mm512_broadcast_i64x4(QD_FN(load)(w + 128 + 32 * half));
            for (int step = 0; step < 2; step++) {
                __m512i codes = step == 0
                    ? _mm512_or_si512(_mm512_and_si512(low, nibble), _mm512_and_si512(_mm512_sllv_epi16(qh, first_shift), bits45))
                    : _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(low, 4), nibble),
                                      _mm512_and_si512(_mm512_srlv_epi16(qh, second_shift), bits45));
                __m512i scale = QD_FN(spread_scales)(scales, 8 * half + 4 * step, 8);
                for (int t = 0; t < nt; t++) {
                    __m512i a = _mm512_loadu_si512((const void *)(x[t].qs + 256 * sb + 128 * half + 64 * step));
                    isum[t] = _mm512_dpwssd_epi32(isum[t], _mm512_maddubs_epi16(codes, a), scale);
                }
            }
        }
        float d = QD_FN(f16)(w + 208);
        for (int t = 0; t < nt; t++) acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[t]), _mm512_set1_ps(d * x[t].d[sb]), acc[t]);
    }
    for (int t = 0; t < nt; t++) out[t] = _mm512_reduce_add_ps(acc[t]);
}
/// The signed 32-weight formats (Q4_0, Q5_0, Q8_0, IQ4_NL), two blocks per 512-bit step: the
/// codes of `legacy_unpack`, |w| against the activations negated where w < 0 (vpmovb2m and a
/// masked subtract), one vpdpbusd (lanes 0–7 the first block, 8–15 the second), then per token
/// one multiply by the blocks' activation scales and one FMA by their weight scales. One token
/// streaming its weights was instruction-bound on the 256-bit loop (BENCHMARKS.md §5). An odd
/// last block takes the 256-bit step.
QD_INLINE void QD_FN(dot_legacy_512)(const uint8_t *w, const glm_q8_row *x, int nt, int64_t n, int kind, int bytes,
                                     float *out) {
    __m512 acc[QD_TOKENS];
    float tail[QD_TOKENS];
    for (int t = 0; t < nt; t++) { acc[t] = _mm512_setzero_ps(); tail[t] = 0; }
    const __m512i spread = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
    int64_t blocks = n / 32, b = 0;
    for (; b + 2 <= blocks; b += 2, w += 2 * bytes) {
        QD_FN(legacy_codes) c0 = QD_FN(legacy_unpack)(w, kind), c1 = QD_FN(legacy_unpack)(w + bytes, kind);
        __m512i v = _mm512_inserti64x4(_mm512_castsi256_si512(c0.sign), c1.sign, 1);
        __m512i magnitude = _mm512_abs_epi8(v);
        __mmask64 negative = _mm512_movepi8_mask(v);
        __m512 dw = _mm512_mask_blend_ps(0xFF00, _mm512_set1_ps(c0.d), _mm512_set1_ps(c1.d));
        for (int t = 0; t < nt; t++) {
            __m512i a = _mm512_loadu_si512((const void *)(x[t].qs + 32 * b));
            a = _mm512_mask_sub_epi8(a, negative, _mm512_setzero_si512(), a);
            __m512i dot = _mm512_dpbusd_epi32(_mm512_setzero_si512(), magnitude, a);
            __m128 pair = _mm_castpd_ps(_mm_load_sd((const double *)(x[t].d + b)));
            __m512 dx = _mm512_permutexvar_ps(spread, _mm512_castps128_ps512(pair));
            acc[t] = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(dot), dx), dw, acc[t]);
        }
    }
    if (b < blocks) {
        QD_FN(legacy_codes) c = QD_FN(legacy_unpack)(w, kind);
        for (int t = 0; t < nt; t++) {
            __m256i dot = QD_FN(dot4)(c.magnitude, _mm256_sign_epi8(QD_FN(load)(x[t].qs + 32 * b), c.sign));
            tail[t] = QD_FN(hsum)(_mm256_mul_ps(_mm256_cvtepi32_ps(dot), _mm256_set1_ps(c.d * x[t].d[b])));
        }
    }
    for (int t = 0; t < nt; t++) out[t] = _mm512_reduce_add_ps(acc[t]) + tail[t];
}
#define QD_DOT_Q45K(NT, FIVE) QD_FN(dot_q45k_512)(w, x, NT, n, FIVE, out)
#define QD_DOT_Q6K(NT) QD_FN(dot_q6k_512)(w, x, NT, n, out)
#define QD_DOT_SIGNED(NT, KIND, BYTES) QD_FN(dot_legacy_512)(w, x, NT, n, KIND, BYTES, out)
#else
#define QD_DOT_Q45K(NT, FIVE) QD_FN(dot_q45k)(w, x, NT, n, FIVE, out)
#define QD_DOT_Q6K(NT) QD_FN(dot_q6k)(w, x, NT, n, out)
#define QD_DOT_SIGNED(NT, KIND, BYTES) QD_FN(dot_legacy)(w, x, NT, n, KIND, BYTES, out)
#endif

/// One format for `NT` tokens (a constant).
#define QD_DISPATCH(NT)                                                                              \
    switch (dtype) {                                                                                 \
    case GLM_DTYPE_Q4_0: QD_DOT_SIGNED(NT, 0, 18); return;                                           \
    case GLM_DTYPE_Q4_1: QD_FN(dot_legacy)(w, x, NT, n, 1, 20, out); return;                         \
    case GLM_DTYPE_Q5_0: QD_DOT_SIGNED(NT, 2, 22); return;                                           \
    case GLM_DTYPE_Q5_1: QD_FN(dot_legacy)(w, x, NT, n, 3, 24, out); return;                         \
    case GLM_DTYPE_Q8_0: QD_DOT_SIGNED(NT, 4, 34); return;                                           \
    case GLM_DTYPE_IQ4_NL: QD_DOT_SIGNED(NT, 5, 18); return;                                         \
    case GLM_DTYPE_Q4_K: QD_DOT_Q45K(NT, 0); return;                                                 \
    case GLM_DTYPE_Q5_K: QD_DOT_Q45K(NT, 1); return;                                                 \
    case GLM_DTYPE_Q6_K: QD_DOT_Q6K(NT); return;                                                     \
    case GLM_DTYPE_Q3_K: QD_FN(dot_q23k)(w, x, NT, n, 1, out); return;                               \
    case GLM_DTYPE_Q2_K: QD_FN(dot_q23k)(w, x, NT, n, 0, out); return;                               \
    case GLM_DTYPE_IQ4_XS: QD_FN(dot_iq4xs)(w, x, NT, n, out); return;                               \
    }

QD_FUNC void QD_FN(qdot)(int32_t dtype, const void *row, const glm_q8_row *x, int nt, int64_t n, float *out) {
    const uint8_t *w = row;
    switch (nt) {
    case 1: QD_DISPATCH(1) return;
    case 2: QD_DISPATCH(2) return;
    case 3: QD_DISPATCH(3) return;
    case 4: QD_DISPATCH(4) return;
    case 5: QD_DISPATCH(5) return;
    case 6: QD_DISPATCH(6) return;
    case 7: QD_DISPATCH(7) return;
    default: QD_DISPATCH(8) return;
    }
}

#undef QD_DISPATCH
#undef QD_DOT_Q45K
#undef QD_DOT_Q6K
#undef QD_DOT_SIGNED
#undef QD_TOKENS
#undef QD_CAT2
#undef QD_CAT
#undef QD_FN
#undef QD_INLINE
#undef QD_FUNC
