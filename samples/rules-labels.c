// rules-labels.c: label-proximity rules. Labels of the document type's lexicon
// (rules-lexicon.c) are found on each line, the longest first; a field's value
// is the run of words right of its label on the same line (up to a wide gap or
// the next label), else the run below on the nearest line that overlaps the
// label horizontally. Dates and amounts must match their pattern; totals take
// the largest amount. Fallbacks (first date, largest amount low on the last
// page) get a low confidence. It does not read tables row by row, nor check
// that subtotal + tax = total: those belong to the models and the evaluator.
#include "core/error.h"
#include "samples/rules-impl.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int rule;   // index into ds_rules_table
    int t0, t1; // tokens of the label
    int strong; // one of the rule's strong phrases
    int len;    // characters matched: of labels starting at one word, the longest wins
} ds_rhit;

typedef struct {
    const ds_rview *v;
    ds_rhit *hits; // in token order
    int n_hits;
    int *hit_of;   // (n_toks): the hit covering the token, or -1
    uint8_t *used; // (n_toks): tokens already given to a field
} ds_rctx;

// Confidence by how a value was found: label and pattern, label only, fallback.
#define DS_CONF_RIGHT    0.9f
#define DS_CONF_BELOW    0.8f
#define DS_CONF_FALLBACK 0.35f
#define DS_CONF_TOTAL_FB 0.3f

// ---- geometry

// A column break: wider than one and a half times the taller word's height
// (word spaces are a third of an em, table columns several ems).
static int big_gap(const ds_rtok *a, const ds_rtok *b) {
    float h = fmaxf(a->box.y1 - a->box.y0, b->box.y1 - b->box.y0);
    return b->box.x0 - a->box.x1 > 1.5f * h;
}

static float overlap(float a0, float a1, float b0, float b1) {
    float lo = fmaxf(a0, b0), hi = fminf(a1, b1);
    return hi > lo ? hi - lo : 0.0f;
}

static int line_end(const ds_rview *v, int t) {
    return v->line_first[v->toks[t].line + 1];
}

// ---- finding labels

static int in_list(const char *const *list, const char *phrase) {
    for (; list && *list; list++)
        if (strcmp(*list, phrase) == 0) return 1;
    return 0;
}

static int add_hit(ds_rhit **a, int *n, int *cap, ds_rhit h) {
    if (*n == *cap) {
        int nc = *cap ? 2 * *cap : 64;
        ds_rhit *p = realloc(*a, (size_t)nc * sizeof *p);
        if (!p) return DS_E_NOMEM;
        *a = p, *cap = nc;
    }
    (*a)[(*n)++] = h;
    return 0;
}

static int leftmost_longest(const void *a, const void *b) {
    const ds_rhit *x = a, *y = b;
    if (x->t0 != y->t0) return x->t0 - y->t0;
    return y->len - x->len;
}

static int by_t0(const void *a, const void *b) {
    return ((const ds_rhit *)a)->t0 - ((const ds_rhit *)b)->t0;
}

// Every label of the type on every line; where labels overlap, the leftmost and
// then the longest stays (as regular expressions do): "Sub Total (RM)" is a
// subtotal, not "Total (RM)"; "Due Date" a due date, not "Date".
static int find_hits(ds_rctx *c, const char *doc_type) {
    const ds_rview *v = c->v;
    ds_rhit *cand = NULL;
    int n_cand = 0, cap_cand = 0, cap = 0, rc = 0;
    for (int k = 0; k < v->n_toks; k++) c->hit_of[k] = -1;
    for (int l = 0; l < v->n_lines && !rc; l++) {
        int f = v->line_first[l], e = v->line_first[l + 1];
        n_cand = 0;
        for (int i = f; i < e && !rc; i++) {
            if (!v->toks[i].norm[0]) continue;
            for (int r = 0; r < ds_rules_table_n && !rc; r++) {
                const ds_rule *rule = &ds_rules_table[r];
                if (strcmp(rule->doc_type, doc_type) != 0) continue;
                for (const char *const *p = rule->labels; *p && !rc; p++) {
                    int n = ds_rules_phrase_at(v, i, e, *p, 1);
                    if (n)
                        rc = add_hit(
                            &cand, &n_cand, &cap_cand,
                            (ds_rhit){r, i, i + n, in_list(rule->strong, *p), (int)strlen(*p)});
                }
            }
        }
        if (n_cand > 1) qsort(cand, (size_t)n_cand, sizeof *cand, leftmost_longest);
        for (int h = 0; h < n_cand && !rc; h++) {
            int free_ = 1;
            for (int k = cand[h].t0; k < cand[h].t1; k++) free_ &= c->hit_of[k] < 0;
            if (!free_) continue;
            for (int k = cand[h].t0; k < cand[h].t1; k++) c->hit_of[k] = c->n_hits;
            rc = add_hit(&c->hits, &c->n_hits, &cap, cand[h]);
        }
    }
    free(cand);
    if (rc) return ds_error(rc, "rules: out of memory matching labels");
    // Token order; hit_of follows the hits to their new places.
    if (c->n_hits > 1) qsort(c->hits, (size_t)c->n_hits, sizeof *c->hits, by_t0);
    for (int h = 0; h < c->n_hits; h++)
        for (int k = c->hits[h].t0; k < c->hits[h].t1; k++) c->hit_of[k] = h;
    return 0;
}

// Free-text values have no pattern to confirm them, so their label must look
// like one: first in its segment of the line, or followed by a colon.
static int label_looks_like_one(const ds_rctx *c, const ds_rhit *h) {
    const ds_rview *v = c->v;
    const ds_rtok *t = v->toks;
    int first = v->line_first[t[h->t0].line];
    if (h->t0 == first || big_gap(&t[h->t0 - 1], &t[h->t0]) || ds_rules_is_punct(t[h->t0 - 1].raw))
        return 1;
    const char *last = t[h->t1 - 1].raw;
    if (last[strlen(last) - 1] == ':') return 1;
    return h->t1 < line_end(v, h->t0) && t[h->t1].raw[0] == ':';
}

// ---- values

static int kind_is_text(ds_rule_kind k) {
    return k != DS_RK_DATE && k != DS_RK_AMOUNT;
}

static void trim_date_text(ds_rval *r) {
    size_t n = strlen(r->text), s = 0;
    while (n > 0 && strchr(").]", r->text[n - 1])) n--;
    while (s < n && strchr("([", r->text[s])) s++;
    memmove(r->text, r->text + s, n - s);
    r->text[n - s] = '\0';
}

// The first date in tokens [a, b) not given to another field.
static int date_in(const ds_rctx *c, int a, int b, float base, ds_rval *r) {
    for (int j = a; j < b; j++) {
        if (c->used[j]) continue;
        int n = ds_rules_date_at(c->v, j, b);
        if (n && ds_rval_text(c->v, r, j, j + n, base) == 0) {
            trim_date_text(r);
            return 1;
        }
    }
    return 0;
}

// The first (or the largest) amount in tokens [a, b).
static int amount_in(const ds_rctx *c, int a, int b, int largest, float base, ds_rval *r) {
    int found = 0;
    for (int j = a; j < b;) {
        double val;
        int n0, n1, n = c->used[j] ? 0 : ds_rules_amount_at(c->v, j, b, &val, &n0, &n1);
        if (!n) {
            j++;
            continue;
        }
        if (!found || (largest && val > r->amount)) {
            r->t0 = n0, r->t1 = n1, r->amount = val;
            r->conf = base * ds_rules_conf_factor(c->v, n0, n1);
            ds_rules_amount_text(c->v, n0, n1, r->text, sizeof r->text);
            found = 1;
            if (!largest) break;
        }
        j += n;
    }
    return found;
}

// A text value of tokens [a, b), checked against what the field's kind needs.
static int text_in(const ds_rctx *c, int a, int b, ds_rule_kind kind, float base, ds_rval *r) {
    if (kind == DS_RK_EMAIL) { // the one word with an '@'
        for (int j = a; j < b; j++)
            if (strchr(c->v->toks[j].raw, '@')) return ds_rval_text(c->v, r, j, j + 1, base) == 0;
        return 0;
    }
    if (ds_rval_text(c->v, r, a, b, base) != 0) return 0;
    int digits, letters;
    ds_rules_count_chars(r->text, &digits, &letters);
    switch (kind) {
    case DS_RK_NAME:
        return letters >= 2;
    case DS_RK_ID:
        return digits >= 1;
    case DS_RK_PHONE:
        return digits >= 6 && letters <= 2;
    default:
        return 1;
    }
}

// Tokens [a, b) by the field's kind.
static int value_in(const ds_rctx *c, int a, int b, const ds_rule *rule, float base, ds_rval *r) {
    if (rule->kind == DS_RK_DATE) return date_in(c, a, b, base, r);
    if (rule->kind == DS_RK_AMOUNT) return amount_in(c, a, b, rule->largest, base, r);
    return text_in(c, a, b, rule->kind, base, r);
}

// Right of the label on its line, up to the next label. Text values are the
// first run of words there (up to a column break), close to the label; dates
// and amounts may sit further right, across the gap right-aligned columns leave.
static int value_right(const ds_rctx *c, const ds_rhit *h, ds_rval *r) {
    const ds_rview *v = c->v;
    const ds_rule *rule = &ds_rules_table[h->rule];
    int k = h->t1, end = line_end(v, h->t0), stop = k;
    while (stop < end && c->hit_of[stop] < 0) stop++;
    if (!kind_is_text(rule->kind)) return value_in(c, k, stop, rule, DS_CONF_RIGHT, r);
    while (k < stop && ds_rules_is_punct(v->toks[k].raw)) k++;
    if (k >= stop || c->used[k]) return 0;
    // A text value sits near its label; words far right (eight label heights, a
    // third of a page at 10 pt) belong to something else, such as a title.
    const ds_rtok *lt = &v->toks[h->t1 - 1];
    if (v->toks[k].box.x0 - v->toks[k - 1].box.x1 > 8.0f * (lt->box.y1 - lt->box.y0)) return 0;
    int e = k + 1;
    while (e < stop && !big_gap(&v->toks[e - 1], &v->toks[e]) && !c->used[e]) e++;
    return value_in(c, k, e, rule, DS_CONF_RIGHT, r);
}

// Below the label: the nearest of the next three lines (within two and a half
// label heights) with a word under the label; the value is that word's run.
static int value_below(const ds_rctx *c, const ds_rhit *h, ds_rval *r) {
    const ds_rview *v = c->v;
    const ds_rtok *t = v->toks;
    const ds_rule *rule = &ds_rules_table[h->rule];
    ds_box lb = t[h->t0].box;
    for (int k = h->t0 + 1; k < h->t1; k++) {
        lb.x0 = fminf(lb.x0, t[k].box.x0), lb.x1 = fmaxf(lb.x1, t[k].box.x1);
        lb.y0 = fminf(lb.y0, t[k].box.y0), lb.y1 = fmaxf(lb.y1, t[k].box.y1);
    }
    float lh = lb.y1 - lb.y0;
    int line = t[h->t0].line;
    for (int l = line + 1; l < v->n_lines && l <= line + 3; l++) {
        int f = v->line_first[l], e = v->line_first[l + 1];
        if (t[f].page != t[h->t0].page) break;
        float ly0 = t[f].box.y0;
        for (int j = f + 1; j < e; j++) ly0 = fminf(ly0, t[j].box.y0);
        if (ly0 - lb.y1 > 2.5f * lh) break;
        int k = -1;
        for (int j = f; j < e && k < 0; j++)
            if (overlap(t[j].box.x0, t[j].box.x1, lb.x0, lb.x1) > 0 && !ds_rules_is_punct(t[j].raw))
                k = j;
        if (k < 0) continue;
        if (c->hit_of[k] >= 0 || c->used[k]) return 0; // stacked labels, or another field's
        int a = k, b = k + 1;
        while (a > f && c->hit_of[a - 1] < 0 && !big_gap(&t[a - 1], &t[a])) a--;
        while (b < e && c->hit_of[b] < 0 && !big_gap(&t[b - 1], &t[b])) b++;
        return value_in(c, a, b, rule, DS_CONF_BELOW, r);
    }
    return 0;
}

// ---- fallbacks

// The first date on the first page not given to another field.
static int fallback_date(const ds_rctx *c, ds_rval *r) {
    int end = 0;
    while (end < c->v->n_toks && c->v->toks[end].page == 0) end++;
    return date_in(c, 0, end, DS_CONF_FALLBACK, r);
}

// The largest amount in the lower half of the last page.
static int fallback_total(const ds_rctx *c, ds_rval *r) {
    const ds_rview *v = c->v;
    if (v->n_toks == 0) return 0;
    int last = v->toks[v->n_toks - 1].page, a = v->n_toks;
    while (a > 0 && v->toks[a - 1].page == last) a--;
    float half = 0.5f * v->doc->pages[last].height_pt;
    while (a < v->n_toks && v->toks[a].box.y0 < half) a++;
    return amount_in(c, a, v->n_toks, 1, DS_CONF_TOTAL_FB, r);
}

// ---- currency

// The ISO code shown most often beside an amount ("$1,234.56", "12,50 €",
// "RM 9.00"); a sign or code with no amount beside it counts only when no
// other is found. The value is the code, the box the sign's.
static int find_currency(const ds_rctx *c, ds_rval *r) {
    const ds_rview *v = c->v;
    const char *codes[8];
    int counts[8], first[8], n_codes = 0, best = -1;
    for (int k = 0; k < v->n_toks; k++) {
        const char *code = ds_rules_currency_of(v->toks[k].raw);
        if (!code) continue;
        double val;
        int n0, n1, digits, letters;
        ds_rules_count_chars(v->toks[k].raw, &digits, &letters);
        int lo = k > 0 && v->toks[k - 1].line == v->toks[k].line ? k - 1 : k;
        int near = digits > 0 || ds_rules_amount_at(v, k, line_end(v, k), &val, &n0, &n1) ||
                   (lo < k && ds_rules_amount_at(v, lo, k + 1, &val, &n0, &n1) == k + 1 - lo);
        int i = 0;
        while (i < n_codes && strcmp(codes[i], code) != 0) i++;
        if (i == n_codes) {
            if (n_codes == 8) continue;
            codes[n_codes] = code, counts[n_codes] = 0, first[n_codes] = k, n_codes++;
        }
        counts[i] += near ? 100 : 1; // beside an amount outweighs any number of bare mentions
    }
    for (int i = 0; i < n_codes; i++)
        if (best < 0 || counts[i] > counts[best]) best = i;
    if (best < 0) return 0;
    r->t0 = first[best], r->t1 = first[best] + 1, r->amount = 0;
    r->conf = (counts[best] >= 100 ? 0.8f : 0.5f) * ds_rules_conf_factor(v, r->t0, r->t1);
    snprintf(r->text, sizeof r->text, "%s", codes[best]);
    return 1;
}

// ---- fields

static int find_rule(const char *doc_type, const char *field) {
    for (int r = 0; r < ds_rules_table_n; r++)
        if (ds_rules_table[r].field && strcmp(ds_rules_table[r].doc_type, doc_type) == 0 &&
            strcmp(ds_rules_table[r].field, field) == 0)
            return r;
    return -1;
}

// The best labelled value of rule r: a strong label over a weak one; for totals
// the largest amount, else the first in reading order.
static int best_labelled(const ds_rctx *c, int r, ds_rval *best) {
    const ds_rule *rule = &ds_rules_table[r];
    int found = 0, best_strong = 0;
    for (int h = 0; h < c->n_hits; h++) {
        const ds_rhit *hit = &c->hits[h];
        if (hit->rule != r) continue;
        if (kind_is_text(rule->kind) && !label_looks_like_one(c, hit)) continue;
        ds_rval val = {.t0 = -1};
        if (!value_right(c, hit, &val) && !value_below(c, hit, &val)) continue;
        if (!found || hit->strong > best_strong ||
            (hit->strong == best_strong && rule->largest && val.amount > best->amount)) {
            *best = val;
            best_strong = hit->strong;
            found = 1;
        }
    }
    return found;
}

static void mark_used(ds_rctx *c, const ds_rval *r) {
    for (int k = r->t0; k < r->t1; k++) c->used[k] = 1;
}

int ds_rules_labelled(const ds_rview *v, const ds_schema *s, json_t *fields) {
    ds_rctx c = {.v = v};
    size_t n = (size_t)v->n_toks + 1;
    c.hit_of = malloc(n * sizeof *c.hit_of);
    c.used = calloc(n, 1);
    ds_rval *vals = calloc((size_t)s->n_fields, sizeof *vals);
    int rc = !c.hit_of || !c.used || !vals ? ds_error(DS_E_NOMEM, "rules: out of memory") : 0;
    if (!rc) rc = find_hits(&c, s->doc_type);
    // Labelled values first, for every field, so a fallback never takes a value
    // that a label names for another field ("Due date: ..." is not the invoice date).
    for (int f = 0; f < s->n_fields && !rc; f++) {
        vals[f].t0 = -1;
        int r = find_rule(s->doc_type, s->fields[f].name);
        if (r >= 0 && best_labelled(&c, r, &vals[f]))
            mark_used(&c, &vals[f]);
        else
            vals[f].t0 = -1;
    }
    for (int f = 0; f < s->n_fields && !rc; f++) {
        const ds_field *fd = &s->fields[f];
        ds_rval *val = &vals[f];
        int found = val->t0 >= 0;
        if (!found && fd->type == DS_FIELD_CURRENCY) found = find_currency(&c, val);
        if (!found && fd->type == DS_FIELD_DATE &&
            (!strcmp(fd->name, "invoice_date") || !strcmp(fd->name, "date")))
            found = fallback_date(&c, val);
        if (!found && fd->type == DS_FIELD_AMOUNT && !strcmp(fd->name, "total"))
            found = fallback_total(&c, val);
        if (!found) continue;
        if (val->t0 >= 0) mark_used(&c, val);
        rc = ds_rules_put(fields, fd->name, ds_field_is_multi(fd->type), v, val);
    }
    free(c.hits);
    free(c.hit_of);
    free(c.used);
    free(vals);
    return rc;
}
