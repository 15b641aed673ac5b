// model.h: the whole multimodal model: the ViT encoder (vision/), the fusion
// of its features into the language model's input (projector prefix, box
// embeddings, ROI features), the MoE language model (text/lm.h) and the
// output heads: vocabulary logits, word-span pointers and the optional
// pointer-generator gate. Parameters live in one float buffer described by a
// table (core/params.h); gradients mirror it. A batch packs several
// sequences (ds_seq, built from documents by fusion/sequence.h) end to end.
// Plain structs: the trainer, tests and benchmarks read the fields.
#ifndef DS_MODEL_H
#define DS_MODEL_H

#include "core/arena.h"
#include "core/params.h"
#include "core/rng.h"
#include "core/safetensors.h"
#include "fusion/config.h"
#include "kernels/ops.h"
#include "text/lm.h"
#include "text/tokenizer.h"
#include "vision/vit.h"

#define DS_BOX_BINS 1024 // box coordinates are quantised to 0..1023 of the page

// Fusion (d), the glyph strip: the ink of the encoder image sampled on a grid
// over a word's box and a margin of twice its height on either side, so a
// check box drawn beside a label reaches the label's tokens at the image's
// full resolution (a 9 pt box is a few pixels, far below one ViT patch).
#define DS_GLYPH_ROWS        6
#define DS_GLYPH_MARGIN_COLS 8 // each side
#define DS_GLYPH_WORD_COLS   16
#define DS_GLYPH_COLS        (2 * DS_GLYPH_MARGIN_COLS + DS_GLYPH_WORD_COLS)
#define DS_GLYPH_DIM         (DS_GLYPH_ROWS * DS_GLYPH_COLS)

typedef struct {
    float *proj1_w, *proj1_b; // (C, 4 D), (C): 2x2-merged patches -> LM width
    float *proj2_w, *proj2_b; // (C, C), (C)
    float *box;               // (4 * DS_BOX_BINS, C): x0, y0, x1, y1 tables stacked
    float *page;              // (max_pages, C)
    float *roi_w, *roi_b;     // (C, D), (C): pooled patch feature -> LM width
    float *glyph_w, *glyph_b; // (C, DS_GLYPH_DIM), (C): glyph strip -> LM width
} ds_fusion_weights;

typedef struct {
    float *ptr_q_start, *ptr_q_end, *ptr_k; // (C, C) each
    float *pg_q, *pg_k;                     // (C, C) each
    float *pg_gate;                         // (C + 1): weights, then the bias
} ds_head_weights;

typedef struct {
    ds_vit_weights vit;
    ds_fusion_weights fu;
    ds_lm_weights lm;
    ds_head_weights hd;
} ds_weights;

typedef struct ds_model {
    ds_model_cfg cfg;
    ds_tokenizer *tok; // owned; NULL for models made without one (tests)
    ds_param_table table;
    float *params;        // (table.total) one allocation, or the file mapping (read-only)
    float *router_bias;   // (n_layers, E) routing selection bias; not trained by gradients
    ds_weights w;         // pointers into params
    ds_safetensors *file; // the mapping params point into, or NULL when owned
    int params_owned;
    char *training;       // how it was trained (JSON text, metadata "training"), or NULL; owned
    ds_lm_bf16 *dec_bf16; // bf16 copies the decode step reads (ds_infer_set_bf16), or NULL; owned
    const struct ds_lora *lora;  // the adapter attached (fusion/lora.h), or NULL; borrowed
    const struct ds_model *host; // a view's model in host memory (ds_model_view_new), or NULL
} ds_model;

// Token roles, for the heads.
enum {
    DS_ROLE_NONE = 0,   // prefix: task, image, document
    DS_ROLE_ANSWER = 1, // answer structure (type, markers, generated enum values)
    DS_ROLE_VALUE0 = 2, // first token of a generated value (copy mask / pointer-gen apply)
    DS_ROLE_VALUE = 3,  // later tokens of a generated value
};

// One tokenised sequence: [bos][task]{[page][img]*n [document tokens]}... [ans] answer [eos].
// Every array has n entries unless noted. Owned by whoever built it (ds_seq_free).
typedef struct {
    int n, n_prefix;
    int32_t *ids;
    int32_t *box;        // (n, 4) quantised 0..1023; box[0] = -1 when the token has no box
    int32_t *page;       // page of the box (0..max_pages-1)
    int32_t *roi;        // (n, 5): page, x0, y0, x1, y1 of the word's box in encoder pixels
                         // (ends exclusive); page -1: none
    int32_t *img;        // image-token index within the sequence (page * n_img + j), -1: none
    int32_t *target;     // vocabulary target at this position (the next token) or -1
    float *target_w;     // its loss weight
    uint8_t *role;       // DS_ROLE_*
    int32_t *ptr_kind;   // 0 none, 1 start-word pointer, 2 end-word pointer
    int32_t *ptr_target; // gold word, or -1
    int32_t *ptr_min;    // end pointers: words before this one are masked
    int n_words;
    int32_t *word_tok;  // (n_words) first token of each document word
    int doc_lo, doc_hi; // document tokens are [doc_lo, doc_hi)
    int n_pages;
    float *pixels; // (n_pages, 3, S, S) or NULL when the config has no vision
} ds_seq;

// Several sequences packed end to end (indices global to the batch).
typedef struct {
    int n_seq, N, P, n_words;
    int32_t *seq_off, *n_prefix, *pos, *ids, *box, *page, *roi, *img, *target, *ptr_kind,
        *ptr_target, *ptr_min, *word_off, *word_tok, *doc_lo, *doc_hi;
    float *target_w;
    uint8_t *role;
    float *pixels; // (P, 3, S, S)
    ds_arena mem;  // owns everything above
} ds_batch;

// Per-step figures returned by ds_model_forward.
typedef struct {
    double loss;     // the optimised total
    double loss_ans; // mean CE of answer vocabulary targets
    double loss_ptr; // mean CE of pointer targets
    double loss_doc; // mean CE of document-token targets (document LM)
    double balance;  // balance loss (weighted)
    int n_ans, n_ptr, n_doc;
    int ptr_correct, ans_correct; // argmax agreements (teacher-forced accuracy)
    const float *load; // (n_layers, E) fraction of assignments per expert, valid until the
                       // arena is reset
} ds_step_stats;

// Everything the forward keeps for the backward.
typedef struct ds_fwd ds_fwd;

// ---- life cycle
// A model with freshly initialised parameters (seeded normal(0, init_std), norms 1,
// biases 0, output projections scaled by 1/sqrt(2 n_layers)). tok may be NULL (then
// cfg->vocab is used as is) or is owned by the model afterwards, and cfg->vocab must
// equal its size. Returns 0 or a DS_E* code.
int ds_model_init(const ds_model_cfg *cfg, ds_tokenizer *tok, uint64_t seed, ds_model **out);
void ds_model_free(ds_model *m);
// Saves parameters, router bias, config and tokenizer (atomic write).
int ds_model_save(const ds_model *m, const char *path);
// Maps a model file; tensors must match the config in its metadata exactly (name, dtype
// F32, shape): the error names the first that does not. Parameters stay in the mapping.
int ds_model_load(const char *path, ds_model **out);
// Copies mapped parameters into owned memory, so the trainer can update them.
int ds_model_make_writable(ds_model *m);
// Parameter counts: all, and those a token uses (dense parts + topk routed + shared experts).
void ds_model_count(const ds_model *m, int64_t *total, int64_t *active);
// A weights struct whose pointers carve base (e.g. a gradient buffer of table.total floats).
void ds_model_point(const ds_model *m, float *base, ds_weights *w);

// ---- a view of the model in a GPU context's memory, for the inference path
// *out = a model whose parameters and routing bias are copies of m's in ctx's memory (one
// allocation each), whose host is m, and whose configuration, parameter table and
// tokenizer are m's (borrowed: m must outlive it). The inference path (fusion/infer.h)
// computes with it on ctx; what decoding reads on the host it reads from m. A snapshot:
// make it again after m's parameters change. An adapter attached to m is not carried:
// attach a copy of it in ctx's memory to the view (ds_lora_view_new). 0, or DS_E_NOMEM
// when ctx cannot hold the copy.
int ds_model_view_new(ds_model *m, ds_ctx *ctx, ds_model **out);
// Frees a view made for ctx. NULL is a no-op.
void ds_model_view_free(ds_model *view, ds_ctx *ctx);
// The model whose weights are in host memory: m's host for a view, else m.
static inline const ds_model *ds_model_host(const ds_model *m) {
    return m->host ? m->host : m;
}

// ---- batches
int ds_batch_pack(const ds_model_cfg *cfg, ds_seq *const *seqs, int n, ds_batch *b);
void ds_batch_free(ds_batch *b);
void ds_seq_free(ds_seq *s);
// Allocates a sequence of n tokens with every array set to "none"; 0 or DS_E_NOMEM.
int ds_seq_alloc(ds_seq *s, int n, int n_words, int n_pages, int img_size);
// A random sequence of n_pages pages of n_words words (1-2 tokens each) and a short
// answer with every kind of target, for tests and benchmarks (fusion/random-seq.c).
int ds_seq_random(const ds_model_cfg *c, ds_rng *r, int n_pages, int n_words, ds_seq *s);

// ---- training step
// Forward over a batch; activations from arena (reset by the caller between steps).
// Fills *fwd (arena memory) and *st. Returns 0, DS_E_NOMEM (arena limit) or DS_E_INVAL.
int ds_model_forward(ds_model *m, ds_ctx *ctx, const ds_batch *b, ds_arena *arena, ds_fwd **fwd,
                     ds_step_stats *st);
// Backward of the last forward; gradients accumulate into grads.
int ds_model_backward(ds_model *m, ds_ctx *ctx, const ds_batch *b, ds_fwd *fwd, ds_weights *grads,
                      ds_arena *arena);

#endif
