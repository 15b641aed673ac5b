// gemv-bf16.h: Y (M, N) = X (M, K) W (N, K)^T for weights stored as bf16 (the
// top 16 bits of the f32 value), inputs and sums in f32: the decoding case,
// where streaming the weight is the whole cost, so half the bytes is nearly
// half the time. Same shape as gemv.h (four weight rows at a time, 16
// independent lanes each, prefetch of the next four rows); a block of four
// weight rows is used for every input row before moving on, so a few rows of
// input (batched decoding) read the weight once. bf16 -> f32 is a 16-bit
// shift: with AVX-512 (-march=native on the development machine) one zero-
// extending load, a shift and an FMA per 16 weights; elsewhere portable C that
// compilers vectorise, about twice the instructions (GCC 12 keeps 256-bit
// vectors, separate multiply and add under -std=c11, and spills the lane sums).
// Not for long inputs (prefill): there sgemm on the f32 weights is the faster
// path. Private to kernels/cpu.
#ifndef DS_GEMV_BF16_H
#define DS_GEMV_BF16_H

#include "kernels/cpu/gemv.h" // ds_gemv_hsum

#include <stdint.h>
#include <string.h>
#ifdef __AVX512F__
#include <immintrin.h>
#endif

static inline float ds_gemv_bf16_f32(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

// y[j] = s[j] plus the columns [K16, K) of weight row j (rows K apart from w0) . x.
static inline void ds_gemv_bf16_tail4(float *y, const float *s, const uint16_t *w0, int K,
                                      const float *x, int K16) {
    for (int j = 0; j < 4; j++) {
        float a = s[j];
        for (int k = K16; k < K; k++) a += ds_gemv_bf16_f32(w0[(int64_t)j * K + k]) * x[k];
        y[j] = a;
    }
}

#ifdef __AVX512F__
// 16 bf16 at p as 16 f32.
static inline __m512 ds_gemv_bf16_load16(const uint16_t *p) {
    __m256i h = _mm256_loadu_si256((const __m256i *)p);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

// One row of input against four weight rows: y[0..4) = w_j . x; pf: the next block to
// prefetch, or NULL.
static inline void ds_gemv_bf16_4(float *y, const uint16_t *w0, const float *x, int K,
                                  const uint16_t *pf) {
    const uint16_t *w1 = w0 + K, *w2 = w1 + K, *w3 = w2 + K;
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int K16 = K & ~15;
    for (int k = 0; k < K16; k += 16) {
        if (pf) { // 4 rows of 16 bf16 = two cache lines of the next block per step
            __builtin_prefetch(pf + 4 * k);
            __builtin_prefetch(pf + 4 * k + 32);
        }
        __m512 xv = _mm512_loadu_ps(x + k);
        a0 = _mm512_fmadd_ps(ds_gemv_bf16_load16(w0 + k), xv, a0);
        a1 = _mm512_fmadd_ps(ds_gemv_bf16_load16(w1 + k), xv, a1);
        a2 = _mm512_fmadd_ps(ds_gemv_bf16_load16(w2 + k), xv, a2);
        a3 = _mm512_fmadd_ps(ds_gemv_bf16_load16(w3 + k), xv, a3);
    }
    float s0 = _mm512_reduce_add_ps(a0), s1 = _mm512_reduce_add_ps(a1),
          s2 = _mm512_reduce_add_ps(a2), s3 = _mm512_reduce_add_ps(a3);
    float s[4] = {s0, s1, s2, s3};
    ds_gemv_bf16_tail4(y, s, w0, K, x, K16);
}

static inline float ds_gemv_bf16_1(const uint16_t *w, const float *x, int K) {
    __m512 a = _mm512_setzero_ps();
    int K16 = K & ~15;
    for (int k = 0; k < K16; k += 16)
        a = _mm512_fmadd_ps(ds_gemv_bf16_load16(w + k), _mm512_loadu_ps(x + k), a);
    float s = _mm512_reduce_add_ps(a);
    for (int k = K16; k < K; k++) s += ds_gemv_bf16_f32(w[k]) * x[k];
    return s;
}
#else // portable
// One row of input against four weight rows: y[0..4) = w_j . x; pf: the next block to
// prefetch, or NULL.
static inline void ds_gemv_bf16_4(float *y, const uint16_t *w0, const float *x, int K,
                                  const uint16_t *pf) {
    const uint16_t *w1 = w0 + K, *w2 = w1 + K, *w3 = w2 + K;
    float a0[16] = {0}, a1[16] = {0}, a2[16] = {0}, a3[16] = {0};
    int K16 = K & ~15;
    for (int k = 0; k < K16; k += 16) {
        if (pf) { // 4 rows of 16 bf16 = two cache lines of the next block per step
            __builtin_prefetch(pf + 4 * k);
            __builtin_prefetch(pf + 4 * k + 32);
        }
        for (int u = 0; u < 16; u++) {
            float xv = x[k + u];
            a0[u] += ds_gemv_bf16_f32(w0[k + u]) * xv;
            a1[u] += ds_gemv_bf16_f32(w1[k + u]) * xv;
            a2[u] += ds_gemv_bf16_f32(w2[k + u]) * xv;
            a3[u] += ds_gemv_bf16_f32(w3[k + u]) * xv;
        }
    }
    float s0 = ds_gemv_hsum(a0), s1 = ds_gemv_hsum(a1), s2 = ds_gemv_hsum(a2),
          s3 = ds_gemv_hsum(a3);
    float s[4] = {s0, s1, s2, s3};
    ds_gemv_bf16_tail4(y, s, w0, K, x, K16);
}

static inline float ds_gemv_bf16_1(const uint16_t *w, const float *x, int K) {
    float a[16] = {0};
    int K16 = K & ~15;
    for (int k = 0; k < K16; k += 16)
        for (int u = 0; u < 16; u++) a[u] += ds_gemv_bf16_f32(w[k + u]) * x[k + u];
    float s = ds_gemv_hsum(a);
    for (int k = K16; k < K; k++) s += ds_gemv_bf16_f32(w[k]) * x[k];
    return s;
}

#endif

// Y[m, n] = W[n] . X[m] (+ bias[n] when bias is not NULL) for m in [0, M), n in [0, N);
// rows of X are ldx apart, rows of Y ldy apart.
static inline void ds_gemv_bf16(float *Y, int64_t ldy, const uint16_t *W, const float *X,
                                int64_t ldx, const float *bias, int M, int64_t N, int K) {
    int64_t n = 0;
    for (; n + 4 <= N; n += 4) {
        const uint16_t *w = W + n * K;
        for (int m = 0; m < M; m++) {
            float y[4];
            // the first input row pulls the block from memory: prefetch the next block
            ds_gemv_bf16_4(y, w, X + m * ldx, K, m == 0 && n + 8 <= N ? w + 4 * (int64_t)K : NULL);
            for (int j = 0; j < 4; j++) Y[m * ldy + n + j] = y[j] + (bias ? bias[n + j] : 0.0f);
        }
    }
    for (; n < N; n++)
        for (int m = 0; m < M; m++)
            Y[m * ldy + n] = ds_gemv_bf16_1(W + n * K, X + m * ldx, K) + (bias ? bias[n] : 0.0f);
}

#endif
