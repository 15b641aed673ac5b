// cuda-impl.h: the CUDA backend's private header: its per-context state
// (one stream, one cuBLAS handle, a small device buffer for reductions that
// come back to the host), the launch helpers and the prototypes of the
// kernels that fill ds_ops_cuda(). Pointers given to these ops are device
// pointers; each op's contract is documented once, in kernels/ops.h, and
// each file here pairs with the CPU reference of the same name.
#ifndef DS_CUDA_IMPL_H
#define DS_CUDA_IMPL_H

#include "kernels/cuda/cuda-check.h"

#include <stdlib.h>

#ifdef __cplusplus
extern "C" {
#endif
#include "kernels/ops.h"

typedef struct {
    int device;
    cudaStream_t stream;
    cublasHandle_t blas;
    double *reduce; // (DS_CUDA_REDUCE_BLOCKS) partial sums of sumsq
    int gemm_f32;   // 1: GEMMs in full f32 (parity tests); 0: bf16 tensor cores, f32 sums
} ds_cuda_state;

enum { DS_CUDA_REDUCE_BLOCKS = 256 };

static inline ds_cuda_state *ds_cuda_of(ds_ctx *ctx) {
    return (ds_cuda_state *)ctx->impl;
}
static inline cudaStream_t ds_cuda_stream(ds_ctx *ctx) {
    return ds_cuda_of(ctx)->stream;
}
// The GEMMs' precision: full f32 when the context asks (parity tests), else bf16 tensor
// cores with f32 sums over the f32 buffers.
static inline cublasComputeType_t ds_cuda_gemm_compute(ds_ctx *ctx) {
    return ds_cuda_of(ctx)->gemm_f32 ? CUBLAS_COMPUTE_32F : CUBLAS_COMPUTE_32F_FAST_16BF;
}

// Column sums over rows in a fixed order (column-sum.cu), for parameter gradients summed
// over T rows: ds_cuda_chunk_rows splits T into *n_chunks chunks (about 32 rows each, at
// most 256 chunks; it depends on T only, so a shape always sums in the same order); a
// kernel writes each chunk's per-column partials into partial (n_chunks, C), then
// ds_cuda_column_sum_add adds dst (C) += the partial rows in chunk order.
int ds_cuda_chunk_rows(int T, int *n_chunks);
void ds_cuda_column_sum_add(ds_ctx *ctx, float *dst, const float *partial, int n_chunks, int C);

void *ds_cuda_alloc(ds_ctx *ctx, size_t bytes);
void ds_cuda_free(ds_ctx *ctx, void *ptr);
void ds_cuda_upload(ds_ctx *ctx, void *dst, const void *host_src, size_t bytes);
void ds_cuda_download(ds_ctx *ctx, void *host_dst, const void *src, size_t bytes);
void ds_cuda_zero(ds_ctx *ctx, void *ptr, size_t bytes);
void ds_cuda_sync(ds_ctx *ctx);

void ds_cuda_copy_2d(ds_ctx *ctx, float *dst, int64_t dst_ld, const float *src, int64_t src_ld,
                     int rows, int cols);
void ds_cuda_rows_add(ds_ctx *ctx, float *dst, const int32_t *dst_row, const int32_t *src_off,
                      const int32_t *src_row, const float *src_scale, const float *src, int n,
                      int C);
void ds_cuda_argmax_rows(ds_ctx *ctx, int32_t *out, const float *x, int T, int V);
void ds_cuda_kv_store(ds_ctx *ctx, const ds_kv_pool *pool, int layer, const float *k,
                      const float *v, const int32_t *slot, int n);
void ds_cuda_kv_attention(ds_ctx *ctx, const ds_kv_pool *pool, int layer, float *out,
                          const float *q, const int32_t *info, const int32_t *blocks, int n, int nh,
                          int window);
void ds_cuda_add(ds_ctx *ctx, float *out, const float *a, const float *b, int64_t n);
void ds_cuda_axpy(ds_ctx *ctx, float *dst, const float *src, float scale, int64_t n);
double ds_cuda_sumsq(ds_ctx *ctx, const float *x, int64_t n);

void ds_cuda_matmul_forward(ds_ctx *ctx, float *out, const float *inp, const float *weight,
                            const float *bias, int M, int K, int N);
void ds_cuda_matmul_backward(ds_ctx *ctx, float *dinp, float *dweight, float *dbias,
                             const float *dout, const float *inp, const float *weight, int M, int K,
                             int N);
void ds_cuda_matmul_grouped_forward(ds_ctx *ctx, float *out, const float *inp, const float *weight,
                                    const int32_t *offsets, int E, int K, int N);
void ds_cuda_matmul_grouped_backward(ds_ctx *ctx, float *dinp, float *dweight, const float *dout,
                                     const float *inp, const float *weight, const int32_t *offsets,
                                     int E, int K, int N);

void ds_cuda_matmul_bf16_forward(ds_ctx *ctx, float *out, const float *inp, const uint16_t *weight,
                                 const float *bias, int M, int K, int N);
void ds_cuda_matmul_grouped_bf16_forward(ds_ctx *ctx, float *out, const float *inp,
                                         const uint16_t *weight, const int32_t *offsets, int E,
                                         int K, int N);

void ds_cuda_embedding_forward(ds_ctx *ctx, float *out, const int32_t *ids, const float *table,
                               int T, int V, int C);
void ds_cuda_embedding_backward(ds_ctx *ctx, float *dtable, const float *dout, const int32_t *ids,
                                int T, int V, int C);

void ds_cuda_rmsnorm_forward(ds_ctx *ctx, float *out, float *rstd, const float *inp,
                             const float *weight, int T, int C, float eps);
void ds_cuda_rmsnorm_backward(ds_ctx *ctx, float *dinp, float *dweight, const float *dout,
                              const float *inp, const float *weight, const float *rstd, int T,
                              int C);
void ds_cuda_layernorm_forward(ds_ctx *ctx, float *out, float *mean, float *rstd, const float *inp,
                               const float *weight, const float *bias, int T, int C, float eps);
void ds_cuda_layernorm_backward(ds_ctx *ctx, float *dinp, float *dweight, float *dbias,
                                const float *dout, const float *inp, const float *weight,
                                const float *mean, const float *rstd, int T, int C);

void ds_cuda_softmax_forward(ds_ctx *ctx, float *out, const float *inp, int T, int V);
void ds_cuda_softmax_backward(ds_ctx *ctx, float *dinp, const float *dout, const float *out, int T,
                              int V);
void ds_cuda_crossentropy_forward(ds_ctx *ctx, float *losses, float *probs, const float *logits,
                                  const int32_t *targets, int T, int V);
void ds_cuda_crossentropy_backward(ds_ctx *ctx, float *dlogits, const float *dlosses,
                                   const float *probs, const int32_t *targets, int T, int V);

void ds_cuda_gelu_forward(ds_ctx *ctx, float *out, const float *inp, int64_t n);
void ds_cuda_gelu_backward(ds_ctx *ctx, float *dinp, const float *dout, const float *inp,
                           int64_t n);
void ds_cuda_silu_forward(ds_ctx *ctx, float *out, const float *inp, int64_t n);
void ds_cuda_silu_backward(ds_ctx *ctx, float *dinp, const float *dout, const float *inp,
                           int64_t n);
void ds_cuda_swiglu_forward(ds_ctx *ctx, float *out, const float *inp, int T, int H);
void ds_cuda_swiglu_backward(ds_ctx *ctx, float *dinp, const float *dout, const float *inp, int T,
                             int H);

void ds_cuda_rope_forward(ds_ctx *ctx, float *out, const float *inp, const int32_t *pos, int T,
                          int nh, int hd, float theta);
void ds_cuda_rope_backward(ds_ctx *ctx, float *dinp, const float *dout, const int32_t *pos, int T,
                           int nh, int hd, float theta);

void ds_cuda_attention_forward(ds_ctx *ctx, float *out, float *att, const float *q, const float *k,
                               const float *v, int B, int T, int nh, int nkv, int hd,
                               ds_attn_mask mask);
void ds_cuda_attention_backward(ds_ctx *ctx, float *dq, float *dk, float *dv, const float *dout,
                                const float *att, const float *q, const float *k, const float *v,
                                int B, int T, int nh, int nkv, int hd, ds_attn_mask mask);
void ds_cuda_attention_fused_forward(ds_ctx *ctx, float *out, float *lse, const float *q,
                                     const float *k, const float *v, int B, int T, int nh, int nkv,
                                     int hd, ds_attn_mask mask);
void ds_cuda_attention_fused_backward(ds_ctx *ctx, float *dq, float *dk, float *dv,
                                      const float *dout, const float *out, const float *lse,
                                      const float *q, const float *k, const float *v, int B, int T,
                                      int nh, int nkv, int hd, ds_attn_mask mask);

void ds_cuda_moe_route_forward(ds_ctx *ctx, int32_t *expert_idx, float *expert_w, float *scores,
                               const float *logits, const float *bias, int T, ds_router_cfg cfg);
void ds_cuda_moe_route_backward(ds_ctx *ctx, float *dlogits, const float *dexpert_w,
                                const int32_t *expert_idx, const float *scores, int T,
                                ds_router_cfg cfg);
void ds_cuda_moe_permute(ds_ctx *ctx, int32_t *offsets, int32_t *row_of, int32_t *token_of,
                         const int32_t *expert_idx, int T, int topk, int E);
void ds_cuda_moe_dispatch_forward(ds_ctx *ctx, float *xp, const float *x, const int32_t *token_of,
                                  int T, int topk, int C);
void ds_cuda_moe_dispatch_backward(ds_ctx *ctx, float *dx, const float *dxp, const int32_t *row_of,
                                   int T, int topk, int C);
void ds_cuda_moe_combine_forward(ds_ctx *ctx, float *out, const float *yp, const float *w,
                                 const int32_t *row_of, int T, int topk, int C);
void ds_cuda_moe_combine_backward(ds_ctx *ctx, float *dyp, float *dw, const float *dout,
                                  const float *yp, const float *w, const int32_t *row_of, int T,
                                  int topk, int C);

void ds_cuda_adamw_update(ds_ctx *ctx, float *params, const float *grads, float *m, float *v,
                          int64_t n, const ds_adamw_cfg *cfg);

#ifdef __cplusplus
}
#endif

// A failure inside an op is a broken invariant (bad pointer, device lost, out of
// memory after start-up sized everything): the op cannot report it, so it aborts
// after DS_CUDA_CHECK has printed the call and its place.
#define DS_CUDA_TRY(stmt)                                                                          \
    do {                                                                                           \
        if (DS_CUDA_CHECK(stmt) != 0) abort();                                                     \
    } while (0)
#define DS_CUBLAS_TRY(stmt)                                                                        \
    do {                                                                                           \
        if (DS_CUBLAS_CHECK(stmt) != 0) abort();                                                   \
    } while (0)
// After every kernel launch: a bad launch configuration is reported here, at its place.
#define DS_CUDA_LAUNCHED() DS_CUDA_TRY(cudaGetLastError())

// Blocks of `threads` covering n items, at least one.
static inline unsigned ds_cuda_blocks(long long n, int threads) {
    long long b = (n + threads - 1) / threads;
    return (unsigned)(b < 1 ? 1 : b);
}

#endif
