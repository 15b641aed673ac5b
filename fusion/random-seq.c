// random-seq.c: random sequences in the model's grammar, for tests and
// benchmarks: every part (image prefix, boxes, ROI boxes, a generated value
// copied from the document under the copy mask and the pointer-generator,
// start/end pointers, document LM targets) appears, with random tokens. Not
// for training: the words mean nothing.
#include "fusion/model.h"

#include <string.h>

int ds_seq_random(const ds_model_cfg *c, ds_rng *r, int n_pages, int n_words, ds_seq *s) {
    int n_img = ds_cfg_img_tokens(c), S = c->img_size;
    int doc_max = n_pages * (1 + n_img + 2 * n_words);
    int n_max = 2 + doc_max + 32;
    int rc = ds_seq_alloc(s, n_max, n_pages * n_words, n_pages, ds_cfg_use_vision(c) ? S : 0);
    if (rc) return rc;
    if (s->pixels) ds_rng_fill_uniform(r, s->pixels, (int64_t)n_pages * 3 * S * S, -1.0f, 1.0f);
    int t = 0, w = 0, V = c->vocab, first = DS_TOK_BYTE0;
    s->ids[t++] = DS_TOK_BOS;
    s->ids[t++] = DS_TOK_TASK_EXTRACT;
    s->doc_lo = t;
    for (int p = 0; p < n_pages; p++) {
        s->ids[t++] = DS_TOK_PAGE;
        for (int j = 0; j < n_img; j++) {
            s->img[t] = p * n_img + j;
            s->ids[t++] = DS_TOK_IMG;
        }
        for (int k = 0; k < n_words; k++, w++) {
            int x0 = (int)ds_rng_below(r, 900), y0 = (int)ds_rng_below(r, 900);
            int x1 = x0 + 1 + (int)ds_rng_below(r, 120), y1 = y0 + 1 + (int)ds_rng_below(r, 60);
            int ex0 = x0 * S / 1024, ey0 = y0 * S / 1024; // encoder pixels
            int ex1 = 1 + (x1 < 1024 ? x1 : 1023) * S / 1024, ey1 = 1 + y1 * S / 1024;
            s->word_tok[w] = t;
            int ntok = 1 + (int)ds_rng_below(r, 2);
            for (int j = 0; j < ntok; j++) {
                s->ids[t] = first + (int)ds_rng_below(r, (uint64_t)(V - first));
                int32_t bx[4] = {x0, y0, x1 < 1024 ? x1 : 1023, y1};
                memcpy(s->box + 4 * t, bx, sizeof bx);
                s->page[t] = p;
                int32_t roi[5] = {p, ex0, ey0, ex1 > S ? S : ex1, ey1 > S ? S : ey1};
                memcpy(s->roi + 5 * t, roi, sizeof roi);
                t++;
            }
        }
    }
    s->doc_hi = t;
    // document LM targets: next document token
    for (int i = s->doc_lo; i + 1 < s->doc_hi; i++)
        if (s->ids[i] != DS_TOK_IMG && s->ids[i + 1] >= DS_TOK_BYTE0) {
            s->target[i] = s->ids[i + 1];
            s->target_w[i] = c->doc_lm_weight;
        }
    s->ids[t++] = DS_TOK_ANS;
    s->n_prefix = t;
    // answer: [field] name-ish token, then a generated value copied from the document
    // (three consecutive document tokens), [eov]; then two span values by pointer.
    int a0 = t;
    s->ids[t++] = DS_TOK_FIELD;
    s->ids[t++] = first + 5;
    int src = s->word_tok[(int)ds_rng_below(r, (uint64_t)(w > 1 ? w - 1 : 1))];
    for (int j = 0; j < 3 && src + j < s->doc_hi; j++) {
        s->role[t] = j == 0 ? DS_ROLE_VALUE0 : DS_ROLE_VALUE;
        s->ids[t++] = s->ids[src + j];
    }
    s->ids[t++] = DS_TOK_EOV;
    for (int k = 0; k < 2; k++) {
        s->ids[t++] = DS_TOK_FIELD;
        s->ids[t++] = first + 7 + k;
        int ws = (int)ds_rng_below(r, (uint64_t)w);
        int we = ws + (int)ds_rng_below(r, (uint64_t)(w - ws));
        s->ptr_kind[t] = 1;
        s->ptr_target[t] = ws;
        s->ids[t++] = DS_TOK_COPY;
        s->ptr_kind[t] = 2;
        s->ptr_target[t] = we;
        s->ptr_min[t] = ws;
        memcpy(s->box + 4 * t, s->box + 4 * s->word_tok[ws], sizeof(int32_t) * 4);
        s->page[t] = s->page[s->word_tok[ws]];
        s->ids[t++] = DS_TOK_COPY_END;
    }
    s->ids[t++] = DS_TOK_EOS;
    // answer targets: the next token, from [ans] on; the value tokens' roles are on the
    // position that predicts them (the one before).
    for (int i = s->n_prefix - 1; i + 1 < t; i++) {
        int nx = s->ids[i + 1];
        if (nx == DS_TOK_COPY_END || (i >= a0 && s->ids[i] == DS_TOK_FIELD))
            continue; // forced by the schema / the pointer protocol: no loss
        s->target[i] = nx;
        s->target_w[i] = 1.0f;
    }
    // roles belong to predicting positions: shift them one back
    for (int i = s->n_prefix - 1; i + 1 < t; i++) {
        uint8_t nr = s->role[i + 1];
        s->role[i] = nr ? nr : DS_ROLE_ANSWER;
    }
    s->role[t - 1] = DS_ROLE_ANSWER;
    s->n = t;
    return 0;
}
