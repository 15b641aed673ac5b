// lm.h: the decoder-only Mixture-of-Experts language model (DeepSeek style):
// pre-norm RMSNorm, RoPE, grouped-query attention with a sliding window,
// SwiGLU feed-forward; the first n_dense_layers dense, the rest MoE with
// group-limited top-k routed experts plus shared experts, and a per-expert
// selection bias for auxiliary-loss-free balancing (DeepSeek-V3,
// arXiv:2412.19437 section 2.1.2) plus the sequence-wise balance loss.
// Sequences are packed: N tokens of several sequences in one batch; every op
// but attention runs on all N rows at once, attention per sequence with its
// own prefix (bidirectional) length. Token embedding and output head live
// here too; what feeds the first layer (fusion) and what reads the last
// (heads) is fusion/'s business. Plain structs; forward saves activations in
// the caller's arena, backward accumulates gradients.
#ifndef DS_LM_H
#define DS_LM_H

#include "core/arena.h"
#include "core/params.h"
#include "fusion/config.h"
#include "kernels/ops.h"

#define DS_LM_MAX_LAYERS 128

typedef struct {
    float *attn_norm; // (C)
    float *qkv;       // ((nh + 2 nkv) hd, C)
    float *o;         // (C, nh hd)
    float *ffn_norm;  // (C)
    // dense layers
    float *w13; // (2 H, C) gate and up, fused
    float *w2;  // (C, H)
    // MoE layers
    float *router;     // (E, C)
    float *exp_w13;    // (E, 2 He, C)
    float *exp_w2;     // (E, C, He)
    float *shared_w13; // (2 S He, C)
    float *shared_w2;  // (C, S He)
    // LoRA adapter (Hu et al. 2021) on the attention projections, or NULL:
    // W x + scale * B (A x), A (r, in), B (out, r); see fusion/lora.h
    float *lora_qkv_a, *lora_qkv_b; // (r, C), ((nh + 2 nkv) hd, r)
    float *lora_o_a, *lora_o_b;     // (r, nh hd), (C, r)
    // ... and, with the adapter's experts option, on the feed-forward: a dense
    // layer's w13 / w2 or a MoE layer's shared experts (w13 / w2 below), and each
    // routed expert its own (exp13 / exp2, one A and B per expert)
    float *lora_w13_a, *lora_w13_b;     // (r, C), (2 H or 2 S He, r)
    float *lora_w2_a, *lora_w2_b;       // (r, H or S He), (C, r)
    float *lora_exp13_a, *lora_exp13_b; // (E, r, C), (E, 2 He, r)
    float *lora_exp2_a, *lora_exp2_b;   // (E, r, He), (E, C, r)
    int lora_ffn_rank;                  // the adapter's rank and scale, for the FFN code
    float lora_ffn_scale;
} ds_lm_layer;

typedef struct {
    float *tok_emb; // (V, C)
    ds_lm_layer layers[DS_LM_MAX_LAYERS];
    float *norm;      // (C)
    float *head;      // (V, C)
    int lora_rank;    // 0: no adapter
    float lora_scale; // alpha / rank
    // How the stack trains, not part of the model: 1 = activation recomputation (gradient
    // checkpointing, Chen et al. 2016) per layer: the forward keeps only each layer's
    // input and the backward runs the layer forward again before its backward, so a
    // step holds one layer's activations instead of all of them, for one more forward.
    // The recomputed activations equal the first ones bit for bit (the ops are
    // deterministic), and so do the gradients.
    int recompute;
} ds_lm_weights;

// bf16 copies of the matrices a decode step streams (text/lm-bf16.c), made for
// inference from the f32 weights, which stay the truth: the same shapes as the
// ds_lm_layer fields of the same name, NULL where the layer has none. The router
// stays f32: it is 0.4% of the bytes, and its scores pick the experts, a discrete
// choice a rounded score would flip when two experts are close.
typedef struct {
    uint16_t *qkv, *o;                                   // attention
    uint16_t *w13, *w2;                                  // dense layers
    uint16_t *exp_w13, *exp_w2, *shared_w13, *shared_w2; // MoE layers
} ds_lm_layer_bf16;

typedef struct {
    ds_lm_layer_bf16 layers[DS_LM_MAX_LAYERS];
    uint16_t *head; // (V, C)
    uint16_t *mem;  // the one allocation the pointers carve
    size_t bytes;   // its size
} ds_lm_bf16;

// Where the sequences of a packed batch are. seq_off and n_prefix are read on the
// host; pos is read by the RoPE op, so it lives in the context's memory.
typedef struct {
    int n_seq;
    const int32_t *seq_off;  // (n_seq + 1) first token of each sequence; seq_off[n_seq] = N
    const int32_t *n_prefix; // (n_seq) bidirectional prefix length of each
    const int32_t *pos;      // (N) RoPE position of each token (context memory)
} ds_seq_layout;

typedef struct {
    float *x;                    // (N, C) layer input
    float *ln1, *rstd1;          // (N, C), (N)
    float *q, *k, *v;            // (N, nh hd), (N, nkv hd), (N, nkv hd); q and k rotated
    float *att;                  // per sequence (nh, T_b, T_b), concatenated
    float *ao;                   // (N, nh hd)
    float *x2;                   // (N, C) after the attention residual
    float *ln2, *rstd2;          // (N, C), (N)
    float *h13, *hact;           // dense: (N, 2H), (N, H)
    float *logits, *scores, *ew; // MoE: (N, E), (N, E), (N, k)
    int32_t *eidx, *offsets;     // (N, k), (E + 1)
    // Host copies of what host code reads: the offsets (load, per-expert LoRA), and, made
    // by ds_lm_forward when the balance loss has a weight, the scores and choices it reads
    // (else NULL). On the CPU backend they are copies too: both backends run one code.
    int32_t *offsets_h, *eidx_h;       // (E + 1), (N, k)
    float *scores_h;                   // (N, E)
    int32_t *row_of, *token_of;        // (N, k), (N k)
    float *xp, *hp, *ap, *yp;          // (N k, C), (N k, 2 He), (N k, He), (N k, C)
    float *hs, *as;                    // shared: (N, 2 S He), (N, S He)
    float *lora_qkv_mid, *lora_o_mid;  // LoRA: A x of each projection, (N, r)
    float *lora_f13_mid, *lora_f2_mid; // ... of the dense / shared FFN, (N, r)
    float *lora_e13_mid, *lora_e2_mid; // ... of the routed experts, (N k, r) in expert order
} ds_lm_layer_acts;

// Activations live in the arena's memory (the context's); att_off and load in host
// memory (ds_arena_host).
typedef struct {
    int N;
    int64_t *att_off; // (n_seq) offset of each sequence's att block
    ds_lm_layer_acts l[DS_LM_MAX_LAYERS];
    float *xf;    // (N, C) last residual
    float *rstdf; // (N)
    float *out;   // (N, C) normalised final hidden states
    // Statistics of the step: fraction of routed assignments per expert (n_layers, E)
    // (rows of dense layers are 0) and the balance loss (weighted, summed over layers).
    float *load;
    double balance_loss;
    int recompute;     // l[] holds only each layer's input x (weights' recompute at the forward)
    const float *bias; // the routing bias the forward chose experts with (recomputation)
} ds_lm_acts;

void ds_lm_layout(const ds_model_cfg *cfg, ds_lm_weights *w, ds_carver *c);
static inline int ds_lm_is_moe(const ds_model_cfg *cfg, int layer) {
    return layer >= cfg->n_dense_layers;
}

// Runs the layers over x0 (N, C) (which is read, not kept). bias (n_layers, E) is the
// routing selection bias (NULL: none). Returns 0 or DS_E_NOMEM (arena full).
int ds_lm_forward(ds_ctx *ctx, const ds_model_cfg *cfg, const ds_lm_weights *w, const float *bias,
                  const float *x0, const ds_seq_layout *lay, ds_lm_acts *a, ds_arena *arena);
// dout (N, C): gradient of a->out. Accumulates parameter gradients into g and the
// input's gradient into dx0 (N, C). Adds the balance loss gradient.
int ds_lm_backward(ds_ctx *ctx, const ds_model_cfg *cfg, const ds_lm_weights *w, ds_lm_weights *g,
                   const ds_seq_layout *lay, const ds_lm_acts *a, const float *dout, float *dx0,
                   ds_arena *arena);

// ---- LoRA: out (N, Nout) += scale * (inp (N, K) A^T) B^T; mid (N, r) keeps inp A^T for
// the backward; tmp (N, Nout) is scratch. Backward accumulates dA, dB (NULL: skipped)
// and dinp; dtmp (N, Nout) is scratch.
void ds_lora_forward(ds_ctx *ctx, float *out, float *mid, float *tmp, const float *inp,
                     const float *A, const float *B, int N, int K, int Nout, int r, float scale);
void ds_lora_backward(ds_ctx *ctx, float *dinp, float *dA, float *dB, float *dmid, float *dtmp,
                      const float *dout, const float *inp, const float *mid, const float *A,
                      const float *B, int N, int K, int Nout, int r, float scale);

// ---- bf16 decode weights
// Rounds the matrices of w a decode step streams to bf16 (nearest even) into *out, one
// allocation owned by the caller (ds_lm_bf16_free). A snapshot: stale once w changes.
// Returns 0 or DS_E_NOMEM.
int ds_lm_bf16_new(const ds_model_cfg *cfg, const ds_lm_weights *w, ds_lm_bf16 **out);
void ds_lm_bf16_free(ds_lm_bf16 *b); // NULL is a no-op
// out (N, Nout) = inp (N, K) W^T with W's bf16 copy wb when it is not NULL, else W (f32).
void ds_lm_linear(ds_ctx *ctx, float *out, const float *inp, const float *W, const uint16_t *wb,
                  int N, int K, int Nout);

// ---- feed-forward blocks, shared with the inference path (text/infer.c)
// y (N, C) = FFN of layer l on inp (N, C); fills the FFN fields of la (arena memory).
int ds_lm_ffn_forward(ds_ctx *ctx, const ds_model_cfg *cfg, const ds_lm_layer *w, int layer,
                      const float *bias, const float *inp, float *y, int N, ds_lm_layer_acts *la,
                      ds_arena *arena);
// The same, reading the bf16 copies wb of the layer's weights where wb is not NULL
// (decoding); ds_lm_ffn_forward is this with wb NULL.
int ds_lm_ffn_forward_bf16(ds_ctx *ctx, const ds_model_cfg *cfg, const ds_lm_layer *w,
                           const ds_lm_layer_bf16 *wb, int layer, const float *bias,
                           const float *inp, float *y, int N, ds_lm_layer_acts *la,
                           ds_arena *arena);
// dinp (N, C) += d FFN / d inp; parameter gradients into g. With lay (not NULL) and a
// balance weight, the balance loss gradient joins the router's.
int ds_lm_ffn_backward(ds_ctx *ctx, const ds_model_cfg *cfg, const ds_lm_layer *w, ds_lm_layer *g,
                       int layer, const float *inp, const float *dy, float *dinp, int N,
                       const ds_lm_layer_acts *la, const ds_seq_layout *lay, ds_arena *arena);

// Sequence-wise balance loss of one MoE layer (DeepSeek-V3 eq. 17-20):
// per sequence, sum_i f_i P_i with f_i = E/(k T) * (assignments to i), P_i the
// mean over tokens of the normalised scores; averaged over sequences, times
// weight. When dlogits is not NULL its gradient is accumulated there.
double ds_moe_balance_loss(const ds_model_cfg *cfg, const ds_seq_layout *lay, int N,
                           const float *scores, const int32_t *eidx, float weight, float *dlogits);

// Auxiliary-loss-free balancing: bias_i += rate * sign(mean load - load_i) for every
// MoE layer, from load (n_layers, E) as returned in ds_lm_acts.
void ds_moe_bias_update(const ds_model_cfg *cfg, float *bias, const float *load);

#endif
