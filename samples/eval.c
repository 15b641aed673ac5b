// eval.c: predictions in, scores out. Reads prediction lines (or runs an
// extractor on every truth document), matches them to the truth by id, and
// counts each field as a multiset of normalised values: greedy matching, a
// predicted value taking the equal true value whose box it overlaps most.
// It reads no public format itself (gt-formats.c converts those), builds no
// values (eval-doc.c) and prints nothing (eval-report.c).
#include "samples/eval.h"
#include "core/error.h"
#include "core/log.h"
#include "samples/eval-impl.h"
#include "samples/gt-formats.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

// ---- predictions

static const ds_eval_doc *find_doc(const ds_eval_doc *docs, int n, const char *id) {
    for (int i = 0; i < n; i++)
        if (strcmp(docs[i].id, id) == 0) return &docs[i];
    return NULL;
}

// The schema a prediction's fields are checked against: its own doc type, else the
// true document's, else the only one there is; NULL when the set takes any field.
// Returns 1 when the prediction names a type outside the set: a wrong answer, not
// a malformed line (an extractor may guess "invoice" for a receipt); its fields
// are then not read, so the truth's fields all count as missed.
static int pick_spec(const ds_eval_set *truth, const char *doc_type, const char *id,
                     const ds_schema **out) {
    *out = NULL;
    if (truth->spec.n == 0) return 0;
    if (doc_type) {
        if ((*out = ds_schema_find(&truth->spec, doc_type))) return 0;
        return 1;
    }
    const ds_eval_doc *td = find_doc(truth->docs, truth->n_docs, id);
    if (td && td->doc_type) *out = ds_schema_find(&truth->spec, td->doc_type);
    if (!*out && truth->spec.n == 1) *out = &truth->spec.schemas[0];
    return 0;
}

int ds_eval_preds_add(ds_eval_preds *p, const ds_eval_set *truth, const json_t *obj,
                      const char *where) {
    if (!json_is_object(obj))
        return ds_error(DS_E_FORMAT, "%s: a prediction must be a JSON object", where);
    const char *id = json_string_value(json_object_get(obj, "id"));
    if (!id) id = json_string_value(json_object_get(obj, "file"));
    if (!id || !id[0])
        return ds_error(DS_E_FORMAT, "%s: a prediction needs \"id\" or \"file\" (a string)", where);
    char *key = ds_eval_id_of(id);
    if (!key) return ds_error(DS_E_NOMEM, "out of memory");
    if (json_is_object(json_object_get(obj, "error"))) {
        // an error line of docseek extract / ingest: a true document it failed on counts
        // as unpredicted; one for another file (the truth's own JSON, say) is ignored
        const ds_eval_doc *td = find_doc(truth->docs, truth->n_docs, key);
        const char *b = strrchr(id, '/'),
                   *tb = td && td->doc_path ? strrchr(td->doc_path, '/') : NULL;
        if (td && td->doc_path && !strcmp(b ? b + 1 : id, tb ? tb + 1 : td->doc_path))
            p->n_extract_failed++;
        free(key);
        return 0;
    }
    const ds_eval_doc *dup = find_doc(p->docs, p->n_docs, key);
    if (dup) {
        int rc = ds_error(DS_E_FORMAT, "%s: a second prediction for '%s' (the first: %s)", where,
                          key, dup->source);
        free(key);
        return rc;
    }
    json_t *conv = NULL;
    int rc = ds_gt_pred_convert(truth, obj, where, &conv);
    const json_t *jt = conv ? json_object_get(conv, "doc_type") : NULL;
    if (!rc && jt && !json_is_string(jt) && !json_is_null(jt))
        rc = ds_error(DS_E_FORMAT, "%s: \"doc_type\" must be a string", where);
    const char *doc_type = json_string_value(jt);
    const json_t *fields = conv ? json_object_get(conv, "fields") : NULL;
    if (!rc && !fields)
        rc = ds_error(DS_E_FORMAT, "%s: a prediction needs \"fields\" (an object)", where);
    const ds_schema *spec = NULL;
    int foreign_type = rc ? 0 : pick_spec(truth, doc_type, key, &spec);
    if (foreign_type) p->n_foreign_type++;
    ds_eval_doc *d = rc ? NULL : ds_eval_doc_push(&p->docs, &p->n_docs);
    if (!rc && !d) rc = ds_error(DS_E_NOMEM, "out of memory");
    if (d) {
        d->id = key;
        key = NULL;
        d->source = strdup(where);
        d->doc_type = doc_type ? strdup(doc_type) : NULL;
        if (!d->source || (doc_type && !d->doc_type)) rc = ds_error(DS_E_NOMEM, "out of memory");
        if (!rc && !foreign_type) rc = ds_eval_parse_fields(d, fields, spec, where);
        if (rc) ds_eval_doc_free(&p->docs[--p->n_docs]);
    }
    free(key);
    json_decref(conv);
    return rc;
}

void ds_eval_preds_free(ds_eval_preds *p) {
    if (!p) return;
    for (int i = 0; i < p->n_docs; i++) ds_eval_doc_free(&p->docs[i]);
    free(p->docs);
    memset(p, 0, sizeof *p);
}

int ds_eval_preds_load(const char *path, const ds_eval_set *truth, ds_eval_preds *out) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "r");
    if (!f)
        return ds_error(DS_E_NOENT, "%s: cannot open the predictions: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    int rc = 0, lineno = 0;
    while (rc == 0 && getline(&line, &cap, f) >= 0) {
        lineno++;
        if (line[strspn(line, " \t\r\n")] == 0) continue;
        char where[4200];
        snprintf(where, sizeof where, "%s:%d", path, lineno);
        json_error_t jerr;
        json_t *obj = json_loads(line, JSON_REJECT_DUPLICATES, &jerr);
        if (!obj)
            rc = ds_error(DS_E_FORMAT, "%s: JSON error at column %d: %s", where, jerr.column,
                          jerr.text);
        else
            rc = ds_eval_preds_add(out, truth, obj, where);
        json_decref(obj);
    }
    free(line);
    fclose(f);
    if (rc) ds_eval_preds_free(out);
    return rc;
}

int ds_eval_run_extractor(const ds_eval_set *truth, ds_eval_extract_fn fn, void *user,
                          ds_eval_preds *out) {
    memset(out, 0, sizeof *out);
    int rc = 0;
    for (int i = 0; i < truth->n_docs && rc == 0; i++) {
        const ds_eval_doc *d = &truth->docs[i];
        if (!d->doc_path) {
            rc = ds_error(DS_E_NOENT, "%s: no document file for '%s' beside it", d->source, d->id);
            break;
        }
        json_t *pred = NULL;
        ds_error_clear();
        int xrc = fn(d->doc_path, d->doc_type, &pred, user);
        if (xrc == DS_E_NOMEM) rc = xrc;
        if (xrc) {
            json_decref(pred);
            if (!rc) {
                DS_LOGW("eval: %s: the extractor failed: %s: %s", d->doc_path, ds_err_name(xrc),
                        ds_errmsg());
                out->n_extract_failed++;
            }
            continue;
        }
        if (!pred) continue; // nothing predicted
        if (json_is_object(pred) && !json_object_get(pred, "id") && !json_object_get(pred, "file"))
            json_object_set_new(pred, "id", json_string(d->id));
        char where[4200];
        snprintf(where, sizeof where, "extractor on %s", d->doc_path);
        rc = ds_eval_preds_add(out, truth, pred, where);
        json_decref(pred);
    }
    if (rc) ds_eval_preds_free(out);
    return rc;
}

// ---- scoring

void ds_eval_prf(ds_eval_counts c, double *p, double *r, double *f1) {
    if (c.tp + c.fp + c.fn == 0) {
        *p = *r = *f1 = 1;
        return;
    }
    *p = c.tp + c.fp ? (double)c.tp / (double)(c.tp + c.fp) : 0;
    *r = c.tp + c.fn ? (double)c.tp / (double)(c.tp + c.fn) : 0;
    *f1 = *p + *r > 0 ? 2 * *p * *r / (*p + *r) : 0;
}

// Document i's weight in the F1 of counts c (sum tot): (2 tp_i - F1 d_i) / D.
static double f1_influence(ds_eval_counts ci, ds_eval_counts tot) {
    double d = 2.0 * tot.tp + (double)tot.fp + (double)tot.fn, p, r, f1;
    if (d == 0) return 0; // nothing to find and nothing found: F1 1 whatever the weights
    ds_eval_prf(tot, &p, &r, &f1);
    return (2.0 * ci.tp - f1 * (2.0 * ci.tp + (double)ci.fp + (double)ci.fn)) / d;
}

double ds_eval_f1_gain_se(const ds_eval_counts *a, const ds_eval_counts *b, int n, double *gain) {
    ds_eval_counts ta = {0, 0, 0}, tb = {0, 0, 0};
    for (int i = 0; i < n; i++) {
        ta.tp += a[i].tp, ta.fp += a[i].fp, ta.fn += a[i].fn;
        tb.tp += b[i].tp, tb.fp += b[i].fp, tb.fn += b[i].fn;
    }
    double p, r, fa, fb, ss = 0;
    ds_eval_prf(ta, &p, &r, &fa);
    ds_eval_prf(tb, &p, &r, &fb);
    *gain = fb - fa;
    if (n < 2) return INFINITY;
    for (int i = 0; i < n; i++) {
        double z = f1_influence(b[i], tb) - f1_influence(a[i], ta);
        ss += z * z;
    }
    return sqrt((double)n / (n - 1) * ss);
}

double ds_eval_t_from_z(double z, int df) {
    if (df < 1) return INFINITY;
    double p = 0.5 * erfc(-z / M_SQRT2);
    if (df == 1) return tan(M_PI * (p - 0.5));
    if (df == 2) return (2 * p - 1) / sqrt(2 * p * (1 - p));
    double v = df, z2 = z * z;
    double g1 = (z2 + 1) * z / 4;
    double g2 = ((5 * z2 + 16) * z2 + 3) * z / 96;
    double g3 = (((3 * z2 + 19) * z2 + 17) * z2 - 15) * z / 384;
    double g4 = ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945) * z / 92160;
    return z + g1 / v + g2 / (v * v) + g3 / (v * v * v) + g4 / (v * v * v * v);
}

double ds_eval_iou(const float a[4], const float b[4]) {
    double iw = fmin(a[2], b[2]) - fmax(a[0], b[0]);
    double ih = fmin(a[3], b[3]) - fmax(a[1], b[1]);
    double ua = (double)(a[2] - a[0]) * (a[3] - a[1]) + (double)(b[2] - b[0]) * (b[3] - b[1]);
    if (iw <= 0 || ih <= 0 || ua <= 0) return 0;
    return iw * ih / (ua - iw * ih);
}

// Best overlap of a predicted box with a true value: any one of its boxes on the same
// page in the same units (page points, or FUNSD's image pixels), or their union there
// (a value printed over several lines).
static double ground_iou(const ds_eval_box *pb, const ds_eval_value *tv) {
    double best = 0;
    float u[4] = {0};
    int n_same = 0;
    for (int i = 0; i < tv->n_boxes; i++) {
        const ds_eval_box *b = &tv->boxes[i];
        if (b->page != pb->page || b->in_pixels != pb->in_pixels) continue;
        best = fmax(best, ds_eval_iou(pb->box, b->box));
        if (n_same++ == 0) {
            memcpy(u, b->box, sizeof u);
        } else {
            u[0] = fminf(u[0], b->box[0]), u[1] = fminf(u[1], b->box[1]);
            u[2] = fmaxf(u[2], b->box[2]), u[3] = fmaxf(u[3], b->box[3]);
        }
    }
    return n_same > 1 ? fmax(best, ds_eval_iou(pb->box, u)) : best;
}

// Whether v has a box in the units of b, which its grounding can be checked against.
static int has_box_like(const ds_eval_value *v, const ds_eval_box *b) {
    for (int i = 0; i < v->n_boxes; i++)
        if (v->boxes[i].in_pixels == b->in_pixels) return 1;
    return 0;
}

typedef struct {
    const ds_eval_set *truth;
    ds_norm_opts norm;
    ds_eval_report *r;
} score_ctx;

static ds_eval_counts *bucket(ds_eval_bucket **b, int *n, const char *doc_type, const char *field) {
    for (int i = 0; i < *n; i++)
        if (strcmp((*b)[i].doc_type, doc_type) == 0 &&
            (field ? (*b)[i].field && strcmp((*b)[i].field, field) == 0 : !(*b)[i].field))
            return &(*b)[i].c;
    ds_eval_bucket *nb = realloc(*b, (size_t)(*n + 1) * sizeof *nb);
    if (!nb) return NULL;
    *b = nb;
    nb = &nb[*n];
    memset(nb, 0, sizeof *nb);
    nb->doc_type = strdup(doc_type);
    nb->field = field ? strdup(field) : NULL;
    (*n)++;
    return nb->doc_type && (!field || nb->field) ? &nb->c : NULL;
}

static int add_miss(ds_eval_doc_result *dr, const char *field, const ds_eval_value *pv,
                    const ds_eval_value *tv) {
    ds_eval_miss *m = realloc(dr->misses, (size_t)(dr->n_misses + 1) * sizeof *m);
    if (!m) return ds_error(DS_E_NOMEM, "out of memory");
    dr->misses = m;
    m = &m[dr->n_misses++];
    memset(m, 0, sizeof *m);
    m->field = strdup(field);
    m->pred = pv ? strdup(pv->raw) : NULL;
    m->truth = tv ? strdup(tv->raw) : NULL;
    if (pv && pv->n_boxes) m->pred_box = pv->boxes[0];
    if (tv && tv->n_boxes) {
        m->true_boxes = malloc((size_t)tv->n_boxes * sizeof *m->true_boxes);
        if (m->true_boxes)
            memcpy(m->true_boxes, tv->boxes, (size_t)tv->n_boxes * sizeof *tv->boxes);
        m->n_true_boxes = m->true_boxes ? tv->n_boxes : 0;
    }
    if (!m->field || (pv && !m->pred) || (tv && !m->truth) || (tv && tv->n_boxes && !m->true_boxes))
        return ds_error(DS_E_NOMEM, "out of memory");
    return 0;
}

typedef struct {
    ds_norm_value n;
    const ds_eval_value *v;
    int used;
} norm_item;

static int normalise_all(const ds_eval_field *f, ds_field_type t, const ds_norm_opts *o,
                         norm_item **out) {
    int n = f ? f->n_values : 0;
    *out = calloc(n ? (size_t)n : 1, sizeof **out);
    if (!*out) return ds_error(DS_E_NOMEM, "out of memory");
    for (int i = 0; i < n; i++) {
        (*out)[i].v = &f->values[i];
        int rc = ds_norm_value_make(t, f->values[i].raw, o, &(*out)[i].n);
        if (rc) return rc;
    }
    return 0;
}

static void free_items(norm_item *it, int n) {
    for (int i = 0; it && i < n; i++) ds_norm_value_free(&it[i].n);
    free(it);
}

// Counts one field of one document: greedy multiset matching of normalised values.
static int score_field(score_ctx *cx, ds_eval_doc_result *dr, const char *doc_type,
                       const char *name, ds_field_type t, const ds_eval_field *tf,
                       const ds_eval_field *pf) {
    int nt = tf ? tf->n_values : 0, np = pf ? pf->n_values : 0;
    norm_item *ti = NULL, *pi = NULL;
    int rc = normalise_all(tf, t, &cx->norm, &ti);
    if (!rc) rc = normalise_all(pf, t, &cx->norm, &pi);
    ds_eval_counts c = {0, 0, 0};
    for (int i = 0; i < np && !rc; i++) {
        int best = -1;
        double best_iou = -1;
        for (int k = 0; k < nt; k++) {
            if (ti[k].used || !ds_norm_equal(&pi[i].n, &ti[k].n)) continue;
            double iou = pi[i].v->n_boxes ? ground_iou(&pi[i].v->boxes[0], ti[k].v) : 0;
            if (iou > best_iou) best = k, best_iou = iou;
        }
        if (best < 0) continue;
        pi[i].used = ti[best].used = 1;
        c.tp++;
        if (pi[i].v->n_boxes && has_box_like(ti[best].v, &pi[i].v->boxes[0])) {
            cx->r->n_grounded++;
            cx->r->n_grounded_ok += best_iou >= 0.5;
        }
    }
    c.fp = np - c.tp;
    c.fn = nt - c.tp;
    int aux = cx->truth->aux && strcmp(name, cx->truth->aux) == 0;
    for (int i = 0; i < np && !rc; i++) {
        float conf = pi[i].v->conf;
        if (conf < 0) continue;
        ds_eval_add_reliability(cx->r, conf, pi[i].used);
        ds_eval_report *r = cx->r;
        if (r->n_scored == r->cap_scored) {
            long cap = r->cap_scored ? 2 * r->cap_scored : 256;
            ds_eval_scored *ns = realloc(r->scored, sizeof *ns * (size_t)cap);
            if (!ns) {
                rc = ds_error(DS_E_NOMEM, "out of memory");
                break;
            }
            r->scored = ns;
            r->cap_scored = cap;
        }
        ds_eval_scored *sv = &r->scored[r->n_scored++];
        sv->conf = conf;
        sv->right = pi[i].used;
        memcpy(sv->kind, pi[i].v->kind, sizeof sv->kind);
        sv->field[0] = 0;
        if (!aux)
            ds_eval_pred_field_key(cx->truth->format, doc_type, name, sv->field, sizeof sv->field);
    }
    // Wrong values side by side: the i-th unmatched prediction beside the i-th unmatched truth.
    for (int i = 0, k = 0; !rc && (i < np || k < nt);) {
        while (i < np && pi[i].used) i++;
        while (k < nt && ti[k].used) k++;
        if (i >= np && k >= nt) break;
        rc = add_miss(dr, name, i < np ? pi[i].v : NULL, k < nt ? ti[k].v : NULL);
        i++, k++;
    }
    free_items(ti, nt);
    free_items(pi, np);
    if (rc) return rc;
    ds_eval_counts *fb = bucket(&cx->r->fields, &cx->r->n_fields, doc_type, name);
    ds_eval_counts *tb =
        aux ? &cx->r->aux_counts : bucket(&cx->r->types, &cx->r->n_types, doc_type, NULL);
    if (!fb || !tb) return ds_error(DS_E_NOMEM, "out of memory");
    ds_eval_counts *sums[4] = {fb, tb, aux ? NULL : &cx->r->overall, aux ? NULL : &dr->c};
    for (int s = 0; s < 4; s++)
        if (sums[s]) sums[s]->tp += c.tp, sums[s]->fp += c.fp, sums[s]->fn += c.fn;
    return 0;
}

static int cmp_ids(const void *a, const void *b) {
    return strcmp((*(const ds_eval_doc *const *)a)->id, (*(const ds_eval_doc *const *)b)->id);
}

static const ds_eval_doc *lookup(const ds_eval_doc **sorted, int n, const char *id) {
    ds_eval_doc key = {.id = (char *)id};
    const ds_eval_doc *kp = &key;
    const ds_eval_doc **hit = bsearch(&kp, sorted, (size_t)n, sizeof *sorted, cmp_ids);
    return hit ? *hit : NULL;
}

static int cmp_results(const void *a, const void *b) {
    const ds_eval_doc_result *x = a, *y = b;
    if (x->f1 != y->f1) return x->f1 < y->f1 ? -1 : 1;
    long ex = x->c.fp + x->c.fn, ey = y->c.fp + y->c.fn;
    if (ex != ey) return ex > ey ? -1 : 1;
    return strcmp(x->truth->id, y->truth->id);
}

static int score_doc(score_ctx *cx, const ds_eval_doc *td, const ds_eval_doc *pd,
                     ds_eval_doc_result *dr) {
    const char *type = td->doc_type ? td->doc_type : "-";
    dr->truth = td;
    dr->predicted = pd != NULL;
    dr->doc_type_ok =
        pd && (!pd->doc_type || (td->doc_type && !strcmp(pd->doc_type, td->doc_type)));
    if (!bucket(&cx->r->types, &cx->r->n_types, type, NULL))
        return ds_error(DS_E_NOMEM, "out of memory");
    int rc = 0;
    for (int i = 0; i < td->n_fields && !rc; i++) {
        const ds_eval_field *tf = &td->fields[i];
        const ds_eval_field *pf = NULL;
        for (int k = 0; pd && k < pd->n_fields && !pf; k++)
            if (strcmp(pd->fields[k].name, tf->name) == 0) pf = &pd->fields[k];
        rc = score_field(cx, dr, type, tf->name, tf->type, tf, pf);
    }
    for (int k = 0; pd && k < pd->n_fields && !rc; k++) {
        const ds_eval_field *pf = &pd->fields[k];
        int in_truth = 0;
        for (int i = 0; i < td->n_fields && !in_truth; i++)
            in_truth = strcmp(td->fields[i].name, pf->name) == 0;
        if (!in_truth) rc = score_field(cx, dr, type, pf->name, pf->type, NULL, pf);
    }
    double p, r;
    ds_eval_prf(dr->c, &p, &r, &dr->f1);
    return rc;
}

int ds_eval_score(const ds_eval_set *truth, const ds_eval_preds *preds, const ds_eval_opts *opts,
                  ds_eval_report *out) {
    memset(out, 0, sizeof *out);
    out->format = truth->format;
    out->aux = truth->aux;
    score_ctx cx = {truth, truth->norm, out};
    if (opts) {
        cx.norm.uppercase |= opts->uppercase;
        cx.norm.month_first = opts->month_first;
    }
    int np = preds ? preds->n_docs : 0, nt = truth->n_docs;
    const ds_eval_doc **ps = malloc((size_t)(np ? np : 1) * sizeof *ps);
    const ds_eval_doc **ts = malloc((size_t)(nt ? nt : 1) * sizeof *ts);
    out->docs = calloc((size_t)(nt ? nt : 1), sizeof *out->docs);
    int rc = ps && ts && out->docs ? 0 : ds_error(DS_E_NOMEM, "out of memory");
    for (int i = 0; !rc && i < np; i++) ps[i] = &preds->docs[i];
    for (int i = 0; !rc && i < nt; i++) ts[i] = &truth->docs[i];
    if (!rc) {
        qsort(ps, (size_t)np, sizeof *ps, cmp_ids);
        qsort(ts, (size_t)nt, sizeof *ts, cmp_ids);
    }
    for (int i = 0; !rc && i < np; i++) out->n_pred_unmatched += !lookup(ts, nt, ps[i]->id);
    for (int i = 0; !rc && i < nt; i++) {
        const ds_eval_doc *pd = lookup(ps, np, truth->docs[i].id);
        rc = score_doc(&cx, &truth->docs[i], pd, &out->docs[i]);
        out->n_docs++;
        out->n_predicted += pd != NULL;
        out->n_doc_type_ok += out->docs[i].doc_type_ok;
    }
    free(ps);
    free(ts);
    if (rc) {
        ds_eval_report_free(out);
        return rc;
    }
    qsort(out->docs, (size_t)out->n_docs, sizeof *out->docs, cmp_results);
    return 0;
}

void ds_eval_report_free(ds_eval_report *r) {
    if (!r) return;
    free(r->scored);
    for (int i = 0; i < r->n_docs; i++) {
        ds_eval_doc_result *d = &r->docs[i];
        for (int k = 0; k < d->n_misses; k++) {
            free(d->misses[k].field);
            free(d->misses[k].pred);
            free(d->misses[k].truth);
            free(d->misses[k].true_boxes);
        }
        free(d->misses);
    }
    free(r->docs);
    ds_eval_bucket *b[2] = {r->types, r->fields};
    int n[2] = {r->n_types, r->n_fields};
    for (int s = 0; s < 2; s++) {
        for (int i = 0; i < n[s]; i++) {
            free(b[s][i].doc_type);
            free(b[s][i].field);
        }
        free(b[s]);
    }
    memset(r, 0, sizeof *r);
}

void ds_eval_add_reliability(ds_eval_report *r, double conf, int right) {
    // conf arrives as a float's value more often than not (0.9f is 0.8999...): the
    // small nudge keeps a confidence written 0.9 in the tenth that starts at 0.9.
    int b = (int)(conf * DS_EVAL_REL_BINS + 1e-6);
    b = b < 0 ? 0 : b >= DS_EVAL_REL_BINS ? DS_EVAL_REL_BINS - 1 : b;
    r->rel_n[b]++;
    r->rel_ok[b] += right != 0;
    r->rel_conf[b] += conf;
    r->rel_sq += (conf - (right != 0)) * (conf - (right != 0));
}

long ds_eval_calibration_error(const ds_eval_report *r, double *ece, double *brier) {
    long n = 0;
    double gap = 0;
    for (int b = 0; b < DS_EVAL_REL_BINS; b++) {
        n += r->rel_n[b];
        gap += fabs((double)r->rel_ok[b] - r->rel_conf[b]);
    }
    *ece = n ? gap / (double)n : 0;
    *brier = n ? r->rel_sq / (double)n : 0;
    return n;
}

int ds_eval_scored_by_conf(const void *a, const void *b) {
    float x = ((const ds_eval_scored *)a)->conf, y = ((const ds_eval_scored *)b)->conf;
    return (x > y) - (x < y);
}

double ds_eval_auroc(const ds_eval_report *r) {
    long n = r->n_scored, pos = 0;
    for (long i = 0; i < n; i++) pos += r->scored[i].right != 0;
    if (pos == 0 || pos == n) return -1;
    ds_eval_scored *s = malloc(sizeof *s * (size_t)n);
    if (!s) return -1;
    memcpy(s, r->scored, sizeof *s * (size_t)n);
    qsort(s, (size_t)n, sizeof *s, ds_eval_scored_by_conf);
    // Mann-Whitney: the right values' ranks summed (tied values share their mean rank)
    double ranks = 0;
    for (long i = 0; i < n;) {
        long j = i, right = 0;
        for (; j < n && s[j].conf == s[i].conf; j++) right += s[j].right != 0;
        ranks += right * (i + 1 + j) / 2.0; // mean of ranks i + 1 .. j
        i = j;
    }
    free(s);
    double neg = (double)(n - pos);
    return (ranks - pos * (pos + 1) / 2.0) / (pos * neg);
}
