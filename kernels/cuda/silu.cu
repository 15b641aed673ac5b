// silu.cu: SiLU and SwiGLU of kernels/cpu/silu.c on the GPU, one thread per
// output element; SwiGLU reads gate and up from the two halves of each input
// row (T, 2H) and writes each of their gradients from that one thread, so no
// two threads touch the same element. The sigmoid uses expf at full precision
// (the CPU uses its vectorisable fast exp, ~1 ulp apart; the parity tolerance
// covers it). Not here: other GLU variants (GEGLU, ReGLU).
#include "kernels/cuda/cuda-impl.h"

enum { THREADS = 256 };

// For x far below 0, expf(-x) is inf and the sigmoid 0: no NaN.
static __device__ float sigmoid_precise(float x) {
    return 1.0f / (1.0f + expf(-x));
}

static __global__ void silu_forward_kernel(float *out, const float *inp, long long n) {
    const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = inp[i] * sigmoid_precise(inp[i]);
}

// d silu / dx = s + x s (1 - s), s = sigmoid(x)
static __global__ void silu_backward_kernel(float *dinp, const float *dout, const float *inp,
                                            long long n) {
    const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const float x = inp[i], s = sigmoid_precise(x);
    dinp[i] += dout[i] * s * (1.0f + x * (1.0f - s));
}

// Element i = (t, h) of out (T, H) = silu(gate) * up, gate = inp[t, h], up = inp[t, H + h].
static __global__ void swiglu_forward_kernel(float *out, const float *inp, int T, int H) {
    const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (long long)T * H) return;
    const long long t = i / H, h = i % H;
    const float *gate = inp + t * 2 * H, *up = gate + H;
    out[i] = gate[h] * sigmoid_precise(gate[h]) * up[h];
}

static __global__ void swiglu_backward_kernel(float *dinp, const float *dout, const float *inp,
                                              int T, int H) {
    const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (long long)T * H) return;
    const long long t = i / H, h = i % H;
    const float *gate = inp + t * 2 * H, *up = gate + H;
    float *dgate = dinp + t * 2 * H, *dup = dgate + H;
    const float g = gate[h], s = sigmoid_precise(g), dy = dout[i];
    dgate[h] += dy * up[h] * s * (1.0f + g * (1.0f - s));
    dup[h] += dy * g * s;
}

void ds_cuda_silu_forward(ds_ctx *ctx, float *out, const float *inp, int64_t n) {
    if (n <= 0) return;
    silu_forward_kernel<<<ds_cuda_blocks(n, THREADS), THREADS, 0, ds_cuda_stream(ctx)>>>(out, inp,
                                                                                         n);
    DS_CUDA_LAUNCHED();
}

void ds_cuda_silu_backward(ds_ctx *ctx, float *dinp, const float *dout, const float *inp,
                           int64_t n) {
    if (!dinp || n <= 0) return;
    silu_backward_kernel<<<ds_cuda_blocks(n, THREADS), THREADS, 0, ds_cuda_stream(ctx)>>>(
        dinp, dout, inp, n);
    DS_CUDA_LAUNCHED();
}

void ds_cuda_swiglu_forward(ds_ctx *ctx, float *out, const float *inp, int T, int H) {
    if (T <= 0 || H <= 0) return;
    swiglu_forward_kernel<<<ds_cuda_blocks((long long)T * H, THREADS), THREADS, 0,
                            ds_cuda_stream(ctx)>>>(out, inp, T, H);
    DS_CUDA_LAUNCHED();
}

void ds_cuda_swiglu_backward(ds_ctx *ctx, float *dinp, const float *dout, const float *inp, int T,
                             int H) {
    if (!dinp || T <= 0 || H <= 0) return;
    swiglu_backward_kernel<<<ds_cuda_blocks((long long)T * H, THREADS), THREADS, 0,
                             ds_cuda_stream(ctx)>>>(dinp, dout, inp, T, H);
    DS_CUDA_LAUNCHED();
}
