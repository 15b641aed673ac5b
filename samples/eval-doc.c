// eval-doc.c: the documents the evaluator compares, truth and prediction
// alike: building them (fields, values, boxes) and reading values and boxes
// from JSON, strictly (a bad box or a nested array is an error naming where).
// Shared by eval.c and the readers through eval-impl.h; it scores nothing.
#include "core/error.h"
#include "samples/eval-impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ds_eval_doc *ds_eval_doc_push(ds_eval_doc **docs, int *n) {
    ds_eval_doc *d = realloc(*docs, (size_t)(*n + 1) * sizeof **docs);
    if (!d) return NULL;
    *docs = d;
    memset(&d[*n], 0, sizeof *d);
    return &d[(*n)++];
}

void ds_eval_doc_free(ds_eval_doc *d) {
    if (!d) return;
    for (int i = 0; i < d->n_fields; i++) {
        ds_eval_field *f = &d->fields[i];
        for (int k = 0; k < f->n_values; k++) {
            free(f->values[k].raw);
            free(f->values[k].boxes);
        }
        free(f->values);
        free(f->name);
    }
    free(d->fields);
    free(d->id);
    free(d->doc_type);
    free(d->doc_path);
    free(d->source);
    memset(d, 0, sizeof *d);
}

ds_eval_field *ds_eval_doc_field(ds_eval_doc *d, const char *name, ds_field_type t) {
    for (int i = 0; i < d->n_fields; i++)
        if (strcmp(d->fields[i].name, name) == 0) return &d->fields[i];
    ds_eval_field *f = realloc(d->fields, (size_t)(d->n_fields + 1) * sizeof *f);
    if (!f) return NULL;
    d->fields = f;
    f = &f[d->n_fields];
    memset(f, 0, sizeof *f);
    if (!(f->name = strdup(name))) return NULL;
    f->type = t;
    d->n_fields++;
    return f;
}

int ds_eval_value_add_box(ds_eval_value *v, const ds_eval_box *box) {
    ds_eval_box *b = realloc(v->boxes, (size_t)(v->n_boxes + 1) * sizeof *b);
    if (!b) return ds_error(DS_E_NOMEM, "out of memory");
    v->boxes = b;
    b[v->n_boxes++] = *box;
    return 0;
}

ds_eval_value *ds_eval_field_add(ds_eval_field *f, const char *raw, const ds_eval_box *box) {
    ds_eval_value *v = realloc(f->values, (size_t)(f->n_values + 1) * sizeof *v);
    if (!v) return NULL;
    f->values = v;
    v = &v[f->n_values];
    memset(v, 0, sizeof *v);
    v->conf = -1;
    if (!(v->raw = strdup(raw))) return NULL;
    f->n_values++;
    if (box && ds_eval_value_add_box(v, box) != 0) return NULL;
    return v;
}

char *ds_eval_id_of(const char *path) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    return strndup(base, n);
}

// Shortest text that reads back as the same double, with ".0" on whole numbers (Python's str).
static void real_text(double v, char *buf, size_t cap) {
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) break;
    }
    if (isfinite(v) && !strpbrk(buf, ".e")) strncat(buf, ".0", cap - strlen(buf) - 1);
}

int ds_eval_scalar_text(const json_t *v, char **out) {
    char buf[64];
    *out = NULL;
    if (!v || json_is_null(v)) return 0;
    if (json_is_string(v)) {
        if (!json_string_value(v)[0]) return 0;
        *out = strdup(json_string_value(v));
    } else if (json_is_integer(v)) {
        snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
        *out = strdup(buf);
    } else if (json_is_real(v)) {
        real_text(json_real_value(v), buf, sizeof buf);
        *out = strdup(buf);
    } else if (json_is_boolean(v)) {
        *out = strdup(json_is_true(v) ? "true" : "false");
    } else {
        return DS_E_FORMAT;
    }
    return *out ? 0 : ds_error(DS_E_NOMEM, "out of memory");
}

int ds_eval_parse_box(const json_t *page, const json_t *box, const char *where, const char *field,
                      ds_eval_box *b) {
    memset(b, 0, sizeof *b);
    b->page = 1; // a box without a page is on the first
    if (page && (!json_is_integer(page) || json_integer_value(page) < 1 ||
                 json_integer_value(page) > DS_EVAL_MAX_COORD))
        return ds_error(DS_E_FORMAT, "%s: field '%s': \"page\" must be an integer from 1 to %g",
                        where, field, DS_EVAL_MAX_COORD);
    if (page) b->page = (int)json_integer_value(page);
    if (!json_is_array(box) || json_array_size(box) != 4)
        return ds_error(DS_E_FORMAT, "%s: field '%s': \"box\" must be [x0, y0, x1, y1]", where,
                        field);
    for (int i = 0; i < 4; i++) {
        const json_t *x = json_array_get(box, (size_t)i);
        // bounded so that the float it is kept as is finite (1e300 would not be)
        if (!json_is_number(x) || fabs(json_number_value(x)) > DS_EVAL_MAX_COORD)
            return ds_error(DS_E_FORMAT, "%s: field '%s': \"box\" must hold 4 numbers within %g",
                            where, field, DS_EVAL_MAX_COORD);
        b->box[i] = (float)json_number_value(x);
    }
    if (!(b->box[0] <= b->box[2] && b->box[1] <= b->box[3]))
        return ds_error(DS_E_FORMAT, "%s: field '%s': box [%g, %g, %g, %g] has x1 < x0 or y1 < y0",
                        where, field, b->box[0], b->box[1], b->box[2], b->box[3]);
    return 0;
}

// One element: a scalar, or {"value": scalar, "page": n, "box": [...], "confidence": c}.
static int parse_value(ds_eval_field *f, const json_t *v, const char *where) {
    const json_t *val = v;
    ds_eval_box box, *pbox = NULL;
    if (json_is_object(v)) {
        val = json_object_get(v, "value");
        if (!val)
            return ds_error(DS_E_FORMAT, "%s: field '%s': an object value needs \"value\"", where,
                            f->name);
        const json_t *jb = json_object_get(v, "box");
        if (jb && !json_is_null(jb)) {
            int rc = ds_eval_parse_box(json_object_get(v, "page"), jb, where, f->name, &box);
            if (rc) return rc;
            const json_t *units = json_object_get(v, "units"); // page points unless "pixels"
            const char *u = json_string_value(units);
            if (units && (!u || (strcmp(u, "points") && strcmp(u, "pixels"))))
                return ds_error(DS_E_FORMAT,
                                "%s: field '%s': \"units\" must be \"points\" or \"pixels\"", where,
                                f->name);
            box.in_pixels = u && !strcmp(u, "pixels");
            pbox = &box;
        }
    }
    char *raw;
    int rc = ds_eval_scalar_text(val, &raw);
    if (rc == DS_E_FORMAT)
        return ds_error(DS_E_FORMAT,
                        "%s: field '%s': a value must be a string, number, boolean or null", where,
                        f->name);
    if (rc || !raw) return rc; // null or "": no value
    char *c = ds_norm_collapse(raw);
    int blank = c && !c[0]; // white space only: no value either
    free(c);
    if (!c || blank) {
        free(raw);
        return c ? 0 : ds_error(DS_E_NOMEM, "out of memory");
    }
    ds_eval_value *added = ds_eval_field_add(f, raw, pbox);
    free(raw);
    if (!added) return ds_error(DS_E_NOMEM, "out of memory");
    const json_t *jc = json_is_object(v) ? json_object_get(v, "confidence") : NULL;
    if (json_is_number(jc) && json_number_value(jc) >= 0 && json_number_value(jc) <= 1)
        added->conf = (float)json_number_value(jc);
    const char *kind = json_is_object(v) ? json_string_value(json_object_get(v, "source")) : NULL;
    snprintf(added->kind, sizeof added->kind, "%s", kind ? kind : "");
    return 0;
}

static int unknown_field(const ds_schema *spec, const char *name, const char *where) {
    char list[1024] = "";
    for (int i = 0; i < spec->n_fields; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                 spec->fields[i].name);
    return ds_error(DS_E_FORMAT, "%s: unknown field '%s' for doc type '%s' (its fields: %s)", where,
                    name, spec->doc_type, list);
}

int ds_eval_parse_fields(ds_eval_doc *d, const json_t *fields, const ds_schema *spec,
                         const char *where) {
    if (!json_is_object(fields))
        return ds_error(DS_E_FORMAT, "%s: \"fields\" must be an object", where);
    const char *name;
    json_t *v;
    json_object_foreach((json_t *)fields, name, v) {
        ds_field_type t = DS_FIELD_TEXT;
        if (spec) {
            const ds_field *sf = ds_schema_field(spec, name);
            if (!sf) return unknown_field(spec, name, where);
            t = sf->type;
        }
        ds_eval_field *f = ds_eval_doc_field(d, name, t);
        if (!f) return ds_error(DS_E_NOMEM, "out of memory");
        size_t i;
        json_t *e;
        int rc = 0;
        if (json_is_array(v)) {
            json_array_foreach(v, i, e) {
                if (json_is_array(e))
                    rc = ds_error(DS_E_FORMAT, "%s: field '%s': arrays do not nest", where, name);
                if (!rc) rc = parse_value(f, e, where);
                if (rc) return rc;
            }
        } else if ((rc = parse_value(f, v, where)) != 0) {
            return rc;
        }
    }
    return 0;
}
