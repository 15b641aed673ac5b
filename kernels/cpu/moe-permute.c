// moe-permute.c: the data movement around the experts of a MoE layer. permute sorts the
// T*topk (token, slot) assignments by expert (a stable counting sort, so each expert's rows
// keep token order and results are deterministic); dispatch gathers token rows into that
// order so each expert runs one contiguous GEMM; combine scatters the expert outputs back,
// weighted by the router. Every backward is a gather too (each permuted row belongs to one
// (token, slot)), so no thread ever writes another's rows and no atomics are needed.
// Not here: capacity limits or token dropping, and the expert GEMMs themselves.
#include "kernels/cpu/cpu-impl.h"
#include "core/error.h"

#include <string.h>

// ---- permute

// O(T*topk) with E counters: cheap next to the expert GEMMs, so one thread does it.
void ds_cpu_moe_permute(ds_ctx *ctx, int32_t *offsets, int32_t *row_of, int32_t *token_of,
                        const int32_t *expert_idx, int T, int topk, int E) {
    (void)ctx;
    int64_t n = (int64_t)T * topk;
    DS_ASSERT(n <= INT32_MAX);
    memset(offsets, 0, (size_t)(E + 1) * sizeof *offsets);
    for (int64_t i = 0; i < n; i++) {
        int32_t e = expert_idx[i];
        DS_ASSERT(e >= 0 && e < E); // the router only emits valid experts
        offsets[e + 1]++;
    }
    for (int e = 0; e < E; e++) offsets[e + 1] += offsets[e];
    // offsets[e] serves as expert e's write cursor; afterwards it holds the start of e + 1,
    // so one shift restores the starts without a second counter array.
    for (int64_t i = 0; i < n; i++) {
        int32_t r = offsets[expert_idx[i]]++;
        row_of[i] = r;
        token_of[r] = (int32_t)(i / topk);
    }
    for (int e = E; e > 0; e--) offsets[e] = offsets[e - 1];
    offsets[0] = 0;
}

// ---- dispatch and combine

typedef struct {
    float *out;
    const float *in;
    float *dw;
    const float *dout, *yp, *w;
    const int32_t *index;
    int T, topk, C;
} perm_args;

static void dispatch_forward_task(void *p, int ith, int nth) {
    perm_args *a = p;
    int64_t lo, hi;
    ds_split((int64_t)a->T * a->topk, ith, nth, &lo, &hi);
    for (int64_t r = lo; r < hi; r++)
        memcpy(a->out + r * a->C, a->in + (int64_t)a->index[r] * a->C,
               (size_t)a->C * sizeof(float));
}

void ds_cpu_moe_dispatch_forward(ds_ctx *ctx, float *xp, const float *x, const int32_t *token_of,
                                 int T, int topk, int C) {
    perm_args a = {.out = xp, .in = x, .index = token_of, .T = T, .topk = topk, .C = C};
    ds_cpu_run(ctx, dispatch_forward_task, &a, (int64_t)T * topk * C);
}

static void dispatch_backward_task(void *p, int ith, int nth) {
    perm_args *a = p;
    const int C = a->C, K = a->topk;
    int64_t lo, hi;
    ds_split(a->T, ith, nth, &lo, &hi);
    for (int64_t t = lo; t < hi; t++) {
        float *dx = a->out + t * C;
        for (int k = 0; k < K; k++) {
            const float *d = a->in + (int64_t)a->index[t * K + k] * C;
            for (int c = 0; c < C; c++) dx[c] += d[c];
        }
    }
}

void ds_cpu_moe_dispatch_backward(ds_ctx *ctx, float *dx, const float *dxp, const int32_t *row_of,
                                  int T, int topk, int C) {
    if (!dx) return;
    perm_args a = {.out = dx, .in = dxp, .index = row_of, .T = T, .topk = topk, .C = C};
    ds_cpu_run(ctx, dispatch_backward_task, &a, (int64_t)T * topk * C);
}

static void combine_forward_task(void *p, int ith, int nth) {
    perm_args *a = p;
    const int C = a->C, K = a->topk;
    int64_t lo, hi;
    ds_split(a->T, ith, nth, &lo, &hi);
    for (int64_t t = lo; t < hi; t++) {
        float *o = a->out + t * C;
        memset(o, 0, (size_t)C * sizeof(float));
        for (int k = 0; k < K; k++) {
            const float *y = a->yp + (int64_t)a->index[t * K + k] * C;
            float wk = a->w[t * K + k];
            for (int c = 0; c < C; c++) o[c] += wk * y[c];
        }
    }
}

void ds_cpu_moe_combine_forward(ds_ctx *ctx, float *out, const float *yp, const float *w,
                                const int32_t *row_of, int T, int topk, int C) {
    perm_args a = {.out = out, .yp = yp, .w = w, .index = row_of, .T = T, .topk = topk, .C = C};
    ds_cpu_run(ctx, combine_forward_task, &a, (int64_t)T * topk * C);
}

// Eight independent partial sums, so the compiler can vectorise the reduction without
// -ffast-math (a single float accumulator must be summed in order).
static float dot_f32(const float *x, const float *y, int n) {
    float acc[8] = {0};
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) acc[j] += x[i + j] * y[i + j];
    float s = 0.0f;
    for (; i < n; i++) s += x[i] * y[i];
    return s + ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

static void combine_backward_task(void *p, int ith, int nth) {
    perm_args *a = p;
    const int C = a->C, K = a->topk;
    int64_t lo, hi;
    ds_split(a->T, ith, nth, &lo, &hi);
    for (int64_t t = lo; t < hi; t++) {
        const float *d = a->dout + t * C;
        for (int k = 0; k < K; k++) {
            int64_t r = a->index[t * K + k];
            if (a->out) {
                float *dy = a->out + r * C;
                float wk = a->w[t * K + k];
                for (int c = 0; c < C; c++) dy[c] += wk * d[c];
            }
            if (a->dw) {
                a->dw[t * K + k] += dot_f32(d, a->yp + r * C, C);
            }
        }
    }
}

void ds_cpu_moe_combine_backward(ds_ctx *ctx, float *dyp, float *dw, const float *dout,
                                 const float *yp, const float *w, const int32_t *row_of, int T,
                                 int topk, int C) {
    if (!dyp && !dw) return;
    perm_args a = {.out = dyp,
                   .dw = dw,
                   .dout = dout,
                   .yp = yp,
                   .w = w,
                   .index = row_of,
                   .T = T,
                   .topk = topk,
                   .C = C};
    ds_pool_run(ctx->pool, combine_backward_task, &a);
}
