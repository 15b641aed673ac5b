// adamw.c: one AdamW step (Loshchilov & Hutter 2019, "Decoupled Weight Decay
// Regularization", Algorithm 2) over a flat parameter array, as PyTorch's AdamW and llm.c's
// adamw_update do: the decay acts on the parameter directly, outside the adaptive scaling.
// Gradient clipping enters only through cfg->grad_scale; the norm is computed by the caller
// (ops->sumsq, ds_clip_scale). Not here: learning-rate schedules, per-group decay masks,
// mixed-precision master weights.
#include "kernels/cpu/cpu-impl.h"
#include "core/error.h"

#include <math.h>

typedef struct {
    float *p, *m, *v;
    const float *g;
    int64_t n;
    float lr, beta1, beta2, eps, wd, grad_scale;
    float inv_bc1, inv_bc2; // 1 / (1 - beta^step): the bias corrections
} adamw_args;

static void adamw_task(void *arg, int ith, int nth) {
    const adamw_args *a = arg;
    int64_t lo, hi;
    ds_split(a->n, ith, nth, &lo, &hi);
    float *restrict p = a->p, *restrict m = a->m, *restrict v = a->v;
    const float *restrict g = a->g;
    const float b1 = a->beta1, b2 = a->beta2, lr = a->lr, eps = a->eps, wd = a->wd;
    const float gsc = a->grad_scale, ibc1 = a->inv_bc1, ibc2 = a->inv_bc2;
    for (int64_t i = lo; i < hi; i++) {
        float gi = g[i] * gsc;
        float mi = b1 * m[i] + (1.0f - b1) * gi;
        float vi = b2 * v[i] + (1.0f - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        float mhat = mi * ibc1, vhat = vi * ibc2;
        p[i] -= lr * (mhat / (sqrtf(vhat) + eps) + wd * p[i]);
    }
}

void ds_cpu_adamw_update(ds_ctx *ctx, float *params, const float *grads, float *m, float *v,
                         int64_t n, const ds_adamw_cfg *cfg) {
    DS_ASSERT(cfg->step >= 1); // bias correction divides by 1 - beta^step
    adamw_args a = {.p = params,
                    .m = m,
                    .v = v,
                    .g = grads,
                    .n = n,
                    .lr = cfg->lr,
                    .beta1 = cfg->beta1,
                    .beta2 = cfg->beta2,
                    .eps = cfg->eps,
                    .wd = cfg->weight_decay,
                    .grad_scale = cfg->grad_scale,
                    // In double: 1 - 0.999^step loses digits in float for small steps.
                    .inv_bc1 = (float)(1.0 / (1.0 - pow(cfg->beta1, cfg->step))),
                    .inv_bc2 = (float)(1.0 / (1.0 - pow(cfg->beta2, cfg->step)))};
    ds_pool_run(ctx->pool, adamw_task, &a);
}
