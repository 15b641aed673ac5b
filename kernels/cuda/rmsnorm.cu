// rmsnorm.cu: RMSNorm of kernels/cpu/rmsnorm.c on the GPU. The forward and the
// dinp half of the backward give each row one warp: rows are at most a few
// thousand wide, and a warp's shuffle reduction needs no shared memory or block
// barrier. dweight is a sum over rows: chunks of rows write per-column partials
// to the context scratch and a second kernel adds them in chunk order, so the
// result is deterministic (no float atomics, whose order varies run to run).
// Not here: a fused residual add, vectorised (float4) loads.
#include "kernels/cuda/cuda-impl.h"

enum { WARP = 32, ROW_THREADS = 256, ROWS_PER_BLOCK = ROW_THREADS / WARP, COL_THREADS = 128 };

static __device__ float warp_sum(float v) {
    for (int o = WARP / 2; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

// One warp per row t; lanes stride over the C columns.
static __global__ void rmsnorm_forward_kernel(float *out, float *rstd, const float *inp,
                                              const float *weight, int T, int C, float eps) {
    const int lane = threadIdx.x % WARP;
    const long long t = (long long)blockIdx.x * ROWS_PER_BLOCK + threadIdx.x / WARP;
    if (t >= T) return; // the whole warp leaves together: its shuffles stay full
    const float *x = inp + t * C;
    float ss = 0.0f;
    for (int c = lane; c < C; c += WARP) ss += x[c] * x[c];
    ss = warp_sum(ss);
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
    dot = warp_sum(dot) / (float)C;
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

// dst (C) += the n_chunks partial rows, added in chunk order.
static __global__ void column_reduce_kernel(float *dst, const float *partial, int n_chunks, int C) {
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= C) return;
    float s = 0.0f;
    for (int k = 0; k < n_chunks; k++) s += partial[(long long)k * C + c];
    dst[c] += s;
}

// Rows per chunk for the column sums: chunks of about 32 rows, at most 256 of
// them (the grid's y extent and the scratch stay small). Depends on T only, so a
// given shape always sums in the same order.
static int chunk_rows(int T, int *n_chunks) {
    int n = (T + 31) / 32;
    n = n > 256 ? 256 : n;
    int rows = (T + n - 1) / n;
    *n_chunks = (T + rows - 1) / rows;
    return rows;
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
        int n_chunks, rows = chunk_rows(T, &n_chunks);
        float *partial = (float *)ds_ctx_scratch(ctx, sizeof(float) * (size_t)n_chunks * C);
        dim3 grid(ds_cuda_blocks(C, COL_THREADS), n_chunks);
        rmsnorm_dweight_partial_kernel<<<grid, COL_THREADS, 0, st>>>(partial, dout, inp, rstd, T, C,
                                                                     rows);
        DS_CUDA_LAUNCHED();
        column_reduce_kernel<<<ds_cuda_blocks(C, COL_THREADS), COL_THREADS, 0, st>>>(
            dweight, partial, n_chunks, C);
        DS_CUDA_LAUNCHED();
    }
}
