// gemv.h: y (N) = W (N, K) x (K) for the decoding case (one or two rows of
// input): four weight rows at a time, each with 16 independent lanes, so the
// loads of four streams are in flight and the adds never wait on each other.
// Streams the weight at about twice the rate of OpenBLAS's sgemv for the
// model's shapes (measured by bench_model's decode figures). Private to
// kernels/cpu.
#ifndef DS_GEMV_H
#define DS_GEMV_H

#include <stdint.h>

static inline float ds_gemv_hsum(const float *acc) {
    float s = 0;
    for (int u = 0; u < 16; u++) s += acc[u];
    return s;
}

// y[n] = W[n] . x (+ bias[n] when bias is not NULL), for n in [0, N).
static inline void ds_gemv(float *y, const float *W, const float *x, const float *bias, int64_t N,
                           int K) {
    int64_t n = 0;
    int K16 = K & ~15;
    for (; n + 4 <= N; n += 4) {
        const float *w0 = W + n * K, *w1 = w0 + K, *w2 = w1 + K, *w3 = w2 + K;
        float a0[16] = {0}, a1[16] = {0}, a2[16] = {0}, a3[16] = {0};
        const float *pf = w0 + 4 * (int64_t)K; // the next four rows: start their loads early
        for (int k = 0; k < K16; k += 16) {
            __builtin_prefetch(pf + 4 * k);
            __builtin_prefetch(pf + 4 * k + 16);
            __builtin_prefetch(pf + 4 * k + 32);
            __builtin_prefetch(pf + 4 * k + 48);
            for (int u = 0; u < 16; u++) {
                float xv = x[k + u];
                a0[u] += w0[k + u] * xv;
                a1[u] += w1[k + u] * xv;
                a2[u] += w2[k + u] * xv;
                a3[u] += w3[k + u] * xv;
            }
        }
        float s0 = ds_gemv_hsum(a0), s1 = ds_gemv_hsum(a1), s2 = ds_gemv_hsum(a2),
              s3 = ds_gemv_hsum(a3);
        for (int k = K16; k < K; k++) {
            s0 += w0[k] * x[k];
            s1 += w1[k] * x[k];
            s2 += w2[k] * x[k];
            s3 += w3[k] * x[k];
        }
        y[n] = s0 + (bias ? bias[n] : 0.0f);
        y[n + 1] = s1 + (bias ? bias[n + 1] : 0.0f);
        y[n + 2] = s2 + (bias ? bias[n + 2] : 0.0f);
        y[n + 3] = s3 + (bias ? bias[n + 3] : 0.0f);
    }
    for (; n < N; n++) {
        const float *w = W + n * K;
        float a[16] = {0};
        for (int k = 0; k < K16; k += 16)
            for (int u = 0; u < 16; u++) a[u] += w[k + u] * x[k + u];
        float s = ds_gemv_hsum(a);
        for (int k = K16; k < K; k++) s += w[k] * x[k];
        y[n] = s + (bias ? bias[n] : 0.0f);
    }
}

#endif
