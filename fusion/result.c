// result.c: see result.h.
#include "fusion/result.h"

#include "core/error.h"
#include "samples/normalize.h"

#include <stdlib.h>
#include <string.h>

// Adds "normalized" beside a value of field type t: the evaluator's canonical form
// when the type's parser reads it (dates, amounts, currencies, check boxes,
// durations), null otherwise.
static void add_normalized(json_t *v, ds_field_type t) {
    if (!json_is_object(v)) return;
    json_t *raw = json_object_get(v, "value");
    json_t *norm = json_null();
    ds_norm_opts o = {0};
    ds_norm_value n;
    int typed = t == DS_FIELD_DATE || t == DS_FIELD_AMOUNT || t == DS_FIELD_CURRENCY ||
                t == DS_FIELD_CHECKBOX || t == DS_FIELD_DURATION;
    if (json_is_boolean(raw)) {
        norm = json_incref(raw);
    } else if (typed && json_is_string(raw) &&
               ds_norm_value_make(t, json_string_value(raw), &o, &n) == 0) {
        if (n.parsed) norm = json_string(n.text);
        ds_norm_value_free(&n);
    }
    json_object_set_new(v, "normalized", norm);
}

static void normalize_fields(json_t *fields, const char *doc_type, const ds_schema_set *schemas) {
    const ds_schema *sc = ds_schema_find(schemas, doc_type);
    for (int f = 0; sc && f < sc->n_fields; f++) {
        json_t *v = json_object_get(fields, sc->fields[f].name);
        size_t i;
        json_t *item;
        if (json_is_array(v))
            json_array_foreach(v, i, item) add_normalized(item, sc->fields[f].type);
        else
            add_normalized(v, sc->fields[f].type);
    }
}

static json_t *head(const ds_result_info *ri) {
    json_t *o = json_pack("{s:s}", "file", ri->file);
    if (o && ri->sha256) json_object_set_new(o, "sha256", json_string(ri->sha256));
    return o;
}

json_t *ds_result_json(const ds_result_info *ri, const json_t *pred, const ds_doc *doc,
                       const ds_schema_set *schemas) {
    double ocr = 0, render = 0, text = 0;
    for (int p = 0; p < doc->n_pages; p++)
        ocr += doc->pages[p].ms_ocr, render += doc->pages[p].ms_render,
            text += doc->pages[p].ms_text;
    json_t *o = head(ri);
    json_t *fields = json_deep_copy(json_object_get(pred, "fields"));
    const char *type = json_string_value(json_object_get(pred, "doc_type"));
    if (!o || !fields) {
        json_decref(o);
        json_decref(fields);
        return NULL;
    }
    normalize_fields(fields, type, schemas);
    json_object_set_new(o, "doc_type", type ? json_string(type) : json_null());
    json_object_set_new(o, "fields", fields);
    json_object_set_new(o, "pages", json_integer(doc->n_pages));
    json_object_set_new(o, "timings_ms",
                        json_pack("{s:f, s:f, s:f, s:f, s:f}", "ingest", ri->ms_ingest, "render",
                                  render, "text_layer", text, "ocr", ocr, "model", ri->ms_model));
    if (ri->batch) json_object_set_new(o, "batch", json_integer(ri->batch));
    json_object_set_new(o, "model", json_string(ri->model));
    json_t *w = json_object_get(pred, "windows");
    if (w) json_object_set(o, "windows", w);
    // what a withholding calibration took out of fields, normalized as they are
    json_t *held = json_deep_copy(json_object_get(pred, "withheld"));
    if (held) {
        normalize_fields(held, type, schemas);
        json_object_set_new(o, "withheld", held);
    }
    json_object_set(o, "type_confidence", json_object_get(pred, "confidence"));
    json_t *note = json_object_get(pred, "note");
    if (note) json_object_set(o, "note", note);
    return o;
}

json_t *ds_result_error(const ds_result_info *ri, int err) {
    json_t *o = head(ri);
    if (o)
        json_object_set_new(o, "error",
                            json_pack("{s:s, s:s}", "code", ds_err_name(err), "message",
                                      ds_errmsg()[0] ? ds_errmsg() : ds_strerror(err)));
    return o;
}

char *ds_result_line(const json_t *o) {
    char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6) | JSON_PRESERVE_ORDER);
    if (!s) return NULL;
    size_t n = strlen(s);
    char *line = realloc(s, n + 2);
    if (!line) {
        free(s);
        return NULL;
    }
    line[n] = '\n';
    line[n + 1] = 0;
    return line;
}
