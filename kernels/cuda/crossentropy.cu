// crossentropy.cu: softmax cross-entropy of kernels/cpu/crossentropy.c on the
// GPU. One block per row: vocabularies are 8k-32k wide, so the row's max and its
// sum of exponentials are block reductions (warp shuffles, then one value per
// warp through shared memory). The loss is taken from the logits (logsumexp -
// logit), as the CPU does. Math is expf / logf at full precision (no fast-math).
// Not here: label smoothing, a fused logits GEMM, a target >= V check (the CPU
// asserts; here such a row's loss is NaN rather than an out-of-bounds read).
#include "kernels/cuda/cuda-impl.h"

#include <math.h>

enum { WARP = 32, CE_THREADS = 512, CE_BACK_THREADS = 256 };

// The block-wide max (MAX) or sum of v, returned to every thread. blockDim.x is a
// multiple of 32 and every thread of the block calls it.
template <bool MAX> static __device__ float block_reduce(float v) {
    __shared__ float part[32];
    for (int o = WARP / 2; o > 0; o >>= 1) {
        float u = __shfl_xor_sync(0xffffffffu, v, o);
        v = MAX ? fmaxf(v, u) : v + u;
    }
    const int lane = threadIdx.x % WARP, w = threadIdx.x / WARP, nw = blockDim.x / WARP;
    __syncthreads(); // every warp has read part from a previous call
    if (lane == 0) part[w] = v;
    __syncthreads();
    v = lane < nw ? part[lane] : (MAX ? -INFINITY : 0.0f);
    for (int o = WARP / 2; o > 0; o >>= 1) {
        float u = __shfl_xor_sync(0xffffffffu, v, o);
        v = MAX ? fmaxf(v, u) : v + u;
    }
    return v;
}

// Row blockIdx.x: probs = softmax(logits), losses = logsumexp - logits[target].
static __global__ void ce_forward_kernel(float *losses, float *probs, const float *logits,
                                         const int32_t *targets, int V) {
    const long long t = blockIdx.x;
    const float *x = logits + t * V;
    float *p = probs + t * V;
    float mx = -INFINITY;
    for (int v = threadIdx.x; v < V; v += blockDim.x) mx = fmaxf(mx, x[v]);
    mx = block_reduce<true>(mx);
    float sum = 0.0f;
    for (int v = threadIdx.x; v < V; v += blockDim.x) sum += expf(x[v] - mx);
    sum = block_reduce<false>(sum);
    const float inv = 1.0f / sum;
    // Recomputing the exponential is cheaper than a second pass over stored values.
    for (int v = threadIdx.x; v < V; v += blockDim.x) p[v] = expf(x[v] - mx) * inv;
    if (threadIdx.x == 0) {
        const int32_t y = targets[t];
        losses[t] = y < 0 ? 0.0f : y < V ? (logf(sum) + mx) - x[y] : NAN;
    }
}

// Row blockIdx.x: dlogits += dlosses * (probs - onehot(target)); ignored rows leave.
static __global__ void ce_backward_kernel(float *dlogits, const float *dlosses, const float *probs,
                                          const int32_t *targets, int V) {
    const long long t = blockIdx.x;
    const int32_t y = targets[t];
    if (y < 0) return; // the same for the whole block
    const float dl = dlosses[t];
    const float *pr = probs + t * V;
    float *dx = dlogits + t * V;
    for (int v = threadIdx.x; v < V; v += blockDim.x) {
        float d = dx[v] + dl * pr[v];
        if (v == y) d -= dl; // two roundings, as the CPU's two statements
        dx[v] = d;
    }
}

void ds_cuda_crossentropy_forward(ds_ctx *ctx, float *losses, float *probs, const float *logits,
                                  const int32_t *targets, int T, int V) {
    if (T <= 0) return;
    ce_forward_kernel<<<T, CE_THREADS, 0, ds_cuda_stream(ctx)>>>(losses, probs, logits, targets, V);
    DS_CUDA_LAUNCHED();
}

void ds_cuda_crossentropy_backward(ds_ctx *ctx, float *dlogits, const float *dlosses,
                                   const float *probs, const int32_t *targets, int T, int V) {
    if (!dlogits || T <= 0) return;
    ce_backward_kernel<<<T, CE_BACK_THREADS, 0, ds_cuda_stream(ctx)>>>(dlogits, dlosses, probs,
                                                                       targets, V);
    DS_CUDA_LAUNCHED();
}
