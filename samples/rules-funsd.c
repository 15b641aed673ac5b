// rules-funsd.c: the rules baseline for FUNSD-style form understanding:
// entities labelled question / answer / header and question->answer links,
// from the lines of the first page. "Label: value" on one line gives a
// question (with its colon) and its answer; a line ending in a colon is a
// question whose answer is the next line when that line has no colon; a short
// upper-case line in the top quarter is a header. Everything else is left as
// "other" (not scored). No learning; the floor a layout model must beat.
#include "core/error.h"
#include "samples/rules.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int first, n; // words of the line: page->words[first .. first + n)
    float y0;
} ds_line_span;

// The text of words [first, first + n) and the box around them.
static void join(const ds_page *p, int first, int n, char *out, size_t cap, ds_box *box) {
    out[0] = 0;
    *box = p->words[first].box;
    for (int i = first; i < first + n; i++) {
        size_t len = strlen(out);
        snprintf(out + len, cap - len, "%s%s", len ? " " : "", p->words[i].text);
        const ds_box *b = &p->words[i].box;
        box->x0 = fminf(box->x0, b->x0), box->y0 = fminf(box->y0, b->y0);
        box->x1 = fmaxf(box->x1, b->x1), box->y1 = fmaxf(box->y1, b->y1);
    }
}

static int ends_with_colon(const char *w) {
    size_t n = strlen(w);
    return n > 1 && w[n - 1] == ':';
}

static int is_header(const ds_page *p, const ds_line_span *l) {
    if (l->n > 6 || l->y0 > p->height_pt / 4) return 0;
    int letters = 0;
    for (int i = l->first; i < l->first + l->n; i++)
        for (const char *c = p->words[i].text; *c; c++) {
            if (islower((unsigned char)*c)) return 0;
            letters += isupper((unsigned char)*c) != 0;
        }
    return letters >= 4;
}

static void add_entity(json_t *ents, const char *text, const char *label, const ds_box *b) {
    if (text[0])
        json_array_append_new(ents, json_pack("{s:s, s:s, s:[f, f, f, f]}", "text", text, "label",
                                              label, "box", b->x0, b->y0, b->x1, b->y1));
}

int ds_rules_form_entities(const ds_doc *doc, json_t **out) {
    *out = NULL;
    json_t *ents = json_array(), *links = json_array();
    if (!ents || !links) return ds_error(DS_E_NOMEM, "out of memory");
    const ds_page *p = doc->n_pages ? &doc->pages[0] : NULL;
    int n_lines = p ? p->n_lines : 0;
    ds_line_span *lines = calloc((size_t)(n_lines ? n_lines : 1), sizeof *lines);
    if (!lines) {
        json_decref(ents), json_decref(links);
        return ds_error(DS_E_NOMEM, "out of memory");
    }
    for (int i = 0; p && i < p->n_words; i++) { // words come grouped by line, in order
        ds_line_span *l = &lines[p->words[i].line];
        if (l->n++ == 0) l->first = i, l->y0 = p->words[i].box.y0;
    }
    char q[1024], a[1024];
    ds_box qb, ab;
    for (int li = 0; li < n_lines; li++) {
        const ds_line_span *l = &lines[li];
        if (l->n == 0) continue;
        if (is_header(p, l)) {
            join(p, l->first, l->n, q, sizeof q, &qb);
            add_entity(ents, q, "header", &qb);
            continue;
        }
        int colon = -1; // the first word that ends a label
        for (int i = l->first; i < l->first + l->n && colon < 0; i++)
            if (ends_with_colon(p->words[i].text)) colon = i;
        if (colon < 0) continue;
        join(p, l->first, colon - l->first + 1, q, sizeof q, &qb);
        int rest = l->first + l->n - colon - 1;
        a[0] = 0;
        if (rest > 0) {
            join(p, colon + 1, rest, a, sizeof a, &ab);
        } else if (li + 1 < n_lines && lines[li + 1].n) { // answer on the next line
            const ds_line_span *next = &lines[li + 1];
            int has_colon = 0;
            for (int i = next->first; i < next->first + next->n; i++)
                has_colon |= ends_with_colon(p->words[i].text);
            if (!has_colon) {
                join(p, next->first, next->n, a, sizeof a, &ab);
                li++;
            }
        }
        add_entity(ents, q, "question", &qb);
        if (a[0]) {
            add_entity(ents, a, "answer", &ab);
            json_array_append_new(links, json_pack("[s, s]", q, a));
        }
    }
    free(lines);
    *out = json_pack("{s:o, s:o}", "entities", ents, "links", links);
    return *out ? 0 : ds_error(DS_E_NOMEM, "out of memory");
}
