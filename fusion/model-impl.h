// model-impl.h: what the whole-model forward keeps for its backward; private
// to fusion/ (embed.c, heads.c, forward.c).
#ifndef DS_MODEL_IMPL_H
#define DS_MODEL_IMPL_H

#include "fusion/model.h"

struct ds_fwd {
    // vision and fusion
    int has_vit;
    ds_vit_acts vit;
    int n_imgtok;            // P * image tokens per page
    float *merged, *m1, *g1; // (n_imgtok, 4 D), (n_imgtok, C) x2
    float *pre;              // (n_imgtok, C) prefix token inputs
    int n_roi;               // tokens with a box on a page (ROI and glyph features)
    int32_t *roi_tok;        // (n_roi)
    float *pooled;           // (n_roi, D) mean patch feature (fusion c)
    float *glyph;            // (n_roi, DS_GLYPH_DIM) glyph strip (fusion d)
    float *x0;               // (N, C) LM input
    const int32_t *pos;      // (N) RoPE positions (context memory)
    const int32_t *ids;      // (N) token ids (context memory)
    ds_lm_acts lm;
    // vocabulary head
    int M, V;        // positions with a vocabulary target; the vocabulary
    int32_t *rows;   // (M) their token indices (host)
    int32_t *vt;     // (M) their targets (context memory; plain head)
    float *hm;       // (M, C) their hidden states
    float *probs;    // (M, V) softmax of (masked) logits
    uint8_t *masked; // (M) 1 when the copy mask was applied
    float *rw;       // (M) loss weight of each row (normalisation included), host
    // pointer-generator
    int n_doc;           // document tokens in the batch
    int32_t *doc_tok;    // (n_doc)
    int32_t *doc_off;    // (n_seq + 1) into doc_tok
    float *pg_k;         // (n_doc, C) keys
    float *pg_q;         // (M, C) queries
    float *pg_gate;      // (M) gate value g (mixture rows only)
    float *pg_att;       // attention of each mixture row over its sequence's document tokens
    int64_t *pg_att_off; // (M) offset into pg_att, -1 for rows without mixture
    float *pg_p;         // (M) final probability of the target
    // pointers
    int Mp;
    int32_t *prow;   // (Mp) host
    int32_t *ptgt;   // (Mp) gold words (context memory)
    float *hp;       // (Mp, C)
    float *qs, *qe;  // (Mp, C)
    float *q;        // (Mp, C) each row's query: its row of qs or qe
    float *hw, *kw;  // (n_words, C) word hidden states and keys
    float *pp;       // pointer probabilities of each row over its sequence's words
    int64_t *pp_off; // (Mp + 1) host
    float *pw;       // (Mp) loss weight, host
};

void ds_glyph_strip(float *out, const float *pixels, int S, const int32_t *roi);
int ds_embed_forward(ds_model *m, ds_ctx *ctx, const ds_batch *b, ds_fwd *f, ds_arena *arena);
int ds_embed_backward(ds_model *m, ds_ctx *ctx, const ds_batch *b, ds_fwd *f, ds_weights *g,
                      const float *dx0, ds_arena *arena);
int ds_heads_forward(ds_model *m, ds_ctx *ctx, const ds_batch *b, ds_fwd *f, ds_arena *arena,
                     ds_step_stats *st);
int ds_heads_backward(ds_model *m, ds_ctx *ctx, const ds_batch *b, ds_fwd *f, ds_weights *g,
                      float *dh, ds_arena *arena);
// The word-span pointers (pointer-heads.c): forward adds the pointer losses' sum and the
// rows whose first choice is the gold word; backward accumulates into g and dh.
int ds_pointer_forward(ds_model *m, ds_ctx *ctx, const ds_batch *b, ds_fwd *f, float norm_ans,
                       ds_arena *arena, double *sum_ptr, int *ptr_ok);
int ds_pointer_backward(ds_model *m, ds_ctx *ctx, const ds_batch *b, ds_fwd *f, ds_weights *g,
                        float *dh, ds_arena *arena);
// Copy mask (copy path c): allowed[v] = 1 for tokens that may follow `prev` as a value
// token: the continuations of prev's occurrences in the document (every document token
// when prev does not occur there or first is set) and EOV.
void ds_copy_mask(const int32_t *doc, int n_doc, int32_t prev, int first, uint8_t *allowed, int V);

#define DS_ALLOC(ptr, n) DS_ARENA_ALLOC(arena, ptr, n)

#endif
