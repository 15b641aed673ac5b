// rmsnorm.cu: RMSNorm of kernels/cpu/rmsnorm.c on the GPU. The forward and the
// dinp half of the backward give each row one warp: rows are at most a few
// thousand wide, and a warp's shuffle reduction needs no shared memory or block
// barrier. dweight is a sum over rows: chunks of rows write per-column partials
// to the context scratch and a second kernel adds them in chunk order, so the
// result is deterministic (no float atomics, whose order varies run to run).
// Not here: a fused residual add, vectorised (float4) loads.
#include "kernels/cuda/cuda-impl.h"
#include "kernels/cuda/reduce.cuh"

enum { WARP = 32, ROW_THREADS = 256, ROWS_PER_BLOCK = ROW_THREADS / WARP, COL_THREADS = 128 };

// One warp per row t; lanes stride over the C columns.
static __global__ void rmsnorm_forward_kernel(float *out, float *rstd, const float *inp,
                                              const float *weight, int T, int C, float eps) {
    const int lane = threadIdx.x % WARP;
    const long long t = (long long)blockIdx.x * ROWS_PER_BLOCK + threadIdx.x / WARP;
    if (t >= T) return; // the whole warp leaves together: its shuffles stay full
    const float *x = inp + t * C;
    float ss = 0.0f;
    for (int c = lane; c < C; c += WARP) ss += x[c] * x[c];
    ss = ds_warp_sum(ss);
    float r = 1.0f / sqrtf(ss / (float)C + eps);
    float *y = out + t * C;
    for (int c = lane; c < C; c += WARP) y[c] = x[c] * r * weight[c];
    if (lane == 0) rstd[t] = r;
}

// dinp (row t) += rstd * (g - xhat * mean(g * xhat)), g = dout * weight; one warp per row.
static __global__ void rmsnorm_dinp_kernel(float *dinp, const float *dout, const float *inp,
                                           const float *weight, const float *rstd, int T, int C) {
    const int lane = threadIdx.x % WARP;
    const long long t = (long long)blockIdx.x * ROWS_PER_BLOCK + threadIdx.x / WARP;
    if (t >= T) return;
    const float *x = inp + t * C, *dy = dout + t * C;
    const float r = rstd[t];
    float dot = 0.0f;
    for (int c = lane; c < C; c += WARP) dot += dy[c] * weight[c] * x[c] * r;
    dot = ds_warp_sum(dot) / (float)C;
    float *dx = dinp + t * C;
    for (int c = lane; c < C; c += WARP) dx[c] += r * (dy[c] * weight[c] - x[c] * r * dot);
}

// partial (n_chunks, C): row k holds, per column, the sum of dout * xhat over rows
// k * rows .. (k + 1) * rows - 1 (blockIdx.y = k), in row order.
static __global__ void rmsnorm_dweight_partial_kernel(float *partial, const float *dout,
                                                      const float *inp, const float *rstd, int T,
                                                      int C, int rows) {
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= C) return;
    const long long t0 = (long long)blockIdx.y * rows;
    const long long t1 = t0 + rows < T ? t0 + rows : T;
    float s = 0.0f;
    for (long long t = t0; t < t1; t++) s += dout[t * C + c] * inp[t * C + c] * rstd[t];
    partial[(long long)blockIdx.y * C + c] = s;
}

void ds_cuda_rmsnorm_forward(ds_ctx *ctx, float *out, float *rstd, const float *inp,
                             const float *weight, int T, int C, float eps) {
    if (T <= 0) return; // C = 0 runs on, as the CPU does (rstd becomes NaN from 0 / 0)
    rmsnorm_forward_kernel<<<ds_cuda_blocks(T, ROWS_PER_BLOCK), ROW_THREADS, 0,
                             ds_cuda_stream(ctx)>>>(out, rstd, inp, weight, T, C, eps);
    DS_CUDA_LAUNCHED();
}

void ds_cuda_rmsnorm_backward(ds_ctx *ctx, float *dinp, float *dweight, const float *dout,
                              const float *inp, const float *weight, const float *rstd, int T,
                              int C) {
    if (T <= 0 || C <= 0) return; // nothing to accumulate
    cudaStream_t st = ds_cuda_stream(ctx);
    if (dinp) {
        rmsnorm_dinp_kernel<<<ds_cuda_blocks(T, ROWS_PER_BLOCK), ROW_THREADS, 0, st>>>(
            dinp, dout, inp, weight, rstd, T, C);
        DS_CUDA_LAUNCHED();
    }
    if (dweight) {
        int n_chunks, rows = ds_cuda_chunk_rows(T, &n_chunks);
        float *partial = (float *)ds_ctx_scratch(ctx, sizeof(float) * (size_t)n_chunks * C);
        dim3 grid(ds_cuda_blocks(C, COL_THREADS), n_chunks);
        rmsnorm_dweight_partial_kernel<<<grid, COL_THREADS, 0, st>>>(partial, dout, inp, rstd, T, C,
                                                                     rows);
        DS_CUDA_LAUNCHED();
        ds_cuda_column_sum_add(ctx, dweight, partial, n_chunks, C);
    }
}
