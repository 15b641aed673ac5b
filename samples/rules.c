// rules.c: the rules baseline's entry point (ds_rules_extract): the token view
// of a document, the guess of its type from keywords, and the prediction JSON.
// The rules themselves are in rules-labels.c (values beside or below labels),
// rules-layout.c (receipt header, contract phrases) and rules-values.c (value
// patterns). Deliberately simple and deterministic: no learning, no scores
// tuned on the evaluation sets; it is the floor every model must beat.
#include "samples/rules.h"
#include "core/error.h"
#include "samples/form-entities.h"
#include "samples/rules-impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

// ---- the token view

// Where a word splits into tokens: "Tel:07-3507405" and "DATE:25/12/2018" are a
// label and a value glued together (OCR and some PDF producers drop the space),
// "Invoice#" is a label and its sign. Writes piece ends (byte offsets) into cut[].
static int split_word(const char *raw, int *cut) {
    int n = (int)strlen(raw), k = 0;
    const char *colon = strchr(raw, ':');
    if (colon && colon - raw >= 2 && colon[1] && colon[1] != ':') {
        int digits, letters;
        char head[64];
        int hn = (int)(colon - raw) < 63 ? (int)(colon - raw) : 63;
        memcpy(head, raw, (size_t)hn);
        head[hn] = '\0';
        ds_rules_count_chars(head, &digits, &letters);
        int d2, l2;
        ds_rules_count_chars(colon + 1, &d2, &l2);
        if (digits == 0 && letters >= 2 && d2 + l2 > 0) cut[k++] = (int)(colon - raw) + 1;
    }
    int label_end = k ? cut[0] : n;
    int e = label_end;
    while (e > 0 && raw[e - 1] == ':') e--;
    if (e >= 2 && raw[e - 1] == '#') {
        if (k)
            cut[0] = e - 1, cut[1] = label_end, k = 2;
        else
            cut[k++] = e - 1;
    }
    cut[k++] = n;
    return k;
}

// The folded form used for matching: ':' at either end and a final '.' ',' ';'
// dropped; "" for punctuation (except '#', which is part of labels like "Invoice #").
static void norm_of(const char *raw, char *out) {
    if (ds_rules_is_punct(raw) && !strchr(raw, '#')) {
        out[0] = '\0';
        return;
    }
    char *f = out;
    while (*raw == ':') raw++;
    int n = ds_rules_fold(raw, f);
    while (n > 1 && strchr(":.,;", f[n - 1])) f[--n] = '\0';
}

int ds_rview_init(ds_rview *v, const ds_doc *doc) {
    memset(v, 0, sizeof *v);
    v->doc = doc;
    size_t n_words = 0, n_chars = 0;
    for (int p = 0; p < doc->n_pages; p++)
        for (int i = 0; i < doc->pages[p].n_words; i++, n_words++)
            n_chars += 2 * strlen(doc->pages[p].words[i].text) + 8;
    // A word makes at most three tokens; their raw texts and folded forms (never
    // longer than the raw text) fit in twice the word plus the terminators.
    v->toks = malloc((3 * n_words + 1) * sizeof *v->toks);
    v->line_first = malloc((n_words + 2) * sizeof *v->line_first);
    v->chars = malloc(n_chars + 1);
    if (!v->toks || !v->line_first || !v->chars) {
        ds_rview_free(v);
        return ds_error(DS_E_NOMEM, "rules: out of memory for %zu words", n_words);
    }
    char *c = v->chars;
    int prev_page = -1, prev_line = -1;
    for (int p = 0; p < doc->n_pages; p++) {
        const ds_page *pg = &doc->pages[p];
        for (int i = 0; i < pg->n_words; i++) {
            const ds_word *w = &pg->words[i];
            if (p != prev_page || w->line != prev_line) v->line_first[v->n_lines++] = v->n_toks;
            prev_page = p, prev_line = w->line;
            int cut[4], n_cut = split_word(w->text, cut), len = (int)strlen(w->text);
            for (int k = 0, b = 0; k < n_cut; b = cut[k++]) {
                ds_rtok *t = &v->toks[v->n_toks++];
                // A piece's box is its share of the word's width (glyph widths are unknown).
                float x0 = w->box.x0, wd = w->box.x1 - w->box.x0;
                t->box = (ds_box){x0 + wd * (float)b / (float)len, w->box.y0,
                                  x0 + wd * (float)cut[k] / (float)len, w->box.y1};
                t->conf = w->conf;
                t->page = p;
                t->line = v->n_lines - 1;
                t->glued = k > 0;
                memcpy(c, w->text + b, (size_t)(cut[k] - b));
                c[cut[k] - b] = '\0';
                t->raw = c;
                c += cut[k] - b + 1;
                norm_of(t->raw, c);
                t->norm = c;
                c += strlen(c) + 1;
            }
        }
    }
    v->line_first[v->n_lines] = v->n_toks;
    return 0;
}

void ds_rview_free(ds_rview *v) {
    free(v->toks);
    free(v->line_first);
    free(v->chars);
    memset(v, 0, sizeof *v);
}

int ds_rules_phrase_at(const ds_rview *v, int i, int end, const char *phrase, int same_line) {
    int j = i;
    const char *p = phrase;
    while (*p) {
        const char *sp = strchr(p, ' ');
        size_t n = sp ? (size_t)(sp - p) : strlen(p);
        if (j >= end || (same_line && v->toks[j].line != v->toks[i].line)) return 0;
        const char *t = v->toks[j].norm;
        if (strlen(t) != n || strncmp(t, p, n) != 0) return 0;
        j++;
        p += n + (sp ? 1 : 0);
    }
    return j - i;
}

// ---- values and their JSON

float ds_rules_conf_factor(const ds_rview *v, int t0, int t1) {
    double s = 0;
    for (int k = t0; k < t1; k++) s += v->toks[k].conf;
    return t1 > t0 ? (float)(0.5 + 0.5 * s / (t1 - t0)) : 0.5f;
}

int ds_rval_text(const ds_rview *v, ds_rval *r, int t0, int t1, float base) {
    while (t0 < t1 && ds_rules_is_punct(v->toks[t0].raw)) t0++;
    while (t1 > t0 && ds_rules_is_punct(v->toks[t1 - 1].raw)) t1--;
    if (t0 >= t1) return -1;
    size_t o = 0;
    for (int k = t0; k < t1; k++) {
        const char *raw = v->toks[k].raw;
        size_t n = strlen(raw);
        if (o + n + 2 >= sizeof r->text) break;
        if (k > t0 && !v->toks[k].glued) r->text[o++] = ' ';
        memcpy(r->text + o, raw, n);
        o += n;
    }
    while (o > 0 && strchr(",;:", r->text[o - 1])) o--;
    r->text[o] = '\0';
    r->t0 = t0;
    r->t1 = t1;
    r->conf = base * ds_rules_conf_factor(v, t0, t1);
    return o ? 0 : -1;
}

static double round_to(double x, double unit) {
    return round(x / unit) * unit;
}

int ds_rules_put(json_t *fields, const char *name, int multi, const ds_rview *v, const ds_rval *r) {
    const ds_rtok *t = v->toks;
    ds_box b = t[r->t0].box;
    for (int k = r->t0 + 1; k < r->t1; k++) {
        if (t[k].page != t[r->t0].page) break;
        b.x0 = fminf(b.x0, t[k].box.x0), b.y0 = fminf(b.y0, t[k].box.y0);
        b.x1 = fmaxf(b.x1, t[k].box.x1), b.y1 = fmaxf(b.y1, t[k].box.y1);
    }
    json_t *o = json_pack("{s:s, s:i, s:[f, f, f, f], s:f}", "value", r->text, "page",
                          t[r->t0].page + 1, "box", round_to(b.x0, 0.01), round_to(b.y0, 0.01),
                          round_to(b.x1, 0.01), round_to(b.y1, 0.01), "confidence",
                          round_to(fmin(1.0, fmax(0.0, r->conf)), 0.001));
    if (!o) return ds_error(DS_E_NOMEM, "rules: out of memory building field %s", name);
    if (!multi) return json_object_set_new(fields, name, o) ? DS_E_NOMEM : 0;
    json_t *arr = json_object_get(fields, name);
    if (!arr) {
        arr = json_array();
        if (!arr || json_object_set_new(fields, name, arr)) {
            json_decref(o);
            return ds_error(DS_E_NOMEM, "rules: out of memory building field %s", name);
        }
    }
    return json_array_append_new(arr, o) ? DS_E_NOMEM : 0;
}

// ---- the document type

// Keyword evidence per type, in the folded form; a token counts when it starts
// with the keyword ("rechnungsnummer" is evidence of "rechnung").
static const struct {
    const char *doc_type, *prefix;
    int weight;
} ds_type_keywords[] = {
    {"invoice", "invoice", 3},    {"invoice", "rechnung", 3}, {"invoice", "factur", 3},
    {"invoice", "bill", 1},       {"invoice", "due", 1},      {"invoice", "vat", 1},
    {"receipt", "receipt", 3},    {"receipt", "cash", 2},     {"receipt", "change", 1},
    {"receipt", "cashier", 2},    {"receipt", "thank", 1},    {"receipt", "quittung", 3},
    {"receipt", "beleg", 2},      {"receipt", "ticket", 2},   {"receipt", "reçu", 3},
    {"contract", "agreement", 2}, {"contract", "hereby", 2},  {"contract", "party", 2},
    {"contract", "parties", 2},   {"contract", "whereas", 2}, {"contract", "shall", 1},
    {"contract", "vertrag", 2},   {"contract", "contrat", 2}, {"contract", "governed", 1},
    {"form", "form", 3},          {"form", "formular", 3},    {"form", "formulaire", 3},
    {"form", "applicant", 2},     {"form", "antrag", 2},      {"form", "signature", 1},
    {"form", "unterschrift", 1},
};

static int type_index(const ds_schema_set *set, const char *doc_type) {
    for (int i = 0; i < set->n; i++)
        if (strcmp(set->schemas[i].doc_type, doc_type) == 0) return i;
    return -1;
}

// The type with the highest keyword score (the table above, "tax invoice", form
// labels and blanks, a narrow page); ties and empty documents go to the first
// schema of the set.
static const char *guess_type(const ds_rview *v, const ds_schema_set *set) {
    double score[64] = {0};
    int n = set->n < 64 ? set->n : 64;
    const ds_rtok *t = v->toks;
    int receipt = type_index(set, "receipt"), form = type_index(set, "form");
    for (int k = 0; k < v->n_toks; k++) {
        for (size_t i = 0; i < sizeof ds_type_keywords / sizeof *ds_type_keywords; i++) {
            size_t len = strlen(ds_type_keywords[i].prefix);
            if (strncmp(t[k].norm, ds_type_keywords[i].prefix, len) != 0) continue;
            int ti = type_index(set, ds_type_keywords[i].doc_type);
            if (ti >= 0 && ti < n) score[ti] += ds_type_keywords[i].weight;
        }
        // "Tax invoice" heads Asian till receipts; it is not evidence of an invoice.
        if (receipt >= 0 && receipt < n && k + 1 < v->n_toks &&
            ds_rules_phrase_at(v, k, v->n_toks, "tax invoice", 1))
            score[receipt] += 4;
        // Forms: labels ending in ':', blanks to write on, boxes to tick.
        if (form >= 0 && form < n) {
            const char *raw = t[k].raw;
            size_t len = strlen(raw);
            if (len > 1 && raw[len - 1] == ':') score[form] += 0.5;
            if (strstr(raw, "___") || strstr(raw, "\u2610") || strstr(raw, "\u2611") ||
                strstr(raw, "\u2612") || strstr(raw, "\u25a1") || !strcmp(raw, "[") ||
                !strcmp(raw, "[x]") || !strcmp(raw, "[X]") || !strcmp(raw, "[]"))
                score[form] += 2;
        }
    }
    // Till receipts are printed on narrow paper rolls (58 or 80 mm: under 300 pt).
    if (receipt >= 0 && receipt < n && v->doc->n_pages > 0) {
        const ds_page *pg = &v->doc->pages[0];
        if (pg->width_pt < 300 && pg->height_pt > pg->width_pt) score[receipt] += 6;
    }
    int best = 0; // types read only when named (a form's entities) are never guessed
    while (best + 1 < n && !set->schemas[best].routed) best++;
    for (int i = best + 1; i < n; i++)
        if (set->schemas[i].routed && score[i] > score[best]) best = i;
    return set->n ? set->schemas[best].doc_type : NULL;
}

// ---- entry point

// A form read as entity lists (schema form_entities) by the FUNSD rules
// (rules-funsd.c): their header / question / answer entities, first page.
static int entity_lists(const ds_doc *doc, json_t *fields) {
    json_t *r;
    int rc = ds_rules_form_entities(doc, &r);
    if (rc) return rc;
    const char *const(*lists)[2] = ds_form_entity_kinds; // {list, FUNSD label}
    for (int l = 0; l < 3 && !rc; l++) rc = json_object_set_new(fields, lists[l][0], json_array());
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(r, "entities"), i, e) {
        const char *label = json_string_value(json_object_get(e, "label"));
        for (int l = 0; l < 3 && !rc; l++) {
            if (strcmp(label, lists[l][1]) != 0) continue;
            json_t *item =
                json_pack("{s:O, s:i, s:O, s:f}", "value", json_object_get(e, "text"), "page", 1,
                          "box", json_object_get(e, "box"), "confidence", 0.5);
            rc = !item || json_array_append_new(json_object_get(fields, lists[l][0]), item);
        }
    }
    json_decref(r);
    return rc ? ds_error(DS_E_NOMEM, "rules: out of memory") : 0;
}

int ds_rules_extract(const ds_doc *doc, const ds_schema_set *schemas, const char *doc_type,
                     json_t **out) {
    *out = NULL;
    if (!doc || !schemas) return ds_error(DS_E_INVAL, "rules: no document or no schemas");
    ds_rview v;
    int rc = ds_rview_init(&v, doc);
    if (rc) return rc;
    if (!doc_type) doc_type = guess_type(&v, schemas);
    const ds_schema *s = doc_type ? ds_schema_find(schemas, doc_type) : NULL;
    if (!s) {
        ds_rview_free(&v);
        return ds_error(DS_E_NOT_FOUND, "rules: no schema for doc_type '%s' among %d types",
                        doc_type ? doc_type : "(none)", schemas->n);
    }
    json_t *fields = json_object();
    json_t *o = fields ? json_pack("{s:s, s:o}", "doc_type", s->doc_type, "fields", fields) : NULL;
    if (!o) {
        ds_rview_free(&v);
        return ds_error(DS_E_NOMEM, "rules: out of memory");
    }
    if (strcmp(s->doc_type, "form_entities") == 0) { // FUNSD's reading, as lists
        ds_rview_free(&v);
        rc = entity_lists(doc, fields);
        if (rc) json_decref(o);
        *out = rc ? NULL : o;
        return rc;
    }
    // Check boxes and enums (a form's ticked option) are not in the text layer or
    // the OCR words at all: they are omitted here and left to the vision model.
    rc = ds_rules_labelled(&v, s, fields);
    if (!rc && strcmp(s->doc_type, "receipt") == 0) rc = ds_rules_receipt_header(&v, s, fields);
    if (!rc && strcmp(s->doc_type, "contract") == 0) rc = ds_rules_contract(&v, s, fields);
    ds_rview_free(&v);
    if (rc) {
        json_decref(o);
        return rc;
    }
    *out = o;
    return 0;
}
