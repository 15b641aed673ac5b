// model-fixtures.c: see model-fixtures.h.
#include "model-fixtures.h"

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
