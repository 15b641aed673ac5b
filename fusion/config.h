// config.h: the model's configuration: every size and switch of the vision
// encoder, the fusion, the MoE language model and the copy path. Stored as
// JSON in the model file's __metadata__ ("config"), written with every key so
// a file documents itself; reading rejects unknown keys (a typo must not
// silently fall back to a default) and checks every constraint.
#ifndef DS_CONFIG_H
#define DS_CONFIG_H

#include <jansson.h>

#include "kernels/ops.h"

// X(type, name, default, lo, hi): the flat list of integer and float settings.
#define DS_CONFIG_INTS(X)                                                                          \
    X(img_size, 512, 16, 4096)      /* encoder input: the letterboxed page side, px */             \
    X(patch, 32, 2, 256)            /* ViT patch side, px */                                       \
    X(vit_dim, 192, 4, 4096)        /* ViT width */                                                \
    X(vit_layers, 4, 1, 64)         /* ViT blocks */                                               \
    X(vit_heads, 3, 1, 64)          /* ViT heads */                                                \
    X(vit_mlp, 768, 4, 16384)       /* ViT MLP width */                                            \
    X(use_prefix, 1, 0, 1)          /* fusion (a): image prefix tokens */                          \
    X(use_box, 1, 0, 1)             /* fusion (b): box embeddings on text tokens */                \
    X(use_roi, 1, 0, 1)             /* fusion (c): ROI-pooled vision feature per token */          \
    X(use_glyph, 0, 0, 1)           /* fusion (d): the ink under and beside each word's box */     \
    X(use_marks, 0, 0, 1)           /* check boxes found in the page image read as words */        \
    X(max_pages, 4, 1, 64)          /* pages the model reads per document */                       \
    X(vocab, 4096, 272, 1 << 20)    /* tokenizer vocabulary */                                     \
    X(dim, 256, 8, 16384)           /* LM width */                                                 \
    X(n_layers, 4, 1, 128)          /* LM layers */                                                \
    X(n_dense_layers, 1, 0, 128)    /* the first n layers have a dense FFN */                      \
    X(n_heads, 8, 1, 256)           /* query heads */                                              \
    X(n_kv_heads, 2, 1, 256)        /* key/value heads (grouped-query attention) */                \
    X(head_dim, 32, 2, 1024)        /* even, for RoPE */                                           \
    X(window, 1024, 0, 1 << 20)     /* sliding window; 0 = full attention */                       \
    X(max_seq, 2048, 16, 1 << 20)   /* tokens per sequence */                                      \
    X(dense_hidden, 512, 1, 65536)  /* SwiGLU width of the dense layers */                         \
    X(n_experts, 16, 1, 1024)       /* routed experts */                                           \
    X(n_groups, 4, 1, 1024)         /* expert groups (divides n_experts) */                        \
    X(topk_groups, 2, 1, 1024)      /* groups kept per token */                                    \
    X(topk, 2, 1, 64)               /* experts per token */                                        \
    X(expert_hidden, 128, 1, 65536) /* SwiGLU width of one expert */                               \
    X(n_shared, 1, 0, 64)           /* shared experts, each expert_hidden wide */                  \
    X(router_sigmoid, 1, 0, 1)      /* 1: sigmoid scores (DeepSeek-V3); 0: softmax */              \
    X(router_normalize, 1, 0, 1)    /* weights of the chosen experts sum to 1 */                   \
    X(copy_pointer, 1, 0, 1)        /* copy path (a): start/end word pointers */                   \
    X(copy_pointer_gen, 0, 0, 1)    /* copy path (b): pointer-generator output */                  \
    X(copy_mask, 0, 0, 1) /* copy path (c): value tokens masked to document continuations */

#define DS_CONFIG_FLOATS(X)                                                                        \
    X(rope_theta, 10000.0f, 1.0f, 1e9f)                                                            \
    X(norm_eps, 1e-5f, 1e-12f, 1e-1f)                                                              \
    X(router_scale, 1.0f, 1e-3f, 1e3f)                                                             \
    X(bias_rate, 1e-3f, 0.0f, 1.0f)       /* router bias nudge per step */                         \
    X(balance_weight, 1e-4f, 0.0f, 10.0f) /* sequence-wise balance loss weight */                  \
    X(doc_lm_weight, 0.1f, 0.0f, 10.0f)   /* LM loss weight on document tokens */                  \
    X(init_std, 0.02f, 1e-6f, 1.0f)

typedef struct {
#define DS_CFG_FIELD(name, def, lo, hi) int name;
    DS_CONFIG_INTS(DS_CFG_FIELD)
#undef DS_CFG_FIELD
#define DS_CFG_FIELD(name, def, lo, hi) float name;
    DS_CONFIG_FLOATS(DS_CFG_FIELD)
#undef DS_CFG_FIELD
} ds_model_cfg;

// The default configuration (DESIGN.md's starting sizes).
void ds_model_cfg_default(ds_model_cfg *cfg);
// Checks ranges and relations (head_dim even, groups divide experts, ...).
// Returns 0 or DS_E_INVAL naming the setting.
int ds_model_cfg_check(const ds_model_cfg *cfg);
// Reads a JSON object over the defaults; unknown keys and wrong types are
// DS_E_INVAL naming the key. Then checks the result.
int ds_model_cfg_from_json(const json_t *j, ds_model_cfg *cfg);
int ds_model_cfg_load(const char *path, ds_model_cfg *cfg);
// Every setting, as a new JSON object (NULL on out-of-memory).
json_t *ds_model_cfg_to_json(const ds_model_cfg *cfg);

// Derived values.
// The model reads page pixels (any of fusions a, c, d)...
static inline int ds_cfg_use_vision(const ds_model_cfg *c) {
    return c->use_prefix || c->use_roi || c->use_glyph;
}
// ...and runs the ViT over them (fusions a, c).
static inline int ds_cfg_use_vit(const ds_model_cfg *c) {
    return c->use_prefix || c->use_roi;
}
static inline int ds_cfg_grid(const ds_model_cfg *c) {
    return c->img_size / c->patch;
}
// Prefix (image) tokens per page: the patch grid merged 2x2.
static inline int ds_cfg_img_tokens(const ds_model_cfg *c) {
    return c->use_prefix ? (ds_cfg_grid(c) / 2) * (ds_cfg_grid(c) / 2) : 0;
}
static inline ds_router_cfg ds_cfg_router(const ds_model_cfg *c) {
    ds_router_cfg r = {c->n_experts,
                       c->n_groups,
                       c->topk_groups,
                       c->topk,
                       c->router_sigmoid ? DS_ROUTER_SIGMOID : DS_ROUTER_SOFTMAX,
                       c->router_normalize,
                       c->router_scale};
    return r;
}

#endif
