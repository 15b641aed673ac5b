// test-activations.c: GELU (tanh form), SiLU and SwiGLU against naive double
// formulas and their backward passes against finite differences.
#include "tests/test.h"
#include "kernels/ops.h"

#include <math.h>
#include <stdlib.h>

typedef struct {
    double *x, *seed, *out;
    int64_t n; // elements (gelu, silu) or rows (swiglu)
    int H, kind;
} act_env;

enum { ACT_GELU, ACT_SILU, ACT_SWIGLU };

static double gelu64(double x) {
    return 0.5 * x * (1 + tanh(sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
}

static double silu64(double x) {
    return x / (1 + exp(-x));
}

static double act_loss(void *p) {
    act_env *e = p;
    double loss = 0;
    if (e->kind == ACT_SWIGLU) {
        for (int64_t t = 0; t < e->n; t++)
            for (int h = 0; h < e->H; h++) {
                double y = silu64(e->x[t * 2 * e->H + h]) * e->x[t * 2 * e->H + e->H + h];
                e->out[t * e->H + h] = y;
                loss += y * e->seed[t * e->H + h];
            }
        return loss;
    }
    for (int64_t i = 0; i < e->n; i++) {
        e->out[i] = e->kind == ACT_GELU ? gelu64(e->x[i]) : silu64(e->x[i]);
        loss += e->out[i] * e->seed[i];
    }
    return loss;
}

static int check_act(int kind, int threads, int rows, int H) {
    ds_ctx *ctx = ds_ctx_new(DS_BACKEND_CPU, threads);
    DS_CHECK(ctx != NULL);
    int64_t n_in = kind == ACT_SWIGLU ? (int64_t)rows * 2 * H : (int64_t)rows * H;
    int64_t n_out = (int64_t)rows * H;
    float *x = malloc(n_in * 4), *seed = malloc(n_out * 4), *y = malloc(n_out * 4);
    float *dx = malloc(n_in * 4);
    double *x64 = malloc(n_in * 8), *s64 = malloc(n_out * 8), *ref = malloc(n_out * 8);
    double *g = malloc(n_in * 8);
    ds_test_randn(x, n_in, 51, 2.0f);
    ds_test_randn(seed, n_out, 52, 1.0f);
    ds_test_to_f64(x64, x, n_in), ds_test_to_f64(s64, seed, n_out);
    act_env env = {x64, s64, ref, kind == ACT_SWIGLU ? rows : n_out, H, kind};
    act_loss(&env);
    const char *name = kind == ACT_GELU ? "gelu" : kind == ACT_SILU ? "silu" : "swiglu";
    char what[64];
    int64_t bad = 0;
    if (kind == ACT_GELU) ctx->ops->gelu_forward(ctx, y, x, n_out);
    if (kind == ACT_SILU) ctx->ops->silu_forward(ctx, y, x, n_out);
    if (kind == ACT_SWIGLU) ctx->ops->swiglu_forward(ctx, y, x, rows, H);
    snprintf(what, sizeof what, "%s out n%lld t%d", name, (long long)n_out, threads);
    bad += ds_test_close_f64(what, y, ref, n_out, 1e-6, 1e-5);
    ds_test_fd_grad(x64, n_in, g, act_loss, &env, 1e-5);
    for (int64_t i = 0; i < n_in; i++) dx[i] = 0.5f, g[i] += 0.5;
    if (kind == ACT_GELU) ctx->ops->gelu_backward(ctx, dx, seed, x, n_out);
    if (kind == ACT_SILU) ctx->ops->silu_backward(ctx, dx, seed, x, n_out);
    if (kind == ACT_SWIGLU) ctx->ops->swiglu_backward(ctx, dx, seed, x, rows, H);
    snprintf(what, sizeof what, "%s dinp n%lld t%d (FD, +0.5)", name, (long long)n_in, threads);
    bad += ds_test_close_f64(what, dx, g, n_in, 1e-4, 1e-3);
    free(x), free(seed), free(y), free(dx), free(x64), free(s64), free(ref), free(g);
    ds_ctx_free(ctx);
    return bad != 0;
}

DS_TEST(gelu_grad) {
    return check_act(ACT_GELU, 1, 1, 37) + check_act(ACT_GELU, 2, 3, 41);
}

DS_TEST(silu_grad) {
    return check_act(ACT_SILU, 1, 1, 37) + check_act(ACT_SILU, 2, 3, 41);
}

DS_TEST(swiglu_grad) {
    return check_act(ACT_SWIGLU, 1, 3, 5) + check_act(ACT_SWIGLU, 2, 9, 7);
}
