// infer.h: the inference path: prefill of a document's prefix (task, image
// and document tokens) into the KV cache, then decode steps that run one new
// token for each of several sequences at once (batched decoding of sequences
// of different lengths). Each sequence keeps, besides its cache, what the
// output heads need from its document: the pointer keys of its words and the
// pointer-generator keys of its document tokens. The prefix must be
// prefilled in one call (it attends bidirectionally). Plain structs.
// On a GPU context m is the model's view there (ds_model_view_new), the cache's
// pool is in the GPU's memory (ds_kv_cache_new_on) and the arena is the
// context's (ds_ctx_arena_init); what these functions take and give back
// (hidden states, logits, the heads' keys in the states) is host memory on
// every backend.
#ifndef DS_INFER_H
#define DS_INFER_H

#include "fusion/model.h"
#include "text/kv-cache.h"

typedef struct {
    ds_kv_seq kv;
    int n_words;
    float *ptr_keys; // (n_words, C) pointer keys of the document words
    int n_doc;
    float *pg_keys;    // (n_doc, C) pointer-generator keys of the document tokens
    int32_t *doc_ids;  // (n_doc) their token ids
    int32_t *doc_word; // (n_doc) the word (pointer index) each came from; -1: none
} ds_gen_state;

// Prefills all n tokens of seqs[i] into st[i] (which must be zeroed or released); the
// first n_prefix of them attend bidirectionally, the rest causally. For extraction that
// is the sequence ds_seq_build makes without truth (n = n_prefix). hidden, when not
// NULL, receives the final hidden states of every prefilled token (sum of n rows, C).
// DS_E_BUSY when the cache has no room. At most DS_PREFILL_MAX sequences per call.
int ds_infer_prefill(ds_model *m, ds_ctx *ctx, ds_kv_cache *cache, ds_gen_state **st,
                     ds_seq *const *seqs, int n, float *hidden, ds_arena *arena);
// The same prefill in pieces (chunked prefill), so that a server can run decode steps
// of other sequences between them: the first piece embeds the tokens (the vision
// encoder included), each further piece runs one layer over all of them, and the last
// also computes the heads' keys. The pieces are exact: the prefix attends
// bidirectionally, so a layer needs every prefix token's keys, which a split by layers
// (unlike a split by tokens) always has. Between the pieces the caller may run
// ds_infer_step on other sequences of the same cache; the states st[i] and the
// sequences seqs[i] (borrowed) must stay where they are until the prefill is freed.
// Error codes as ds_infer_prefill.
#define DS_PREFILL_MAX 16
typedef struct ds_prefill ds_prefill;
int ds_prefill_begin(ds_model *m, ds_ctx *ctx, ds_kv_cache *cache, ds_gen_state **st,
                     ds_seq *const *seqs, int n, ds_prefill **out);
// How many pieces the prefill takes (1 + the number of layers).
int ds_prefill_pieces(const ds_prefill *p);
// Runs the next piece; *done = 1 after the last (the states then hold their prefixes).
int ds_prefill_next(ds_prefill *p, ds_arena *arena, int *done);
// The final hidden states of every prefilled token (sum of n rows, C), once done.
const float *ds_prefill_hidden(const ds_prefill *p);
// Frees the prefill (not the states: ds_gen_state_release). NULL is a no-op.
void ds_prefill_free(ds_prefill *p);
// One decode step: token ids[i] (with box (4) and page when box is not NULL and
// box[4 i] >= 0) appended to sequence st[i]; hidden (n, C) receives its final hidden state.
int ds_infer_step(ds_model *m, ds_ctx *ctx, ds_kv_cache *cache, ds_gen_state **st, int n,
                  const int32_t *ids, const int32_t *box, const int32_t *page, float *hidden,
                  ds_arena *arena);
// logits (n, V) of hidden (n, C).
void ds_infer_logits(ds_model *m, ds_ctx *ctx, const float *hidden, int n, float *logits);
// Pointer distribution p (n_words) of the start (kind 1) or end (kind 2) pointer from
// hidden (C); words before min_word are excluded.
void ds_infer_pointer(ds_model *m, const ds_gen_state *st, const float *hidden, int kind,
                      int min_word, float *p);
// Decoding with bf16 weights: on = 1 makes bf16 copies of the matrices a decode step
// streams (attention, feed-forward and expert matrices, the vocabulary head; text/lm.h)
// and ds_infer_step and ds_infer_logits read them from then on: half the bytes per
// decoded token, logits within ~1e-2 of the f32 ones relative to their scale. The
// prefill keeps the f32 weights (it is compute bound, and sgemm is faster there).
// on = 0 drops the copies (back to f32). The copies are a snapshot of m's weights:
// call again after they change (training, ds_lora_merge); an attached LoRA adapter
// is applied in f32 on top either way. Not thread-safe against running decodes.
// Returns 0 or DS_E_NOMEM (the model then decodes in f32).
int ds_infer_set_bf16(ds_model *m, int on);
// Releases the cache blocks and the keys.
void ds_gen_state_release(ds_kv_cache *cache, ds_gen_state *st);

#endif
