// test-ingest-graphic-text.c: a text-layer PDF whose letterhead is drawn as
// filled letter paths in a frame (no text layer there), beside real text, a
// table rule, a filled bar and a check box. The letterhead's words must come
// back from OCR (source "ocr") inside the drawn box; nothing else may be read
// as graphic text; the text layer's words stay as they were; the option
// no_graphic_text and OCR mode "never" turn it off.
#include "tests/test.h"
#include "core/error.h"
#include "tests/ingest-fixtures.h"

#include <math.h>
#include <string.h>

static int make_page(ds_fx_buf *pdf, ds_box *logo) {
    ds_fx_pdf p;
    if (ds_fx_pdf_begin(&p, 612, 792)) return -1;
    cairo_t *cr = p.cr;
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
    cairo_set_font_size(cr, 18);
    cairo_text_extents_t te;
    cairo_text_extents(cr, "Northwind Traders", &te);
    cairo_move_to(cr, 72, 80);
    cairo_text_path(cr, "Northwind Traders");
    cairo_fill(cr);
    *logo = (ds_box){(float)(72 + te.x_bearing), (float)(80 + te.y_bearing),
                     (float)(72 + te.x_bearing + te.width), (float)(80 + te.y_bearing + te.height)};
    cairo_set_line_width(cr, 1.5);
    cairo_rectangle(cr, logo->x0 - 6, logo->y0 - 4, logo->x1 - logo->x0 + 12,
                    logo->y1 - logo->y0 + 8);
    cairo_stroke(cr);
    ds_fx_pdf_text(&p, 72, 160, 11, 0, "Invoice number 12345");
    ds_fx_pdf_text(&p, 72, 200, 11, 0, "Total due 480.00");
    cairo_set_line_width(cr, 0.8);
    cairo_move_to(cr, 72, 215); // a table rule
    cairo_line_to(cr, 540, 215);
    cairo_stroke(cr);
    cairo_rectangle(cr, 72, 240, 200, 10); // a filled bar
    cairo_fill(cr);
    cairo_rectangle(cr, 72, 280, 10, 10); // a check box
    cairo_stroke(cr);
    ds_fx_pdf_text(&p, 88, 289, 10, 0, "Paid");
    return ds_fx_pdf_end(&p, pdf);
}

static int count_source(const ds_page *pg, int source) {
    int n = 0;
    for (int i = 0; i < pg->n_words; i++) n += pg->words[i].source == source;
    return n;
}

DS_TEST(ingest_graphic_text_letterhead) {
    ds_fx_init();
    ds_fx_buf pdf = {0};
    ds_box logo;
    DS_CHECK_INT_EQ(make_page(&pdf, &logo), 0);
    int bad = 0;
    for (int mode = 0; mode < 3; mode++) { // default, no_graphic_text, OCR never
        ds_ingest_opts o;
        ds_ingest_opts_default(&o);
        o.no_pixels = 1;
        o.no_graphic_text = mode == 1;
        if (mode == 2) o.ocr = DS_OCR_NEVER;
        ds_doc *doc = NULL;
        DS_CHECK_INT_EQ(ds_ingest_memory(pdf.data, pdf.n, &o, &doc), 0);
        const ds_page *pg = &doc->pages[0];
        int n_ocr = count_source(pg, DS_WORD_OCR), n_pdf = count_source(pg, DS_WORD_PDF);
        char text[256] = "";
        int inside = 1;
        for (int i = 0; i < pg->n_words; i++) {
            const ds_word *w = &pg->words[i];
            if (w->source != DS_WORD_OCR) continue;
            snprintf(text + strlen(text), sizeof text - strlen(text), "%s%s", text[0] ? " " : "",
                     w->text);
            inside &= w->box.x0 >= logo.x0 - 3 && w->box.x1 <= logo.x1 + 3 &&
                      w->box.y0 >= logo.y0 - 3 && w->box.y1 <= logo.y1 + 3;
        }
        printf("  %s: %d text-layer words, %d OCR words \"%s\"%s, %.0f ms of graphic OCR\n",
               mode == 0   ? "default"
               : mode == 1 ? "no_graphic_text"
                           : "OCR never",
               n_pdf, n_ocr, text, inside ? " inside the letterhead" : " OUTSIDE it", pg->ms_ocr);
        bad |= n_pdf != 7; // "Invoice number 12345", "Total due 480.00", "Paid"
        if (mode == 0)
            bad |= strcmp(text, "Northwind Traders") != 0 || !inside || pg->words[0].source != 1;
        else
            bad |= n_ocr != 0;
        ds_doc_free(doc);
    }
    ds_fx_buf_free(&pdf);
    ds_ingest_thread_cleanup();
    return bad;
}
