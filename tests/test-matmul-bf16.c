// test-matmul-bf16.c: the bf16-weight linear and grouped layers (the decoding
// ops) against naive double loops over the same bf16-rounded weights, so the
// tolerance is that of f32 accumulation alone, not of the rounding: one row
// (decoding), a few rows (batched decoding), lengths that leave tails of the
// 16-lane and 4-row blocks, 1 to 3 threads, with and without bias; grouped
// with empty experts and experts of one row (top-k routing of one token).
#include "tests/test.h"
#include "core/tensor.h"
#include "kernels/ops.h"

#include <stdlib.h>

// f32 accumulation in 16 lanes over K <= 300 of N(0, 1) products (sums of size ~17):
// rounding stays far below 1e-4 absolute.
#define ATOL 1e-4
#define RTOL 1e-4

// w (n) random, rounded to bf16: wb the stored halves, w64 the values they stand for.
static void rand_bf16(int64_t n, uint64_t seed, uint16_t **wb, double **w64) {
    float *w = malloc(sizeof(float) * (size_t)(n ? n : 1));
    ds_test_randn(w, n, seed, 1.0f);
    *wb = malloc(sizeof(uint16_t) * (size_t)(n ? n : 1));
    *w64 = malloc(sizeof(double) * (size_t)(n ? n : 1));
    for (int64_t i = 0; i < n; i++) {
        (*wb)[i] = ds_f32_to_bf16(w[i]);
        (*w64)[i] = ds_bf16_to_f32((*wb)[i]);
    }
    free(w);
}

static float *randf(int64_t n, uint64_t seed) {
    float *x = malloc(sizeof(float) * (size_t)(n ? n : 1));
    ds_test_randn(x, n, seed, 1.0f);
    return x;
}

static int check_linear(int threads, int M, int K, int N, int with_bias) {
    ds_ctx *ctx = ds_ctx_new(DS_BACKEND_CPU, threads);
    DS_CHECK(ctx != NULL);
    uint16_t *wb;
    double *w64;
    rand_bf16((int64_t)N * K, 21, &wb, &w64);
    float *x = randf((int64_t)M * K, 22), *b = randf(N, 23);
    float *out = malloc(sizeof(float) * (size_t)M * N);
    double *ref = malloc(sizeof(double) * (size_t)M * N);
    ctx->ops->matmul_bf16_forward(ctx, out, x, wb, with_bias ? b : NULL, M, K, N);
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            double acc = with_bias ? b[n] : 0;
            for (int k = 0; k < K; k++)
                acc += (double)x[(int64_t)m * K + k] * w64[(int64_t)n * K + k];
            ref[(int64_t)m * N + n] = acc;
        }
    char what[96];
    snprintf(what, sizeof what, "bf16 out %dx%dx%d t%d bias%d", M, K, N, threads, with_bias);
    int64_t bad = ds_test_close_f64(what, out, ref, (int64_t)M * N, ATOL, RTOL);
    free(wb), free(w64), free(x), free(b), free(out), free(ref);
    ds_ctx_free(ctx);
    return bad != 0;
}

DS_TEST(matmul_bf16_forward) {
    int fails = 0;
    fails += check_linear(2, 1, 256, 768, 0); // one decode row: the reference shape's qkv
    fails += check_linear(1, 1, 37, 23, 1);   // tails of the 16 lanes and the 4-row blocks
    fails += check_linear(2, 1, 37, 23, 1);
    fails += check_linear(2, 3, 50, 33, 1);     // batched decoding
    fails += check_linear(2, 16, 256, 1030, 0); // batch 16 through a head-like matrix
    fails += check_linear(3, 5, 20, 2, 1);      // more threads than columns
    return fails;
}

static int check_grouped(int threads, const int32_t *counts, int E, int K, int N) {
    int32_t offsets[17];
    DS_CHECK(E <= 16);
    offsets[0] = 0;
    for (int e = 0; e < E; e++) offsets[e + 1] = offsets[e] + counts[e];
    int R = offsets[E];
    ds_ctx *ctx = ds_ctx_new(DS_BACKEND_CPU, threads);
    DS_CHECK(ctx != NULL);
    uint16_t *wb;
    double *w64;
    rand_bf16((int64_t)E * N * K, 31, &wb, &w64);
    float *x = randf((int64_t)R * K, 32), *out = malloc(sizeof(float) * ((size_t)R * N + 1));
    double *ref = malloc(sizeof(double) * ((size_t)R * N + 1));
    ctx->ops->matmul_grouped_bf16_forward(ctx, out, x, wb, offsets, E, K, N);
    for (int e = 0; e < E; e++)
        for (int m = offsets[e]; m < offsets[e + 1]; m++)
            for (int n = 0; n < N; n++) {
                double acc = 0;
                for (int k = 0; k < K; k++)
                    acc += (double)x[(int64_t)m * K + k] * w64[((int64_t)e * N + n) * K + k];
                ref[(int64_t)m * N + n] = acc;
            }
    char what[96];
    snprintf(what, sizeof what, "bf16 grouped out E%d R%d K%d N%d t%d", E, R, K, N, threads);
    int64_t bad = ds_test_close_f64(what, out, ref, (int64_t)R * N, ATOL, RTOL);
    free(wb), free(w64), free(x), free(out), free(ref);
    ds_ctx_free(ctx);
    return bad != 0;
}

DS_TEST(matmul_grouped_bf16_forward) {
    int fails = 0;
    // one token routed top-2 among 4 experts (reference widths), 1 and 2 threads
    fails += check_grouped(1, (const int32_t[]){1, 0, 1, 0}, 4, 256, 512);
    fails += check_grouped(2, (const int32_t[]){1, 0, 1, 0}, 4, 256, 512);
    // uneven experts, an empty one in the middle and one at the end; tails everywhere
    fails += check_grouped(2, (const int32_t[]){3, 0, 5, 1, 0}, 5, 19, 10);
    return fails;
}
