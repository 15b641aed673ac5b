// cpu-impl.h: prototypes of the CPU reference kernels that fill ds_ops_cpu().
// Private to kernels/: everything else calls through ctx->ops. Each op's
// contract is documented once, in kernels/ops.h.
// Threading: every kernel splits its rows over ctx->pool with ds_pool_run;
// OpenBLAS runs single-threaded inside each share (set in ds_ctx_new), so
// there is exactly one level of parallelism and no oversubscription.
#ifndef DS_CPU_IMPL_H
#define DS_CPU_IMPL_H

#include "kernels/ops.h"

// Runs a kernel's task on the pool, or on the calling thread alone when its work
// (about `work` scalar operations) is too small to repay waking the other threads:
// decoding one token issues ~130 ops, most of them a single row.
#define DS_CPU_INLINE_WORK 16384
static inline void ds_cpu_run(ds_ctx *ctx, ds_pool_fn fn, void *arg, int64_t work) {
    if (work < DS_CPU_INLINE_WORK)
        fn(arg, 0, 1);
    else
        ds_pool_run(ctx->pool, fn, arg);
}

void *ds_cpu_alloc(ds_ctx *ctx, size_t bytes);
void ds_cpu_free(ds_ctx *ctx, void *ptr);
void ds_cpu_upload(ds_ctx *ctx, void *dst, const void *host_src, size_t bytes);
void ds_cpu_download(ds_ctx *ctx, void *host_dst, const void *src, size_t bytes);
void ds_cpu_zero(ds_ctx *ctx, void *ptr, size_t bytes);
void ds_cpu_sync(ds_ctx *ctx);

void ds_cpu_copy_2d(ds_ctx *ctx, float *dst, int64_t dst_ld, const float *src, int64_t src_ld,
                    int rows, int cols);
void ds_cpu_rows_add(ds_ctx *ctx, float *dst, const int32_t *dst_row, const int32_t *src_off,
                     const int32_t *src_row, const float *src_scale, const float *src, int n,
                     int C);
void ds_cpu_argmax_rows(ds_ctx *ctx, int32_t *out, const float *x, int T, int V);
void ds_cpu_kv_store(ds_ctx *ctx, const ds_kv_pool *pool, int layer, const float *k, const float *v,
                     const int32_t *slot, int n);
void ds_cpu_kv_attention(ds_ctx *ctx, const ds_kv_pool *pool, int layer, float *out, const float *q,
                         const int32_t *info, const int32_t *blocks, int n, int nh, int window);
void ds_cpu_add(ds_ctx *ctx, float *out, const float *a, const float *b, int64_t n);
void ds_cpu_axpy(ds_ctx *ctx, float *dst, const float *src, float scale, int64_t n);
double ds_cpu_sumsq(ds_ctx *ctx, const float *x, int64_t n);

void ds_cpu_matmul_forward(ds_ctx *ctx, float *out, const float *inp, const float *weight,
                           const float *bias, int M, int K, int N);
void ds_cpu_matmul_backward(ds_ctx *ctx, float *dinp, float *dweight, float *dbias,
                            const float *dout, const float *inp, const float *weight, int M, int K,
                            int N);
void ds_cpu_matmul_grouped_forward(ds_ctx *ctx, float *out, const float *inp, const float *weight,
                                   const int32_t *offsets, int E, int K, int N);
void ds_cpu_matmul_grouped_backward(ds_ctx *ctx, float *dinp, float *dweight, const float *dout,
                                    const float *inp, const float *weight, const int32_t *offsets,
                                    int E, int K, int N);

void ds_cpu_matmul_bf16_forward(ds_ctx *ctx, float *out, const float *inp, const uint16_t *weight,
                                const float *bias, int M, int K, int N);
void ds_cpu_matmul_grouped_bf16_forward(ds_ctx *ctx, float *out, const float *inp,
                                        const uint16_t *weight, const int32_t *offsets, int E,
                                        int K, int N);

void ds_cpu_embedding_forward(ds_ctx *ctx, float *out, const int32_t *ids, const float *table,
                              int T, int V, int C);
void ds_cpu_embedding_backward(ds_ctx *ctx, float *dtable, const float *dout, const int32_t *ids,
                               int T, int V, int C);

void ds_cpu_rmsnorm_forward(ds_ctx *ctx, float *out, float *rstd, const float *inp,
                            const float *weight, int T, int C, float eps);
void ds_cpu_rmsnorm_backward(ds_ctx *ctx, float *dinp, float *dweight, const float *dout,
                             const float *inp, const float *weight, const float *rstd, int T,
                             int C);
void ds_cpu_layernorm_forward(ds_ctx *ctx, float *out, float *mean, float *rstd, const float *inp,
                              const float *weight, const float *bias, int T, int C, float eps);
void ds_cpu_layernorm_backward(ds_ctx *ctx, float *dinp, float *dweight, float *dbias,
                               const float *dout, const float *inp, const float *weight,
                               const float *mean, const float *rstd, int T, int C);

void ds_cpu_softmax_forward(ds_ctx *ctx, float *out, const float *inp, int T, int V);
void ds_cpu_softmax_backward(ds_ctx *ctx, float *dinp, const float *dout, const float *out, int T,
                             int V);
void ds_cpu_crossentropy_forward(ds_ctx *ctx, float *losses, float *probs, const float *logits,
                                 const int32_t *targets, int T, int V);
void ds_cpu_crossentropy_backward(ds_ctx *ctx, float *dlogits, const float *dlosses,
                                  const float *probs, const int32_t *targets, int T, int V);

void ds_cpu_gelu_forward(ds_ctx *ctx, float *out, const float *inp, int64_t n);
void ds_cpu_gelu_backward(ds_ctx *ctx, float *dinp, const float *dout, const float *inp, int64_t n);
void ds_cpu_silu_forward(ds_ctx *ctx, float *out, const float *inp, int64_t n);
void ds_cpu_silu_backward(ds_ctx *ctx, float *dinp, const float *dout, const float *inp, int64_t n);
void ds_cpu_swiglu_forward(ds_ctx *ctx, float *out, const float *inp, int T, int H);
void ds_cpu_swiglu_backward(ds_ctx *ctx, float *dinp, const float *dout, const float *inp, int T,
                            int H);

void ds_cpu_rope_forward(ds_ctx *ctx, float *out, const float *inp, const int32_t *pos, int T,
                         int nh, int hd, float theta);
void ds_cpu_rope_backward(ds_ctx *ctx, float *dinp, const float *dout, const int32_t *pos, int T,
                          int nh, int hd, float theta);

void ds_cpu_attention_forward(ds_ctx *ctx, float *out, float *att, const float *q, const float *k,
                              const float *v, int B, int T, int nh, int nkv, int hd,
                              ds_attn_mask mask);
void ds_cpu_attention_backward(ds_ctx *ctx, float *dq, float *dk, float *dv, const float *dout,
                               const float *att, const float *q, const float *k, const float *v,
                               int B, int T, int nh, int nkv, int hd, ds_attn_mask mask);
void ds_cpu_attention_fused_forward(ds_ctx *ctx, float *out, float *lse, const float *q,
                                    const float *k, const float *v, int B, int T, int nh, int nkv,
                                    int hd, ds_attn_mask mask);
void ds_cpu_attention_fused_backward(ds_ctx *ctx, float *dq, float *dk, float *dv,
                                     const float *dout, const float *out, const float *lse,
                                     const float *q, const float *k, const float *v, int B, int T,
                                     int nh, int nkv, int hd, ds_attn_mask mask);

void ds_cpu_moe_route_forward(ds_ctx *ctx, int32_t *expert_idx, float *expert_w, float *scores,
                              const float *logits, const float *bias, int T, ds_router_cfg cfg);
void ds_cpu_moe_route_backward(ds_ctx *ctx, float *dlogits, const float *dexpert_w,
                               const int32_t *expert_idx, const float *scores, int T,
                               ds_router_cfg cfg);
void ds_cpu_moe_permute(ds_ctx *ctx, int32_t *offsets, int32_t *row_of, int32_t *token_of,
                        const int32_t *expert_idx, int T, int topk, int E);
void ds_cpu_moe_dispatch_forward(ds_ctx *ctx, float *xp, const float *x, const int32_t *token_of,
                                 int T, int topk, int C);
void ds_cpu_moe_dispatch_backward(ds_ctx *ctx, float *dx, const float *dxp, const int32_t *row_of,
                                  int T, int topk, int C);
void ds_cpu_moe_combine_forward(ds_ctx *ctx, float *out, const float *yp, const float *w,
                                const int32_t *row_of, int T, int topk, int C);
void ds_cpu_moe_combine_backward(ds_ctx *ctx, float *dyp, float *dw, const float *dout,
                                 const float *yp, const float *w, const int32_t *row_of, int T,
                                 int topk, int C);

void ds_cpu_adamw_update(ds_ctx *ctx, float *params, const float *grads, float *m, float *v,
                         int64_t n, const ds_adamw_cfg *cfg);

#endif
