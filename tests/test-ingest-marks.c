// test-ingest-marks.c: check boxes drawn with cairo (empty, crossed, ticked;
// 8 to 16 pt) beside label words must come back as mark words with the drawn
// state and box, just before their label in reading order; squares that are
// not check boxes (a text glyph "□", letters, a table cell, a filled bar) must
// not. The same page read by OCR must give the same marks (and the "□" glyph,
// which in pixels is an empty box).
#include "tests/test.h"
#include "core/error.h"
#include "tests/ingest-fixtures.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define N_BOXES 9

typedef struct {
    ds_box box;
    int checked;
    char label[24]; // "Option" and any int
} drawn_box;

// A check box of side s with its top-left at (x, y): empty, a cross (style 1)
// or a tick (style 2), then a label 5 pt to its right.
static drawn_box draw_box(ds_fx_pdf *p, double x, double y, double s, int style, int i) {
    cairo_t *cr = p->cr;
    cairo_set_line_width(cr, 0.8);
    cairo_rectangle(cr, x, y, s, s);
    cairo_stroke(cr);
    cairo_set_line_width(cr, 1.4);
    if (style == 1) {
        cairo_move_to(cr, x + 0.2 * s, y + 0.2 * s);
        cairo_line_to(cr, x + 0.8 * s, y + 0.8 * s);
        cairo_move_to(cr, x + 0.8 * s, y + 0.2 * s);
        cairo_line_to(cr, x + 0.2 * s, y + 0.8 * s);
        cairo_stroke(cr);
    } else if (style == 2) {
        cairo_move_to(cr, x + 0.2 * s, y + 0.55 * s);
        cairo_line_to(cr, x + 0.42 * s, y + 0.78 * s);
        cairo_line_to(cr, x + 0.8 * s, y + 0.22 * s);
        cairo_stroke(cr);
    }
    drawn_box d = {{(float)(x - 0.4), (float)(y - 0.4), (float)(x + s + 0.4), (float)(y + s + 0.4)},
                   style != 0,
                   ""};
    snprintf(d.label, sizeof d.label, "Option%d", i);
    ds_fx_pdf_text(p, x + s + 5, y + s - 1, 10, 0, d.label);
    return d;
}

static int make_page(ds_fx_buf *pdf, drawn_box *boxes) {
    ds_fx_pdf p;
    if (ds_fx_pdf_begin(&p, 612, 792)) return -1;
    static const double sides[N_BOXES] = {8, 9, 10, 12, 16, 9, 10, 12, 14};
    for (int i = 0; i < N_BOXES; i++)
        boxes[i] = draw_box(&p, 72 + (i % 3) * 160, 100 + (i / 3) * 60, sides[i], i % 3, i);
    // not check boxes: a text glyph, letters, a table cell, a filled bar
    ds_fx_pdf_text(&p, 72, 330, 14, 0, "\xe2\x96\xa1");
    ds_fx_pdf_text(&p, 120, 330, 16, 1, "O D o 0 8 B");
    cairo_set_line_width(p.cr, 0.8);
    cairo_rectangle(p.cr, 72, 360, 60, 40);
    cairo_stroke(p.cr);
    cairo_rectangle(p.cr, 200, 360, 120, 12);
    cairo_fill(p.cr);
    return ds_fx_pdf_end(&p, pdf);
}

// Checks the page's marks against the drawn boxes; prints what it found.
// want_marks: N_BOXES, plus one when the "□" glyph is read from pixels (OCR):
// printed on a scan, it is an empty check box.
static int check_marks(const ds_page *pg, const drawn_box *boxes, const char *what,
                       int want_marks) {
    int marks = 0, matched = 0;
    float worst = 0;
    for (int k = 0; k < pg->n_words; k++) {
        const ds_word *w = &pg->words[k];
        if (w->source != DS_WORD_MARK) continue;
        marks++;
        for (int i = 0; i < N_BOXES; i++) {
            const ds_box *b = &boxes[i].box;
            float d = fmaxf(fmaxf(fabsf(w->box.x0 - b->x0), fabsf(w->box.y0 - b->y0)),
                            fmaxf(fabsf(w->box.x1 - b->x1), fabsf(w->box.y1 - b->y1)));
            if (d > 1.5f) continue;
            const char *want = boxes[i].checked ? "\xe2\x98\x92" : "\xe2\x98\x90";
            // the label follows its box in reading order
            int label_next = k + 1 < pg->n_words && strstr(pg->words[k + 1].text, "ption") &&
                             pg->words[k + 1].line == w->line;
            if (strcmp(w->text, want) == 0 && label_next)
                matched++;
            else
                printf("  %s: box %d read as %s (want %s), next word \"%s\"\n", what, i, w->text,
                       want, k + 1 < pg->n_words ? pg->words[k + 1].text : "");
            worst = fmaxf(worst, d);
        }
    }
    printf("  %s: %d marks found, %d of %d drawn boxes with the right state and label after "
           "them, worst edge %.2f pt\n",
           what, marks, matched, N_BOXES, worst);
    DS_CHECK_INT_EQ(marks, want_marks);
    DS_CHECK_INT_EQ(matched, N_BOXES);
    return 0;
}

DS_TEST(ingest_marks_check_boxes) {
    ds_fx_init();
    drawn_box boxes[N_BOXES];
    ds_fx_buf pdf = {0};
    DS_CHECK_INT_EQ(make_page(&pdf, boxes), 0);
    ds_ingest_opts o;
    ds_ingest_opts_default(&o);
    o.no_pixels = 1;
    ds_doc *doc = NULL;
    int rc = ds_ingest_memory(pdf.data, pdf.n, &o, &doc);
    if (rc) printf("  %s: %s\n", ds_err_name(rc), ds_errmsg());
    DS_CHECK_INT_EQ(rc, 0);
    rc = check_marks(&doc->pages[0], boxes, "text layer", N_BOXES);
    ds_doc_free(doc);
    DS_CHECK_INT_EQ(rc, 0);
    // rendered at 300 dpi the mask is pooled 2 x 2 (ingest/marks.c): the same marks
    o.dpi = 300;
    rc = ds_ingest_memory(pdf.data, pdf.n, &o, &doc);
    DS_CHECK_INT_EQ(rc, 0);
    rc = check_marks(&doc->pages[0], boxes, "text layer, 300 dpi", N_BOXES);
    ds_doc_free(doc);
    DS_CHECK_INT_EQ(rc, 0);
    o.dpi = 150;
    // switched off: no marks at all
    o.no_marks = 1;
    DS_CHECK_INT_EQ(ds_ingest_memory(pdf.data, pdf.n, &o, &doc), 0);
    for (int k = 0; k < doc->pages[0].n_words; k++)
        DS_CHECK(doc->pages[0].words[k].source != DS_WORD_MARK);
    ds_doc_free(doc);
    // the page read by OCR: the same marks, and no OCR word left on a box
    o.no_marks = 0;
    o.ocr = DS_OCR_ALWAYS;
    rc = ds_ingest_memory(pdf.data, pdf.n, &o, &doc);
    ds_fx_buf_free(&pdf);
    ds_ingest_thread_cleanup();
    DS_CHECK_INT_EQ(rc, 0);
    rc = check_marks(&doc->pages[0], boxes, "OCR", N_BOXES + 1);
    ds_doc_free(doc);
    DS_CHECK_INT_EQ(rc, 0);
    return 0;
}
