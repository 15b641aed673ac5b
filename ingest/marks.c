// marks.c: selection marks (check boxes) found in the page raster become words
// "☒" (checked) or "☐" (empty) with the box's own box, so a check box's state
// reaches the reader as a token beside its label. Neither the PDF text layer
// nor OCR sees a drawn box, and at the encoder's resolution a 9 pt box is a few
// pixels: without this the state of a check box is lost before the model.
//
// A mark is a connected component of ink whose bounding box is a square of 7 to
// 24 pt with ink along all four sides; it is checked when its interior (inset
// by a fifth of the side) holds more than DS_MARK_CHECKED_INK of ink. Squares
// under a text-layer word are glyphs (e.g. a "□" character), not marks; OCR
// words mostly inside a mark are OCR reading the box ("O", "[x]") and give way.
#include "core/error.h"
#include "ingest/ingest-impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DS_MARK_MIN_PT      7.0f
#define DS_MARK_MAX_PT      24.0f
#define DS_MARK_SIDE_INK    0.85f // fraction of each side's positions with ink
#define DS_MARK_CHECKED_INK 0.12f // interior ink fraction of a checked box
#define DS_MARK_INK_LEVEL   160   // grey below this is ink

typedef struct {
    int x0, y0, x1, y1; // raster pixels, ends exclusive
} ds_rect;

// Fraction of positions along one side of r (a band of t pixels at its edge)
// that hold ink.
static float side_ink(const uint8_t *ink, int W, ds_rect r, int t, int side) {
    int horizontal = side < 2, n = horizontal ? r.x1 - r.x0 : r.y1 - r.y0, hits = 0;
    for (int i = 0; i < n; i++) {
        int hit = 0;
        for (int k = 0; k < t && !hit; k++) {
            int x, y;
            if (horizontal)
                x = r.x0 + i, y = side == 0 ? r.y0 + k : r.y1 - 1 - k;
            else
                y = r.y0 + i, x = side == 2 ? r.x0 + k : r.x1 - 1 - k;
            hit = ink[(size_t)y * W + x];
        }
        hits += hit;
    }
    return n > 0 ? (float)hits / n : 0.0f;
}

// 1 checked, 0 empty, -1 not a mark.
static int classify(const uint8_t *ink, int W, ds_rect r, float px_per_pt) {
    int w = r.x1 - r.x0, h = r.y1 - r.y0;
    float lo = DS_MARK_MIN_PT * px_per_pt, hi = DS_MARK_MAX_PT * px_per_pt;
    if (w < lo || h < lo || w > hi || h > hi || w * 10 > h * 14 || h * 10 > w * 14) return -1;
    int t = (int)ceilf(0.15f * (w < h ? w : h));
    for (int s = 0; s < 4; s++)
        if (side_ink(ink, W, r, t, s) < DS_MARK_SIDE_INK) return -1;
    int ix = (w + 4) / 5, iy = (h + 4) / 5, n = 0, on = 0;
    for (int y = r.y0 + iy; y < r.y1 - iy; y++)
        for (int x = r.x0 + ix; x < r.x1 - ix; x++) n++, on += ink[(size_t)y * W + x];
    if (n == 0) return -1;
    return (float)on / n > DS_MARK_CHECKED_INK;
}

static float area(ds_box b) {
    float w = b.x1 - b.x0, h = b.y1 - b.y0;
    return w > 0 && h > 0 ? w * h : 0.0f;
}

static float inter(ds_box a, ds_box b) {
    ds_box i = {fmaxf(a.x0, b.x0), fmaxf(a.y0, b.y0), fminf(a.x1, b.x1), fminf(a.y1, b.y1)};
    return area(i);
}

// The bounding boxes of the ink's 8-connected components (flood fill with an
// explicit stack; every pixel is pushed at most once).
static int components(uint8_t *ink, int W, int H, ds_rect **out, int *n_out) {
    size_t N = (size_t)W * H;
    uint8_t *seen = calloc(N, 1);
    int32_t *stack = malloc(N * sizeof *stack);
    ds_rect *rs = NULL;
    int n = 0, cap = 0;
    if (!seen || !stack) goto nomem;
    for (size_t p = 0; p < N; p++) {
        if (!ink[p] || seen[p]) continue;
        ds_rect r = {(int)(p % W), (int)(p / W), (int)(p % W) + 1, (int)(p / W) + 1};
        size_t top = 0;
        stack[top++] = (int32_t)p;
        seen[p] = 1;
        while (top > 0) {
            int32_t q = stack[--top];
            int x = q % W, y = q / W;
            if (x < r.x0) r.x0 = x;
            if (x >= r.x1) r.x1 = x + 1;
            if (y >= r.y1) r.y1 = y + 1;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    int xx = x + dx, yy = y + dy;
                    if (xx < 0 || yy < 0 || xx >= W || yy >= H) continue;
                    size_t o = (size_t)yy * W + xx;
                    if (ink[o] && !seen[o]) seen[o] = 1, stack[top++] = (int32_t)o;
                }
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            ds_rect *g = realloc(rs, (size_t)cap * sizeof *g);
            if (!g) goto nomem;
            rs = g;
        }
        rs[n++] = r;
    }
    free(seen);
    free(stack);
    *out = rs;
    *n_out = n;
    return 0;
nomem:
    free(seen);
    free(stack);
    free(rs);
    return ds_error(DS_E_NOMEM, "out of memory looking for check boxes");
}

int ds_page_find_marks(ds_ingest_ctx *c, ds_page *page) {
    if (!page->rgb || page->img_w <= 0 || page->img_h <= 0 || page->px_per_pt <= 0) return 0;
    // The ink mask is kept near 144 dpi (f x f raster pixels per cell, inked when any
    // is): a 7 pt box is still 14 cells, and a 600 dpi scan does not cost 6 bytes
    // per raster pixel here.
    int f = (int)(page->px_per_pt / 2.0f);
    f = f < 1 ? 1 : f;
    int W = (page->img_w + f - 1) / f, H = (page->img_h + f - 1) / f;
    float ppt = page->px_per_pt / f;          // mask cells per page point
    if ((int64_t)W * H > INT32_MAX) return 0; // stack indices are 32-bit
    uint8_t *ink = calloc((size_t)W * H, 1);
    if (!ink) return ds_error(DS_E_NOMEM, "out of memory looking for check boxes");
    for (int y = 0; y < page->img_h; y++)
        for (int x = 0; x < page->img_w; x++) {
            const uint8_t *v = page->rgb + 3 * ((size_t)y * page->img_w + x);
            if ((299 * v[0] + 587 * v[1] + 114 * v[2]) / 1000 < DS_MARK_INK_LEVEL)
                ink[(size_t)(y / f) * W + x / f] = 1;
        }
    ds_rect *rs = NULL;
    int n = 0;
    int rc = components(ink, W, H, &rs, &n);
    if (rc) {
        free(ink);
        return rc;
    }
    ds_word_list list = {0};
    uint8_t *drop = calloc((size_t)page->n_words + 1, 1);
    if (!drop) rc = ds_error(DS_E_NOMEM, "out of memory looking for check boxes");
    int n_marks = 0;
    float s = 1.0f / ppt;
    for (int i = 0; i < n && rc == 0; i++) {
        int state = classify(ink, W, rs[i], ppt);
        if (state < 0) continue;
        ds_box b = {rs[i].x0 * s, rs[i].y0 * s, rs[i].x1 * s, rs[i].y1 * s};
        int glyph = 0;
        for (int k = 0; k < page->n_words && !glyph; k++) {
            const ds_word *w = &page->words[k];
            float a = area(w->box), o = inter(w->box, b);
            if (w->source == DS_WORD_PDF && o > 0.5f * area(b)) glyph = 1;
            if (w->source == DS_WORD_OCR && a > 0 && o > 0.5f * a) drop[k] = 1;
        }
        if (glyph) continue;
        const char *text = state ? "\xe2\x98\x92" : "\xe2\x98\x90"; // U+2612, U+2610
        rc = ds_word_list_add(c, &list, text, 3, b, "", b.y1 - b.y0, 1.0f, 0, DS_WORD_MARK);
        n_marks++;
    }
    free(rs);
    free(ink);
    if (rc == 0 && n_marks > 0) {
        for (int k = 0; k < page->n_words && rc == 0; k++) {
            const ds_word *w = &page->words[k];
            if (!drop[k])
                rc = ds_word_list_add(c, &list, w->text, strlen(w->text), w->box, w->font,
                                      w->font_size, w->conf, w->bold, w->source);
        }
        if (rc == 0) rc = ds_page_set_words(c, page, &list);
    }
    free(drop);
    ds_word_list_free(&list);
    return rc;
}
