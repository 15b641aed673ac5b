// kv-cache.c: the block pool and attention over it. Attention here serves
// the decode step (one query per sequence) and prefills that continue a
// cached sequence; it reads keys block by block and keeps only one row of
// scores per query (no T x T matrix).
#include "text/kv-cache.h"

#include "core/error.h"
#include "core/pool.h"
#include "kernels/cpu/fast-exp.h" // the CPU kernels' vectorisable expf

#include <math.h>
#ifdef __F16C__
#include <immintrin.h>
#endif
#include <stdlib.h>
#include <string.h>

struct ds_kv_cache {
    int n_layers, nh, nkv, hd, block_size, n_blocks;
    size_t row;  // floats per position per layer: nkv * hd
    int f16;     // storage: 1 half precision, 0 float
    void *k, *v; // (n_blocks, n_layers, nkv, block_size, hd); keys (.., hd, block_size)
    int32_t *free_list;
    int n_free;
};

int ds_kv_cache_new(const ds_model_cfg *cfg, int n_blocks, int block_size, ds_kv_cache **out) {
    return ds_kv_cache_new_f16(cfg, n_blocks, block_size, 0, out);
}

int ds_kv_cache_new_f16(const ds_model_cfg *cfg, int n_blocks, int block_size, int f16,
                        ds_kv_cache **out) {
    if (n_blocks < 1 || block_size < 1)
        return ds_error(DS_E_INVAL, "kv cache: %d blocks of %d positions", n_blocks, block_size);
    ds_kv_cache *c = calloc(1, sizeof *c);
    if (!c) return ds_error(DS_E_NOMEM, "kv cache: out of memory");
    c->n_layers = cfg->n_layers;
    c->nh = cfg->n_heads;
    c->nkv = cfg->n_kv_heads;
    c->hd = cfg->head_dim;
    c->block_size = block_size;
    c->n_blocks = n_blocks;
    c->row = (size_t)c->nkv * c->hd;
    size_t n = (size_t)n_blocks * c->n_layers * block_size * c->row;
    c->f16 = f16 != 0;
    c->k = malloc((f16 ? 2 : 4) * n);
    c->v = malloc((f16 ? 2 : 4) * n);
    c->free_list = malloc(sizeof(int32_t) * n_blocks);
    if (!c->k || !c->v || !c->free_list) {
        ds_kv_cache_free(c);
        return ds_error(DS_E_NOMEM, "kv cache: cannot allocate %zu MiB",
                        2 * n * sizeof(float) >> 20);
    }
    for (int i = 0; i < n_blocks; i++) c->free_list[i] = n_blocks - 1 - i;
    c->n_free = n_blocks;
    *out = c;
    return 0;
}

void ds_kv_cache_free(ds_kv_cache *c) {
    if (!c) return;
    free(c->k);
    free(c->v);
    free(c->free_list);
    free(c);
}

int ds_kv_cache_free_blocks(const ds_kv_cache *c) {
    return c->n_free;
}
int ds_kv_cache_block_size(const ds_kv_cache *c) {
    return c->block_size;
}
size_t ds_kv_cache_bytes(const ds_kv_cache *c) {
    return 2 * (size_t)(c->f16 ? 2 : 4) * c->n_blocks * c->n_layers * c->block_size * c->row;
}

int ds_kv_seq_reserve(ds_kv_cache *c, ds_kv_seq *seq, int n_more) {
    int need = (seq->len + n_more + c->block_size - 1) / c->block_size - seq->n_blocks;
    if (need <= 0) return 0;
    if (need > c->n_free)
        return ds_error(DS_E_BUSY, "kv cache: %d more blocks needed, %d free", need, c->n_free);
    if (seq->n_blocks + need > seq->cap_blocks) {
        int cap = seq->cap_blocks ? seq->cap_blocks : 8;
        while (cap < seq->n_blocks + need) cap *= 2;
        int32_t *b = realloc(seq->blocks, sizeof(int32_t) * cap);
        if (!b) return ds_error(DS_E_NOMEM, "kv cache: out of memory");
        seq->blocks = b;
        seq->cap_blocks = cap;
    }
    for (int i = 0; i < need; i++) seq->blocks[seq->n_blocks++] = c->free_list[--c->n_free];
    return 0;
}

void ds_kv_seq_release(ds_kv_cache *c, ds_kv_seq *seq) {
    for (int i = seq->n_blocks - 1; i >= 0; i--) c->free_list[c->n_free++] = seq->blocks[i];
    free(seq->blocks);
    memset(seq, 0, sizeof *seq);
}

// Layout (block, layer, kv head, ...): one head's entries of a block are contiguous,
// so attention streams them. Values are (position, hd); keys are transposed,
// (hd, position), so the scores of a whole block are one vector FMA per
// dimension (the keys of the block in the lanes) instead of a dot product and a
// horizontal sum per key.
static inline size_t head_off(const ds_kv_cache *c, const ds_kv_seq *seq, int layer, int kvh,
                              int pos) {
    int b = seq->blocks[pos / c->block_size];
    return (((size_t)b * c->n_layers + layer) * c->nkv + kvh) * c->block_size * c->hd;
}

static inline size_t slot_off(const ds_kv_cache *c, const ds_kv_seq *seq, int layer, int kvh,
                              int pos) {
    return head_off(c, seq, layer, kvh, pos) + (size_t)(pos % c->block_size) * c->hd;
}

void ds_kv_store(ds_kv_cache *c, const ds_kv_seq *seq, int layer, const float *k, const float *v,
                 int n) {
    int bs = c->block_size, hd = c->hd;
    for (int i = 0; i < n; i++) {
        int pos = seq->len + i;
        for (int h = 0; h < c->nkv; h++) {
            const float *kr = k + (size_t)i * c->row + h * hd,
                        *vr = v + (size_t)i * c->row + h * hd;
            size_t ko = head_off(c, seq, layer, h, pos) + pos % bs,
                   vo = slot_off(c, seq, layer, h, pos);
            if (c->f16) {
                _Float16 *kt = (_Float16 *)c->k + ko, *vs = (_Float16 *)c->v + vo;
                for (int d = 0; d < hd; d++) kt[(size_t)d * bs] = (_Float16)kr[d];
                for (int d = 0; d < hd; d++) vs[d] = (_Float16)vr[d];
            } else {
                float *kt = (float *)c->k + ko, *vs = (float *)c->v + vo;
                for (int d = 0; d < hd; d++) kt[(size_t)d * bs] = kr[d];
                memcpy(vs, vr, sizeof(float) * hd);
            }
        }
    }
}

typedef struct {
    ds_kv_cache *c;
    const ds_kv_seq *seq;
    int layer, n, window;
    float *out;
    const float *q;
} attn_args;

// One (query, head) pair per work item, split across threads. Scores first (a dot
// product per cached key, block by block), then one softmax, then the weighted sum of
// values: three tight loops the compiler vectorises over hd, instead of an online
// softmax with a branch per key.
// Half to float, 8 at a time with F16C where the CPU has it (x86-64-v3 and later).
static inline void half_to_float(float *dst, const _Float16 *src, int n) {
    int i = 0;
#ifdef __F16C__
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
#endif
    for (; i < n; i++) dst[i] = (float)src[i];
}

#define KV_T    float
#define KV_NAME attn_task_f32
#include "text/kv-attention-impl.h"
#define KV_T    _Float16
#define KV_NAME attn_task_f16
#define KV_HALF 1
#include "text/kv-attention-impl.h"

void ds_kv_attention(ds_ctx *ctx, ds_kv_cache *c, const ds_kv_seq *seq, int layer, float *out,
                     const float *q, int n, int window) {
    attn_args a = {c, seq, layer, n, window, out, q};
    ds_pool_run(ctx->pool, c->f16 ? attn_task_f16 : attn_task_f32, &a);
}
