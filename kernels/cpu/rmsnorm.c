// rmsnorm.c: RMSNorm (Zhang & Sennrich 2019): out = inp * rstd * weight with
// rstd = 1 / sqrt(mean(inp^2) + eps), per row of C; forward saves rstd (T).
// Backward: with xhat = inp * rstd and g = dout * weight,
// dinp = rstd * (g - xhat * mean(g * xhat)), dweight = sum over rows of dout * xhat.
// Not here: a bias, or a "1 + weight" parameterisation.
#include "kernels/cpu/cpu-impl.h"
#include "kernels/cpu/norm-reduce.h"

#include <math.h>

typedef struct {
    float *out, *rstd, *dinp, *dweight_partials;
    const float *inp, *weight, *dout, *saved_rstd;
    int T, C;
    float eps;
} rmsnorm_args;

static void rmsnorm_forward_task(void *p, int ith, int nth) {
    const rmsnorm_args *a = p;
    int64_t lo, hi;
    ds_split(a->T, ith, nth, &lo, &hi);
    for (int64_t t = lo; t < hi; t++) {
        const float *x = a->inp + t * a->C;
        float *y = a->out + t * a->C;
        float ss = 0.0f;
        for (int c = 0; c < a->C; c++) ss += x[c] * x[c];
        float r = 1.0f / sqrtf(ss / (float)a->C + a->eps);
        for (int c = 0; c < a->C; c++) y[c] = x[c] * r * a->weight[c];
        a->rstd[t] = r;
    }
}

void ds_cpu_rmsnorm_forward(ds_ctx *ctx, float *out, float *rstd, const float *inp,
                            const float *weight, int T, int C, float eps) {
    rmsnorm_args a = {
        .out = out, .rstd = rstd, .inp = inp, .weight = weight, .T = T, .C = C, .eps = eps};
    ds_cpu_run(ctx, rmsnorm_forward_task, &a, (int64_t)T * C);
}

static void rmsnorm_backward_task(void *p, int ith, int nth) {
    const rmsnorm_args *a = p;
    const int C = a->C;
    float *dw = a->dweight_partials ? a->dweight_partials + ith * (((int64_t)C + 15) & ~15) : NULL;
    int64_t lo, hi;
    ds_split(a->T, ith, nth, &lo, &hi);
    for (int64_t t = lo; t < hi; t++) {
        const float *x = a->inp + t * C, *dy = a->dout + t * C;
        float r = a->saved_rstd[t];
        float dot = 0.0f; // sum of g * xhat
        for (int c = 0; c < C; c++) dot += dy[c] * a->weight[c] * x[c] * r;
        dot /= (float)C;
        if (a->dinp) {
            float *dx = a->dinp + t * C;
            for (int c = 0; c < C; c++) dx[c] += r * (dy[c] * a->weight[c] - x[c] * r * dot);
        }
        if (dw)
            for (int c = 0; c < C; c++) dw[c] += dy[c] * x[c] * r;
    }
}

void ds_cpu_rmsnorm_backward(ds_ctx *ctx, float *dinp, float *dweight, const float *dout,
                             const float *inp, const float *weight, const float *rstd, int T,
                             int C) {
    rmsnorm_args a = {.dinp = dinp,
                      .dweight_partials = dweight ? ds_norm_partials(ctx, C) : NULL,
                      .inp = inp,
                      .weight = weight,
                      .dout = dout,
                      .saved_rstd = rstd,
                      .T = T,
                      .C = C};
    ds_cpu_run(ctx, rmsnorm_backward_task, &a, (int64_t)T * C);
    if (dweight) ds_norm_reduce(ctx, dweight, a.dweight_partials, C);
}
