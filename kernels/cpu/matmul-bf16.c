// matmul-bf16.c: the linear layer and the grouped expert layer with bf16
// weights, forward only, for decoding (gemv-bf16.h): each thread takes a share
// of the output columns and streams its part of the weight once for all input
// rows. Weights are trained and stored in f32; these read bf16 copies made for
// inference (text/lm-bf16.c), half the bytes per decoded token.
// Not here: a backward (nothing trains bf16 weights), a GEMM for long inputs
// (prefill keeps the f32 weights and sgemm).
#include "kernels/cpu/cpu-impl.h"
#include "core/error.h"
#include "kernels/cpu/gemv-bf16.h"

typedef struct {
    float *out;
    const float *inp, *bias;
    const uint16_t *weight;
    const int32_t *offsets; // grouped: (E + 1); NULL: one matrix for all M rows
    int M, E, K, N;
} mm_bf16_args;

static void mm_bf16_task(void *p, int ith, int nth) {
    const mm_bf16_args *a = p;
    int64_t n0, n1;
    ds_split(a->N, ith, nth, &n0, &n1);
    if (n1 <= n0) return;
    if (!a->offsets) {
        ds_gemv_bf16(a->out + n0, a->N, a->weight + n0 * a->K, a->inp, a->K,
                     a->bias ? a->bias + n0 : NULL, a->M, n1 - n0, a->K);
        return;
    }
    for (int e = 0; e < a->E; e++) { // only the experts that have rows cost anything
        int r0 = a->offsets[e], r1 = a->offsets[e + 1];
        if (r1 <= r0) continue;
        const uint16_t *w = a->weight + ((int64_t)e * a->N + n0) * a->K;
        ds_gemv_bf16(a->out + (int64_t)r0 * a->N + n0, a->N, w, a->inp + (int64_t)r0 * a->K, a->K,
                     NULL, r1 - r0, n1 - n0, a->K);
    }
}

void ds_cpu_matmul_bf16_forward(ds_ctx *ctx, float *out, const float *inp, const uint16_t *weight,
                                const float *bias, int M, int K, int N) {
    DS_ASSERT(K > 0);
    if (M <= 0 || N <= 0) return;
    mm_bf16_args a = {
        .out = out, .inp = inp, .bias = bias, .weight = weight, .M = M, .K = K, .N = N};
    ds_cpu_run(ctx, mm_bf16_task, &a, (int64_t)M * K * N);
}

void ds_cpu_matmul_grouped_bf16_forward(ds_ctx *ctx, float *out, const float *inp,
                                        const uint16_t *weight, const int32_t *offsets, int E,
                                        int K, int N) {
    DS_ASSERT(K > 0 && offsets[0] == 0);
    for (int e = 0; e < E; e++) DS_ASSERT(offsets[e + 1] >= offsets[e]);
    int rows = offsets[E];
    if (rows == 0 || N <= 0) return;
    mm_bf16_args a = {.out = out,
                      .inp = inp,
                      .weight = weight,
                      .offsets = offsets,
                      .M = rows,
                      .E = E,
                      .K = K,
                      .N = N};
    ds_cpu_run(ctx, mm_bf16_task, &a, (int64_t)rows * K * N);
}
