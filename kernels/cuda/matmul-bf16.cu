// matmul-bf16.cu: the decode-time linear and grouped expert layers of
// kernels/cpu/matmul-bf16.c with bf16 weights (the top 16 bits of an f32), inputs, products
// and sums in f32. One warp per output column streams that weight row once (16-byte loads
// when K allows) for up to ROWS_PER_PASS input rows at a time and reduces with shuffles; a
// few rows of input is the case this is for, where reading the weight is the whole cost. The
// grouped form reads the expert offsets on the device (no download, no wait) and skips
// experts without rows. Not here: a backward (nothing trains bf16 weights), or tensor cores
// for long inputs (prefill uses the f32 weights and cuBLAS).
#include "kernels/cuda/cuda-impl.h"

extern "C" {
#include "core/error.h"
}

#include <stdint.h>

enum { BF16_WARPS = 8, ROWS_PER_PASS = 8 };

// Y[m, n] for rows [r0, r1) of X (rows K apart) and weight row wn (K bf16), written to
// Y[m * N + n] plus bias_n; the whole warp calls it (shuffles need every lane).
template <bool VEC>
static __device__ void bf16_column(float *Y, const float *X, const uint16_t *wn, float bias_n,
                                   int r0, int r1, int K, int N, int n) {
    const int lane = threadIdx.x & 31;
    for (int m0 = r0; m0 < r1; m0 += ROWS_PER_PASS) {
        const int mr = r1 - m0 < ROWS_PER_PASS ? r1 - m0 : ROWS_PER_PASS;
        const float *x0 = X + (long long)m0 * K;
        float acc[ROWS_PER_PASS];
#pragma unroll
        for (int m = 0; m < ROWS_PER_PASS; m++) acc[m] = 0.0f;
        if (VEC) { // 8 bf16 per 16-byte load; little-endian: the lower half is the first
            const uint4 *w8 = (const uint4 *)wn;
            for (int k8 = lane; k8 < K / 8; k8 += 32) {
                uint4 u = w8[k8];
                float w[8] = {__uint_as_float(u.x << 16), __uint_as_float(u.x & 0xffff0000u),
                              __uint_as_float(u.y << 16), __uint_as_float(u.y & 0xffff0000u),
                              __uint_as_float(u.z << 16), __uint_as_float(u.z & 0xffff0000u),
                              __uint_as_float(u.w << 16), __uint_as_float(u.w & 0xffff0000u)};
#pragma unroll
                for (int m = 0; m < ROWS_PER_PASS; m++) {
                    if (m >= mr) break;
                    const float *x = x0 + (long long)m * K + k8 * 8;
#pragma unroll
                    for (int j = 0; j < 8; j++) acc[m] += w[j] * x[j];
                }
            }
        } else {
            for (int k = lane; k < K; k += 32) {
                float w = __uint_as_float((uint32_t)wn[k] << 16);
#pragma unroll
                for (int m = 0; m < ROWS_PER_PASS; m++) {
                    if (m >= mr) break;
                    acc[m] += w * x0[(long long)m * K + k];
                }
            }
        }
#pragma unroll
        for (int m = 0; m < ROWS_PER_PASS; m++)
            for (int o = 16; o > 0; o /= 2) acc[m] += __shfl_xor_sync(0xffffffffu, acc[m], o);
        if (lane == 0)
            for (int m = 0; m < mr; m++) Y[(long long)(m0 + m) * N + n] = acc[m] + bias_n;
    }
}

// out (M, N) = inp (M, K) @ W (N, K)^T + bias: warp w of block b takes column b * BF16_WARPS + w.
template <bool VEC>
static __global__ void bf16_forward_kernel(float *out, const float *inp, const uint16_t *weight,
                                           const float *bias, int M, int K, int N) {
    const int n = blockIdx.x * BF16_WARPS + (threadIdx.x >> 5);
    if (n >= N) return; // the whole warp leaves together
    bf16_column<VEC>(out, inp, weight + (long long)n * K, bias ? bias[n] : 0.0f, 0, M, K, N, n);
}

// Grouped: blockIdx.y is the expert; its rows offsets[e] .. offsets[e+1] use weight[e].
template <bool VEC>
static __global__ void bf16_grouped_kernel(float *out, const float *inp, const uint16_t *weight,
                                           const int32_t *offsets, int K, int N) {
    const int e = blockIdx.y, n = blockIdx.x * BF16_WARPS + (threadIdx.x >> 5);
    const int r0 = offsets[e], r1 = offsets[e + 1];
    if (n >= N || r1 <= r0) return; // an expert without rows: its weight is never read
    bf16_column<VEC>(out, inp, weight + ((long long)e * N + n) * K, 0.0f, r0, r1, K, N, n);
}

// 16-byte weight loads need every weight row 16-byte aligned: K a multiple of 8 and an aligned
// base (cudaMalloc gives 256).
static bool bf16_vec_ok(const uint16_t *weight, int K) {
    return K % 8 == 0 && ((uintptr_t)weight & 15) == 0;
}

void ds_cuda_matmul_bf16_forward(ds_ctx *ctx, float *out, const float *inp, const uint16_t *weight,
                                 const float *bias, int M, int K, int N) {
    DS_ASSERT(K > 0);
    if (M <= 0 || N <= 0) return;
    unsigned blocks = ds_cuda_blocks(N, BF16_WARPS);
    if (bf16_vec_ok(weight, K))
        bf16_forward_kernel<true>
            <<<blocks, 32 * BF16_WARPS, 0, ds_cuda_stream(ctx)>>>(out, inp, weight, bias, M, K, N);
    else
        bf16_forward_kernel<false>
            <<<blocks, 32 * BF16_WARPS, 0, ds_cuda_stream(ctx)>>>(out, inp, weight, bias, M, K, N);
    DS_CUDA_LAUNCHED();
}

void ds_cuda_matmul_grouped_bf16_forward(ds_ctx *ctx, float *out, const float *inp,
                                         const uint16_t *weight, const int32_t *offsets, int E,
                                         int K, int N) {
    DS_ASSERT(K > 0);
    DS_ASSERT(E >= 0 && E <= 65535); // gridDim.y
    // The CPU also returns early when offsets[E] is 0; here empty experts return in the
    // kernel, which keeps the offsets on the device.
    if (E == 0 || N <= 0) return;
    dim3 grid(ds_cuda_blocks(N, BF16_WARPS), (unsigned)E);
    if (bf16_vec_ok(weight, K))
        bf16_grouped_kernel<true>
            <<<grid, 32 * BF16_WARPS, 0, ds_cuda_stream(ctx)>>>(out, inp, weight, offsets, K, N);
    else
        bf16_grouped_kernel<false>
            <<<grid, 32 * BF16_WARPS, 0, ds_cuda_stream(ctx)>>>(out, inp, weight, offsets, K, N);
    DS_CUDA_LAUNCHED();
}
