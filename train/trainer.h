// trainer.h: one optimisation step of the whole model: zero the gradients,
// forward, backward, clip the global norm, AdamW over the one parameter
// buffer, then nudge the routers' selection bias from the step's expert load
// (auxiliary-loss-free balancing). The schedule (warm-up, cosine), data
// loading, checkpoints and LoRA are the training loop's business (issue 6);
// this is the step they all share. Opaque handle.
#ifndef DS_TRAINER_H
#define DS_TRAINER_H

#include "fusion/lora.h"
#include "fusion/model.h"

#include <jansson.h>

typedef struct ds_trainer ds_trainer;

typedef struct {
    float beta1, beta2, eps, weight_decay;
    float clip;         // global gradient norm limit; 0 = none
    size_t arena_limit; // activation bytes per step; 0 = unlimited
    size_t arena_chunk; // the activation arena's first chunk (default 64 MiB)
    int recompute;      // 1: activation recomputation per LM layer (ds_lm_weights.recompute)
} ds_trainer_opts;

void ds_trainer_opts_default(ds_trainer_opts *o);
// The device a model with config cfg trains on when the user asked for device: "cpu"
// for "auto" when the model has heads that train on the host only (the copy mask, the
// pointer-generator), device otherwise. A GPU named for such a model is refused by
// ds_trainer_new, with the reason.
const char *ds_trainer_device(const ds_model_cfg *cfg, const char *device);
// The model must own its parameters (ds_model_make_writable). Returns 0 or DS_E_NOMEM.
int ds_trainer_new(ds_model *m, ds_ctx *ctx, const ds_trainer_opts *o, ds_trainer **out);
// A trainer of adapter l only: the base model is frozen (its parameters may stay
// mapped from the file) and l is attached to it. Its checkpoints hold the adapter.
int ds_trainer_new_lora(ds_model *m, ds_ctx *ctx, const ds_trainer_opts *o, ds_lora *l,
                        ds_trainer **out);
void ds_trainer_free(ds_trainer *t);
// One step on batch b at learning rate lr. st gets the losses, the expert load and
// grad_norm (before clipping). Returns 0 or a DS_E* code (the parameters are then unchanged).
int ds_trainer_step(ds_trainer *t, const ds_batch *b, float lr, ds_step_stats *st,
                    double *grad_norm);
int ds_trainer_steps_done(const ds_trainer *t);
// The most activation memory a step has held so far (bytes of the context's memory).
size_t ds_trainer_arena_peak(const ds_trainer *t);
// Brings the model's host parameters (under LoRA the adapter's) up to date with a GPU
// trainer's (before evaluating or saving on the host); nothing to do on the CPU. Returns 0.
int ds_trainer_sync(ds_trainer *t);

// Checkpoints: the model (parameters, router bias, config, tokenizer) or under LoRA
// the adapter (and its rank and alpha, with the base's config), both AdamW moments
// and the step count in one safetensors file, written atomically; meta
// (a JSON object, may be NULL) goes into its metadata as "train". Loading restores
// the same state into a trainer made for the same model config, so training
// continues bit for bit (with the same thread count: row splits set the rounding).
int ds_trainer_save(const ds_trainer *t, const char *path, const json_t *meta);
// *meta (may be NULL) receives the "train" metadata (new reference).
int ds_trainer_load(ds_trainer *t, const char *path, json_t **meta);

#endif
