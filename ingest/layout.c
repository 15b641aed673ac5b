// layout.c: reading order rebuilt from the boxes, because Poppler's own order
// follows the content stream (column-major for some layouts) and OCR's follows
// its block segmentation. Words whose vertical extents overlap by at least half
// the smaller height form a line; lines run top to bottom and words left to
// right inside a line. Multi-column pages therefore read row by row.
#include "core/error.h"
#include "ingest/ingest-impl.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    float y0, y1;
    int first; // index into the sorted word array of the line's first word
} ds_line;

static int by_top(const void *a, const void *b) {
    const ds_word *x = a, *y = b;
    float cx = x->box.y0 + x->box.y1, cy = y->box.y0 + y->box.y1;
    if (cx != cy) return cx < cy ? -1 : 1;
    return (x->box.x0 > y->box.x0) - (x->box.x0 < y->box.x0);
}

static int by_line_then_x(const void *a, const void *b) {
    const ds_word *x = a, *y = b;
    if (x->line != y->line) return x->line < y->line ? -1 : 1;
    return (x->box.x0 > y->box.x0) - (x->box.x0 < y->box.x0);
}

static float overlap(float a0, float a1, float b0, float b1) {
    float lo = a0 > b0 ? a0 : b0, hi = a1 < b1 ? a1 : b1;
    return hi > lo ? hi - lo : 0.0f;
}

int ds_page_set_words(ds_ingest_ctx *c, ds_page *page, ds_word_list *list) {
    int n = list->n;
    page->n_words = n;
    page->n_lines = 0;
    page->words = NULL;
    if (n == 0) return 0;
    ds_word *w = list->items;
    qsort(w, (size_t)n, sizeof *w, by_top);
    ds_line *lines = malloc((size_t)n * sizeof *lines);
    if (!lines) return ds_error(DS_E_NOMEM, "out of memory ordering words");
    int n_lines = 0;
    for (int i = 0; i < n; i++) {
        float h = w[i].box.y1 - w[i].box.y0;
        int best = -1;
        // Words arrive top to bottom, so only the most recent lines can still take one.
        for (int l = n_lines - 1; l >= 0 && l >= n_lines - 8; l--) {
            float lh = lines[l].y1 - lines[l].y0;
            float minh = h < lh ? h : lh;
            if (overlap(w[i].box.y0, w[i].box.y1, lines[l].y0, lines[l].y1) >= 0.5f * minh) {
                best = l;
                break;
            }
        }
        if (best < 0) {
            best = n_lines++;
            lines[best] = (ds_line){w[i].box.y0, w[i].box.y1, i};
        } else {
            if (w[i].box.y0 < lines[best].y0) lines[best].y0 = w[i].box.y0;
            if (w[i].box.y1 > lines[best].y1) lines[best].y1 = w[i].box.y1;
        }
        w[i].line = best;
    }
    free(lines);
    // Lines were created in order of their first (topmost) word: that is their order.
    qsort(w, (size_t)n, sizeof *w, by_line_then_x);
    page->words = ds_ingest_alloc(c, (size_t)n * sizeof *w);
    if (!page->words) return ds_error(DS_E_NOMEM, "out of memory storing %d words", n);
    memcpy(page->words, w, (size_t)n * sizeof *w);
    page->n_lines = n_lines;
    return 0;
}
