// test-infer.c: the inference path against the training forward: prefill plus
// batched incremental decoding with the KV cache must give the logits of one
// full forward over the same tokens, for sequences of different lengths that
// run past the sliding window; and the cache's block accounting.
#include "core/error.h"
#include "fusion/infer.h"
#include "fusion/model-impl.h"
#include "model-fixtures.h"
#include "test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

// Cached decoding against one full forward; with f16 storage the tolerance is that of
// half precision (keys and values rounded to 11 significant bits).
static int kv_parity(int f16) {
    ds_model_cfg cfg;
    ds_fixture_tiny_cfg(&cfg, 12);
    ds_model *m;
    DS_CHECK(ds_model_init(&cfg, NULL, 5, &m) == 0);
    ds_rng r;
    ds_rng_seed(&r, 9);
    ds_rng_fill_normal(&r, m->router_bias, (int64_t)cfg.n_layers * cfg.n_experts, 0.0f, 0.05f);
    enum { NS = 3 };
    ds_seq seqs[NS];
    ds_seq *ptrs[NS];
    for (int i = 0; i < NS; i++) {
        DS_CHECK(ds_fixture_seq(&cfg, &r, 1 + i % 2, 4 + 5 * i, &seqs[i]) == 0);
        ptrs[i] = &seqs[i];
        printf("  sequence %d: %d tokens, prefix %d (window %d)\n", i, seqs[i].n, seqs[i].n_prefix,
               cfg.window);
    }
    ds_batch b;
    DS_CHECK(ds_batch_pack(&cfg, ptrs, NS, &b) == 0);
    ds_ctx *ctx = ds_ctx_new(DS_BACKEND_CPU, 2);
    DS_CHECK(ctx);
    ds_arena arena;
    ds_arena_init(&arena, 0, 0);
    ds_fwd *f;
    ds_step_stats st;
    DS_CHECK(ds_model_forward(m, ctx, &b, &arena, &f, &st) == 0);
    int C = cfg.dim, V = cfg.vocab;
    float *ref = malloc(sizeof(float) * (size_t)b.N * V);
    ds_infer_logits(m, ctx, f->lm.out, b.N, ref);

    ds_kv_cache *cache;
    DS_CHECK(ds_kv_cache_new_f16(&cfg, 64, 8, f16, &cache) == 0);
    int free0 = ds_kv_cache_free_blocks(cache);
    ds_gen_state gs[NS], *gp[NS];
    memset(gs, 0, sizeof gs);
    for (int i = 0; i < NS; i++) gp[i] = &gs[i];
    ds_arena inf;
    ds_arena_init(&inf, 0, 0);
    int n_pre = 0;
    for (int i = 0; i < NS; i++) n_pre += seqs[i].n_prefix;
    float *hid = malloc(sizeof(float) * (size_t)b.N * C);
    float *got = malloc(sizeof(float) * (size_t)b.N * V);
    ds_seq pre[NS], *pre_ptrs[NS]; // the prefixes: the answers are decoded
    for (int i = 0; i < NS; i++) {
        pre[i] = seqs[i];
        pre[i].n = seqs[i].n_prefix;
        pre_ptrs[i] = &pre[i];
    }
    DS_CHECK(ds_infer_prefill(m, ctx, cache, gp, pre_ptrs, NS, hid, &inf) == 0);
    float *lg = malloc(sizeof(float) * (size_t)b.N * V);
    ds_infer_logits(m, ctx, hid, n_pre, lg);
    // scatter the prefill rows to their batch positions
    int row = 0;
    for (int i = 0; i < NS; i++)
        for (int t = 0; t < seqs[i].n_prefix; t++, row++)
            memcpy(got + (size_t)(b.seq_off[i] + t) * V, lg + (size_t)row * V, sizeof(float) * V);
    // decode the rest, all unfinished sequences in one step each time
    int steps = 0, max_batch = 0;
    for (;;) {
        int32_t ids[NS], box[4 * NS], page[NS], which[NS];
        ds_gen_state *act[NS];
        int n = 0;
        for (int i = 0; i < NS; i++) {
            int p = gs[i].kv.len;
            if (p >= seqs[i].n) continue;
            ids[n] = seqs[i].ids[p];
            memcpy(box + 4 * n, seqs[i].box + 4 * p, sizeof(int32_t) * 4);
            page[n] = seqs[i].page[p];
            which[n] = i;
            act[n++] = &gs[i];
        }
        if (n == 0) break;
        max_batch = n > max_batch ? n : max_batch;
        int32_t pos[NS];
        for (int j = 0; j < n; j++) pos[j] = act[j]->kv.len;
        DS_CHECK(ds_infer_step(m, ctx, cache, act, n, ids, box, page, hid, &inf) == 0);
        ds_infer_logits(m, ctx, hid, n, lg);
        for (int j = 0; j < n; j++)
            memcpy(got + (size_t)(b.seq_off[which[j]] + pos[j]) * V, lg + (size_t)j * V,
                   sizeof(float) * V);
        steps++;
    }
    printf("  prefill %d tokens, then %d decode steps (batch up to %d)\n", n_pre, steps, max_batch);
    // relative to the logits' scale
    float mx = 0;
    for (int64_t i = 0; i < (int64_t)b.N * V; i++) mx = fmaxf(mx, fabsf(ref[i]));
    int64_t bad =
        ds_test_close_f32(f16 ? "cached (fp16) vs full logits" : "cached vs full logits", got, ref,
                          (int64_t)b.N * V, (f16 ? 1e-3 : 1e-5) * mx, f16 ? 5e-3 : 1e-4);
    // pointer keys from the prefill agree with the training forward's
    for (int i = 0; i < NS; i++) DS_CHECK_INT_EQ(gs[i].n_words, seqs[i].n_words);
    bad += ds_test_close_f32("pointer keys", gs[0].ptr_keys, f->kw, (int64_t)gs[0].n_words * C,
                             1e-5, 1e-4);
    for (int i = 0; i < NS; i++) ds_gen_state_release(cache, &gs[i]);
    DS_CHECK_INT_EQ(ds_kv_cache_free_blocks(cache), free0);
    free(hid);
    free(got);
    free(lg);
    free(ref);
    ds_arena_free(&inf);
    ds_arena_free(&arena);
    ds_kv_cache_free(cache);
    ds_ctx_free(ctx);
    ds_batch_free(&b);
    for (int i = 0; i < NS; i++) ds_seq_free(&seqs[i]);
    ds_model_free(m);
    return bad != 0;
}

DS_TEST(infer_kv_cache_matches_full_forward) {
    return kv_parity(0);
}

DS_TEST(infer_kv_cache_f16_matches_full_forward) {
    return kv_parity(1);
}

DS_TEST(infer_kv_cache_full_pool_is_busy) {
    ds_model_cfg cfg;
    ds_fixture_tiny_cfg(&cfg, 0);
    ds_kv_cache *c;
    DS_CHECK(ds_kv_cache_new(&cfg, 3, 4, &c) == 0);
    ds_kv_seq a = {0}, b = {0};
    DS_CHECK(ds_kv_seq_reserve(c, &a, 9) == 0); // 3 blocks
    DS_CHECK_INT_EQ(ds_kv_cache_free_blocks(c), 0);
    int rc = ds_kv_seq_reserve(c, &b, 1);
    printf("  reserve on a full pool: %s (%s)\n", ds_err_name(rc), ds_errmsg());
    DS_CHECK_INT_EQ(rc, DS_E_BUSY);
    DS_CHECK(b.n_blocks == 0);
    ds_kv_seq_release(c, &a);
    DS_CHECK_INT_EQ(ds_kv_cache_free_blocks(c), 3);
    DS_CHECK(ds_kv_seq_reserve(c, &b, 1) == 0);
    ds_kv_seq_release(c, &b);
    ds_kv_cache_free(c);
    return 0;
}
