// lora.h: LoRA adapters (Hu et al. 2021, arXiv:2106.09685) on the language
// model's attention projections (fused QKV and output): W x + (alpha/r) B A x,
// A (r, in) random, B (out, r) zero at the start, so a new adapter changes
// nothing. The base model stays frozen (and mapped from its file); only A and
// B train. An adapter is its own small safetensors file tied to its base by
// the base's config; it is attached at inference or merged into the weights.
// With the experts option, the feed-forward gets adapters too: a dense layer's
// two matrices, a MoE layer's shared experts, and every routed expert its own
// A and B (applied to the rows routed to it).
#ifndef DS_LORA_H
#define DS_LORA_H

#include "fusion/model.h"

typedef struct ds_lora {
    int rank;
    float alpha;
    int experts; // 1: adapters on the feed-forward and every expert too
    ds_param_table table;
    float *params;  // (table.total), owned
    char *training; // how it was trained (JSON text, metadata "training"), or NULL; owned
} ds_lora;

// A new adapter for m: A ~ normal(0, 1/sqrt(in)) (seeded), B = 0; experts: see above.
int ds_lora_new(const ds_model *m, int rank, float alpha, int experts, uint64_t seed,
                ds_lora **out);
void ds_lora_free(ds_lora *l);
// Points w's adapter pointers into base (table.total floats: l's parameters or a
// gradient buffer) and sets rank and scale.
void ds_lora_point(const ds_model *m, const ds_lora *l, float *base, ds_weights *w);
// The model runs with the adapter (borrowed: it must outlive the attachment).
void ds_lora_attach(ds_model *m, const ds_lora *l);
void ds_lora_detach(ds_model *m);
// *out = a copy of l whose parameters are in ctx's memory (one allocation; the table is
// l's, borrowed), to attach to a view of the model on that context (ds_model_view_new).
// A snapshot of l. 0 or DS_E_NOMEM. Free with ds_lora_view_free (NULL is a no-op).
int ds_lora_view_new(const ds_lora *l, ds_ctx *ctx, ds_lora **out);
void ds_lora_view_free(ds_lora *v, ds_ctx *ctx);
// Saves the adapter; metadata: format docseek-lora-1, rank, alpha, targets
// ("attention" or "attention,experts"), the base's config, and l->training when set
// (loaded back into it, so an adapter trained further keeps what made its start).
int ds_lora_save(const ds_lora *l, const ds_model *m, const char *path);
// Loads an adapter for m; refuses one made for another config (DS_E_INVAL) or with
// tensors that do not match (DS_E_SHAPE / DS_E_FORMAT naming the tensor).
int ds_lora_load(const char *path, const ds_model *m, ds_lora **out);
// W += (alpha/r) B A in m's own (writable) weights; the model then runs without it.
int ds_lora_merge(ds_model *m, const ds_lora *l);

#endif
