// column-sum.cu: the second half of the norms' deterministic parameter gradients
// (rmsnorm.cu, layernorm.cu): per-chunk column partials, written by each op's own
// kernel, added into the gradient in chunk order, with no float atomics (whose
// order, and so whose result, varies run to run). Not here: the partials themselves,
// which depend on each op's formula.
#include "kernels/cuda/cuda-impl.h"

enum { COL_THREADS = 128 };

int ds_cuda_chunk_rows(int T, int *n_chunks) {
    int n = (T + 31) / 32;
    n = n > 256 ? 256 : n;
    int rows = (T + n - 1) / n;
    *n_chunks = (T + rows - 1) / rows;
    return rows;
}

// dst (C) += the n_chunks partial rows, added in chunk order.
static __global__ void column_sum_add_kernel(float *dst, const float *partial, int n_chunks,
                                             int C) {
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= C) return;
    float s = 0.0f;
    for (int k = 0; k < n_chunks; k++) s += partial[(long long)k * C + c];
    dst[c] += s;
}

void ds_cuda_column_sum_add(ds_ctx *ctx, float *dst, const float *partial, int n_chunks, int C) {
    column_sum_add_kernel<<<ds_cuda_blocks(C, COL_THREADS), COL_THREADS, 0, ds_cuda_stream(ctx)>>>(
        dst, partial, n_chunks, C);
    DS_CUDA_LAUNCHED();
}
