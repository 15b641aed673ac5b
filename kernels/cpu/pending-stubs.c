// pending-stubs.c: TEMPORARY weak placeholders so the tree links while kernels are written.
// Each aborts; a real definition in kernels/cpu overrides it. Deleted before commit.
#include "kernels/cpu/cpu-impl.h"
#include <stdio.h>
#include <stdlib.h>

__attribute__((weak)) void *ds_cpu_alloc(ds_ctx *ctx, size_t bytes) {
    fprintf(stderr, "%s not implemented\n", "ds_cpu_alloc");
    abort();
}
__attribute__((weak)) void ds_cpu_free(ds_ctx *ctx, void *ptr) {
    fprintf(stderr, "%s not implemented\n", "ds_cpu_free");
    abort();
}
__attribute__((weak)) void ds_cpu_upload(ds_ctx *ctx, void *dst, const void *host_src,
                                         size_t bytes) {
    fprintf(stderr, "%s not implemented\n", "ds_cpu_upload");
    abort();
}
__attribute__((weak)) void ds_cpu_download(ds_ctx *ctx, void *host_dst, const void *src,
                                           size_t bytes) {
    fprintf(stderr, "%s not implemented\n", "ds_cpu_download");
    abort();
}
__attribute__((weak)) void ds_cpu_zero(ds_ctx *ctx, void *ptr, size_t bytes) {
    fprintf(stderr, "%s not implemented\n", "ds_cpu_zero");
    abort();
}
__attribute__((weak)) void ds_cpu_sync(ds_ctx *ctx) {
    fprintf(stderr, "%s not implemented\n", "ds_cpu_sync");
    abort();
}
__attribute__((weak)) void ds_cpu_add(ds_ctx *ctx, float *out, const float *a, const float *b,
                                      int64_t n) {
    fprintf(stderr, "%s not implemented\n", "ds_cpu_add");
    abort();
}
__attribute__((weak)) void ds_cpu_axpy(ds_ctx *ctx, float *dst, const float *src, float scale,
                                       int64_t n) {
    fprintf(stderr, "%s not implemented\n", "ds_cpu_axpy");
    abort();
}
__attribute__((weak)) double ds_cpu_sumsq(ds_ctx *ctx, const float *x, int64_t n) {
    fprintf(stderr, "%s not implemented\n", "ds_cpu_sumsq");
    abort();
}
__attribute__((weak)) void ds_cpu_matmul_forward(ds_ctx *ctx, float *out, const float *inp,
                                                 const float *weight, const float *bias, int M,
                                                 int K, int N) {
    fprintf(stderr, "%s not implemented\n", "ds_cpu_matmul_forward");
    abort();
}
__attribute__((weak)) void ds_cpu_matmul_backward(ds_ctx *ctx, float *dinp, float *dweight,
                                                  float *dbias, const float *dout, const float *inp,
                                                  const float *weight, int M, int K, int N) {
    fprintf(stderr, "%s not implemented\n", "ds_cpu_matmul_backward");
    abort();
}
__attribute__((weak)) void ds_cpu_matmul_grouped_forward(ds_ctx *ctx, float *out, const float *inp,
                                                         const float *weight,
                                                         const int32_t *offsets, int E, int K,
                                                         int N) {
    fprintf(stderr, "%s not implemented\n", "ds_cpu_matmul_grouped_forward");
    abort();
}
__attribute__((weak)) void ds_cpu_matmul_grouped_backward(ds_ctx *ctx, float *dinp, float *dweight,
                                                          const float *dout, const float *inp,
                                                          const float *weight,
                                                          const int32_t *offsets, int E, int K,
                                                          int N) {
    fprintf(stderr, "%s not implemented\n", "ds_cpu_matmul_grouped_backward");
    abort();
}
__attribute__((weak)) void ds_cpu_embedding_forward(ds_ctx *ctx, float *out, const int32_t *ids,
                                                    const float *table, int T, int V, int C) {
    fprintf(stderr, "%s not implemented\n", "ds_cpu_embedding_forward");
    abort();
}
__attribute__((weak)) void ds_cpu_embedding_backward(ds_ctx *ctx, float *dtable, const float *dout,
                                                     const int32_t *ids, int T, int V, int C) {
    fprintf(stderr, "%s not implemented\n", "ds_cpu_embedding_backward");
    abort();
}
__attribute__((weak)) void ds_cpu_rmsnorm_forward(ds_ctx *ctx, float *out, float *rstd,
                                                  const float *inp, const float *weight, int T,
                                                  int C, float eps) {
    fprintf(stderr, "%s not implemented\n", "ds_cpu_rmsnorm_forward");
    abort();
}
__attribute__((weak)) void ds_cpu_rmsnorm_backward(ds_ctx *ctx, float *dinp, float *dweight,
                                                   const float *dout, const float *inp,
                                                   const float *weight, const float *rstd, int T,
                                                   int C) {
    fprintf(stderr, "%s not implemented\n", "ds_cpu_rmsnorm_backward");
    abort();
}
__attribute__((weak)) void ds_cpu_layernorm_forward(ds_ctx *ctx, float *out, float *mean,
                                                    float *rstd, const float *inp,
                                                    const float *weight, const float *bias, int T,
                                                    int C, float eps) {
    fprintf(stderr, "%s not implemented\n", "ds_cpu_layernorm_forward");
    abort();
}
__attribute__((weak)) void ds_cpu_layernorm_backward(ds_ctx *ctx, float *dinp, float *dweight,
                                                     float *dbias, const float *dout,
                                                     const float *inp, const float *weight,
                                                     const float *mean, const float *rstd, int T,
                                                     int C) {
    fprintf(stderr, "%s not implemented\n", "ds_cpu_layernorm_backward");
    abort();
}
__attribute__((weak)) void ds_cpu_softmax_forward(ds_ctx *ctx, float *out, const float *inp, int T,
                                                  int V) {
    fprintf(stderr, "%s not implemented\n", "ds_cpu_softmax_forward");
    abort();
}
__attribute__((weak)) void ds_cpu_softmax_backward(ds_ctx *ctx, float *dinp, const float *dout,
                                                   const float *out, int T, int V) {
    fprintf(stderr, "%s not implemented\n", "ds_cpu_softmax_backward");
    abort();
}
__attribute__((weak)) void ds_cpu_crossentropy_forward(ds_ctx *ctx, float *losses, float *probs,
                                                       const float *logits, const int32_t *targets,
                                                       int T, int V) {
    fprintf(stderr, "%s not implemented\n", "ds_cpu_crossentropy_forward");
    abort();
}
__attribute__((weak)) void ds_cpu_crossentropy_backward(ds_ctx *ctx, float *dlogits,
                                                        const float *dlosses, const float *probs,
                                                        const int32_t *targets, int T, int V) {
    fprintf(stderr, "%s not implemented\n", "ds_cpu_crossentropy_backward");
    abort();
}
__attribute__((weak)) void ds_cpu_gelu_forward(ds_ctx *ctx, float *out, const float *inp,
                                               int64_t n) {
    fprintf(stderr, "%s not implemented\n", "ds_cpu_gelu_forward");
    abort();
}
__attribute__((weak)) void ds_cpu_gelu_backward(ds_ctx *ctx, float *dinp, const float *dout,
                                                const float *inp, int64_t n) {
    fprintf(stderr, "%s not implemented\n", "ds_cpu_gelu_backward");
    abort();
}
__attribute__((weak)) void ds_cpu_silu_forward(ds_ctx *ctx, float *out, const float *inp,
                                               int64_t n) {
    fprintf(stderr, "%s not implemented\n", "ds_cpu_silu_forward");
    abort();
}
__attribute__((weak)) void ds_cpu_silu_backward(ds_ctx *ctx, float *dinp, const float *dout,
                                                const float *inp, int64_t n) {
    fprintf(stderr, "%s not implemented\n", "ds_cpu_silu_backward");
    abort();
}
__attribute__((weak)) void ds_cpu_swiglu_forward(ds_ctx *ctx, float *out, const float *inp, int T,
                                                 int H) {
    fprintf(stderr, "%s not implemented\n", "ds_cpu_swiglu_forward");
    abort();
}
__attribute__((weak)) void ds_cpu_swiglu_backward(ds_ctx *ctx, float *dinp, const float *dout,
                                                  const float *inp, int T, int H) {
    fprintf(stderr, "%s not implemented\n", "ds_cpu_swiglu_backward");
    abort();
}
__attribute__((weak)) void ds_cpu_rope_forward(ds_ctx *ctx, float *out, const float *inp,
                                               const int32_t *pos, int T, int nh, int hd,
                                               float theta) {
    fprintf(stderr, "%s not implemented\n", "ds_cpu_rope_forward");
    abort();
}
__attribute__((weak)) void ds_cpu_rope_backward(ds_ctx *ctx, float *dinp, const float *dout,
                                                const int32_t *pos, int T, int nh, int hd,
                                                float theta) {
    fprintf(stderr, "%s not implemented\n", "ds_cpu_rope_backward");
    abort();
}
__attribute__((weak)) void ds_cpu_attention_forward(ds_ctx *ctx, float *out, float *att,
                                                    const float *q, const float *k, const float *v,
                                                    int B, int T, int nh, int nkv, int hd,
                                                    ds_attn_mask mask) {
    fprintf(stderr, "%s not implemented\n", "ds_cpu_attention_forward");
    abort();
}
__attribute__((weak)) void ds_cpu_attention_backward(ds_ctx *ctx, float *dq, float *dk, float *dv,
                                                     const float *dout, const float *att,
                                                     const float *q, const float *k, const float *v,
                                                     int B, int T, int nh, int nkv, int hd,
                                                     ds_attn_mask mask) {
    fprintf(stderr, "%s not implemented\n", "ds_cpu_attention_backward");
    abort();
}
__attribute__((weak)) void ds_cpu_moe_route_forward(ds_ctx *ctx, int32_t *expert_idx,
                                                    float *expert_w, float *scores,
                                                    const float *logits, const float *bias, int T,
                                                    ds_router_cfg cfg) {
    fprintf(stderr, "%s not implemented\n", "ds_cpu_moe_route_forward");
    abort();
}
__attribute__((weak)) void ds_cpu_moe_route_backward(ds_ctx *ctx, float *dlogits,
                                                     const float *dexpert_w,
                                                     const int32_t *expert_idx, const float *scores,
                                                     int T, ds_router_cfg cfg) {
    fprintf(stderr, "%s not implemented\n", "ds_cpu_moe_route_backward");
    abort();
}
__attribute__((weak)) void ds_cpu_moe_permute(ds_ctx *ctx, int32_t *offsets, int32_t *row_of,
                                              int32_t *token_of, const int32_t *expert_idx, int T,
                                              int topk, int E) {
    fprintf(stderr, "%s not implemented\n", "ds_cpu_moe_permute");
    abort();
}
__attribute__((weak)) void ds_cpu_moe_dispatch_forward(ds_ctx *ctx, float *xp, const float *x,
                                                       const int32_t *token_of, int T, int topk,
                                                       int C) {
    fprintf(stderr, "%s not implemented\n", "ds_cpu_moe_dispatch_forward");
    abort();
}
__attribute__((weak)) void ds_cpu_moe_dispatch_backward(ds_ctx *ctx, float *dx, const float *dxp,
                                                        const int32_t *row_of, int T, int topk,
                                                        int C) {
    fprintf(stderr, "%s not implemented\n", "ds_cpu_moe_dispatch_backward");
    abort();
}
__attribute__((weak)) void ds_cpu_moe_combine_forward(ds_ctx *ctx, float *out, const float *yp,
                                                      const float *w, const int32_t *row_of, int T,
                                                      int topk, int C) {
    fprintf(stderr, "%s not implemented\n", "ds_cpu_moe_combine_forward");
    abort();
}
__attribute__((weak)) void ds_cpu_moe_combine_backward(ds_ctx *ctx, float *dyp, float *dw,
                                                       const float *dout, const float *yp,
                                                       const float *w, const int32_t *row_of, int T,
                                                       int topk, int C) {
    fprintf(stderr, "%s not implemented\n", "ds_cpu_moe_combine_backward");
    abort();
}
__attribute__((weak)) void ds_cpu_adamw_update(ds_ctx *ctx, float *params, const float *grads,
                                               float *m, float *v, int64_t n,
                                               const ds_adamw_cfg *cfg) {
    fprintf(stderr, "%s not implemented\n", "ds_cpu_adamw_update");
    abort();
}
