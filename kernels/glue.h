// glue.h: small host-side reshapes shared by the model's layers: splitting a
// fused QKV projection into the separate q, k, v the attention op takes, and
// the reverse for gradients. CPU memory only (the CUDA path gets its own
// kernels when the model moves there); cheap next to the GEMMs around them.
#ifndef DS_GLUE_H
#define DS_GLUE_H

#include <string.h>

// qkv (N, (nq + 2 nkv) * hd) -> q (N, nq*hd), k, v (N, nkv*hd)
static inline void ds_qkv_split(float *q, float *k, float *v, const float *qkv, int N, int nq,
                                int nkv, int hd) {
    int qd = nq * hd, kd = nkv * hd, row = qd + 2 * kd;
    for (int t = 0; t < N; t++) {
        const float *r = qkv + (size_t)t * row;
        memcpy(q + (size_t)t * qd, r, sizeof(float) * qd);
        memcpy(k + (size_t)t * kd, r + qd, sizeof(float) * kd);
        memcpy(v + (size_t)t * kd, r + qd + kd, sizeof(float) * kd);
    }
}

// dqkv (N, row) = [dq | dk | dv] (overwrites)
static inline void ds_qkv_merge(float *dqkv, const float *dq, const float *dk, const float *dv,
                                int N, int nq, int nkv, int hd) {
    int qd = nq * hd, kd = nkv * hd, row = qd + 2 * kd;
    for (int t = 0; t < N; t++) {
        float *r = dqkv + (size_t)t * row;
        memcpy(r, dq + (size_t)t * qd, sizeof(float) * qd);
        memcpy(r + qd, dk + (size_t)t * kd, sizeof(float) * kd);
        memcpy(r + qd + kd, dv + (size_t)t * kd, sizeof(float) * kd);
    }
}

// dst (n) += scale * src, one row on the calling thread: for the many small
// per-token updates of fusion and the heads, where a pool round trip per row would
// cost more than the row.
static inline void ds_row_axpy(float *dst, const float *src, float scale, int n) {
    for (int i = 0; i < n; i++) dst[i] += scale * src[i];
}

#endif
