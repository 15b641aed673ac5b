// model-fixtures.h: tiny model configs and synthetic sequences for the model
// tests: every part (image prefix, boxes, ROI, generated values under the
// copy mask and the pointer-generator, start/end pointers) appears at least
// once, so a gradient check or a cache check over them covers the whole model.
#ifndef DS_MODEL_FIXTURES_H
#define DS_MODEL_FIXTURES_H

#include "core/rng.h"
#include "fusion/infer.h"
#include "fusion/model.h"

// A tiny configuration of every part: ViT 2 blocks, LM 3 layers (1 dense, 2 MoE with
// 8 experts in 4 groups, top-2 within 2 groups, 1 shared), GQA 4/2, window `window`.
void ds_fixture_tiny_cfg(ds_model_cfg *c, int window);
// The tiny model of window `window` (ds_fixture_tiny_cfg into *cfg) initialised from
// seed, with a routing bias drawn N(0, 0.05^2) from r (so routing is not the unbiased
// one). 0 or a DS_E* code.
int ds_fixture_tiny_model(int window, uint64_t seed, ds_rng *r, ds_model_cfg *cfg, ds_model **m);
// A random sequence with n_pages pages of n_words words each and an answer of
// ~12 tokens: structure tokens, a generated value copied from the document, and
// two start/end pointer pairs. Returns 0 or a DS_E* code.
int ds_fixture_seq(const ds_model_cfg *c, ds_rng *r, int n_pages, int n_words, ds_seq *s);

// A randomly initialised model of config *cfg whose tokenizer is trained on one line
// of text (vocab entries); cfg->vocab is set to the tokenizer's size. 0 or DS_E*.
int ds_fixture_text_model(ds_model_cfg *cfg, const char *corpus, int vocab, uint64_t seed,
                          ds_model **m);

// The prefixes of seqs (what a prefill reads: the answer is decoded) into pre, and
// pointers to them into pre_ptrs (n each).
void ds_fixture_prefixes(const ds_seq *seqs, int n, ds_seq *pre, ds_seq **pre_ptrs);
// Logits (seq_off[ns], V) of seqs through the cache at the rows seq_off gives each
// sequence: prefill of the prefixes, then batched decoding of the rest, teacher-forced,
// all unfinished sequences in one step each time (at most 3). gs (ns) receive the states
// (the caller releases them); scratch from inf (ctx's memory). 0, or 1 after a failed check.
int ds_fixture_cached_logits(ds_model *m, ds_ctx *ctx, ds_kv_cache *cache, ds_seq *seqs, int ns,
                             const int32_t *seq_off, ds_gen_state *gs, float *got, ds_arena *inf);

#endif
