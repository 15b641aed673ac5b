// calibration-withhold.c: which fields' unsure values a calibration withholds (see
// calibration.h). A value output and wrong costs precision; withheld, it costs nothing
// unless it was right. On documents far from the training data (real receipts' OCR'd
// addresses, say) some fields are wrong nearly always at low confidence, and the
// confidence a person could threshold on is the raw one: the calibrated step function
// pools those values with right ones.
#include "samples/calibration.h"

#include "core/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *field;
    float *conf; // the field's values' raw confidences, ascending
    int *right;  // ... and whether each was right
    long n;
    float below; // chosen threshold (0: withhold nothing)
    long cut_right, cut_wrong;
} field_values;

static int cmp_scored(const void *a, const void *b) {
    const ds_eval_scored *x = a, *y = b;
    int c = strcmp(x->field, y->field);
    return c ? c : (x->conf > y->conf) - (x->conf < y->conf);
}

static double f1_of(long tp, long fp, long fn) {
    return 2 * tp + fp + fn ? 2.0 * (double)tp / (double)(2 * tp + fp + fn) : 0;
}

// The upper end of Wilson's score interval for a share of r in n at z (0: r / n).
static double wilson_upper(long r, long n, double z) {
    double p = (double)r / (double)n, z2n = z * z / (double)n;
    return (p + z2n / 2 + z * sqrt(p * (1 - p) / (double)n + z2n / (4 * (double)n))) / (1 + z2n);
}

// The values of f below each candidate threshold: the field's distinct confidences and
// one above them all. Picks the one maximising F1 given what the other fields take away
// (tp, fp: the set's counts less those), the lower on ties. F1 is counted as if the
// withheld values were right as often as the upper end of their share's interval at z:
// 0 of 27 withheld answers of FUNSD's forms fitted at z = 0, and on the other forms the
// same threshold took 5 right answers with 32 wrong ones, a loss at F1 0.12.
static void best_threshold(field_values *f, long tp, long fp, long fn, double z) {
    double best = f1_of(tp, fp, fn);
    long cr = 0, cw = 0;
    f->below = 0, f->cut_right = f->cut_wrong = 0;
    for (long i = 0; i < f->n;) {
        long j = i;
        for (; j < f->n && f->conf[j] == f->conf[i]; j++) cr += f->right[j], cw += !f->right[j];
        // withholding values i..j-1 too: below the next distinct confidence (or all)
        float below = j < f->n ? f->conf[j] : 2.0f;
        double r = wilson_upper(cr, cr + cw, z) * (double)(cr + cw), w = (double)(cr + cw) - r;
        double s = 2 * ((double)tp - r) / (2 * ((double)tp - r) + (double)fp - w + (double)fn + r);
        if (s > best + 1e-12) best = s, f->below = below, f->cut_right = cr, f->cut_wrong = cw;
        i = j;
    }
}

int ds_calib_fit_withhold(ds_calibration *c, const ds_eval_scored *v, long n,
                          ds_eval_counts overall, double z) {
    ds_eval_scored *s = malloc(sizeof *s * (size_t)(n ? n : 1));
    field_values *fv = calloc((size_t)(n ? n : 1), sizeof *fv);
    float *conf = malloc(sizeof *conf * (size_t)(n ? n : 1));
    int *right = malloc(sizeof *right * (size_t)(n ? n : 1));
    int rc = s && fv && conf && right ? 0 : ds_error(DS_E_NOMEM, "calibration: out of memory");
    int nf = 0;
    if (!rc) {
        memcpy(s, v, sizeof *s * (size_t)n);
        qsort(s, (size_t)n, sizeof *s, cmp_scored);
        for (long i = 0; i < n;) {
            long j = i;
            while (j < n && !strcmp(s[j].field, s[i].field)) j++;
            if (s[i].field[0] && j - i >= DS_CALIB_MIN_VALUES) {
                field_values *f = &fv[nf++];
                *f = (field_values){s[i].field, conf + i, right + i, j - i, 0, 0, 0};
                for (long k = i; k < j; k++) conf[k] = s[k].conf, right[k] = s[k].right;
            }
            i = j;
        }
    }
    // coordinate ascent: each field against the others' current cuts, until none moves
    for (int round = 0; !rc && round < 8; round++) {
        int moved = 0;
        for (int k = 0; k < nf; k++) {
            long tp = overall.tp, fp = overall.fp, fn = overall.fn;
            for (int o = 0; o < nf; o++)
                if (o != k) tp -= fv[o].cut_right, fp -= fv[o].cut_wrong, fn += fv[o].cut_right;
            float was = fv[k].below;
            best_threshold(&fv[k], tp, fp, fn, z);
            moved |= fv[k].below != was;
        }
        if (!moved) break;
    }
    int keep = 0;
    for (int k = 0; k < nf; k++) keep += fv[k].below > 0;
    ds_calib_withhold *w = NULL;
    if (!rc && keep && !(w = calloc((size_t)keep, sizeof *w)))
        rc = ds_error(DS_E_NOMEM, "calibration: out of memory");
    if (!rc) {
        free(c->withhold);
        c->withhold = w;
        c->n_withhold = 0;
        for (int k = 0; k < nf; k++) {
            if (!(fv[k].below > 0)) continue;
            ds_calib_withhold *o = &c->withhold[c->n_withhold++];
            snprintf(o->field, sizeof o->field, "%s", fv[k].field);
            o->raw_below = fv[k].below;
            o->n_values = fv[k].n;
            o->right = fv[k].cut_right;
            o->wrong = fv[k].cut_wrong;
        }
    }
    free(s);
    free(fv);
    free(conf);
    free(right);
    return rc;
}

double ds_calib_withhold_below(const ds_calibration *c, const char *doc_type, const char *field) {
    if (!c || !doc_type) return 0;
    size_t nt = strlen(doc_type);
    for (int i = 0; i < c->n_withhold; i++) {
        const char *k = c->withhold[i].field;
        if (!strncmp(k, doc_type, nt) && k[nt] == '.' && !strcmp(k + nt + 1, field))
            return c->withhold[i].raw_below;
    }
    return 0;
}

static int unsure(const json_t *v, double below) {
    json_t *jc = json_is_object(v) ? json_object_get(v, "confidence") : NULL;
    return json_is_number(jc) && json_number_value(jc) < below;
}

// Moves f's values below the threshold into withheld[name]: a list's items (the list
// kept, perhaps empty), or a single value (null left behind).
static int withhold_field(json_t *fields, const char *name, json_t *v, double below,
                          json_t *withheld) {
    if (json_is_array(v)) {
        json_t *out = json_array();
        if (!out) return ds_error(DS_E_NOMEM, "out of memory");
        for (size_t i = 0; i < json_array_size(v);) {
            json_t *item = json_array_get(v, i);
            if (!unsure(item, below)) {
                i++;
                continue;
            }
            json_array_append(out, item);
            json_array_remove(v, i);
        }
        if (json_array_size(out)) return json_object_set_new(withheld, name, out) ? -1 : 0;
        json_decref(out);
        return 0;
    }
    if (!unsure(v, below)) return 0;
    json_object_set(withheld, name, v);
    return json_object_set_new(fields, name, json_null());
}

int ds_calib_apply_result(const ds_calibration *c, json_t *result) {
    json_t *fields = json_object_get(result, "fields");
    const char *doc_type = json_string_value(json_object_get(result, "doc_type"));
    if (!c || !json_is_object(fields)) return 0;
    json_t *withheld = c->n_withhold ? json_object() : NULL;
    if (c->n_withhold && !withheld) return ds_error(DS_E_NOMEM, "out of memory");
    const char *name;
    json_t *v, *tmp;
    int rc = 0;
    json_object_foreach_safe(fields, tmp, name, v) {
        double below = ds_calib_withhold_below(c, doc_type, name);
        if (below > 0 && withhold_field(fields, name, v, below, withheld))
            rc = ds_error(DS_E_NOMEM, "out of memory");
    }
    ds_calib_apply_fields(c, fields);
    if (withheld && json_object_size(withheld)) {
        ds_calib_apply_fields(c, withheld); // their confidences calibrated as the rest
        json_object_set(result, "withheld", withheld);
    }
    json_decref(withheld);
    return rc;
}
