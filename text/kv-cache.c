// kv-cache.c: the block pool's bookkeeping: which blocks are free, which hold
// each sequence, and where a batch's new positions go (ds_kv_plan). The pool's
// memory is the context's, and the kernels/ ops store into it and attend over it.
#include "text/kv-cache.h"

#include "core/error.h"

#include <stdlib.h>
#include <string.h>

struct ds_kv_cache {
    ds_kv_pool pool; // (n_blocks, n_layers, nkv, block_size, hd); keys (.., hd, block_size)
    ds_ctx *ctx;     // owns the pool's memory; NULL: malloc
    int n_blocks;
    int32_t *free_list;
    int n_free;
};

int ds_kv_cache_new(const ds_model_cfg *cfg, int n_blocks, int block_size, ds_kv_cache **out) {
    return ds_kv_cache_new_on(NULL, cfg, n_blocks, block_size, 0, out);
}

int ds_kv_cache_new_f16(const ds_model_cfg *cfg, int n_blocks, int block_size, int f16,
                        ds_kv_cache **out) {
    return ds_kv_cache_new_on(NULL, cfg, n_blocks, block_size, f16, out);
}

int ds_kv_cache_new_on(ds_ctx *ctx, const ds_model_cfg *cfg, int n_blocks, int block_size, int f16,
                       ds_kv_cache **out) {
    *out = NULL;
    if (n_blocks < 1 || block_size < 1)
        return ds_error(DS_E_INVAL, "kv cache: %d blocks of %d positions", n_blocks, block_size);
    ds_kv_cache *c = calloc(1, sizeof *c);
    if (!c) return ds_error(DS_E_NOMEM, "kv cache: out of memory");
    c->pool = (ds_kv_pool){.f16 = f16 != 0,
                           .n_layers = cfg->n_layers,
                           .nkv = cfg->n_kv_heads,
                           .hd = cfg->head_dim,
                           .block_size = block_size};
    c->ctx = ctx;
    c->n_blocks = n_blocks;
    size_t bytes = ds_kv_cache_bytes(c) / 2;
    c->pool.k = ctx ? ctx->ops->alloc(ctx, bytes) : malloc(bytes);
    c->pool.v = ctx ? ctx->ops->alloc(ctx, bytes) : malloc(bytes);
    c->free_list = malloc(sizeof(int32_t) * n_blocks);
    if (!c->pool.k || !c->pool.v || !c->free_list) {
        ds_kv_cache_free(c);
        return ds_error(DS_E_NOMEM, "kv cache: cannot allocate %zu MiB", 2 * bytes >> 20);
    }
    for (int i = 0; i < n_blocks; i++) c->free_list[i] = n_blocks - 1 - i;
    c->n_free = n_blocks;
    *out = c;
    return 0;
}

void ds_kv_cache_free(ds_kv_cache *c) {
    if (!c) return;
    if (c->ctx) {
        c->ctx->ops->free(c->ctx, c->pool.k);
        c->ctx->ops->free(c->ctx, c->pool.v);
    } else {
        free(c->pool.k);
        free(c->pool.v);
    }
    free(c->free_list);
    free(c);
}

int ds_kv_cache_free_blocks(const ds_kv_cache *c) {
    return c->n_free;
}
int ds_kv_cache_block_size(const ds_kv_cache *c) {
    return c->pool.block_size;
}
size_t ds_kv_cache_bytes(const ds_kv_cache *c) {
    const ds_kv_pool *p = &c->pool;
    return 2 * (size_t)(p->f16 ? 2 : 4) * c->n_blocks * p->n_layers * p->block_size * p->nkv *
           p->hd;
}
const ds_kv_pool *ds_kv_cache_pool(const ds_kv_cache *c) {
    return &c->pool;
}

int ds_kv_seq_reserve(ds_kv_cache *c, ds_kv_seq *seq, int n_more) {
    int bs = c->pool.block_size;
    int need = (seq->len + n_more + bs - 1) / bs - seq->n_blocks;
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

int ds_kv_plan_build(ds_ctx *ctx, ds_arena *arena, const ds_kv_cache *c,
                     const ds_kv_seq *const *seqs, const int32_t *seq_off, int n_seq,
                     ds_kv_plan *plan) {
    int n = seq_off[n_seq], nb = 0, bs = c->pool.block_size;
    for (int i = 0; i < n_seq; i++) nb += seqs[i]->n_blocks;
    size_t total = 4 * (size_t)n + (size_t)nb, bytes = sizeof(int32_t) * (total > 0 ? total : 1);
    int32_t *d = arena ? ds_arena_alloc(arena, bytes) : ctx->ops->alloc(ctx, bytes);
    // filled in place where the host may write it (a CPU arena: every decode step), else
    // staged on the host and uploaded
    int in_place = arena && ds_arena_in_host_memory(arena);
    int32_t *h = in_place ? d : malloc(bytes);
    if (!d || !h) {
        if (!in_place) free(h);
        if (!arena) ctx->ops->free(ctx, d);
        return ds_error(DS_E_NOMEM, "kv cache: no room for the plan of %d positions", n);
    }
    int32_t *slot = h, *info = h + n, *blocks = h + 4 * (size_t)n;
    for (int i = 0, b0 = 0; i < n_seq; i++) {
        const ds_kv_seq *s = seqs[i];
        for (int t = seq_off[i]; t < seq_off[i + 1]; t++) {
            int pos = s->len + t - seq_off[i];
            slot[t] = s->blocks[pos / bs] * bs + pos % bs;
            info[3 * t] = pos;
            info[3 * t + 1] = s->n_prefix;
            info[3 * t + 2] = b0;
        }
        memcpy(blocks + b0, s->blocks, sizeof(int32_t) * s->n_blocks);
        b0 += s->n_blocks;
    }
    if (!in_place) {
        ctx->ops->upload(ctx, d, h, sizeof(int32_t) * total);
        free(h);
    }
    *plan = (ds_kv_plan){
        .n = n, .slot = d, .info = d + n, .blocks = d + 4 * (size_t)n, .owned = arena == NULL};
    return 0;
}

void ds_kv_plan_free(ds_ctx *ctx, ds_kv_plan *plan) {
    if (plan->owned) ctx->ops->free(ctx, plan->slot);
    memset(plan, 0, sizeof *plan);
}
