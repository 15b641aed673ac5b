// test-ingest.c: the ingest API on fixtures the tests make themselves:
// detection by content for every format read, decoded sizes and pixels (alpha
// on white, EXIF orientation, every TIFF page, GIF's first frame), each kind
// of bad input rejected with its error code and a message that says what is
// wrong, the limits (bytes, pixels, pages, time), the encrypted fixtures in
// tests/corpus/ingest-fixtures, a fuzz smoke run over tests/corpus/ingest, and
// the real documents of ../shared/data when they are present.
#include "tests/test.h"
#include "core/error.h"
#include "core/rng.h"
#include "core/timer.h"
#include "tests/ingest-fixtures.h"

#include <dirent.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

// ---- helpers

static char *tmp_path(const char *name) {
    static char path[4][1024];
    static int k;
    k = (k + 1) % 4;
    snprintf(path[k], sizeof path[k], "%s/%s", ds_test_tmpdir(), name);
    return path[k];
}

static ds_ingest_opts no_ocr_opts(void) {
    ds_ingest_opts o;
    ds_ingest_opts_default(&o);
    o.ocr = DS_OCR_NEVER;
    return o;
}

static int ingest_ok(const void *data, size_t n, const ds_ingest_opts *o, ds_doc **doc) {
    int rc = ds_ingest_memory(data, n, o, doc);
    if (rc) fprintf(stderr, "  ingest: %s: %s\n", ds_err_name(rc), ds_errmsg());
    return rc;
}

static const uint8_t *pixel(const ds_page *pg, int x, int y) {
    return pg->rgb + ((size_t)y * pg->img_w + x) * 3;
}

static int near_rgb(const uint8_t *p, int r, int g, int b, int tol) {
    return abs(p[0] - r) <= tol && abs(p[1] - g) <= tol && abs(p[2] - b) <= tol;
}

static const uint8_t BG[3] = {200, 220, 240}, DARK[3] = {20, 20, 20};

// (h, w, 3): light background, a dark block over the top-left quarter.
static uint8_t *test_image(int w, int h) {
    uint8_t *px = malloc((size_t)w * h * 3);
    if (!px) return NULL;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            memcpy(px + ((size_t)y * w + x) * 3, x < w / 4 && y < h / 4 ? DARK : BG, 3);
    return px;
}

// A one-line PDF (for the byte-level damage cases).
static int small_pdf(ds_fx_buf *out, int pages) {
    ds_fx_pdf p;
    if (ds_fx_pdf_begin(&p, 300, 200)) return -1;
    for (int i = 0; i < pages; i++) {
        if (i) ds_fx_pdf_next_page(&p, 300, 200);
        ds_fx_pdf_text(&p, 20, 50, 12, 0, "Hello");
        ds_fx_pdf_text(&p, 70, 50, 12, 0, "world");
    }
    return ds_fx_pdf_end(&p, out);
}

// PNG chunks carry a CRC-32 (ISO 3309) of type and data; PNG spec, section 5.3.
static uint32_t crc32_png(const uint8_t *p, size_t n) {
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
    }
    return c ^ 0xffffffffu;
}

static void put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static int png_chunk(ds_fx_buf *b, const char *type, const uint8_t *data, uint32_t n) {
    uint8_t hdr[8], crc[4];
    put_be32(hdr, n);
    memcpy(hdr + 4, type, 4);
    uint8_t *body = malloc(4 + (size_t)n);
    if (!body) return -1;
    memcpy(body, type, 4);
    if (n) memcpy(body + 4, data, n);
    put_be32(crc, crc32_png(body, 4 + (size_t)n));
    free(body);
    return ds_fx_buf_append(b, hdr, 8) || (n && ds_fx_buf_append(b, data, n)) ||
           ds_fx_buf_append(b, crc, 4);
}

// A PNG whose header claims w x h RGB pixels, followed by a tiny IDAT (an empty
// zlib stream) and IEND: a decompression bomb's shape without its payload.
static int png_claiming(uint32_t w, uint32_t h, ds_fx_buf *out) {
    memset(out, 0, sizeof *out);
    uint8_t ihdr[13] = {0};
    put_be32(ihdr, w);
    put_be32(ihdr + 4, h);
    ihdr[8] = 8; // bit depth
    ihdr[9] = 2; // colour type: RGB
    static const uint8_t idat[] = {0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01};
    return ds_fx_buf_append(out, "\x89PNG\r\n\x1a\n", 8) || png_chunk(out, "IHDR", ihdr, 13) ||
           png_chunk(out, "IDAT", idat, sizeof idat) || png_chunk(out, "IEND", NULL, 0);
}

// ---- detection and decoding

DS_TEST(ingest_detect_formats) {
    ds_fx_init();
    const int W = 40, H = 30;
    uint8_t *px = test_image(W, H);
    DS_CHECK(px != NULL);
    static const struct {
        ds_format fmt;
        int tol; // per channel, for lossy or palette encodings
    } cases[] = {{DS_FORMAT_PNG, 0},  {DS_FORMAT_JPEG, 12}, {DS_FORMAT_TIFF, 0},
                 {DS_FORMAT_WEBP, 0}, {DS_FORMAT_GIF, 8},   {DS_FORMAT_BMP, 0}};
    int fails = 0;
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        ds_format fmt = cases[c].fmt;
        ds_fx_buf b;
        int rc = fmt == DS_FORMAT_BMP ? ds_fx_bmp_encode(px, W, H, &b)
                                      : ds_fx_image_encode(px, W, H, 3, fmt, 0, 0, &b);
        DS_CHECK_INT_EQ(rc, 0);
        ds_format got = ds_detect_format(b.data, b.n);
        ds_ingest_opts o = no_ocr_opts();
        ds_doc *doc = NULL;
        rc = ingest_ok(b.data, b.n, &o, &doc);
        int ok = got == fmt && rc == 0;
        if (rc == 0) {
            const ds_page *pg = &doc->pages[0];
            ok = ok && doc->format == fmt && doc->n_pages == 1 && pg->img_w == W &&
                 pg->img_h == H && pg->words == NULL && pg->pixels != NULL &&
                 near_rgb(pixel(pg, 2, 2), DARK[0], DARK[1], DARK[2], cases[c].tol) &&
                 near_rgb(pixel(pg, W - 3, H - 3), BG[0], BG[1], BG[2], cases[c].tol);
            printf("  %-5s %5zu bytes -> detected %-5s, %d page, %dx%d, %.0fx%.0f pt, "
                   "dark (%d,%d,%d) bg (%d,%d,%d) %s\n",
                   ds_format_name(fmt), b.n, ds_format_name(got), doc->n_pages, pg->img_w,
                   pg->img_h, pg->width_pt, pg->height_pt, pixel(pg, 2, 2)[0], pixel(pg, 2, 2)[1],
                   pixel(pg, 2, 2)[2], pixel(pg, W - 3, H - 3)[0], pixel(pg, W - 3, H - 3)[1],
                   pixel(pg, W - 3, H - 3)[2], ok ? "ok" : "WRONG");
        }
        fails += !ok;
        ds_doc_free(doc);
        ds_fx_buf_free(&b);
    }
    free(px);
    // PDF, also behind junk (readers accept up to 1024 bytes before "%PDF-").
    ds_fx_buf pdf;
    DS_CHECK_INT_EQ(small_pdf(&pdf, 1), 0);
    DS_CHECK_INT_EQ(ds_detect_format(pdf.data, pdf.n), DS_FORMAT_PDF);
    uint8_t junk[600];
    memset(junk, 'x', sizeof junk);
    ds_fx_buf prefixed = {0};
    DS_CHECK(ds_fx_buf_append(&prefixed, junk, sizeof junk) == 0 &&
             ds_fx_buf_append(&prefixed, pdf.data, pdf.n) == 0);
    DS_CHECK_INT_EQ(ds_detect_format(prefixed.data, prefixed.n), DS_FORMAT_PDF);
    ds_fx_buf_free(&prefixed);
    ds_fx_buf_free(&pdf);
    // Formats only named in errors.
    static const struct {
        const char *bytes;
        size_t n;
        ds_format fmt;
        const char *name;
    } named[] = {
        {"PK\x03\x04\x14\0\0\0", 8, DS_FORMAT_ZIP, "zip"},
        {"\x1f\x8b\x08\0\0\0\0\0", 8, DS_FORMAT_GZIP, "gzip"},
        {"\n  <!DOCTYPE html><html></html>", 31, DS_FORMAT_HTML, "html"},
        {"Dear Sir,\nplain text.\n", 22, DS_FORMAT_TEXT, "text"},
        {"\x00\x01\x02\x03\xfe", 5, DS_FORMAT_UNKNOWN, "unknown"},
        {"", 0, DS_FORMAT_UNKNOWN, "unknown"},
    };
    for (size_t i = 0; i < sizeof named / sizeof *named; i++) {
        ds_format f = ds_detect_format(named[i].bytes, named[i].n);
        printf("  %-8s -> %s\n", named[i].name, ds_format_name(f));
        fails += f != named[i].fmt || strcmp(ds_format_name(f), named[i].name) != 0;
    }
    fails += strcmp(ds_format_name((ds_format)99), "unknown") != 0;
    return fails;
}

// Every page of a TIFF is read; a GIF gives its first frame only.
DS_TEST(ingest_multipage_tiff_gif) {
    const int W = 40, H = 30, N = 3;
    uint8_t *px = malloc((size_t)W * H * N * 3);
    DS_CHECK(px != NULL);
    for (int p = 0; p < N; p++) // page p: grey 50 + 60 p
        memset(px + (size_t)p * W * H * 3, 50 + 60 * p, (size_t)W * H * 3);
    ds_fx_buf tif, gif;
    DS_CHECK_INT_EQ(ds_fx_image_encode(px, W, H * N, 3, DS_FORMAT_TIFF, H, 0, &tif), 0);
    for (size_t i = 0; i < (size_t)W * H; i++) { // GIF frames: red, then blue, then grey
        px[3 * i] = 220, px[3 * i + 1] = 30, px[3 * i + 2] = 30;
        px[(size_t)W * H * 3 + 3 * i] = 30, px[(size_t)W * H * 3 + 3 * i + 1] = 30;
        px[(size_t)W * H * 3 + 3 * i + 2] = 220;
    }
    DS_CHECK_INT_EQ(ds_fx_image_encode(px, W, H * N, 3, DS_FORMAT_GIF, H, 0, &gif), 0);
    free(px);
    ds_ingest_opts o = no_ocr_opts();
    ds_doc *doc = NULL;
    int rc = ingest_ok(tif.data, tif.n, &o, &doc);
    ds_fx_buf_free(&tif);
    DS_CHECK_INT_EQ(rc, 0);
    printf("  tiff: %d pages:", doc->n_pages);
    int fails = doc->n_pages != N;
    for (int p = 0; p < doc->n_pages; p++) {
        const ds_page *pg = &doc->pages[p];
        int v = 50 + 60 * p;
        printf(" %dx%d grey %d (want %d);", pg->img_w, pg->img_h, pixel(pg, 5, 5)[0], v);
        fails += pg->img_w != W || pg->img_h != H || !near_rgb(pixel(pg, 5, 5), v, v, v, 0);
    }
    printf("\n");
    ds_doc_free(doc);
    o.max_pages = 2;
    DS_CHECK_INT_EQ(
        ds_fx_image_encode((uint8_t[2 * 6 * 3]){0}, 2, 2 * 3, 3, DS_FORMAT_TIFF, 2, 0, &tif), 0);
    fails += ds_fx_expect_error("3-page TIFF, max_pages 2", tif.data, tif.n, &o,
                                DS_E_TOO_MANY_PAGES, "3 pages");
    ds_fx_buf_free(&tif);
    o.max_pages = 50;
    rc = ingest_ok(gif.data, gif.n, &o, &doc);
    ds_fx_buf_free(&gif);
    DS_CHECK_INT_EQ(rc, 0);
    const uint8_t *g = pixel(&doc->pages[0], 5, 5);
    printf("  gif: 3 frames -> %d page, %dx%d, first frame colour (%d,%d,%d), want ~(220,30,30)\n",
           doc->n_pages, doc->pages[0].img_w, doc->pages[0].img_h, g[0], g[1], g[2]);
    fails += doc->n_pages != 1 || doc->pages[0].img_w != W || doc->pages[0].img_h != H ||
             !near_rgb(g, 220, 30, 30, 12);
    ds_doc_free(doc);
    return fails;
}

DS_TEST(ingest_alpha_on_white) {
    // transparent black, opaque red, half-transparent black, transparent blue
    static const uint8_t rgba[4 * 4] = {0, 0, 0, 0, 255, 0, 0, 255, 0, 0, 0, 128, 0, 0, 255, 0};
    static const int want[4][3] = {{255, 255, 255}, {255, 0, 0}, {127, 127, 127}, {255, 255, 255}};
    int fails = 0;
    ds_format fmts[] = {DS_FORMAT_PNG, DS_FORMAT_WEBP, DS_FORMAT_TIFF};
    for (size_t f = 0; f < sizeof fmts / sizeof *fmts; f++) {
        ds_fx_buf b;
        DS_CHECK_INT_EQ(ds_fx_image_encode(rgba, 4, 1, 4, fmts[f], 0, 0, &b), 0);
        ds_ingest_opts o = no_ocr_opts();
        ds_doc *doc = NULL;
        int rc = ingest_ok(b.data, b.n, &o, &doc);
        ds_fx_buf_free(&b);
        DS_CHECK_INT_EQ(rc, 0);
        const ds_page *pg = &doc->pages[0];
        printf("  %-4s RGBA ->", ds_format_name(fmts[f]));
        for (int x = 0; x < 4; x++) {
            const uint8_t *p = pixel(pg, x, 0);
            printf(" (%d,%d,%d)", p[0], p[1], p[2]);
            fails += !near_rgb(p, want[x][0], want[x][1], want[x][2], x == 2 ? 2 : 0);
        }
        printf("  want (255,255,255) (255,0,0) (~127) (255,255,255)\n");
        ds_doc_free(doc);
    }
    return fails;
}

// Orientation 6: the stored image is shown turned 90 degrees clockwise, so a
// 60x20 image comes out 20x60 and its top-left corner goes to the top right.
DS_TEST(ingest_jpeg_exif_orientation) {
    const int W = 60, H = 20;
    uint8_t *px = test_image(W, H);
    DS_CHECK(px != NULL);
    for (int y = 0; y < 10; y++) // a 10x10 dark block at the top left
        for (int x = 0; x < 10; x++) memcpy(px + ((size_t)y * W + x) * 3, DARK, 3);
    int fails = 0;
    for (int orient = 1; orient <= 6; orient += 5) {
        ds_fx_buf b;
        DS_CHECK_INT_EQ(ds_fx_image_encode(px, W, H, 3, DS_FORMAT_JPEG, 0, orient, &b), 0);
        ds_ingest_opts o = no_ocr_opts();
        ds_doc *doc = NULL;
        int rc = ingest_ok(b.data, b.n, &o, &doc);
        ds_fx_buf_free(&b);
        DS_CHECK_INT_EQ(rc, 0);
        const ds_page *pg = &doc->pages[0];
        int rot = orient == 6;
        int dx = rot ? pg->img_w - 5 : 5, lx = rot ? 5 : pg->img_w - 5; // dark, light
        const uint8_t *d = pixel(pg, dx, 5), *l = pixel(pg, lx, 5);
        printf("  orientation %d: %dx%d -> %dx%d; pixel (%d,5) = %d (dark), (%d,5) = %d (light)\n",
               orient, W, H, pg->img_w, pg->img_h, dx, d[0], lx, l[0]);
        fails += pg->img_w != (rot ? H : W) || pg->img_h != (rot ? W : H);
        fails += !near_rgb(d, DARK[0], DARK[1], DARK[2], 16) || !(l[0] > 150);
        ds_doc_free(doc);
    }
    free(px);
    return fails;
}

// ---- bad inputs

DS_TEST(ingest_bad_inputs) {
    ds_fx_init();
    int fails = 0;
    ds_ingest_opts o = no_ocr_opts();
    fails += ds_fx_expect_error("zero bytes", "", 0, &o, DS_E_FORMAT, "0 bytes");
    uint8_t rnd[4096];
    ds_rng r;
    ds_rng_seed(&r, 42);
    for (size_t i = 0; i < sizeof rnd; i++) rnd[i] = (uint8_t)ds_rng_below(&r, 256);
    fails +=
        ds_fx_expect_error("random bytes", rnd, sizeof rnd, &o, DS_E_UNSUPPORTED, "unknown type");
    memcpy(rnd, "%PDF-1.7\n", 9);
    fails +=
        ds_fx_expect_error("PDF magic, random body", rnd, sizeof rnd, &o, DS_E_FORMAT, "damaged");
    memcpy(rnd, "\x89PNG\r\n\x1a\n", 8);
    fails +=
        ds_fx_expect_error("PNG magic, random body", rnd, sizeof rnd, &o, DS_E_FORMAT, "page 1");
    // A damaged PDF: cut in half; the xref and trailer destroyed.
    ds_fx_buf pdf;
    DS_CHECK_INT_EQ(small_pdf(&pdf, 2), 0);
    fails +=
        ds_fx_expect_error("truncated PDF (half)", pdf.data, pdf.n / 2, &o, DS_E_FORMAT, "damaged");
    uint8_t *xref = memmem(pdf.data, pdf.n, "\nxref\n", 6);
    uint8_t *trailer = memmem(pdf.data, pdf.n, "trailer", 7);
    DS_CHECK(xref && trailer && trailer > xref);
    uint8_t *m = malloc(pdf.n);
    DS_CHECK(m != NULL);
    memcpy(m, pdf.data, pdf.n);
    memset(m + (xref - pdf.data), ' ', pdf.n - (size_t)(xref - pdf.data));
    fails += ds_fx_expect_error("xref and trailer blanked", m, pdf.n, &o, DS_E_FORMAT, "damaged");
    // Wrong offsets in every xref entry: Poppler rebuilds the table by scanning the
    // objects (as every reader does), so the document reads normally.
    memcpy(m, pdf.data, pdf.n);
    size_t x0 = (size_t)(xref - pdf.data), x1 = (size_t)(trailer - pdf.data);
    for (size_t i = x0; i < x1; i++)
        if (m[i] == '\n' && i + 11 < x1 && m[i + 11] == ' ') memcpy(m + i + 1, "0000000777", 10);
    ds_doc *doc = NULL;
    int rc = ingest_ok(m, pdf.n, &o, &doc);
    printf("  %-34s -> %s: rebuilt, %d pages, page 1 words:", "xref offsets all wrong",
           ds_err_name(rc), rc ? 0 : doc->n_pages);
    for (int i = 0; rc == 0 && i < doc->pages[0].n_words; i++)
        printf(" %s", doc->pages[0].words[i].text);
    printf("\n");
    fails += rc != 0 || doc->n_pages != 2 || doc->pages[0].n_words != 2 ||
             strcmp(doc->pages[0].words[1].text, "world") != 0;
    ds_doc_free(doc);
    free(m);
    ds_fx_buf_free(&pdf);
    // A truncated JPEG is an error, not a half-grey page.
    const int W = 256, H = 256;
    uint8_t *px = malloc((size_t)W * H * 3);
    DS_CHECK(px != NULL);
    for (size_t i = 0; i < (size_t)W * H * 3; i++) px[i] = (uint8_t)ds_rng_below(&r, 256);
    ds_fx_buf jpg;
    DS_CHECK_INT_EQ(ds_fx_image_encode(px, W, H, 3, DS_FORMAT_JPEG, 0, 0, &jpg), 0);
    free(px);
    rc = ingest_ok(jpg.data, jpg.n, &o, &doc);
    ds_doc_free(doc);
    DS_CHECK_INT_EQ(rc, 0);
    fails += ds_fx_expect_error("truncated JPEG (60%)", jpg.data, jpg.n * 6 / 10, &o, DS_E_FORMAT,
                                "page 1");
    ds_fx_buf_free(&jpg);
    // A PNG claiming 60000 x 60000 pixels with an 8-byte IDAT: rejected from the header.
    ds_fx_buf bomb;
    DS_CHECK_INT_EQ(png_claiming(60000, 60000, &bomb), 0);
    double t0 = ds_time_s();
    fails += ds_fx_expect_error("PNG header 60000x60000", bomb.data, bomb.n, &o,
                                DS_E_TOO_MANY_PIXELS, "60000x60000");
    printf("  (%zu-byte file with an 8-byte IDAT, rejected in %.1f ms)\n", bomb.n,
           (ds_time_s() - t0) * 1e3);
    ds_fx_buf_free(&bomb);
    // Formats docseek does not read are named.
    uint8_t zip[64] = "PK\x03\x04\x14\0\0\0\x08\0";
    fails += ds_fx_expect_error("ZIP archive", zip, sizeof zip, &o, DS_E_UNSUPPORTED, "zip");
    fails += ds_fx_expect_error("HTML page", "<!DOCTYPE html><p>hi</p>", 24, &o, DS_E_UNSUPPORTED,
                                "html");
    return fails;
}

// Fixtures made by cairo + qpdf (tests/corpus/ingest-fixtures/README.md).
DS_TEST(ingest_pdf_encrypted) {
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/corpus/ingest-fixtures/encrypted.pdf", DS_SOURCE_DIR);
    size_t n;
    uint8_t *b = ds_fx_read_file(path, &n);
    DS_CHECK(b != NULL);
    ds_ingest_opts o = no_ocr_opts();
    int fails =
        ds_fx_expect_error("AES-256, user password set", b, n, &o, DS_E_ENCRYPTED, "password");
    free(b);
    snprintf(path, sizeof path, "%s/tests/corpus/ingest-fixtures/encrypted-empty-password.pdf",
             DS_SOURCE_DIR);
    ds_doc *doc = NULL;
    int rc = ds_ingest_file(path, &o, &doc);
    if (rc) fprintf(stderr, "  %s: %s\n", ds_err_name(rc), ds_errmsg());
    DS_CHECK_INT_EQ(rc, 0);
    const ds_page *pg = &doc->pages[0];
    printf("  AES-256, empty user password -> OK: %d page, words:", doc->n_pages);
    for (int i = 0; i < pg->n_words; i++) printf(" %s", pg->words[i].text);
    printf("\n");
    fails += doc->n_pages != 1 || pg->n_words != 3 || pg->ocr_used ||
             strcmp(pg->words[0].text, "Encrypted") != 0 || strcmp(pg->words[2].text, "42") != 0;
    ds_doc_free(doc);
    return fails;
}

// ---- limits

DS_TEST(ingest_limits) {
    int fails = 0;
    ds_fx_buf pdf;
    DS_CHECK_INT_EQ(small_pdf(&pdf, 20), 0);
    ds_ingest_opts o = no_ocr_opts();
    char want[64];
    o.max_bytes = pdf.n - 1;
    snprintf(want, sizeof want, "%zu bytes exceeds the limit of %zu", pdf.n, pdf.n - 1);
    fails += ds_fx_expect_error("max_bytes = size - 1", pdf.data, pdf.n, &o, DS_E_TOO_LARGE, want);
    const char *file = tmp_path("limits.pdf");
    DS_CHECK_INT_EQ(ds_fx_write_file(file, pdf.data, pdf.n), 0);
    ds_doc *doc = (ds_doc *)1;
    int rc = ds_ingest_file(file, &o, &doc);
    printf("  %-34s -> %s: %s\n", "file over max_bytes", ds_err_name(rc), ds_errmsg());
    fails += rc != DS_E_TOO_LARGE || doc != NULL || !strstr(ds_errmsg(), "limits.pdf");
    o.max_bytes = pdf.n;
    rc = ds_ingest_file(file, &o, &doc);
    printf("  %-34s -> %s: %d pages\n", "file at max_bytes", ds_err_name(rc),
           rc ? 0 : doc->n_pages);
    fails += rc != 0 || doc->n_pages != 20;
    ds_doc_free(doc);
    // Pixels: a 300x200 pt page at 600 dpi is 2500x1667 pixels.
    o = no_ocr_opts();
    o.dpi = 600;
    o.max_pixels = 4000000;
    fails += ds_fx_expect_error("600 dpi, max_pixels 4e6", pdf.data, pdf.n, &o,
                                DS_E_TOO_MANY_PIXELS, "4167500 pixels, the limit is 4000000");
    // Time: a budget no document meets, and one that OCR runs into.
    o = no_ocr_opts();
    o.max_seconds = 1e-6;
    fails += ds_fx_expect_error("20 pages, max_seconds 1e-6", pdf.data, pdf.n, &o, DS_E_TIMEOUT,
                                "time budget");
    o.ocr = DS_OCR_ALWAYS;
    o.max_seconds = 0.05;
    fails += ds_fx_expect_error("20 pages OCR, max_seconds 0.05", pdf.data, pdf.n, &o, DS_E_TIMEOUT,
                                "time budget");
    ds_ingest_thread_cleanup();
    ds_fx_buf_free(&pdf);
    // Files that are not there, or not files.
    o = no_ocr_opts();
    const char *missing = "/nonexistent/dir/report.pdf";
    rc = ds_ingest_file(missing, &o, &doc);
    printf("  %-34s -> %s: %s\n", "missing file", ds_err_name(rc), ds_errmsg());
    fails += rc != DS_E_NOENT || doc != NULL || !strstr(ds_errmsg(), missing);
    rc = ds_ingest_file(ds_test_tmpdir(), &o, &doc);
    printf("  %-34s -> %s: %s\n", "a directory", ds_err_name(rc), ds_errmsg());
    fails += rc != DS_E_IO || doc != NULL;
    const char *empty = tmp_path("empty.png");
    DS_CHECK_INT_EQ(ds_fx_write_file(empty, "", 0), 0);
    rc = ds_ingest_file(empty, &o, &doc);
    printf("  %-34s -> %s: %s\n", "empty file", ds_err_name(rc), ds_errmsg());
    fails += rc != DS_E_FORMAT || !strstr(ds_errmsg(), "empty.png");
    return fails;
}

// The defaults the header promises, a PNG round trip through files, NULL frees.
DS_TEST(ingest_api_basics) {
    ds_ingest_opts o;
    ds_ingest_opts_default(&o);
    DS_CHECK(o.max_bytes == (size_t)64 << 20 && o.max_pages == 50 && o.max_pixels == 100000000);
    DS_CHECK(o.max_seconds == 60 && o.dpi == 150 && o.ocr == DS_OCR_AUTO && o.enc_size == 512);
    DS_CHECK(strcmp(o.ocr_lang, "eng") == 0 && o.enc_mean[2] == 0.5f && o.enc_std[0] == 0.5f);
    ds_doc_free(NULL);
    ds_fx_buf pdf;
    DS_CHECK_INT_EQ(small_pdf(&pdf, 1), 0);
    ds_doc *doc = NULL;
    o.ocr = DS_OCR_NEVER;
    DS_CHECK_INT_EQ(ingest_ok(pdf.data, pdf.n, NULL, &doc), 0); // NULL opts: the defaults
    ds_fx_buf_free(&pdf);
    const ds_page *pg = &doc->pages[0];
    const char *png = tmp_path("page-boxes.png");
    DS_CHECK_INT_EQ(ds_page_save_png(pg, png, 1), 0);
    ds_doc *back = NULL;
    int rc = ds_ingest_file(png, &o, &back);
    if (rc) fprintf(stderr, "  %s\n", ds_errmsg());
    DS_CHECK_INT_EQ(rc, 0);
    printf("  page %dx%d (%.2f px/pt, %d words) -> %s -> %s %dx%d\n", pg->img_w, pg->img_h,
           pg->px_per_pt, pg->n_words, png, ds_format_name(back->format), back->pages[0].img_w,
           back->pages[0].img_h);
    int fails = back->format != DS_FORMAT_PNG || back->pages[0].img_w != pg->img_w ||
                back->pages[0].img_h != pg->img_h;
    // The word outlines are red (PDF text layer) and drawn on the copy only.
    const ds_word *w = &pg->words[0];
    int bx = (int)(w->box.x0 * pg->px_per_pt), by = (int)(w->box.y0 * pg->px_per_pt);
    const uint8_t *drawn = pixel(&back->pages[0], bx, by), *orig = pixel(pg, bx, by);
    printf("  box corner (%d,%d): saved (%d,%d,%d), page raster (%d,%d,%d)\n", bx, by, drawn[0],
           drawn[1], drawn[2], orig[0], orig[1], orig[2]);
    fails += !near_rgb(drawn, 220, 0, 0, 0) || near_rgb(orig, 220, 0, 0, 0);
    rc = ds_page_save_png(pg, "/nonexistent/dir/page.png", 0);
    printf("  save to a missing folder -> %s: %s\n", ds_err_name(rc), ds_errmsg());
    fails += rc != DS_E_IO;
    ds_doc_free(back);
    ds_doc_free(doc);
    return fails;
}

// ---- threads

typedef struct {
    const ds_fx_buf *jpeg;
    int failed;
} parallel_job;

static void *ingest_repeatedly(void *arg) {
    parallel_job *job = arg;
    ds_ingest_opts o = no_ocr_opts();
    o.enc_size = 48; // a downscale: libvips' reduce, the path its orc code served
    for (int i = 0; i < 600 && !job->failed; i++) {
        ds_doc *doc = NULL;
        job->failed = ingest_ok(job->jpeg->data, job->jpeg->n, &o, &doc) != 0 ||
                      doc->pages[0].img_w != 160 || !doc->pages[0].pixels;
        ds_doc_free(doc);
    }
    return NULL;
}

// Four threads reading images at once, as ingest --jobs and the server do. With
// libvips' orc code on, this crashed inside orc_code_free in some runs.
DS_TEST(ingest_threads_in_parallel) {
    uint8_t *px = test_image(160, 120);
    DS_CHECK(px != NULL);
    ds_fx_buf jpeg;
    int rc = ds_fx_image_encode(px, 160, 120, 3, DS_FORMAT_JPEG, 0, 0, &jpeg);
    free(px);
    DS_CHECK_INT_EQ(rc, 0);
    enum { N = 4 };
    pthread_t t[N];
    parallel_job jobs[N];
    int started = 0, fails = 0;
    for (; started < N; started++) {
        jobs[started] = (parallel_job){&jpeg, 0};
        if (pthread_create(&t[started], NULL, ingest_repeatedly, &jobs[started]) != 0) break;
    }
    for (int i = 0; i < started; i++) {
        pthread_join(t[i], NULL);
        fails += jobs[i].failed;
    }
    printf("  %d threads x 600 JPEG reads with encoder input: %d failed\n", started, fails);
    ds_fx_buf_free(&jpeg);
    return fails + (started != N);
}

// ---- fuzz smoke

static const char *corpus_dir(void) {
    static char dir[1024];
    snprintf(dir, sizeof dir, "%s/tests/corpus/ingest", DS_SOURCE_DIR);
    return dir;
}

// Seeds in tests/corpus/ingest and deterministic mutations of each (bit flips,
// random bytes, truncations) through the fuzz entry: no crash, no leak (ASan).
DS_TEST(ingest_fuzz_smoke) {
    char path[1400];
    snprintf(path, sizeof path, "%s/manifest.txt", corpus_dir());
    FILE *m = fopen(path, "r");
    DS_CHECK(m != NULL);
    char line[256];
    int seeds = 0, seeds_ok = 0, accepted = 0, rejected = 0, by_code[32] = {0};
    ds_rng r;
    ds_rng_seed(&r, 11);
    double t0 = ds_time_s();
    while (fgets(line, sizeof line, m)) {
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0]) continue;
        snprintf(path, sizeof path, "%s/%s", corpus_dir(), line);
        size_t n;
        uint8_t *seed = ds_fx_read_file(path, &n);
        if (!seed || n == 0) {
            fprintf(stderr, "  cannot read seed %s\n", path);
            free(seed);
            fclose(m);
            return 1;
        }
        int rc = ds_fuzz_ingest(seed, n);
        printf("  seed %-16s %5zu bytes -> %s\n", line, n, ds_err_name(rc));
        seeds++;
        seeds_ok += rc == 0;
        uint8_t *mut = malloc(n);
        DS_CHECK(mut != NULL);
        for (int iter = 0; iter < 40; iter++) {
            size_t len = ds_test_mutate(&r, mut, seed, n);
            rc = ds_fuzz_ingest(mut, len);
            if (rc == 0)
                accepted++;
            else
                rejected++;
            by_code[-rc < 32 ? -rc : 0]++;
        }
        free(mut);
        free(seed);
    }
    fclose(m);
    printf("  %d seeds (%d read cleanly), %d mutations: %d accepted, %d rejected (", seeds,
           seeds_ok, accepted + rejected, accepted, rejected);
    for (int c = 1; c < 32; c++)
        if (by_code[c]) printf(" %s %d", ds_err_name(-c), by_code[c]);
    printf(" ) in %.1f s\n", ds_time_s() - t0);
    DS_CHECK(seeds >= 7 && seeds_ok == seeds && rejected > 0);
    return 0;
}

// ---- real documents

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

DS_TEST(ingest_shared_data) {
    static const char *folders[] = {"sroie-dev/img", "funsd-dev/images",
                                    "kleister-nda-dev/documents"};
    char root[1024];
    snprintf(root, sizeof root, "%s/../shared/data", DS_SOURCE_DIR);
    struct stat sb;
    if (stat(root, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        printf("  skip: ../shared/data not present\n");
        return 0;
    }
    int fails = 0;
    for (size_t f = 0; f < sizeof folders / sizeof *folders; f++) {
        char dir[1200];
        snprintf(dir, sizeof dir, "%s/%s", root, folders[f]);
        DIR *d = opendir(dir);
        if (!d) {
            printf("  %-28s not present\n", folders[f]);
            continue;
        }
        char *names[512];
        int n_names = 0;
        struct dirent *e;
        while ((e = readdir(d)) && n_names < 512)
            if (e->d_name[0] != '.') names[n_names++] = strdup(e->d_name);
        closedir(d);
        qsort(names, (size_t)n_names, sizeof *names, by_name);
        int docs = 0, pages = 0, ocr_pages = 0, n_read = ds_test_shared_docs(n_names);
        long words = 0;
        double ms = 0;
        for (int i = 0; i < n_read; i++) {
            char path[1800];
            snprintf(path, sizeof path, "%s/%s", dir, names[i]);
            ds_doc *doc = NULL;
            int rc = ds_ingest_file(path, NULL, &doc);
            if (rc) {
                fprintf(stderr, "  %s: %s: %s\n", names[i], ds_err_name(rc), ds_errmsg());
                fails++;
                continue;
            }
            docs++;
            pages += doc->n_pages;
            ms += doc->ms_total;
            for (int p = 0; p < doc->n_pages; p++) {
                words += doc->pages[p].n_words;
                ocr_pages += doc->pages[p].ocr_used;
                if (doc->pages[p].n_words < 1) {
                    fprintf(stderr, "  %s: page %d has no words\n", names[i], p + 1);
                    fails++;
                }
            }
            ds_doc_free(doc);
        }
        for (int i = 0; i < n_names; i++) free(names[i]);
        printf("  %-28s %3d documents, %4d pages (%d by OCR), %6.1f words/page, %7.1f ms/page\n",
               folders[f], docs, pages, ocr_pages, pages ? (double)words / pages : 0.0,
               pages ? ms / pages : 0.0);
    }
    ds_ingest_thread_cleanup();
    return fails;
}
