// gelu.c: GELU, tanh approximation (Hendrycks & Gimpel 2016, eq. in section 2),
// as GPT-2 and llm.c: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
// Not here: the exact erf form (the vision encoder is trained with this one).
#include "kernels/cpu/cpu-impl.h"
#include "kernels/cpu/fast-exp.h"

#include <math.h>

#define GELU_SCALE 0.7978845608028654f // sqrt(2 / pi)

// tanh(u) = 1 - 2 / (exp(2u) + 1) through the vectorisable exp: libm's tanhf is a
// scalar call and was ~5% of a training step of the vision encoder. Absolute
// error ~1e-7 (the cancellation near 0 is absolute, and GELU multiplies by x).
static inline float fast_tanhf(float u) {
    return 1.0f - 2.0f / (ds_fast_expf(2.0f * u) + 1.0f);
}

typedef struct {
    float *out, *dinp;
    const float *inp, *dout;
    int64_t n;
} gelu_args;

static void gelu_forward_task(void *p, int ith, int nth) {
    const gelu_args *a = p;
    int64_t lo, hi;
    ds_split(a->n, ith, nth, &lo, &hi);
    for (int64_t i = lo; i < hi; i++) {
        float x = a->inp[i];
        a->out[i] = 0.5f * x * (1.0f + fast_tanhf(GELU_SCALE * (x + 0.044715f * x * x * x)));
    }
}

void ds_cpu_gelu_forward(ds_ctx *ctx, float *out, const float *inp, int64_t n) {
    gelu_args a = {.out = out, .inp = inp, .n = n};
    ds_cpu_run(ctx, gelu_forward_task, &a, n);
}

static void gelu_backward_task(void *p, int ith, int nth) {
    const gelu_args *a = p;
    int64_t lo, hi;
    ds_split(a->n, ith, nth, &lo, &hi);
    for (int64_t i = lo; i < hi; i++) {
        float x = a->inp[i];
        float u = GELU_SCALE * (x + 0.044715f * x * x * x);
        float th = fast_tanhf(u);
        float sech2 = 1.0f - th * th;
        float du = GELU_SCALE * (1.0f + 3.0f * 0.044715f * x * x);
        a->dinp[i] += a->dout[i] * (0.5f * (1.0f + th) + 0.5f * x * sech2 * du);
    }
}

void ds_cpu_gelu_backward(ds_ctx *ctx, float *dinp, const float *dout, const float *inp,
                          int64_t n) {
    if (!dinp) return;
    gelu_args a = {.dinp = dinp, .inp = inp, .dout = dout, .n = n};
    ds_cpu_run(ctx, gelu_backward_task, &a, n);
}
