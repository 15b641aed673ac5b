// test-adamw.c: the AdamW step of the CPU backend against a naive double-precision AdamW
// (decoupled decay, PyTorch / llm.c form) over several steps, and gradient clipping through
// ops->sumsq and ds_clip_scale against a naive double norm.
#include "tests/test.h"
#include "kernels/ops.h"

#include <math.h>
#include <stdlib.h>

// One reference step in double on p, m, v (n), gradient g already multiplied by grad_scale.
static void ref_adamw(double *p, double *m, double *v, const double *g, int64_t n,
                      const ds_adamw_cfg *c) {
    double b1 = c->beta1, b2 = c->beta2;
    double bc1 = 1.0 - pow(b1, c->step), bc2 = 1.0 - pow(b2, c->step);
    for (int64_t i = 0; i < n; i++) {
        m[i] = b1 * m[i] + (1 - b1) * g[i];
        v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
        double mhat = m[i] / bc1, vhat = v[i] / bc2;
        p[i] -= (double)c->lr * (mhat / (sqrt(vhat) + c->eps) + (double)c->weight_decay * p[i]);
    }
}

DS_TEST(adamw_steps) {
    ds_ctx *ctx = ds_ctx_new(DS_BACKEND_CPU, 2);
    DS_CHECK(ctx != NULL);
    const int64_t n = 1001;
    const int steps = 5;
    int fails = 0;
    float *p = malloc(sizeof(float) * n), *g = malloc(sizeof(float) * n);
    float *m = calloc((size_t)n, sizeof(float)), *v = calloc((size_t)n, sizeof(float));
    double *pd = malloc(sizeof(double) * n), *gd = malloc(sizeof(double) * n);
    double *md = calloc((size_t)n, sizeof(double)), *vd = calloc((size_t)n, sizeof(double));
    ds_test_randn(p, n, 1, 1.0f);
    ds_test_to_f64(pd, p, n);
    ds_adamw_cfg cfg = {.lr = 1e-2f,
                        .beta1 = 0.9f,
                        .beta2 = 0.95f,
                        .eps = 1e-8f,
                        .weight_decay = 0.1f,
                        .grad_scale = 0.7f};
    for (int s = 1; s <= steps; s++) {
        cfg.step = s;
        ds_test_randn(g, n, 100 + (uint64_t)s, 0.5f);
        for (int64_t i = 0; i < n; i++) gd[i] = (double)g[i] * cfg.grad_scale;
        ctx->ops->adamw_update(ctx, p, g, m, v, n, &cfg);
        ref_adamw(pd, md, vd, gd, n, &cfg);
    }
    fails += ds_test_close_f64("adamw params after 5 steps", p, pd, n, 1e-6, 1e-5) != 0;
    fails += ds_test_close_f64("adamw m after 5 steps", m, md, n, 1e-7, 1e-5) != 0;
    fails += ds_test_close_f64("adamw v after 5 steps", v, vd, n, 1e-8, 1e-5) != 0;
    free(p);
    free(g);
    free(m);
    free(v);
    free(pd);
    free(gd);
    free(md);
    free(vd);
    ds_ctx_free(ctx);
    return fails != 0;
}

DS_TEST(adamw_clip) {
    ds_ctx *ctx = ds_ctx_new(DS_BACKEND_CPU, 2);
    DS_CHECK(ctx != NULL);
    const int64_t n = 3001;
    const float max_norm = 1.0f;
    int fails = 0;
    float *p = malloc(sizeof(float) * n), *g = malloc(sizeof(float) * n);
    float *m = calloc((size_t)n, sizeof(float)), *v = calloc((size_t)n, sizeof(float));
    double *pd = malloc(sizeof(double) * n), *gd = malloc(sizeof(double) * n);
    double *md = calloc((size_t)n, sizeof(double)), *vd = calloc((size_t)n, sizeof(double));
    ds_test_randn(p, n, 3, 1.0f);
    ds_test_randn(g, n, 4, 2.0f);
    ds_test_to_f64(pd, p, n);

    double ss = ctx->ops->sumsq(ctx, g, n), ref = 0;
    for (int64_t i = 0; i < n; i++) ref += (double)g[i] * g[i];
    double rel = fabs(ss - ref) / ref;
    printf("  sumsq n=%lld: got %.15g want %.15g rel %.3e (rtol 1e-12) %s\n", (long long)n, ss, ref,
           rel, rel <= 1e-12 ? "ok" : "MISMATCH");
    fails += !(rel <= 1e-12);

    double norm = sqrt(ss);
    float scale = ds_clip_scale(norm, max_norm);
    float want = (float)(max_norm / sqrt(ref));
    printf("  clip scale norm %.6g max %.1f: got %.9g want %.9g\n", norm, (double)max_norm,
           (double)scale, (double)want);
    DS_CHECK(norm > max_norm); // the data is meant to need clipping
    DS_CHECK(fabsf(scale - want) <= 1e-6f * want);
    DS_CHECK(ds_clip_scale(norm, (float)(norm * 2)) == 1.0f); // under the limit: unchanged
    DS_CHECK(ds_clip_scale(norm, 0.0f) == 1.0f);              // max_norm 0: clipping off

    // The clipped gradient has norm max_norm, and the step matches the reference on it.
    double clipped = 0;
    for (int64_t i = 0; i < n; i++) {
        gd[i] = (double)g[i] * scale;
        clipped += gd[i] * gd[i];
    }
    printf("  clipped norm %.9g (want %.1f)\n", sqrt(clipped), (double)max_norm);
    DS_CHECK(fabs(sqrt(clipped) - max_norm) <= 1e-6);
    ds_adamw_cfg cfg = {.lr = 3e-3f,
                        .beta1 = 0.9f,
                        .beta2 = 0.999f,
                        .eps = 1e-8f,
                        .weight_decay = 0.05f,
                        .grad_scale = scale,
                        .step = 1};
    ctx->ops->adamw_update(ctx, p, g, m, v, n, &cfg);
    ref_adamw(pd, md, vd, gd, n, &cfg);
    fails += ds_test_close_f64("adamw params, clipped grads", p, pd, n, 1e-6, 1e-5) != 0;
    fails += ds_test_close_f64("adamw v, clipped grads", v, vd, n, 1e-10, 1e-5) != 0;
    free(p);
    free(g);
    free(m);
    free(v);
    free(pd);
    free(gd);
    free(md);
    free(vd);
    ds_ctx_free(ctx);
    return fails != 0;
}
