// test-norms.c: RMSNorm and LayerNorm against naive double loops (forward,
// saved statistics) and central finite differences of those loops (backward:
// inputs, weight, bias), accumulating onto pre-filled gradients, 1 and 2 threads.
#include "tests/test.h"
#include "kernels/ops.h"

#include <math.h>
#include <stdlib.h>

typedef struct {
    double *x, *w, *b, *seed;
    int T, C, layer; // layer: 1 LayerNorm, 0 RMSNorm
    double eps;
    double *out; // optional: the forward's output
} norm_env;

static double norm_loss(void *p) {
    norm_env *e = p;
    double loss = 0;
    for (int t = 0; t < e->T; t++) {
        const double *x = e->x + t * e->C;
        double m = 0, v = 0;
        if (e->layer) {
            for (int c = 0; c < e->C; c++) m += x[c];
            m /= e->C;
        }
        for (int c = 0; c < e->C; c++) v += (x[c] - m) * (x[c] - m);
        double r = 1.0 / sqrt(v / e->C + e->eps);
        for (int c = 0; c < e->C; c++) {
            double y = (x[c] - m) * r * e->w[c] + (e->layer ? e->b[c] : 0);
            if (e->out) e->out[t * e->C + c] = y;
            loss += y * e->seed[t * e->C + c];
        }
    }
    return loss;
}

static int check_norm(int layer, int threads, int T, int C) {
    ds_ctx *ctx = ds_ctx_new(DS_BACKEND_CPU, threads);
    DS_CHECK(ctx != NULL);
    int64_t n = (int64_t)T * C;
    float *x = malloc(n * 4), *w = malloc(C * 4), *b = malloc(C * 4), *seed = malloc(n * 4);
    float *out = malloc(n * 4), *mean = malloc(T * 4), *rstd = malloc(T * 4);
    ds_test_randn(x, n, 21, 1.5f);
    for (int64_t i = 0; i < n; i++) x[i] += 0.3f; // a non-zero mean matters for LayerNorm
    ds_test_randn(w, C, 22, 1.0f);
    ds_test_randn(b, C, 23, 1.0f);
    ds_test_randn(seed, n, 24, 1.0f);
    double *x64 = malloc(n * 8), *w64 = malloc(C * 8), *b64 = malloc(C * 8), *s64 = malloc(n * 8);
    double *ref = malloc(n * 8), *gx = malloc(n * 8), *gw = malloc(C * 8), *gb = malloc(C * 8);
    ds_test_to_f64(x64, x, n), ds_test_to_f64(w64, w, C), ds_test_to_f64(b64, b, C);
    ds_test_to_f64(s64, seed, n);
    const float eps = 1e-5f;
    norm_env env = {x64, w64, b64, s64, T, C, layer, eps, ref};
    norm_loss(&env);
    env.out = NULL;
    const char *name = layer ? "layernorm" : "rmsnorm";
    char what[80];
    int64_t bad = 0;
    if (layer)
        ctx->ops->layernorm_forward(ctx, out, mean, rstd, x, w, b, T, C, eps);
    else
        ctx->ops->rmsnorm_forward(ctx, out, rstd, x, w, T, C, eps);
    snprintf(what, sizeof what, "%s out T%d C%d t%d", name, T, C, threads);
    bad += ds_test_close_f64(what, out, ref, n, 1e-5, 1e-4);

    ds_test_fd_grad(x64, n, gx, norm_loss, &env, 1e-5);
    ds_test_fd_grad(w64, C, gw, norm_loss, &env, 1e-5);
    if (layer) ds_test_fd_grad(b64, C, gb, norm_loss, &env, 1e-5);
    float *dx = malloc(n * 4), *dw = malloc(C * 4), *db = malloc(C * 4);
    for (int64_t i = 0; i < n; i++) dx[i] = 0.5f, gx[i] += 0.5;
    for (int c = 0; c < C; c++) dw[c] = db[c] = 0.5f, gw[c] += 0.5, gb[c] += 0.5;
    if (layer)
        ctx->ops->layernorm_backward(ctx, dx, dw, db, seed, x, w, mean, rstd, T, C);
    else
        ctx->ops->rmsnorm_backward(ctx, dx, dw, seed, x, w, rstd, T, C);
    snprintf(what, sizeof what, "%s dinp T%d C%d t%d (FD, +0.5)", name, T, C, threads);
    bad += ds_test_close_f64(what, dx, gx, n, 1e-4, 1e-3);
    snprintf(what, sizeof what, "%s dweight T%d C%d t%d (FD, +0.5)", name, T, C, threads);
    bad += ds_test_close_f64(what, dw, gw, C, 1e-4, 1e-3);
    if (layer) {
        snprintf(what, sizeof what, "%s dbias T%d C%d t%d (FD, +0.5)", name, T, C, threads);
        bad += ds_test_close_f64(what, db, gb, C, 1e-4, 1e-3);
    }
    free(x), free(w), free(b), free(seed), free(out), free(mean), free(rstd), free(x64);
    free(w64), free(b64), free(s64), free(ref), free(gx), free(gw), free(gb), free(dx), free(dw);
    free(db);
    ds_ctx_free(ctx);
    return bad != 0;
}

DS_TEST(rmsnorm_grad) {
    return check_norm(0, 1, 3, 7) + check_norm(0, 2, 9, 13) + check_norm(0, 3, 2, 33);
}

DS_TEST(layernorm_grad) {
    return check_norm(1, 1, 3, 7) + check_norm(1, 2, 9, 13) + check_norm(1, 3, 2, 33);
}
