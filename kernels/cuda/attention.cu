// attention.cu: scaled dot-product attention with grouped-query heads and the
// masks of ds_attn_mask, the CUDA side of kernels/cpu/attention.c, with the same
// probabilities kept in att (B, nh, T, T), masked entries exactly 0. Forward: a
// block per query row. Backward: a block per query row for dq (and D = sum P dP,
// kept in scratch), then a block per (key row, kv head) for dk and dv: each
// gradient element has one writer and a fixed summation order (deterministic).
// Deliberately not here: flash-style tiling without att (backward reads the saved
// probabilities), tensor cores, atomics, dropout, score biases, KV caches.
#include "kernels/cuda/cuda-impl.h"
#include "kernels/cuda/reduce.cuh"

extern "C" {
#include "core/error.h"
}

#include <limits.h>
#include <math.h>

// Four warps per block; a warp takes one key (or one query row) at a time, its lanes
// split the head dimension. Each warp keeps its own hd-wide accumulator in shared
// memory, and the warps' accumulators are added in warp order at the end.
enum { ATT_WARPS = 4, ATT_THREADS = 32 * ATT_WARPS };
// Dynamic shared memory is at most (1 + 2 ATT_WARPS) hd floats (the key kernel): hd up
// to 1024 stays within the 48 KiB a block gets without opting in.
enum { ATT_HD_MAX = 1024 };

// ---- helpers

// Visible keys of query i: [*lo, *hi), the same interval as attn_row_range of the CPU
// reference (both ends never decrease with i).
static __device__ void attn_row_range(int i, int T, ds_attn_mask m, int *lo, int *hi) {
    long long l = 0, h = T;
    if (m.causal) {
        long long np = m.n_prefix < 0 ? 0 : m.n_prefix > T ? T : m.n_prefix;
        h = i < np ? np : (long long)i + 1;
    }
    if (m.window > 0) {
        long long wl = (long long)i - m.window + 1, wh = (long long)i + m.window;
        if (wl > l) l = wl;
        if (wh < h) h = wh;
    }
    *lo = (int)l;
    *hi = (int)h;
}

// The first row i in [0, T) whose range end (use_hi) or start (!use_hi) exceeds key j;
// T if none. Both ends are non-decreasing in i, so the predicate is monotone.
static __device__ int attn_first_row(int T, ds_attn_mask m, int j, int use_hi) {
    int a = 0, b = T;
    while (a < b) {
        int mid = a + (b - a) / 2, lo, hi;
        attn_row_range(mid, T, m, &lo, &hi);
        if ((use_hi ? hi : lo) > j)
            b = mid;
        else
            a = mid + 1;
    }
    return a;
}

// a (hd) . b (hd) by one warp; every lane gets the result. One function for every dot
// so the forward, dq and dk passes form dP identically.
static __device__ float warp_dot(const float *a, const float *b, int hd, int lane) {
    float s = 0.0f;
    for (int d = lane; d < hd; d += 32) s += a[d] * b[d];
    return ds_warp_sum(s);
}

// ---- forward: block (b, h, i) fills row i of att and of out.
static __global__ void attn_forward_kernel(float *out, float *att, const float *q, const float *k,
                                           const float *v, int T, int nh, int nkv, int hd,
                                           float scale, ds_attn_mask mask) {
    extern __shared__ float sm[]; // q row (hd), then ATT_WARPS accumulators (hd)
    __shared__ float red[32];
    float *qi = sm, *acc = sm + hd;
    const int i = (int)(blockIdx.x % T);
    const long long bh = blockIdx.x / T; // b * nh + h
    const int h = (int)(bh % nh), b = (int)(bh / nh), g = h / (nh / nkv);
    const int tid = threadIdx.x, lane = tid & 31, w = tid >> 5;
    const long long ldq = (long long)nh * hd, ldk = (long long)nkv * hd;
    const float *K = k + (long long)b * T * ldk + (long long)g * hd; // key j at K + j ldk
    const float *V = v + (long long)b * T * ldk + (long long)g * hd;
    const float *Q = q + ((long long)b * T + i) * ldq + (long long)h * hd;
    float *O = out + ((long long)b * T + i) * ldq + (long long)h * hd;
    float *P = att + (bh * T + i) * T;
    int jl, jh;
    attn_row_range(i, T, mask, &jl, &jh); // never empty: it holds j = i

    for (int d = tid; d < hd; d += blockDim.x) qi[d] = Q[d];
    for (int d = tid; d < ATT_WARPS * hd; d += blockDim.x) acc[d] = 0.0f;
    __syncthreads();

    // Scores scale * q.k into att's row (the row is the working buffer), and their max.
    float mx = -INFINITY;
    for (int j = jl + w; j < jh; j += ATT_WARPS) {
        float s = scale * warp_dot(qi, K + j * ldk, hd, lane);
        if (lane == 0) P[j] = s;
        mx = fmaxf(mx, s);
    }
    mx = ds_block_max(mx, red);

    // exp and its sum; masked entries exactly 0, as the P V pass and backward expect.
    float sum = 0.0f;
    for (int j = tid; j < T; j += blockDim.x) {
        if (j < jl || j >= jh) {
            P[j] = 0.0f;
            continue;
        }
        float e = expf(P[j] - mx);
        P[j] = e;
        sum += e;
    }
    float inv = 1.0f / ds_block_sum(sum, red); // the maximum contributes exp(0): sum >= 1
    for (int j = jl + tid; j < jh; j += blockDim.x) P[j] *= inv;
    __syncthreads(); // the normalised row is read by other warps below

    // out = P V over the visible keys, a warp per key, lanes over d.
    float *aw = acc + w * hd;
    for (int j = jl + w; j < jh; j += ATT_WARPS) {
        float p = P[j];
        const float *vj = V + j * ldk;
        for (int d = lane; d < hd; d += 32) aw[d] += p * vj[d];
    }
    __syncthreads();
    for (int d = tid; d < hd; d += blockDim.x) {
        float s = 0.0f;
        for (int u = 0; u < ATT_WARPS; u++) s += acc[u * hd + d];
        O[d] = s;
    }
}

void ds_cuda_attention_forward(ds_ctx *ctx, float *out, float *att, const float *q, const float *k,
                               const float *v, int B, int T, int nh, int nkv, int hd,
                               ds_attn_mask mask) {
    DS_ASSERT(nkv > 0 && nh % nkv == 0 && hd > 0 && hd <= ATT_HD_MAX);
    if (B <= 0 || T <= 0 || nh <= 0) return;
    long long rows = (long long)B * nh * T;
    DS_ASSERT(rows <= INT_MAX);
    size_t shm = sizeof(float) * (size_t)(1 + ATT_WARPS) * hd;
    attn_forward_kernel<<<(unsigned)rows, ATT_THREADS, shm, ds_cuda_stream(ctx)>>>(
        out, att, q, k, v, T, nh, nkv, hd, 1.0f / sqrtf((float)hd), mask);
    DS_CUDA_LAUNCHED();
}

// ---- backward, pass 1: block (b, h, i). dP_ij = dout_i . v_j, D_i = sum_j P_ij dP_ij
// (saved: the key pass needs it), dS_ij = scale P_ij (dP_ij - D_i), dq_i += dS_i K.
// dP is formed twice (for D, then for dS) rather than kept in a T-wide buffer.
static __global__ void attn_backward_rows_kernel(float *dq, float *Dsum, const float *dout,
                                                 const float *att, const float *k, const float *v,
                                                 int T, int nh, int nkv, int hd, float scale,
                                                 ds_attn_mask mask) {
    extern __shared__ float sm[]; // dout row (hd), then ATT_WARPS accumulators (hd)
    __shared__ float red[32];
    float *doi = sm, *acc = sm + hd;
    const int i = (int)(blockIdx.x % T);
    const long long bh = blockIdx.x / T;
    const int h = (int)(bh % nh), b = (int)(bh / nh), g = h / (nh / nkv);
    const int tid = threadIdx.x, lane = tid & 31, w = tid >> 5;
    const long long ldq = (long long)nh * hd, ldk = (long long)nkv * hd;
    const float *K = k + (long long)b * T * ldk + (long long)g * hd;
    const float *V = v + (long long)b * T * ldk + (long long)g * hd;
    const long long qoff = ((long long)b * T + i) * ldq + (long long)h * hd;
    const float *P = att + (bh * T + i) * T;
    int jl, jh;
    attn_row_range(i, T, mask, &jl, &jh);

    for (int d = tid; d < hd; d += blockDim.x) doi[d] = dout[qoff + d];
    for (int d = tid; d < ATT_WARPS * hd; d += blockDim.x) acc[d] = 0.0f;
    __syncthreads();

    float part = 0.0f; // lane 0 of each warp sums its keys' P dP
    for (int j = jl + w; j < jh; j += ATT_WARPS)
        part += P[j] * warp_dot(doi, V + j * ldk, hd, lane);
    const float D = ds_block_sum(lane == 0 ? part : 0.0f, red);
    if (tid == 0) Dsum[bh * T + i] = D;
    if (!dq) return; // uniform over the block, and no barrier follows for the others

    float *aw = acc + w * hd;
    for (int j = jl + w; j < jh; j += ATT_WARPS) {
        float ds = scale * P[j] * (warp_dot(doi, V + j * ldk, hd, lane) - D);
        const float *kj = K + j * ldk;
        for (int d = lane; d < hd; d += 32) aw[d] += ds * kj[d];
    }
    __syncthreads();
    for (int d = tid; d < hd; d += blockDim.x) {
        float s = 0.0f;
        for (int u = 0; u < ATT_WARPS; u++) s += acc[u * hd + d];
        dq[qoff + d] += s;
    }
}

// ---- backward, pass 2: block (b, g, j) for key j of kv head g. Its rows are those of
// the rep query heads sharing g whose range holds j, an interval [ia, ib) since both
// range ends are non-decreasing; a warp takes one (head, row) at a time:
// dv_j += P_ij dout_i, dk_j += dS_ij q_i with dS recomputed from D_i.
static __global__ void attn_backward_keys_kernel(float *dk, float *dv, const float *Dsum,
                                                 const float *dout, const float *att,
                                                 const float *q, const float *v, int T, int nh,
                                                 int nkv, int hd, float scale, ds_attn_mask mask) {
    extern __shared__ float sm[]; // v row (hd), ATT_WARPS dk accumulators, ATT_WARPS dv ones
    float *vj = sm, *acck = sm + hd, *accv = sm + (1 + ATT_WARPS) * hd;
    const int j = (int)(blockIdx.x % T);
    const long long bg = blockIdx.x / T; // b * nkv + g
    const int g = (int)(bg % nkv), b = (int)(bg / nkv), rep = nh / nkv;
    const int tid = threadIdx.x, lane = tid & 31, w = tid >> 5;
    const long long ldq = (long long)nh * hd, ldk = (long long)nkv * hd;
    const long long koff = ((long long)b * T + j) * ldk + (long long)g * hd;
    const int ia = attn_first_row(T, mask, j, 1), ib = attn_first_row(T, mask, j, 0);
    const long long nrows = ib > ia ? ib - ia : 0, n_items = nrows * rep;

    for (int d = tid; d < hd; d += blockDim.x) vj[d] = v[koff + d];
    for (int d = tid; d < 2 * ATT_WARPS * hd; d += blockDim.x) acck[d] = 0.0f;
    __syncthreads();

    float *awk = acck + w * hd, *awv = accv + w * hd;
    for (long long n = w; n < n_items; n += ATT_WARPS) {
        const int h = g * rep + (int)(n / nrows), i = ia + (int)(n % nrows);
        const long long bh = (long long)b * nh + h;
        const long long qoff = ((long long)b * T + i) * ldq + (long long)h * hd;
        const float *doi = dout + qoff;
        const float p = att[(bh * T + i) * T + j];
        if (dv)
            for (int d = lane; d < hd; d += 32) awv[d] += p * doi[d];
        if (dk) {
            float ds = scale * p * (warp_dot(doi, vj, hd, lane) - Dsum[bh * T + i]);
            const float *qi = q + qoff;
            for (int d = lane; d < hd; d += 32) awk[d] += ds * qi[d];
        }
    }
    __syncthreads();
    for (int d = tid; d < hd; d += blockDim.x) {
        float sk = 0.0f, sv = 0.0f;
        for (int u = 0; u < ATT_WARPS; u++) {
            sk += acck[u * hd + d];
            sv += accv[u * hd + d];
        }
        if (dk) dk[koff + d] += sk;
        if (dv) dv[koff + d] += sv;
    }
}

void ds_cuda_attention_backward(ds_ctx *ctx, float *dq, float *dk, float *dv, const float *dout,
                                const float *att, const float *q, const float *k, const float *v,
                                int B, int T, int nh, int nkv, int hd, ds_attn_mask mask) {
    DS_ASSERT(nkv > 0 && nh % nkv == 0 && hd > 0 && hd <= ATT_HD_MAX);
    if (B <= 0 || T <= 0 || nh <= 0 || (!dq && !dk && !dv)) return;
    long long rows = (long long)B * nh * T, keys = (long long)B * nkv * T;
    DS_ASSERT(rows <= INT_MAX);
    const float scale = 1.0f / sqrtf((float)hd);
    cudaStream_t st = ds_cuda_stream(ctx);
    float *Dsum = NULL; // (B, nh, T) row sums of P dP, only when dq or dk needs dS
    if (dq || dk) {
        Dsum = (float *)ds_ctx_scratch(ctx, sizeof(float) * (size_t)rows);
        size_t shm = sizeof(float) * (size_t)(1 + ATT_WARPS) * hd;
        attn_backward_rows_kernel<<<(unsigned)rows, ATT_THREADS, shm, st>>>(
            dq, Dsum, dout, att, k, v, T, nh, nkv, hd, scale, mask);
        DS_CUDA_LAUNCHED();
    }
    if (dk || dv) {
        size_t shm = sizeof(float) * (size_t)(1 + 2 * ATT_WARPS) * hd;
        attn_backward_keys_kernel<<<(unsigned)keys, ATT_THREADS, shm, st>>>(
            dk, dv, Dsum, dout, att, q, v, T, nh, nkv, hd, scale, mask);
        DS_CUDA_LAUNCHED();
    }
}
