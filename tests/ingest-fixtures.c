// ingest-fixtures.c: the fixture makers of ingest-fixtures.h. PDFs go through
// cairo's PDF surface into memory (cairo_pdf_surface_create_for_stream);
// images through libvips' *save_buffer; BMP by hand (Microsoft's
// BITMAPFILEHEADER + BITMAPINFOHEADER layout).
#include "tests/ingest-fixtures.h"
#include "core/error.h"
#include "ingest/ingest-impl.h"

#include <cairo-pdf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <vips/vips.h>

// ---- leak checking

// Fontconfig 2.14 leaks a few hundred bytes of its own configuration when first
// used (FcInitLoadConfigAndFonts, reached from Poppler's base-14 font lookup and
// from cairo's toy font API, which also leaks a duplicated FcPattern): no pointer
// of ours reaches them. LeakSanitizer reads this hook at exit (sanitizer
// interface, lsan_interface.h); the frames inside fontconfig carry no frame
// pointers, so only the module name matches. Ignored in builds without ASan.
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) {
    return "leak:libfontconfig.so\n";
}

// ---- buffers and files

int ds_fx_buf_append(ds_fx_buf *b, const void *p, size_t n) {
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n) cap *= 2;
        uint8_t *d = realloc(b->data, cap);
        if (!d) return -1;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->n, p, n);
    b->n += n;
    return 0;
}

void ds_fx_buf_free(ds_fx_buf *b) {
    free(b->data);
    memset(b, 0, sizeof *b);
}

uint8_t *ds_fx_read_file(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = len >= 0 ? malloc((size_t)len + 1) : NULL;
    if (buf && fread(buf, 1, (size_t)len, f) != (size_t)len) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *n = buf ? (size_t)len : 0;
    return buf;
}

int ds_fx_write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(data, 1, n, f);
    return fclose(f) == 0 && w == n ? 0 : -1;
}

void ds_fx_init(void) {
    static int done;
    if (done) return;
    // docseek's own start of libvips, so the tests run with its settings
    if (ds_ingest_libs_init() != 0) fprintf(stderr, "  %s\n", ds_errmsg());
    done = 1;
}

int ds_fx_expect_error(const char *what, const void *data, size_t n, const ds_ingest_opts *opts,
                       int want, const char *needle) {
    ds_doc *doc = (ds_doc *)1;
    int rc = ds_ingest_memory(data, n, opts, &doc);
    printf("  %-34s -> %s: %s\n", what, ds_err_name(rc), rc ? ds_errmsg() : "");
    int ok = rc == want && doc == NULL && (!needle || strcasestr(ds_errmsg(), needle));
    if (!ok)
        fprintf(stderr, "  %s: want %s with \"%s\", got %s \"%s\"\n", what, ds_err_name(want),
                needle ? needle : "", ds_err_name(rc), ds_errmsg());
    if (rc == 0) ds_doc_free(doc);
    return ok ? 0 : 1;
}

// ---- PDF through cairo

static cairo_status_t pdf_write(void *closure, const unsigned char *data, unsigned int len) {
    return ds_fx_buf_append(closure, data, len) == 0 ? CAIRO_STATUS_SUCCESS
                                                     : CAIRO_STATUS_WRITE_ERROR;
}

int ds_fx_pdf_begin(ds_fx_pdf *p, double w_pt, double h_pt) {
    memset(p, 0, sizeof *p);
    p->surface = cairo_pdf_surface_create_for_stream(pdf_write, &p->buf, w_pt, h_pt);
    p->cr = cairo_create(p->surface);
    cairo_select_font_face(p->cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_source_rgb(p->cr, 0, 0, 0);
    return cairo_status(p->cr) == CAIRO_STATUS_SUCCESS ? 0 : -1;
}

ds_box ds_fx_pdf_text(ds_fx_pdf *p, double x, double baseline, double size, int bold,
                      const char *text) {
    cairo_t *cr = p->cr;
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
    cairo_font_extents_t fe;
    cairo_text_extents_t te;
    cairo_font_extents(cr, &fe);
    cairo_text_extents(cr, text, &te);
    cairo_move_to(cr, x, baseline);
    cairo_show_text(cr, text);
    return (ds_box){(float)x, (float)(baseline - fe.ascent), (float)(x + te.x_advance),
                    (float)(baseline + fe.descent)};
}

int ds_fx_text_doc(const char *const *lines, int n, int enc_size, ds_doc **doc) {
    ds_fx_pdf p;
    ds_fx_buf pdf = {0};
    if (ds_fx_pdf_begin(&p, 612, 792)) return -1;
    for (int i = 0; i < n; i++) ds_fx_pdf_text(&p, 72, 80 + 20 * i, 11, 0, lines[i]);
    if (ds_fx_pdf_end(&p, &pdf)) return -1;
    ds_ingest_opts o;
    ds_ingest_opts_default(&o);
    o.enc_size = enc_size;
    o.ocr = DS_OCR_NEVER;
    o.dpi = 72;
    int rc = ds_ingest_memory(pdf.data, pdf.n, &o, doc);
    ds_fx_buf_free(&pdf);
    return rc;
}

int ds_fx_contract_docs(int enc_size, int n_pages, ds_page *pages, ds_doc **one, ds_doc *longer) {
    const char *lines[3] = {"This Agreement is made on 5 May 2021 between Acme Inc. and Beta LLC",
                            "It is governed by the laws of the State of Ohio for 2 years",
                            "Signed by Acme Inc. and Beta LLC on 7 June 2021"};
    int rc = ds_fx_text_doc(lines, 3, enc_size, one);
    if (rc) return rc;
    for (int p = 0; p < n_pages; p++) pages[p] = (*one)->pages[0];
    *longer = **one;
    longer->pages = pages;
    longer->n_pages = n_pages;
    return 0;
}

void ds_fx_pdf_next_page(ds_fx_pdf *p, double w_pt, double h_pt) {
    cairo_show_page(p->cr);
    cairo_pdf_surface_set_size(p->surface, w_pt, h_pt);
}

int ds_fx_pdf_end(ds_fx_pdf *p, ds_fx_buf *out) {
    cairo_status_t st = cairo_status(p->cr);
    cairo_destroy(p->cr);
    cairo_surface_finish(p->surface);
    if (st == CAIRO_STATUS_SUCCESS) st = cairo_surface_status(p->surface);
    cairo_surface_destroy(p->surface);
    *out = p->buf;
    memset(p, 0, sizeof *p);
    if (st != CAIRO_STATUS_SUCCESS) {
        fprintf(stderr, "  cairo: %s\n", cairo_status_to_string(st));
        ds_fx_buf_free(out);
        return -1;
    }
    return 0;
}

// ---- images through libvips

int ds_fx_image_encode(const uint8_t *px, int w, int h, int bands, ds_format fmt, int page_h,
                       int orientation, ds_fx_buf *out) {
    ds_fx_init();
    memset(out, 0, sizeof *out);
    VipsImage *img =
        vips_image_new_from_memory_copy(px, (size_t)w * h * bands, w, h, bands, VIPS_FORMAT_UCHAR);
    if (!img) goto fail;
    img->Type = bands >= 3 ? VIPS_INTERPRETATION_sRGB : VIPS_INTERPRETATION_B_W;
    if (page_h > 0) vips_image_set_int(img, "page-height", page_h);
    if (orientation > 0) vips_image_set_int(img, VIPS_META_ORIENTATION, orientation);
    void *buf = NULL;
    size_t len = 0;
    int rc = -1;
    switch (fmt) {
    case DS_FORMAT_PNG:
        rc = vips_pngsave_buffer(img, &buf, &len, NULL);
        break;
    case DS_FORMAT_JPEG:
        rc = vips_jpegsave_buffer(img, &buf, &len, "Q", 90, NULL);
        break;
    case DS_FORMAT_TIFF:
        rc = vips_tiffsave_buffer(img, &buf, &len, NULL);
        break;
    case DS_FORMAT_WEBP:
        rc = vips_webpsave_buffer(img, &buf, &len, "lossless", TRUE, NULL);
        break;
    case DS_FORMAT_GIF:
        rc = vips_gifsave_buffer(img, &buf, &len, NULL);
        break;
    default:
        break;
    }
    g_object_unref(img);
    if (rc != 0) goto fail;
    rc = ds_fx_buf_append(out, buf, len);
    g_free(buf);
    return rc;
fail:
    fprintf(stderr, "  libvips cannot encode %s: %s\n", ds_format_name(fmt), vips_error_buffer());
    vips_error_clear();
    return -1;
}

static void put_le(uint8_t *p, uint32_t v, int bytes) {
    for (int i = 0; i < bytes; i++) p[i] = (uint8_t)(v >> (8 * i));
}

int ds_fx_bmp_encode(const uint8_t *rgb, int w, int h, ds_fx_buf *out) {
    memset(out, 0, sizeof *out);
    size_t stride = ((size_t)w * 3 + 3) & ~(size_t)3;
    uint32_t data_size = (uint32_t)(stride * (size_t)h);
    uint8_t hdr[54] = {'B', 'M'};
    put_le(hdr + 2, 54 + data_size, 4); // file size
    put_le(hdr + 10, 54, 4);            // offset of the pixel array
    put_le(hdr + 14, 40, 4);            // BITMAPINFOHEADER
    put_le(hdr + 18, (uint32_t)w, 4);
    put_le(hdr + 22, (uint32_t)h, 4); // positive: bottom-up rows
    put_le(hdr + 26, 1, 2);           // planes
    put_le(hdr + 28, 24, 2);          // bits per pixel
    put_le(hdr + 34, data_size, 4);   // BI_RGB, image size
    put_le(hdr + 38, 2835, 4);        // 72 dpi in pixels per metre
    put_le(hdr + 42, 2835, 4);
    if (ds_fx_buf_append(out, hdr, sizeof hdr)) return -1;
    uint8_t *row = calloc(1, stride);
    if (!row) return -1;
    int rc = 0;
    for (int y = h - 1; y >= 0 && rc == 0; y--) {
        for (int x = 0; x < w; x++) { // BGR
            const uint8_t *s = rgb + ((size_t)y * w + x) * 3;
            row[3 * x] = s[2];
            row[3 * x + 1] = s[1];
            row[3 * x + 2] = s[0];
        }
        rc = ds_fx_buf_append(out, row, stride);
    }
    free(row);
    return rc;
}
