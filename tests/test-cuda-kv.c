// test-cuda-kv.c: the CUDA paged KV cache ops against the CPU reference table:
// kv_store (both pools equal afterwards: exactly, f32 and f16, which both round to
// nearest even) and kv_attention over three sequences whose blocks lie scattered
// through the pool: decode queries (the last position of each), a continuing chunk of
// several queries, queries inside a bidirectional prefix, sliding windows, grouped and
// multi-query heads, head sizes 8, 64 and 160 (more than one dimension per thread),
// sequences longer than one tile of keys. Without a GPU each test prints a skip line
// and passes.
#include "tests/test.h"
#include "tests/cuda-parity.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    int nkv, grp, hd, bs, f16, window;
} kv_shape;

enum { KV_LAYERS = 2, KV_SEQS = 3 };

static int64_t kv_case(ds_ctx *g, const kv_shape *s, const int *lens, const int *prefix,
                       uint64_t seed) {
    ds_ctx *c = ds_par_cpu();
    int nb_seq[KV_SEQS], n_blocks = 0, total = 0;
    for (int i = 0; i < KV_SEQS; i++) {
        nb_seq[i] = (lens[i] + s->bs - 1) / s->bs;
        n_blocks += nb_seq[i];
        total += lens[i];
    }
    n_blocks += 3; // blocks no sequence holds
    ds_kv_pool cp = {0}, gp = {0};
    cp.f16 = gp.f16 = s->f16;
    cp.n_layers = gp.n_layers = KV_LAYERS;
    cp.nkv = gp.nkv = s->nkv;
    cp.hd = gp.hd = s->hd;
    cp.block_size = gp.block_size = s->bs;
    size_t pool_bytes = (size_t)(s->f16 ? 2 : 4) * n_blocks * KV_LAYERS * s->bs * s->nkv * s->hd;
    cp.k = calloc(1, pool_bytes);
    cp.v = calloc(1, pool_bytes);
    gp.k = ds_par_zeros(g, pool_bytes);
    gp.v = ds_par_zeros(g, pool_bytes);
    // the blocks in a shuffled order, dealt to the sequences in turn
    int32_t *perm = malloc(sizeof(int32_t) * n_blocks),
            *blocks = malloc(sizeof(int32_t) * n_blocks);
    for (int b = 0; b < n_blocks; b++) perm[b] = b;
    uint64_t r = seed * 2654435761u + 1;
    for (int b = n_blocks - 1; b > 0; b--) {
        r = r * 6364136223846793005ull + 1442695040888963407ull;
        int j = (int)((r >> 33) % (uint64_t)(b + 1)), t = perm[b];
        perm[b] = perm[j];
        perm[j] = t;
    }
    int b0[KV_SEQS];
    for (int i = 0, nb = 0; i < KV_SEQS; i++) {
        b0[i] = nb;
        for (int k = 0; k < nb_seq[i]; k++) blocks[nb + k] = perm[nb + k];
        nb += nb_seq[i];
    }
    // every position of every sequence stored, layer by layer
    const int kd = s->nkv * s->hd;
    int32_t *slot = malloc(sizeof(int32_t) * total);
    for (int i = 0, t = 0; i < KV_SEQS; i++)
        for (int p = 0; p < lens[i]; p++, t++)
            slot[t] = blocks[b0[i] + p / s->bs] * s->bs + p % s->bs;
    int32_t *gslot = ds_par_up_i32(g, slot, total), *gblocks = ds_par_up_i32(g, blocks, n_blocks);
    for (int l = 0; l < KV_LAYERS; l++) {
        float *k = ds_par_randn((int64_t)total * kd, seed + 10 * l + 1, 1.0f);
        float *v = ds_par_randn((int64_t)total * kd, seed + 10 * l + 2, 1.0f);
        float *gk = ds_par_up(g, k, (int64_t)total * kd),
              *gv = ds_par_up(g, v, (int64_t)total * kd);
        c->ops->kv_store(c, &cp, l, k, v, slot, total);
        g->ops->kv_store(g, &gp, l, gk, gv, gslot, total);
        g->ops->free(g, gk);
        g->ops->free(g, gv);
        free(k);
        free(v);
    }
    int64_t fails = 0;
    char what[160];
    void *hk = malloc(pool_bytes), *hv = malloc(pool_bytes);
    g->ops->download(g, hk, gp.k, pool_bytes);
    g->ops->download(g, hv, gp.v, pool_bytes);
    if (memcmp(hk, cp.k, pool_bytes) || memcmp(hv, cp.v, pool_bytes)) {
        fprintf(stderr, "  kv_store nkv%d hd%d bs%d f16 %d: the pools differ\n", s->nkv, s->hd,
                s->bs, s->f16);
        fails++;
    } else {
        printf("  kv_store nkv%d hd%d bs%d f16 %d: pools equal (%zu bytes each)\n", s->nkv, s->hd,
               s->bs, s->f16, pool_bytes);
    }
    // queries: each sequence's last position (decode), then its last min(7, len) together
    // (a continuing chunk), then its first two (inside the prefix when it has one)
    int32_t info[3 * KV_SEQS * 10];
    int n = 0;
    for (int i = 0; i < KV_SEQS; i++) {
        int first[10], nq = 0;
        first[nq++] = lens[i] - 1;
        for (int p = lens[i] - 7 > 0 ? lens[i] - 7 : 0; p < lens[i]; p++) first[nq++] = p;
        first[nq++] = 0;
        if (lens[i] > 1) first[nq++] = 1;
        for (int k = 0; k < nq; k++, n++) {
            info[3 * n] = first[k];
            info[3 * n + 1] = prefix[i];
            info[3 * n + 2] = b0[i];
        }
    }
    const int nh = s->nkv * s->grp, qd = nh * s->hd;
    float *q = ds_par_randn((int64_t)n * qd, seed + 99, 1.0f),
          *out = malloc(sizeof(float) * n * qd);
    float *gq = ds_par_up(g, q, (int64_t)n * qd), *gout = ds_par_zeros(g, sizeof(float) * n * qd);
    int32_t *ginfo = ds_par_up_i32(g, info, 3 * n);
    for (int l = 0; l < KV_LAYERS; l++) {
        c->ops->kv_attention(c, &cp, l, out, q, info, blocks, n, nh, s->window);
        g->ops->kv_attention(g, &gp, l, gout, gq, ginfo, gblocks, n, nh, s->window);
        snprintf(what, sizeof what,
                 "kv_attention L%d nh%d nkv%d hd%d bs%d f16 %d window %d lens %d %d %d prefix "
                 "%d %d %d",
                 l, nh, s->nkv, s->hd, s->bs, s->f16, s->window, lens[0], lens[1], lens[2],
                 prefix[0], prefix[1], prefix[2]);
        fails +=
            ds_par_check(g, what, gout, out, (int64_t)n * qd, DS_PAR_F32_ATOL, DS_PAR_F32_RTOL);
    }
    void *gbufs[] = {gp.k, gp.v, gslot, gblocks, gq, gout, ginfo};
    for (int i = 0; i < 7; i++) g->ops->free(g, gbufs[i]);
    void *hbufs[] = {cp.k, cp.v, hk, hv, perm, blocks, slot, q, out};
    for (int i = 0; i < 9; i++) free(hbufs[i]);
    return fails;
}

DS_TEST(cuda_kv_cache) {
    ds_ctx *g = ds_par_gpu();
    if (!g) return 0;
    // (nkv, grp, hd, bs, f16, window)
    static const kv_shape shapes[] = {
        {1, 4, 8, 4, 0, 0},   {2, 3, 64, 16, 1, 0}, {4, 1, 64, 16, 0, 5},
        {2, 2, 160, 8, 1, 9}, {1, 1, 8, 16, 1, 3},  {2, 1, 160, 4, 0, 0},
    };
    // emulated (DS_PARITY_QUICK): shorter sequences, still several blocks and a prefix
    static const int lens_full[][3] = {{1, 37, 300}, {5, 130, 260}},
                     lens_quick[][3] = {{1, 9, 40}, {5, 17, 33}};
    static const int prefix[][3] = {{0, 6, 20}, {5, 0, 13}};
    int64_t fails = 0;
    for (int i = 0; i < (int)(sizeof shapes / sizeof *shapes); i++) {
        const int *lens = ds_par_quick() ? lens_quick[i % 2] : lens_full[i % 2];
        fails += kv_case(g, &shapes[i], lens, prefix[i % 2], 4000u + 31u * (uint64_t)i);
    }
    return (int)fails;
}
