// sequence.c: document + truth -> ds_seq (see sequence.h for the grammar).
// Values are matched to runs of document words by their text (white space
// collapsed); when several runs match, the one overlapping the truth's box
// wins. A value that matches no run exactly points at the nearest run (the
// same date or amount in another format; text within a fifth of its letters in
// edit distance, e.g. what OCR misspelt); one with no near run is generated
// token by token instead.
#include "fusion/sequence.h"

#include "core/error.h"
#include "samples/normalize.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int ds_seq_encode_value(const ds_model *m, const char *text, int32_t *ids, int cap) {
    size_t n = strlen(text);
    char *buf = malloc(n + 2);
    if (!buf) return ds_error(DS_E_NOMEM, "sequence: out of memory");
    buf[0] = ' ';
    memcpy(buf + 1, text, n + 1);
    int k = ds_tokenizer_encode(m->tok, buf, n + 1, ids, cap);
    free(buf);
    return k;
}

// Tokens the answer of schema sc takes at most (lists full, names as encoded).
static int schema_reserve(const ds_model *m, const ds_schema *sc) {
    int32_t ids[256];
    int k = ds_seq_encode_value(m, sc->doc_type, ids, 256);
    int n = 3 + (k > 0 ? k : 8); // [ans] type [eov] ... [eos]
    for (int f = 0; f < sc->n_fields; f++) {
        const ds_field *fd = &sc->fields[f];
        k = ds_seq_encode_value(m, fd->name, ids, 256);
        n += 1 + (k > 0 ? k : 16);
        if (ds_field_is_multi(fd->type))
            n += 2 * fd->max_items + 1;
        else if (fd->type == DS_FIELD_ENUM || fd->type == DS_FIELD_CHECKBOX)
            n += 8;
        else
            n += 2;
    }
    return n + 16; // generated fallbacks for a few values
}

int ds_seq_answer_reserve(const ds_model *m, const ds_schema_set *schemas) {
    int best = 0;
    for (int s = 0; s < schemas->n; s++) {
        if (!schemas->schemas[s].routed) continue; // read only when named: fusion/decode.c
        int n = schema_reserve(m, &schemas->schemas[s]);
        best = n > best ? n : best;
    }
    return best;
}

typedef struct {
    const ds_word *w;
    int page;
} word_ref;

// ---- matching values to runs of words

void ds_seq_collapse(char *dst, const char *src, size_t cap) {
    size_t n = 0;
    int space = 0;
    for (const char *p = src; *p && n + 1 < cap; p++) {
        if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
            space = n > 0;
            continue;
        }
        if (space && n + 2 < cap) dst[n++] = ' ';
        space = 0;
        dst[n++] = *p;
    }
    dst[n] = '\0';
}

static float overlap(const ds_box *a, const float *b) {
    float ix = fminf(a->x1, b[2]) - fmaxf(a->x0, b[0]);
    float iy = fminf(a->y1, b[3]) - fmaxf(a->y0, b[1]);
    return ix > 0 && iy > 0 ? ix * iy : 0.0f;
}

// One box of the truth ({"page": 1-based, "box": [x0, y0, x1, y1]}): its 0-based page.
static int truth_box(const json_t *b, float tb[4]) {
    json_t *bb = json_object_get(b, "box");
    for (int c = 0; c < 4; c++) tb[c] = (float)json_number_value(json_array_get(bb, c));
    return (int)json_integer_value(json_object_get(b, "page")) - 1;
}

// Overlap of words [i, j] with the truth's boxes (their page): the tie-break.
static float box_score(const word_ref *words, int i, int j, const json_t *boxes) {
    float score = 0;
    size_t k;
    json_t *b;
    json_array_foreach(boxes, k, b) {
        float tb[4];
        int page = truth_box(b, tb);
        for (int q = i; q <= j; q++)
            if (words[q].page == page) score += overlap(&words[q].w->box, tb);
    }
    return score;
}

int ds_seq_spell_next(const char *want, size_t wl, size_t *off, const char *t, int first) {
    size_t o = *off, tl = strlen(t);
    if (!first && (o >= wl || want[o++] != ' ')) return 0;
    if (o + tl > wl || memcmp(want + o, t, tl) != 0) return 0;
    *off = o + tl;
    return 1;
}

// The run [*ws, *we] of words spelling value; -1 when none does.
static int find_span(const word_ref *words, int n, const char *value, const json_t *boxes, int *ws,
                     int *we) {
    char want[1024];
    ds_seq_collapse(want, value, sizeof want);
    size_t wl = strlen(want);
    if (wl == 0) return -1;
    float best = -1;
    for (int i = 0; i < n; i++) {
        size_t off = 0;
        for (int j = i; j < n && ds_seq_spell_next(want, wl, &off, words[j].w->text, j == i); j++) {
            if (off == wl) {
                float score = box_score(words, i, j, boxes);
                if (score > best) {
                    best = score;
                    *ws = i;
                    *we = j;
                }
                break;
            }
        }
    }
    return best >= 0 ? 0 : -1;
}

// ---- values that are no exact run: OCR misspells one, a format prints a date another way

// Letters and digits of s, lower-cased (UTF-8 bytes >= 0x80 kept as they are).
static size_t squeeze(char *dst, size_t cap, const char *s) {
    size_t n = 0;
    for (; *s && n + 1 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'))
            dst[n++] = (char)c;
        else if (c >= 'A' && c <= 'Z')
            dst[n++] = (char)(c - 'A' + 'a');
    }
    dst[n] = 0;
    return n;
}

// Run [i, j] as text (words joined by spaces) into buf; 0 when it does not fit.
static int run_text(const word_ref *words, int i, int j, char *buf, size_t cap) {
    size_t n = 0;
    for (int q = i; q <= j; q++) {
        size_t l = strlen(words[q].w->text);
        if (n + l + 2 > cap) return 0;
        if (q > i) buf[n++] = ' ';
        memcpy(buf + n, words[q].w->text, l);
        n += l;
    }
    buf[n] = 0;
    return 1;
}

// A date or an amount: the shortest run from each word (up to 6 words) that reads
// as the same date / amount; ties go to the truth's box.
static int near_typed(const word_ref *words, int n, const char *value, ds_field_type type,
                      const json_t *boxes, int *ws, int *we) {
    char want[11], got[11], text[256];
    double amount = 0, a;
    if (type == DS_FIELD_DATE && ds_norm_date(value, 0, want) != 0) return -1;
    if (type == DS_FIELD_AMOUNT && ds_norm_amount(value, &amount) != 0) return -1;
    float best = -1;
    int best_len = 0;
    for (int i = 0; i < n; i++)
        for (int j = i; j < n && j < i + 6; j++) {
            if (!run_text(words, i, j, text, sizeof text)) break;
            int same = type == DS_FIELD_DATE
                           ? (ds_norm_date(text, 0, got) == 0 && strcmp(got, want) == 0) ||
                                 (ds_norm_date(text, 1, got) == 0 && strcmp(got, want) == 0)
                           : ds_norm_amount(text, &a) == 0 && fabs(a - amount) < 0.005;
            if (!same) continue;
            // the truth's box first, then the fewest words ("1.234,50", not "due 1.234,50")
            float score = box_score(words, i, j, boxes);
            if (score > best || (score == best && j - i + 1 < best_len))
                best = score, best_len = j - i + 1, *ws = i, *we = j;
            break;
        }
    return best >= 0 ? 0 : -1;
}

// Text: the run whose letters and digits are nearest the value's in edit distance,
// at most a fifth of the value's length (OCR's "Hii" for "HUI", "NIKE, Inc." for
// Kleister's "Nike_Inc."). The distance grows a row per character as the run grows
// a word at a time, so each start costs O(run length x value length).
static int near_text(const word_ref *words, int n, const char *value, const json_t *boxes, int *ws,
                     int *we) {
    char want[256], piece[256];
    size_t L = squeeze(want, sizeof want, value);
    if (L < 4 || L + 1 >= sizeof want) return -1;
    int limit = (int)(L / 5), best_d = limit + 1;
    float best_score = -1;
    int row[256], next[256];
    for (int i = 0; i < n; i++) {
        for (size_t k = 0; k <= L; k++) row[k] = (int)k;
        size_t len = 0;
        for (int j = i; j < n; j++) {
            size_t pl = squeeze(piece, sizeof piece, words[j].w->text);
            len += pl;
            if (len > L + (size_t)limit) break;
            for (size_t c = 0; c < pl; c++) { // one more character of the run
                next[0] = row[0] + 1;
                for (size_t k = 1; k <= L; k++) {
                    int sub = row[k - 1] + (want[k - 1] != piece[c]);
                    int del = row[k] + 1, ins = next[k - 1] + 1;
                    next[k] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
                }
                memcpy(row, next, sizeof(int) * (L + 1));
            }
            if (pl == 0 || row[L] > limit) continue;
            // a run on the truth's box first, then the nearest, then the most overlap
            float score = box_score(words, i, j, boxes);
            int on = score > 0, best_on = best_score > 0;
            if (best_score < 0 || on > best_on ||
                (on == best_on && (row[L] < best_d || (row[L] == best_d && score > best_score))))
                best_d = row[L], best_score = score, *ws = i, *we = j;
        }
    }
    return best_score >= 0 ? 0 : -1;
}

// The check-box word (ingest's marks) under the truth's box: the answer of a check
// box or a choice read from check boxes points at it, as a value points at its words,
// so the model finds it beside its label the way it finds any value. -1: none.
static int find_mark(const word_ref *words, int n, const json_t *boxes) {
    int best = -1;
    float best_iou = 0.3f; // at least
    size_t k;
    json_t *b;
    json_array_foreach(boxes, k, b) {
        float tb[4];
        int page = truth_box(b, tb);
        float ta = (tb[2] - tb[0]) * (tb[3] - tb[1]);
        for (int i = 0; i < n; i++) {
            const ds_word *w = words[i].w;
            if (w->source != DS_WORD_MARK || words[i].page != page) continue;
            float o = overlap(&w->box, tb);
            float wa = (w->box.x1 - w->box.x0) * (w->box.y1 - w->box.y0);
            float iou = o > 0 ? o / (wa + ta - o) : 0;
            if (iou > best_iou) best_iou = iou, best = i;
        }
    }
    return best;
}

// ---- building

typedef struct {
    ds_seq *s;
    int t, cap;
    int prev_learn; // whether the token being appended is predicted (has a loss)
} builder;

// Appends token id; when learn, the previous position predicts it with the given role.
static int push(builder *b, int32_t id, int learn, uint8_t role) {
    if (b->t >= b->cap) return ds_error(DS_E_TOO_LARGE, "sequence: more than %d tokens", b->cap);
    ds_seq *s = b->s;
    s->ids[b->t] = id;
    if (learn && b->t > 0) {
        s->target[b->t - 1] = id;
        s->target_w[b->t - 1] = 1.0f;
        s->role[b->t - 1] = role;
    }
    b->t++;
    return 0;
}

static int push_text(builder *b, const ds_model *m, const char *text, int learn, uint8_t role0,
                     uint8_t role) {
    int32_t ids[512];
    int k = ds_seq_encode_value(m, text, ids, 512);
    if (k < 0) return k;
    for (int i = 0; i < k; i++) {
        int rc = push(b, ids[i], learn, i == 0 ? role0 : role);
        if (rc) return rc;
    }
    return 0;
}

static const char *value_text(const json_t *v, char *buf, size_t cap) {
    if (json_is_string(v)) return json_string_value(v);
    if (json_is_true(v)) return "true";
    if (json_is_false(v)) return "false";
    if (json_is_integer(v)) {
        snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
        return buf;
    }
    if (json_is_real(v)) {
        snprintf(buf, cap, "%g", json_real_value(v));
        return buf;
    }
    return NULL;
}

static int is_choice(ds_field_type t) {
    return t == DS_FIELD_ENUM || t == DS_FIELD_CHECKBOX;
}

// One value of a field: pointers when it is a run of words (and pointers are on),
// else generated tokens + [eov]; or, with unseen_null, nothing when it is no run of this
// window's words (returns 1: the caller writes the field as absent; 2: ... with no loss).
static int push_value(builder *b, const ds_model *m, const word_ref *words, int n_words,
                      const char *text, const json_t *boxes, ds_field_type type, int unseen_null,
                      ds_seq_info *info) {
    ds_seq *s = b->s;
    int ws, we, rc;
    info->n_values++;
    int mark = is_choice(type) && m->cfg.copy_pointer && m->cfg.use_marks
                   ? find_mark(words, n_words, boxes)
                   : -1;
    if (mark >= 0) ws = we = mark;
    int span = -1;
    if (mark < 0 && !is_choice(type) && m->cfg.copy_pointer) {
        span = find_span(words, n_words, text, boxes, &ws, &we);
        if (span != 0) {
            span = type == DS_FIELD_DATE || type == DS_FIELD_AMOUNT
                       ? near_typed(words, n_words, text, type, boxes, &ws, &we)
                       : near_text(words, n_words, text, boxes, &ws, &we);
            info->n_values_near += span == 0;
        }
    }
    if (mark >= 0 || span == 0) {
        info->n_values_span++;
        int at = b->t;
        if ((rc = push(b, DS_TOK_COPY, 1, DS_ROLE_ANSWER))) return rc;
        s->ptr_kind[at] = 1;
        s->ptr_target[at] = ws;
        if ((rc = push(b, DS_TOK_COPY_END, 0, 0))) return rc;
        s->ptr_kind[at + 1] = 2;
        s->ptr_target[at + 1] = we;
        s->ptr_min[at + 1] = ws;
        // the [copy_end] input carries the start word's box: where to look for the end
        memcpy(s->box + 4 * (at + 1), s->box + 4 * s->word_tok[ws], sizeof(int32_t) * 4);
        s->page[at + 1] = s->page[s->word_tok[ws]];
        return 0;
    }
    if (!is_choice(type) && unseen_null && m->cfg.copy_pointer) {
        if (unseen_null == DS_UNSEEN_SKIPPED) {
            info->n_values_skipped++;
            return 2;
        }
        info->n_values_unseen++;
        return 1;
    }
    if (!is_choice(type)) info->n_values_gen++;
    uint8_t r0 = is_choice(type) ? DS_ROLE_ANSWER : DS_ROLE_VALUE0;
    uint8_t r1 = is_choice(type) ? DS_ROLE_ANSWER : DS_ROLE_VALUE;
    if ((rc = push_text(b, m, text, 1, r0, r1))) return rc;
    return push(b, DS_TOK_EOV, 1, is_choice(type) ? DS_ROLE_ANSWER : DS_ROLE_VALUE);
}

int ds_seq_build(const ds_model *m, const ds_schema_set *schemas, const ds_doc *doc,
                 const json_t *truth, ds_seq *out, ds_seq_info *info) {
    return ds_seq_build_window(m, schemas, doc, truth, 0, out, info);
}

int ds_seq_build_window(const ds_model *m, const ds_schema_set *schemas, const ds_doc *doc,
                        const json_t *truth, int unseen_null, ds_seq *out, ds_seq_info *info) {
    const ds_model_cfg *cfg = &m->cfg;
    memset(info, 0, sizeof *info);
    if (!m->tok) return ds_error(DS_E_INVAL, "sequence: the model has no tokenizer");
    int vision = ds_cfg_use_vision(cfg), S = cfg->img_size;
    int n_img = ds_cfg_img_tokens(cfg);
    int n_pages = doc->n_pages < cfg->max_pages ? doc->n_pages : cfg->max_pages;
    if (n_pages < 1) return ds_error(DS_E_INVAL, "sequence: the document has no pages");
    for (int p = 0; p < n_pages && vision; p++)
        if (!doc->pages[p].pixels || doc->pages[p].enc_size != S)
            return ds_error(DS_E_INVAL, "sequence: page %d has encoder size %d, the model needs %d",
                            p + 1, doc->pages[p].pixels ? doc->pages[p].enc_size : 0, S);
    const ds_schema *schema = NULL;
    const char *doc_type = NULL;
    if (truth) {
        doc_type = json_string_value(json_object_get(truth, "doc_type"));
        schema = doc_type ? ds_schema_find(schemas, doc_type) : NULL;
        if (!schema)
            return ds_error(DS_E_INVAL, "sequence: truth names doc type '%s', not in the schemas",
                            doc_type ? doc_type : "(none)");
    }
    int n_words = 0;
    size_t tok_bound = 16; // tokens of a page are at most its bytes plus one space per word
    for (int p = 0; p < doc->n_pages; p++) {
        size_t bytes = 0;
        for (int i = 0; i < doc->pages[p].n_words; i++)
            bytes += strlen(doc->pages[p].words[i].text) + 1;
        tok_bound = bytes + 16 > tok_bound ? bytes + 16 : tok_bound;
        n_words += doc->pages[p].n_words;
    }
    info->n_words = n_words;
    int cap = cfg->max_seq;
    int rc = ds_seq_alloc(out, cap, n_words, n_pages, vision ? S : 0);
    if (rc) return rc;
    ds_seq *s = out;
    word_ref *words = malloc(sizeof(word_ref) * (n_words + 1));
    int32_t *ids = malloc(sizeof(int32_t) * tok_bound);
    int32_t *word_of = malloc(sizeof(int32_t) * tok_bound);
    const char **texts = malloc(sizeof(char *) * (n_words + 1));
    int *kept = malloc(sizeof(int) * (n_words + 1)); // page word of each text
    if (!words || !ids || !word_of || !texts || !kept) {
        rc = ds_error(DS_E_NOMEM, "sequence: out of memory");
        goto fail;
    }
    builder b = {s, 0, cap, 0};
    push(&b, DS_TOK_BOS, 0, 0);
    push(&b, DS_TOK_TASK_EXTRACT, 0, 0);
    s->doc_lo = b.t;
    int reserve = ds_seq_answer_reserve(m, schemas);
    const char *truth_type = json_string_value(json_object_get(truth, "doc_type"));
    const ds_schema *ts = truth_type ? ds_schema_find(schemas, truth_type) : NULL;
    int own = ts && !ts->routed ? schema_reserve(m, ts) : 0; // a type named only: its room
    if (own > reserve) reserve = own;
    int budget = cap - reserve;
    int nw = 0;
    for (int p = 0; p < n_pages; p++) {
        const ds_page *pg = &doc->pages[p];
        if (b.t + 1 + n_img >= budget) break;
        info->n_pages_kept++;
        if (vision)
            memcpy(s->pixels + (size_t)p * 3 * S * S, pg->pixels, sizeof(float) * 3 * S * S);
        push(&b, DS_TOK_PAGE, 0, 0);
        for (int j = 0; j < n_img; j++) {
            s->img[b.t] = p * n_img + j;
            push(&b, DS_TOK_IMG, 0, 0);
        }
        int n_kept = 0; // check boxes read as words only when the config says so
        for (int i = 0; i < pg->n_words; i++)
            if (ds_seq_reads_word(cfg, &pg->words[i])) {
                kept[n_kept] = i;
                texts[n_kept++] = pg->words[i].text;
            }
        int k =
            ds_tokenizer_encode_words_spaced(m->tok, texts, n_kept, ids, word_of, (int)tok_bound);
        if (k < 0) {
            rc = k;
            goto fail;
        }
        if (k > budget - b.t) { // does not fit: keep the words whose tokens do
            int full = k;
            k = budget - b.t > 0 ? budget - b.t : 0;
            while (k > 0 && k < full && word_of[k - 1] == word_of[k])
                k--; // never cut a word in two
        }
        int last = -1;
        for (int i = 0; i < k; i++) {
            int wi = word_of[i];
            const ds_word *w = &pg->words[kept[wi]];
            if (wi != last) {
                words[nw].w = w;
                words[nw].page = p;
                s->word_tok[nw++] = b.t;
                last = wi;
            }
            int t = b.t;
            push(&b, ids[i], 0, 0);
            float W = pg->width_pt > 0 ? pg->width_pt : 1,
                  H = pg->height_pt > 0 ? pg->height_pt : 1;
            float c[4] = {w->box.x0 / W, w->box.y0 / H, w->box.x1 / W, w->box.y1 / H};
            for (int j = 0; j < 4; j++) {
                int q = (int)floorf(c[j] * DS_BOX_BINS);
                s->box[4 * t + j] = q < 0 ? 0 : q >= DS_BOX_BINS ? DS_BOX_BINS - 1 : q;
            }
            s->page[t] = p;
            if (vision) {
                float ex0 = w->box.x0 * pg->enc_scale + pg->enc_off_x;
                float ey0 = w->box.y0 * pg->enc_scale + pg->enc_off_y;
                float ex1 = w->box.x1 * pg->enc_scale + pg->enc_off_x;
                float ey1 = w->box.y1 * pg->enc_scale + pg->enc_off_y;
                int x0 = (int)floorf(ex0), y0 = (int)floorf(ey0);
                int x1 = (int)ceilf(ex1), y1 = (int)ceilf(ey1);
                x0 = x0 < 0 ? 0 : x0 > S - 1 ? S - 1 : x0;
                y0 = y0 < 0 ? 0 : y0 > S - 1 ? S - 1 : y0;
                x1 = x1 <= x0 ? x0 + 1 : x1 > S ? S : x1;
                y1 = y1 <= y0 ? y0 + 1 : y1 > S ? S : y1;
                int32_t roi[5] = {p, x0, y0, x1, y1};
                memcpy(s->roi + 5 * t, roi, sizeof roi);
            }
        }
        if (k == 0 || word_of[k - 1] < n_kept - 1) { // the budget ran out on this page
            info->last_page_cut = 1;
            break;
        }
    }
    s->doc_hi = b.t;
    s->n_words = nw;
    s->n_pages = info->n_pages_kept;
    info->n_words_kept = nw;
    // document LM targets: each document token predicts the next one
    for (int t = s->doc_lo; t + 1 < s->doc_hi; t++)
        if (s->ids[t] >= DS_TOK_BYTE0 && s->ids[t + 1] >= DS_TOK_BYTE0) {
            s->target[t] = s->ids[t + 1];
            s->target_w[t] = cfg->doc_lm_weight;
        }
    push(&b, DS_TOK_ANS, 0, 0);
    s->n_prefix = b.t;
    if (truth) {
        const json_t *fields = json_object_get(truth, "fields");
        const json_t *boxes = json_object_get(truth, "boxes");
        if ((rc = push_text(&b, m, schema->doc_type, 1, DS_ROLE_ANSWER, DS_ROLE_ANSWER)) ||
            (rc = push(&b, DS_TOK_EOV, 1, DS_ROLE_ANSWER)))
            goto fail;
        for (int f = 0; f < schema->n_fields && !rc; f++) {
            const ds_field *fd = &schema->fields[f];
            if ((rc = push(&b, DS_TOK_FIELD, 0, 0)) || (rc = push_text(&b, m, fd->name, 0, 0, 0)))
                goto fail;
            const json_t *v = json_object_get(fields, fd->name);
            const json_t *fb = json_object_get(boxes, fd->name);
            char buf[64];
            if (ds_field_is_multi(fd->type)) {
                // items, then [eov]; no items is [eov] at once (the decoder's empty list).
                // At most max_items, as the decoder writes. A text list (a form's entities,
                // dozens of short items) leaves out an item that is no run of words rather
                // than teach the model to spell it, and points each item near its own box
                // when the truth gives one per item.
                json_t *one = json_is_string(v) ? json_pack("[O]", v) : NULL; // a lone item
                const json_t *items = one ? one : v;
                int own_box = json_array_size(fb) == json_array_size(items);
                int skip_unseen = unseen_null                      ? unseen_null
                                  : fd->type == DS_FIELD_TEXT_LIST ? DS_UNSEEN_ABSENT
                                                                   : DS_UNSEEN_GENERATE;
                int pushed = 0;
                size_t i;
                json_t *item;
                json_array_foreach(items, i, item) {
                    const char *txt = value_text(item, buf, sizeof buf);
                    if (!txt || pushed >= fd->max_items) continue;
                    json_t *ib = own_box ? json_pack("[O]", json_array_get(fb, i)) : NULL;
                    rc = push_value(&b, m, words, nw, txt, ib ? ib : fb, fd->type, skip_unseen,
                                    info);
                    json_decref(ib);
                    if (rc < 0) break;
                    pushed += rc == 0;
                }
                json_decref(one);
                if (rc < 0) goto fail;
                rc = push(&b, DS_TOK_EOV, 1, DS_ROLE_ANSWER);
            } else {
                const char *txt = value_text(v, buf, sizeof buf);
                rc = txt ? push_value(&b, m, words, nw, txt, fb, fd->type, unseen_null, info) : 1;
                if (rc == 1 || rc == 2) rc = push(&b, DS_TOK_NULLV, rc == 1, DS_ROLE_ANSWER);
            }
        }
        if (rc || (rc = push(&b, DS_TOK_EOS, 1, DS_ROLE_ANSWER))) goto fail;
    }
    s->n = b.t;
    free(words);
    free(ids);
    free(word_of);
    free(texts);
    free(kept);
    return 0;
fail:
    free(words);
    free(ids);
    free(word_of);
    free(texts);
    free(kept);
    ds_seq_free(s);
    return rc;
}
