// argmax.cu: argmax_rows of kernels/cpu/argmax.c on the GPU: a block per row;
// each thread keeps its strided share's best (value, index), then warp shuffles
// and the warps' partials in warp order pick the row's, lowest index on ties.
#include "kernels/cuda/cuda-impl.h"

enum { THREADS = 256 };

// Whether (v, i) beats (w, j): larger, or equal and earlier; NaN never beats a number.
static __device__ bool beats(float v, int i, float w, int j) {
    if (v != v) return false;
    if (w != w) return true;
    return v > w || (v == w && i < j);
}

static __global__ void argmax_kernel(int32_t *out, const float *x, int V) {
    __shared__ float best_v[THREADS / 32];
    __shared__ int best_i[THREADS / 32];
    const float *row = x + (long long)blockIdx.x * V;
    float v = row[0];
    int i = 0;
    for (int k = threadIdx.x; k < V; k += THREADS)
        if (beats(row[k], k, v, i)) v = row[k], i = k;
    for (int o = 16; o > 0; o >>= 1) {
        float ov = __shfl_xor_sync(0xffffffffu, v, o);
        int oi = __shfl_xor_sync(0xffffffffu, i, o);
        if (beats(ov, oi, v, i)) v = ov, i = oi;
    }
    const int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
    if (lane == 0) best_v[w] = v, best_i[w] = i;
    __syncthreads();
    if (threadIdx.x == 0) {
        for (int k = 1; k < THREADS / 32; k++)
            if (beats(best_v[k], best_i[k], v, i)) v = best_v[k], i = best_i[k];
        out[blockIdx.x] = i;
    }
}

void ds_cuda_argmax_rows(ds_ctx *ctx, int32_t *out, const float *x, int T, int V) {
    if (T <= 0 || V <= 0) return;
    argmax_kernel<<<T, THREADS, 0, ds_cuda_stream(ctx)>>>(out, x, V);
    DS_CUDA_LAUNCHED();
}
