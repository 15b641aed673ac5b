// form-entities.c: see form-entities.h.
#include "samples/form-entities.h"
#include "core/error.h"

#include <math.h>
#include <string.h>

const char *const ds_form_entity_kinds[3][2] = {
    {"headers", "header"}, {"questions", "question"}, {"answers", "answer"}};

typedef struct {
    double x0, y0, x1, y1;
    int page;
} ebox;

static int read_box(const json_t *b, ebox *e) {
    const json_t *a = json_is_array(json_object_get(b, "box")) ? json_object_get(b, "box") : b;
    if (!json_is_array(a) || json_array_size(a) != 4) return 0;
    e->x0 = json_number_value(json_array_get(a, 0));
    e->y0 = json_number_value(json_array_get(a, 1));
    e->x1 = json_number_value(json_array_get(a, 2));
    e->y1 = json_number_value(json_array_get(a, 3));
    json_t *p = json_object_get(b, "page");
    e->page = json_is_integer(p) ? (int)json_integer_value(p) : 1;
    return 1;
}

static double v_overlap(const ebox *a, const ebox *b) {
    return fmin(a->y1, b->y1) - fmax(a->y0, b->y0);
}

// Whether a shares a line with b: their heights overlap by half the smaller one.
static int same_line(const ebox *a, const ebox *b) {
    double h = fmin(a->y1 - a->y0, b->y1 - b->y0);
    return a->page == b->page && v_overlap(a, b) >= 0.5 * h;
}

static int before(const ebox *a, const ebox *b) {
    if (a->page != b->page) return a->page < b->page;
    if (same_line(a, b)) return a->x0 < b->x0;
    return a->y0 + a->y1 < b->y0 + b->y1;
}

void ds_form_entities_sort(json_t *fields, json_t *boxes) {
    const char *name;
    json_t *v;
    json_object_foreach(fields, name, v) {
        json_t *bx = json_object_get(boxes, name);
        size_t n = json_array_size(v);
        if (!json_is_array(v) || json_array_size(bx) != n) continue;
        // insertion sort: stable, and right for an order that is not quite transitive
        for (size_t i = 1; i < n; i++) {
            for (size_t j = i; j > 0; j--) {
                ebox a, b;
                if (!read_box(json_array_get(bx, j), &a) ||
                    !read_box(json_array_get(bx, j - 1), &b) || !before(&a, &b))
                    break;
                json_t *tv = json_incref(json_array_get(v, j));
                json_t *tb = json_incref(json_array_get(bx, j));
                json_array_set(v, j, json_array_get(v, j - 1));
                json_array_set(bx, j, json_array_get(bx, j - 1));
                json_array_set_new(v, j - 1, tv);
                json_array_set_new(bx, j - 1, tb);
            }
        }
    }
}

// How far question q is from answer a, or -1 when it cannot be a's question: left
// of a on its line counts the gap; above a with overlapping columns counts twice the
// drop plus the indent, within four lines.
static double link_cost(const ebox *q, const ebox *a) {
    if (q->page != a->page) return -1;
    double h = fmax(a->y1 - a->y0, 1);
    if (same_line(q, a)) return q->x1 <= a->x0 + h ? fmax(a->x0 - q->x1, 0) : -1;
    double drop = a->y0 - q->y1;
    int columns = fmin(q->x1, a->x1) - fmax(q->x0, a->x0) > 0;
    if (drop < -0.25 * h || drop > 4 * h || !columns) return -1;
    return 2 * fmax(drop, 0) + fabs(a->x0 - q->x0) + h; // a line above: after the same line
}

void ds_funsd_boxes_to_pixels(json_t *funsd, const ds_doc *doc) {
    if (!doc->n_pages) return;
    float px_per_pt = doc->pages[0].px_per_pt;
    size_t i, k;
    json_t *e, *c;
    json_array_foreach(json_object_get(funsd, "entities"), i, e) {
        json_t *box = json_object_get(e, "box");
        json_array_foreach(box, k, c) {
            if (json_is_number(c))
                json_array_set_new(box, k, json_real(json_number_value(c) * px_per_pt));
        }
    }
}

int ds_form_entities_to_funsd(const json_t *pred, json_t **out) {
    *out = NULL;
    const json_t *fields = json_object_get(pred, "fields");
    json_t *ents = json_array(), *links = json_array();
    if (!ents || !links) goto nomem;
    for (int l = 0; l < 3; l++) {
        size_t i;
        json_t *it;
        json_array_foreach(json_object_get(fields, ds_form_entity_kinds[l][0]), i, it) {
            const char *text = json_string_value(json_object_get(it, "value"));
            if (!text) continue;
            json_t *e = json_pack("{s:s, s:s}", "text", text, "label", ds_form_entity_kinds[l][1]);
            json_t *box = json_object_get(it, "box");
            if (e && box && json_object_set_new(e, "box", json_deep_copy(box)))
                json_decref(e), e = NULL; // a copy: ds_funsd_boxes_to_pixels scales it
            // the confidence and its source, for the evaluator's reliability and calibration
            json_t *conf = json_object_get(it, "confidence"), *src = json_object_get(it, "source");
            if (e && json_is_number(conf) && json_object_set(e, "confidence", conf))
                json_decref(e), e = NULL;
            if (e && json_is_string(src) && json_object_set(e, "source", src))
                json_decref(e), e = NULL;
            if (!e || json_array_append_new(ents, e)) goto nomem;
        }
    }
    const json_t *qs = json_object_get(fields, "questions");
    size_t i, k;
    json_t *a, *q;
    json_array_foreach(json_object_get(fields, "answers"), i, a) {
        ebox ab, qb;
        const char *at = json_string_value(json_object_get(a, "value"));
        if (!at || !read_box(a, &ab)) continue;
        double best = -1;
        const char *best_q = NULL;
        json_array_foreach(qs, k, q) {
            const char *qt = json_string_value(json_object_get(q, "value"));
            if (!qt || !read_box(q, &qb)) continue;
            double c = link_cost(&qb, &ab);
            if (c >= 0 && (best < 0 || c < best)) best = c, best_q = qt;
        }
        if (best_q && json_array_append_new(links, json_pack("[s, s]", best_q, at))) goto nomem;
    }
    *out = json_pack("{s:o, s:o}", "entities", ents, "links", links);
    return *out ? 0 : ds_error(DS_E_NOMEM, "out of memory");
nomem:
    json_decref(ents);
    json_decref(links);
    return ds_error(DS_E_NOMEM, "out of memory");
}

json_t *ds_form_entities_from_funsd(const json_t *entities) {
    json_t *fields = json_object(), *boxes = json_object();
    json_t *truth =
        json_pack("{s:s, s:o, s:o}", "doc_type", "form_entities", "fields", fields, "boxes", boxes);
    if (!truth) return NULL;
    for (int l = 0; l < 3; l++) {
        json_object_set_new(fields, ds_form_entity_kinds[l][0], json_array());
        json_object_set_new(boxes, ds_form_entity_kinds[l][0], json_array());
    }
    size_t i;
    json_t *e;
    json_array_foreach(entities, i, e) {
        const char *text = json_string_value(json_object_get(e, "text"));
        const char *label = json_string_value(json_object_get(e, "label"));
        ebox b;
        if (!text || !label || !read_box(e, &b) || !text[strspn(text, " \t\n")]) continue;
        for (int l = 0; l < 3; l++) {
            if (strcmp(label, ds_form_entity_kinds[l][1]) != 0) continue;
            json_array_append_new(json_object_get(fields, ds_form_entity_kinds[l][0]),
                                  json_string(text));
            json_array_append_new(
                json_object_get(boxes, ds_form_entity_kinds[l][0]),
                json_pack("{s:i, s:[f, f, f, f]}", "page", 1, "box", b.x0, b.y0, b.x1, b.y1));
        }
    }
    ds_form_entities_sort(fields, boxes);
    return truth;
}
