// reduce.cuh: the warp and block reductions the row kernels share (attention,
// softmax, the norms, routing). Warp shuffles first, then the warps' partials
// added in warp order, so a row always sums in the same order (deterministic).
// Every thread of the block must call the block reductions; blockDim.x is a
// multiple of 32. Not here: reductions across blocks (column sums: column-sum.cu).
#ifndef DS_CUDA_REDUCE_CUH
#define DS_CUDA_REDUCE_CUH

#include <math.h>

static inline __device__ float ds_warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

static inline __device__ float ds_warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// Publishes each warp's reduced value v in red (32 floats of shared memory) and returns
// the number of warps, once every warp's value is there. The leading barrier lets a
// second reduction reuse red while a slow warp may still be reading the first one's
// partials; the trailing one also makes every global write made before the call visible
// to the whole block.
static inline __device__ int ds_block_share(float v, float *red) {
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
    __syncthreads();
    if (lane == 0) red[w] = v;
    __syncthreads();
    return blockDim.x >> 5;
}

// Block-wide sum / max that every thread receives, the warps' partials in warp order.
static inline __device__ float ds_block_sum(float v, float *red) {
    int nw = ds_block_share(ds_warp_sum(v), red);
    float s = 0.0f;
    for (int i = 0; i < nw; i++) s += red[i];
    return s;
}

static inline __device__ float ds_block_max(float v, float *red) {
    int nw = ds_block_share(ds_warp_max(v), red);
    float m = -INFINITY;
    for (int i = 0; i < nw; i++) m = fmaxf(m, red[i]);
    return m;
}

#endif
