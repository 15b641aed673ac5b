// glue.h: small reshapes shared by the model's layers: splitting a fused QKV
// projection into the separate q, k, v the attention op takes, and the reverse
// for gradients, through the context's copy_2d (so on any backend's memory);
// and a host-memory row update for the per-token loops of fusion and the heads.
#ifndef DS_GLUE_H
#define DS_GLUE_H

#include "kernels/ops.h"

// qkv (N, (nq + 2 nkv) * hd) -> q (N, nq*hd), k, v (N, nkv*hd), on the context's memory
static inline void ds_qkv_split(ds_ctx *ctx, float *q, float *k, float *v, const float *qkv, int N,
                                int nq, int nkv, int hd) {
    int qd = nq * hd, kd = nkv * hd, row = qd + 2 * kd;
    ctx->ops->copy_2d(ctx, q, qd, qkv, row, N, qd);
    ctx->ops->copy_2d(ctx, k, kd, qkv + qd, row, N, kd);
    ctx->ops->copy_2d(ctx, v, kd, qkv + qd + kd, row, N, kd);
}

// dqkv (N, row) = [dq | dk | dv] (overwrites)
static inline void ds_qkv_merge(ds_ctx *ctx, float *dqkv, const float *dq, const float *dk,
                                const float *dv, int N, int nq, int nkv, int hd) {
    int qd = nq * hd, kd = nkv * hd, row = qd + 2 * kd;
    ctx->ops->copy_2d(ctx, dqkv, row, dq, qd, N, qd);
    ctx->ops->copy_2d(ctx, dqkv + qd, row, dk, kd, N, kd);
    ctx->ops->copy_2d(ctx, dqkv + qd + kd, row, dv, kd, N, kd);
}

// dst (n) += scale * src, one row on the calling thread: for the many small
// per-token updates of fusion and the heads, where a pool round trip per row would
// cost more than the row.
static inline void ds_row_axpy(float *dst, const float *src, float scale, int n) {
    for (int i = 0; i < n; i++) dst[i] += scale * src[i];
}

#endif
