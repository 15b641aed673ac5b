// batch.c: sequences and their packing into one batch. A sequence is built
// per document (fusion/sequence.c, or by hand in tests); packing concatenates
// them and turns sequence-local indices (pages, image tokens, words) into
// batch-global ones. Inputs are checked here, once, so the kernels never see
// an id outside the vocabulary or a page beyond the config.
#include "fusion/model.h"

#include "core/error.h"

#include <stdlib.h>
#include <string.h>

int ds_seq_alloc(ds_seq *s, int n, int n_words, int n_pages, int img_size) {
    memset(s, 0, sizeof *s);
    s->n = n;
    s->n_words = n_words;
    s->n_pages = n_pages;
    s->ids = calloc((size_t)n, sizeof(int32_t));
    s->box = malloc(sizeof(int32_t) * 4 * (size_t)n);
    s->page = calloc((size_t)n, sizeof(int32_t));
    s->roi = malloc(sizeof(int32_t) * 5 * (size_t)n);
    s->img = malloc(sizeof(int32_t) * (size_t)n);
    s->target = malloc(sizeof(int32_t) * (size_t)n);
    s->target_w = calloc((size_t)n, sizeof(float));
    s->role = calloc((size_t)n, 1);
    s->ptr_kind = calloc((size_t)n, sizeof(int32_t));
    s->ptr_target = malloc(sizeof(int32_t) * (size_t)n);
    s->ptr_min = calloc((size_t)n, sizeof(int32_t));
    s->word_tok = calloc((size_t)n_words + 1, sizeof(int32_t));
    if (n_pages > 0 && img_size > 0)
        s->pixels = calloc((size_t)n_pages * 3 * img_size * img_size, sizeof(float));
    if (!s->ids || !s->box || !s->page || !s->roi || !s->img || !s->target || !s->target_w ||
        !s->role || !s->ptr_kind || !s->ptr_target || !s->ptr_min || !s->word_tok ||
        (n_pages > 0 && img_size > 0 && !s->pixels)) {
        ds_seq_free(s);
        return ds_error(DS_E_NOMEM, "sequence: out of memory for %d tokens", n);
    }
    for (int i = 0; i < n; i++) {
        s->img[i] = s->target[i] = s->ptr_target[i] = -1;
        for (int j = 0; j < 4; j++) s->box[4 * i + j] = -1;
        for (int j = 0; j < 5; j++) s->roi[5 * i + j] = -1;
    }
    return 0;
}

void ds_seq_free(ds_seq *s) {
    if (!s) return;
    free(s->ids);
    free(s->box);
    free(s->page);
    free(s->roi);
    free(s->img);
    free(s->target);
    free(s->target_w);
    free(s->role);
    free(s->ptr_kind);
    free(s->ptr_target);
    free(s->ptr_min);
    free(s->word_tok);
    free(s->pixels);
    memset(s, 0, sizeof *s);
}

#define ALLOC(ptr, n)                                                                              \
    do {                                                                                           \
        (ptr) = ds_arena_alloc(&b->mem, sizeof(*(ptr)) * ((size_t)(n) + 1));                       \
        if (!(ptr)) {                                                                              \
            ds_batch_free(b);                                                                      \
            return ds_error(DS_E_NOMEM, "batch: out of memory");                                   \
        }                                                                                          \
    } while (0)

int ds_batch_pack(const ds_model_cfg *cfg, ds_seq *const *seqs, int n, ds_batch *b) {
    memset(b, 0, sizeof *b);
    int n_img = ds_cfg_img_tokens(cfg), S = cfg->img_size, vision = ds_cfg_use_vision(cfg);
    int N = 0, P = 0, W = 0;
    for (int i = 0; i < n; i++) {
        const ds_seq *s = seqs[i];
        if (s->n > cfg->max_seq)
            return ds_error(DS_E_TOO_LARGE, "batch: sequence %d has %d tokens, max_seq is %d", i,
                            s->n, cfg->max_seq);
        if (s->n_pages > cfg->max_pages)
            return ds_error(DS_E_TOO_LARGE, "batch: sequence %d has %d pages, max_pages is %d", i,
                            s->n_pages, cfg->max_pages);
        for (int t = 0; t < s->n; t++) {
            if (s->ids[t] < 0 || s->ids[t] >= cfg->vocab || s->target[t] >= cfg->vocab)
                return ds_error(DS_E_INVAL,
                                "batch: sequence %d token %d: id %d / target %d "
                                "outside the vocabulary (%d)",
                                i, t, s->ids[t], s->target[t], cfg->vocab);
            if (s->img[t] >= s->n_pages * n_img || s->roi[5 * t] >= s->n_pages || s->page[t] < 0 ||
                s->page[t] >= cfg->max_pages)
                return ds_error(DS_E_INVAL,
                                "batch: sequence %d token %d: page or image index "
                                "out of range",
                                i, t);
            if (s->ptr_kind[t] && (s->ptr_target[t] >= s->n_words || s->ptr_min[t] < 0 ||
                                   s->ptr_min[t] >= s->n_words))
                return ds_error(DS_E_INVAL,
                                "batch: sequence %d token %d: pointer outside the "
                                "%d words",
                                i, t, s->n_words);
        }
        if ((s->img[0] >= 0 || vision) && s->n_pages > 0 && !s->pixels && vision)
            return ds_error(DS_E_INVAL, "batch: sequence %d has pages but no pixels", i);
        N += s->n;
        P += vision ? s->n_pages : 0;
        W += s->n_words;
    }
    ds_arena_init(&b->mem, 0, 0);
    b->n_seq = n;
    b->N = N;
    b->P = P;
    b->n_words = W;
    ALLOC(b->seq_off, n + 1);
    ALLOC(b->n_prefix, n);
    ALLOC(b->word_off, n + 1);
    ALLOC(b->doc_lo, n);
    ALLOC(b->doc_hi, n);
    ALLOC(b->pos, N);
    ALLOC(b->ids, N);
    ALLOC(b->box, 4 * N);
    ALLOC(b->page, N);
    ALLOC(b->roi, 5 * N);
    ALLOC(b->img, N);
    ALLOC(b->target, N);
    ALLOC(b->target_w, N);
    ALLOC(b->role, N);
    ALLOC(b->ptr_kind, N);
    ALLOC(b->ptr_target, N);
    ALLOC(b->ptr_min, N);
    ALLOC(b->word_tok, W);
    if (P > 0) ALLOC(b->pixels, (size_t)P * 3 * S * S);
    int t0 = 0, p0 = 0, w0 = 0;
    for (int i = 0; i < n; i++) {
        const ds_seq *s = seqs[i];
        b->seq_off[i] = t0;
        b->n_prefix[i] = s->n_prefix;
        b->word_off[i] = w0;
        b->doc_lo[i] = t0 + s->doc_lo;
        b->doc_hi[i] = t0 + s->doc_hi;
        memcpy(b->ids + t0, s->ids, sizeof(int32_t) * s->n);
        memcpy(b->box + 4 * t0, s->box, sizeof(int32_t) * 4 * s->n);
        memcpy(b->page + t0, s->page, sizeof(int32_t) * s->n);
        memcpy(b->target + t0, s->target, sizeof(int32_t) * s->n);
        memcpy(b->target_w + t0, s->target_w, sizeof(float) * s->n);
        memcpy(b->role + t0, s->role, s->n);
        memcpy(b->ptr_kind + t0, s->ptr_kind, sizeof(int32_t) * s->n);
        memcpy(b->ptr_target + t0, s->ptr_target, sizeof(int32_t) * s->n);
        memcpy(b->ptr_min + t0, s->ptr_min, sizeof(int32_t) * s->n);
        for (int t = 0; t < s->n; t++) {
            b->pos[t0 + t] = t;
            b->img[t0 + t] = s->img[t] >= 0 && vision ? p0 * n_img + s->img[t] : -1;
            memcpy(b->roi + 5 * (t0 + t), s->roi + 5 * t, sizeof(int32_t) * 5);
            if (s->roi[5 * t] >= 0 && vision)
                b->roi[5 * (t0 + t)] += p0;
            else
                b->roi[5 * (t0 + t)] = -1;
        }
        for (int w = 0; w < s->n_words; w++) b->word_tok[w0 + w] = t0 + s->word_tok[w];
        if (vision && s->n_pages > 0)
            memcpy(b->pixels + (size_t)p0 * 3 * S * S, s->pixels,
                   sizeof(float) * s->n_pages * 3 * S * S);
        t0 += s->n;
        p0 += vision ? s->n_pages : 0;
        w0 += s->n_words;
    }
    b->seq_off[n] = t0;
    b->word_off[n] = w0;
    return 0;
}

void ds_batch_free(ds_batch *b) {
    if (!b) return;
    ds_arena_free(&b->mem);
    memset(b, 0, sizeof *b);
}
