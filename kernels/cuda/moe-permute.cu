// moe-permute.cu: the MoE data movement of kernels/cpu/moe-permute.c. permute is the CPU's
// stable counting sort: a block counts with shared-memory atomics (integer counts, so the
// order of the adds does not matter), one thread forms the prefix sums, then one warp walks
// the assignments in (token, slot) order 32 at a time and ranks equal experts with
// __match_any_sync, so every row lands where the CPU puts it. dispatch, combine and their
// backwards are gathers (each permuted row belongs to one (token, slot)): no atomics, and
// sums run in the CPU's slot order. Not here: capacity limits, token dropping, the GEMMs.
#include "kernels/cuda/cuda-impl.h"

extern "C" {
#include "core/error.h"
}

// ---- permute

enum { PERMUTE_THREADS = 1024 };

static __global__ void permute_kernel(int32_t *offsets, int32_t *row_of, int32_t *token_of,
                                      const int32_t *expert_idx, int n, int topk, int E) {
    extern __shared__ int cur[]; // (E) counts, then each expert's write cursor
    for (int e = threadIdx.x; e < E; e += blockDim.x) cur[e] = 0;
    __syncthreads();
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        int e = expert_idx[i];
        if (e >= 0 && e < E) atomicAdd(&cur[e], 1); // the router only emits valid experts
    }
    __syncthreads();
    if (threadIdx.x == 0) { // E is small: a serial prefix sum
        int run = 0;
        offsets[0] = 0;
        for (int e = 0; e < E; e++) {
            int count = cur[e];
            cur[e] = run;
            run += count;
            offsets[e + 1] = run;
        }
    }
    __syncthreads();
    if (threadIdx.x >= 32) return;

    // Warp 0, 32 assignments per step in order: a lane's rank among the lanes before it with
    // the same expert, added to that expert's cursor, is the CPU's row for it.
    const int lane = threadIdx.x;
    for (int base = 0; base < n; base += 32) {
        int i = base + lane;
        int e = i < n ? expert_idx[i] : -1;
        int valid = e >= 0 && e < E;
        unsigned peers = __match_any_sync(0xffffffffu, valid ? e : -1);
        int rank = __popc(peers & ((1u << lane) - 1u));
        if (valid) {
            int r = cur[e] + rank;
            row_of[i] = r;
            token_of[r] = i / topk;
        }
        __syncwarp(); // all cursors read before the first lane of each expert moves its own
        if (valid && rank == 0) cur[e] += __popc(peers);
        __syncwarp();
    }
}

void ds_cuda_moe_permute(ds_ctx *ctx, int32_t *offsets, int32_t *row_of, int32_t *token_of,
                         const int32_t *expert_idx, int T, int topk, int E) {
    int64_t n = (int64_t)T * topk;
    DS_ASSERT(n >= 0 && n <= INT32_MAX - 32); // i = base + lane stays within int
    DS_ASSERT(E >= 0 && (size_t)E * sizeof(int) <= 48 * 1024);
    // Launched even when n is 0: offsets must still be written (all zeros).
    permute_kernel<<<1, PERMUTE_THREADS, (size_t)(E > 0 ? E : 1) * sizeof(int),
                     ds_cuda_stream(ctx)>>>(offsets, row_of, token_of, expert_idx, (int)n,
                                            topk > 0 ? topk : 1, E);
    DS_CUDA_LAUNCHED();
}

// ---- dispatch and combine

// xp (n, C) = x[token_of]: one thread per element.
static __global__ void dispatch_forward_kernel(float *xp, const float *x, const int32_t *token_of,
                                               long long n, int C) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n * C) return;
    long long r = i / C;
    int c = (int)(i % C);
    xp[i] = x[(long long)token_of[r] * C + c];
}

void ds_cuda_moe_dispatch_forward(ds_ctx *ctx, float *xp, const float *x, const int32_t *token_of,
                                  int T, int topk, int C) {
    long long n = (long long)T * topk;
    if (n <= 0 || C <= 0) return;
    dispatch_forward_kernel<<<ds_cuda_blocks(n * C, 256), 256, 0, ds_cuda_stream(ctx)>>>(
        xp, x, token_of, n, C);
    DS_CUDA_LAUNCHED();
}

// dx (T, C) += the token's slots of dxp: one thread per (t, c), slots in order from the
// current value, the same additions as the CPU.
static __global__ void dispatch_backward_kernel(float *dx, const float *dxp, const int32_t *row_of,
                                                int T, int topk, int C) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (long long)T * C) return;
    long long t = i / C;
    int c = (int)(i % C);
    float acc = dx[i];
    for (int k = 0; k < topk; k++) acc += dxp[(long long)row_of[t * topk + k] * C + c];
    dx[i] = acc;
}

void ds_cuda_moe_dispatch_backward(ds_ctx *ctx, float *dx, const float *dxp, const int32_t *row_of,
                                   int T, int topk, int C) {
    if (!dx || T <= 0 || topk <= 0 || C <= 0) return;
    dispatch_backward_kernel<<<ds_cuda_blocks((long long)T * C, 256), 256, 0,
                               ds_cuda_stream(ctx)>>>(dx, dxp, row_of, T, topk, C);
    DS_CUDA_LAUNCHED();
}

// out (T, C) = sum over slots of w * yp[row_of]: one thread per (t, c), slots in order.
static __global__ void combine_forward_kernel(float *out, const float *yp, const float *w,
                                              const int32_t *row_of, int T, int topk, int C) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (long long)T * C) return;
    long long t = i / C;
    int c = (int)(i % C);
    float acc = 0.0f;
    for (int k = 0; k < topk; k++)
        acc += w[t * topk + k] * yp[(long long)row_of[t * topk + k] * C + c];
    out[i] = acc;
}

void ds_cuda_moe_combine_forward(ds_ctx *ctx, float *out, const float *yp, const float *w,
                                 const int32_t *row_of, int T, int topk, int C) {
    if (T <= 0 || C <= 0) return;
    // topk 0 still runs: out is overwritten with zeros, as on the CPU.
    combine_forward_kernel<<<ds_cuda_blocks((long long)T * C, 256), 256, 0, ds_cuda_stream(ctx)>>>(
        out, yp, w, row_of, T, topk, C);
    DS_CUDA_LAUNCHED();
}

enum { COMBINE_BWD_THREADS = 256 };

// One block per assignment i = (t, slot) with row r: dyp[r] += w_i dout[t] (the row is this
// assignment's alone), dw[i] += dout[t] . yp[r] through a fixed-order block reduction
// (deterministic; a different summation order from the CPU's eight lanes).
static __global__ void combine_backward_kernel(float *dyp, float *dw, const float *dout,
                                               const float *yp, const float *w,
                                               const int32_t *row_of, int topk, int C) {
    __shared__ float part[COMBINE_BWD_THREADS / 32];
    const long long i = blockIdx.x, t = i / topk, r = row_of[i];
    const float *d = dout + t * C;
    const float *y = yp + r * C;
    const float wi = w ? w[i] : 0.0f;
    float acc = 0.0f;
    for (int c = threadIdx.x; c < C; c += blockDim.x) {
        if (dyp) dyp[r * C + c] += wi * d[c];
        if (dw) acc += d[c] * y[c];
    }
    if (!dw) return; // uniform across the block
    for (int o = 16; o > 0; o /= 2) acc += __shfl_xor_sync(0xffffffffu, acc, o);
    if ((threadIdx.x & 31) == 0) part[threadIdx.x >> 5] = acc;
    __syncthreads();
    if (threadIdx.x == 0) {
        float s = part[0];
        for (int k = 1; k < COMBINE_BWD_THREADS / 32; k++) s += part[k];
        dw[i] += s;
    }
}

void ds_cuda_moe_combine_backward(ds_ctx *ctx, float *dyp, float *dw, const float *dout,
                                  const float *yp, const float *w, const int32_t *row_of, int T,
                                  int topk, int C) {
    if (!dyp && !dw) return;
    long long n = (long long)T * topk;
    if (n <= 0 || C <= 0) return; // dw += an empty dot product: nothing to add
    DS_ASSERT(n <= INT32_MAX);
    combine_backward_kernel<<<(unsigned)n, COMBINE_BWD_THREADS, 0, ds_cuda_stream(ctx)>>>(
        dyp, dw, dout, yp, w, row_of, topk, C);
    DS_CUDA_LAUNCHED();
}
