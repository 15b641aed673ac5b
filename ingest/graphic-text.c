// graphic-text.c: text a PDF page draws as graphics instead of text (a logo's
// letters filled as paths, a letterhead pasted as an image, a stamp) is not in
// the text layer, so without this neither the model nor a search would ever
// see it: on generated invoices whose seller name is only in a logo, the
// model had to read the name from pixels and got 23 of 30.
//
// On a page read from its text layer, the ink that no text-layer word covers
// is split into shapes; shapes of letter size (DS_GT_MIN_PT to DS_GT_MAX_PT
// tall, at most three times as wide) that sit side by side on a line, at
// least DS_GT_MIN_SHAPES of them, are one line of graphic text, read by OCR
// as one line. Words OCR is sure of (DS_GT_MIN_CONF) join the page's words
// with source "ocr". Rules, boxes and pictures are not letter-shaped runs and
// cost only the mask. A page with more than DS_GT_MAX_SHAPES loose shapes is a
// picture or a halftone and is left alone.
#include "core/error.h"
#include "core/timer.h"
#include "ingest/ingest-impl.h"

#include <math.h>
#include <stdlib.h>

#define DS_GT_MIN_PT     5.0f
#define DS_GT_MAX_PT     72.0f
#define DS_GT_MIN_SHAPES 3
#define DS_GT_MAX_SHAPES 3000
#define DS_GT_MIN_CONF   0.6f

static int root(int *parent, int i) {
    while (parent[i] != i) i = parent[i] = parent[parent[i]];
    return i;
}

static int by_x0(const void *a, const void *b) {
    const ds_rect *x = a, *y = b;
    return (x->x0 > y->x0) - (x->x0 < y->x0);
}

// Two shapes are neighbours on a line: they overlap vertically by half the
// smaller one's height, are no more than 2.5x apart in height, and the gap
// between them is at most the taller one's height (a word space and a full
// stop, which is too small to count as a shape, come to ~0.6).
static int neighbours(const ds_rect *a, const ds_rect *b) {
    int ha = a->y1 - a->y0, hb = b->y1 - b->y0, hmin = ha < hb ? ha : hb, hmax = ha ^ hb ^ hmin;
    int lo = a->y0 > b->y0 ? a->y0 : b->y0, hi = a->y1 < b->y1 ? a->y1 : b->y1;
    int gap = b->x0 > a->x1 ? b->x0 - a->x1 : a->x0 > b->x1 ? a->x0 - b->x1 : 0;
    return 2 * (hi - lo) >= hmin && 2 * hmax <= 5 * hmin && gap <= hmax;
}

// Clears the mask under every word, grown by a quarter of its height so the
// glyphs' ink beyond their boxes (accents, descenders) goes too.
static void clear_words(uint8_t *ink, int W, int H, float ppt, const ds_page *page) {
    for (int k = 0; k < page->n_words; k++) {
        const ds_box *b = &page->words[k].box;
        float g = 0.25f * (b->y1 - b->y0) + 1.0f;
        int x0 = (int)floorf((b->x0 - g) * ppt), x1 = (int)ceilf((b->x1 + g) * ppt);
        int y0 = (int)floorf((b->y0 - g) * ppt), y1 = (int)ceilf((b->y1 + g) * ppt);
        x0 = x0 < 0 ? 0 : x0, y0 = y0 < 0 ? 0 : y0, x1 = x1 > W ? W : x1, y1 = y1 > H ? H : y1;
        for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++) ink[(size_t)y * W + x] = 0;
    }
}

// The lines of letter-shaped shapes, in raster pixels (cells * f), padded.
static int find_lines(ds_rect *rs, int n, float ppt, float f, ds_rect **out, int *n_out) {
    int m = 0;
    for (int i = 0; i < n; i++) { // keep the letter-sized shapes
        int w = rs[i].x1 - rs[i].x0, h = rs[i].y1 - rs[i].y0;
        if (h >= DS_GT_MIN_PT * ppt && h <= DS_GT_MAX_PT * ppt && w <= 3 * h) rs[m++] = rs[i];
    }
    *out = NULL, *n_out = 0;
    if (m < DS_GT_MIN_SHAPES || m > DS_GT_MAX_SHAPES) return 0;
    qsort(rs, (size_t)m, sizeof *rs, by_x0);
    int *parent = malloc((size_t)m * sizeof *parent), *count = calloc((size_t)m, sizeof *count);
    ds_rect *lines = malloc((size_t)m * sizeof *lines);
    if (!parent || !count || !lines) {
        free(parent), free(count), free(lines);
        return ds_error(DS_E_NOMEM, "out of memory looking for graphic text");
    }
    for (int i = 0; i < m; i++) parent[i] = i;
    for (int i = 0; i < m; i++)
        for (int j = i + 1; j < m; j++) {
            int reach = 3 * (rs[i].y1 - rs[i].y0 > 0 ? rs[i].y1 - rs[i].y0 : 1);
            if (rs[j].x0 > rs[i].x1 + reach) break; // sorted by x0: the rest are further
            if (neighbours(&rs[i], &rs[j])) parent[root(parent, j)] = root(parent, i);
        }
    for (int i = 0; i < m; i++) {
        int r = root(parent, i);
        if (count[r]++ == 0) {
            lines[r] = rs[i];
            continue;
        }
        ds_rect *l = &lines[r];
        l->x0 = rs[i].x0 < l->x0 ? rs[i].x0 : l->x0, l->y0 = rs[i].y0 < l->y0 ? rs[i].y0 : l->y0;
        l->x1 = rs[i].x1 > l->x1 ? rs[i].x1 : l->x1, l->y1 = rs[i].y1 > l->y1 ? rs[i].y1 : l->y1;
    }
    int k = 0;
    for (int i = 0; i < m; i++) {
        if (root(parent, i) != i || count[i] < DS_GT_MIN_SHAPES) continue;
        ds_rect l = lines[i];
        int w = l.x1 - l.x0, h = l.y1 - l.y0, pad = h / 4 + 1;
        if (2 * w < 3 * h) continue; // a line of letters is wider than tall
        lines[k++] = (ds_rect){(int)((l.x0 - pad) * f), (int)((l.y0 - pad) * f),
                               (int)((l.x1 + pad) * f), (int)((l.y1 + pad) * f)};
    }
    free(parent), free(count);
    *out = lines, *n_out = k;
    return 0;
}

int ds_page_read_graphic_text(ds_ingest_ctx *c, ds_page *page) {
    if (page->ocr_used || page->n_words == 0) return 0; // OCR'd pages were read whole
    double t0 = ds_time_s();
    int W, H;
    float ppt;
    uint8_t *ink = ds_page_ink(page, DS_INK_LEVEL, &W, &H, &ppt);
    if (!ink) return W < 0 ? ds_error(DS_E_NOMEM, "out of memory looking for graphic text") : 0;
    clear_words(ink, W, H, ppt, page);
    ds_rect *rs = NULL, *lines = NULL;
    int n = 0, n_lines = 0;
    int rc = ds_ink_components(ink, W, H, &rs, &n);
    free(ink);
    if (rc == 0) rc = find_lines(rs, n, ppt, page->px_per_pt / ppt, &lines, &n_lines);
    free(rs);
    for (int i = 0; i < n_lines; i++) { // clamp the padded lines to the raster
        ds_rect *l = &lines[i];
        l->x0 = l->x0 < 0 ? 0 : l->x0, l->y0 = l->y0 < 0 ? 0 : l->y0;
        l->x1 = l->x1 > page->img_w ? page->img_w : l->x1;
        l->y1 = l->y1 > page->img_h ? page->img_h : l->y1;
    }
    ds_word_list found = {0};
    if (rc == 0 && n_lines > 0)
        rc = ds_page_ocr_regions(c, page, lines, n_lines, DS_GT_MIN_CONF, &found);
    free(lines);
    // Keep the new words in place; a reading of ink the text layer already has (a
    // glyph beyond its word box) goes.
    int added = 0;
    for (int i = 0; i < found.n; i++) {
        ds_box b = found.items[i].box;
        float a = ds_box_area(b), covered = 0;
        for (int k = 0; k < page->n_words; k++) covered += ds_box_inter(b, page->words[k].box);
        if (a > 0 && covered <= 0.3f * a) found.items[added++] = found.items[i];
    }
    found.n = added;
    if (rc == 0 && added > 0) rc = ds_page_add_words(c, page, &found, NULL);
    if (n_lines > 0) page->ms_ocr = (ds_time_s() - t0) * 1e3;
    ds_word_list_free(&found);
    return rc;
}
