// decode.c: the answer grammar as a per-document state machine, all
// documents stepping together (one ds_infer_step per token for the whole
// batch; documents that finish leave the batch). See decode.h.
#include "fusion/decode.h"

#include "samples/address.h"
#include "samples/normalize.h"
#include "samples/paid.h"

#include "core/error.h"
#include "core/timer.h"
#include "fusion/lora.h"
#include "fusion/model-impl.h"
#include "fusion/sequence.h"
#include "fusion/span-automaton.h"
#include "fusion/windows.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_CAND     32
#define MAX_CAND_LEN 24
#define MAX_QUEUE    64
#define MAX_GEN      48

enum { M_CHOICE, M_PTR_START, M_PTR_END, M_GEN };
enum { K_TYPE, K_SPAN, K_LIST, K_VALUE };

typedef struct {
    const ds_page *page;
    const ds_word *w;
    int p;
} wref;

typedef struct {
    int done, err;
    const ds_schema *schema;
    const char *type_names[MAX_CAND]; // K_TYPE: each candidate's name (a forced type: one)
    int field;                        // current field
    int32_t queue[MAX_QUEUE];
    int qn, qi;
    int mode, kind;
    int n_cand, cpos;
    int32_t cand[MAX_CAND][MAX_CAND_LEN];
    int cand_len[MAX_CAND];
    uint8_t alive[MAX_CAND];
    int ws;
    int typed_miss; // a date / amount field in a document with no run of its type
    // a text list (a form's entities): the first word its next item may start at. Its
    // items come in reading order and do not overlap, as the truth lists them
    // (samples/form-entities.h), so the list cannot repeat itself.
    int list_next;
    // a party list: its items' words and confidences, in the order fields lists them
    int n_items;
    struct {
        int ws, we;
        double conf;
    } items[DS_LIST_MAX_ITEMS];
    double conf, doc_conf;
    int32_t gen[MAX_GEN];
    int gn;
    // a value generated where [copy] could have been chosen: the cache's length, the
    // confidence and [copy]'s probability at that choice, to take it back (M_GEN); -1: none
    int retract_len;
    double retract_conf, retract_copy;
    int32_t feed, box[4], page;
    json_t *fields;
    const char *doc_type;
    wref *words;
    int n_words, n_marks;
    uint8_t *address_line; // (n_words) whether the word's line can be part of an address
    int cents;             // the document prints its amounts with two decimals (ds_norm_cents)
    // what was due (due), by its payment lines (1) or its sum (2), samples/paid.h: a total's
    int has_due;
    double due;
    uint8_t *ok;      // (V) scratch of the copy mask, made once per document
    int32_t *allowed; // (V) the tokens it allows
    float *lp;        // (V) their log probabilities
    ds_gen_state gs;
    ds_span_automaton sam; // of the document's tokens, built at the first generated value
    int sam_s;             // its state: the run of document tokens generated so far
} dstate;

static int add_cand(const ds_model *m, dstate *d, const char *text, int32_t tail) {
    if (d->n_cand >= MAX_CAND)
        return ds_error(DS_E_INVAL, "decode: more than %d choices", MAX_CAND);
    int32_t *c = d->cand[d->n_cand];
    int k = 0;
    if (text) {
        k = ds_seq_encode_value(m, text, c, MAX_CAND_LEN - 1);
        if (k < 0) return k;
    }
    c[k++] = tail;
    d->cand_len[d->n_cand] = k;
    d->alive[d->n_cand] = 1;
    d->n_cand++;
    return 0;
}

static void start_choice(dstate *d, int kind) {
    d->mode = M_CHOICE;
    d->kind = kind;
    d->n_cand = 0;
    d->cpos = 0;
}

// Whether the sequence has room for n more tokens, then every later field at its
// shortest ([field], a name, [null]) and [eos], within max_seq (the KV cache holds a
// document's max_seq positions and a block more).
static int seq_has_room(const ds_model *m, const dstate *d, int n) {
    int later = d->schema->n_fields - 1 - d->field;
    int used = d->gs.kv.len + (d->qn - d->qi); // positions, and forced tokens still queued
    return used + n + 12 * later + 1 < m->cfg.max_seq;
}

// Whether a list may take one more item: under its max_items, and with room in the
// sequence for the item ([copy][copy_end]) and the list's [eov]. A type that is only
// read when named (a form's entities) has no reserve of its own (fusion/sequence.h),
// so on a full sequence its lists end early instead of running past max_seq.
static int list_has_room(const ds_model *m, const dstate *d, const ds_field *fd) {
    size_t items = json_array_size(json_object_get(d->fields, fd->name));
    if (fd->type == DS_FIELD_TEXT_LIST && d->list_next >= d->gs.n_words) return 0; // read out
    return items < (size_t)fd->max_items && seq_has_room(m, d, 3);
}

// Sets up field f (forced [field] + name, then its decision) or finishes.
static int start_field(const ds_model *m, dstate *d, int f) {
    d->field = f;
    d->conf = 1.0;
    d->retract_len = -1;
    d->list_next = 0;
    d->n_items = 0;
    if (f >= d->schema->n_fields) {
        d->done = 1;
        return 0;
    }
    const ds_field *fd = &d->schema->fields[f];
    d->queue[0] = DS_TOK_FIELD;
    int k = ds_seq_encode_value(m, fd->name, d->queue + 1, MAX_QUEUE - 1);
    if (k < 0) return k;
    d->qn = 1 + k;
    d->qi = 0;
    int rc = 0;
    // a choice may also point at a check box (fusion/sequence.c), read by mark_value
    int marks = m->cfg.use_marks && m->cfg.copy_pointer && d->n_marks > 0;
    if (fd->type == DS_FIELD_CHECKBOX) {
        start_choice(d, K_VALUE);
        rc = add_cand(m, d, "true", DS_TOK_EOV);
        if (!rc) rc = add_cand(m, d, "false", DS_TOK_EOV);
        if (!rc && marks) rc = add_cand(m, d, NULL, DS_TOK_COPY);
    } else if (fd->type == DS_FIELD_ENUM) {
        start_choice(d, K_VALUE);
        for (int i = 0; i < fd->n_values && !rc; i++)
            rc = add_cand(m, d, fd->values[i], DS_TOK_EOV);
        if (!rc) rc = add_cand(m, d, NULL, DS_TOK_NULLV);
        if (!rc && marks) rc = add_cand(m, d, NULL, DS_TOK_COPY);
    } else if (m->cfg.copy_pointer) {
        int list = ds_field_is_multi(fd->type);
        start_choice(d, list ? K_LIST : K_SPAN);
        // a page without words (a blank scan) has nothing to point at: [null] it is
        if (list ? list_has_room(m, d, fd) : d->gs.n_words > 0)
            rc = add_cand(m, d, NULL, DS_TOK_COPY);
        if (!rc) rc = add_cand(m, d, NULL, list ? DS_TOK_EOV : DS_TOK_NULLV);
    } else {
        d->mode = M_GEN;
        d->gn = 0;
    }
    if (ds_field_is_multi(fd->type) && !json_object_get(d->fields, fd->name))
        json_object_set_new(d->fields, fd->name, json_array());
    return rc;
}

static void put_value(dstate *d, json_t *v) {
    const ds_field *fd = &d->schema->fields[d->field];
    if (ds_field_is_multi(fd->type)) {
        json_t *list = json_object_get(d->fields, fd->name);
        // a party is named once however often the pointers come back to its name
        if (v && fd->type == DS_FIELD_PARTY_LIST && ds_list_holds(list, v))
            json_decref(v);
        else if (v)
            json_array_append_new(list, v);
        return;
    }
    json_object_set_new(d->fields, fd->name, v ? v : json_null());
}

// How sure the reading of words ws..we is: the product of their OCR confidences (1 for
// a text layer's words and given ones). A value is right only if the model chose the
// right words and OCR read each of them right; the model's pointers say nothing of the
// second (on SROIE's receipts its raw confidence tells right values from wrong ones with
// an AUROC of 0.605, times this 0.798: a company read "Priewetle (Oty U" scores low here).
static double reading_conf(const dstate *d, int ws, int we) {
    double r = 1;
    for (int i = ws; i <= we && i < d->n_words; i++) {
        float c = d->words[i].w->conf;
        r *= c < 0 ? 0 : c > 1 ? 1 : c;
    }
    return r;
}

static json_t *span_value(dstate *d, int ws, int we, double conf) {
    conf *= reading_conf(d, ws, we);
    char text[2048];
    size_t n = 0;
    const wref *s = &d->words[ws];
    ds_box b = s->w->box;
    for (int i = ws; i <= we; i++) {
        const char *t = d->words[i].w->text;
        size_t l = strlen(t);
        if (n + l + 2 >= sizeof text) break;
        if (i > ws) text[n++] = ' ';
        memcpy(text + n, t, l);
        n += l;
        if (d->words[i].p == s->p) {
            const ds_box *wb = &d->words[i].w->box;
            b.x0 = fminf(b.x0, wb->x0), b.y0 = fminf(b.y0, wb->y0);
            b.x1 = fmaxf(b.x1, wb->x1), b.y1 = fmaxf(b.y1, wb->y1);
        }
    }
    // a place ends where its name does: "MICHIGAN," and "New York." are Michigan and New York
    if (d->schema && d->schema->fields[d->field].type == DS_FIELD_PLACE)
        while (n > 1 && strchr(",.;:", text[n - 1])) n--;
    text[n] = '\0';
    return json_pack("{s:s, s:i, s:[f, f, f, f], s:f, s:s}", "value", text, "page", s->p + 1, "box",
                     round(b.x0 * 100) / 100, round(b.y0 * 100) / 100, round(b.x1 * 100) / 100,
                     round(b.y1 * 100) / 100, "confidence", conf, "source", "span");
}

static int is_mark(const wref *r, int checked) {
    return r->w->source == DS_WORD_MARK &&
           strcmp(r->w->text, checked ? "\xe2\x98\x92" : "\xe2\x98\x90") == 0;
}

static int same_line(const wref *a, const wref *b) {
    return a->p == b->p && a->w->line == b->w->line;
}

// The value of a check box or choice field whose pointer landed on word i: a
// check box's state is the mark's; a choice is the label beside the (checked)
// mark, the nearer of the words after and before it first, matched to the
// field's values ignoring case. A pointer that missed the marks takes the
// nearest one on its line. NULL: none.
static json_t *mark_value(dstate *d, int i, double conf) {
    const ds_field *fd = &d->schema->fields[d->field];
    if (d->words[i].w->source != DS_WORD_MARK) {
        int best = -1;
        float bd = INFINITY;
        for (int k = 0; k < d->n_words; k++)
            if (d->words[k].w->source == DS_WORD_MARK && same_line(&d->words[k], &d->words[i])) {
                float dx = fabsf(d->words[k].w->box.x0 - d->words[i].w->box.x0);
                if (dx < bd) bd = dx, best = k;
            }
        if (best < 0) return NULL;
        i = best;
    }
    const wref *r = &d->words[i];
    json_t *v = NULL;
    if (fd->type == DS_FIELD_CHECKBOX) {
        v = json_boolean(is_mark(r, 1));
    } else {
        // The label nearer the mark first: "☒ Basic ☐ Standard" and
        // "Basic ☒ Standard ☐" both occur, and the gap tells them apart.
        float gap_after = INFINITY, gap_before = INFINITY;
        if (i + 1 < d->n_words) gap_after = d->words[i + 1].w->box.x0 - r->w->box.x1;
        if (i > 0) gap_before = r->w->box.x0 - d->words[i - 1].w->box.x1;
        int first = gap_before < gap_after ? -1 : 1;
        for (int side = 0; side < 2 && !v; side++) {
            int k = side == 0 ? i + first : i - first;
            if (k < 0 || k >= d->n_words || !same_line(&d->words[k], r) ||
                d->words[k].w->source == DS_WORD_MARK)
                continue;
            for (int e = 0; e < fd->n_values && !v; e++)
                if (strcasecmp(d->words[k].w->text, fd->values[e]) == 0)
                    v = json_string(fd->values[e]);
        }
        if (!v) return NULL;
    }
    const ds_box *b = &r->w->box;
    return json_pack("{s:o, s:i, s:[f, f, f, f], s:f, s:s}", "value", v, "page", r->p + 1, "box",
                     round(b->x0 * 100) / 100, round(b->y0 * 100) / 100, round(b->x1 * 100) / 100,
                     round(b->y1 * 100) / 100, "confidence", conf, "source", "mark");
}

static int cmp_desc(const void *a, const void *b) {
    double x = ((const double *)a)[0], y = ((const double *)b)[0];
    return (x < y) - (x > y);
}

int32_t ds_sample_pick(const float *logits, const int32_t *allowed, int n, const ds_decode_opts *o,
                       double *p) {
    float mx = -INFINITY;
    for (int i = 0; i < n; i++) mx = fmaxf(mx, logits[allowed[i]]);
    float temp = o && o->temperature > 0 ? o->temperature : 1.0f;
    double z = 0;
    int best = 0;
    for (int i = 0; i < n; i++) {
        double e = exp((logits[allowed[i]] - mx) / temp);
        z += e;
        if (logits[allowed[i]] > logits[allowed[best]]) best = i;
    }
    double pb = exp((logits[allowed[best]] - mx) / temp);
    if (o && o->temperature > 0 && o->rng && n > 1) {
        // top-p (Holtzman et al. 2020): sample among the most likely tokens whose mass
        // first reaches top_p, renormalised
        double *pr = malloc(sizeof(double) * 2 * (size_t)n);
        if (pr) {
            for (int i = 0; i < n; i++) {
                pr[2 * i] = exp((logits[allowed[i]] - mx) / temp);
                pr[2 * i + 1] = i;
            }
            qsort(pr, (size_t)n, 2 * sizeof(double), cmp_desc);
            double top = o->top_p > 0 && o->top_p < 1 ? o->top_p : 1.0, mass = 0;
            int keep = 0;
            while (keep < n && mass < top * z) mass += pr[2 * keep++];
            double u = ds_rng_uniform(o->rng) * mass;
            int k = keep - 1;
            for (int i = 0; i < keep; i++) {
                if (u < pr[2 * i]) {
                    k = i;
                    break;
                }
                u -= pr[2 * i];
            }
            best = (int)pr[2 * k + 1];
            pb = pr[2 * k];
            free(pr);
        }
    }
    *p = pb / z;
    return allowed[best];
}

// The pointer-generator mixture (copy path b) over the allowed tokens, as log
// probabilities in lp[v]: g * softmax(logits) + (1 - g) * attention mass of the
// document tokens equal to v, the same mixture the training loss uses.
static void pg_mixture(ds_model *m, const ds_gen_state *gs, const float *h, const float *logits,
                       const int32_t *allowed, int na, float *lp) {
    int C = m->cfg.dim;
    const ds_head_weights *w = &ds_model_host(m)->w.hd; // read on the host
    float mx = -INFINITY;
    for (int i = 0; i < na; i++) mx = fmaxf(mx, logits[allowed[i]]);
    double z = 0;
    for (int i = 0; i < na; i++) z += exp(logits[allowed[i]] - mx);
    float *q = malloc(sizeof(float) * C), *a = malloc(sizeof(float) * (gs->n_doc + 1));
    if (!q || !a || !gs->pg_keys || gs->n_doc == 0) {
        for (int i = 0; i < na; i++) lp[allowed[i]] = logits[allowed[i]];
        free(q);
        free(a);
        return;
    }
    for (int r = 0; r < C; r++) {
        float s = 0;
        for (int c = 0; c < C; c++) s += w->pg_q[(size_t)r * C + c] * h[c];
        q[r] = s;
    }
    float amx = -INFINITY, isq = 1.0f / sqrtf((float)C);
    for (int j = 0; j < gs->n_doc; j++) {
        float s = 0;
        for (int c = 0; c < C; c++) s += q[c] * gs->pg_keys[(size_t)j * C + c];
        a[j] = s * isq;
        amx = fmaxf(amx, a[j]);
    }
    double az = 0;
    for (int j = 0; j < gs->n_doc; j++) az += (a[j] = expf(a[j] - amx));
    float gz = w->pg_gate[C];
    for (int c = 0; c < C; c++) gz += w->pg_gate[c] * h[c];
    double g = 1.0 / (1.0 + exp(-gz));
    for (int i = 0; i < na; i++) lp[allowed[i]] = (float)(g * exp(logits[allowed[i]] - mx) / z);
    for (int j = 0; j < gs->n_doc; j++) lp[gs->doc_ids[j]] += (float)((1 - g) * a[j] / az);
    for (int i = 0; i < na; i++) lp[allowed[i]] = logf(fmaxf(lp[allowed[i]], 1e-30f));
    free(q);
    free(a);
}

// Dates, amounts, currencies and durations are pointed at only as runs (of up to
// DS_TYPED_RUN words) that read as one, so a date field cannot take "2.10", a total a
// phone number, a currency a word that is no code or symbol, nor a contract's term a
// clause about something else. 1 when words [ws, we] qualify for type t (always, for
// other types).
#define DS_TYPED_RUN 6
// The field types whose values must read as such: dates, amounts, currencies, durations.
static int is_typed(ds_field_type t) {
    return t == DS_FIELD_DATE || t == DS_FIELD_AMOUNT || t == DS_FIELD_CURRENCY ||
           t == DS_FIELD_DURATION || t == DS_FIELD_PLACE || t == DS_FIELD_PARTY_LIST ||
           t == DS_FIELD_NAME || t == DS_FIELD_ADDRESS;
}

// Whether w is one of the n words of list, case aside.
static int one_of(const char *w, const char *const *list, size_t n) {
    for (size_t k = 0; k < n; k++)
        if (!strcasecmp(w, list[k])) return 1;
    return 0;
}
#define ONE_OF(w, list) one_of(w, list, sizeof list / sizeof *list)

// Whether w is a company's legal form ("Inc.", "LLC", "SDN BHD"'s "BHD"), in any case;
// abbreviated: only the forms that are no word of prose ("co", not "corporation": "a
// Pennsylvania corporation" names no one).
static int legal_form(const char *w, int abbreviated) {
    static const char *forms[] = {"inc",          "corp",        "co",      "llc",    "l.l.c",
                                  "lp",           "l.p",         "llp",     "ltd",    "plc",
                                  "n.a",          "s.a",         "ag",      "gmbh",   "bhd",
                                  "incorporated", "corporation", "company", "limited"};
    enum { N_ABBREVIATED = 15 };
    char core[32];
    size_t n = 0;
    for (const char *p = w; *p && n + 1 < sizeof core; p++)
        if (!strchr(",;:()", *p)) core[n++] = (char)tolower((unsigned char)*p);
    while (n && core[n - 1] == '.') n--;
    core[n] = 0;
    return abbreviated ? one_of(core, forms, N_ABBREVIATED) : ONE_OF(core, forms);
}

// Whether letters are at least half of s's bytes: "A0So0/@" (OCR's reading of a logo) is
// no word of a name.
static int mostly_letters(const char *s) {
    size_t letters = 0, n = 0;
    for (; s[n]; n++) letters += isalpha((unsigned char)s[n]) != 0;
    return 2 * letters >= n;
}

// Whether text can be a party's name: a company or a person, as a run of capitalised
// words ("Haynes Wire Company", "R. J. Seifert Enterprises", "NEON SYSTEMS, INC.")
// joined by connectors (and, of, &, ...; at neither end but a first "The"), two words at
// least, no word that names a part of a document ("Exhibit 10.2", "EX-10.2",
// "CONFIDENTIALITY AGREEMENT", "Section 5") or one of its defined terms
// ("Confidential Information", "Restricted Period", "Employees" too), no officer's title
// ("General Counsel"), no word of a sentence ("I UNDERSTAND THAT MY", "NO EFFECT ON"),
// no label ("Gentlemen:"), no address ("Colorado Avenue, Santa Monica", "Charlotte, NC"),
// no short name in quotes ("(“Altimo”)", which follows the name), no word mostly not
// letters ("A0So0/@", OCR's reading of a logo) and no bare number.
static int party_name(const char *text) {
    static const char *connectors[] = {"and", "of",  "the", "&", "de", "du",  "la", "von",
                                       "van", "der", "y",   "e", "et", "und", "for"};
    static const char *document_words[] = {
        "exhibit", "agreement", "confidentiality", "section", "article", "schedule", "annex",
        "appendix", "whereas", "page", "dated", "now", "therefore", "recitals", "witnesseth",
        "party", "parties", "hereto", "between", "version", "paragraph",
        // the defined terms of an agreement ("Confidential Information", "Restricted
        // Period", "Charged Off"): capitalised like a name, named like no one
        "information", "confidential", "proprietary", "period", "termination", "release", "waiver",
        "form", "employment", "competition", "non-competition", "transaction", "protection",
        "invention", "assignment", "charged", "disclosure", "non-disclosure", "recipient",
        "effective", "date", "term", "notice", "purpose", "obligations", "executive", "employee",
        "amended", "restated", "solicitation", "non-solicitation", "severance", "governing",
        "affiliate", "representative",
        // an officer's title ("General Counsel"), not the officer
        "counsel", "president", "officer", "secretary", "chairman", "treasurer"};
    // words of a sentence, never of a name: "I UNDERSTAND AND ACKNOWLEDGE THAT MY ..."
    static const char *prose_words[] = {
        "my", "we", "our", "you", "your", "he", "she", "his", "her", "they", "their", "that",
        "which", "who", "shall", "must", "hereby", "is", "are", "was",
        // a heading's ("NO EFFECT ON", "Covenant Not To Compete"); "of", "for" join names
        "not", "no", "to", "by", "with", "upon", "from", "in", "on"};
    static const char *us_states[] = {
        "al", "ak", "az", "ar", "ca", "co", "ct", "de", "dc", "fl", "ga", "hi", "id",
        "il", "in", "ia", "ks", "ky", "la", "me", "md", "ma", "mi", "mn", "ms", "mo",
        "mt", "ne", "nv", "nh", "nj", "nm", "ny", "nc", "nd", "oh", "ok", "or", "pa",
        "ri", "sc", "sd", "tn", "tx", "ut", "vt", "va", "wa", "wv", "wi", "wy"};
    // a street in an address ("2425 Colorado Avenue, Santa Monica"): followed by more of it
    static const char *street_words[] = {"avenue", "ave",       "street", "st",    "road",
                                         "rd",     "boulevard", "blvd",   "drive", "lane",
                                         "suite",  "floor",     "parkway"};
    char buf[256];
    snprintf(buf, sizeof buf, "%s", text);
    int words = 0, named = 0, last_conn = 0, after_comma = 0;
    for (char *save = NULL, *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        char core[64];
        size_t n = 0;
        for (const char *p = w; *p && n + 1 < sizeof core; p++)
            if (!strchr(",.;:()\"'“”’", *p)) core[n++] = (char)tolower((unsigned char)*p);
        core[n] = 0;
        words++;
        int is_last = !save || !save[strspn(save, " ")];
        char tail = w[strlen(w) - 1];
        // "Charlotte, NC": a city and its state's postal code end an address, not a name
        if (is_last && words > 1 && after_comma && strlen(w) == 2 && isupper((unsigned char)w[0]) &&
            isupper((unsigned char)w[1]) && ONE_OF(core, us_states))
            return 0;
        after_comma = tail == ',';
        if (tail == ':') return 0; // "Gentlemen:", "Attention:": a label
        if (!n) continue;          // punctuation alone
        int conn = ONE_OF(core, connectors);
        last_conn = conn;
        if (conn) { // a name does not start with "and" ("The Coca-Cola Company" does)
            if (words == 1 && (strcmp(core, "the") != 0 || !isupper((unsigned char)w[0]))) return 0;
            continue;
        }
        if (!strncmp(core, "ex-", 3)) return 0; // an exhibit's label, "EX-10.2"
        char single[64];                        // a plural's singular: "Employees"
        snprintf(single, sizeof single, "%s", core);
        if (n > 3 && single[n - 1] == 's') single[n - 1] = 0;
        if (ONE_OF(core, document_words) || ONE_OF(single, document_words)) return 0;
        if (ONE_OF(core, prose_words) || (!strcmp(core, "i") && !is_last)) return 0;
        if (ONE_OF(core, street_words) && tail == ',') return 0;
        if (w[0] == '(' && (strpbrk(w, "\"'") || strstr(w, "\xe2\x80\x9c")))
            return 0; // ("Altimo"): the short name a party is given follows its name
        unsigned char c0 = (unsigned char)w[strspn(w, "(\"'“")];
        if (isdigit(c0)) {
            int letters = 0;
            for (const char *p = core; *p; p++) letters += isalpha((unsigned char)*p) != 0;
            if (!letters) return 0; // "10.2", "(3)": a number, not a name
        } else if (c0 < 0x80 && !mostly_letters(core)) {
            return 0; // "A0So0/@", as name_word
        } else if (!(isupper(c0) || c0 >= 0x80) && !legal_form(w, 1)) {
            return 0; // a lower-case word: prose (but "Acme Trading co" as OCR read it)
        }
        named++;
    }
    // two words at least ("Escalade, Inc.", "Richard Harcke"): a single capitalised
    // word is a defined term ("Recipient"), a month or a sentence's start
    return named >= 2 && !last_conn;
}

// Ten digits or more with no mark between them is a number of something (a bar
// code, a document or account number), not an amount: an amount of a billion
// or more is printed with grouping marks or decimals. On SROIE the model took
// "2000160000024" for receipt 011's total and "100100000006-" for 030's.
static int id_number(const char *text) {
    int digits = 0;
    for (const char *p = text; *p; p++) {
        if (*p == '.' || *p == ',') return 0;
        digits += *p >= '0' && *p <= '9';
    }
    return digits >= 10;
}

// Whether text reads as a value of field type t (any text for the others).
static int reads_as(ds_field_type t, const char *text) {
    char iso[11], code[4], dur[32], place[64];
    double a;
    if (t == DS_FIELD_DATE)
        return ds_norm_date(text, 0, iso) == 0 || ds_norm_date(text, 1, iso) == 0;
    if (t == DS_FIELD_AMOUNT) return ds_norm_amount(text, &a) == 0 && !id_number(text);
    if (t == DS_FIELD_CURRENCY) return ds_norm_currency(text, code) == 0;
    if (t == DS_FIELD_DURATION) return ds_norm_duration(text, dur) == 0;
    if (t == DS_FIELD_PLACE) return ds_norm_place(text, place) == 0;
    if (t == DS_FIELD_PARTY_LIST || t == DS_FIELD_NAME) return party_name(text);
    return 1;
}

// ---- names the pointers cut short

// Whether w can be part of a name: its first letter or digit upper-case ("Acme",
// "(TAMAN", ".K", "99") and letters at least half of it (not "A0So0/@"), or "&".
// Not a word in quotes: ("Consultant") is the name the agreement gives a party.
static int name_word(const char *w) {
    if (!strcmp(w, "&")) return 1;
    if (strpbrk(w, "\"") || strstr(w, "\xe2\x80\x9c") || strstr(w, "\xe2\x80\x9d")) return 0;
    const char *first = w;
    while (*first && !isalnum((unsigned char)*first)) first++;
    return *first && (isupper((unsigned char)*first) || isdigit((unsigned char)*first)) &&
           mostly_letters(w);
}

// Whether w is an article or determiner: a name the pointers chose does not grow back
// over one ("A SEARS, ROEBUCK AND CO." is not the name, "This Amended" no start).
static int determiner(const char *w) {
    static const char *words[] = {"a",   "an",  "the",  "this", "that", "these", "those",
                                  "our", "its", "each", "any",  "such", "said"};
    return ONE_OF(w, words);
}

// Whether w joins the words of one name: "&" ("Leonard Green & Partners"), "of"
// ("Bank of America"). Never "and", which joins two parties in an agreement's prose.
static int joiner(const char *w) {
    return !strcmp(w, "&") || !strcmp(w, "of") || !strcmp(w, "OF");
}

// Whether a word ends a name: it ends in a comma, a semicolon or a colon, or in a
// full stop after more than one letter ("Inc." does, "J." does not).
static int ends_name(const char *w) {
    size_t n = strlen(w);
    if (!n) return 0;
    char c = w[n - 1];
    if (c == ',' || c == ';' || c == ':') return 1;
    return c == '.' && n > 2 && isalpha((unsigned char)w[n - 3]);
}

// The words [ws, we] joined into text (cap bytes); 0 when they do not fit.
static int run_text(const dstate *d, int ws, int we, char *text, size_t cap) {
    size_t n = 0;
    for (int i = ws; i <= we; i++) {
        const char *w = d->words[i].w->text;
        size_t l = strlen(w);
        if (n + l + 2 > cap) return 0;
        if (i > ws) text[n++] = ' ';
        memcpy(text + n, w, l);
        n += l;
    }
    text[n] = 0;
    return 1;
}

enum { MAX_NAME_WORDS = 10 }; // the most words a name grows or joins to

// A name's span grown over the name words beside it on its line, while the run still
// reads as a name (of type t): the pointers often start or end a word short of the
// printed name ("Software Corporation," of "Progress Software Corporation", "SAM SAM"
// of "SAM SAM TRADING CO", "Kite Pharma," of "Kite Pharma, Inc."). It stops at a word
// that ends a name (a comma, "Inc.") and never crosses a lower-case "and", which joins
// two parties in an agreement's prose.
static void grow_name(const dstate *d, ds_field_type t, int *ws, int *we) {
    char text[256];
    for (;;) { // leftwards
        int step = 1, at = *ws - 1;
        if (at < 0) break;
        const char *w = d->words[at].w->text;
        // "Leonard Green &" before "Partners": both or none; not "of", which a title
        // puts before a name ("President of Escalade")
        if (!strcmp(w, "&")) at--, step = 2;
        if (at < 0 || *we - at + 1 > MAX_NAME_WORDS) break;
        const char *first = d->words[at].w->text;
        if (!same_line(&d->words[at], &d->words[*ws]) || !name_word(first) || ends_name(first) ||
            joiner(first) || determiner(first) || !run_text(d, at, *we, text, sizeof text) ||
            !reads_as(t, text))
            break;
        *ws -= step;
    }
    for (;;) { // rightwards
        int step = 1, at = *we + 1;
        if (at >= d->n_words || at - *ws + 1 > MAX_NAME_WORDS) break;
        const char *last = d->words[*we].w->text, *w = d->words[at].w->text;
        int after_comma = ends_name(last) && last[strlen(last) - 1] == ',';
        // the next line only for a legal form after a comma ("Kite Pharma," / "Inc.,")
        if (!same_line(&d->words[at], &d->words[*we]) &&
            !(after_comma && d->words[at].p == d->words[*we].p && legal_form(w, 0)))
            break;
        // a legal form in any case: OCR reads "SAM SAM TRADING CO" as "... TRADING co"
        int ok = ends_name(last) ? after_comma && legal_form(w, 0)
                                 : name_word(w) || legal_form(w, 1) || joiner(w);
        if (ok && joiner(w)) { // "Leonard Green & Partners": a joiner only inside a name
            at++, step = 2;
            ok = at < d->n_words && at - *ws + 1 <= MAX_NAME_WORDS &&
                 same_line(&d->words[at], &d->words[*we]) && name_word(d->words[at].w->text) &&
                 !joiner(d->words[at].w->text);
        }
        if (!ok || !run_text(d, *ws, at, text, sizeof text) || !reads_as(t, text)) break;
        *we += step;
    }
}

// A party list's item, words [ws, we]. One that meets an item already listed, with no
// word between them and no end of a name ("Inc.", a comma) where they meet, is part of
// that item: two parties always have a word between them ("and", "between"), and the
// pointers split a name where its line breaks ("REG MARKETING & LOGISTICS" and "GROUP,
// LLC,", in either order). The joined item's confidence is both choices' product, as a
// value's is.
static void put_party(dstate *d, int ws, int we, double conf) {
    json_t *list = json_object_get(d->fields, d->schema->fields[d->field].name);
    for (int k = 0; k < d->n_items; k++) {
        int ks = d->items[k].ws, ke = d->items[k].we;
        int last; // the word where they meet, the earlier item's last
        if (ke + 1 == ws)
            last = ke;
        else if (we + 1 == ks)
            last = we;
        else
            continue;
        int s0 = ks < ws ? ks : ws, e0 = ke > we ? ke : we;
        if (ends_name(d->words[last].w->text) || d->words[ks].p != d->words[ws].p ||
            e0 - s0 >= MAX_NAME_WORDS)
            continue;
        json_array_remove(list, (size_t)k);
        conf *= d->items[k].conf;
        ws = s0, we = e0;
        d->n_items--;
        memmove(d->items + k, d->items + k + 1, sizeof d->items[0] * (size_t)(d->n_items - k));
        break;
    }
    size_t n = json_array_size(list);
    put_value(d, span_value(d, ws, we, conf));
    if (json_array_size(list) > n && d->n_items < DS_LIST_MAX_ITEMS) { // added: not a repeat
        d->items[d->n_items].ws = ws;
        d->items[d->n_items].we = we;
        d->items[d->n_items++].conf = conf;
    }
}

// A document whose amounts carry two decimals prints all of them so: its total is
// no bare number. On SROIE's receipts read by OCR, where the total's label was
// misread ("TORe RM 73.00"), the model pointed at a quantity ("2"), a fragment of
// a card number ("70549") or a pump's number ("95") as the total.
#define DS_CENTS_AMOUNTS 3 // words with two decimals that make a document's format

// A total, in a document whose payment lines say what was due, is that amount.
static int due_applies(const dstate *d) {
    return d->has_due && d->schema && !strcmp(d->schema->fields[d->field].name, "total");
}

// ---- signs alone; addresses, whole lines (samples/address.h)

#define DS_ADDRESS_LINES 6 // the most lines an address takes

// Whether word w holds no letter or digit: signs alone (";", "|", "“", "—"), as OCR
// reads at a line's edge ("; NO.113G") or from a form's rules. Bytes of other scripts
// count as letters, but for Unicode's general punctuation (U+2000-U+206F: quotes,
// dashes, ellipsis).
static int signs(const char *w) {
    for (const unsigned char *p = (const unsigned char *)w; *p; p++) {
        if (isalnum(*p)) return 0;
        if (*p < 0x80) continue;
        if (p[0] != 0xE2 || (p[1] != 0x80 && p[1] != 0x81) || !p[2]) return 0;
        p += 2;
    }
    return 1;
}

// Whether words [ws, we] are signs alone.
static int run_signs(const dstate *d, int ws, int we) {
    for (int i = ws; i <= we; i++)
        if (!signs(d->words[i].w->text)) return 0;
    return 1;
}

// Whether word w is a label ("Address:").
static int label(const char *w) {
    size_t n = strlen(w);
    return n > 1 && w[n - 1] == ':';
}

// Whether words [ws, we] can be an address: whole lines of one page (but for the
// words beside them named below), each one that can be part of an address, at most
// DS_ADDRESS_LINES of them.
static int address_run(const dstate *d, int ws, int we) {
    if (we >= d->n_words || we - ws >= DS_MAX_SPAN_WORDS) return 0;
    // before it on its line, labels and signs; after it, signs, or a label or a
    // phone or a title that follows it on the line ("81100 JOHOR BAHRU Tel: ...")
    for (int i = ws - 1; i >= 0 && same_line(&d->words[i], &d->words[ws]); i--)
        if (!signs(d->words[i].w->text) && !label(d->words[i].w->text)) return 0;
    for (int i = we + 1; i < d->n_words && same_line(&d->words[i], &d->words[we]); i++) {
        const char *w = d->words[i].w->text;
        if (label(w) || ds_address_stop_word(w)) break;
        if (!signs(w)) return 0;
    }
    int lines = 1;
    for (int i = ws; i <= we; i++) {
        if (!d->address_line[i] || d->words[i].p != d->words[ws].p) return 0;
        if (i > ws && !same_line(&d->words[i], &d->words[i - 1]) && ++lines > DS_ADDRESS_LINES)
            return 0;
    }
    return 1;
}

// Which words' lines can be part of an address (d->address_line), made at the
// document's first address field.
static int address_lines(dstate *d) {
    if (d->address_line) return 0;
    const char **line = malloc(sizeof(char *) * (size_t)(d->n_words + 1));
    d->address_line = malloc((size_t)d->n_words + 1);
    if (!line || !d->address_line) {
        free(line);
        return ds_error(DS_E_NOMEM, "decode: out of memory");
    }
    for (int s = 0, e; s < d->n_words; s = e) {
        for (e = s; e < d->n_words && same_line(&d->words[e], &d->words[s]); e++)
            line[e - s] = d->words[e].w->text;
        int ok = ds_address_line(line, e - s);
        memset(d->address_line + s, ok, (size_t)(e - s));
    }
    free(line);
    return 0;
}

#define DS_BLOCK_INDENT 2.0f // how far a block's lines may start from its first word, in lines

// The last word before end of the block of lines that starts at word ws: each line the
// run goes on to is of the same page, starts below the line before it, at most a line's
// height under it, and where the run's first word starts (within DS_BLOCK_INDENT line
// heights). A form's entity that runs on is a paragraph so (FUNSD's 40 of 601 entities
// on more than one line, in the last ten forms); a run that wraps from a line's end to
// the next line's start in another column ("Type of Cigarette 85 mm Filter @ Batch
// Size") is two.
static int block_end(const dstate *d, int ws, int end) {
    const ds_box *first = &d->words[ws].w->box;
    for (int i = ws + 1; i < end; i++) {
        if (same_line(&d->words[i], &d->words[i - 1])) continue;
        const ds_box *a = &d->words[i - 1].w->box, *b = &d->words[i].w->box;
        float h = a->y1 - a->y0;
        if (d->words[i].p != d->words[ws].p || b->y0 < a->y0 || b->y0 - a->y1 > h ||
            fabsf(b->x0 - first->x0) > DS_BLOCK_INDENT * h)
            return i - 1;
    }
    return end - 1;
}

// The most words a run of type t takes.
static int typed_reach(ds_field_type t) {
    return t == DS_FIELD_ADDRESS ? DS_MAX_SPAN_WORDS : DS_TYPED_RUN;
}

static int typed_run(const dstate *d, int ws, int we, ds_field_type t) {
    if (!is_typed(t)) return 1;
    if (t == DS_FIELD_ADDRESS) return address_run(d, ws, we);
    if (we - ws >= DS_TYPED_RUN || we >= d->n_words) return 0;
    char text[256];
    if (!run_text(d, ws, we, text, sizeof text) || !reads_as(t, text)) return 0;
    if (t != DS_FIELD_AMOUNT) return 1;
    double v;
    return (!d->cents || ds_norm_cents(text)) &&
           (!due_applies(d) || (ds_norm_amount(text, &v) == 0 && fabs(v - d->due) < 0.005));
}

// The best-scoring start word of a run of type t; -1 when no word starts one.
static int typed_start(const dstate *d, const float *p, ds_field_type t) {
    int best = -1;
    for (int i = 0; i < d->n_words; i++) {
        if (best >= 0 && p[i] <= p[best]) continue;
        for (int j = i; j < d->n_words && j < i + typed_reach(t); j++)
            if (typed_run(d, i, j, t)) {
                best = i;
                break;
            }
    }
    return best;
}

static int sam_ready(dstate *d) {
    return d->sam.st ? 0 : ds_sam_build(&d->sam, d->gs.doc_ids, d->gs.n_doc);
}

// The generated value's text (its leading and trailing spaces dropped) into text; its
// length or -1.
static int gen_text(const ds_model *m, const dstate *d, char *text, size_t cap) {
    char raw[1024];
    int k = ds_tokenizer_decode(m->tok, d->gen, d->gn, raw, sizeof raw);
    if (k <= 0) return -1;
    const char *v = raw + strspn(raw, " ");
    int n = snprintf(text, cap, "%s", v);
    n = n < (int)cap ? n : (int)cap - 1;
    while (n > 0 && text[n - 1] == ' ') text[--n] = 0; // a run may end on a space token
    return n;
}

// Whether document token t is of the same word as token w and its byte at the start
// (last: at the end) is a digit.
static int digit_of_word(const ds_model *m, const dstate *d, int t, int w, int last) {
    if (t < 0 || t >= d->gs.n_doc || d->gs.doc_word[t] < 0 ||
        d->gs.doc_word[t] != d->gs.doc_word[w])
        return 0;
    int len;
    const char *b = ds_tokenizer_piece(m->tok, d->gs.doc_ids[t], &len);
    return b && len > 0 && isdigit((unsigned char)b[last ? len - 1 : 0]);
}

// Whether the generated run, where it first stands in the document, starts or ends
// between two digits of one word: on SROIE receipt 013 OCR read "2017-12-28" and
// the model's date was "2017-12-2". A number is taken whole; an amount out of
// "RM9.00" or a date before a comma still ends at the word's edge of the number.
static int cuts_number(const ds_model *m, const dstate *d, const char *text, int n) {
    int end = d->sam_s > 0 ? d->sam.st[d->sam_s].first : -1, start = end - d->gn + 1;
    if (end < 0 || start < 0 || !d->gs.doc_word || d->gs.doc_word[end] < 0) return 0;
    return (isdigit((unsigned char)text[n - 1]) && digit_of_word(m, d, end + 1, end, 0)) ||
           (isdigit((unsigned char)text[0]) && digit_of_word(m, d, start - 1, start, 1));
}

// Whether the generated value may end here: whole UTF-8, not blank, no number cut in
// two, and a date or an amount that reads as one (unless o loosens that).
static int gen_value_ok(const ds_model *m, const dstate *d, const ds_decode_opts *o) {
    char text[1024];
    int n = gen_text(m, d, text, sizeof text);
    if (n <= 0 || text[strspn(text, " ")] == 0 || cuts_number(m, d, text, n)) return 0;
    json_t *utf8 = json_stringn(text, (size_t)n); // NULL unless whole UTF-8
    if (!utf8) return 0;
    json_decref(utf8);
    return (o && o->no_type_constraint) || reads_as(d->schema->fields[d->field].type, text);
}

// Whether the generated value spells a run of whole words of the document, as
// fusion/sequence.c matches a true value to the words.
static int gen_spells_run(const ds_model *m, const dstate *d) {
    char raw[1024], want[1024];
    if (gen_text(m, d, raw, sizeof raw) <= 0) return 0;
    ds_seq_collapse(want, raw, sizeof want);
    size_t wl = strlen(want);
    for (int i = 0; i < d->n_words && wl > 0; i++) {
        size_t off = 0;
        for (int j = i;
             j < d->n_words && ds_seq_spell_next(want, wl, &off, d->words[j].w->text, j == i); j++)
            if (off == wl) return 1;
    }
    return 0;
}

// The value object of the generated run, grounded on the words its tokens came from:
// the span automaton's state knows where the run first ends in the document.
static json_t *gen_value(const ds_model *m, dstate *d) {
    char text[1024];
    if (gen_text(m, d, text, sizeof text) <= 0) return NULL;
    json_t *v = json_pack("{s:s, s:f}", "value", text, "confidence", d->conf);
    int end = d->sam_s > 0 ? d->sam.st[d->sam_s].first : -1, w0 = -1, w1 = -1;
    for (int t = end - d->gn + 1; v && d->gs.doc_word && end >= 0 && t <= end; t++) {
        int w = t >= 0 ? d->gs.doc_word[t] : -1;
        if (w < 0 || w >= d->n_words) continue;
        if (w0 < 0) w0 = w;
        w1 = w;
    }
    if (v && w0 >= 0) {
        json_t *g = span_value(d, w0, w1, 0);
        json_object_set(v, "page", json_object_get(g, "page"));
        json_object_set(v, "box", json_object_get(g, "box"));
        json_object_del(v, "confidence"); // after the box, as a span's
        json_object_set_new(v, "confidence", json_real(d->conf * reading_conf(d, w0, w1)));
        json_decref(g);
    }
    if (v) json_object_set_new(v, "source", json_string("generated"));
    return v;
}

// One decision from hidden h (and its logits). Returns the token to feed next, or -1
// when the document is finished.
static int32_t decide(ds_model *m, dstate *d, const float *h, const float *logits,
                      const ds_decode_opts *o, const ds_schema_set *schemas) {
    d->box[0] = -1;
    if (d->qi < d->qn) return d->queue[d->qi++];
    int rc;
    switch (d->mode) {
    case M_CHOICE: {
        if (d->kind == K_SPAN && d->cpos == 0 && d->gs.n_doc > 0 && !(o && o->spans_only)) {
            // A span field: [copy], [null], or (as training does for values that are no
            // run of document words, e.g. OCR that splits them differently) the first
            // token of a generated value, chosen among the document's tokens.
            int V = m->cfg.vocab, na = 0;
            uint8_t *ok = d->ok;
            int32_t *al = d->allowed;
            if ((rc = sam_ready(d))) goto fail;
            memset(ok, 0, (size_t)V);
            if (o && o->copy_constraint == DS_COPY_NONE)
                memset(ok + DS_TOK_BYTE0, 1, (size_t)(V - DS_TOK_BYTE0));
            else
                ds_sam_allow(&d->sam, 0, DS_TOK_BYTE0, ok); // the first token of any run
            ok[DS_TOK_COPY] = d->gs.n_words > 0;            // no words: nothing to point at
            ok[DS_TOK_NULLV] = 1;
            for (int v = 0; v < V; v++)
                if (ok[v]) al[na++] = v;
            double p;
            int32_t tok = ds_sample_pick(logits, al, na, o, &p);
            d->conf *= p;
            if (tok == DS_TOK_COPY) {
                d->mode = M_PTR_START;
                return tok;
            }
            if (tok == DS_TOK_NULLV) {
                put_value(d, NULL);
                if ((rc = start_field(m, d, d->field + 1))) goto fail;
                return d->done ? -1 : tok;
            }
            d->mode = M_GEN; // the value continues as a run of the document's tokens
            d->gn = 0;
            if (ok[DS_TOK_COPY] && !(o && o->keep_generated_runs)) {
                d->retract_len = d->gs.kv.len;
                d->retract_conf = d->conf / p;
                // [copy]'s probability beside the pick's p, both among the same tokens
                float temp = o && o->temperature > 0 ? o->temperature : 1.0f;
                d->retract_copy = p * exp((logits[DS_TOK_COPY] - logits[tok]) / temp);
            }
            d->gen[d->gn++] = tok;
            d->sam_s = ds_sam_next(&d->sam, 0, tok);
            return tok;
        }
        int32_t allowed[MAX_CAND];
        int na = 0;
        for (int k = 0; k < d->n_cand; k++) {
            if (!d->alive[k]) continue;
            int32_t t = d->cand[k][d->cpos];
            int dup = 0;
            for (int i = 0; i < na; i++) dup |= allowed[i] == t;
            if (!dup) allowed[na++] = t;
        }
        double p;
        int32_t tok = ds_sample_pick(logits, allowed, na, o, &p);
        d->conf *= p;
        int complete = -1;
        for (int k = 0; k < d->n_cand; k++) {
            if (d->alive[k] && d->cand[k][d->cpos] != tok) d->alive[k] = 0;
            if (d->alive[k] && d->cand_len[k] == d->cpos + 1) complete = k;
        }
        d->cpos++;
        if (complete < 0) return tok;
        if (d->kind == K_TYPE) {
            d->doc_type = d->type_names[complete];
            d->schema = ds_schema_find(schemas, d->doc_type);
            d->doc_conf = d->conf;
            for (int i = 0; o && i < o->n_named_only; i++)
                if (!strcmp(o->named_only[i], d->doc_type)) {
                    d->done = 1;
                    return -1;
                }
            if ((rc = start_field(m, d, 0))) goto fail;
            return d->done ? -1 : tok;
        }
        if (tok == DS_TOK_COPY) {
            d->mode = M_PTR_START;
            return tok;
        }
        if (d->kind == K_VALUE && tok == DS_TOK_EOV) {
            const ds_field *fd = &d->schema->fields[d->field];
            const char *v = fd->type == DS_FIELD_CHECKBOX ? (complete == 0 ? "true" : "false")
                                                          : fd->values[complete];
            json_t *o2 =
                json_pack("{s:s, s:f, s:s}", "value", v, "confidence", d->conf, "source", "choice");
            if (fd->type == DS_FIELD_CHECKBOX)
                json_object_set_new(o2, "value", json_boolean(complete == 0));
            put_value(d, o2);
        } else if (d->kind != K_LIST) { // [null]
            put_value(d, NULL);
        }
        if ((rc = start_field(m, d, d->field + 1))) goto fail;
        return d->done ? -1 : tok;
    }
    case M_PTR_START: {
        float *p = malloc(sizeof(float) * (d->gs.n_words + 1));
        if (!p) {
            rc = DS_E_NOMEM;
            goto fail;
        }
        ds_infer_pointer(m, &d->gs, h, 1, 0, p);
        ds_field_type ft = d->schema->fields[d->field].type;
        if (o && o->no_type_constraint && is_typed(ft)) ft = DS_FIELD_TEXT; // any run
        if (ft == DS_FIELD_ADDRESS && (rc = address_lines(d))) {
            free(p);
            goto fail;
        }
        int best = typed_start(d, p, ft);
        // No run of the field's type: the pointers run as trained, but the value
        // is null, since no run of these words can be a date / an amount.
        d->typed_miss = best < 0 && is_typed(ft);
        if (best < 0)
            for (int i = best = 0; i < d->gs.n_words; i++) best = p[i] > p[best] ? i : best;
        if (ft == DS_FIELD_TEXT_LIST) // after the list's previous item (list_has_room: one is)
            for (int i = best = d->list_next; i < d->gs.n_words; i++)
                best = p[i] > p[best] ? i : best;
        d->conf *= p[best];
        free(p);
        d->ws = best;
        d->mode = M_PTR_END;
        const ds_page *pg = d->words[best].page;
        const ds_box *wb = &d->words[best].w->box;
        float W = pg->width_pt > 0 ? pg->width_pt : 1, H = pg->height_pt > 0 ? pg->height_pt : 1;
        float c[4] = {wb->x0 / W, wb->y0 / H, wb->x1 / W, wb->y1 / H};
        for (int j = 0; j < 4; j++) {
            int q = (int)floorf(c[j] * DS_BOX_BINS);
            d->box[j] = q < 0 ? 0 : q >= DS_BOX_BINS ? DS_BOX_BINS - 1 : q;
        }
        d->page = d->words[best].p;
        return DS_TOK_COPY_END;
    }
    case M_PTR_END: {
        float *p = malloc(sizeof(float) * (d->gs.n_words + 1));
        if (!p) {
            rc = DS_E_NOMEM;
            goto fail;
        }
        ds_infer_pointer(m, &d->gs, h, 2, d->ws, p);
        ds_field_type ft = d->schema->fields[d->field].type;
        if (o && o->no_type_constraint && is_typed(ft)) ft = DS_FIELD_TEXT;
        // a value is at most DS_MAX_SPAN_WORDS words: a pointer that ends farther away
        // has run past the value (FUNSD's forms: a whole paragraph as one answer)
        int best = -1, any = d->ws, end = d->gs.n_words;
        if (d->ws + DS_MAX_SPAN_WORDS < end) end = d->ws + DS_MAX_SPAN_WORDS;
        double mass = 0, typed_mass = 0;
        // a form's entity (a text list's item) ends where its block of lines does: the
        // end pointer's mass past that is the item run on into the next one
        int last = ft == DS_FIELD_TEXT_LIST && !(o && o->no_type_constraint)
                       ? block_end(d, d->ws, end)
                       : end - 1;
        for (int i = d->ws; i < end; i++) {
            mass += p[i];
            if (p[i] > p[any]) any = i;
            if (i > last) continue;
            if (!typed_run(d, d->ws, i, ft)) continue;
            typed_mass += p[i];
            if (best < 0 || p[i] > p[best]) best = i;
        }
        // The end's probability among the ends the type allows, as a token's is among
        // the tokens allowed. The end pointer's mass off them is the value cut short or
        // run long ("New" of "New York", "Massachusetts, without regard"), which the type
        // mends; the start pointer's mass off a value is a doubt that it is the value at
        // all, so the start stays as the pointer scored it. No end of the type: any end.
        double allowed = best >= 0 ? typed_mass : mass;
        int moved = 0;
        // An address whose end pointer stops inside a line or runs past its lines ("...
        // (MR DIY TESCO TERBAU) -INVOICE- CHOPPING BOARD"): the pointer's end moves to the
        // nearest end of a line that can be one, and keeps its probability.
        if (ft == DS_FIELD_ADDRESS && best >= 0 && !typed_run(d, d->ws, any, ft)) {
            best = -1;
            for (int i = d->ws; i < end; i++)
                if (typed_run(d, d->ws, i, ft) && (best < 0 || abs(i - any) <= abs(best - any)))
                    best = i;
            moved = 1;
        }
        if (best < 0) best = any;
        double conf = d->conf * (moved ? p[any] : allowed > 0 ? p[best] / allowed : p[best]);
        free(p);
        d->list_next = best + 1;
        if (ft == DS_FIELD_CHECKBOX || ft == DS_FIELD_ENUM)
            put_value(d, mark_value(d, d->ws, conf));
        else if (ft == DS_FIELD_NAME || ft == DS_FIELD_PARTY_LIST) {
            int ws = d->ws, we = best;
            if (!d->typed_miss) grow_name(d, ft, &ws, &we);
            d->list_next = we + 1; // the next item starts after this one's whole name
            if (ft == DS_FIELD_PARTY_LIST && !d->typed_miss)
                put_party(d, ws, we, conf);
            else
                put_value(d, d->typed_miss ? NULL : span_value(d, ws, we, conf));
        } else {
            json_t *v = d->typed_miss ? NULL : span_value(d, d->ws, best, conf);
            // a form's question, answer or header holds a letter or a digit: on FUNSD's
            // forms with OCR the model listed ".", ":", "|" and "“" (27 of 20 forms' 486
            // wrong entities, none right)
            if (v && ft == DS_FIELD_TEXT_LIST && !(o && o->no_type_constraint) &&
                run_signs(d, d->ws, best)) {
                json_decref(v);
                v = NULL;
            }
            // held to what the payment lines or the sum say was due: said, for whoever
            // checks the value
            if (v && ft == DS_FIELD_AMOUNT && due_applies(d))
                json_object_set_new(v, "check", json_string(d->has_due == 1 ? "payment" : "sum"));
            put_value(d, v);
        }
        const ds_field *fd = &d->schema->fields[d->field];
        if (ds_field_is_multi(fd->type)) {
            // the next item or the end of the list is predicted here, at [copy_end]; a list
            // ends after max_items items (the answer's room in the sequence counts on it)
            start_choice(d, K_LIST);
            d->conf = 1.0;
            if (list_has_room(m, d, fd)) add_cand(m, d, NULL, DS_TOK_COPY);
            add_cand(m, d, NULL, DS_TOK_EOV);
            return decide(m, d, h, logits, o, schemas);
        }
        if ((rc = start_field(m, d, d->field + 1))) goto fail;
        return d->done ? -1 : d->queue[d->qi++];
    }
    case M_GEN: {
        // A generated value: a run of the document's tokens (the span automaton's
        // continuations of the run so far), ended only where its text is whole UTF-8
        // and, for a date, an amount or a currency, reads as one. It goes on while the
        // sequence has room for this token, the value's [eov] and the later fields; a
        // run that can neither go on nor end is a null value.
        int V = m->cfg.vocab;
        uint8_t *ok = d->ok;
        int32_t *allowed = d->allowed;
        if ((rc = sam_ready(d))) goto fail;
        if (d->gn == 0) d->sam_s = 0;
        memset(ok, 0, (size_t)V);
        int cc = o ? o->copy_constraint : DS_COPY_RUN,
            more = d->gn < MAX_GEN && seq_has_room(m, d, 2);
        if (more && cc == DS_COPY_RUN) {
            ds_sam_allow(&d->sam, d->sam_s, DS_TOK_BYTE0, ok);
        } else if (more && cc == DS_COPY_BIGRAM) {
            ds_copy_mask(d->gs.doc_ids, d->gs.n_doc, d->gn ? d->gen[d->gn - 1] : -1, d->gn == 0, ok,
                         V);
            memset(ok, 0, DS_TOK_BYTE0); // text tokens only
        } else if (more) {
            memset(ok + DS_TOK_BYTE0, 1, (size_t)(V - DS_TOK_BYTE0));
        }
        if (d->gn == 0)
            ok[DS_TOK_NULLV] = 1;
        else if (gen_value_ok(m, d, o))
            ok[DS_TOK_EOV] = 1;
        int na = 0;
        for (int v = 0; v < V; v++)
            if (ok[v]) allowed[na++] = v;
        float *lp = d->lp;
        if (m->cfg.copy_pointer_gen) {
            for (int v = 0; v < V; v++) lp[v] = -INFINITY;
            pg_mixture(m, &d->gs, h, logits, allowed, na, lp);
        } else {
            memcpy(lp, logits, sizeof(float) * V);
        }
        double p = 1.0;
        // nothing allowed: the run cannot continue nor end as a value of its type
        int32_t best = na > 0 ? ds_sample_pick(lp, allowed, na, o, &p) : DS_TOK_NULLV;
        d->conf *= p;
        // A value that spells a run of the document's words is, in training, always
        // pointed at (fusion/sequence.c): generated, it is a copy chosen the wrong way,
        // and [copy] goes where its first token went, with the generated run's
        // probability added to its own. The pointers then choose among every run: on
        // SROIE receipt 013 the model wrote the footer's "2017-12-28", and pointed at
        // the "DATE : 12/28/2017" the truth takes.
        if (best == DS_TOK_EOV && d->retract_len >= 0 && gen_spells_run(m, d)) {
            double run = d->retract_conf > 0 ? d->conf / d->retract_conf : 0;
            d->conf = d->retract_conf * fmin(1.0, d->retract_copy + run);
            d->gs.kv.len = d->retract_len; // the generated tokens' keys are overwritten
            d->retract_len = -1;
            d->mode = M_PTR_START;
            return DS_TOK_COPY;
        }
        if (best == DS_TOK_EOV || best == DS_TOK_NULLV) {
            put_value(d, best == DS_TOK_NULLV ? NULL : gen_value(m, d));
            if ((rc = start_field(m, d, d->field + 1))) goto fail;
            return d->done ? -1 : best;
        }
        d->gen[d->gn++] = best;
        d->sam_s = ds_sam_next(&d->sam, d->sam_s, best);
        return best;
    }
    }
    rc = DS_E_INTERNAL;
fail:
    d->err = rc;
    d->done = 1;
    return -1;
}

// ---- the continuous batch (decode.h)

enum { SLOT_FREE, SLOT_WAITING, SLOT_PREFILL, SLOT_DECODING, SLOT_DONE };

typedef struct {
    int phase;
    long order; // arrival, for first-come first-served prefills and answers
    int steps;  // decode steps run
    void *tag;
    const ds_doc *doc;
    ds_seq *seq;
    const ds_lora *adapter;
    ds_decode_opts opts;
    int has_opts;
    dstate d;
    char err[DS_DECODE_ERR_LEN];
} slot;

struct ds_decoder {
    ds_model *m;
    ds_ctx *ctx;
    ds_kv_cache *cache;
    const ds_schema_set *schemas;
    int cap;
    slot *slots;
    long arrivals;
    ds_prefill *pf; // the prefill running, of slot pf_slot
    int pf_slot;
    ds_decode_stats stats;
    // a step's scratch (cap rows)
    int32_t *ids, *box, *page, *which;
    ds_gen_state **gp;
    float *hid, *logits;
};

void ds_decoder_free(ds_decoder *dc) {
    if (!dc) return;
    for (int i = 0; i < dc->cap && dc->slots; i++) {
        slot *sl = &dc->slots[i];
        if (sl->phase == SLOT_FREE) continue;
        ds_gen_state_release(dc->cache, &sl->d.gs);
        ds_sam_free(&sl->d.sam);
        json_decref(sl->d.fields);
        free(sl->d.words);
        free(sl->d.address_line);
        free(sl->d.ok);
        free(sl->d.allowed);
        free(sl->d.lp);
    }
    ds_prefill_free(dc->pf);
    free(dc->slots);
    free(dc->ids);
    free(dc->box);
    free(dc->page);
    free(dc->which);
    free(dc->gp);
    free(dc->hid);
    free(dc->logits);
    free(dc);
}

int ds_decoder_new(ds_model *m, ds_ctx *ctx, ds_kv_cache *cache, const ds_schema_set *schemas,
                   int cap, ds_decoder **out) {
    *out = NULL;
    if (cap < 1) return ds_error(DS_E_INVAL, "decoder: room for %d documents", cap);
    ds_decoder *dc = calloc(1, sizeof *dc);
    if (!dc) return ds_error(DS_E_NOMEM, "decode: out of memory");
    *dc = (ds_decoder){.m = m, .ctx = ctx, .cache = cache, .schemas = schemas, .cap = cap};
    size_t n = (size_t)cap, C = (size_t)m->cfg.dim, V = (size_t)m->cfg.vocab;
    dc->slots = calloc(n, sizeof *dc->slots);
    dc->ids = calloc(n, sizeof(int32_t));
    dc->box = calloc(n * 4, sizeof(int32_t));
    dc->page = calloc(n, sizeof(int32_t));
    dc->which = calloc(n, sizeof(int32_t));
    dc->gp = calloc(n, sizeof *dc->gp);
    dc->hid = malloc(sizeof(float) * C * (n + 1));
    dc->logits = malloc(sizeof(float) * V * (n + 1));
    if (!dc->slots || !dc->ids || !dc->box || !dc->page || !dc->which || !dc->gp || !dc->hid ||
        !dc->logits) {
        ds_decoder_free(dc);
        return ds_error(DS_E_NOMEM, "decode: out of memory");
    }
    *out = dc;
    return 0;
}

// Ends slot sl with error rc (its message kept: another slot's error replaces the
// thread's detail).
static void slot_fail(slot *sl, int rc) {
    snprintf(sl->err, sizeof sl->err, "%s", ds_errmsg()[0] ? ds_errmsg() : ds_strerror(rc));
    sl->d.err = rc;
    sl->d.done = 1;
    sl->phase = SLOT_DONE;
}

// The slot's decoding state for its document: the words the sequence kept and the
// choice of the document type.
static int slot_init(ds_decoder *dc, slot *sl, const char *doc_type) {
    const ds_model *m = dc->m;
    const ds_schema_set *schemas = dc->schemas;
    dstate *d = &sl->d;
    int V = m->cfg.vocab;
    memset(d, 0, sizeof *d);
    d->fields = json_object();
    d->words = malloc(sizeof(wref) * (sl->seq->n_words + 1));
    d->ok = malloc((size_t)V);
    d->allowed = malloc(sizeof(int32_t) * (size_t)V);
    d->lp = malloc(sizeof(float) * (size_t)V);
    if (!d->fields || !d->words || !d->ok || !d->allowed || !d->lp)
        return ds_error(DS_E_NOMEM, "decode: out of memory");
    // the words the sequence kept, in its order (fusion/sequence.c: check-box words
    // only when the config reads them)
    const ds_doc *doc = sl->doc;
    int w = 0;
    for (int p = 0; p < doc->n_pages && w < sl->seq->n_words; p++)
        for (int k = 0; k < doc->pages[p].n_words && w < sl->seq->n_words; k++) {
            const ds_word *wd = &doc->pages[p].words[k];
            if (!ds_seq_reads_word(&m->cfg, wd)) continue;
            d->n_marks += wd->source == DS_WORD_MARK;
            d->words[w].page = &doc->pages[p];
            d->words[w].w = wd;
            d->words[w++].p = p;
        }
    d->n_words = w;
    int cents = 0;
    for (int i = 0; i < d->n_words; i++) cents += ds_norm_cents(d->words[i].w->text);
    d->cents = cents >= DS_CENTS_AMOUNTS;
    d->has_due = ds_paid_due(doc, &d->due) ? 1 : ds_sum_due(doc, &d->due) ? 2 : 0;
    d->conf = 1.0; // the type's probability accumulates from here (was 0: calloc)
    start_choice(d, K_TYPE);
    for (int s = 0; s < schemas->n; s++) {
        const char *name = schemas->schemas[s].doc_type;
        if (doc_type ? strcmp(doc_type, name) != 0 : !schemas->schemas[s].routed) continue;
        int rc = add_cand(m, d, name, DS_TOK_EOV);
        if (rc) return rc;
        d->type_names[d->n_cand - 1] = name;
    }
    if (d->n_cand == 0)
        return ds_error(DS_E_INVAL, "decode: doc type '%s' is not in the schemas", doc_type);
    return 0;
}

int ds_decoder_add(ds_decoder *dc, const ds_doc *doc, ds_seq *seq, const char *doc_type,
                   const ds_decode_opts *opts, const ds_lora *adapter, void *tag) {
    slot *sl = NULL;
    for (int i = 0; i < dc->cap && !sl; i++)
        if (dc->slots[i].phase == SLOT_FREE) sl = &dc->slots[i];
    if (!sl) return ds_error(DS_E_BUSY, "decoder: all %d places taken", dc->cap);
    *sl = (slot){.phase = SLOT_WAITING,
                 .order = dc->arrivals++,
                 .tag = tag,
                 .doc = doc,
                 .seq = seq,
                 .adapter = adapter,
                 .has_opts = opts != NULL};
    if (opts) sl->opts = *opts;
    int rc = slot_init(dc, sl, doc_type);
    if (rc) slot_fail(sl, rc);
    return 0;
}

int ds_decoder_active(const ds_decoder *dc) {
    int n = 0;
    for (int i = 0; i < dc->cap; i++)
        n += dc->slots[i].phase == SLOT_WAITING || dc->slots[i].phase == SLOT_PREFILL ||
             dc->slots[i].phase == SLOT_DECODING;
    return n;
}

int ds_decoder_room(const ds_decoder *dc) {
    int n = 0;
    for (int i = 0; i < dc->cap; i++) n += dc->slots[i].phase == SLOT_FREE;
    return n;
}

ds_decode_stats ds_decoder_stats(const ds_decoder *dc) {
    return dc->stats;
}

// The model runs with adapter a from here (attached or detached only when it changes).
static void use_adapter(ds_model *m, const ds_lora *a) {
    if (m->lora == a) return;
    if (a)
        ds_lora_attach(m, a);
    else
        ds_lora_detach(m);
}

// The slot's first decision, from the hidden state of its prefix's last token ([ans]).
static void slot_start(ds_decoder *dc, slot *sl, const float *h) {
    float *logits = dc->logits;
    ds_infer_logits(dc->m, dc->ctx, h, 1, logits);
    sl->d.feed = decide(dc->m, &sl->d, h, logits, sl->has_opts ? &sl->opts : NULL, dc->schemas);
    sl->phase = sl->d.done ? SLOT_DONE : SLOT_DECODING;
    if (sl->d.err) slot_fail(sl, sl->d.err);
}

// One piece of the oldest waiting document's prefill (starting it when none runs).
static void prefill_piece(ds_decoder *dc, ds_arena *arena) {
    if (!dc->pf) {
        slot *first = NULL;
        for (int i = 0; i < dc->cap; i++) {
            slot *sl = &dc->slots[i];
            if (sl->phase == SLOT_WAITING && (!first || sl->order < first->order)) first = sl;
        }
        if (!first) return;
        ds_gen_state *g = &first->d.gs;
        int rc = ds_prefill_begin(dc->m, dc->ctx, dc->cache, &g, &first->seq, 1, &dc->pf);
        if (rc) {
            slot_fail(first, rc);
            return;
        }
        dc->pf_slot = (int)(first - dc->slots);
        first->phase = SLOT_PREFILL;
    }
    slot *sl = &dc->slots[dc->pf_slot];
    use_adapter(dc->m, sl->adapter);
    double t0 = ds_time_s();
    int done = 0, rc = ds_prefill_next(dc->pf, arena, &done);
    ds_arena_reset(arena);
    dc->stats.prefill_s += ds_time_s() - t0;
    dc->stats.prefills += !rc && done;
    if (!rc && done)
        slot_start(dc, sl,
                   ds_prefill_hidden(dc->pf) + (size_t)(sl->seq->n_prefix - 1) * dc->m->cfg.dim);
    if (rc) slot_fail(sl, rc);
    if (rc || done) {
        ds_prefill_free(dc->pf);
        dc->pf = NULL;
    }
}

// One decode step for the decoding documents that run with adapter a.
static void decode_group(ds_decoder *dc, const ds_lora *a, ds_arena *arena) {
    ds_model *m = dc->m;
    int C = m->cfg.dim, V = m->cfg.vocab, na = 0;
    for (int i = 0; i < dc->cap; i++) {
        dstate *d = &dc->slots[i].d;
        if (dc->slots[i].phase != SLOT_DECODING || dc->slots[i].adapter != a) continue;
        dc->ids[na] = d->feed;
        memcpy(dc->box + 4 * na, d->box, sizeof d->box);
        dc->page[na] = d->box[0] >= 0 ? d->page : 0;
        dc->which[na] = i;
        dc->gp[na] = &d->gs;
        na++;
    }
    if (na == 0) return;
    use_adapter(m, a);
    double t0 = ds_time_s();
    int rc = ds_infer_step(m, dc->ctx, dc->cache, dc->gp, na, dc->ids, dc->box, dc->page, dc->hid,
                           arena);
    if (!rc) ds_infer_logits(m, dc->ctx, dc->hid, na, dc->logits);
    ds_arena_reset(arena);
    dc->stats.tokens += rc ? 0 : na;
    dc->stats.decode_steps++;
    for (int j = 0; j < na; j++) {
        slot *sl = &dc->slots[dc->which[j]];
        if (rc) {
            slot_fail(sl, rc);
            continue;
        }
        const ds_decode_opts *o = sl->has_opts ? &sl->opts : NULL;
        sl->d.feed =
            decide(m, &sl->d, dc->hid + (size_t)j * C, dc->logits + (size_t)j * V, o, dc->schemas);
        int max_steps = o && o->max_steps > 0 ? o->max_steps : 1024;
        if (sl->d.err)
            slot_fail(sl, sl->d.err);
        else if (sl->d.done || sl->d.feed < 0)
            sl->phase = SLOT_DONE;
        else if (++sl->steps >= max_steps)
            slot_fail(sl, ds_error(DS_E_INTERNAL, "decode: no answer after %d steps", max_steps));
    }
    dc->stats.decode_s += ds_time_s() - t0; // the step and the decisions it fed
}

void ds_decoder_step(ds_decoder *dc, ds_arena *arena) {
    const ds_lora *found = dc->m->lora;
    prefill_piece(dc, arena);
    // the decoding documents, a step for each adapter among them (usually one)
    for (int i = 0; i < dc->cap; i++) {
        slot *sl = &dc->slots[i];
        if (sl->phase != SLOT_DECODING) continue;
        int seen = 0;
        for (int k = 0; k < i && !seen; k++)
            seen = dc->slots[k].phase == SLOT_DECODING && dc->slots[k].adapter == sl->adapter;
        if (!seen) decode_group(dc, sl->adapter, arena);
    }
    use_adapter(dc->m, found);
}

int ds_decoder_take(ds_decoder *dc, void **tag, json_t **out, int *rc, char *err, size_t cap) {
    slot *sl = NULL;
    for (int i = 0; i < dc->cap; i++)
        if (dc->slots[i].phase == SLOT_DONE && (!sl || dc->slots[i].order < sl->order))
            sl = &dc->slots[i];
    if (!sl) return 0;
    dstate *d = &sl->d;
    *tag = sl->tag;
    *out = NULL;
    *rc = d->err;
    if (!d->err) {
        *out = json_pack("{s:s, s:O, s:f}", "doc_type", d->doc_type ? d->doc_type : "", "fields",
                         d->fields, "confidence", round(d->doc_conf * 1000) / 1000);
        if (!*out) {
            *rc = DS_E_NOMEM;
            snprintf(sl->err, sizeof sl->err, "decode: out of memory");
        }
    }
    if (err && cap) snprintf(err, cap, "%s", *rc ? sl->err : "");
    ds_gen_state_release(dc->cache, &d->gs);
    ds_sam_free(&d->sam);
    json_decref(d->fields);
    free(d->words);
    free(d->address_line);
    free(d->ok);
    free(d->allowed);
    free(d->lp);
    memset(sl, 0, sizeof *sl); // SLOT_FREE
    return 1;
}

int ds_decode_batch(ds_model *m, ds_ctx *ctx, ds_kv_cache *cache, const ds_schema_set *schemas,
                    const ds_doc *const *docs, ds_seq *const *seqs, const char *const *doc_types,
                    int n, const ds_decode_opts *opts, json_t **out, ds_arena *arena) {
    ds_decoder *dc;
    for (int i = 0; i < n; i++) out[i] = NULL;
    int rc = ds_decoder_new(m, ctx, cache, schemas, n, &dc);
    if (rc) return rc;
    for (int i = 0; i < n; i++)
        ds_decoder_add(dc, docs[i], seqs[i], doc_types ? doc_types[i] : NULL, opts, m->lora,
                       (void *)(intptr_t)i);
    while (ds_decoder_active(dc)) ds_decoder_step(dc, arena);
    void *tag;
    json_t *o;
    int r;
    char err[DS_DECODE_ERR_LEN];
    while (ds_decoder_take(dc, &tag, &o, &r, err, sizeof err)) {
        out[(intptr_t)tag] = o;
        if (r && !rc) rc = ds_error(r, "%s", err);
    }
    ds_decoder_free(dc);
    return rc;
}
