// attention.cu: scaled dot-product attention with grouped-query heads and the
// masks of ds_attn_mask, the CUDA side of kernels/cpu/attention.c, with the same
// probabilities kept in att (B, nh, T, T), masked entries exactly 0. Like the CPU
// reference it is GEMMs over the interleaved (B, T, heads, hd) layout through
// leading dimensions, here cuBLAS strided-batched ones (the context's precision:
// bf16 tensor cores with f32 sums, or full f32 for the parity tests):
//   forward:  att = scale Q K^T;  a row kernel masks and normalises it;  out = att V
//   backward: dS = dout V^T;  a row kernel makes dS = scale P (dS - sum_j P dS);
//             dq += dS K,  dk += dS^T Q,  dv += P^T dout
// dS lives in the context's scratch (B, nh, T, T). A kv head's gradients sum its query
// heads' terms in head order, one GEMM after another: no atomics, deterministic.
// The GEMMs cover masked entries too (the row kernels zero them): a causal mask wastes
// half the products, which the earlier row-per-block kernels did not, but these run on
// the tensor cores (measured on an H200: README, issue 9).
// Deliberately not here: flash-style tiling without att (backward reads the saved
// probabilities), dropout, score biases, KV caches (kv-attention.cu).
#include "kernels/cuda/cuda-impl.h"
#include "kernels/attn-range.h"
#include "kernels/cuda/reduce.cuh"

extern "C" {
#include "core/error.h"
}

#include <math.h>

enum { ATT_ROW_THREADS = 128 };

// Block per row (b, h, i) of att, which holds the scaled scores: the visible ones become
// their softmax, the rest exactly 0.
static __global__ void attn_softmax_rows_kernel(float *att, int T, ds_attn_mask mask) {
    __shared__ float red[32];
    const int i = (int)(blockIdx.x % T);
    float *P = att + (long long)blockIdx.x * T;
    int jl, jh;
    ds_attn_row_range(i, T, mask, &jl, &jh); // never empty: it holds j = i
    float mx = -INFINITY;
    for (int j = jl + threadIdx.x; j < jh; j += blockDim.x) mx = fmaxf(mx, P[j]);
    mx = ds_block_max(mx, red);
    float sum = 0.0f;
    for (int j = jl + threadIdx.x; j < jh; j += blockDim.x) {
        float e = expf(P[j] - mx);
        P[j] = e;
        sum += e;
    }
    float inv = 1.0f / ds_block_sum(sum, red); // the maximum contributes exp(0): sum >= 1
    for (int j = threadIdx.x; j < T; j += blockDim.x) P[j] = j < jl || j >= jh ? 0.0f : P[j] * inv;
}

// Block per row: dS holds dP = dout V^T; it becomes scale P (dP - D), D = sum_j P dP
// over the visible keys, and exactly 0 elsewhere.
static __global__ void attn_dscores_rows_kernel(float *dS, const float *att, int T, float scale,
                                                ds_attn_mask mask) {
    __shared__ float red[32];
    const int i = (int)(blockIdx.x % T);
    const long long row = (long long)blockIdx.x * T;
    float *G = dS + row;
    const float *P = att + row;
    int jl, jh;
    ds_attn_row_range(i, T, mask, &jl, &jh);
    float part = 0.0f;
    for (int j = jl + threadIdx.x; j < jh; j += blockDim.x) part += P[j] * G[j];
    const float D = ds_block_sum(part, red);
    for (int j = threadIdx.x; j < T; j += blockDim.x)
        G[j] = j < jl || j >= jh ? 0.0f : scale * P[j] * (G[j] - D);
}

// Which heads one strided-batched GEMM covers. Call c of n_calls starts at element
// offsets oq (in q, dout, dq, out), ok (k, v, dk, dv) and oa (att, dS), and its `count`
// batch entries step by sq, sk and sa. Either a call per (sequence b, head r within a kv
// group) over the nkv groups, or a call per head over the B sequences, whichever is
// fewer calls; either way each call's entries write distinct kv heads' gradients.
typedef struct {
    int n_calls, count;
    long long sq, sk, sa;
    int by_group, B, T, nh, nkv, hd;
} attn_batches;

static attn_batches attn_batches_of(int B, int T, int nh, int nkv, int hd) {
    const int rep = nh / nkv;
    const long long ldq = (long long)nh * hd, ldk = (long long)nkv * hd, TT = (long long)T * T;
    attn_batches p = {0, 0, 0, 0, 0, (long long)B * rep <= nh, B, T, nh, nkv, hd};
    if (p.by_group) {
        p.n_calls = B * rep, p.count = nkv;
        p.sq = (long long)rep * hd, p.sk = hd, p.sa = rep * TT;
    } else {
        p.n_calls = nh, p.count = B;
        p.sq = T * ldq, p.sk = T * ldk, p.sa = nh * TT;
    }
    return p;
}

static void attn_call_offsets(const attn_batches *p, int c, long long *oq, long long *ok,
                              long long *oa) {
    const int rep = p->nh / p->nkv;
    const long long ldq = (long long)p->nh * p->hd, ldk = (long long)p->nkv * p->hd;
    const long long TT = (long long)p->T * p->T;
    if (p->by_group) { // c = b * rep + r: heads r, rep + r, 2 rep + r, ... of sequence b
        const int b = c / rep, r = c % rep;
        *oq = (long long)b * p->T * ldq + (long long)r * p->hd;
        *ok = (long long)b * p->T * ldk;
        *oa = ((long long)b * p->nh + r) * TT;
    } else { // c = h over every sequence
        *oq = (long long)c * p->hd;
        *ok = (long long)(c / rep) * p->hd;
        *oa = (long long)c * TT;
    }
}

// Column-major C (m, n) = alpha op(A) op(B) + beta C for each of count entries, all f32 in
// memory, at the context's GEMM precision.
static void gemm_batched(ds_ctx *ctx, cublasOperation_t ta, cublasOperation_t tb, int m, int n,
                         int k, float alpha, const float *A, int lda, long long sA, const float *B,
                         int ldb, long long sB, float beta, float *C, int ldc, long long sC,
                         int count) {
    DS_CUBLAS_TRY(cublasGemmStridedBatchedEx(
        ds_cuda_of(ctx)->blas, ta, tb, m, n, k, &alpha, A, CUDA_R_32F, lda, sA, B, CUDA_R_32F, ldb,
        sB, &beta, C, CUDA_R_32F, ldc, sC, count, ds_cuda_gemm_compute(ctx), CUBLAS_GEMM_DEFAULT));
}

// Row-major matrices are their column-major transposes: a head's q (T, hd) with row
// stride ldq is column-major (hd, T) with leading dimension ldq, att's (T, T) rows are
// column-major att^T with leading dimension T.
void ds_cuda_attention_forward(ds_ctx *ctx, float *out, float *att, const float *q, const float *k,
                               const float *v, int B, int T, int nh, int nkv, int hd,
                               ds_attn_mask mask) {
    DS_ASSERT(nkv > 0 && nh % nkv == 0 && hd > 0);
    if (B <= 0 || T <= 0 || nh <= 0) return;
    const int ldq = nh * hd, ldk = nkv * hd;
    const attn_batches p = attn_batches_of(B, T, nh, nkv, hd);
    for (int c = 0; c < p.n_calls; c++) { // att^T (T_j, T_i) = scale K Q^T
        long long oq, ok, oa;
        attn_call_offsets(&p, c, &oq, &ok, &oa);
        gemm_batched(ctx, CUBLAS_OP_T, CUBLAS_OP_N, T, T, hd, 1.0f / sqrtf((float)hd), k + ok, ldk,
                     p.sk, q + oq, ldq, p.sq, 0.0f, att + oa, T, p.sa, p.count);
    }
    long long rows = (long long)B * nh * T;
    DS_ASSERT(rows <= 0x7fffffffLL);
    attn_softmax_rows_kernel<<<(unsigned)rows, ATT_ROW_THREADS, 0, ds_cuda_stream(ctx)>>>(att, T,
                                                                                          mask);
    DS_CUDA_LAUNCHED();
    for (int c = 0; c < p.n_calls; c++) { // out^T (hd, T_i) = V^T att^T
        long long oq, ok, oa;
        attn_call_offsets(&p, c, &oq, &ok, &oa);
        gemm_batched(ctx, CUBLAS_OP_N, CUBLAS_OP_N, hd, T, T, 1.0f, v + ok, ldk, p.sk, att + oa, T,
                     p.sa, 0.0f, out + oq, ldq, p.sq, p.count);
    }
}

void ds_cuda_attention_backward(ds_ctx *ctx, float *dq, float *dk, float *dv, const float *dout,
                                const float *att, const float *q, const float *k, const float *v,
                                int B, int T, int nh, int nkv, int hd, ds_attn_mask mask) {
    DS_ASSERT(nkv > 0 && nh % nkv == 0 && hd > 0);
    if (B <= 0 || T <= 0 || nh <= 0 || (!dq && !dk && !dv)) return;
    const int ldq = nh * hd, ldk = nkv * hd;
    const attn_batches p = attn_batches_of(B, T, nh, nkv, hd);
    long long rows = (long long)B * nh * T;
    DS_ASSERT(rows <= 0x7fffffffLL);
    if (dv)
        for (int c = 0; c < p.n_calls; c++) { // dv^T (hd, T_j) += dout^T P
            long long oq, ok, oa;
            attn_call_offsets(&p, c, &oq, &ok, &oa);
            gemm_batched(ctx, CUBLAS_OP_N, CUBLAS_OP_T, hd, T, T, 1.0f, dout + oq, ldq, p.sq,
                         att + oa, T, p.sa, 1.0f, dv + ok, ldk, p.sk, p.count);
        }
    if (!dq && !dk) return;
    float *dS = (float *)ds_ctx_scratch(ctx, sizeof(float) * (size_t)rows * T);
    for (int c = 0; c < p.n_calls; c++) { // dP^T (T_j, T_i) = V dout^T
        long long oq, ok, oa;
        attn_call_offsets(&p, c, &oq, &ok, &oa);
        gemm_batched(ctx, CUBLAS_OP_T, CUBLAS_OP_N, T, T, hd, 1.0f, v + ok, ldk, p.sk, dout + oq,
                     ldq, p.sq, 0.0f, dS + oa, T, p.sa, p.count);
    }
    attn_dscores_rows_kernel<<<(unsigned)rows, ATT_ROW_THREADS, 0, ds_cuda_stream(ctx)>>>(
        dS, att, T, 1.0f / sqrtf((float)hd), mask);
    DS_CUDA_LAUNCHED();
    for (int c = 0; c < p.n_calls; c++) {
        long long oq, ok, oa;
        attn_call_offsets(&p, c, &oq, &ok, &oa);
        if (dq) // dq^T (hd, T_i) += K^T dS^T
            gemm_batched(ctx, CUBLAS_OP_N, CUBLAS_OP_N, hd, T, T, 1.0f, k + ok, ldk, p.sk, dS + oa,
                         T, p.sa, 1.0f, dq + oq, ldq, p.sq, p.count);
        if (dk) // dk^T (hd, T_j) += Q^T dS
            gemm_batched(ctx, CUBLAS_OP_N, CUBLAS_OP_T, hd, T, T, 1.0f, q + oq, ldq, p.sq, dS + oa,
                         T, p.sa, 1.0f, dk + ok, ldk, p.sk, p.count);
    }
}
