// given-words.c: words the caller already has for an image's pages stand in for
// OCR. A data set's own transcripts are what its benchmark is defined on (SROIE
// task 3 and FUNSD's entity labelling give every system the same words), so a
// model and the rules can be compared there without OCR's errors in between.
// The words get OCR's place in the document (source ocr, the page marked read
// by OCR), since they are a reading of a scan, and the same reading order.
#include "core/error.h"
#include "ingest/ingest-impl.h"

#include <stdlib.h>
#include <string.h>

int ds_given_words_add(ds_given_words *g, int page, const char *text, size_t len, float x0,
                       float y0, float x1, float y1) {
    if (g->n == g->cap) {
        int cap = g->cap ? 2 * g->cap : 256;
        ds_given_word *w = realloc(g->words, (size_t)cap * sizeof *w);
        if (!w) return ds_error(DS_E_NOMEM, "out of memory collecting given words");
        g->words = w;
        g->cap = cap;
    }
    char *t = malloc(len + 1);
    if (!t) return ds_error(DS_E_NOMEM, "out of memory collecting given words");
    memcpy(t, text, len);
    t[len] = '\0';
    g->words[g->n++] = (ds_given_word){page, t, x0, y0, x1, y1};
    return 0;
}

void ds_given_words_free(ds_given_words *g) {
    for (int i = 0; i < g->n; i++) free(g->words[i].text);
    free(g->words);
    memset(g, 0, sizeof *g);
}

int ds_page_given_words(ds_ingest_ctx *c, ds_page *page, int page_index) {
    const ds_given_words *g = c->opts->given;
    float s = page->px_per_pt > 0 ? 1.0f / page->px_per_pt : 1.0f;
    ds_word_list list = {0};
    int rc = 0;
    for (int i = 0; i < g->n && !rc; i++) {
        const ds_given_word *w = &g->words[i];
        if (w->page != page_index || !w->text[0]) continue;
        ds_box b = {w->x0 * s, w->y0 * s, w->x1 * s, w->y1 * s};
        rc = ds_word_list_add(c, &list, w->text, strlen(w->text), b, "", b.y1 - b.y0, 1.0f, 0,
                              DS_WORD_OCR);
    }
    page->skew = g->skew;
    if (!rc) rc = ds_page_set_words(c, page, &list);
    ds_word_list_free(&list);
    page->ocr_used = 1;
    return rc;
}
