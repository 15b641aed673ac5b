// device.cu: CUDA device discovery and the context's resources (a stream, a
// cuBLAS handle bound to it, a reduction buffer) through the runtime API only
// (libcudart; never libcuda, whose stubs must not be linked). Every op of the
// context runs on its one stream, so ops are ordered without events.
#include "kernels/cuda/cuda-impl.h"

extern "C" {
#include "core/error.h"

int ds_cuda_device_count(void);
int ds_cuda_device_name(int index, char *buf, size_t size);
int ds_cuda_ctx_init(ds_ctx *ctx, int device);
void ds_cuda_ctx_release(ds_ctx *ctx);
void ds_cuda_set_gemm_f32(ds_ctx *ctx, int on);
void ds_cuda_ctx_use(ds_ctx *ctx);
}

// Number of usable GPUs; 0 when there is no driver or no device (not an error).
extern "C" int ds_cuda_device_count(void) {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        cudaGetLastError(); // clear the sticky "no driver" error
        return 0;
    }
    return n;
}

extern "C" int ds_cuda_device_name(int index, char *buf, size_t size) {
    cudaDeviceProp prop;
    if (DS_CUDA_CHECK(cudaGetDeviceProperties(&prop, index)) != 0)
        return ds_error(DS_E_NODEVICE, "cannot query CUDA device %d", index);
    snprintf(buf, size, "%s (sm_%d%d, %.0f GiB)", prop.name, prop.major, prop.minor,
             (double)prop.totalGlobalMem / (1024.0 * 1024.0 * 1024.0));
    return 0;
}

extern "C" int ds_cuda_ctx_init(ds_ctx *ctx, int device) {
    int n = ds_cuda_device_count();
    if (n == 0)
        return ds_error(DS_E_NODEVICE, "CUDA requested but no GPU is visible; use --device cpu");
    if (device < 0 || device >= n)
        return ds_error(DS_E_NODEVICE,
                        "CUDA device %d requested but only %d GPU(s) visible (0..%d)", device, n,
                        n - 1);
    ds_cuda_state *s = (ds_cuda_state *)calloc(1, sizeof *s);
    if (!s) return ds_error(DS_E_NOMEM, "cannot allocate the CUDA context");
    s->device = device;
    if (DS_CUDA_CHECK(cudaSetDevice(device)) != 0 ||
        DS_CUDA_CHECK(cudaStreamCreateWithFlags(&s->stream, cudaStreamNonBlocking)) != 0) {
        free(s);
        return ds_error(DS_E_NODEVICE, "cannot start CUDA device %d", device);
    }
    if (DS_CUBLAS_CHECK(cublasCreate(&s->blas)) != 0 ||
        DS_CUBLAS_CHECK(cublasSetStream(s->blas, s->stream)) != 0 ||
        DS_CUDA_CHECK(cudaMalloc((void **)&s->reduce, DS_CUDA_REDUCE_BLOCKS * sizeof(double))) !=
            0) {
        if (s->blas) cublasDestroy(s->blas);
        cudaStreamDestroy(s->stream);
        free(s);
        return ds_error(DS_E_NODEVICE, "cannot set up cuBLAS on CUDA device %d", device);
    }
    ctx->impl = s;
    ctx->ops = ds_ops_cuda();
    return 0;
}

extern "C" void ds_cuda_ctx_release(ds_ctx *ctx) {
    ds_cuda_state *s = ds_cuda_of(ctx);
    if (!s) return;
    cudaStreamSynchronize(s->stream);
    cudaFree(s->reduce);
    cublasDestroy(s->blas);
    cudaStreamDestroy(s->stream);
    free(s);
    ctx->impl = NULL;
}

// The runtime keeps a current device per host thread, and a stream of device N launches
// only where N is current.
extern "C" void ds_cuda_ctx_use(ds_ctx *ctx) {
    DS_CUDA_CHECK(cudaSetDevice(ds_cuda_of(ctx)->device));
}

extern "C" void ds_cuda_set_gemm_f32(ds_ctx *ctx, int on) {
    ds_cuda_of(ctx)->gemm_f32 = on;
}
