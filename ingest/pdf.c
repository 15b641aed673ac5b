// pdf.c: PDF pages through Poppler's glib API, from memory. One
// PopplerDocument per call (sharing one across threads crashes Poppler).
// Per page: the size in points; a raster rendered through cairo at the
// requested dpi on white; the text layer as words, each the union of its
// characters' rectangles from poppler_page_get_text_layout (one rectangle per
// character of poppler_page_get_text), with font name and size from
// poppler_page_get_text_attributes and a bold flag from the font name.
// Pages whose text layer has no usable words are read by OCR (ocr = auto).
// Encrypted files open when the empty password is allowed; otherwise
// DS_E_ENCRYPTED. Not here: forms, annotations' text, the outline.
#include "core/error.h"
#include "core/log.h"
#include "core/timer.h"
#include "ingest/ingest-impl.h"

#include <cairo.h>
#include <math.h>
#include <poppler.h>
#include <stdio.h>
#include <string.h>

// Font names carry the weight ("Helvetica-Bold", "ABCDEF+DejaVuSans-Bold", "Arial,Black").
static int font_is_bold(const char *name) {
    static const char *marks[] = {"Bold",  "bold",     "BOLD",     "Black",
                                  "Heavy", "Semibold", "SemiBold", "Demi"};
    if (!name) return 0;
    for (size_t i = 0; i < sizeof marks / sizeof *marks; i++)
        if (strstr(name, marks[i])) return 1;
    return 0;
}

#define DS_PDF_MAX_PT 1e6 // points: 350 metres, far beyond any page (PDF's own limit is 200 in)

// A coordinate the file gives, as a float within a million points of the page's
// origin: a hostile file's 1e300 would be no float at all (undefined behaviour).
static float coord(double v) {
    return (float)fmax(-DS_PDF_MAX_PT, fmin(DS_PDF_MAX_PT, v));
}

static int render_page(ds_ingest_ctx *c, PopplerPage *pp, ds_page *page, int index) {
    double scale = c->opts->dpi / 72.0;
    // ceil, less a hair: 792 pt * (150 / 72.0) is 1650.0000000000002 in doubles, not 1651 pixels.
    double wd = ceil(page->width_pt * scale - 1e-6), hd = ceil(page->height_pt * scale - 1e-6);
    if (!(wd >= 1 && hd >= 1 && wd <= 32767 && hd <= 32767)) // checked before it is an int
        return ds_error(DS_E_FORMAT, "page %d: size %.0fx%.0f pt cannot be rendered", index + 1,
                        page->width_pt, page->height_pt);
    int w = (int)wd, h = (int)hd;
    int64_t pixels = (int64_t)w * h;
    if (c->opts->max_pixels && pixels > c->opts->max_pixels)
        return ds_error(DS_E_TOO_MANY_PIXELS,
                        "page %d: %.0fx%.0f pt at %.0f dpi is %dx%d = %lld pixels, the limit is "
                        "%lld (lower the dpi or raise the limit)",
                        index + 1, page->width_pt, page->height_pt, c->opts->dpi, w, h,
                        (long long)pixels, (long long)c->opts->max_pixels);
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(s);
        return ds_error(DS_E_NOMEM, "page %d: cannot allocate a %dx%d raster", index + 1, w, h);
    }
    cairo_t *cr = cairo_create(s);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    // The same scale both ways as px_per_pt, so boxes map exactly; the raster covers the page,
    // its last row and column partly past the edge (white).
    cairo_scale(cr, scale, scale);
    poppler_page_render(pp, cr);
    cairo_destroy(cr);
    cairo_surface_flush(s);
    int rc = 0;
    page->img_w = w;
    page->img_h = h;
    page->px_per_pt = (float)scale;
    page->rgb = ds_ingest_alloc(c, (size_t)w * h * 3);
    if (!page->rgb) {
        rc = ds_error(DS_E_NOMEM, "page %d: out of memory for the raster", index + 1);
    } else {
        // CAIRO_FORMAT_RGB24: one native-endian uint32 per pixel, 0x00RRGGBB.
        const unsigned char *data = cairo_image_surface_get_data(s);
        int stride = cairo_image_surface_get_stride(s);
        for (int y = 0; y < h; y++) {
            const uint32_t *row = (const uint32_t *)(data + (size_t)y * stride);
            uint8_t *out = page->rgb + (size_t)y * w * 3;
            for (int x = 0; x < w; x++) {
                out[3 * x] = (uint8_t)(row[x] >> 16);
                out[3 * x + 1] = (uint8_t)(row[x] >> 8);
                out[3 * x + 2] = (uint8_t)row[x];
            }
        }
    }
    cairo_surface_destroy(s);
    return rc;
}

// 1 when glyph r does not continue the word of glyph prev: a gap wider than a
// quarter of the glyph height, a step back, or another line. Poppler's text
// joins glyphs that no space character separates even when they sit far apart
// (table cells drawn one by one: "DescriptionQtyAmount"); its own word
// breaking (TextOutputDev, minWordBreakSpace) works from the geometry too.
static int glyph_gap(const PopplerRectangle *prev, const PopplerRectangle *r) {
    double h = fmax(fabs(r->y2 - r->y1), fabs(prev->y2 - prev->y1));
    double px1 = fmax(prev->x1, prev->x2), rx0 = fmin(r->x1, r->x2);
    double pcy = 0.5 * (prev->y1 + prev->y2), rcy = 0.5 * (r->y1 + r->y2);
    return rx0 - px1 > 0.25 * h || rx0 < fmin(prev->x1, prev->x2) - 0.25 * h ||
           fabs(rcy - pcy) > 0.5 * h;
}

// Splits the text layer into words at white space and at gaps between glyphs;
// each word's box is the union of its characters' rectangles and its font is that
// of its first character.
static int text_layer(ds_ingest_ctx *c, PopplerPage *pp, ds_word_list *list) {
    char *text = poppler_page_get_text(pp);
    PopplerRectangle *rects = NULL;
    guint n_rects = 0;
    if (!text || !poppler_page_get_text_layout(pp, &rects, &n_rects)) {
        g_free(text);
        g_free(rects);
        return 0; // no text layer
    }
    GList *attrs = poppler_page_get_text_attributes(pp);
    GList *attr = attrs;
    int rc = 0;
    const char *p = text;
    guint ci = 0; // character index into rects
    while (*p && ci < n_rects && rc == 0) {
        gunichar ch = g_utf8_get_char(p);
        if (g_unichar_isspace(ch)) {
            p = g_utf8_next_char(p);
            ci++;
            continue;
        }
        const char *start = p;
        guint first = ci;
        ds_box box = {coord(rects[ci].x1), coord(rects[ci].y1), coord(rects[ci].x2),
                      coord(rects[ci].y2)};
        while (*p && ci < n_rects && !g_unichar_isspace(g_utf8_get_char(p))) {
            PopplerRectangle *r = &rects[ci];
            if (ci > first && glyph_gap(&rects[ci - 1], r)) break;
            box.x0 = fminf(box.x0, coord(fmin(r->x1, r->x2)));
            box.y0 = fminf(box.y0, coord(fmin(r->y1, r->y2)));
            box.x1 = fmaxf(box.x1, coord(fmax(r->x1, r->x2)));
            box.y1 = fmaxf(box.y1, coord(fmax(r->y1, r->y2)));
            p = g_utf8_next_char(p);
            ci++;
        }
        while (attr && ((PopplerTextAttributes *)attr->data)->end_index < (gint)first)
            attr = attr->next;
        const PopplerTextAttributes *a = attr ? attr->data : NULL;
        if (a && a->start_index > (gint)first) a = NULL;
        rc = ds_word_list_add(c, list, start, (size_t)(p - start), box, a ? a->font_name : "",
                              a ? coord(a->font_size) : box.y1 - box.y0, 1.0f,
                              a ? font_is_bold(a->font_name) : 0, DS_WORD_PDF);
    }
    poppler_page_free_text_attributes(attrs);
    g_free(rects);
    g_free(text);
    return rc;
}

// Poppler's GfxState constructor sets its process-wide sRGB and XYZ profiles
// on first use, without a lock (GfxState::sRGBProfile, a shared_ptr, in Poppler
// 22.12). Two threads drawing the process's first PDF pages at the same moment
// raced on it: CI's LeakSanitizer caught a lost sRGB profile in ingest --jobs 2.
// So the process's first page is drawn here, once, before any worker reads a
// PDF (ds_ingest_libs_init runs it under pthread_once): a blank one-page PDF
// built in memory, its offsets computed so Poppler needs no xref repair.
void ds_pdf_first_render(void) {
    static const char *objects[] = {
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 8 8] >>",
    };
    enum { N_OBJECTS = 3 };
    char pdf[512];
    int off[N_OBJECTS], n = snprintf(pdf, sizeof pdf, "%%PDF-1.4\n");
    for (int i = 0; i < N_OBJECTS; i++) {
        off[i] = n;
        n += snprintf(pdf + n, sizeof pdf - (size_t)n, "%d 0 obj\n%s\nendobj\n", i + 1, objects[i]);
    }
    int xref = n;
    n += snprintf(pdf + n, sizeof pdf - (size_t)n, "xref\n0 %d\n0000000000 65535 f \n",
                  N_OBJECTS + 1);
    for (int i = 0; i < N_OBJECTS; i++)
        n += snprintf(pdf + n, sizeof pdf - (size_t)n, "%010d 00000 n \n", off[i]);
    n += snprintf(pdf + n, sizeof pdf - (size_t)n,
                  "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", N_OBJECTS + 1,
                  xref);
    GBytes *bytes = g_bytes_new_static(pdf, (size_t)n);
    GError *err = NULL;
    PopplerDocument *pd = poppler_document_new_from_bytes(bytes, NULL, &err);
    g_bytes_unref(bytes);
    PopplerPage *pp = pd ? poppler_document_get_page(pd, 0) : NULL;
    if (!pp) {
        DS_LOGW("Poppler could not open its first blank page (%s); PDF threads may race on its "
                "colour profiles",
                err ? err->message : "no page");
        if (err) g_error_free(err);
        if (pd) g_object_unref(pd);
        return;
    }
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 8, 8);
    cairo_t *cr = cairo_create(s);
    poppler_page_render(pp, cr);
    cairo_destroy(cr);
    cairo_surface_destroy(s);
    g_object_unref(pp);
    g_object_unref(pd);
}

static int pdf_open_error(GError *err) {
    int rc;
    if (err && err->domain == POPPLER_ERROR && err->code == POPPLER_ERROR_ENCRYPTED)
        rc = ds_error(DS_E_ENCRYPTED, "the PDF is encrypted and needs a password (%s)",
                      err->message);
    else
        rc = ds_error(DS_E_FORMAT, "damaged or invalid PDF: %s",
                      err ? err->message : "Poppler could not open it");
    if (err) g_error_free(err);
    return rc;
}

int ds_pdf_ingest(ds_ingest_ctx *c, const void *data, size_t size) {
    GBytes *bytes = g_bytes_new_static(data, size);
    GError *err = NULL;
    PopplerDocument *pd = poppler_document_new_from_bytes(bytes, NULL, &err);
    g_bytes_unref(bytes);
    if (!pd) return pdf_open_error(err);
    int rc = 0;
    int n = poppler_document_get_n_pages(pd);
    ds_doc *doc = c->doc;
    if (n < 1) {
        rc = ds_error(DS_E_FORMAT, "the PDF has no pages");
        goto done;
    }
    if (c->opts->max_pages && n > c->opts->max_pages) {
        rc = ds_error(DS_E_TOO_MANY_PAGES, "the PDF has %d pages, the limit is %d", n,
                      c->opts->max_pages);
        goto done;
    }
    doc->pages = ds_ingest_alloc(c, (size_t)n * sizeof(ds_page));
    if (!doc->pages) {
        rc = ds_error(DS_E_NOMEM, "out of memory");
        goto done;
    }
    memset(doc->pages, 0, (size_t)n * sizeof(ds_page));
    doc->n_pages = n;
    for (int i = 0; i < n && rc == 0; i++) {
        rc = ds_ingest_check_time(c, i);
        if (rc) break;
        ds_page *page = &doc->pages[i];
        PopplerPage *pp = poppler_document_get_page(pd, i);
        if (!pp) {
            rc = ds_error(DS_E_FORMAT, "page %d cannot be read", i + 1);
            break;
        }
        double w, h;
        poppler_page_get_size(pp, &w, &h);
        page->width_pt = coord(w);
        page->height_pt = coord(h);
        double t0 = ds_time_s();
        rc = render_page(c, pp, page, i);
        double t1 = ds_time_s();
        ds_word_list list = {0};
        if (rc == 0 && c->opts->ocr != DS_OCR_ALWAYS) rc = text_layer(c, pp, &list);
        page->ms_render = (t1 - t0) * 1e3;
        page->ms_text = (ds_time_s() - t1) * 1e3;
        g_object_unref(pp);
        if (rc == 0) {
            int need_ocr = c->opts->ocr == DS_OCR_ALWAYS ||
                           (c->opts->ocr == DS_OCR_AUTO && !ds_words_usable(&list));
            rc = need_ocr ? ds_page_ocr(c, page, i) : ds_page_set_words(c, page, &list);
        }
        ds_word_list_free(&list);
        if (rc == 0 && c->opts->ocr != DS_OCR_NEVER && !c->opts->no_graphic_text)
            rc = ds_page_read_graphic_text(c, page);
        if (rc == 0 && !c->opts->no_marks) rc = ds_page_find_marks(c, page);
        if (rc == 0) rc = ds_page_encoder_input(c, page);
    }
done:
    g_object_unref(pd);
    return rc;
}
