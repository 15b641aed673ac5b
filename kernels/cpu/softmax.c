// softmax.c: row softmax over V (max-subtracted, so large logits do not
// overflow) and its backward dinp += y * (dy - sum(dy * y)).
// Not here: masking (attention.c has its own), temperature (the sampler's).
#include "kernels/cpu/cpu-impl.h"
#include "kernels/cpu/softmax-row.h"

typedef struct {
    float *out, *dinp;
    const float *inp, *dout, *y;
    int T, V;
} softmax_args;

static void softmax_forward_task(void *p, int ith, int nth) {
    const softmax_args *a = p;
    int64_t lo, hi;
    ds_split(a->T, ith, nth, &lo, &hi);
    for (int64_t t = lo; t < hi; t++) ds_softmax_row(a->out + t * a->V, a->inp + t * a->V, a->V);
}

void ds_cpu_softmax_forward(ds_ctx *ctx, float *out, const float *inp, int T, int V) {
    softmax_args a = {.out = out, .inp = inp, .T = T, .V = V};
    ds_cpu_run(ctx, softmax_forward_task, &a, (int64_t)T * V);
}

static void softmax_backward_task(void *p, int ith, int nth) {
    const softmax_args *a = p;
    int64_t lo, hi;
    ds_split(a->T, ith, nth, &lo, &hi);
    for (int64_t t = lo; t < hi; t++) {
        const float *y = a->y + t * a->V, *dy = a->dout + t * a->V;
        float *dx = a->dinp + t * a->V;
        float dot = 0.0f;
        for (int v = 0; v < a->V; v++) dot += dy[v] * y[v];
        for (int v = 0; v < a->V; v++) dx[v] += y[v] * (dy[v] - dot);
    }
}

void ds_cpu_softmax_backward(ds_ctx *ctx, float *dinp, const float *dout, const float *out, int T,
                             int V) {
    if (!dinp) return;
    softmax_args a = {.dinp = dinp, .dout = dout, .y = out, .T = T, .V = V};
    ds_pool_run(ctx->pool, softmax_backward_task, &a);
}
