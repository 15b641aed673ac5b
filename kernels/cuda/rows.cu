// rows.cu: rows_add of kernels/cpu/rows.c on the GPU: a block per destination
// row, a thread per column, its sources added in list order: no atomics, the
// CPU's order of sums (nvcc fuses each multiply-add, so a scaled source, ROI
// pooling's 1/cells, rounds once where the CPU rounds twice: an ulp apart).
#include "kernels/cuda/cuda-impl.h"

enum { THREADS = 128 };

static __global__ void rows_add_kernel(float *dst, const int32_t *dst_row, const int32_t *src_off,
                                       const int32_t *src_row, const float *src_scale,
                                       const float *src, int C) {
    const int i = blockIdx.x, j0 = src_off[i], j1 = src_off[i + 1];
    float *d = dst + (long long)dst_row[i] * C;
    for (int c = threadIdx.x; c < C; c += THREADS) {
        float v = d[c];
        for (int j = j0; j < j1; j++)
            v += (src_scale ? src_scale[j] : 1.0f) * src[(long long)src_row[j] * C + c];
        d[c] = v;
    }
}

void ds_cuda_rows_add(ds_ctx *ctx, float *dst, const int32_t *dst_row, const int32_t *src_off,
                      const int32_t *src_row, const float *src_scale, const float *src, int n,
                      int C) {
    if (n <= 0 || C <= 0) return;
    rows_add_kernel<<<n, THREADS, 0, ds_cuda_stream(ctx)>>>(dst, dst_row, src_off, src_row,
                                                            src_scale, src, C);
    DS_CUDA_LAUNCHED();
}
