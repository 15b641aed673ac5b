// softmax.cu: row softmax over V and its backward, the CUDA side of
// kernels/cpu/softmax.c: one block per row, block-wide max and sum (warp
// shuffles, then the warps' partials added in warp order, so a row always sums
// in the same order: deterministic), out = exp(x - max) * (1 / sum) as the CPU
// computes it; backward dinp += y * (dy - sum(dy * y)), accumulated like the CPU.
// Deliberately not here: masking (attention.cu has its own), temperature, and
// an online (single-pass) softmax: rows of ~10^4 floats stay in L2 between passes.
#include "kernels/cuda/cuda-impl.h"
#include "kernels/cuda/reduce.cuh"

#include <math.h>

// 256 threads: a 8k-wide vocabulary row is 32 floats per thread.
enum { SOFTMAX_THREADS = 256 };

// One block per row. Each thread writes only the elements it read, so out may alias
// inp (ds_softmax_row allows it on the CPU side too).
static __global__ void softmax_forward_kernel(float *out, const float *inp, int V) {
    __shared__ float red[32];
    const float *x = inp + (long long)blockIdx.x * V;
    float *y = out + (long long)blockIdx.x * V;
    float mx = -INFINITY;
    for (int j = threadIdx.x; j < V; j += blockDim.x) mx = fmaxf(mx, x[j]);
    mx = ds_block_max(mx, red);
    float sum = 0.0f;
    for (int j = threadIdx.x; j < V; j += blockDim.x) {
        float e = expf(x[j] - mx);
        y[j] = e;
        sum += e;
    }
    float inv = 1.0f / ds_block_sum(sum, red); // the maximum contributes exp(0): sum >= 1
    for (int j = threadIdx.x; j < V; j += blockDim.x) y[j] *= inv;
}

void ds_cuda_softmax_forward(ds_ctx *ctx, float *out, const float *inp, int T, int V) {
    if (T <= 0 || V <= 0) return;
    softmax_forward_kernel<<<T, SOFTMAX_THREADS, 0, ds_cuda_stream(ctx)>>>(out, inp, V);
    DS_CUDA_LAUNCHED();
}

// One block per row: dot = sum(dy * y), then dx += y * (dy - dot) (the CPU's order of
// the product, so only the dot's summation order differs).
static __global__ void softmax_backward_kernel(float *dinp, const float *dout, const float *y,
                                               int V) {
    __shared__ float red[32];
    long long off = (long long)blockIdx.x * V;
    float dot = 0.0f;
    for (int j = threadIdx.x; j < V; j += blockDim.x) dot += dout[off + j] * y[off + j];
    dot = ds_block_sum(dot, red);
    for (int j = threadIdx.x; j < V; j += blockDim.x)
        dinp[off + j] += y[off + j] * (dout[off + j] - dot);
}

void ds_cuda_softmax_backward(ds_ctx *ctx, float *dinp, const float *dout, const float *out, int T,
                              int V) {
    if (!dinp || T <= 0 || V <= 0) return;
    softmax_backward_kernel<<<T, SOFTMAX_THREADS, 0, ds_cuda_stream(ctx)>>>(dinp, dout, out, V);
    DS_CUDA_LAUNCHED();
}
