// device.cu: CUDA device discovery and context set-up through the runtime API
// only (libcudart; never libcuda, whose stubs must not be linked). The op
// kernels arrive with the CUDA backend issue; until then a CUDA context
// reports that plainly instead of pretending, and the CPU stays the default.
#include "kernels/cuda/cuda-check.h"

extern "C" {
#include "core/error.h"
#include "kernels/ops.h"

int ds_cuda_device_count(void);
int ds_cuda_device_name(int index, char *buf, size_t size);
int ds_cuda_ctx_init(ds_ctx *ctx);
void ds_cuda_ctx_release(ds_ctx *ctx);
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

extern "C" int ds_cuda_ctx_init(ds_ctx *ctx) {
    (void)ctx;
    if (ds_cuda_device_count() == 0)
        return ds_error(DS_E_NODEVICE, "CUDA requested but no GPU is visible; use --device cpu");
    return ds_error(
        DS_E_UNSUPPORTED,
        "a GPU is present but the CUDA kernels are not implemented yet; use --device cpu");
}

extern "C" void ds_cuda_ctx_release(ds_ctx *ctx) {
    (void)ctx;
}
