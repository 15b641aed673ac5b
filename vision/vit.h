// vit.h: the vision encoder, a ViT (Dosovitskiy et al. 2021) over the
// letterboxed page image: patch embedding as a GEMM over im2col'd patches
// (the strided convolution), learned 2-D position embeddings (one per grid
// cell), pre-norm blocks (LayerNorm, bidirectional attention, GELU MLP) and a
// final LayerNorm. Output: one feature per patch, (P, G*G, D) for P pages.
// Forward keeps what backward needs in an arena the caller owns; backward
// accumulates parameter gradients (ops.h convention). Plain structs.
#ifndef DS_VIT_H
#define DS_VIT_H

#include "core/arena.h"
#include "core/params.h"
#include "core/rng.h"
#include "fusion/config.h"
#include "kernels/ops.h"

#define DS_VIT_MAX_LAYERS 64

typedef struct {
    float *ln1_w, *ln1_b;   // (D)
    float *qkv_w, *qkv_b;   // (3D, D), (3D)
    float *proj_w, *proj_b; // (D, D), (D)
    float *ln2_w, *ln2_b;   // (D)
    float *fc1_w, *fc1_b;   // (M, D), (M)
    float *fc2_w, *fc2_b;   // (D, M), (D)
} ds_vit_block;

typedef struct {
    float *patch_w, *patch_b; // (D, 3*p*p), (D)
    float *pos;               // (G*G, D)
    ds_vit_block blocks[DS_VIT_MAX_LAYERS];
    float *lnf_w, *lnf_b; // (D)
} ds_vit_weights;

// Saved activations of one forward over P images; T = G*G patches each.
typedef struct {
    int P, T;
    float *patches; // (P*T, 3*p*p)
    struct {
        float *x;                   // (P*T, D) block input
        float *ln1, *mean1, *rstd1; // (P*T, D), (P*T)
        float *q, *k, *v;           // (P, T, H, hd)
        float *att;                 // (P, H, T, T)
        float *ao;                  // (P*T, D) attention output before the projection
        float *x2;                  // (P*T, D) after the attention residual
        float *ln2, *mean2, *rstd2;
        float *f1, *g; // (P*T, M) MLP pre- and post-GELU
    } l[DS_VIT_MAX_LAYERS];
    float *xf;            // (P*T, D) last residual
    float *meanf, *rstdf; // (P*T)
    float *out;           // (P*T, D) features
} ds_vit_acts;

// Lays out the encoder's tensors ("vision.*") in a parameter walk.
void ds_vit_layout(const ds_model_cfg *cfg, ds_vit_weights *w, ds_carver *c);
// Encodes P images pixels (P, 3, S, S; host memory) on the context; activations in the
// arena's memory. Returns 0, or DS_E_NOMEM when the arena is full.
int ds_vit_forward(ds_ctx *ctx, const ds_model_cfg *cfg, const ds_vit_weights *w,
                   const float *pixels, int P, ds_vit_acts *a, ds_arena *arena);
// dout (P*T, D) is the gradient of the features; it is used as scratch (clobbered).
// Gradients accumulate into g.
int ds_vit_backward(ds_ctx *ctx, const ds_model_cfg *cfg, const ds_vit_weights *w,
                    ds_vit_weights *g, const ds_vit_acts *a, float *dout, ds_arena *arena);

#endif
