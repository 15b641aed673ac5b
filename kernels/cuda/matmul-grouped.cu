// matmul-grouped.cu: the expert GEMMs of kernels/cpu/matmul-grouped.c, one cuBLAS GEMM per
// expert that has rows, with matmul.cu's row-major mapping (out_e^T = W_e . inp_e^T). The
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
        // out_e (m, N) = inp_e (m, K) @ W_e (N, K)^T
        ds_cuda_gemm(ctx, CUBLAS_OP_T, CUBLAS_OP_N, N, m, K, weight + (int64_t)e * N * K, K,
                     inp + (int64_t)off[e] * K, K, 0.0f, out + (int64_t)off[e] * N, N);
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
        const float *w = weight + (int64_t)e * N * K, *dy = dout + (int64_t)off[e] * N;
        if (dinp) // dinp_e (m, K) += dout_e (m, N) @ W_e (N, K)
            ds_cuda_gemm(ctx, CUBLAS_OP_N, CUBLAS_OP_N, K, m, N, w, K, dy, N, 1.0f,
                         dinp + (int64_t)off[e] * K, K);
        if (dweight) // dW_e (N, K) += dout_e^T (N, m) @ inp_e (m, K)
            ds_cuda_gemm(ctx, CUBLAS_OP_N, CUBLAS_OP_T, K, N, m, inp + (int64_t)off[e] * K, K, dy,
                         N, 1.0f, dweight + (int64_t)e * N * K, K);
    }
    free(off);
}
