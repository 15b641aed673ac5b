// ingest-fixtures.h: documents made by the tests themselves, so the expected
// answer is known exactly: PDFs drawn with cairo (each word's box computed from
// cairo's own font metrics), images encoded with libvips, BMP written by hand.
// Helpers only; the tests live in test-ingest.c and test-ingest-pdf.c.
#ifndef DS_INGEST_FIXTURES_H
#define DS_INGEST_FIXTURES_H

#include "ingest/ingest.h"

#include <cairo.h>
#include <stddef.h>
#include <stdint.h>

// A growable byte buffer (heap); ds_fx_buf_free releases it.
typedef struct {
    uint8_t *data;
    size_t n, cap;
} ds_fx_buf;

int ds_fx_buf_append(ds_fx_buf *b, const void *p, size_t n);
void ds_fx_buf_free(ds_fx_buf *b);

// Starts libvips the way ingest does (no cache, one thread) so fixtures can be encoded.
void ds_fx_init(void);

// A PDF under construction: pages of w x h points, drawn through fx->cr.
typedef struct {
    cairo_surface_t *surface;
    cairo_t *cr;
    ds_fx_buf buf;
} ds_fx_pdf;

// Opens a PDF in memory with a first page of w_pt x h_pt; the font is DejaVu Sans.
int ds_fx_pdf_begin(ds_fx_pdf *p, double w_pt, double h_pt);
// Draws text with its pen at (x, baseline) and returns the box it should get:
// x from the pen to pen + x_advance, y from baseline - ascent to baseline + descent.
ds_box ds_fx_pdf_text(ds_fx_pdf *p, double x, double baseline, double size, int bold,
                      const char *text);
// Ends the current page; the next one is w_pt x h_pt.
void ds_fx_pdf_next_page(ds_fx_pdf *p, double w_pt, double h_pt);
// Finishes the file: *out receives the bytes (free with ds_fx_buf_free). Returns 0 or -1.
int ds_fx_pdf_end(ds_fx_pdf *p, ds_fx_buf *out);

// A letter-size page of text lines (11 pt, from (72, 80), 20 pt apart) read back
// through its text layer at 72 dpi, no OCR, encoder input enc_size. 0 or an error.
int ds_fx_text_doc(const char *const *lines, int n, int enc_size, ds_doc **doc);

// A contract of three lines as ds_fx_text_doc reads it (*one, owned by the caller), and
// *longer: n_pages copies of its page in pages (the caller's room for n_pages; longer
// borrows one's words and pixels), for reading a document in windows. 0 or an error.
int ds_fx_contract_docs(int enc_size, int n_pages, ds_page *pages, ds_doc **one, ds_doc *longer);

// Encodes an (h, w, bands) 8-bit image with libvips as fmt (PNG, JPEG, TIFF, WebP, GIF).
// page_h > 0 stacks pages of that height (multi-page TIFF); orientation > 0 sets the
// EXIF orientation tag (JPEG). Returns 0 or -1 (the vips error is printed).
int ds_fx_image_encode(const uint8_t *px, int w, int h, int bands, ds_format fmt, int page_h,
                       int orientation, ds_fx_buf *out);
// A 24-bit uncompressed BMP (BITMAPINFOHEADER, bottom-up rows padded to 4 bytes).
int ds_fx_bmp_encode(const uint8_t *rgb, int w, int h, ds_fx_buf *out);

// Whole file into a heap buffer (NULL on failure); writes a buffer to a file (0 or -1).
uint8_t *ds_fx_read_file(const char *path, size_t *n);
int ds_fx_write_file(const char *path, const void *data, size_t n);

// Ingests bytes and checks the error code and that the message contains needle
// (case-insensitive); prints "what -> NAME: message". Returns 0 when as expected.
int ds_fx_expect_error(const char *what, const void *data, size_t n, const ds_ingest_opts *opts,
                       int want, const char *needle);

#endif
