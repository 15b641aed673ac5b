// matmul-grouped.cu: the expert GEMMs of kernels/cpu/matmul-grouped.c: each expert that has
// rows is a linear layer without bias over its slice of rows (matmul.cu's ops). The
// GEMM sizes come from the offsets, which live on the device: each call downloads the E + 1
// of them, and that download waits for the stream (moe_permute's results must be there).
// Not here: one grouped cuBLAS call (its per-group sizes are host arrays too, so it would not
// save the wait), and the bf16-weight decode path (matmul-bf16.cu).
#include "kernels/cuda/cuda-impl.h"

extern "C" {
#include "core/error.h"
}

// Host copy of offsets (E + 1), checked as the CPU checks them; free() the result.
static int32_t *offsets_to_host(ds_ctx *ctx, const int32_t *offsets, int E) {
    DS_ASSERT(E >= 0);
    int32_t *h = (int32_t *)malloc(sizeof(int32_t) * ((size_t)E + 1));
    DS_ASSERT(h != NULL);
    ds_cuda_download(ctx, h, offsets, sizeof(int32_t) * ((size_t)E + 1)); // synchronises
    DS_ASSERT(h[0] == 0);
    for (int e = 0; e < E; e++) DS_ASSERT(h[e + 1] >= h[e]);
    return h;
}

void ds_cuda_matmul_grouped_forward(ds_ctx *ctx, float *out, const float *inp, const float *weight,
                                    const int32_t *offsets, int E, int K, int N) {
    DS_ASSERT(K > 0);
    int32_t *off = offsets_to_host(ctx, offsets, E);
    if (off[E] == 0 || N <= 0) {
        free(off);
        return;
    }
    for (int e = 0; e < E; e++) {
        int m = off[e + 1] - off[e];
        if (m <= 0) continue; // an expert without tokens: no GEMM
        ds_cuda_matmul_forward(ctx, out + (int64_t)off[e] * N, inp + (int64_t)off[e] * K,
                               weight + (int64_t)e * N * K, NULL, m, K, N);
    }
    free(off);
}

void ds_cuda_matmul_grouped_backward(ds_ctx *ctx, float *dinp, float *dweight, const float *dout,
                                     const float *inp, const float *weight, const int32_t *offsets,
                                     int E, int K, int N) {
    DS_ASSERT(K > 0);
    if (!dinp && !dweight) return;
    int32_t *off = offsets_to_host(ctx, offsets, E);
    if (off[E] == 0 || N <= 0) {
        free(off);
        return;
    }
    for (int e = 0; e < E; e++) {
        int m = off[e + 1] - off[e];
        if (m <= 0) continue; // an expert without tokens keeps its gradient
        ds_cuda_matmul_backward(ctx, dinp ? dinp + (int64_t)off[e] * K : NULL,
                                dweight ? dweight + (int64_t)e * N * K : NULL, NULL,
                                dout + (int64_t)off[e] * N, inp + (int64_t)off[e] * K,
                                weight + (int64_t)e * N * K, m, K, N);
    }
    free(off);
}
