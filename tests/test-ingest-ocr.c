// test-ingest-ocr.c: reading order of a tilted scan. A page of two columns of
// text lines is drawn tilted by a known angle and read by OCR; at 2.5° a
// 470 pt line drifts by 20 pt, more than the 16 pt between lines, so grouping
// words by their raw vertical overlap would braid neighbouring lines. The page's
// measured tilt must be near the drawn one and every drawn line must come back
// as one line of the reading order, its words in the drawn order. Small type
// (a page read at a low resolution) is read again magnified, and must read better.
#include "tests/test.h"
#include "core/error.h"
#include "ingest/ingest-impl.h"
#include "tests/ingest-fixtures.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_ROWS 14

static const char *vocab[] = {"river",  "stone",  "garden", "window", "silver", "market",
                              "pencil", "harbor", "copper", "meadow", "candle", "forest"};

// Row r, column c: "Word Word Word" (three words), distinct across the page.
static void row_text(int r, int c, char *out, size_t n) {
    snprintf(out, n, "%s %s %s", vocab[(r + c * 5) % 12], vocab[(r * 7 + c + 3) % 12],
             vocab[(r * 5 + c * 3 + 7) % 12]);
}

static int tilted_page_sized(double deg, double size, ds_fx_buf *pdf) {
    ds_fx_pdf p;
    if (ds_fx_pdf_begin(&p, 612, 792)) return -1;
    cairo_translate(p.cr, 306, 396);
    cairo_rotate(p.cr, deg * M_PI / 180);
    cairo_translate(p.cr, -306, -396);
    char text[128];
    for (int r = 0; r < N_ROWS; r++)
        for (int c = 0; c < 2; c++) {
            row_text(r, c, text, sizeof text);
            ds_fx_pdf_text(&p, 72 + c * 270, 200 + r * 16, size, 0, text);
        }
    return ds_fx_pdf_end(&p, pdf);
}

static int tilted_page(double deg, ds_fx_buf *pdf) {
    return tilted_page_sized(deg, 12, pdf);
}

// Drawn row (r, c) found as one run of one line, words in order?
static int row_found(const ds_page *pg, int r, int c) {
    char text[128], *save = NULL, *words[3];
    row_text(r, c, text, sizeof text);
    int nw = 0;
    for (char *t = strtok_r(text, " ", &save); t && nw < 3; t = strtok_r(NULL, " ", &save))
        words[nw++] = t;
    for (int i = 0; i + 2 < pg->n_words; i++) {
        int ok = 1;
        for (int k = 0; k < 3 && ok; k++)
            ok = strcmp(pg->words[i + k].text, words[k]) == 0 &&
                 pg->words[i + k].line == pg->words[i].line;
        if (ok) return 1;
    }
    return 0;
}

DS_TEST(ingest_ocr_tilted_reading_order) {
    ds_fx_init();
    static const double angles[] = {2.5, -2.0, 0.0};
    int bad = 0;
    for (int a = 0; a < 3; a++) {
        ds_fx_buf pdf = {0};
        DS_CHECK_INT_EQ(tilted_page(angles[a], &pdf), 0);
        ds_ingest_opts o;
        ds_ingest_opts_default(&o);
        o.ocr = DS_OCR_ALWAYS;
        o.no_pixels = 1;
        o.no_marks = 1;
        ds_doc *doc = NULL;
        int rc = ds_ingest_memory(pdf.data, pdf.n, &o, &doc);
        ds_fx_buf_free(&pdf);
        DS_CHECK_INT_EQ(rc, 0);
        const ds_page *pg = &doc->pages[0];
        double measured = atan(pg->skew) * 180 / M_PI;
        int found = 0;
        for (int r = 0; r < N_ROWS; r++)
            for (int c = 0; c < 2; c++) found += row_found(pg, r, c);
        printf("  drawn at %+.1f deg: measured %+.2f deg, %d of %d rows read as one line in "
               "order (%d lines)\n",
               angles[a], measured, found, 2 * N_ROWS, pg->n_lines);
        // the two columns share a line: 14 rows, give or take OCR splitting one
        bad += fabs(measured - angles[a]) > 0.4 || found < 2 * N_ROWS - 2;
        ds_doc_free(doc);
    }
    ds_ingest_thread_cleanup();
    return bad != 0;
}

// 10 pt type rendered at 72 dpi (a form scanned coarsely): words about 10 pixels high,
// under Tesseract's comfort. Read magnified (the default) it must find nearly every
// row, and more than read as it is (measured: 28 and 16 of 28).
DS_TEST(ingest_ocr_magnifies_small_type) {
    ds_fx_init();
    ds_fx_buf pdf = {0};
    DS_CHECK_INT_EQ(tilted_page_sized(0.0, 10, &pdf), 0);
    int found[2] = {0, 0};
    for (int plain = 0; plain < 2; plain++) {
        ds_ingest_opts o;
        ds_ingest_opts_default(&o);
        o.ocr = DS_OCR_ALWAYS;
        o.no_pixels = 1;
        o.no_marks = 1;
        o.dpi = 72;
        o.no_ocr_magnify = plain;
        ds_doc *doc = NULL;
        DS_CHECK_INT_EQ(ds_ingest_memory(pdf.data, pdf.n, &o, &doc), 0);
        for (int r = 0; r < N_ROWS; r++)
            for (int c = 0; c < 2; c++) found[plain] += row_found(&doc->pages[0], r, c);
        printf("  %s: %d of %d rows read whole, %d words, OCR %.0f ms\n",
               plain ? "as rendered" : "magnified", found[plain], 2 * N_ROWS, doc->pages[0].n_words,
               doc->pages[0].ms_ocr);
        ds_doc_free(doc);
    }
    ds_fx_buf_free(&pdf);
    ds_ingest_thread_cleanup();
    return found[0] < 2 * N_ROWS - 4 || found[0] <= found[1];
}

// Every OCR layout (--ocr-layout) reaches Tesseract as its page segmentation mode,
// and each reads the two-column page whole: every drawn row one line, in order.
DS_TEST(ingest_ocr_layouts) {
    ds_fx_init();
    ds_fx_buf pdf = {0};
    DS_CHECK_INT_EQ(tilted_page(0.0, &pdf), 0);
    static const int psm[] = {6, 3, 4, 11}; // Tesseract's PSM_SINGLE_BLOCK, AUTO, ...
    static const char *names[] = {"block", "auto", "column", "sparse"};
    int bad = 0;
    for (int l = 0; l < 4; l++) {
        ds_ocr_layout layout = DS_OCR_LAYOUT_BLOCK;
        DS_CHECK_INT_EQ(ds_ocr_layout_parse(names[l], &layout), 0);
        DS_CHECK_INT_EQ((int)layout, l);
        DS_CHECK(strcmp(ds_ocr_layout_name(layout), names[l]) == 0);
        ds_ingest_opts o;
        ds_ingest_opts_default(&o);
        o.ocr = DS_OCR_ALWAYS;
        o.no_pixels = 1;
        o.no_marks = 1;
        o.ocr_layout = layout;
        ds_doc *doc = NULL;
        DS_CHECK_INT_EQ(ds_ingest_memory(pdf.data, pdf.n, &o, &doc), 0);
        int found = 0;
        for (int r = 0; r < N_ROWS; r++)
            for (int c = 0; c < 2; c++) found += row_found(&doc->pages[0], r, c);
        printf("  %-6s (PSM %d): %d of %d rows read whole, %d words\n", names[l],
               ds_ocr_thread_psm(), found, 2 * N_ROWS, doc->pages[0].n_words);
        bad += ds_ocr_thread_psm() != psm[l] || found < 2 * N_ROWS - 2;
        ds_doc_free(doc);
    }
    ds_ocr_layout none;
    DS_CHECK(ds_ocr_layout_parse("diagonal", &none) != 0);
    DS_CHECK(ds_ocr_layout_parse(NULL, &none) != 0);
    ds_fx_buf_free(&pdf);
    ds_ingest_thread_cleanup();
    return bad != 0;
}

// OCR languages are Tesseract's names joined by '+', never a path: what --ocr-lang and
// DS_OCR_LANG take, and what reaches Tesseract.
DS_TEST(ingest_ocr_lang_names) {
    static const char *good[] = {"eng", "deu", "eng+msa", "Latin", "chi_sim", "eng+deu+fra"};
    static const char *bad[] = {"",     "+eng", "eng+", "eng++msa", "../eng", "script/Latin",
                                "e ng", "eng;", "é"};
    int wrong = 0;
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        wrong += ds_ocr_lang_check(good[i]) != 0;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int rc = ds_ocr_lang_check(bad[i]);
        wrong += rc != DS_E_INVAL || !strstr(ds_errmsg(), "is no OCR language");
    }
    char longest[DS_OCR_LANG_MAX + 2];
    memset(longest, 'a', sizeof longest - 1);
    longest[DS_OCR_LANG_MAX] = 0; // the most it takes
    wrong += ds_ocr_lang_check(longest) != 0;
    longest[DS_OCR_LANG_MAX] = 'a', longest[DS_OCR_LANG_MAX + 1] = 0; // one byte more
    wrong += ds_ocr_lang_check(longest) != DS_E_INVAL;
    wrong += ds_ocr_lang_check(NULL) != DS_E_INVAL;
    // a refused name never reaches Tesseract: the document fails with the same message
    ds_ingest_opts o;
    ds_ingest_opts_default(&o);
    o.ocr = DS_OCR_ALWAYS;
    o.no_pixels = 1;
    o.ocr_lang = "../eng";
    ds_fx_buf pdf = {0};
    DS_CHECK_INT_EQ(tilted_page(0.0, &pdf), 0);
    ds_doc *doc = NULL;
    int rc = ds_ingest_memory(pdf.data, pdf.n, &o, &doc);
    printf("  ocr_lang \"../eng\": %s: %s\n", ds_err_name(rc), ds_errmsg());
    wrong += rc != DS_E_INVAL || doc != NULL;
    ds_doc_free(doc);
    ds_fx_buf_free(&pdf);
    ds_ingest_thread_cleanup();
    return wrong != 0;
}

// A scan's speckled blank page is noise, not text: the sample set's
// contract-200-00002.tif has one as its second page, which OCR reads as 527
// "words" (mean confidence 0.22) that made the model call the contract an
// invoice. Only the words OCR is sure of may stay there, while the text page
// before it keeps every word (326 read, mean confidence 0.95).
DS_TEST(ingest_ocr_drops_noise_pages) {
    ds_fx_init();
    size_t n = 0;
    uint8_t *tif =
        ds_fx_read_file(DS_SOURCE_DIR "/samples/sets/contract/contract-200-00002.tif", &n);
    DS_CHECK(tif != NULL);
    ds_ingest_opts o;
    ds_ingest_opts_default(&o);
    o.no_pixels = 1;
    o.no_marks = 1;
    ds_doc *doc = NULL;
    DS_CHECK_INT_EQ(ds_ingest_memory(tif, n, &o, &doc), 0);
    DS_CHECK_INT_EQ(doc->n_pages, 2);
    const ds_page *text = &doc->pages[0], *noise = &doc->pages[1];
    int sure = 1;
    for (int i = 0; i < noise->n_words; i++) sure &= noise->words[i].conf >= 0.6f;
    printf("  text page: %d words; noise page: %d words, all read with confidence >= 0.6: %s\n",
           text->n_words, noise->n_words, sure ? "yes" : "no");
    DS_CHECK(text->n_words >= 300);
    DS_CHECK(noise->n_words < 40);
    DS_CHECK(sure);
    ds_doc_free(doc);
    free(tif);
    ds_ingest_thread_cleanup();
    return 0;
}

// A document's storage and an ingest context over it, for OCR post-processing run on
// words made by hand (initialised in place: c points into the struct).
typedef struct {
    struct ds_doc_impl impl;
    ds_doc doc;
    ds_ingest_opts o;
    ds_ingest_ctx c;
} hand_words;

static void hand_words_init(hand_words *h) {
    ds_arena_init(&h->impl.arena, 4096, 0);
    h->doc = (ds_doc){.impl = &h->impl};
    ds_ingest_opts_default(&h->o);
    h->c = (ds_ingest_ctx){.opts = &h->o, .doc = &h->doc};
}

// An amount OCR split at its decimal point, as Tesseract reads monospaced till type
// (SROIE's receipts 016-018: "TORe RM 73. 00"), is one word again; a pair too far
// apart, on two lines, or not an amount's two halves stays two words.
DS_TEST(ingest_ocr_joins_split_amounts) {
    hand_words h;
    hand_words_init(&h);
    // text, x0, y0 of words 10 pt high, 6 pt a character; the gaps decide
    static const struct {
        const char *text;
        float x0, y0;
    } in[] = {
        {"RM", 0, 0},       {"73.", 20, 0},   {"00", 42, 0}, // 4 pt apart: joined
        {"2,", 0, 20},      {"83", 16, 20},                  // a comma's point: joined
        {"68", 0, 40},      {".87", 16, 40},                 // the point begins the second
        {"12.", 0, 60},     {"50", 30, 60},                  // 12 pt apart: two words
        {"3.", 0, 80},      {"45", 14, 92},                  // the next line
        {"12.", 0, 110},    {"345", 20, 110},                // three decimals: not cents
        {"Total:", 0, 130}, {"00", 40, 130},                 // no amount before
    };
    int n = (int)(sizeof in / sizeof *in);
    ds_word_list list = {0};
    for (int i = 0; i < n; i++) {
        size_t len = strlen(in[i].text);
        ds_box b = {in[i].x0, in[i].y0, in[i].x0 + 6.0f * (float)len, in[i].y0 + 10};
        DS_CHECK_INT_EQ(ds_word_list_add(&h.c, &list, in[i].text, len, b, "", 10, 0.9f - 0.01f * i,
                                         0, DS_WORD_OCR),
                        0);
    }
    int joined = ds_ocr_join_amounts(&h.c, &list);
    static const char *want[] = {"RM", "73.00", "2,83", "68.87", "12.",    "50",
                                 "3.", "45",    "12.",  "345",   "Total:", "00"};
    int nw = (int)(sizeof want / sizeof *want), same = list.n == nw;
    for (int i = 0; i < list.n; i++) printf("%s%s", i ? " | " : "  ", list.items[i].text);
    printf("\n  %d pairs joined\n", joined);
    for (int i = 0; same && i < nw; i++) same = strcmp(list.items[i].text, want[i]) == 0;
    DS_CHECK_INT_EQ(joined, 3);
    DS_CHECK(same);
    // the joined word spans both halves and is as sure as the less sure of them
    const ds_word *w = &list.items[1];
    DS_CHECK(w->box.x0 == 20 && w->box.x1 == 54 && fabsf(w->conf - 0.88f) < 1e-6f);
    ds_word_list_free(&list);
    ds_arena_free(&h.impl.arena);
    return 0;
}

// Words of texts as OCR reads a line, left to right ("\n" starts the next line),
// through ds_ocr_decimal_points; the texts it leaves in got (joined by " | ").
// Returns the words changed.
static int decimal_points(const char *const *texts, int n, char *got, size_t cap) {
    hand_words h;
    hand_words_init(&h);
    ds_word_list list = {0};
    int changed = 0;
    float x = 0, y = 0;
    for (int i = 0; i < n && changed == 0; i++) {
        size_t len = strlen(texts[i]);
        if (!strcmp(texts[i], "\n")) {
            x = 0, y += 20;
            continue;
        }
        ds_box b = {x, y, x + 6.0f * (float)len, y + 10};
        x = b.x1 + 6;
        if (ds_word_list_add(&h.c, &list, texts[i], len, b, "", 10, 0.9f, 0, DS_WORD_OCR))
            changed = -1;
    }
    if (changed == 0) changed = ds_ocr_decimal_points(&h.c, &list);
    got[0] = 0;
    for (int i = 0; i < list.n; i++)
        snprintf(got + strlen(got), cap - strlen(got), "%s%s", i ? " | " : "", list.items[i].text);
    ds_word_list_free(&list);
    ds_arena_free(&h.impl.arena);
    return changed;
}

// A till print's point read as a comma ("TOTAL RM 33,90" among "9.00", "24.00") becomes
// the point again; house numbers before "&" on their line, one or three decimals, a page
// of decimal commas and a page with too few amounts to tell stay as read. An amount at
// a line's end takes the point though the next line begins with "&".
DS_TEST(ingest_ocr_decimal_points) {
    static const char *till[] = {"9.00",  "24.00", "RM",      "1.50",  "4.13", "68.87", "TOTAL",
                                 "RM",    "33,90", "RM60,30", "55,57", "&",    "59,",   "3,5",
                                 "1,234", "0,00",  "7.20",    "12,40", "\n",   "&",     "Co"};
    static const char *europe[] = {"9,00", "24,00", "1,50", "Summe", "33.90", "2,00"};
    static const char *few[] = {"9.00", "24.00", "33,90"};
    char got[512];
    int bad = 0, n = decimal_points(till, 21, got, sizeof got);
    printf("  till: %d changed: %s\n", n, got);
    bad += n != 4 ||
           strcmp(got,
                  "9.00 | 24.00 | RM | 1.50 | 4.13 | 68.87 | TOTAL | RM | 33.90 | RM60.30 | 55,57 "
                  "| & | 59, | 3,5 | 1,234 | 0.00 | 7.20 | 12.40 | & | Co") != 0;
    n = decimal_points(europe, 6, got, sizeof got);
    printf("  decimal commas: %d changed: %s\n", n, got);
    bad += n != 0 || strcmp(got, "9,00 | 24,00 | 1,50 | Summe | 33.90 | 2,00") != 0;
    n = decimal_points(few, 3, got, sizeof got);
    printf("  two points: %d changed\n", n);
    bad += n != 0;
    return bad;
}
