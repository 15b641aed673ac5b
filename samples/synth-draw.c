// synth-draw.c: drawing primitives that record ground truth as they draw.
// Text goes through cairo's font API with real font families, so the PDF has
// a text layer whose word boxes match what is recorded here (pen position to
// advance, baseline - ascent to baseline + descent, as Poppler reports them).
// Outlined text, check marks and stamps are paths: visible only in pixels.
#include "core/error.h"
#include "samples/synth-impl.h"

#include <cairo-pdf.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static cairo_status_t write_bytes(void *closure, const unsigned char *data, unsigned int n) {
    ds_synth_bytes *b = closure;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        while (cap < b->n + n) cap *= 2;
        char *p = realloc(b->data, cap);
        if (!p) return CAIRO_STATUS_NO_MEMORY;
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->n, data, n);
    b->n += n;
    return CAIRO_STATUS_SUCCESS;
}

int ds_synth_begin(ds_synth_doc *d, unsigned long seed, double w, double h) {
    static const char *fonts[] = {"Liberation Sans", "Liberation Serif", "FreeSans",
                                  "Carlito",         "Caladea",          "TeX Gyre Heros",
                                  "DejaVu Sans",     "TeX Gyre Termes"};
    memset(d, 0, sizeof *d);
    ds_rng_seed(&d->rng, seed);
    d->page_w = w;
    d->page_h = h;
    d->page = 1;
    d->font = fonts[ds_rng_below(&d->rng, sizeof fonts / sizeof *fonts)];
    d->surface = cairo_pdf_surface_create_for_stream(write_bytes, &d->pdf, w, h);
    // A fixed creation date: the same seed must give the same bytes.
    cairo_pdf_surface_set_metadata(d->surface, CAIRO_PDF_METADATA_CREATE_DATE,
                                   "2024-01-01T00:00:00");
    cairo_pdf_surface_set_metadata(d->surface, CAIRO_PDF_METADATA_CREATOR, "docseek synth");
    d->cr = cairo_create(d->surface);
    d->fields = json_object();
    d->boxes = json_object();
    d->visual_only = json_array();
    if (cairo_status(d->cr) != CAIRO_STATUS_SUCCESS)
        return ds_error(DS_E_INTERNAL, "cairo cannot start a PDF");
    cairo_set_source_rgb(d->cr, 0, 0, 0);
    return 0;
}

void ds_synth_next_page(ds_synth_doc *d) {
    cairo_show_page(d->cr);
    d->page++;
}

static ds_synth_box place(ds_synth_doc *d, double *x, double baseline, double size, int bold,
                          int align, const char *text) {
    cairo_select_font_face(d->cr, d->font, CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(d->cr, size);
    cairo_text_extents_t te;
    cairo_font_extents_t fe;
    cairo_text_extents(d->cr, text, &te);
    cairo_font_extents(d->cr, &fe);
    if (align == 1) *x -= te.x_advance;
    if (align == 2) *x -= te.x_advance / 2;
    ds_synth_box b = {*x, baseline - fe.ascent, *x + te.x_advance, baseline + fe.descent};
    return b;
}

double ds_synth_text_width(ds_synth_doc *d, double size, int bold, const char *text) {
    double x = 0;
    ds_synth_box b = place(d, &x, 0, size, bold, 0, text);
    return b.x1 - b.x0;
}

ds_synth_box ds_synth_text(ds_synth_doc *d, double x, double baseline, double size, int bold,
                           int align, const char *text) {
    ds_synth_box b = place(d, &x, baseline, size, bold, align, text);
    cairo_move_to(d->cr, x, baseline);
    cairo_show_text(d->cr, text);
    return b;
}

ds_synth_box ds_synth_text_outline(ds_synth_doc *d, double x, double baseline, double size,
                                   int bold, int align, const char *text) {
    ds_synth_box b = place(d, &x, baseline, size, bold, align, text);
    cairo_move_to(d->cr, x, baseline);
    cairo_text_path(d->cr, text);
    cairo_fill(d->cr);
    return b;
}

static json_t *box_json(const ds_synth_doc *d, ds_synth_box b) {
    return json_pack("{s:i, s:[f, f, f, f]}", "page", d->page, "box", round(b.x0 * 100) / 100,
                     round(b.y0 * 100) / 100, round(b.x1 * 100) / 100, round(b.y1 * 100) / 100);
}

void ds_synth_field(ds_synth_doc *d, const char *name, const char *value, ds_synth_box box,
                    int multi) {
    if (multi) {
        json_t *arr = json_object_get(d->fields, name);
        if (!arr) {
            arr = json_array();
            json_object_set_new(d->fields, name, arr);
        }
        json_array_append_new(arr, json_string(value));
    } else {
        json_object_set_new(d->fields, name, json_string(value));
    }
    json_t *boxes = json_object_get(d->boxes, name);
    if (!boxes) {
        boxes = json_array();
        json_object_set_new(d->boxes, name, boxes);
    }
    json_array_append_new(boxes, box_json(d, box));
}

void ds_synth_field_bool(ds_synth_doc *d, const char *name, int value, ds_synth_box box) {
    json_object_set_new(d->fields, name, json_boolean(value));
    json_t *boxes = json_array();
    json_array_append_new(boxes, box_json(d, box));
    json_object_set_new(d->boxes, name, boxes);
}

void ds_synth_visual_only(ds_synth_doc *d, const char *name) {
    json_array_append_new(d->visual_only, json_string(name));
}

ds_synth_box ds_synth_union(ds_synth_box a, ds_synth_box b) {
    ds_synth_box u = {fmin(a.x0, b.x0), fmin(a.y0, b.y0), fmax(a.x1, b.x1), fmax(a.y1, b.y1)};
    return u;
}

void ds_synth_line(ds_synth_doc *d, double x0, double y0, double x1, double y1, double width) {
    cairo_set_line_width(d->cr, width);
    cairo_move_to(d->cr, x0, y0);
    cairo_line_to(d->cr, x1, y1);
    cairo_stroke(d->cr);
}

void ds_synth_rect(ds_synth_doc *d, double x, double y, double w, double h, double width) {
    cairo_set_line_width(d->cr, width);
    cairo_rectangle(d->cr, x, y, w, h);
    cairo_stroke(d->cr);
}

ds_synth_box ds_synth_checkbox(ds_synth_doc *d, double x, double y, double s, int checked) {
    ds_synth_rect(d, x, y, s, s, 0.8);
    if (checked) { // a hand-made cross: two strokes, slightly irregular
        double j = s * 0.12 * ds_rng_uniform(&d->rng);
        ds_synth_line(d, x + s * 0.18 + j, y + s * 0.2, x + s * 0.82, y + s * 0.82 - j, 1.4);
        ds_synth_line(d, x + s * 0.82, y + s * 0.18 + j, x + s * 0.2 - j, y + s * 0.8, 1.4);
    }
    ds_synth_box b = {x, y, x + s, y + s};
    return b;
}

void ds_synth_stamp(ds_synth_doc *d, double cx, double cy, const char *word) {
    cairo_save(d->cr);
    cairo_translate(d->cr, cx, cy);
    cairo_rotate(d->cr, (ds_rng_uniform(&d->rng) - 0.5) * 0.6);
    double red = 0.6 + 0.3 * ds_rng_uniform(&d->rng);
    cairo_set_source_rgba(d->cr, red, 0.1, 0.15, 0.75);
    ds_synth_box b = ds_synth_text_outline(d, 0, 12, 30, 1, 2, word);
    cairo_set_line_width(d->cr, 2.5);
    cairo_rectangle(d->cr, b.x0 - 8, b.y0 - 4, b.x1 - b.x0 + 16, b.y1 - b.y0 + 8);
    cairo_stroke(d->cr);
    cairo_restore(d->cr);
    cairo_set_source_rgb(d->cr, 0, 0, 0);
}

int ds_synth_end(ds_synth_doc *d, const char *doc_type, ds_synth_bytes *pdf, json_t **truth) {
    cairo_destroy(d->cr);
    cairo_surface_finish(d->surface);
    cairo_status_t st = cairo_surface_status(d->surface);
    cairo_surface_destroy(d->surface);
    *truth =
        json_pack("{s:s, s:o, s:o}", "doc_type", doc_type, "fields", d->fields, "boxes", d->boxes);
    if (json_array_size(d->visual_only))
        json_object_set_new(*truth, "visual_only", d->visual_only);
    else
        json_decref(d->visual_only);
    *pdf = d->pdf;
    if (st != CAIRO_STATUS_SUCCESS)
        return ds_error(DS_E_INTERNAL, "cairo could not finish the PDF: %s",
                        cairo_status_to_string(st));
    return 0;
}
