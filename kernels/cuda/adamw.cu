// adamw.cu: one AdamW step of kernels/cpu/adamw.c on the GPU, one thread per
// parameter, with the CPU's formula and order: the gradient is scaled first,
// the bias corrections are formed on the host in double (1 - 0.999^step loses
// digits in float), and the decoupled decay uses p from before the step.
// cfg lives on the host, so its fields go to the kernel by value.
// Not here: learning-rate schedules, fused gradient clipping, mixed precision.
#include "kernels/cuda/cuda-impl.h"

#include <math.h>

extern "C" {
#include "core/error.h"
}

enum { THREADS = 256 };

static __global__ void adamw_kernel(float *p, const float *g, float *m, float *v, long long n,
                                    float lr, float b1, float b2, float eps, float wd, float gsc,
                                    float ibc1, float ibc2) {
    const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const float gi = g[i] * gsc;
    const float mi = b1 * m[i] + (1.0f - b1) * gi;
    const float vi = b2 * v[i] + (1.0f - b2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    const float mhat = mi * ibc1, vhat = vi * ibc2;
    const float pi = p[i];
    p[i] = pi - lr * (mhat / (sqrtf(vhat) + eps) + wd * pi);
}

void ds_cuda_adamw_update(ds_ctx *ctx, float *params, const float *grads, float *m, float *v,
                          int64_t n, const ds_adamw_cfg *cfg) {
    DS_ASSERT(cfg->step >= 1); // bias correction divides by 1 - beta^step
    if (n <= 0) return;
    const float ibc1 = (float)(1.0 / (1.0 - pow((double)cfg->beta1, (double)cfg->step)));
    const float ibc2 = (float)(1.0 / (1.0 - pow((double)cfg->beta2, (double)cfg->step)));
    adamw_kernel<<<ds_cuda_blocks(n, THREADS), THREADS, 0, ds_cuda_stream(ctx)>>>(
        params, grads, m, v, n, cfg->lr, cfg->beta1, cfg->beta2, cfg->eps, cfg->weight_decay,
        cfg->grad_scale, ibc1, ibc2);
    DS_CUDA_LAUNCHED();
}
