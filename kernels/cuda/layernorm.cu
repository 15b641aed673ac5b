// layernorm.cu: LayerNorm of kernels/cpu/layernorm.c on the GPU. The forward
// and the dinp half of the backward give each row one warp, with the CPU's two
// passes for the variance (mean first, then squared deviations: no cancellation
// from E[x^2] - E[x]^2). dweight and dbias are sums over rows: chunks of rows
// write per-column partials to the context scratch and a second kernel adds
// them in chunk order, so they are deterministic (no float atomics).
// Not here: a fused residual add, vectorised (float4) loads.
#include "kernels/cuda/cuda-impl.h"
#include "kernels/cuda/reduce.cuh"

enum { WARP = 32, ROW_THREADS = 256, ROWS_PER_BLOCK = ROW_THREADS / WARP, COL_THREADS = 128 };

// One warp per row t; lanes stride over the C columns.
static __global__ void layernorm_forward_kernel(float *out, float *mean, float *rstd,
                                                const float *inp, const float *weight,
                                                const float *bias, int T, int C, float eps) {
    const int lane = threadIdx.x % WARP;
    const long long t = (long long)blockIdx.x * ROWS_PER_BLOCK + threadIdx.x / WARP;
    if (t >= T) return; // the whole warp leaves together: its shuffles stay full
    const float *x = inp + t * C;
    float m = 0.0f;
    for (int c = lane; c < C; c += WARP) m += x[c];
    m = ds_warp_sum(m) / (float)C;
    float v = 0.0f;
    for (int c = lane; c < C; c += WARP) v += (x[c] - m) * (x[c] - m);
    v = ds_warp_sum(v);
    float r = 1.0f / sqrtf(v / (float)C + eps);
    float *y = out + t * C;
    for (int c = lane; c < C; c += WARP) y[c] = (x[c] - m) * r * weight[c] + bias[c];
    if (lane == 0) {
        mean[t] = m;
        rstd[t] = r;
    }
}

// dinp (row t) += rstd * (g - mean(g) - xhat * mean(g * xhat)), g = dout * weight.
static __global__ void layernorm_dinp_kernel(float *dinp, const float *dout, const float *inp,
                                             const float *weight, const float *mean,
                                             const float *rstd, int T, int C) {
    const int lane = threadIdx.x % WARP;
    const long long t = (long long)blockIdx.x * ROWS_PER_BLOCK + threadIdx.x / WARP;
    if (t >= T) return;
    const float *x = inp + t * C, *dy = dout + t * C;
    const float m = mean[t], r = rstd[t];
    float g_mean = 0.0f, gx_mean = 0.0f;
    for (int c = lane; c < C; c += WARP) {
        float g = dy[c] * weight[c];
        g_mean += g;
        gx_mean += g * (x[c] - m) * r;
    }
    g_mean = ds_warp_sum(g_mean) / (float)C;
    gx_mean = ds_warp_sum(gx_mean) / (float)C;
    float *dx = dinp + t * C;
    for (int c = lane; c < C; c += WARP) {
        float xhat = (x[c] - m) * r;
        dx[c] += r * (dy[c] * weight[c] - g_mean - xhat * gx_mean);
    }
}

// dw_partial, db_partial (n_chunks, C), either may be NULL: row k holds, per
// column, the sums of dout * xhat and of dout over rows k * rows .. (k + 1) * rows - 1
// (blockIdx.y = k), in row order.
static __global__ void layernorm_param_partial_kernel(float *dw_partial, float *db_partial,
                                                      const float *dout, const float *inp,
                                                      const float *mean, const float *rstd, int T,
                                                      int C, int rows) {
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= C) return;
    const long long t0 = (long long)blockIdx.y * rows;
    const long long t1 = t0 + rows < T ? t0 + rows : T;
    float sw = 0.0f, sb = 0.0f;
    for (long long t = t0; t < t1; t++) {
        float dy = dout[t * C + c];
        sw += dy * (inp[t * C + c] - mean[t]) * rstd[t];
        sb += dy;
    }
    const long long k = (long long)blockIdx.y * C + c;
    if (dw_partial) dw_partial[k] = sw;
    if (db_partial) db_partial[k] = sb;
}

void ds_cuda_layernorm_forward(ds_ctx *ctx, float *out, float *mean, float *rstd, const float *inp,
                               const float *weight, const float *bias, int T, int C, float eps) {
    if (T <= 0) return; // C = 0 runs on, as the CPU does (NaN statistics from 0 / 0)
    layernorm_forward_kernel<<<ds_cuda_blocks(T, ROWS_PER_BLOCK), ROW_THREADS, 0,
                               ds_cuda_stream(ctx)>>>(out, mean, rstd, inp, weight, bias, T, C,
                                                      eps);
    DS_CUDA_LAUNCHED();
}

void ds_cuda_layernorm_backward(ds_ctx *ctx, float *dinp, float *dweight, float *dbias,
                                const float *dout, const float *inp, const float *weight,
                                const float *mean, const float *rstd, int T, int C) {
    if (T <= 0 || C <= 0) return; // nothing to accumulate
    cudaStream_t st = ds_cuda_stream(ctx);
    if (dinp) {
        layernorm_dinp_kernel<<<ds_cuda_blocks(T, ROWS_PER_BLOCK), ROW_THREADS, 0, st>>>(
            dinp, dout, inp, weight, mean, rstd, T, C);
        DS_CUDA_LAUNCHED();
    }
    if (!dweight && !dbias) return;
    int n_chunks, rows = ds_cuda_chunk_rows(T, &n_chunks);
    size_t slab = (size_t)n_chunks * C; // one (n_chunks, C) partial set
    float *partial = (float *)ds_ctx_scratch(ctx, sizeof(float) * 2 * slab);
    float *dw_partial = dweight ? partial : NULL, *db_partial = dbias ? partial + slab : NULL;
    dim3 grid(ds_cuda_blocks(C, COL_THREADS), n_chunks);
    layernorm_param_partial_kernel<<<grid, COL_THREADS, 0, st>>>(dw_partial, db_partial, dout, inp,
                                                                 mean, rstd, T, C, rows);
    DS_CUDA_LAUNCHED();
    if (dweight) ds_cuda_column_sum_add(ctx, dweight, dw_partial, n_chunks, C);
    if (dbias) ds_cuda_column_sum_add(ctx, dbias, db_partial, n_chunks, C);
}
