// model-fixtures.c: see model-fixtures.h.
#include "model-fixtures.h"

#include "tests/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ds_fixture_tiny_cfg(ds_model_cfg *c, int window) {
    ds_model_cfg_default(c);
    c->img_size = 32;
    c->patch = 8; // 4x4 patches, 2x2 = 4 image tokens per page
    c->vit_dim = 8;
    c->vit_layers = 2;
    c->vit_heads = 2;
    c->vit_mlp = 16;
    c->max_pages = 2;
    c->use_glyph = 1;
    c->vocab = 300;
    c->dim = 16;
    c->n_layers = 3;
    c->n_dense_layers = 1;
    c->n_heads = 4;
    c->n_kv_heads = 2;
    c->head_dim = 4;
    c->window = window;
    c->max_seq = 256;
    c->dense_hidden = 24;
    c->n_experts = 8;
    c->n_groups = 4;
    c->topk_groups = 2;
    c->topk = 2;
    c->expert_hidden = 8;
    c->n_shared = 1;
    c->copy_pointer = 1;
    c->copy_pointer_gen = 1;
    c->copy_mask = 1;
    c->balance_weight = 0.01f;
    c->doc_lm_weight = 0.5f;
    c->init_std = 0.2f;
}

int ds_fixture_tiny_model(int window, uint64_t seed, ds_rng *r, ds_model_cfg *cfg, ds_model **m) {
    ds_fixture_tiny_cfg(cfg, window);
    int rc = ds_model_init(cfg, NULL, seed, m);
    if (!rc)
        ds_rng_fill_normal(r, (*m)->router_bias, (int64_t)cfg->n_layers * cfg->n_experts, 0.0f,
                           0.05f);
    return rc;
}

int ds_fixture_seq(const ds_model_cfg *c, ds_rng *r, int n_pages, int n_words, ds_seq *s) {
    return ds_seq_random(c, r, n_pages, n_words, s);
}

int ds_fixture_text_model(ds_model_cfg *cfg, const char *corpus, int vocab, uint64_t seed,
                          ds_model **m) {
    const char *lines[1] = {corpus};
    ds_tokenizer *tok;
    int rc = ds_tokenizer_train(lines, 1, vocab, &tok);
    if (rc) return rc;
    cfg->vocab = ds_tokenizer_vocab_size(tok);
    return ds_model_init(cfg, tok, seed, m);
}

// The prefixes of seqs (what a prefill reads: the answer is decoded) into pre.
void ds_fixture_prefixes(const ds_seq *seqs, int n, ds_seq *pre, ds_seq **pre_ptrs) {
    for (int i = 0; i < n; i++) {
        pre[i] = seqs[i];
        pre[i].n = seqs[i].n_prefix;
        pre_ptrs[i] = &pre[i];
    }
}

int ds_fixture_cached_logits(ds_model *m, ds_ctx *ctx, ds_kv_cache *cache, ds_seq *seqs, int ns,
                             const int32_t *seq_off, ds_gen_state *gs, float *got, ds_arena *inf) {
    enum { NS = 3 };
    DS_CHECK(ns <= NS);
    int C = m->cfg.dim, V = m->cfg.vocab;
    ds_gen_state *gp[NS];
    memset(gs, 0, sizeof(ds_gen_state) * ns);
    for (int i = 0; i < ns; i++) gp[i] = &gs[i];
    int n_pre = 0;
    for (int i = 0; i < ns; i++) n_pre += seqs[i].n_prefix;
    float *hid = malloc(sizeof(float) * (size_t)seq_off[ns] * C);
    float *lg = malloc(sizeof(float) * (size_t)seq_off[ns] * V);
    ds_seq pre[NS], *pre_ptrs[NS] = {0};
    ds_fixture_prefixes(seqs, ns, pre, pre_ptrs);
    DS_CHECK(ds_infer_prefill(m, ctx, cache, gp, pre_ptrs, ns, hid, inf) == 0);
    ds_infer_logits(m, ctx, hid, n_pre, lg);
    // scatter the prefill rows to their batch positions
    int row = 0;
    for (int i = 0; i < ns; i++)
        for (int t = 0; t < seqs[i].n_prefix; t++, row++)
            memcpy(got + (size_t)(seq_off[i] + t) * V, lg + (size_t)row * V, sizeof(float) * V);
    int steps = 0, max_batch = 0;
    for (;;) {
        int32_t ids[NS], box[4 * NS], page[NS], which[NS];
        ds_gen_state *act[NS];
        int n = 0;
        for (int i = 0; i < ns; i++) {
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
        DS_CHECK(ds_infer_step(m, ctx, cache, act, n, ids, box, page, hid, inf) == 0);
        ds_infer_logits(m, ctx, hid, n, lg);
        for (int j = 0; j < n; j++)
            memcpy(got + (size_t)(seq_off[which[j]] + pos[j]) * V, lg + (size_t)j * V,
                   sizeof(float) * V);
        steps++;
    }
    printf("  prefill %d tokens, then %d decode steps (batch up to %d)%s\n", n_pre, steps,
           max_batch, m->dec_bf16 ? ", bf16 weights" : "");
    free(hid);
    free(lg);
    return 0;
}
