// silu.c: SiLU, silu(x) = x * sigmoid(x) (Elfwing et al. 2018), and SwiGLU
// (Shazeer 2020, "GLU Variants Improve Transformer"): out = silu(gate) * up
// where each row of the input holds [gate | up] (T, 2H), the output of one
// fused GEMM, so experts run one GEMM for both projections.
// Not here: other GLU variants (GEGLU, ReGLU).
#include "kernels/cpu/cpu-impl.h"
#include "kernels/cpu/fast-exp.h"

typedef struct {
    float *out, *dinp;
    const float *inp, *dout;
    int64_t n; // silu: elements; swiglu: rows
    int H;
} silu_args;

// The vectorisable exp keeps these loops at memory speed (libm's expf does not vectorise).
static inline float sigmoidf(float x) {
    return ds_fast_sigmoidf(x);
}

static void silu_forward_task(void *p, int ith, int nth) {
    const silu_args *a = p;
    int64_t lo, hi;
    ds_split(a->n, ith, nth, &lo, &hi);
    for (int64_t i = lo; i < hi; i++) a->out[i] = a->inp[i] * sigmoidf(a->inp[i]);
}

void ds_cpu_silu_forward(ds_ctx *ctx, float *out, const float *inp, int64_t n) {
    silu_args a = {.out = out, .inp = inp, .n = n};
    ds_cpu_run(ctx, silu_forward_task, &a, n);
}

// d silu / dx = s + x s (1 - s), s = sigmoid(x)
static void silu_backward_task(void *p, int ith, int nth) {
    const silu_args *a = p;
    int64_t lo, hi;
    ds_split(a->n, ith, nth, &lo, &hi);
    for (int64_t i = lo; i < hi; i++) {
        float x = a->inp[i], s = sigmoidf(x);
        a->dinp[i] += a->dout[i] * s * (1.0f + x * (1.0f - s));
    }
}

void ds_cpu_silu_backward(ds_ctx *ctx, float *dinp, const float *dout, const float *inp,
                          int64_t n) {
    if (!dinp) return;
    silu_args a = {.dinp = dinp, .inp = inp, .dout = dout, .n = n};
    ds_cpu_run(ctx, silu_backward_task, &a, n);
}

static void swiglu_forward_task(void *p, int ith, int nth) {
    const silu_args *a = p;
    const int H = a->H;
    int64_t lo, hi;
    ds_split(a->n, ith, nth, &lo, &hi);
    for (int64_t t = lo; t < hi; t++) {
        const float *gate = a->inp + t * 2 * H, *up = gate + H;
        float *y = a->out + t * H;
        for (int h = 0; h < H; h++) y[h] = gate[h] * sigmoidf(gate[h]) * up[h];
    }
}

void ds_cpu_swiglu_forward(ds_ctx *ctx, float *out, const float *inp, int T, int H) {
    silu_args a = {.out = out, .inp = inp, .n = T, .H = H};
    ds_cpu_run(ctx, swiglu_forward_task, &a, (int64_t)T * H);
}

static void swiglu_backward_task(void *p, int ith, int nth) {
    const silu_args *a = p;
    const int H = a->H;
    int64_t lo, hi;
    ds_split(a->n, ith, nth, &lo, &hi);
    for (int64_t t = lo; t < hi; t++) {
        const float *gate = a->inp + t * 2 * H, *up = gate + H, *dy = a->dout + t * H;
        float *dgate = a->dinp + t * 2 * H, *dup = dgate + H;
        for (int h = 0; h < H; h++) {
            float g = gate[h], s = sigmoidf(g);
            dgate[h] += dy[h] * up[h] * s * (1.0f + g * (1.0f - s));
            dup[h] += dy[h] * g * s;
        }
    }
}

void ds_cpu_swiglu_backward(ds_ctx *ctx, float *dinp, const float *dout, const float *inp, int T,
                            int H) {
    if (!dinp) return;
    silu_args a = {.dinp = dinp, .inp = inp, .dout = dout, .n = T, .H = H};
    ds_cpu_run(ctx, swiglu_backward_task, &a, (int64_t)T * H);
}
