// gt-funsd-cord.c: the two public formats whose predictions are not field
// maps. FUNSD: entities (question / answer / header; "other" is not scored)
// become multisets of texts, and question->answer links a multiset of text
// pairs scored on their own (linking F1). CORD (Donut style): a nested parse
// becomes (key path, value) pairs as donut/util.py flattens them. Entities
// with empty text (signatures, marks) are not scored: no text can match them.
#include "core/error.h"
#include "samples/eval-impl.h"
#include "samples/gt-formats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// ---- FUNSD: DIR/annotations/NAME.json {"form": [entity]}, DIR/images/NAME.png

static int funsd_label_ok(const char *label) {
    return label && (!strcmp(label, "question") || !strcmp(label, "answer") ||
                     !strcmp(label, "header") || !strcmp(label, "other"));
}

// "question → answer", each side's white space collapsed; *out NULL when a side is empty.
static int link_text(const char *q, const char *a, char **out) {
    *out = NULL;
    char *cq = ds_norm_collapse(q), *ca = ds_norm_collapse(a);
    int rc = cq && ca ? 0 : ds_error(DS_E_NOMEM, "out of memory");
    if (!rc && cq[0] && ca[0] && asprintf(out, "%s \xe2\x86\x92 %s", cq, ca) < 0) {
        *out = NULL;
        rc = ds_error(DS_E_NOMEM, "out of memory");
    }
    free(cq);
    free(ca);
    return rc;
}

static int add_text(ds_eval_doc *d, const char *field, const char *raw, const ds_eval_box *b) {
    ds_eval_field *f = ds_eval_doc_field(d, field, DS_FIELD_PARTY_LIST);
    return f && ds_eval_field_add(f, raw, b) ? 0 : ds_error(DS_E_NOMEM, "out of memory");
}

static const json_t *entity_by_id(const json_t *form, json_int_t id) {
    size_t i;
    json_t *e;
    json_array_foreach(form, i, e) {
        if (json_integer_value(json_object_get(e, "id")) == id) return e;
    }
    return NULL;
}

static int funsd_entities(ds_eval_doc *d, const json_t *form, const char *path, json_t *ents) {
    size_t i;
    json_t *e;
    json_array_foreach(form, i, e) {
        const char *text = json_string_value(json_object_get(e, "text"));
        const char *label = json_string_value(json_object_get(e, "label"));
        if (!json_is_integer(json_object_get(e, "id")) || !text || !funsd_label_ok(label))
            return ds_error(DS_E_FORMAT,
                            "%s: entity %zu needs \"id\" (integer), \"text\" and \"label\" "
                            "(question, answer, header or other)",
                            path, i);
        ds_eval_box b;
        int rc = ds_eval_parse_box(NULL, json_object_get(e, "box"), path, label, &b);
        if (rc) return rc;
        b.in_pixels = 1; // FUNSD boxes are image pixels
        // the box goes along (pixels) for training: fusion/sequence.c points a value at the
        // words under it (samples/form-entities.h)
        json_array_append_new(ents, json_pack("{s:s, s:s, s:O}", "text", text, "label", label,
                                              "box", json_object_get(e, "box")));
        char *c = ds_norm_collapse(text);
        if (!c) return ds_error(DS_E_NOMEM, "out of memory");
        rc = c[0] && strcmp(label, "other") ? add_text(d, label, text, &b) : 0;
        free(c);
        if (rc) return rc;
    }
    return 0;
}

// Question->answer links from every entity's "linking" (each link is listed on both
// ends): once per pair of ids, oriented question first.
static int funsd_links(ds_eval_doc *d, const json_t *form, const char *path, json_t *links) {
    json_int_t(*seen)[2] = NULL;
    size_t n_seen = 0, i, k;
    json_t *e, *l;
    int rc = 0;
    json_array_foreach(form, i, e) {
        json_t *linking = json_object_get(e, "linking");
        if (linking && !json_is_array(linking))
            rc = ds_error(DS_E_FORMAT, "%s: entity %zu: \"linking\" must be a list", path, i);
        json_array_foreach(linking, k, l) {
            if (rc) break;
            json_int_t a = json_integer_value(json_array_get(l, 0));
            json_int_t b = json_integer_value(json_array_get(l, 1));
            const json_t *ea = entity_by_id(form, a), *eb = entity_by_id(form, b);
            if (json_array_size(l) != 2 || !ea || !eb) {
                rc = ds_error(DS_E_FORMAT, "%s: entity %zu: link %zu is not [id, id] of entities",
                              path, i, k);
                break;
            }
            const char *la = json_string_value(json_object_get(ea, "label"));
            const char *lb = json_string_value(json_object_get(eb, "label"));
            if (!strcmp(la, "answer") && !strcmp(lb, "question")) {
                const json_t *t = ea;
                ea = eb, eb = t;
                json_int_t ti = a;
                a = b, b = ti;
            } else if (strcmp(la, "question") || strcmp(lb, "answer")) {
                continue;
            }
            int dup = 0;
            for (size_t s = 0; s < n_seen && !dup; s++) dup = seen[s][0] == a && seen[s][1] == b;
            if (dup) continue;
            json_int_t(*grown)[2] = realloc(seen, (n_seen + 1) * sizeof *seen);
            if (!grown) {
                rc = ds_error(DS_E_NOMEM, "out of memory");
                break;
            }
            seen = grown;
            seen[n_seen][0] = a, seen[n_seen][1] = b, n_seen++;
            const char *q = json_string_value(json_object_get(ea, "text"));
            const char *ans = json_string_value(json_object_get(eb, "text"));
            json_array_append_new(links, json_pack("[s, s]", q, ans));
            char *lt;
            rc = link_text(q, ans, &lt);
            if (!rc && lt) rc = add_text(d, "links", lt, NULL);
            free(lt);
        }
        if (rc) break;
    }
    free(seen);
    return rc;
}

int ds_gt_load_funsd(ds_eval_set *s, const char *dir) {
    int rc = ds_gt_spec(s, "{\"doc_type\": \"form\", \"fields\": ["
                           "{\"name\": \"question\", \"type\": \"party_list\"},"
                           "{\"name\": \"answer\", \"type\": \"party_list\"},"
                           "{\"name\": \"header\", \"type\": \"party_list\"},"
                           "{\"name\": \"links\", \"type\": \"party_list\"}]}");
    s->aux = "links";
    char ann_dir[4096], img_dir[4096];
    snprintf(ann_dir, sizeof ann_dir, "%s/annotations", dir);
    snprintf(img_dir, sizeof img_dir, "%s/images", dir);
    char **names = NULL;
    int n = 0;
    if (!rc)
        rc =
            ds_gt_list(ann_dir, ".json", "--format funsd reads DIR/annotations/*.json", &names, &n);
    for (int i = 0; i < n && !rc; i++) {
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", ann_dir, names[i]);
        json_t *root = ds_gt_load_json(path, &rc);
        const json_t *form = json_object_get(root, "form");
        if (!rc && !json_is_array(form))
            rc = ds_error(DS_E_FORMAT, "%s: needs \"form\" (a list of entities)", path);
        char *id = rc ? NULL : ds_eval_id_of(names[i]);
        ds_eval_doc *d = id ? ds_gt_new_doc(s, id, path, "form", img_dir) : NULL;
        json_t *ents = json_array(), *links = json_array();
        if (!rc && (!d || !ents || !links)) rc = ds_error(DS_E_NOMEM, "out of memory");
        if (!rc) rc = funsd_entities(d, form, path, ents);
        if (!rc) rc = funsd_links(d, form, path, links);
        if (!rc)
            json_array_append_new(s->as_pred, json_pack("{s:s, s:O, s:O}", "id", id, "entities",
                                                        ents, "links", links));
        json_decref(ents);
        json_decref(links);
        free(id);
        json_decref(root);
    }
    ds_gt_list_free(names, n);
    return rc;
}

// Appends text to the list fields[name]; with the entity's confidence (a docseek
// prediction's) and box, as {"value", "confidence", "source", "page", "box", "units"}, so
// that the evaluator can calibrate it and check where it lies.
static int append_text(json_t *fields, const char *name, const char *text, const json_t *entity) {
    json_t *list = json_object_get(fields, name);
    if (!list) json_object_set_new(fields, name, list = json_array());
    json_t *conf = entity ? json_object_get(entity, "confidence") : NULL;
    json_t *src = entity ? json_object_get(entity, "source") : NULL;
    json_t *box = entity ? json_object_get(entity, "box") : NULL;
    if (!json_is_number(conf) && !box)
        return json_array_append_new(list, json_string(text))
                   ? ds_error(DS_E_NOMEM, "out of memory")
                   : 0;
    json_t *v = json_pack("{s:s}", "value", text);
    int bad = !v;
    if (!bad && json_is_number(conf))
        bad = json_object_set(v, "confidence", conf) ||
              json_object_set_new(v, "source",
                                  json_string(json_is_string(src) ? json_string_value(src) : ""));
    // FUNSD's boxes are the image's pixels, its forms one page
    if (!bad && box)
        bad = json_object_set(v, "box", box) || json_object_set_new(v, "page", json_integer(1)) ||
              json_object_set_new(v, "units", json_string("pixels"));
    if (bad) {
        json_decref(v);
        return ds_error(DS_E_NOMEM, "out of memory");
    }
    return json_array_append_new(list, v) ? ds_error(DS_E_NOMEM, "out of memory") : 0;
}

int ds_gt_funsd_pred(const json_t *obj, const char *where, json_t **out) {
    const json_t *ents = json_object_get(obj, "entities"), *links = json_object_get(obj, "links");
    if (!json_is_array(ents))
        return ds_error(
            DS_E_FORMAT,
            "%s: a FUNSD prediction needs \"entities\" (a list of {\"text\", \"label\"})", where);
    if (links && !json_is_array(links))
        return ds_error(DS_E_FORMAT, "%s: \"links\" must be a list of [question, answer]", where);
    json_t *fields = json_object();
    *out = json_pack("{s:s, s:o}", "doc_type", "form", "fields", fields);
    if (!*out) return ds_error(DS_E_NOMEM, "out of memory");
    size_t i;
    json_t *e;
    int rc = 0;
    json_array_foreach(ents, i, e) {
        const char *text = json_string_value(json_object_get(e, "text"));
        const char *label = json_string_value(json_object_get(e, "label"));
        if (!text || !funsd_label_ok(label))
            return ds_error(DS_E_FORMAT,
                            "%s: entity %zu needs \"text\" and \"label\" (question, answer, header "
                            "or other)",
                            where, i);
        if (strcmp(label, "other") && (rc = append_text(fields, label, text, e))) return rc;
    }
    json_array_foreach(links, i, e) {
        const char *q = json_string_value(json_array_get(e, 0));
        const char *a = json_string_value(json_array_get(e, 1));
        if (json_array_size(e) != 2 || !q || !a)
            return ds_error(DS_E_FORMAT, "%s: link %zu must be [question text, answer text]", where,
                            i);
        char *lt;
        if ((rc = link_text(q, a, &lt))) return rc;
        if (lt) rc = append_text(fields, "links", lt, NULL);
        free(lt);
        if (rc) return rc;
    }
    return 0;
}

// ---- CORD, Donut style: DIR/NAME.json {"gt_parse": {...}} or {"ground_truth": "{...}"}

static int leaf(json_t *fields, const char *key, const json_t *v) {
    char *text = NULL;
    int rc = 0;
    if (json_is_boolean(v)) { // Python's str(True)
        if (!(text = strdup(json_is_true(v) ? "True" : "False")))
            rc = ds_error(DS_E_NOMEM, "out of memory");
    } else {
        rc = ds_eval_scalar_text(v, &text); // strings and numbers; "" gives NULL
    }
    if (rc || !text) return rc;
    char *c = ds_norm_collapse(text);
    if (!c) rc = ds_error(DS_E_NOMEM, "out of memory");
    if (!rc && c[0]) rc = append_text(fields, key, text, NULL); // str(v).strip() must not be empty
    free(c);
    free(text);
    return rc;
}

// normalize_dict drops what Python finds false (None, "", 0, False, {} and []); in a
// list of scalars it keeps strings and numbers only.
static int flatten(const json_t *v, const char *key, json_t *fields) {
    int rc = 0;
    if (json_is_object(v)) {
        const char *k;
        json_t *child;
        json_object_foreach((json_t *)v, k, child) {
            char *ck;
            if (asprintf(&ck, "%s%s%s", key, key[0] ? "." : "", k) < 0)
                return ds_error(DS_E_NOMEM, "out of memory");
            rc = flatten(child, ck, fields);
            free(ck);
            if (rc) return rc;
        }
    } else if (json_is_array(v)) {
        size_t i, n_obj = 0;
        json_t *e;
        json_array_foreach(v, i, e) n_obj += json_is_object(e);
        json_array_foreach(v, i, e) {
            if (n_obj == json_array_size(v))
                rc = flatten(e, key, fields);
            else if (json_is_string(e) || json_is_number(e))
                rc = leaf(fields, key, e);
            if (rc) return rc;
        }
    } else if (json_is_true(v) || (json_is_number(v) && json_number_value(v) != 0) ||
               json_is_string(v)) {
        rc = leaf(fields, key, v);
    }
    return rc;
}

int ds_gt_cord_flatten(const json_t *parse, json_t *fields) {
    return flatten(parse, "", fields);
}

int ds_gt_load_cord(ds_eval_set *s, const char *dir) {
    s->norm.strip_only = 1; // Donut compares str(value).strip()
    char **names = NULL;
    int n = 0;
    int rc =
        ds_gt_list(dir, ".json", "--format cord reads DIR/NAME.json holding {\"gt_parse\": {...}}",
                   &names, &n);
    for (int i = 0; i < n && !rc; i++) {
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        json_t *root = ds_gt_load_json(path, &rc), *inner = NULL;
        const json_t *gp = json_object_get(root, "gt_parse");
        const char *gts = json_string_value(json_object_get(root, "ground_truth"));
        if (!gp && gts) {
            inner = json_loads(gts, 0, NULL);
            gp = json_object_get(inner, "gt_parse");
        }
        if (!rc && !json_is_object(gp))
            rc = ds_error(DS_E_FORMAT,
                          "%s: needs \"gt_parse\" (an object) or \"ground_truth\" (a JSON string "
                          "holding {\"gt_parse\": ...})",
                          path);
        char *id = rc ? NULL : ds_eval_id_of(names[i]);
        ds_eval_doc *d = id ? ds_gt_new_doc(s, id, path, "cord", dir) : NULL;
        json_t *fields = json_object();
        if (!rc && (!d || !fields)) rc = ds_error(DS_E_NOMEM, "out of memory");
        if (!rc) rc = flatten(gp, "", fields);
        if (!rc) rc = ds_eval_parse_fields(d, fields, NULL, path);
        if (!rc) json_array_append_new(s->as_pred, json_pack("{s:s, s:O}", "id", id, "parse", gp));
        json_decref(fields);
        json_decref(inner);
        json_decref(root);
        free(id);
    }
    ds_gt_list_free(names, n);
    return rc;
}

int ds_gt_cord_pred(const json_t *obj, const char *where, json_t **out) {
    const json_t *parse = json_object_get(obj, "parse");
    if (!json_is_object(parse))
        return ds_error(DS_E_FORMAT, "%s: a CORD prediction needs \"parse\" (an object)", where);
    json_t *fields = json_object();
    *out = json_pack("{s:s, s:o}", "doc_type", "cord", "fields", fields);
    if (!*out) return ds_error(DS_E_NOMEM, "out of memory");
    return flatten(parse, "", fields);
}
