// layernorm.c: LayerNorm (Ba et al. 2016) over rows of C, as in the vision
// encoder: out = (inp - mean) * rstd * weight + bias; forward saves mean and
// rstd (T). Backward as llm.c's layernorm_backward: with xhat and
// g = dout * weight, dinp = rstd * (g - mean(g) - xhat * mean(g * xhat)).
// Not here: RMSNorm (rmsnorm.c), a learnable-free variant.
#include "kernels/cpu/cpu-impl.h"
#include "kernels/cpu/norm-reduce.h"

#include <math.h>

typedef struct {
    float *out, *mean, *rstd, *dinp, *dw_partials, *db_partials;
    const float *inp, *weight, *bias, *dout, *saved_mean, *saved_rstd;
    int T, C;
    float eps;
} layernorm_args;

static void layernorm_forward_task(void *p, int ith, int nth) {
    const layernorm_args *a = p;
    const int C = a->C;
    int64_t lo, hi;
    ds_split(a->T, ith, nth, &lo, &hi);
    for (int64_t t = lo; t < hi; t++) {
        const float *x = a->inp + t * C;
        float *y = a->out + t * C;
        float m = 0.0f;
        for (int c = 0; c < C; c++) m += x[c];
        m /= (float)C;
        float v = 0.0f; // two passes: no cancellation from E[x^2] - E[x]^2
        for (int c = 0; c < C; c++) v += (x[c] - m) * (x[c] - m);
        float r = 1.0f / sqrtf(v / (float)C + a->eps);
        for (int c = 0; c < C; c++) y[c] = (x[c] - m) * r * a->weight[c] + a->bias[c];
        a->mean[t] = m;
        a->rstd[t] = r;
    }
}

void ds_cpu_layernorm_forward(ds_ctx *ctx, float *out, float *mean, float *rstd, const float *inp,
                              const float *weight, const float *bias, int T, int C, float eps) {
    layernorm_args a = {.out = out,
                        .mean = mean,
                        .rstd = rstd,
                        .inp = inp,
                        .weight = weight,
                        .bias = bias,
                        .T = T,
                        .C = C,
                        .eps = eps};
    ds_pool_run(ctx->pool, layernorm_forward_task, &a);
}

static void layernorm_backward_task(void *p, int ith, int nth) {
    const layernorm_args *a = p;
    const int C = a->C;
    int64_t pad = ((int64_t)C + 15) & ~15;
    float *dw = a->dw_partials ? a->dw_partials + ith * pad : NULL;
    float *db = a->db_partials ? a->db_partials + ith * pad : NULL;
    int64_t lo, hi;
    ds_split(a->T, ith, nth, &lo, &hi);
    for (int64_t t = lo; t < hi; t++) {
        const float *x = a->inp + t * C, *dy = a->dout + t * C;
        float m = a->saved_mean[t], r = a->saved_rstd[t];
        float g_mean = 0.0f, gx_mean = 0.0f;
        for (int c = 0; c < C; c++) {
            float g = dy[c] * a->weight[c];
            g_mean += g;
            gx_mean += g * (x[c] - m) * r;
        }
        g_mean /= (float)C;
        gx_mean /= (float)C;
        if (a->dinp) {
            float *dx = a->dinp + t * C;
            for (int c = 0; c < C; c++) {
                float xhat = (x[c] - m) * r;
                dx[c] += r * (dy[c] * a->weight[c] - g_mean - xhat * gx_mean);
            }
        }
        if (dw)
            for (int c = 0; c < C; c++) dw[c] += dy[c] * (x[c] - m) * r;
        if (db)
            for (int c = 0; c < C; c++) db[c] += dy[c];
    }
}

void ds_cpu_layernorm_backward(ds_ctx *ctx, float *dinp, float *dweight, float *dbias,
                               const float *dout, const float *inp, const float *weight,
                               const float *mean, const float *rstd, int T, int C) {
    // One scratch holds both partial sets: dweight's slices, then dbias's.
    int64_t pad = ((int64_t)C + 15) & ~15;
    float *partials = (dweight || dbias) ? ds_norm_partials(ctx, (int)(2 * pad)) : NULL;
    int nth = ds_pool_size(ctx->pool);
    layernorm_args a = {.dinp = dinp,
                        .inp = inp,
                        .weight = weight,
                        .dout = dout,
                        .saved_mean = mean,
                        .saved_rstd = rstd,
                        .T = T,
                        .C = C};
    if (dweight) a.dw_partials = partials;
    if (dbias) a.db_partials = partials + nth * pad;
    ds_pool_run(ctx->pool, layernorm_backward_task, &a);
    if (dweight) ds_norm_reduce(ctx, dweight, a.dw_partials, C);
    if (dbias) ds_norm_reduce(ctx, dbias, a.db_partials, C);
}
