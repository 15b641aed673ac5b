// gt-formats.c: ground-truth readers for docseek's own format, SROIE and
// Kleister (field maps: their predictions are docseek prediction lines), and
// the dispatch over all formats (FUNSD and CORD live in gt-funsd-cord.c).
// Each reader is strict: an unknown field or key, a malformed line or a
// missing folder is an error naming the file and line, never a silent skip.
// It does not score (eval.c) and does not guess a format from the files.
#include "samples/gt-formats.h"
#include "core/error.h"
#include "samples/eval-impl.h"
#include "samples/form-entities.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *ds_eval_format_names[] = {"docseek", "sroie", "funsd", "kleister", "cord"};

int ds_eval_format_parse(const char *name, ds_eval_format *out) {
    for (int i = 0; i < 5; i++)
        if (strcmp(name, ds_eval_format_names[i]) == 0) {
            *out = (ds_eval_format)i;
            return 0;
        }
    return ds_error(DS_E_INVAL, "unknown format '%s' (docseek, sroie, funsd, kleister, cord)",
                    name);
}

const char *ds_eval_format_name(ds_eval_format f) {
    return (unsigned)f < 5 ? ds_eval_format_names[f] : "?";
}

int ds_eval_format_month_first(ds_eval_format f) {
    return f == DS_EVAL_KLEISTER;
}

// ---- shared

char *ds_gt_find_document(const char *dir, const char *name) {
    static const char *exts[] = {"pdf", "png", "jpg", "jpeg", "tif", "tiff", "webp", "gif", "bmp"};
    char path[4096];
    for (int upper = 0; upper < 2; upper++) // x.pdf, then X.PDF as cameras write it
        for (size_t i = 0; i < sizeof exts / sizeof *exts; i++) {
            int n = snprintf(path, sizeof path, "%s/%s.%s", dir, name, exts[i]);
            if (n < 0 || (size_t)n >= sizeof path) return NULL;
            for (int k = n - (int)strlen(exts[i]); upper && k < n && k >= 0; k++)
                path[k] = (char)(path[k] - 32);
            struct stat st;
            if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) return strdup(path);
        }
    return NULL;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int ds_gt_list(const char *dir, const char *suffix, const char *hint, char ***names, int *n) {
    *names = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return ds_error(DS_E_NOENT, "%s: cannot open the folder: %s (%s)", dir, strerror(errno),
                        hint);
    struct dirent *e;
    int rc = 0;
    size_t ls = strlen(suffix);
    while (!rc && (e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len <= ls || strcmp(e->d_name + len - ls, suffix) != 0) continue;
        char **grown = realloc(*names, (size_t)(*n + 1) * sizeof **names);
        if (grown) *names = grown;
        if (!grown || !((*names)[*n] = strdup(e->d_name)))
            rc = ds_error(DS_E_NOMEM, "out of memory");
        else
            (*n)++;
    }
    closedir(d);
    if (!rc && *n == 0) rc = ds_error(DS_E_NOENT, "%s: no *%s files (%s)", dir, suffix, hint);
    if (rc)
        ds_gt_list_free(*names, *n);
    else
        qsort(*names, (size_t)*n, sizeof **names, cmp_str);
    return rc;
}

void ds_gt_list_free(char **names, int n) {
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
}

int ds_gt_spec(ds_eval_set *s, const char *json) {
    ds_schema *sc = calloc(1, sizeof *sc);
    if (!sc) return ds_error(DS_E_NOMEM, "out of memory");
    int rc = ds_schema_parse(json, "built-in format schema", sc);
    if (rc) {
        free(sc);
        return rc;
    }
    s->spec.schemas = sc;
    s->spec.n = 1;
    return 0;
}

// A new truth document: id, source file, doc type and the document beside it.
ds_eval_doc *ds_gt_new_doc(ds_eval_set *s, const char *id, const char *source, const char *doc_type,
                           const char *doc_dir) {
    ds_eval_doc *d = ds_eval_doc_push(&s->docs, &s->n_docs);
    if (!d) return NULL;
    d->id = strdup(id);
    d->source = strdup(source);
    d->doc_type = strdup(doc_type);
    d->doc_path = ds_gt_find_document(doc_dir, id);
    return d->id && d->source && d->doc_type ? d : NULL;
}

json_t *ds_gt_load_json(const char *path, int *rc) {
    json_error_t jerr;
    json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    *rc =
        j ? 0 : ds_error(DS_E_FORMAT, "%s: JSON error at line %d: %s", path, jerr.line, jerr.text);
    return j;
}

// ---- docseek: DIR/NAME.json {"doc_type", "fields", "boxes"} beside DIR/NAME.pdf

// "boxes": {name: [{"page", "box"}]}: with as many boxes as values, box i belongs to
// value i; otherwise every box belongs to every value (one value on several lines or pages).
static int docseek_boxes(ds_eval_doc *d, const json_t *boxes, const ds_schema *sc,
                         const char *path) {
    if (!boxes) return 0;
    if (!json_is_object(boxes))
        return ds_error(DS_E_FORMAT, "%s: \"boxes\" must be an object", path);
    const char *name;
    json_t *list;
    json_object_foreach((json_t *)boxes, name, list) {
        if (!ds_schema_field(sc, name))
            return ds_error(DS_E_FORMAT, "%s: boxes for unknown field '%s' of doc type '%s'", path,
                            name, sc->doc_type);
        ds_eval_field *f = NULL;
        for (int i = 0; i < d->n_fields; i++)
            if (strcmp(d->fields[i].name, name) == 0) f = &d->fields[i];
        if (!f || f->n_values == 0)
            return ds_error(DS_E_FORMAT, "%s: boxes for field '%s', which has no value", path,
                            name);
        if (!json_is_array(list))
            return ds_error(DS_E_FORMAT, "%s: boxes of '%s' must be a list of {\"page\", \"box\"}",
                            path, name);
        size_t nb = json_array_size(list), i;
        json_t *e;
        json_array_foreach(list, i, e) {
            ds_eval_box b;
            int rc = ds_eval_parse_box(json_object_get(e, "page"), json_object_get(e, "box"), path,
                                       name, &b);
            for (int k = 0; !rc && k < f->n_values; k++)
                if (nb != (size_t)f->n_values || (size_t)k == i)
                    rc = ds_eval_value_add_box(&f->values[k], &b);
            if (rc) return rc;
        }
    }
    return 0;
}

// The truth as a prediction: {"id", "doc_type", "fields": {name: {"value", "page", "box"}}}.
static json_t *doc_as_pred(const ds_eval_doc *d) {
    json_t *fields = json_object();
    for (int i = 0; i < d->n_fields; i++) {
        const ds_eval_field *f = &d->fields[i];
        json_t *vals = json_array();
        for (int k = 0; k < f->n_values; k++) {
            const ds_eval_value *v = &f->values[k];
            json_t *jv = json_pack("{s:s}", "value", v->raw);
            if (v->n_boxes) {
                const float *b = v->boxes[0].box;
                json_object_set_new(jv, "page", json_integer(v->boxes[0].page));
                json_object_set_new(jv, "box", json_pack("[f,f,f,f]", b[0], b[1], b[2], b[3]));
            }
            json_array_append_new(vals, jv);
        }
        if (f->n_values == 1)
            json_object_set(fields, f->name, json_array_get(vals, 0));
        else if (f->n_values > 1)
            json_object_set(fields, f->name, vals);
        json_decref(vals);
    }
    return json_pack("{s:s, s:s, s:o}", "id", d->id, "doc_type", d->doc_type, "fields", fields);
}

static int load_docseek(ds_eval_set *s, const char *dir, const char *schema_dir) {
    int rc = ds_schema_set_load(schema_dir, &s->spec);
    char **names;
    int n;
    if (!rc)
        rc = ds_gt_list(dir, ".json", "docseek format: NAME.json beside NAME.pdf/.png/...", &names,
                        &n);
    if (rc) return rc;
    for (int i = 0; i < n && !rc; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        json_t *root = ds_gt_load_json(path, &rc);
        const char *type = json_string_value(json_object_get(root, "doc_type"));
        const ds_schema *sc = type ? ds_schema_find(&s->spec, type) : NULL;
        if (!rc && !type) rc = ds_error(DS_E_FORMAT, "%s: needs \"doc_type\" (a string)", path);
        if (!rc && !sc)
            rc = ds_error(DS_E_FORMAT, "%s: unknown doc_type '%s' (no such schema in %s)", path,
                          type, schema_dir);
        char *id = rc ? NULL : ds_eval_id_of(names[i]);
        ds_eval_doc *d = id ? ds_gt_new_doc(s, id, path, type, dir) : NULL;
        if (!rc && !d) rc = ds_error(DS_E_NOMEM, "out of memory");
        if (!rc) rc = ds_eval_parse_fields(d, json_object_get(root, "fields"), sc, path);
        if (!rc) rc = docseek_boxes(d, json_object_get(root, "boxes"), sc, path);
        if (!rc) json_array_append_new(s->as_pred, doc_as_pred(d));
        free(id);
        json_decref(root);
    }
    ds_gt_list_free(names, n);
    return rc;
}

// ---- SROIE: DIR/key/NNN.json {"company", "date", "address", "total"}, DIR/img/NNN.jpg

static int load_sroie(ds_eval_set *s, const char *dir) {
    // SROIE task 3 scores exact text (category and text), so every field is text here;
    // upper-cased, as every SROIE label is (160 of 160 values in ../shared/data), even
    // where the receipt prints "03 Mar 2018".
    int rc = ds_gt_spec(s, "{\"doc_type\": \"receipt\", \"fields\": ["
                           "{\"name\": \"company\", \"type\": \"text\"},"
                           "{\"name\": \"date\", \"type\": \"text\"},"
                           "{\"name\": \"address\", \"type\": \"text\"},"
                           "{\"name\": \"total\", \"type\": \"text\"}]}");
    s->norm.uppercase = 1;
    char key_dir[4096], img_dir[4096];
    snprintf(key_dir, sizeof key_dir, "%s/key", dir);
    snprintf(img_dir, sizeof img_dir, "%s/img", dir);
    char **names = NULL;
    int n = 0;
    if (!rc) rc = ds_gt_list(key_dir, ".json", "--format sroie reads DIR/key/*.json", &names, &n);
    for (int i = 0; i < n && !rc; i++) {
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", key_dir, names[i]);
        json_t *root = ds_gt_load_json(path, &rc);
        if (!rc && !json_is_object(root))
            rc = ds_error(DS_E_FORMAT, "%s: expected an object of the 4 fields", path);
        char *id = rc ? NULL : ds_eval_id_of(names[i]);
        ds_eval_doc *d = id ? ds_gt_new_doc(s, id, path, "receipt", img_dir) : NULL;
        if (!rc && !d) rc = ds_error(DS_E_NOMEM, "out of memory");
        if (!rc) rc = ds_eval_parse_fields(d, root, &s->spec.schemas[0], path);
        if (!rc)
            json_array_append_new(s->as_pred, json_pack("{s:s, s:s, s:O}", "id", id, "doc_type",
                                                        "receipt", "fields", root));
        free(id);
        json_decref(root);
    }
    ds_gt_list_free(names, n);
    return rc;
}

// ---- Kleister: DIR/labels.tsv "FILE.pdf<TAB>key=value key=value ...", DIR/documents/FILE.pdf

static int kleister_line(ds_eval_set *s, char *line, const char *where, const char *doc_dir) {
    char *tab = strchr(line, '\t');
    if (!tab || tab == line)
        return ds_error(DS_E_FORMAT, "%s: expected FILE<TAB>key=value ...", where);
    *tab = 0;
    char *id = ds_eval_id_of(line);
    ds_eval_doc *d = id ? ds_gt_new_doc(s, id, where, "contract", doc_dir) : NULL;
    json_t *fields = json_object();
    int rc = d && fields ? 0 : ds_error(DS_E_NOMEM, "out of memory");
    char *save = NULL;
    for (char *kv = strtok_r(tab + 1, " ", &save); kv && !rc; kv = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq || eq == kv || !eq[1]) {
            rc = ds_error(DS_E_FORMAT, "%s: '%s' is not key=value", where, kv);
            break;
        }
        *eq = 0;
        if (!ds_schema_field(&s->spec.schemas[0], kv)) {
            rc = ds_error(DS_E_FORMAT,
                          "%s: unknown key '%s' (Kleister-NDA has party, effective_date, "
                          "jurisdiction, term)",
                          where, kv);
            break;
        }
        ds_eval_field *f = ds_eval_doc_field(d, kv, ds_schema_field(&s->spec.schemas[0], kv)->type);
        if (!f || !ds_eval_field_add(f, eq + 1, NULL)) rc = ds_error(DS_E_NOMEM, "out of memory");
        json_t *list = json_object_get(fields, kv);
        if (!list) json_object_set_new(fields, kv, list = json_array());
        json_array_append_new(list, json_string(eq + 1));
    }
    if (!rc)
        json_array_append_new(s->as_pred, json_pack("{s:s, s:s, s:O}", "id", id, "doc_type",
                                                    "contract", "fields", fields));
    json_decref(fields);
    free(id);
    return rc;
}

static int load_kleister(ds_eval_set *s, const char *dir) {
    int rc = ds_gt_spec(s, "{\"doc_type\": \"contract\", \"fields\": ["
                           "{\"name\": \"party\", \"type\": \"party_list\"},"
                           "{\"name\": \"effective_date\", \"type\": \"date\"},"
                           "{\"name\": \"jurisdiction\", \"type\": \"text\"},"
                           "{\"name\": \"term\", \"type\": \"duration\"}]}");
    if (rc) return rc;
    s->norm.uppercase = 1;        // the Kleister metric upper-cases both sides
    s->norm.underscore_space = 1; // values write spaces and colons as '_'
    s->norm.party_plain = 1;      // and parties without commas, '&' as "and" (labels.tsv)
    char path[4096], doc_dir[4096];
    snprintf(path, sizeof path, "%s/labels.tsv", dir);
    snprintf(doc_dir, sizeof doc_dir, "%s/documents", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return ds_error(DS_E_NOENT,
                        "%s: cannot open: %s (--format kleister reads DIR/labels.tsv and "
                        "DIR/documents/*.pdf)",
                        path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0;
    while (!rc && getline(&line, &cap, f) >= 0) {
        lineno++;
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0]) continue;
        char where[4200];
        snprintf(where, sizeof where, "%s:%d", path, lineno);
        rc = kleister_line(s, line, where, doc_dir);
    }
    free(line);
    fclose(f);
    if (!rc && s->n_docs == 0) rc = ds_error(DS_E_NOENT, "%s: no documents listed", path);
    return rc;
}

// ---- dispatch

int ds_gt_load(ds_eval_format fmt, const char *dir, const char *schema_dir, ds_eval_set *out) {
    memset(out, 0, sizeof *out);
    out->format = fmt;
    out->dir = strdup(dir);
    out->as_pred = json_array();
    if (!out->dir || !out->as_pred) {
        ds_eval_set_free(out);
        return ds_error(DS_E_NOMEM, "out of memory");
    }
    struct stat st;
    int rc = 0;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        rc = ds_error(DS_E_NOENT, "%s: no such ground-truth folder (--format %s)", dir,
                      ds_eval_format_name(fmt));
    else if (fmt == DS_EVAL_DOCSEEK)
        rc = load_docseek(out, dir, schema_dir ? schema_dir : "samples/schemas");
    else if (fmt == DS_EVAL_SROIE)
        rc = load_sroie(out, dir);
    else if (fmt == DS_EVAL_FUNSD)
        rc = ds_gt_load_funsd(out, dir);
    else if (fmt == DS_EVAL_KLEISTER)
        rc = load_kleister(out, dir);
    else if (fmt == DS_EVAL_CORD)
        rc = ds_gt_load_cord(out, dir);
    else
        rc = ds_error(DS_E_INVAL, "unknown format %d", (int)fmt);
    if (rc) ds_eval_set_free(out);
    return rc;
}

void ds_eval_set_free(ds_eval_set *s) {
    if (!s) return;
    for (int i = 0; i < s->n_docs; i++) ds_eval_doc_free(&s->docs[i]);
    free(s->docs);
    free(s->dir);
    ds_schema_set_free(&s->spec);
    json_decref(s->as_pred);
    memset(s, 0, sizeof *s);
}

void ds_eval_pred_field_key(ds_eval_format f, const char *doc_type, const char *name, char *out,
                            size_t n) {
    if (f == DS_EVAL_KLEISTER && !strcmp(name, "party")) name = "parties";
    for (int l = 0; f == DS_EVAL_FUNSD && l < 3; l++)
        if (!strcmp(name, ds_form_entity_kinds[l][1])) {
            snprintf(out, n, "form_entities.%s", ds_form_entity_kinds[l][0]);
            return;
        }
    snprintf(out, n, "%s.%s", doc_type, name);
}

int ds_gt_pred_convert(const ds_eval_set *truth, const json_t *obj, const char *where,
                       json_t **out) {
    *out = NULL;
    if (truth->format == DS_EVAL_FUNSD) return ds_gt_funsd_pred(obj, where, out);
    if (truth->format == DS_EVAL_CORD) return ds_gt_cord_pred(obj, where, out);
    *out = json_copy((json_t *)obj);
    if (!*out) return ds_error(DS_E_NOMEM, "out of memory");
    json_t *fields = json_object_get(*out, "fields");
    json_t *parties = json_object_get(fields, "parties");
    if (truth->format == DS_EVAL_KLEISTER && parties) { // the contract schema's name
        if (json_object_get(fields, "party"))
            return ds_error(DS_E_FORMAT, "%s: both \"party\" and \"parties\" are given", where);
        json_object_set(fields, "party", parties);
        json_object_del(fields, "parties");
    }
    return 0;
}

// The reverse of ds_gt_pred_convert's renaming, and the format's spelling undone
// (gt-formats.h).
json_t *ds_gt_truth_as_docseek(const ds_eval_set *set, const json_t *o) {
    json_t *t = json_deep_copy(o), *fields = json_object_get(t, "fields");
    const char *name;
    json_t *v, *tmp;
    json_object_foreach_safe(fields, tmp, name, v) {
        const ds_field *fd = set->spec.n ? ds_schema_field(&set->spec.schemas[0], name) : NULL;
        int multi = fd && ds_field_is_multi(fd->type);
        size_t n = json_is_array(v) ? json_array_size(v) : 1;
        for (size_t i = 0; i < n && set->norm.underscore_space; i++) {
            json_t *item = json_is_array(v) ? json_array_get(v, i) : v;
            if (!json_is_string(item)) continue;
            char *c = strdup(json_string_value(item));
            for (char *p = c; p && *p; p++)
                if (*p == '_') *p = ' ';
            if (c) json_string_set(item, c);
            free(c);
        }
        if (json_is_array(v) && !multi && json_array_size(v) == 1)
            json_object_set(fields, name, json_array_get(v, 0));
    }
    json_t *party = json_object_get(fields, "party");
    if (set->format == DS_EVAL_KLEISTER && party) {
        json_object_set(fields, "parties", party);
        json_object_del(fields, "party");
    }
    return t;
}

int ds_gt_write_truth(const ds_eval_set *truth, const char *path) {
    FILE *f = fopen(path, "w");
    if (!f) return ds_error(DS_E_IO, "%s: cannot write: %s", path, strerror(errno));
    size_t i;
    json_t *line;
    int bad = 0;
    json_array_foreach(truth->as_pred, i, line) {
        bad |= json_dumpf(line, f, JSON_COMPACT | JSON_ENSURE_ASCII) != 0;
        bad |= fputc('\n', f) == EOF;
    }
    bad |= fclose(f) != 0;
    return bad ? ds_error(DS_E_IO, "%s: write failed", path) : 0;
}
