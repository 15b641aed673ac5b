// kv-cache.c: the block pool and attention over it. Attention here serves
// the decode step (one query per sequence) and prefills that continue a
// cached sequence; it reads keys block by block and keeps only one row of
// scores per query (no T x T matrix).
#include "text/kv-cache.h"

#include "core/error.h"
#include "core/pool.h"
#include "kernels/cpu/fast-exp.h" // the CPU kernels' vectorisable expf

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct ds_kv_cache {
    int n_layers, nh, nkv, hd, block_size, n_blocks;
    size_t row;   // floats per position per layer: nkv * hd
    float *k, *v; // (n_blocks, n_layers, block_size, row)
    int32_t *free_list;
    int n_free;
};

int ds_kv_cache_new(const ds_model_cfg *cfg, int n_blocks, int block_size, ds_kv_cache **out) {
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
    c->k = malloc(sizeof(float) * n);
    c->v = malloc(sizeof(float) * n);
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
    return 2 * sizeof(float) * (size_t)c->n_blocks * c->n_layers * c->block_size * c->row;
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
static inline float *head_block(const ds_kv_cache *c, float *base, const ds_kv_seq *seq, int layer,
                                int kvh, int pos) {
    int b = seq->blocks[pos / c->block_size];
    return base + (((size_t)b * c->n_layers + layer) * c->nkv + kvh) * c->block_size * c->hd;
}

static inline float *slot(const ds_kv_cache *c, float *base, const ds_kv_seq *seq, int layer,
                          int kvh, int pos) {
    return head_block(c, base, seq, layer, kvh, pos) + (size_t)(pos % c->block_size) * c->hd;
}

void ds_kv_store(ds_kv_cache *c, const ds_kv_seq *seq, int layer, const float *k, const float *v,
                 int n) {
    int bs = c->block_size, hd = c->hd;
    for (int i = 0; i < n; i++) {
        int pos = seq->len + i;
        for (int h = 0; h < c->nkv; h++) {
            const float *kr = k + (size_t)i * c->row + h * hd;
            float *kt = head_block(c, c->k, seq, layer, h, pos) + pos % bs;
            for (int d = 0; d < hd; d++) kt[(size_t)d * bs] = kr[d];
            memcpy(slot(c, c->v, seq, layer, h, pos), v + (size_t)i * c->row + h * hd,
                   sizeof(float) * hd);
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
static void attn_task(void *arg, int ith, int nth) {
    attn_args *a = arg;
    ds_kv_cache *c = a->c;
    int nh = c->nh, hd = c->hd, grp = nh / c->nkv, np = a->seq->n_prefix, bs = c->block_size;
    float scale = 1.0f / sqrtf((float)hd);
    int64_t lo, hi;
    ds_split((int64_t)a->n * nh, ith, nth, &lo, &hi);
    int max_keys = a->seq->len + a->n;
    float *sc = malloc(sizeof(float) * (size_t)(max_keys > 0 ? max_keys : 1));
    if (!sc) return; // cannot happen in practice; leaves out untouched rather than crash
    for (int64_t it = lo; it < hi; it++) {
        int i = (int)(it / nh), h = (int)(it % nh), kvh = h / grp;
        int pos = a->seq->len + i;
        // keys j: j <= pos, or both inside the prefix; and within the window
        int jhi = pos < np ? np - 1 : pos, jlo = 0;
        if (a->window > 0) {
            jlo = pos - a->window + 1 > 0 ? pos - a->window + 1 : 0;
            jhi = jhi < pos + a->window - 1 ? jhi : pos + a->window - 1;
        }
        const float *q = a->q + ((size_t)i * nh + h) * hd;
        float mx = -INFINITY;
        for (int j = jlo; j <= jhi;) {
            int off = j % bs, run = bs - off; // keys left in this block
            if (run > jhi - j + 1) run = jhi - j + 1;
            const float *kt = head_block(c, c->k, a->seq, a->layer, kvh, j);
            // blocks lie anywhere in the pool: start loading the next one now
            if (j + run <= jhi) {
                const float *kn = head_block(c, c->k, a->seq, a->layer, kvh, j + run);
                for (int d = 0; d < hd; d += 4) __builtin_prefetch(kn + (size_t)d * bs);
            }
            float *s = sc + (j - jlo);
            for (int r = 0; r < run; r++) s[r] = 0.0f;
            for (int d = 0; d < hd; d++) {
                const float *kd = kt + (size_t)d * bs + off;
                float qd = q[d] * scale;
                for (int r = 0; r < run; r++) s[r] += qd * kd[r];
            }
            for (int r = 0; r < run; r++) mx = s[r] > mx ? s[r] : mx;
            j += run;
        }
        int nk = jhi - jlo + 1;
        float z = 0;
        for (int j = 0; j < nk; j++) {
            sc[j] = ds_fast_expf(sc[j] - mx);
            z += sc[j];
        }
        float *o = a->out + ((size_t)i * nh + h) * hd;
        memset(o, 0, sizeof(float) * hd);
        for (int j = jlo; j <= jhi;) {
            int run = bs - j % bs;
            if (run > jhi - j + 1) run = jhi - j + 1;
            const float *v = slot(c, c->v, a->seq, a->layer, kvh, j);
            const float *vn = j + run <= jhi ? slot(c, c->v, a->seq, a->layer, kvh, j + run) : v;
            for (int r = 0; r < run; r++, v += hd) {
                __builtin_prefetch(vn + r * hd);
                float p = sc[j - jlo + r];
                for (int d = 0; d < hd; d++) o[d] += p * v[d];
            }
            j += run;
        }
        float iz = 1.0f / z;
        for (int d = 0; d < hd; d++) o[d] *= iz;
    }
    free(sc);
}

void ds_kv_attention(ds_ctx *ctx, ds_kv_cache *c, const ds_kv_seq *seq, int layer, float *out,
                     const float *q, int n, int window) {
    attn_args a = {c, seq, layer, n, window, out, q};
    ds_pool_run(ctx->pool, attn_task, &a);
}
