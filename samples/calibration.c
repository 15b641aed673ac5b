// calibration.c: see calibration.h.
#include "samples/calibration.h"

#include "core/error.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    double raw_hi, raw_sum;
    long right, n;
} block;

// Merges block k + 1 into block k.
static void merge(block *b, int *nb, int k) {
    b[k].right += b[k + 1].right;
    b[k].n += b[k + 1].n;
    b[k].raw_sum += b[k + 1].raw_sum;
    b[k].raw_hi = b[k + 1].raw_hi;
    memmove(b + k + 1, b + k + 2, sizeof *b * (size_t)(*nb - k - 2));
    (*nb)--;
}

// Pool-adjacent-violators over values sorted by confidence (equal confidences share a
// block): blocks whose share of right values rises left to right (equal shares pooled
// too). Then every block of fewer than DS_CALIB_MIN_STEP values joins a neighbour (the
// share stays between theirs, so the order holds), so no step rests on a handful.
static int fit_curve(const ds_eval_scored *v, long n, const char *kind, ds_calib_curve *out) {
    block *b = malloc(sizeof *b * (size_t)(n + 1));
    if (!b) return ds_error(DS_E_NOMEM, "calibration: out of memory");
    int nb = 0;
    for (long i = 0; i < n;) {
        block cur = {v[i].conf, 0, 0, 0};
        long j = i;
        for (; j < n && v[j].conf == v[i].conf; j++)
            cur.right += v[j].right, cur.n++, cur.raw_sum += v[j].conf;
        i = j;
        b[nb++] = cur;
        while (nb > 1 && b[nb - 2].right * b[nb - 1].n >= b[nb - 1].right * b[nb - 2].n)
            merge(b, &nb, nb - 2); // the left share was as high or higher
    }
    for (int k = 0; k < nb && nb > 1;) {
        if (b[k].n >= DS_CALIB_MIN_STEP) {
            k++;
            continue;
        }
        merge(b, &nb, k + 1 < nb ? k : k - 1);
        if (k >= nb) k = nb - 1;
    }
    *out = (ds_calib_curve){.n_steps = nb, .n_values = n};
    snprintf(out->kind, sizeof out->kind, "%s", kind);
    out->steps = malloc(sizeof *out->steps * (size_t)(nb ? nb : 1));
    if (!out->steps) {
        free(b);
        return ds_error(DS_E_NOMEM, "calibration: out of memory");
    }
    float right_min = 1;
    for (int k = nb - 1; k >= 0; k--) {
        float p = (float)(b[k].right + 1) / (float)(b[k].n + 2);
        right_min = p < right_min ? p : right_min; // never above a step to its right
        out->steps[k] =
            (ds_calib_step){(float)b[k].raw_hi, right_min, b[k].n, (float)(b[k].raw_sum / b[k].n)};
    }
    if (nb) out->steps[nb - 1].raw_hi = 1; // the last step reaches certainty
    free(b);
    return 0;
}

int ds_calib_fit(const ds_eval_scored *v, long n, const char *fitted_on, ds_calibration *out) {
    *out = (ds_calibration){0};
    if (n <= 0) return ds_error(DS_E_INVAL, "calibration: no predicted value has a confidence");
    ds_eval_scored *s = malloc(sizeof *s * (size_t)n);
    out->curves = calloc(8, sizeof *out->curves);
    out->fitted_on = strdup(fitted_on ? fitted_on : "");
    int rc =
        s && out->curves && out->fitted_on ? 0 : ds_error(DS_E_NOMEM, "calibration: out of memory");
    if (!rc) {
        memcpy(s, v, sizeof *s * (size_t)n);
        qsort(s, (size_t)n, sizeof *s, ds_eval_scored_by_conf);
        rc = fit_curve(s, n, "*", &out->curves[out->n_curves++]);
    }
    // one curve per kind with enough values (at most 7 kinds)
    const char *kinds[7];
    int nk = 0;
    for (long i = 0; !rc && i < n; i++) {
        int seen = !s[i].kind[0];
        for (int k = 0; k < nk && !seen; k++) seen = !strcmp(kinds[k], s[i].kind);
        if (!seen && nk < 7) kinds[nk++] = s[i].kind;
    }
    ds_eval_scored *sub = rc ? NULL : malloc(sizeof *sub * (size_t)n);
    if (!rc && !sub) rc = ds_error(DS_E_NOMEM, "calibration: out of memory");
    for (int k = 0; !rc && k < nk; k++) {
        long m = 0;
        for (long i = 0; i < n; i++)
            if (!strcmp(s[i].kind, kinds[k])) sub[m++] = s[i];
        if (m >= DS_CALIB_MIN_VALUES)
            rc = fit_curve(sub, m, kinds[k], &out->curves[out->n_curves++]);
    }
    free(sub);
    free(s);
    if (rc) ds_calib_free(out);
    return rc;
}

static const ds_calib_curve *curve_of(const ds_calibration *c, const char *kind) {
    const ds_calib_curve *pooled = NULL;
    for (int i = 0; i < c->n_curves; i++) {
        if (kind && !strcmp(c->curves[i].kind, kind)) return &c->curves[i];
        if (!strcmp(c->curves[i].kind, "*")) pooled = &c->curves[i];
    }
    return pooled;
}

double ds_calib_apply(const ds_calibration *c, const char *kind, double raw) {
    const ds_calib_curve *cv = c ? curve_of(c, kind) : NULL;
    if (!cv || !cv->n_steps) return raw;
    const ds_calib_step *st = cv->steps;
    int k = 0, last = cv->n_steps - 1;
    if (st[0].raw_mean < 0) { // version 1: steps
        while (k < last && raw > st[k].raw_hi) k++;
        return st[k].p;
    }
    while (k <= last && raw > st[k].raw_mean) k++;
    if (k == 0) return st[0].p; // beyond the outer means: their steps' shares
    if (k > last) return st[last].p;
    double t = (raw - st[k - 1].raw_mean) / (st[k].raw_mean - st[k - 1].raw_mean);
    return st[k - 1].p + t * (st[k].p - st[k - 1].p);
}

static void apply_value(const ds_calibration *c, json_t *v) {
    json_t *jc = json_is_object(v) ? json_object_get(v, "confidence") : NULL;
    if (!json_is_number(jc)) return;
    const char *kind = json_string_value(json_object_get(v, "source"));
    double p = ds_calib_apply(c, kind, json_number_value(jc));
    json_real_set(jc, (double)(long)(p * 1000 + 0.5) / 1000);
}

void ds_calib_apply_fields(const ds_calibration *c, json_t *fields) {
    const char *name;
    json_t *v;
    if (!c) return;
    json_object_foreach(fields, name, v) {
        if (json_is_array(v)) {
            size_t i;
            json_t *item;
            json_array_foreach(v, i, item) apply_value(c, item);
        } else {
            apply_value(c, v);
        }
    }
}

// Version 1 files have steps without their mean raw confidence (used as steps).
#define STEPS_V1 "steps (raw up to, right share, values)"
#define STEPS_V2 "steps (raw up to, right share, values, mean raw)"

int ds_calib_save(const ds_calibration *c, const char *path) {
    json_t *curves = json_object();
    for (int i = 0; curves && i < c->n_curves; i++) {
        const ds_calib_curve *cv = &c->curves[i];
        json_t *steps = json_array();
        for (int k = 0; steps && k < cv->n_steps; k++)
            json_array_append_new(steps,
                                  json_pack("[f, f, I, f]", cv->steps[k].raw_hi, cv->steps[k].p,
                                            (json_int_t)cv->steps[k].n, cv->steps[k].raw_mean));
        json_object_set_new(
            curves, cv->kind,
            json_pack("{s:I, s:o}", "values", (json_int_t)cv->n_values, STEPS_V2, steps));
    }
    json_t *o = json_pack("{s:i, s:s, s:o}", "docseek_calibration", 2, "fitted_on",
                          c->fitted_on ? c->fitted_on : "", "curves", curves);
    json_t *wh = c->n_withhold ? json_object() : NULL;
    for (int i = 0; wh && i < c->n_withhold; i++) {
        const ds_calib_withhold *w = &c->withhold[i];
        json_object_set_new(wh, w->field,
                            json_pack("{s:f, s:I, s:I, s:I}", "raw_below", (double)w->raw_below,
                                      "values", (json_int_t)w->n_values, "right_withheld",
                                      (json_int_t)w->right, "wrong_withheld",
                                      (json_int_t)w->wrong));
    }
    if (o && wh) json_object_set_new(o, "withhold", wh);
    int rc = o && json_dump_file(o, path,
                                 JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6)) == 0
                 ? 0
                 : ds_error(DS_E_IO, "%s: cannot write the calibration", path);
    json_decref(o);
    return rc;
}

int ds_calib_load(const char *path, ds_calibration *out) {
    *out = (ds_calibration){0};
    json_error_t e;
    json_t *o = json_load_file(path, 0, &e);
    if (!o)
        return access(path, F_OK) ? ds_error(DS_E_NOENT, "%s: no such calibration file", path)
                                  : ds_error(DS_E_FORMAT, "%s: %s (line %d)", path, e.text, e.line);
    json_t *curves = json_object_get(o, "curves");
    json_int_t version = json_integer_value(json_object_get(o, "docseek_calibration"));
    int rc =
        (version == 1 || version == 2) && json_is_object(curves) && json_object_size(curves) > 0
            ? 0
            : ds_error(DS_E_FORMAT,
                       "%s: not a docseek calibration (docseek_calibration: 1 or 2, "
                       "curves)",
                       path);
    size_t step_len = version == 2 ? 4 : 3;
    const char *fitted = json_string_value(json_object_get(o, "fitted_on"));
    out->fitted_on = strdup(fitted ? fitted : "");
    out->curves = rc ? NULL : calloc(json_object_size(curves), sizeof *out->curves);
    if (!rc && (!out->curves || !out->fitted_on)) rc = ds_error(DS_E_NOMEM, "out of memory");
    const char *kind;
    json_t *cv;
    json_object_foreach(rc ? NULL : curves, kind, cv) {
        json_t *steps = json_object_get(cv, version == 2 ? STEPS_V2 : STEPS_V1);
        ds_calib_curve *c = &out->curves[out->n_curves++];
        snprintf(c->kind, sizeof c->kind, "%s", kind);
        c->n_values = json_integer_value(json_object_get(cv, "values"));
        c->n_steps = (int)json_array_size(steps);
        c->steps = calloc((size_t)c->n_steps + 1, sizeof *c->steps);
        if (!c->steps || !c->n_steps) {
            rc = c->steps ? ds_error(DS_E_FORMAT, "%s: curve '%s' has no steps", path, kind)
                          : ds_error(DS_E_NOMEM, "out of memory");
            break;
        }
        float last_hi = -1, last_p = 0;
        for (int k = 0; k < c->n_steps && !rc; k++) {
            json_t *s = json_array_get(steps, (size_t)k);
            ds_calib_step st = {(float)json_number_value(json_array_get(s, 0)),
                                (float)json_number_value(json_array_get(s, 1)),
                                (long)json_integer_value(json_array_get(s, 2)), -1};
            if (version == 2) st.raw_mean = (float)json_number_value(json_array_get(s, 3));
            // a step's mean lies in it: above the step before (the same, rounded), up to its top
            int mean_ok = version == 1 ||
                          (st.raw_mean >= last_hi && st.raw_mean >= 0 && st.raw_mean <= st.raw_hi);
            if (json_array_size(s) != step_len || st.raw_hi <= last_hi || st.p < last_p ||
                st.p > 1 || !mean_ok)
                rc = ds_error(DS_E_FORMAT,
                              "%s: curve '%s' step %d is not [raw up to, share, values%s] "
                              "rising on each",
                              path, kind, k, version == 2 ? ", mean raw" : "");
            c->steps[k] = st;
            last_hi = st.raw_hi;
            last_p = st.p;
        }
    }
    json_t *wh = json_object_get(o, "withhold");
    if (!rc && wh && !json_is_object(wh))
        rc = ds_error(DS_E_FORMAT, "%s: withhold must be an object of fields", path);
    if (!rc && json_object_size(wh) &&
        !(out->withhold = calloc(json_object_size(wh), sizeof *out->withhold)))
        rc = ds_error(DS_E_NOMEM, "out of memory");
    const char *field;
    json_t *w;
    json_object_foreach(rc ? NULL : wh, field, w) {
        json_t *below = json_object_get(w, "raw_below");
        const char *dot = strchr(field, '.');
        if (!json_is_number(below) || !(json_number_value(below) > 0) || !dot || dot == field ||
            !dot[1] || strlen(field) >= sizeof out->withhold->field) {
            rc = ds_error(DS_E_FORMAT,
                          "%s: withhold '%s' needs a name doc_type.field and raw_below > 0", path,
                          field);
            break;
        }
        ds_calib_withhold *cw = &out->withhold[out->n_withhold++];
        snprintf(cw->field, sizeof cw->field, "%s", field);
        cw->raw_below = (float)json_number_value(below);
        cw->n_values = (long)json_integer_value(json_object_get(w, "values"));
        cw->right = (long)json_integer_value(json_object_get(w, "right_withheld"));
        cw->wrong = (long)json_integer_value(json_object_get(w, "wrong_withheld"));
    }
    json_decref(o);
    if (rc) ds_calib_free(out);
    return rc;
}

void ds_calib_free(ds_calibration *c) {
    for (int i = 0; c && i < c->n_curves; i++) free(c->curves[i].steps);
    if (c) {
        free(c->curves);
        free(c->withhold);
        free(c->fitted_on);
        *c = (ds_calibration){0};
    }
}

int ds_calib_for_model(const char *model_path, const char *opt, ds_calibration **out) {
    *out = NULL;
    if (opt && !strcmp(opt, "none")) return 0;
    char side[4096];
    const char *path = opt;
    if (!path) {
        size_t n = strlen(model_path);
        const char *ext = ".safetensors";
        size_t ne = strlen(ext);
        if (n >= ne && !strcmp(model_path + n - ne, ext)) n -= ne;
        snprintf(side, sizeof side, "%.*s.calibration.json", (int)n, model_path);
        if (access(side, F_OK)) return 0; // no file beside the model: raw confidences
        path = side;
    }
    ds_calibration *c = calloc(1, sizeof *c);
    if (!c) return ds_error(DS_E_NOMEM, "out of memory");
    int rc = ds_calib_load(path, c);
    if (rc) {
        free(c);
        return rc;
    }
    *out = c;
    return 0;
}
