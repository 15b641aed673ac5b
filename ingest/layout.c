// layout.c: reading order rebuilt from the boxes, because Poppler's own order
// follows the content stream (column-major for some layouts) and OCR's follows
// its block segmentation. Words whose vertical extents overlap by at least half
// the smaller height form a line; lines run top to bottom and words left to
// right inside a line. Multi-column pages therefore read row by row.
#include "core/error.h"
#include "ingest/ingest-impl.h"

#include <stdlib.h>
#include <string.h>

// A word's place for ordering: its box with the page's tilt taken out (a word
// at x on a line of slope k sits k * x lower than at x = 0), so a tilted line
// stays one line. The words keep their own boxes.
typedef struct {
    float x0, y0, y1;
    int index, line;
} ds_place;

typedef struct {
    float y0, y1;
} ds_line;

static int by_top(const void *a, const void *b) {
    const ds_place *x = a, *y = b;
    float cx = x->y0 + x->y1, cy = y->y0 + y->y1;
    if (cx != cy) return cx < cy ? -1 : 1;
    if (x->x0 != y->x0) return x->x0 < y->x0 ? -1 : 1;
    return x->index - y->index;
}

static int by_line_then_x(const void *a, const void *b) {
    const ds_place *x = a, *y = b;
    if (x->line != y->line) return x->line < y->line ? -1 : 1;
    if (x->x0 != y->x0) return x->x0 < y->x0 ? -1 : 1;
    return x->index - y->index;
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
    const ds_word *w = list->items;
    ds_place *p = malloc((size_t)n * sizeof *p);
    ds_line *lines = malloc((size_t)n * sizeof *lines);
    if (!p || !lines) {
        free(p);
        free(lines);
        return ds_error(DS_E_NOMEM, "out of memory ordering words");
    }
    float k = page->skew;
    for (int i = 0; i < n; i++) {
        float drop = k * 0.5f * (w[i].box.x0 + w[i].box.x1);
        p[i] = (ds_place){w[i].box.x0, w[i].box.y0 - drop, w[i].box.y1 - drop, i, 0};
    }
    qsort(p, (size_t)n, sizeof *p, by_top);
    int n_lines = 0;
    for (int i = 0; i < n; i++) {
        float h = p[i].y1 - p[i].y0;
        int best = -1;
        // Words arrive top to bottom, so only the most recent lines can still take one.
        for (int l = n_lines - 1; l >= 0 && l >= n_lines - 8; l--) {
            float lh = lines[l].y1 - lines[l].y0;
            float minh = h < lh ? h : lh;
            if (overlap(p[i].y0, p[i].y1, lines[l].y0, lines[l].y1) >= 0.5f * minh) {
                best = l;
                break;
            }
        }
        if (best < 0) {
            best = n_lines++;
            lines[best] = (ds_line){p[i].y0, p[i].y1};
        } else {
            if (p[i].y0 < lines[best].y0) lines[best].y0 = p[i].y0;
            if (p[i].y1 > lines[best].y1) lines[best].y1 = p[i].y1;
        }
        p[i].line = best;
    }
    free(lines);
    // Lines were created in order of their first (topmost) word: that is their order.
    qsort(p, (size_t)n, sizeof *p, by_line_then_x);
    page->words = ds_ingest_alloc(c, (size_t)n * sizeof *page->words);
    if (!page->words) {
        free(p);
        return ds_error(DS_E_NOMEM, "out of memory storing %d words", n);
    }
    for (int i = 0; i < n; i++) {
        page->words[i] = w[p[i].index];
        page->words[i].line = p[i].line;
    }
    free(p);
    page->n_lines = n_lines;
    return 0;
}
