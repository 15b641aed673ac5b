// rope.cu: rotary position embedding on interleaved pairs, the CUDA side of
// kernels/cpu/rope.c: one thread per (row t, pair i) forms the angle
// pos[t] * theta^(-2i/hd) in double, exactly as the CPU does (a float angle is
// off by ~1e-3 rad near position 30000), and rotates pair i of every head of
// the row with it; backward adds the transposed rotation (sine negated).
// Deliberately not here: a cached sin/cos table, the half-split (GPT-NeoX)
// layout, frequency scaling. Forward may run in place; backward may not.
#include "kernels/cuda/cuda-impl.h"

extern "C" {
#include "core/error.h"
}

#include <math.h>

// y = R x (forward) or dinp += R^T dout (backward) for pair i of row t, all heads.
// log_theta comes from the host's log(), the value the CPU reference uses.
static __global__ void rope_kernel(float *out, const float *inp, const int32_t *pos, int T, int nh,
                                   int hd, double log_theta, int backward) {
    const int half = hd / 2;
    long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (long long)T * half) return;
    const int t = (int)(idx / half), i = (int)(idx % half);
    // The same expressions as rope_setup / rope_row_trig, in double.
    double inv_freq = exp(-(2.0 * i / hd) * log_theta);
    double a = (double)pos[t] * inv_freq;
    float c = (float)cos(a), s = (float)sin(a);
    if (backward) s = -s;
    for (int h = 0; h < nh; h++) {
        long long off = ((long long)t * nh + h) * hd + 2 * i;
        // Both members of the pair are read before either is written: in place is safe.
        float x0 = inp[off], x1 = inp[off + 1];
        float y0 = x0 * c - x1 * s, y1 = x0 * s + x1 * c;
        if (backward) {
            out[off] += y0;
            out[off + 1] += y1;
        } else {
            out[off] = y0;
            out[off + 1] = y1;
        }
    }
}

static void rope_launch(ds_ctx *ctx, float *out, const float *inp, const int32_t *pos, int T,
                        int nh, int hd, float theta, int backward) {
    DS_ASSERT(hd > 0 && hd % 2 == 0); // model configs guarantee an even head size
    long long n = (long long)T * (hd / 2);
    rope_kernel<<<ds_cuda_blocks(n, 256), 256, 0, ds_cuda_stream(ctx)>>>(
        out, inp, pos, T, nh, hd, log((double)theta), backward);
    DS_CUDA_LAUNCHED();
}

void ds_cuda_rope_forward(ds_ctx *ctx, float *out, const float *inp, const int32_t *pos, int T,
                          int nh, int hd, float theta) {
    if (T <= 0 || nh <= 0) return;
    rope_launch(ctx, out, inp, pos, T, nh, hd, theta, 0);
}

void ds_cuda_rope_backward(ds_ctx *ctx, float *dinp, const float *dout, const int32_t *pos, int T,
                           int nh, int hd, float theta) {
    if (!dinp || T <= 0 || nh <= 0) return;
    DS_ASSERT(dinp != dout); // accumulation in place would read its own updates
    rope_launch(ctx, dinp, dout, pos, T, nh, hd, theta, 1);
}
