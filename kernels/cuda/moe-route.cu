// moe-route.cu: group-limited top-k routing of kernels/cpu/moe-route.c, one block per token.
// The CPU inserts candidates into sorted lists; here each group and each expert computes its
// own rank in the same total order (decreasing biased score, then increasing index), which
// gives the CPU's chosen set and slot order, ties included. Scores use the CPU's formulas
// (sigmoid, max-subtracted softmax); the softmax sum is a fixed tree (deterministic, but in
// another order than the CPU's), which scales every score of a row alike and so keeps exact
// ties tied; only values within an ulp or two of each other could order differently.
// Not here: the router GEMM, capacity limits, balance losses (as on the CPU).
#include "kernels/cuda/cuda-impl.h"
#include "kernels/cuda/reduce.cuh"

extern "C" {
#include "core/error.h"
}

#include <math.h>

enum { ROUTE_THREADS_MAX = 256 };

// Configs are validated when the model loads, so a bad one here is a broken invariant.
static void check_cfg(ds_router_cfg c) {
    DS_ASSERT(c.n_experts >= 1 && c.n_groups >= 1);
    DS_ASSERT(c.n_experts % c.n_groups == 0);
    DS_ASSERT(c.topk_groups >= 1 && c.topk_groups <= c.n_groups);
    DS_ASSERT(c.topk >= 1 && c.topk <= c.topk_groups * (c.n_experts / c.n_groups));
    DS_ASSERT(c.score == DS_ROUTER_SOFTMAX || c.score == DS_ROUTER_SIGMOID);
}

// One warp per 32 experts, at least one warp, at most ROUTE_THREADS_MAX (threads loop).
static int route_threads(int E) {
    int t = (E + 31) / 32 * 32;
    return t < ROUTE_THREADS_MAX ? t : ROUTE_THREADS_MAX;
}

// Dynamic shared memory: s, b (E) floats, gscore (G), red (32), then keep (G), idx (K) ints.
static size_t route_shared_bytes(ds_router_cfg c) {
    return sizeof(float) * (2 * (size_t)c.n_experts + c.n_groups + 32) +
           sizeof(int) * ((size_t)c.n_groups + c.topk);
}

static __global__ void route_forward_kernel(int32_t *expert_idx, float *expert_w, float *scores,
                                            const float *logits, const float *bias,
                                            ds_router_cfg c) {
    extern __shared__ float sh[];
    const int E = c.n_experts, G = c.n_groups, gsize = E / G, K = c.topk, KG = c.topk_groups;
    float *s = sh;                 // (E) unbiased scores
    float *b = s + E;              // (E) biased scores: selection only
    float *gscore = b + E;         // (G)
    float *red = gscore + G;       // (32)
    int *keep = (int *)(red + 32); // (G) 1: the group is among the topk_groups best
    int *idx = keep + G;           // (K) chosen experts by slot
    const long long t = blockIdx.x;
    const int tid = threadIdx.x, nt = blockDim.x;
    const float *l = logits + t * E;

    if (c.score == DS_ROUTER_SIGMOID) {
        for (int e = tid; e < E; e += nt) s[e] = 1.0f / (1.0f + expf(-l[e]));
    } else { // ds_softmax_row: exp(l - max), then times 1 / sum
        float mx = -INFINITY;
        for (int e = tid; e < E; e += nt) mx = fmaxf(mx, l[e]);
        mx = ds_block_max(mx, red);
        float sum = 0.0f;
        for (int e = tid; e < E; e += nt) {
            s[e] = expf(l[e] - mx);
            sum += s[e];
        }
        float inv = 1.0f / ds_block_sum(sum, red);
        for (int e = tid; e < E; e += nt) s[e] *= inv;
    }
    for (int e = tid; e < E; e += nt) {
        b[e] = bias ? s[e] + bias[e] : s[e];
        scores[t * E + e] = s[e];
    }
    for (int k = tid; k < K; k += nt) idx[k] = 0; // filled below unless a score is NaN
    __syncthreads();

    // Group score: the sum of its two best biased scores, exactly the CPU's scan.
    for (int g = tid; g < G; g += nt) {
        float b1 = -INFINITY, b2 = -INFINITY;
        for (int e = g * gsize; e < (g + 1) * gsize; e++) {
            if (b[e] > b1) {
                b2 = b1;
                b1 = b[e];
            } else if (b[e] > b2) {
                b2 = b[e];
            }
        }
        gscore[g] = gsize == 1 ? b1 : b1 + b2;
    }
    __syncthreads();
    // A group's rank: the groups ahead of it (higher score, or equal and lower index).
    for (int g = tid; g < G; g += nt) {
        float v = gscore[g];
        int r = 0;
        for (int h = 0; h < G; h++) r += gscore[h] > v || (gscore[h] == v && h < g);
        keep[g] = r < KG;
    }
    __syncthreads();
    // An expert's rank among the experts of the kept groups, in the same order; the ranks
    // are distinct, so each slot below K is written by exactly one thread.
    for (int e = tid; e < E; e += nt) {
        if (!keep[e / gsize]) continue;
        float v = b[e];
        int r = 0;
        for (int h = 0; h < G; h++) {
            if (!keep[h]) continue;
            for (int f = h * gsize; f < (h + 1) * gsize; f++) r += b[f] > v || (b[f] == v && f < e);
        }
        if (r < K) idx[r] = e;
    }
    __syncthreads();

    // Weights from the unbiased scores, summed in slot order as the CPU does (K is small).
    if (tid == 0) {
        float sum = 0.0f;
        for (int k = 0; k < K; k++) sum += s[idx[k]];
        for (int k = 0; k < K; k++) {
            float v = s[idx[k]];
            if (c.normalize) v /= sum;
            expert_idx[t * K + k] = idx[k];
            expert_w[t * K + k] = v * c.scale;
        }
    }
}

void ds_cuda_moe_route_forward(ds_ctx *ctx, int32_t *expert_idx, float *expert_w, float *scores,
                               const float *logits, const float *bias, int T, ds_router_cfg cfg) {
    check_cfg(cfg);
    if (T <= 0) return;
    size_t shared = route_shared_bytes(cfg);
    DS_ASSERT(shared <= 48 * 1024); // about 6000 experts: far beyond any router here
    route_forward_kernel<<<T, route_threads(cfg.n_experts), shared, ds_cuda_stream(ctx)>>>(
        expert_idx, expert_w, scores, logits, bias, cfg);
    DS_CUDA_LAUNCHED();
}

// The CPU's backward per token (see moe-route.c for the derivation). Every thread forms the
// K-term sums itself (K is small, the reads are broadcasts), the softmax's E-wide update is
// split across the block, and the chosen experts' own terms are added by thread 0 in slot
// order after it, as the CPU orders them.
static __global__ void route_backward_kernel(float *dlogits, const float *dexpert_w,
                                             const int32_t *expert_idx, const float *scores,
                                             ds_router_cfg c) {
    const int E = c.n_experts, K = c.topk;
    const long long t = blockIdx.x;
    const float *s = scores + t * E;
    const float *g = dexpert_w + t * K;
    const int32_t *idx = expert_idx + t * K;
    float *dl = dlogits + t * E;
    float mul = c.scale, gs = 0.0f;
    if (c.normalize) {
        float sum = 0.0f;
        for (int k = 0; k < K; k++) {
            sum += s[idx[k]];
            gs += g[k] * s[idx[k]];
        }
        mul = c.scale / sum;
        gs /= sum;
    }
    if (c.score == DS_ROUTER_SIGMOID) {
        if (threadIdx.x == 0)
            for (int k = 0; k < K; k++) {
                float sk = s[idx[k]];
                dl[idx[k]] += mul * (g[k] - gs) * sk * (1.0f - sk);
            }
        return;
    }
    float dot = 0.0f;
    for (int k = 0; k < K; k++) dot += mul * (g[k] - gs) * s[idx[k]];
    for (int e = threadIdx.x; e < E; e += blockDim.x) dl[e] -= s[e] * dot;
    __syncthreads(); // the chosen experts' elements were just updated by other threads
    if (threadIdx.x == 0)
        for (int k = 0; k < K; k++) dl[idx[k]] += s[idx[k]] * mul * (g[k] - gs);
}

void ds_cuda_moe_route_backward(ds_ctx *ctx, float *dlogits, const float *dexpert_w,
                                const int32_t *expert_idx, const float *scores, int T,
                                ds_router_cfg cfg) {
    check_cfg(cfg);
    if (!dlogits || T <= 0) return;
    route_backward_kernel<<<T, route_threads(cfg.n_experts), 0, ds_cuda_stream(ctx)>>>(
        dlogits, dexpert_w, expert_idx, scores, cfg);
    DS_CUDA_LAUNCHED();
}
