// test-softmax.c: softmax and softmax cross-entropy against naive double
// loops, backward against finite differences; ignored targets (< 0) give
// loss 0 and no gradient; large logits do not overflow.
#include "tests/test.h"
#include "kernels/ops.h"

#include <math.h>
#include <stdlib.h>

typedef struct {
    double *x, *seed, *out;
    const int32_t *targets;
    int T, V;
} sm_env;

static void softmax64(const double *x, double *y, int V) {
    double mx = -INFINITY, s = 0;
    for (int v = 0; v < V; v++) mx = fmax(mx, x[v]);
    for (int v = 0; v < V; v++) s += exp(x[v] - mx);
    for (int v = 0; v < V; v++) y[v] = exp(x[v] - mx) / s;
}

static double softmax_loss(void *p) {
    sm_env *e = p;
    double loss = 0;
    for (int t = 0; t < e->T; t++) {
        softmax64(e->x + t * e->V, e->out + t * e->V, e->V);
        for (int v = 0; v < e->V; v++) loss += e->out[t * e->V + v] * e->seed[t * e->V + v];
    }
    return loss;
}

// sum over counted rows of seed[t] * -log p[target]
static double ce_loss(void *p) {
    sm_env *e = p;
    double loss = 0;
    for (int t = 0; t < e->T; t++) {
        if (e->targets[t] < 0) continue;
        softmax64(e->x + t * e->V, e->out + t * e->V, e->V);
        loss += -log(e->out[t * e->V + e->targets[t]]) * e->seed[t];
    }
    return loss;
}

DS_TEST(softmax_grad) {
    enum { T = 6, V = 11 };
    int64_t bad = 0;
    for (int threads = 1; threads <= 2; threads++) {
        ds_ctx *ctx = ds_ctx_new(DS_BACKEND_CPU, threads);
        DS_CHECK(ctx != NULL);
        float x[T * V], seed[T * V], y[T * V], dx[T * V];
        double x64[T * V], s64[T * V], out64[T * V], g[T * V];
        ds_test_randn(x, T * V, 31, 3.0f);
        x[5] = 500.0f; // would overflow expf without the max subtraction
        ds_test_randn(seed, T * V, 32, 1.0f);
        ds_test_to_f64(x64, x, T * V), ds_test_to_f64(s64, seed, T * V);
        sm_env env = {x64, s64, out64, NULL, T, V};
        softmax_loss(&env);
        ctx->ops->softmax_forward(ctx, y, x, T, V);
        bad += ds_test_close_f64("softmax out (with a 500 logit)", y, out64, T * V, 1e-6, 1e-5);
        x[5] = x64[5] = 0.7; // finite differences around moderate values
        ctx->ops->softmax_forward(ctx, y, x, T, V);
        ds_test_fd_grad(x64, T * V, g, softmax_loss, &env, 1e-5);
        for (int i = 0; i < T * V; i++) dx[i] = 0.5f, g[i] += 0.5;
        ctx->ops->softmax_backward(ctx, dx, seed, y, T, V);
        bad += ds_test_close_f64("softmax dinp (FD, +0.5)", dx, g, T * V, 1e-4, 1e-3);
        ds_ctx_free(ctx);
    }
    return bad != 0;
}

DS_TEST(crossentropy_grad) {
    enum { T = 7, V = 13 };
    int64_t bad = 0;
    const int32_t targets[T] = {3, -1, 0, 12, -1, 7, 7};
    for (int threads = 1; threads <= 2; threads++) {
        ds_ctx *ctx = ds_ctx_new(DS_BACKEND_CPU, threads);
        DS_CHECK(ctx != NULL);
        float x[T * V], probs[T * V], losses[T], dl[T], dx[T * V];
        double x64[T * V], out64[T * V], dl64[T], ref[T], g[T * V];
        ds_test_randn(x, T * V, 41, 2.0f);
        ds_test_randn(dl, T, 42, 1.0f);
        ds_test_to_f64(x64, x, T * V), ds_test_to_f64(dl64, dl, T);
        sm_env env = {x64, dl64, out64, targets, T, V};
        ctx->ops->crossentropy_forward(ctx, losses, probs, x, targets, T, V);
        for (int t = 0; t < T; t++) {
            softmax64(x64 + t * V, out64 + t * V, V);
            ref[t] = targets[t] < 0 ? 0 : -log(out64[t * V + targets[t]]);
        }
        bad += ds_test_close_f64("ce losses (ignored rows 0)", losses, ref, T, 1e-6, 1e-5);
        bad +=
            ds_test_close_f64("ce probs (also for ignored rows)", probs, out64, T * V, 1e-6, 1e-5);
        ds_test_fd_grad(x64, T * V, g, ce_loss, &env, 1e-5);
        for (int i = 0; i < T * V; i++) dx[i] = 0.25f, g[i] += 0.25;
        ctx->ops->crossentropy_backward(ctx, dx, dl, probs, targets, T, V);
        bad += ds_test_close_f64("ce dlogits (FD, +0.25)", dx, g, T * V, 1e-4, 1e-3);
        for (int v = 0; v < V; v++) bad += dx[1 * V + v] != 0.25f || dx[4 * V + v] != 0.25f;
        // A confident wrong answer: loss from the logits stays finite where the prob underflows.
        float big[3] = {0.0f, 200.0f, 0.0f}, p3[3], l1;
        int32_t tgt = 0;
        ctx->ops->crossentropy_forward(ctx, &l1, p3, big, &tgt, 1, 3);
        printf("  ce with logit gap 200: loss %.3f (want 200)\n", l1);
        bad += !(fabsf(l1 - 200.0f) < 1e-3f);
        ds_ctx_free(ctx);
    }
    return bad != 0;
}
