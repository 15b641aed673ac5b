// test-ingest-pdf.c: PDFs drawn by cairo with known words at known places, read
// back through ingest: the text layer's boxes against the drawn boxes, reading
// order rebuilt from a scrambled content stream, OCR of a rendered page, the
// page limit, and the map from page points to encoder pixels.
#include "tests/test.h"
#include "core/error.h"
#include "ingest/ingest-impl.h"
#include "tests/ingest-fixtures.h"

#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

// ---- helpers

static float centre_x(ds_box b) {
    return 0.5f * (b.x0 + b.x1);
}

static float centre_y(ds_box b) {
    return 0.5f * (b.y0 + b.y1);
}

static int inside(float x, float y, ds_box b) {
    return x >= b.x0 && x <= b.x1 && y >= b.y0 && y <= b.y1;
}

// The page's word with this text whose box centre is closest to the box's centre.
static const ds_word *find_word(const ds_page *pg, const char *text, ds_box near) {
    const ds_word *best = NULL;
    float best_d = INFINITY;
    for (int i = 0; i < pg->n_words; i++) {
        const ds_word *w = &pg->words[i];
        if (strcmp(w->text, text) != 0) continue;
        float dx = centre_x(w->box) - centre_x(near), dy = centre_y(w->box) - centre_y(near);
        float d = dx * dx + dy * dy;
        if (d < best_d) best_d = d, best = w;
    }
    return best;
}

static int ingest_ok(const ds_fx_buf *pdf, const ds_ingest_opts *o, ds_doc **doc) {
    int rc = ds_ingest_memory(pdf->data, pdf->n, o, doc);
    if (rc) fprintf(stderr, "  ingest: %s: %s\n", ds_err_name(rc), ds_errmsg());
    return rc;
}

// ---- text layer boxes

static const struct {
    const char *text;
    double x, baseline, size;
    int bold;
} box_words[] = {
    {"Invoice", 72, 90, 24, 1},    {"number", 72, 130, 12, 0},    {"4711", 140, 130, 12, 0},
    {"Total:", 300, 130, 12, 1},   {"1,234.56", 360, 130, 12, 0}, {"small", 72, 200, 8, 0},
    {"print", 100, 200, 8, 0},     {"Big", 72, 300, 36, 0},       {"Quartz", 200, 300, 20, 0},
    {"jumping", 72, 400, 14, 0},   {"fox", 150, 400, 14, 0},      {"yoghurt", 400, 400, 10, 0},
    {"Signature", 72, 700, 11, 0}, {"Date", 400, 700, 11, 1},
};
#define N_BOX_WORDS ((int)(sizeof box_words / sizeof *box_words))

DS_TEST(ingest_pdf_word_boxes) {
    ds_fx_pdf p;
    DS_CHECK_INT_EQ(ds_fx_pdf_begin(&p, 612, 792), 0);
    ds_box want[N_BOX_WORDS];
    for (int i = 0; i < N_BOX_WORDS; i++)
        want[i] = ds_fx_pdf_text(&p, box_words[i].x, box_words[i].baseline, box_words[i].size,
                                 box_words[i].bold, box_words[i].text);
    ds_fx_buf pdf;
    DS_CHECK_INT_EQ(ds_fx_pdf_end(&p, &pdf), 0);
    ds_ingest_opts o;
    ds_ingest_opts_default(&o);
    o.ocr = DS_OCR_NEVER;
    ds_doc *doc = NULL;
    int rc = ingest_ok(&pdf, &o, &doc);
    ds_fx_buf_free(&pdf);
    DS_CHECK_INT_EQ(rc, 0);
    DS_CHECK_INT_EQ(doc->format, DS_FORMAT_PDF);
    DS_CHECK_INT_EQ(doc->n_pages, 1);
    const ds_page *pg = &doc->pages[0];
    printf("  page %.0fx%.0f pt, raster %dx%d, %d words, %d lines\n", pg->width_pt, pg->height_pt,
           pg->img_w, pg->img_h, pg->n_words, pg->n_lines);
    // 612x792 pt at 150 dpi is exactly 1275x1650 pixels (no extra row from rounding).
    int fails =
        pg->n_words != N_BOX_WORDS || pg->ocr_used || pg->img_w != 1275 || pg->img_h != 1650;
    // Edge differences got - want; the worst of each edge over all words.
    float worst[4] = {0}, worst_cy = 0;
    printf("  %-10s %5s  %-28s %-28s %s\n", "word", "size", "drawn x0,y0,x1,y1",
           "poppler x0,y0,x1,y1", "d(x0,y0,x1,y1) d(cy)");
    for (int i = 0; i < N_BOX_WORDS; i++) {
        const ds_word *w = find_word(pg, box_words[i].text, want[i]);
        if (!w) {
            fprintf(stderr, "  word \"%s\" not found\n", box_words[i].text);
            fails++;
            continue;
        }
        ds_box g = w->box, e = want[i];
        float d[4] = {g.x0 - e.x0, g.y0 - e.y0, g.x1 - e.x1, g.y1 - e.y1};
        float dcy = centre_y(g) - centre_y(e);
        printf("  %-10s %5.1f  %6.1f %6.1f %6.1f %6.1f  %6.1f %6.1f %6.1f %6.1f  %+5.2f %+5.2f "
               "%+5.2f %+5.2f %+5.2f  font %s%s\n",
               w->text, box_words[i].size, e.x0, e.y0, e.x1, e.y1, g.x0, g.y0, g.x1, g.y1, d[0],
               d[1], d[2], d[3], dcy, w->font, w->bold ? " bold" : "");
        for (int k = 0; k < 4; k++)
            if (fabsf(d[k]) > fabsf(worst[k])) worst[k] = d[k];
        if (fabsf(dcy) > fabsf(worst_cy)) worst_cy = dcy;
        fails += fabsf(d[0]) > 1.0f || fabsf(d[2]) > 1.0f || fabsf(dcy) > 1.0f;
        fails += fabsf(d[1]) > 1.0f || fabsf(d[3]) > 1.0f;
        fails += fabsf(w->font_size - (float)box_words[i].size) > 0.5f;
        fails += w->bold != box_words[i].bold || w->source != DS_WORD_PDF || w->conf != 1.0f;
    }
    printf("  worst edge differences (pt): x0 %+.2f  y0 %+.2f  x1 %+.2f  y1 %+.2f  centre y "
           "%+.2f (tolerance 1)\n",
           worst[0], worst[1], worst[2], worst[3], worst_cy);
    ds_doc_free(doc);
    return fails;
}

// ---- OCR of a rendered page

static const char *ocr_lines[] = {
    "The quarterly report shows revenue of 4250 dollars",
    "for the period ending March 31 2023 and total",
    "expenses of 1875 dollars were paid to suppliers",
    "Please contact the office at 555 0199 before Friday",
    "The meeting will be held in room 12 on the",
    "second floor of the main building at 10 am",
    "All invoices must include the order number 88341",
    "and the name of the person who approved them",
};
#define N_OCR_LINES ((int)(sizeof ocr_lines / sizeof *ocr_lines))

DS_TEST(ingest_pdf_ocr_recovery) {
    ds_fx_pdf p;
    DS_CHECK_INT_EQ(ds_fx_pdf_begin(&p, 612, 792), 0);
    enum { MAX_WORDS = 128 };
    char text[MAX_WORDS][32];
    ds_box want[MAX_WORDS];
    int n = 0;
    for (int l = 0; l < N_OCR_LINES; l++) {
        double size = 11 + l % 4; // 11, 12, 13, 14 pt
        double x = 72, baseline = 100 + 36 * l;
        const char *s = ocr_lines[l];
        while (*s) {
            size_t len = strcspn(s, " ");
            DS_CHECK(n < MAX_WORDS && len < sizeof text[0]);
            memcpy(text[n], s, len);
            text[n][len] = '\0';
            want[n] = ds_fx_pdf_text(&p, x, baseline, size, 0, text[n]);
            x = want[n].x1 + 0.3 * size; // a space
            n++;
            s += len;
            while (*s == ' ') s++;
        }
    }
    ds_fx_buf pdf;
    DS_CHECK_INT_EQ(ds_fx_pdf_end(&p, &pdf), 0);
    ds_ingest_opts o;
    ds_ingest_opts_default(&o);
    o.ocr = DS_OCR_ALWAYS;
    o.dpi = 150;
    ds_doc *doc = NULL;
    int rc = ingest_ok(&pdf, &o, &doc);
    ds_fx_buf_free(&pdf);
    ds_ingest_thread_cleanup();
    DS_CHECK_INT_EQ(rc, 0);
    const ds_page *pg = &doc->pages[0];
    DS_CHECK(pg->ocr_used);
    int found = 0;
    for (int i = 0; i < n; i++) {
        int ok = 0;
        for (int k = 0; k < pg->n_words && !ok; k++) {
            const ds_word *w = &pg->words[k];
            ok = strcmp(w->text, text[i]) == 0 && w->source == DS_WORD_OCR &&
                 inside(centre_x(w->box), centre_y(w->box), want[i]);
        }
        if (ok)
            found++;
        else
            printf("  missed \"%s\" at %.0f,%.0f\n", text[i], want[i].x0, want[i].y0);
    }
    double pct = 100.0 * found / n;
    printf("  OCR at %.0f dpi (%dx%d): %d words drawn, %d OCR words, %d recovered with the centre "
           "in the true box = %.1f%% (need >= 98%%), %d lines, %.0f ms\n",
           o.dpi, pg->img_w, pg->img_h, n, pg->n_words, found, pct, pg->n_lines, pg->ms_ocr);
    ds_doc_free(doc);
    DS_CHECK(n >= 50);
    DS_CHECK(pct >= 98.0);
    return 0;
}

// ---- reading order

// The content stream draws the second line first, and each line's words right to
// left; the words must still come out top to bottom, left to right.
DS_TEST(ingest_pdf_reading_order) {
    static const char *line0[] = {"alpha", "beta", "gamma", "delta"};
    static const char *line1[] = {"one", "two", "three"};
    ds_fx_pdf p;
    DS_CHECK_INT_EQ(ds_fx_pdf_begin(&p, 400, 300), 0);
    for (int i = 2; i >= 0; i--) ds_fx_pdf_text(&p, 60 + 90 * i, 160, 12, 0, line1[i]);
    for (int i = 3; i >= 0; i--) ds_fx_pdf_text(&p, 40 + 80 * i, 100, 12, 0, line0[i]);
    ds_fx_buf pdf;
    DS_CHECK_INT_EQ(ds_fx_pdf_end(&p, &pdf), 0);
    ds_ingest_opts o;
    ds_ingest_opts_default(&o);
    o.no_pixels = 1;
    ds_doc *doc = NULL;
    int rc = ingest_ok(&pdf, &o, &doc);
    ds_fx_buf_free(&pdf);
    DS_CHECK_INT_EQ(rc, 0);
    const ds_page *pg = &doc->pages[0];
    printf("  words:");
    for (int i = 0; i < pg->n_words; i++) printf(" %s/%d", pg->words[i].text, pg->words[i].line);
    printf("  (%d lines)\n", pg->n_lines);
    static const char *want[] = {"alpha", "beta", "gamma", "delta", "one", "two", "three"};
    int fails = pg->n_words != 7 || pg->n_lines != 2 || pg->ocr_used;
    for (int i = 0; i < 7 && i < pg->n_words; i++)
        fails += strcmp(pg->words[i].text, want[i]) != 0 || pg->words[i].line != (i < 4 ? 0 : 1);
    if (fails) fprintf(stderr, "  want alpha/0 beta/0 gamma/0 delta/0 one/1 two/1 three/1\n");
    ds_doc_free(doc);
    return fails;
}

// ---- page limit

static int many_pages(int n, ds_fx_buf *out) {
    ds_fx_pdf p;
    if (ds_fx_pdf_begin(&p, 200, 100)) return -1;
    for (int i = 0; i < n; i++) {
        if (i) ds_fx_pdf_next_page(&p, 200, 100);
        char w[32];
        snprintf(w, sizeof w, "page%d", i + 1);
        ds_fx_pdf_text(&p, 20, 50, 12, 0, w);
    }
    return ds_fx_pdf_end(&p, out);
}

DS_TEST(ingest_pdf_page_limit) {
    ds_fx_buf pdf;
    DS_CHECK_INT_EQ(many_pages(200, &pdf), 0);
    ds_ingest_opts o;
    ds_ingest_opts_default(&o);
    DS_CHECK_INT_EQ(o.max_pages, 50);
    int fails = ds_fx_expect_error("200 pages, default limit 50", pdf.data, pdf.n, &o,
                                   DS_E_TOO_MANY_PAGES, "200 pages, the limit is 50");
    o.max_pages = 200;
    o.dpi = 72;
    o.enc_size = 64;
    ds_doc *doc = NULL;
    int rc = ingest_ok(&pdf, &o, &doc);
    ds_fx_buf_free(&pdf);
    DS_CHECK_INT_EQ(rc, 0);
    printf("  max_pages 200 -> %d pages in %.0f ms; page 200's word: %s\n", doc->n_pages,
           doc->ms_total, doc->pages[199].n_words ? doc->pages[199].words[0].text : "(none)");
    fails += doc->n_pages != 200 || doc->pages[199].n_words != 1 ||
             strcmp(doc->pages[199].words[0].text, "page200") != 0;
    ds_doc_free(doc);
    return fails;
}

// ---- encoder input

// A black rectangle at known page points must land on dark encoder pixels
// through enc_scale / enc_off_x / enc_off_y; the letterbox margins are white.
static int check_encoder_page(const ds_page *pg, ds_box rect) {
    int S = pg->enc_size, fails = 0;
    const float *R = pg->pixels, *G = R + (size_t)S * S, *B = G + (size_t)S * S;
    float lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < (size_t)3 * S * S; i++) {
        lo = fminf(lo, pg->pixels[i]);
        hi = fmaxf(hi, pg->pixels[i]);
    }
    fails += !(lo >= -1.0f && hi <= 1.0f);
    // The page occupies [off, off + size * scale) on each axis; the rest is margin.
    float px0 = pg->enc_off_x, py0 = pg->enc_off_y;
    float px1 = px0 + pg->width_pt * pg->enc_scale, py1 = py0 + pg->height_pt * pg->enc_scale;
    int margin_px = 0, margin_bad = 0;
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) {
            if (x + 1 > px0 - 0.5f && x < px1 + 0.5f && y + 1 > py0 - 0.5f && y < py1 + 0.5f)
                continue; // on or next to the page
            size_t i = (size_t)y * S + x;
            margin_px++;
            margin_bad += R[i] != 1.0f || G[i] != 1.0f || B[i] != 1.0f;
        }
    // Inside the rectangle, one encoder pixel in from its mapped edges.
    int rx0 = (int)ceilf(rect.x0 * pg->enc_scale + px0) + 1;
    int ry0 = (int)ceilf(rect.y0 * pg->enc_scale + py0) + 1;
    int rx1 = (int)floorf(rect.x1 * pg->enc_scale + px0) - 2;
    int ry1 = (int)floorf(rect.y1 * pg->enc_scale + py0) - 2;
    float darkest_worst = -INFINITY;
    for (int y = ry0; y <= ry1; y++)
        for (int x = rx0; x <= rx1; x++) {
            size_t i = (size_t)y * S + x;
            darkest_worst = fmaxf(darkest_worst, fmaxf(R[i], fmaxf(G[i], B[i])));
        }
    // Just outside the rectangle (3 encoder pixels) the page is white.
    int ox = (int)floorf(rect.x1 * pg->enc_scale + px0) + 3;
    int oy = (int)floorf(0.5f * (rect.y0 + rect.y1) * pg->enc_scale + py0);
    float outside = R[(size_t)oy * S + ox];
    printf("  page %.0fx%.0f pt -> enc %d: scale %.4f off (%.0f, %.0f); values [%.3f, %.3f]; "
           "margin %d px, %d not white; rect pixels [%d..%d]x[%d..%d] brightest %.3f; "
           "right of rect %.3f\n",
           pg->width_pt, pg->height_pt, S, pg->enc_scale, pg->enc_off_x, pg->enc_off_y, lo, hi,
           margin_px, margin_bad, rx0, rx1, ry0, ry1, darkest_worst, outside);
    fails += margin_px == 0 || margin_bad != 0;
    fails += rx1 - rx0 < 4 || ry1 - ry0 < 4 || !(darkest_worst < -0.9f);
    fails += !(outside > 0.9f);
    return fails;
}

DS_TEST(ingest_pdf_encoder_input) {
    ds_box rect[2] = {{100, 100, 200, 150}, {50, 300, 150, 420}};
    ds_fx_pdf p;
    DS_CHECK_INT_EQ(ds_fx_pdf_begin(&p, 600, 400), 0); // landscape: margins top and bottom
    cairo_rectangle(p.cr, rect[0].x0, rect[0].y0, rect[0].x1 - rect[0].x0, rect[0].y1 - rect[0].y0);
    cairo_fill(p.cr);
    ds_fx_pdf_text(&p, 300, 300, 12, 0, "landscape");
    ds_fx_pdf_next_page(&p, 300, 500); // portrait: margins left and right
    cairo_rectangle(p.cr, rect[1].x0, rect[1].y0, rect[1].x1 - rect[1].x0, rect[1].y1 - rect[1].y0);
    cairo_fill(p.cr);
    ds_fx_pdf_text(&p, 50, 100, 12, 0, "portrait");
    ds_fx_buf pdf;
    DS_CHECK_INT_EQ(ds_fx_pdf_end(&p, &pdf), 0);
    ds_ingest_opts o;
    ds_ingest_opts_default(&o);
    ds_doc *doc = NULL;
    int rc = ingest_ok(&pdf, &o, &doc);
    ds_fx_buf_free(&pdf);
    DS_CHECK_INT_EQ(rc, 0);
    DS_CHECK_INT_EQ(doc->n_pages, 2);
    int fails = 0;
    for (int i = 0; i < 2; i++) {
        const ds_page *pg = &doc->pages[i];
        DS_CHECK_INT_EQ(pg->enc_size, 512);
        DS_CHECK(pg->pixels != NULL);
        fails += check_encoder_page(pg, rect[i]);
    }
    // Landscape: full width, centred vertically; portrait: full height, centred horizontally.
    const ds_page *l = &doc->pages[0], *r = &doc->pages[1];
    fails += l->enc_off_x != 0 || !(l->enc_off_y > 50) || r->enc_off_y != 0 || !(r->enc_off_x > 50);
    fails += fabsf(l->enc_scale * 600 - 512) > 1 || fabsf(r->enc_scale * 500 - 512) > 1;
    ds_doc_free(doc);
    return fails;
}

// ---- first pages on many threads at once

typedef struct {
    const ds_fx_buf *pdf;
    pthread_barrier_t *start;
    int words;
    int rc;
} first_page_job;

static void *ingest_after_barrier(void *arg) {
    first_page_job *job = arg;
    ds_ingest_opts o;
    ds_ingest_opts_default(&o);
    o.ocr = DS_OCR_NEVER;
    o.dpi = 72;
    pthread_barrier_wait(job->start);
    ds_doc *doc = NULL;
    job->rc = ds_ingest_memory(job->pdf->data, job->pdf->n, &o, &doc);
    if (job->rc == 0) job->words = doc->pages[0].n_words;
    ds_doc_free(doc);
    return NULL;
}

// The sRGB profile Poppler's GfxState constructor sets for the whole process
// without a lock (Poppler 22.12's GfxState::sRGBProfile, a std::shared_ptr whose
// first word is the pointer). Found by its exported name; NULL when this Poppler
// has no such symbol.
static void *const *poppler_srgb_profile(void) {
    return dlsym(RTLD_DEFAULT, "_ZN8GfxState11sRGBProfileE");
}

// Threads drawing the process's first PDF pages at the same moment raced on
// that profile (CI's LeakSanitizer caught a lost one in ingest --jobs 2). The
// fix draws a blank page when the libraries start, before any worker runs. So:
// the profile is set once ds_ingest_libs_init returns (without the fix it stays
// NULL until a PDF page is drawn: tried), and eight threads released together
// then read a PDF each. A Poppler without the symbol fails the test, so an
// upgrade gets the workaround in ingest/pdf.c looked at again.
DS_TEST(ingest_pdf_first_pages_in_parallel) {
    void *const *profile = poppler_srgb_profile();
    if (!profile) {
        printf("  this Poppler exports no GfxState::sRGBProfile: check ds_pdf_first_render\n");
        return 1;
    }
    printf("  Poppler's sRGB profile before the libraries start: %p\n", *profile);
    DS_CHECK_INT_EQ(ds_ingest_libs_init(), 0);
    printf("  after: %p\n", *profile);
    DS_CHECK(*profile != NULL);
    ds_fx_pdf p;
    DS_CHECK_INT_EQ(ds_fx_pdf_begin(&p, 300, 200), 0);
    ds_fx_pdf_text(&p, 20, 40, 12, 0, "first");
    ds_fx_buf pdf;
    DS_CHECK_INT_EQ(ds_fx_pdf_end(&p, &pdf), 0);
    enum { N = 8 };
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, N);
    pthread_t t[N];
    first_page_job jobs[N];
    int started = 0, fails = 0;
    for (; started < N; started++) {
        jobs[started] = (first_page_job){&pdf, &start, 0, -1};
        if (pthread_create(&t[started], NULL, ingest_after_barrier, &jobs[started]) != 0) break;
    }
    DS_CHECK_INT_EQ(started, N);
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        fails += jobs[i].rc != 0 || jobs[i].words != 1;
    }
    printf("  %d threads read their first PDF at once: %d failed\n", N, fails);
    pthread_barrier_destroy(&start);
    ds_fx_buf_free(&pdf);
    return fails;
}

// ---- coordinates no page has

// A one-page PDF written by hand (cairo never writes such numbers): MediaBox
// [0 0 w h] and a content stream; Helvetica as /F1. Returns 0 or -1.
static int handmade_pdf(const char *w, const char *h, const char *content, ds_fx_buf *out) {
    char obj[5][512];
    snprintf(obj[0], sizeof obj[0], "<< /Type /Catalog /Pages 2 0 R >>");
    snprintf(obj[1], sizeof obj[1], "<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
    snprintf(obj[2], sizeof obj[2],
             "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %s %s] /Contents 4 0 R "
             "/Resources << /Font << /F1 5 0 R >> >> >>",
             w, h);
    snprintf(obj[3], sizeof obj[3], "<< /Length %zu >>\nstream\n%s\nendstream", strlen(content) + 1,
             content);
    snprintf(obj[4], sizeof obj[4], "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>");
    *out = (ds_fx_buf){0};
    char line[700];
    size_t at[5];
    int rc = ds_fx_buf_append(out, "%PDF-1.4\n", 9);
    for (int i = 0; !rc && i < 5; i++) {
        at[i] = out->n;
        int n = snprintf(line, sizeof line, "%d 0 obj\n%s\nendobj\n", i + 1, obj[i]);
        rc = ds_fx_buf_append(out, line, (size_t)n);
    }
    size_t xref = out->n;
    int n = snprintf(line, sizeof line, "xref\n0 6\n0000000000 65535 f \n");
    rc = rc ? rc : ds_fx_buf_append(out, line, (size_t)n);
    for (int i = 0; !rc && i < 5; i++) {
        n = snprintf(line, sizeof line, "%010zu 00000 n \n", at[i]);
        rc = ds_fx_buf_append(out, line, (size_t)n);
    }
    n = snprintf(line, sizeof line, "trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n%zu\n%%%%EOF\n",
                 xref);
    return rc ? rc : ds_fx_buf_append(out, line, (size_t)n);
}

// A hostile file's coordinates: a page 1e40 points wide is refused by name, and
// words drawn 1e40 wide or in a 1e40-point font (no float holds it) come back with
// finite boxes, clamped within a million points, beside the page's ordinary word
// (Poppler drops the ones placed at 1e40). Before, both were converted from double
// out of range (undefined behaviour; inf boxes on x86).
DS_TEST(ingest_pdf_coordinates_out_of_range) {
    static const char huge[] = "10000000000000000000000000000000000000000"; // 1e40
    ds_ingest_opts o;
    ds_ingest_opts_default(&o);
    o.ocr = DS_OCR_NEVER;
    o.enc_size = 64;
    ds_fx_buf pdf;
    DS_CHECK_INT_EQ(handmade_pdf(huge, "200", "BT /F1 12 Tf 20 100 Td (wide) Tj ET", &pdf), 0);
    int fails = ds_fx_expect_error("page 1e40 pt wide", pdf.data, pdf.n, &o, DS_E_FORMAT,
                                   "cannot be rendered");
    ds_fx_buf_free(&pdf);
    char content[600];
    snprintf(content, sizeof content,
             "BT /F1 12 Tf 20 100 Td (here) Tj ET BT /F1 12 Tf %s 50 Td (far) Tj ET "
             "BT /F1 12 Tf 1 0 0 1 30 -%s Tm (below) Tj ET "
             "BT /F1 12 Tf %s 0 0 1 20 150 Tm (wide) Tj ET BT /F1 %s Tf 20 180 Td (tall) Tj ET",
             huge, huge, huge, huge);
    DS_CHECK_INT_EQ(handmade_pdf("200", "200", content, &pdf), 0);
    ds_doc *doc = NULL;
    int rc = ingest_ok(&pdf, &o, &doc);
    ds_fx_buf_free(&pdf);
    DS_CHECK_INT_EQ(rc, 0);
    const ds_page *pg = &doc->pages[0];
    int here = 0;
    for (int i = 0; i < pg->n_words; i++) {
        ds_box b = pg->words[i].box;
        printf("  '%s' [%g, %g, %g, %g]\n", pg->words[i].text, b.x0, b.y0, b.x1, b.y1);
        here += !strcmp(pg->words[i].text, "here") && b.x0 > 15 && b.x1 < 60;
        fails += !(fabsf(b.x0) <= 1e6f && fabsf(b.x1) <= 1e6f && fabsf(b.y0) <= 1e6f &&
                   fabsf(b.y1) <= 1e6f);
    }
    fails += here != 1;
    ds_doc_free(doc);
    return fails;
}
