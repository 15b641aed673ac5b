// test-infer.c: the inference path against the training forward: prefill plus
// batched incremental decoding with the KV cache must give the logits of one
// full forward over the same tokens, for sequences of different lengths that
// run past the sliding window; decoding with bf16 weights must stay within
// bf16 rounding of the f32 decoding; and the cache's block accounting.
#include "core/error.h"
#include "fusion/infer.h"
#include "fusion/model-impl.h"
#include "model-fixtures.h"
#include "test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

// The reference: the training forward over seqs packed into *b; *ref (malloc'd) gets its
// logits (b->N, V) and *f its saved state (in arena).
static int full_forward_logits(ds_model *m, ds_ctx *ctx, ds_seq *seqs, int n, ds_batch *b,
                               ds_arena *arena, ds_fwd **f, float **ref) {
    ds_seq *ptrs[8];
    DS_CHECK(n <= 8);
    for (int i = 0; i < n; i++) ptrs[i] = &seqs[i];
    DS_CHECK(ds_batch_pack(&m->cfg, ptrs, n, b) == 0);
    ds_step_stats st;
    DS_CHECK(ds_model_forward(m, ctx, b, arena, f, &st) == 0);
    DS_CHECK((*ref = malloc(sizeof(float) * (size_t)b->N * m->cfg.vocab)) != NULL);
    ds_infer_logits(m, ctx, (*f)->lm.out, b->N, *ref);
    return 0;
}

// The largest |logit|: the scale the tolerances are relative to.
static float logit_scale(const float *ref, int64_t n) {
    float mx = 0;
    for (int64_t i = 0; i < n; i++) mx = fmaxf(mx, fabsf(ref[i]));
    return mx;
}

static int cached_logits(ds_model *m, ds_ctx *ctx, ds_kv_cache *cache, ds_seq *seqs, int ns,
                         const ds_batch *b, ds_gen_state *gs, float *got) {
    ds_arena inf;
    ds_arena_init(&inf, 0, 0);
    int rc = ds_fixture_cached_logits(m, ctx, cache, seqs, ns, b->seq_off, gs, got, &inf);
    ds_arena_free(&inf);
    return rc;
}

// Cached decoding against one full forward; with f16 storage the tolerance is that of
// half precision (keys and values rounded to 11 significant bits). With bf16 weights
// the cached logits are compared with the f32 cached decoding instead: weights rounded
// to 8 significant bits (relative error <= 2^-8 each) move a logit by a few 1e-3 of
// the logits' scale after the layers (4e-3 seen); the bound is 1e-2 of that scale.
static int kv_parity(int f16, int bf16) {
    ds_model_cfg cfg;
    ds_model *m;
    ds_rng r;
    ds_rng_seed(&r, 9);
    DS_CHECK(ds_fixture_tiny_model(12, 5, &r, &cfg, &m) == 0);
    enum { NS = 3 };
    ds_seq seqs[NS];
    for (int i = 0; i < NS; i++) {
        DS_CHECK(ds_fixture_seq(&cfg, &r, 1 + i % 2, 4 + 5 * i, &seqs[i]) == 0);
        printf("  sequence %d: %d tokens, prefix %d (window %d)\n", i, seqs[i].n, seqs[i].n_prefix,
               cfg.window);
    }
    ds_ctx *ctx = ds_ctx_new(DS_BACKEND_CPU, 2);
    DS_CHECK(ctx);
    ds_arena arena;
    ds_arena_init(&arena, 0, 0);
    ds_batch b;
    ds_fwd *f;
    float *ref;
    DS_CHECK(full_forward_logits(m, ctx, seqs, NS, &b, &arena, &f, &ref) == 0);
    int C = cfg.dim, V = cfg.vocab;

    ds_kv_cache *cache;
    DS_CHECK(ds_kv_cache_new_f16(&cfg, 64, 8, f16, &cache) == 0);
    int free0 = ds_kv_cache_free_blocks(cache);
    ds_gen_state gs[NS];
    float *got = malloc(sizeof(float) * (size_t)b.N * V);
    DS_CHECK(cached_logits(m, ctx, cache, seqs, NS, &b, gs, got) == 0);
    float mx = logit_scale(ref, (int64_t)b.N * V); // the tolerances are relative to it
    int64_t bad = 0;
    if (!bf16) {
        bad +=
            ds_test_close_f32(f16 ? "cached (fp16) vs full logits" : "cached vs full logits", got,
                              ref, (int64_t)b.N * V, (f16 ? 1e-3 : 1e-5) * mx, f16 ? 5e-3 : 1e-4);
    } else { // the f32 cached decoding above is now the reference
        for (int i = 0; i < NS; i++) ds_gen_state_release(cache, &gs[i]);
        memcpy(ref, got, sizeof(float) * (size_t)b.N * V);
        DS_CHECK(ds_infer_set_bf16(m, 1) == 0);
        printf("  bf16 decode weights: %.2f MB (f32: %.2f MB of the same matrices)\n",
               m->dec_bf16->bytes / 1e6, m->dec_bf16->bytes * 2 / 1e6);
        DS_CHECK(cached_logits(m, ctx, cache, seqs, NS, &b, gs, got) == 0);
        printf("  logits' scale (max |logit|) %.3f; bound 1e-2 of it\n", mx);
        bad += ds_test_close_f32("cached bf16-weight vs f32 logits", got, ref, (int64_t)b.N * V,
                                 1e-2 * mx, 0);
        int agree = 0; // what decoding acts on: the best token of each position
        for (int t = 0; t < b.N; t++) {
            int ag = 0, ar = 0;
            for (int v = 1; v < V; v++) {
                ag = got[(size_t)t * V + v] > got[(size_t)t * V + ag] ? v : ag;
                ar = ref[(size_t)t * V + v] > ref[(size_t)t * V + ar] ? v : ar;
            }
            agree += ag == ar;
        }
        printf("  argmax token agrees at %d of %d positions\n", agree, b.N);
        DS_CHECK(ds_infer_set_bf16(m, 0) == 0 && m->dec_bf16 == NULL);
    }
    // pointer keys from the prefill agree with the training forward's
    for (int i = 0; i < NS; i++) DS_CHECK_INT_EQ(gs[i].n_words, seqs[i].n_words);
    bad += ds_test_close_f32("pointer keys", gs[0].ptr_keys, f->kw, (int64_t)gs[0].n_words * C,
                             1e-5, 1e-4);
    for (int i = 0; i < NS; i++) ds_gen_state_release(cache, &gs[i]);
    DS_CHECK_INT_EQ(ds_kv_cache_free_blocks(cache), free0);
    free(got);
    free(ref);
    ds_arena_free(&arena);
    ds_kv_cache_free(cache);
    ds_ctx_free(ctx);
    ds_batch_free(&b);
    for (int i = 0; i < NS; i++) ds_seq_free(&seqs[i]);
    ds_model_free(m);
    return bad != 0;
}

DS_TEST(infer_kv_cache_matches_full_forward) {
    return kv_parity(0, 0);
}

DS_TEST(infer_kv_cache_f16_matches_full_forward) {
    return kv_parity(1, 0);
}

DS_TEST(infer_bf16_weights_match_f32_decode) {
    return kv_parity(0, 1);
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

// Decodes token p of sequence s in state g (one decode step of a batch of one); its
// logits go to row (seq_off + p) of got.
static int decode_one(ds_model *m, ds_ctx *ctx, ds_kv_cache *cache, const ds_seq *s,
                      ds_gen_state *g, int row0, float *got, float *hid, ds_arena *a) {
    int p = g->kv.len;
    ds_gen_state *gp = g;
    DS_CHECK(
        ds_infer_step(m, ctx, cache, &gp, 1, s->ids + p, s->box + 4 * p, s->page + p, hid, a) == 0);
    ds_infer_logits(m, ctx, hid, 1, got + (size_t)(row0 + p) * m->cfg.vocab);
    ds_arena_reset(a);
    return 0;
}

// Chunked prefill (a server's continuous batching): sequence B is prefilled a piece at a
// time (its embedding, then a layer per piece) while sequence A, already prefilled,
// decodes a token between every two pieces, in the same cache. Every logit of both
// (B's prefix from the pieces' hidden states, then both answers decoded) must equal one
// full forward over the two sequences, as the one-call prefill does.
DS_TEST(infer_chunked_prefill_between_decode_steps) {
    ds_model_cfg cfg;
    ds_fixture_tiny_cfg(&cfg, 12);
    ds_model *m;
    DS_CHECK(ds_model_init(&cfg, NULL, 7, &m) == 0);
    ds_rng r;
    ds_rng_seed(&r, 11);
    ds_seq seqs[2];
    DS_CHECK(ds_fixture_seq(&cfg, &r, 1, 9, &seqs[0]) == 0);
    DS_CHECK(ds_fixture_seq(&cfg, &r, 2, 14, &seqs[1]) == 0);
    ds_ctx *ctx = ds_ctx_new(DS_BACKEND_CPU, 2);
    ds_arena arena;
    ds_arena_init(&arena, 0, 0);
    ds_batch b;
    ds_fwd *f;
    float *ref;
    DS_CHECK(full_forward_logits(m, ctx, seqs, 2, &b, &arena, &f, &ref) == 0);
    int C = cfg.dim, V = cfg.vocab;
    float *got = malloc(sizeof(float) * (size_t)b.N * V);
    float *hid = malloc(sizeof(float) * (size_t)b.N * C);
    for (int64_t i = 0; i < (int64_t)b.N * V; i++) got[i] = NAN; // every row must be written
    ds_kv_cache *cache;
    DS_CHECK(ds_kv_cache_new(&cfg, 64, 8, &cache) == 0);
    ds_gen_state gs[2];
    memset(gs, 0, sizeof gs);
    ds_seq pre[2], *pre_ptrs[2];
    ds_fixture_prefixes(seqs, 2, pre, pre_ptrs);
    ds_arena inf;
    ds_arena_init(&inf, 0, 0);
    // A: prefilled in one call, its prefix rows kept
    ds_gen_state *ga = &gs[0], *gb = &gs[1];
    DS_CHECK(ds_infer_prefill(m, ctx, cache, &ga, &pre_ptrs[0], 1, hid, &inf) == 0);
    ds_infer_logits(m, ctx, hid, pre[0].n, got);
    // B: a piece at a time, A decoding between the pieces
    ds_prefill *p;
    DS_CHECK(ds_prefill_begin(m, ctx, cache, &gb, &pre_ptrs[1], 1, &p) == 0);
    int pieces = 0, between = 0, done = 0;
    while (!done) {
        DS_CHECK(ds_prefill_next(p, &inf, &done) == 0);
        ds_arena_reset(&inf);
        pieces++;
        if (!done && gs[0].kv.len < seqs[0].n) {
            DS_CHECK(decode_one(m, ctx, cache, &seqs[0], &gs[0], b.seq_off[0], got, hid, &inf) ==
                     0);
            between++;
        }
    }
    DS_CHECK_INT_EQ(pieces, ds_prefill_pieces(p));
    DS_CHECK_INT_EQ(pieces, 1 + cfg.n_layers);
    ds_infer_logits(m, ctx, ds_prefill_hidden(p), pre[1].n, got + (size_t)b.seq_off[1] * V);
    ds_prefill_free(p);
    printf("  B's prefill of %d tokens in %d pieces; A decoded %d tokens between them\n", pre[1].n,
           pieces, between);
    DS_CHECK(between == cfg.n_layers); // a decode step after every piece but the last
    // then both answers to their ends, alternately
    while (gs[0].kv.len < seqs[0].n || gs[1].kv.len < seqs[1].n)
        for (int i = 0; i < 2; i++)
            if (gs[i].kv.len < seqs[i].n)
                DS_CHECK(
                    decode_one(m, ctx, cache, &seqs[i], &gs[i], b.seq_off[i], got, hid, &inf) == 0);
    float mx = logit_scale(ref, (int64_t)b.N * V);
    int64_t bad = ds_test_close_f32("chunked-prefill + interleaved decode vs full logits", got, ref,
                                    (int64_t)b.N * V, 1e-5 * mx, 1e-4);
    bad += ds_test_close_f32("B's pointer keys", gs[1].ptr_keys, f->kw + (size_t)b.word_off[1] * C,
                             (int64_t)gs[1].n_words * C, 1e-5, 1e-4);
    for (int i = 0; i < 2; i++) ds_gen_state_release(cache, &gs[i]);
    ds_arena_free(&inf);
    ds_arena_free(&arena);
    ds_kv_cache_free(cache);
    ds_ctx_free(ctx);
    ds_batch_free(&b);
    for (int i = 0; i < 2; i++) ds_seq_free(&seqs[i]);
    ds_model_free(m);
    free(ref);
    free(got);
    free(hid);
    return bad != 0;
}
