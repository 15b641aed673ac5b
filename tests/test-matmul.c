// test-matmul.c: the linear layer and the grouped (per-expert) matmul against
// naive double loops (forward) and central finite differences of those loops
// (backward), with 1 and 2 threads and with both row and column splits; the
// backward passes must accumulate into gradients that already hold values.
#include "tests/test.h"
#include "kernels/ops.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    const double *inp, *w, *b, *seed; // seed: fixed random weights of the scalar loss
    const int32_t *offsets;           // grouped only
    int M, K, N, E;
} mm_env;

// loss = sum(out * seed), out = inp @ w^T + b in double.
static double mm_loss(void *p) {
    const mm_env *e = p;
    double loss = 0;
    for (int m = 0; m < e->M; m++)
        for (int n = 0; n < e->N; n++) {
            double acc = e->b ? e->b[n] : 0;
            for (int k = 0; k < e->K; k++) acc += e->inp[m * e->K + k] * e->w[n * e->K + k];
            loss += acc * e->seed[m * e->N + n];
        }
    return loss;
}

// Grouped: row m belongs to the expert whose [offsets[e], offsets[e+1]) holds it.
static double grouped_loss(void *p) {
    const mm_env *e = p;
    double loss = 0;
    for (int x = 0; x < e->E; x++)
        for (int m = e->offsets[x]; m < e->offsets[x + 1]; m++)
            for (int n = 0; n < e->N; n++) {
                double acc = 0;
                for (int k = 0; k < e->K; k++)
                    acc += e->inp[m * e->K + k] * e->w[((int64_t)x * e->N + n) * e->K + k];
                loss += acc * e->seed[m * e->N + n];
            }
    return loss;
}

static float *randf(int64_t n, uint64_t seed) {
    float *x = malloc((size_t)(n ? n : 1) * sizeof(float));
    ds_test_randn(x, n, seed, 1.0f);
    return x;
}

static double *to64(const float *x, int64_t n) {
    double *d = malloc((size_t)(n ? n : 1) * sizeof(double));
    ds_test_to_f64(d, x, n);
    return d;
}

static int check_matmul(int threads, int M, int K, int N, int with_bias) {
    ds_ctx *ctx = ds_ctx_new(DS_BACKEND_CPU, threads);
    DS_CHECK(ctx != NULL);
    float *inp = randf((int64_t)M * K, 1), *w = randf((int64_t)N * K, 2), *b = randf(N, 3);
    float *seed = randf((int64_t)M * N, 4), *out = malloc((size_t)M * N * sizeof(float));
    double *inp64 = to64(inp, (int64_t)M * K), *w64 = to64(w, (int64_t)N * K), *b64 = to64(b, N);
    double *seed64 = to64(seed, (int64_t)M * N);
    mm_env env = {inp64, w64, with_bias ? b64 : NULL, seed64, NULL, M, K, N, 0};
    char what[96];
    int64_t bad = 0;

    // forward vs the naive loop: out[m, n] is the loss's derivative by seed[m, n]
    ctx->ops->matmul_forward(ctx, out, inp, w, with_bias ? b : NULL, M, K, N);
    double *ref = malloc((size_t)M * N * sizeof(double));
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            double acc = with_bias ? b64[n] : 0;
            for (int k = 0; k < K; k++) acc += inp64[m * K + k] * w64[n * K + k];
            ref[m * N + n] = acc;
        }
    snprintf(what, sizeof what, "out %dx%dx%d t%d bias%d", M, K, N, threads, with_bias);
    bad += ds_test_close_f64(what, out, ref, (int64_t)M * N, 1e-5, 1e-4);

    // backward vs finite differences, accumulating onto 0.5
    double *g_inp = malloc((size_t)M * K * sizeof(double)), *g_w = malloc((size_t)N * K * 8);
    double *g_b = malloc((size_t)N * sizeof(double));
    ds_test_fd_grad(inp64, (int64_t)M * K, g_inp, mm_loss, &env, 1e-4);
    ds_test_fd_grad(w64, (int64_t)N * K, g_w, mm_loss, &env, 1e-4);
    if (with_bias) ds_test_fd_grad(b64, N, g_b, mm_loss, &env, 1e-4);
    for (int64_t i = 0; i < (int64_t)M * K; i++) g_inp[i] += 0.5;
    for (int64_t i = 0; i < (int64_t)N * K; i++) g_w[i] += 0.5;
    for (int i = 0; i < N; i++) g_b[i] += 0.5;
    float *dinp = malloc((size_t)M * K * 4), *dw = malloc((size_t)N * K * 4),
          *db = malloc((size_t)N * 4);
    for (int64_t i = 0; i < (int64_t)M * K; i++) dinp[i] = 0.5f;
    for (int64_t i = 0; i < (int64_t)N * K; i++) dw[i] = 0.5f;
    for (int i = 0; i < N; i++) db[i] = 0.5f;
    ctx->ops->matmul_backward(ctx, dinp, dw, with_bias ? db : NULL, seed, inp, w, M, K, N);
    snprintf(what, sizeof what, "dinp %dx%dx%d t%d (FD, +0.5)", M, K, N, threads);
    bad += ds_test_close_f64(what, dinp, g_inp, (int64_t)M * K, 1e-4, 1e-3);
    snprintf(what, sizeof what, "dweight %dx%dx%d t%d (FD, +0.5)", M, K, N, threads);
    bad += ds_test_close_f64(what, dw, g_w, (int64_t)N * K, 1e-4, 1e-3);
    if (with_bias) {
        snprintf(what, sizeof what, "dbias %dx%dx%d t%d (FD, +0.5)", M, K, N, threads);
        bad += ds_test_close_f64(what, db, g_b, N, 1e-4, 1e-3);
    } else {
        for (int i = 0; i < N; i++) bad += db[i] != 0.5f; // NULL dbias: untouched
    }
    free(inp), free(w), free(b), free(seed), free(out), free(inp64), free(w64), free(b64);
    free(seed64), free(ref), free(g_inp), free(g_w), free(g_b), free(dinp), free(dw), free(db);
    ds_ctx_free(ctx);
    return bad != 0;
}

DS_TEST(matmul_forward_backward) {
    int fails = 0;
    fails += check_matmul(1, 7, 13, 5, 1);
    fails += check_matmul(2, 7, 13, 5, 1);  // 7 rows < 8 * 2 threads: column split
    fails += check_matmul(2, 33, 9, 11, 1); // row split
    fails += check_matmul(2, 1, 17, 23, 0); // one row (decoding), no bias
    fails += check_matmul(3, 20, 6, 2, 1);  // more threads than columns
    return fails;
}

DS_TEST(matmul_forward_large) {
    // A bigger shape, forward only (the FD check above covers the gradients).
    const int M = 67, K = 50, N = 33;
    ds_ctx *ctx = ds_ctx_new(DS_BACKEND_CPU, 2);
    DS_CHECK(ctx != NULL);
    float *inp = randf(M * K, 5), *w = randf(N * K, 6), *b = randf(N, 7);
    float *out = malloc(M * N * sizeof(float));
    double *ref = malloc(M * N * sizeof(double));
    ctx->ops->matmul_forward(ctx, out, inp, w, b, M, K, N);
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            double acc = b[n];
            for (int k = 0; k < K; k++) acc += (double)inp[m * K + k] * w[n * K + k];
            ref[m * N + n] = acc;
        }
    int64_t bad = ds_test_close_f64("out 67x50x33 t2", out, ref, M * N, 1e-5, 1e-4);
    free(inp), free(w), free(b), free(out), free(ref);
    ds_ctx_free(ctx);
    return bad != 0;
}

static int check_grouped(int threads, const int32_t *counts, int E, int K, int N) {
    int32_t offsets[17];
    DS_CHECK(E <= 16);
    offsets[0] = 0;
    for (int e = 0; e < E; e++) offsets[e + 1] = offsets[e] + counts[e];
    int R = offsets[E];
    ds_ctx *ctx = ds_ctx_new(DS_BACKEND_CPU, threads);
    DS_CHECK(ctx != NULL);
    float *inp = randf((int64_t)R * K, 11), *w = randf((int64_t)E * N * K, 12);
    float *seed = randf((int64_t)R * N, 13), *out = malloc((size_t)R * N * 4 + 4);
    double *inp64 = to64(inp, (int64_t)R * K), *w64 = to64(w, (int64_t)E * N * K);
    double *seed64 = to64(seed, (int64_t)R * N);
    mm_env env = {inp64, w64, NULL, seed64, offsets, R, K, N, E};
    int64_t bad = 0;
    char what[96];
    ctx->ops->matmul_grouped_forward(ctx, out, inp, w, offsets, E, K, N);
    double *ref = malloc((size_t)R * N * 8 + 8);
    for (int e = 0; e < E; e++)
        for (int m = offsets[e]; m < offsets[e + 1]; m++)
            for (int n = 0; n < N; n++) {
                double acc = 0;
                for (int k = 0; k < K; k++)
                    acc += inp64[m * K + k] * w64[((int64_t)e * N + n) * K + k];
                ref[m * N + n] = acc;
            }
    snprintf(what, sizeof what, "grouped out E%d R%d K%d N%d t%d", E, R, K, N, threads);
    bad += ds_test_close_f64(what, out, ref, (int64_t)R * N, 1e-5, 1e-4);

    double *g_inp = malloc((size_t)R * K * 8 + 8), *g_w = malloc((size_t)E * N * K * 8);
    ds_test_fd_grad(inp64, (int64_t)R * K, g_inp, grouped_loss, &env, 1e-4);
    ds_test_fd_grad(w64, (int64_t)E * N * K, g_w, grouped_loss, &env, 1e-4);
    float *dinp = malloc((size_t)R * K * 4 + 4), *dw = malloc((size_t)E * N * K * 4);
    for (int64_t i = 0; i < (int64_t)R * K; i++) dinp[i] = 0.25f, g_inp[i] += 0.25;
    for (int64_t i = 0; i < (int64_t)E * N * K; i++) dw[i] = 0.25f, g_w[i] += 0.25;
    ctx->ops->matmul_grouped_backward(ctx, dinp, dw, seed, inp, w, offsets, E, K, N);
    snprintf(what, sizeof what, "grouped dinp E%d R%d t%d (FD, +0.25)", E, R, threads);
    bad += ds_test_close_f64(what, dinp, g_inp, (int64_t)R * K, 1e-4, 1e-3);
    snprintf(what, sizeof what, "grouped dweight E%d R%d t%d (FD, +0.25)", E, R, threads);
    bad += ds_test_close_f64(what, dw, g_w, (int64_t)E * N * K, 1e-4, 1e-3);
    free(inp), free(w), free(seed), free(out), free(inp64), free(w64), free(seed64), free(ref);
    free(g_inp), free(g_w), free(dinp), free(dw);
    ds_ctx_free(ctx);
    return bad != 0;
}

DS_TEST(matmul_grouped) {
    int fails = 0;
    // Uneven experts, an empty one in the middle and one at the end.
    fails += check_grouped(1, (const int32_t[]){3, 0, 5, 1, 0}, 5, 6, 4);
    fails += check_grouped(2, (const int32_t[]){3, 0, 5, 1, 0}, 5, 6, 4);
    // Blocks of 64 rows straddling expert boundaries; dweight split into column blocks.
    fails += check_grouped(2, (const int32_t[]){70, 2, 0, 61}, 4, 3, 67);
    return fails;
}
