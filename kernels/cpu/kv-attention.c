// kv-attention.c: the paged KV cache's two ops (kernels/ops.h, ds_kv_pool):
// storing new keys and values at their slots, and attention of new queries over
// a sequence's cached keys, for the decode step (one query per sequence) and for
// prefills that continue a cached sequence. Keys are read block by block and
// only one row of scores is kept per query (no T x T matrix).
#include "kernels/cpu/cpu-impl.h"

#include "kernels/cpu/fast-exp.h" // the CPU kernels' vectorisable expf

#include <math.h>
#ifdef __F16C__
#include <immintrin.h>
#endif
#include <stdlib.h>
#include <string.h>

// Where layer's kv head kvh of block b starts in the pool (in elements).
static inline size_t head_base(const ds_kv_pool *p, int b, int layer, int kvh) {
    return (((size_t)b * p->n_layers + layer) * p->nkv + kvh) * p->block_size * p->hd;
}

void ds_cpu_kv_store(ds_ctx *ctx, const ds_kv_pool *p, int layer, const float *k, const float *v,
                     const int32_t *slot, int n) {
    (void)ctx;
    int bs = p->block_size, hd = p->hd;
    size_t row = (size_t)p->nkv * hd;
    for (int i = 0; i < n; i++) {
        int b = slot[i] / bs, off = slot[i] % bs;
        for (int h = 0; h < p->nkv; h++) {
            const float *kr = k + i * row + (size_t)h * hd, *vr = v + i * row + (size_t)h * hd;
            size_t ko = head_base(p, b, layer, h) + off, vo = head_base(p, b, layer, h) + off * hd;
            if (p->f16) {
                _Float16 *kt = (_Float16 *)p->k + ko, *vs = (_Float16 *)p->v + vo;
                for (int d = 0; d < hd; d++) kt[(size_t)d * bs] = (_Float16)kr[d];
                for (int d = 0; d < hd; d++) vs[d] = (_Float16)vr[d];
            } else {
                float *kt = (float *)p->k + ko, *vs = (float *)p->v + vo;
                for (int d = 0; d < hd; d++) kt[(size_t)d * bs] = kr[d];
                memcpy(vs, vr, sizeof(float) * hd);
            }
        }
    }
}

typedef struct {
    const ds_kv_pool *p;
    int layer, n, nh, window;
    float *out;
    const float *q;
    const int32_t *info, *blocks;
} attn_args;

// Half to float, 8 at a time with F16C where the CPU has it (x86-64-v3 and later).
static inline void half_to_float(float *dst, const _Float16 *src, int n) {
    int i = 0;
#ifdef __F16C__
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
#endif
    for (; i < n; i++) dst[i] = (float)src[i];
}

// One (query, head) pair per work item, split across threads. Scores first (a dot
// product per cached key, block by block), then one softmax, then the weighted sum of
// values: three tight loops the compiler vectorises, instead of an online softmax with
// a branch per key.
#define KV_T    float
#define KV_NAME attn_task_f32
#include "kernels/cpu/kv-attention-impl.h"
#define KV_T    _Float16
#define KV_NAME attn_task_f16
#define KV_HALF 1
#include "kernels/cpu/kv-attention-impl.h"

void ds_cpu_kv_attention(ds_ctx *ctx, const ds_kv_pool *p, int layer, float *out, const float *q,
                         const int32_t *info, const int32_t *blocks, int n, int nh, int window) {
    if (n <= 0) return;
    attn_args a = {p, layer, n, nh, window, out, q, info, blocks};
    // about hd multiply-adds per cached key and head, twice; a few hundred keys
    ds_cpu_run(ctx, p->f16 ? attn_task_f16 : attn_task_f32, &a, (int64_t)n * nh * p->hd * 512);
}
