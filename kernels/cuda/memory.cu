// memory.cu: device memory and the elementwise ops of kernels/cpu/memory.c.
// Copies from pageable host memory: cudaMemcpyAsync returns only once the host
// buffer has been staged, so the caller may free it at once; a download waits
// for its stream, since the caller reads the result next.
#include "kernels/cuda/cuda-impl.h"

void *ds_cuda_alloc(ds_ctx *ctx, size_t bytes) {
    (void)ctx;
    void *p = NULL; // cudaMalloc aligns to 256 bytes, more than the 64 promised
    if (DS_CUDA_CHECK(cudaMalloc(&p, bytes ? bytes : 1)) != 0) return NULL;
    return p;
}

void ds_cuda_free(ds_ctx *ctx, void *ptr) {
    if (!ptr) return;
    DS_CUDA_TRY(cudaStreamSynchronize(ds_cuda_stream(ctx)));
    DS_CUDA_TRY(cudaFree(ptr));
}

void ds_cuda_upload(ds_ctx *ctx, void *dst, const void *host_src, size_t bytes) {
    DS_CUDA_TRY(cudaMemcpyAsync(dst, host_src, bytes, cudaMemcpyHostToDevice, ds_cuda_stream(ctx)));
}

void ds_cuda_download(ds_ctx *ctx, void *host_dst, const void *src, size_t bytes) {
    DS_CUDA_TRY(cudaMemcpyAsync(host_dst, src, bytes, cudaMemcpyDeviceToHost, ds_cuda_stream(ctx)));
    DS_CUDA_TRY(cudaStreamSynchronize(ds_cuda_stream(ctx)));
}

void ds_cuda_zero(ds_ctx *ctx, void *ptr, size_t bytes) {
    DS_CUDA_TRY(cudaMemsetAsync(ptr, 0, bytes, ds_cuda_stream(ctx)));
}

void ds_cuda_sync(ds_ctx *ctx) {
    DS_CUDA_TRY(cudaStreamSynchronize(ds_cuda_stream(ctx)));
}

void ds_cuda_copy_2d(ds_ctx *ctx, float *dst, int64_t dst_ld, const float *src, int64_t src_ld,
                     int rows, int cols) {
    if (rows <= 0 || cols <= 0) return;
    DS_CUDA_TRY(cudaMemcpy2DAsync(dst, sizeof(float) * dst_ld, src, sizeof(float) * src_ld,
                                  sizeof(float) * cols, rows, cudaMemcpyDeviceToDevice,
                                  ds_cuda_stream(ctx)));
}

static __global__ void add_kernel(float *out, const float *a, const float *b, long long n) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = a[i] + b[i];
}

void ds_cuda_add(ds_ctx *ctx, float *out, const float *a, const float *b, int64_t n) {
    if (n <= 0) return;
    add_kernel<<<ds_cuda_blocks(n, 256), 256, 0, ds_cuda_stream(ctx)>>>(out, a, b, n);
    DS_CUDA_LAUNCHED();
}

static __global__ void axpy_kernel(float *dst, const float *src, float scale, long long n) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) dst[i] += scale * src[i];
}

void ds_cuda_axpy(ds_ctx *ctx, float *dst, const float *src, float scale, int64_t n) {
    if (n <= 0) return;
    axpy_kernel<<<ds_cuda_blocks(n, 256), 256, 0, ds_cuda_stream(ctx)>>>(dst, src, scale, n);
    DS_CUDA_LAUNCHED();
}

// Each block sums a grid-strided share in double and writes one partial; the
// host adds the DS_CUDA_REDUCE_BLOCKS partials (the result is needed there).
static __global__ void sumsq_kernel(double *partial, const float *x, long long n) {
    __shared__ double part[256];
    double s = 0;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x)
        s += (double)x[i] * x[i];
    part[threadIdx.x] = s;
    __syncthreads();
    for (int h = blockDim.x / 2; h > 0; h /= 2) {
        if ((int)threadIdx.x < h) part[threadIdx.x] += part[threadIdx.x + h];
        __syncthreads();
    }
    if (threadIdx.x == 0) partial[blockIdx.x] = part[0];
}

double ds_cuda_sumsq(ds_ctx *ctx, const float *x, int64_t n) {
    if (n <= 0) return 0;
    ds_cuda_state *s = ds_cuda_of(ctx);
    sumsq_kernel<<<DS_CUDA_REDUCE_BLOCKS, 256, 0, s->stream>>>(s->reduce, x, n);
    DS_CUDA_LAUNCHED();
    double part[DS_CUDA_REDUCE_BLOCKS], sum = 0;
    ds_cuda_download(ctx, part, s->reduce, sizeof part);
    for (int i = 0; i < DS_CUDA_REDUCE_BLOCKS; i++) sum += part[i];
    return sum;
}
