// schema.c: loads samples/schemas/*.json (through jansson) into ds_schema.
// Validation is strict: an unknown field type, a duplicate field name or an
// enum without values is an error naming the file, so a typo in a schema
// cannot silently change what is extracted or scored.
#include "samples/schema.h"
#include "core/error.h"

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *ds_field_type_names[DS_FIELD_TYPE_COUNT] = {
    "text",       "date",     "amount", "currency", "checkbox",  "enum",
    "party_list", "duration", "place",  "name",     "text_list", "address"};

const char *ds_field_type_name(ds_field_type t) {
    return (unsigned)t < DS_FIELD_TYPE_COUNT ? ds_field_type_names[t] : "?";
}

int ds_field_type_parse(const char *name, ds_field_type *out) {
    for (int i = 0; i < DS_FIELD_TYPE_COUNT; i++)
        if (strcmp(name, ds_field_type_names[i]) == 0) {
            *out = (ds_field_type)i;
            return 0;
        }
    return ds_error(DS_E_FORMAT,
                    "unknown field type '%s' (text, date, amount, currency, checkbox, enum, "
                    "party_list, duration, place, name, text_list, address)",
                    name);
}

int ds_field_is_multi(ds_field_type t) {
    return t == DS_FIELD_PARTY_LIST || t == DS_FIELD_TEXT_LIST;
}

static char *dup_or_empty(const char *s) {
    return strdup(s ? s : "");
}

int ds_schema_parse(const char *json_text, const char *what, ds_schema *out) {
    memset(out, 0, sizeof *out);
    json_error_t jerr;
    json_t *root = json_loads(json_text, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return ds_error(DS_E_FORMAT, "%s: JSON error at line %d: %s", what, jerr.line, jerr.text);
    int rc = 0;
    const char *type = json_string_value(json_object_get(root, "doc_type"));
    json_t *fields = json_object_get(root, "fields");
    if (!type || !type[0] || !json_is_array(fields) || json_array_size(fields) == 0) {
        rc = ds_error(DS_E_FORMAT,
                      "%s: needs \"doc_type\" (string) and \"fields\" (non-empty array)", what);
        goto done;
    }
    out->doc_type = strdup(type);
    out->description = dup_or_empty(json_string_value(json_object_get(root, "description")));
    json_t *routed = json_object_get(root, "routed");
    if (routed && !json_is_boolean(routed)) {
        rc = ds_error(DS_E_FORMAT, "%s: \"routed\" must be true or false", what);
        goto done;
    }
    out->routed = !routed || json_is_true(routed);
    out->fields = calloc(json_array_size(fields), sizeof(ds_field));
    if (!out->doc_type || !out->description || !out->fields) {
        rc = ds_error(DS_E_NOMEM, "out of memory");
        goto done;
    }
    size_t i;
    json_t *f;
    json_array_foreach(fields, i, f) {
        const char *name = json_string_value(json_object_get(f, "name"));
        const char *tname = json_string_value(json_object_get(f, "type"));
        if (!name || !name[0] || !tname) {
            rc = ds_error(DS_E_FORMAT, "%s: field %zu needs \"name\" and \"type\"", what, i + 1);
            goto done;
        }
        for (int k = 0; k < out->n_fields; k++)
            if (strcmp(out->fields[k].name, name) == 0) {
                rc = ds_error(DS_E_FORMAT, "%s: field '%s' appears twice", what, name);
                goto done;
            }
        ds_field *d = &out->fields[out->n_fields];
        if ((rc = ds_field_type_parse(tname, &d->type)) != 0) {
            char detail[512];
            snprintf(detail, sizeof detail, "%s", ds_errmsg());
            rc = ds_error(rc, "%s: field '%s': %s", what, name, detail);
            goto done;
        }
        d->name = strdup(name);
        d->description = dup_or_empty(json_string_value(json_object_get(f, "description")));
        out->n_fields++;
        json_t *max_items = json_object_get(f, "max_items");
        d->max_items = ds_field_is_multi(d->type) ? DS_LIST_MAX : 1;
        if (max_items) {
            json_int_t k = json_integer_value(max_items);
            if (!ds_field_is_multi(d->type) || !json_is_integer(max_items) || k < 1 ||
                k > DS_LIST_MAX_ITEMS) {
                rc = ds_error(DS_E_FORMAT,
                              "%s: field '%s': \"max_items\" must be 1..%d, on a list only", what,
                              name, DS_LIST_MAX_ITEMS);
                goto done;
            }
            d->max_items = (int)k;
        }
        json_t *vals = json_object_get(f, "values");
        if (d->type == DS_FIELD_ENUM) {
            if (!json_is_array(vals) || json_array_size(vals) == 0) {
                rc = ds_error(DS_E_FORMAT, "%s: enum field '%s' needs \"values\"", what, name);
                goto done;
            }
            d->values = calloc(json_array_size(vals), sizeof(char *));
            size_t k;
            json_t *v;
            json_array_foreach(vals, k, v) {
                if (!json_is_string(v)) {
                    rc = ds_error(DS_E_FORMAT, "%s: enum field '%s': values must be strings", what,
                                  name);
                    goto done;
                }
                d->values[d->n_values++] = strdup(json_string_value(v));
            }
        }
    }
done:
    json_decref(root);
    if (rc) ds_schema_free(out);
    return rc;
}

void ds_schema_free(ds_schema *s) {
    if (!s) return;
    for (int i = 0; i < s->n_fields; i++) {
        ds_field *f = &s->fields[i];
        free(f->name);
        free(f->description);
        for (int k = 0; k < f->n_values; k++) free(f->values[k]);
        free(f->values);
    }
    free(s->fields);
    free(s->doc_type);
    free(s->description);
    memset(s, 0, sizeof *s);
}

void ds_schema_set_free(ds_schema_set *set) {
    if (!set) return;
    for (int i = 0; i < set->n; i++) ds_schema_free(&set->schemas[i]);
    free(set->schemas);
    memset(set, 0, sizeof *set);
}

static int cmp_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int ds_schema_set_load(const char *dir, ds_schema_set *out) {
    memset(out, 0, sizeof *out);
    DIR *d = opendir(dir);
    if (!d) return ds_error(DS_E_NOENT, "%s: cannot open the schema folder", dir);
    char *names[256];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 256) {
        size_t len = strlen(e->d_name);
        if (len > 5 && strcmp(e->d_name + len - 5, ".json") == 0) names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, cmp_names);
    int rc = n ? 0 : ds_error(DS_E_NOENT, "%s: no *.json schemas", dir);
    out->schemas = calloc(n ? (size_t)n : 1, sizeof(ds_schema));
    if (!out->schemas) rc = ds_error(DS_E_NOMEM, "out of memory");
    for (int i = 0; i < n && rc == 0; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        json_error_t jerr;
        json_t *j = json_load_file(path, 0, &jerr);
        char *text = j ? json_dumps(j, 0) : NULL;
        json_decref(j);
        if (!text) {
            rc = ds_error(DS_E_FORMAT, "%s: JSON error at line %d: %s", path, jerr.line, jerr.text);
            break;
        }
        rc = ds_schema_parse(text, path, &out->schemas[out->n]);
        free(text);
        if (rc == 0 && ds_schema_find(out, out->schemas[out->n].doc_type) != NULL)
            rc = ds_error(DS_E_FORMAT, "%s: doc_type '%s' is defined twice", path,
                          out->schemas[out->n].doc_type);
        if (rc == 0)
            out->n++;
        else
            ds_schema_free(&out->schemas[out->n]);
    }
    for (int i = 0; i < n; i++) free(names[i]);
    if (rc) ds_schema_set_free(out);
    return rc;
}

const ds_schema *ds_schema_find(const ds_schema_set *set, const char *doc_type) {
    for (int i = 0; doc_type && i < set->n; i++)
        if (strcmp(set->schemas[i].doc_type, doc_type) == 0) return &set->schemas[i];
    return NULL;
}

const ds_field *ds_schema_field(const ds_schema *s, const char *name) {
    for (int i = 0; i < s->n_fields; i++)
        if (strcmp(s->fields[i].name, name) == 0) return &s->fields[i];
    return NULL;
}

const char *ds_schema_named_only(const ds_schema_set *set, const char *doc_type) {
    const ds_schema *s = doc_type ? ds_schema_find(set, doc_type) : NULL;
    return s && !s->routed ? doc_type : NULL;
}
