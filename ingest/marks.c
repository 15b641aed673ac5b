// marks.c: selection marks (check boxes) found in the page raster become words
// "☒" (checked) or "☐" (empty) with the box's own box, so a check box's state
// reaches the reader as a token beside its label. Neither the PDF text layer
// nor OCR sees a drawn box, and at the encoder's resolution a 9 pt box is a few
// pixels: without this the state of a check box is lost before the model.
//
// A mark is a connected component of ink whose bounding box is a square of 7 to
// 24 pt with ink along all four sides; it is checked when its interior (inset
// by a fifth of the side) holds more than DS_MARK_CHECKED_INK of ink. Squares
// under a text-layer word are glyphs (e.g. a "□" character), not marks, and so
// are squares inside an OCR word more than 2.5 times their size (a bold "H");
// OCR words mostly inside a mark are OCR reading the box ("O", "[x]") and give way.
#include "core/error.h"
#include "ingest/ingest-impl.h"

#include <math.h>
#include <stdlib.h>

#define DS_MARK_MIN_PT      7.0f
#define DS_MARK_MAX_PT      24.0f
#define DS_MARK_SIDE_INK    0.85f // fraction of each side's positions with ink
#define DS_MARK_CHECKED_INK 0.12f // interior ink fraction of a checked box

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

int ds_page_find_marks(ds_ingest_ctx *c, ds_page *page) {
    if (!page->rgb || page->img_w <= 0 || page->img_h <= 0 || page->px_per_pt <= 0) return 0;
    int W, H;
    float ppt; // mask cells per page point
    uint8_t *ink = ds_page_ink(page, DS_INK_LEVEL, &W, &H, &ppt);
    if (!ink) return W < 0 ? ds_error(DS_E_NOMEM, "out of memory looking for check boxes") : 0;
    ds_rect *rs = NULL;
    int n = 0;
    int rc = ds_ink_components(ink, W, H, &rs, &n);
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
            float a = ds_box_area(w->box), o = ds_box_inter(w->box, b), ab = ds_box_area(b);
            if (w->source == DS_WORD_PDF && o > 0.5f * ab) glyph = 1;
            // a letter of a longer OCR word (a bold "H"), not a box OCR read as "O"
            else if (w->source == DS_WORD_OCR && o > 0.5f * ab && a > 2.5f * ab)
                glyph = 1;
            else if (w->source == DS_WORD_OCR && a > 0 && o > 0.5f * a)
                drop[k] = 1;
        }
        if (glyph) continue;
        const char *text = state ? "\xe2\x98\x92" : "\xe2\x98\x90"; // U+2612, U+2610
        rc = ds_word_list_add(c, &list, text, 3, b, "", b.y1 - b.y0, 1.0f, 0, DS_WORD_MARK);
        n_marks++;
    }
    free(rs);
    free(ink);
    if (rc == 0 && n_marks > 0) rc = ds_page_add_words(c, page, &list, drop);
    free(drop);
    ds_word_list_free(&list);
    return rc;
}
