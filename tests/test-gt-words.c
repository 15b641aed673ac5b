// test-gt-words.c: a set's own words stand in for OCR (samples/gt-words.h,
// ingest/given-words.c). Small SROIE and FUNSD fixtures with boxes worked out by
// hand: each word's share of its line, a tilted line's box, the page's skew, the
// pixels-to-points conversion and the reading order. On ../shared/data (skipped
// when absent) the words read must be every whitespace-separated token of the
// transcripts, counted here independently. Bad input gets a clear error.
#include "tests/test.h"
#include "core/error.h"
#include "ingest/ingest.h"
#include "samples/gt-words.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DS_DATA DS_SOURCE_DIR "/../shared/data"

static int write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f) return 1;
    fputs(text, f);
    return fclose(f) != 0;
}

// DIR/SUB/NAME.png: a white page of w x h pixels.
static int white_png(const char *path, int w, int h) {
    uint8_t *rgb = malloc((size_t)w * h * 3);
    if (!rgb) return 1;
    memset(rgb, 255, (size_t)w * h * 3);
    ds_page pg = {.img_w = w, .img_h = h, .rgb = rgb, .px_per_pt = 1};
    int rc = ds_page_save_png(&pg, path, 0);
    free(rgb);
    return rc;
}

static int near(float a, float b) {
    return fabsf(a - b) < 0.02f;
}

// The given word k as expected: text and pixel box.
static int word_is(const ds_given_words *g, int k, const char *text, float x0, float y0, float x1,
                   float y1) {
    const ds_given_word *w = &g->words[k];
    int ok = !strcmp(w->text, text) && near(w->x0, x0) && near(w->y0, y0) && near(w->x1, x1) &&
             near(w->y1, y1);
    if (!ok)
        fprintf(stderr,
                "  word %d: got '%s' [%.2f %.2f %.2f %.2f], want '%s' [%.2f %.2f %.2f %.2f]\n", k,
                w->text, w->x0, w->y0, w->x1, w->y1, text, x0, y0, x1, y1);
    return ok;
}

// A set's folder with one document: TMP/gt-words-NAME/IMG/DOC.png, a white page of w x h
// pixels, and its words TMP/gt-words-NAME/WORDS/DOC.EXT holding text. The image's path
// into img. 0 or 1.
static int fixture(const char *name, const char *img_dir, const char *words_dir, const char *doc,
                   const char *ext, const char *text, int w, int h, char *img, size_t cap) {
    char base[600], p[800];
    snprintf(base, sizeof base, "%s/gt-words-%s", ds_test_tmpdir(), name);
    mkdir(base, 0755);
    snprintf(p, sizeof p, "%s/%s", base, img_dir);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/%s", base, words_dir);
    mkdir(p, 0755);
    snprintf(img, cap, "%s/%s/%s.png", base, img_dir, doc);
    snprintf(p, sizeof p, "%s/%s/%s%s", base, words_dir, doc, ext);
    return white_png(img, w, h) || (text && write_file(p, text));
}

DS_TEST(gt_words_sroie_lines) {
    char img[800];
    // a level line of 11 characters, then a tilted one whose text holds a comma; the
    // second row's words come first in the file but lower on the page
    DS_CHECK_INT_EQ(fixture("sroie", "img", "box", "001", ".csv",
                            "\xEF\xBB\xBF"
                            "10,50,110,60,110,80,10,70,A, B\r\n"
                            "10,10,110,10,110,30,10,30,TOTAL 12.50\r\n",
                            200, 100, img, sizeof img),
                    0);
    ds_given_words g = {0};
    int rc = ds_gt_words_read(DS_EVAL_SROIE, img, &g);
    if (rc) fprintf(stderr, "  %s\n", ds_errmsg());
    DS_CHECK_INT_EQ(rc, 0);
    DS_CHECK_INT_EQ(g.n, 4);
    // "A," is characters 0-2 of 4: half the tilted line, top edge (10,50)-(60,55),
    // bottom (10,70)-(60,75); "B" is 3-4: the last quarter
    int fails = !word_is(&g, 0, "A,", 10, 50, 60, 75) + !word_is(&g, 1, "B", 85, 57.5f, 110, 80);
    // "TOTAL" is characters 0-5 of 11, "12.50" 6-11
    fails += !word_is(&g, 2, "TOTAL", 10, 10, 10 + 100 * 5 / 11.0f, 30);
    fails += !word_is(&g, 3, "12.50", 10 + 100 * 6 / 11.0f, 10, 110, 30);
    printf("  4 words from 2 rows, skew %.3f (slopes 0 and 0.1: the upper median)\n", g.skew);
    fails += !near(g.skew, 0.1f);
    ds_given_words_free(&g);

    // Ingested: the page's words, in points, in reading order, marked as read from a scan.
    ds_ingest_opts o;
    ds_ingest_opts_default(&o);
    o.no_pixels = 1;
    ds_doc *doc = NULL;
    rc = ds_gt_ingest(DS_EVAL_SROIE, 1, img, &o, &doc);
    if (rc) fprintf(stderr, "  %s\n", ds_errmsg());
    DS_CHECK_INT_EQ(rc, 0);
    const ds_page *pg = &doc->pages[0];
    DS_CHECK_INT_EQ(pg->n_words, 4);
    const char *order[4] = {"TOTAL", "12.50", "A,", "B"};
    for (int k = 0; k < 4; k++) {
        const ds_word *w = &pg->words[k];
        fails += strcmp(w->text, order[k]) != 0 || w->source != DS_WORD_OCR || w->conf != 1.0f;
        fails += w->line != k / 2;
    }
    float s = 1 / pg->px_per_pt;
    fails += !near(pg->words[3].box.x0, 85 * s) || !near(pg->words[3].box.y1, 80 * s);
    fails += !pg->ocr_used || !near(pg->skew, 0.1f);
    printf("  ingested: %d words on %d lines, %.3f px/pt, first '%s'\n", pg->n_words, pg->n_lines,
           pg->px_per_pt, pg->words[0].text);
    ds_doc_free(doc);
    return fails;
}

DS_TEST(gt_words_funsd_entities) {
    char img[800];
    DS_CHECK_INT_EQ(fixture("funsd", "images", "annotations", "002", ".json",
                            "{\"form\": ["
                            "{\"id\": 0, \"words\": [{\"text\": \"Two words\", \"box\": "
                            "[0, 40, 90, 50]}]},"
                            "{\"id\": 1, \"words\": [{\"text\": \"Date:\", \"box\": [5, 5, "
                            "40, 20]}, {\"text\": \"4/16/90\", \"box\": [45, 5, 90, 20]},"
                            "{\"text\": \"\", \"box\": [0, 0, 1, 1]}]}]}",
                            100, 60, img, sizeof img),
                    0);
    ds_given_words g = {0};
    int rc = ds_gt_words_read(DS_EVAL_FUNSD, img, &g);
    if (rc) fprintf(stderr, "  %s\n", ds_errmsg());
    DS_CHECK_INT_EQ(rc, 0);
    DS_CHECK_INT_EQ(g.n, 4); // the empty word is none
    // "Two words" (9 characters) is split: "Two" 0-3, "words" 4-9
    int fails = !word_is(&g, 0, "Two", 0, 40, 30, 50) + !word_is(&g, 1, "words", 40, 40, 90, 50);
    fails += !word_is(&g, 2, "Date:", 5, 5, 40, 20) + !word_is(&g, 3, "4/16/90", 45, 5, 90, 20);
    fails += g.skew != 0;
    ds_given_words_free(&g);
    ds_ingest_opts o;
    ds_ingest_opts_default(&o);
    o.no_pixels = 1;
    ds_doc *doc = NULL;
    DS_CHECK_INT_EQ(ds_gt_ingest(DS_EVAL_FUNSD, 1, img, &o, &doc), 0);
    const ds_page *pg = &doc->pages[0];
    DS_CHECK_INT_EQ(pg->n_words, 4);
    fails += strcmp(pg->words[0].text, "Date:") || strcmp(pg->words[3].text, "words");
    printf("  4 words, first '%s' last '%s'\n", pg->words[0].text, pg->words[3].text);
    ds_doc_free(doc);
    return fails;
}

// Every whitespace-separated token of a SROIE transcript row (after 8 commas).
static int count_tokens(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[8192];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        char *p = line;
        for (int c = 0; c < 8 && p; c++) {
            p = strchr(p, ',');
            if (p) p++;
        }
        for (char *t = p ? strtok(p, " \t\r\n") : NULL; t; t = strtok(NULL, " \t\r\n")) n++;
    }
    fclose(f);
    return n;
}

DS_TEST(gt_words_sroie_real) {
    struct stat st;
    if (stat(DS_DATA "/sroie-dev/box", &st) != 0) {
        printf("  SKIP: %s not found (the real data sets live beside the project)\n",
               DS_DATA "/sroie-dev/box");
        return 0;
    }
    DIR *d = opendir(DS_DATA "/sroie-dev/img");
    DS_CHECK(d != NULL);
    struct dirent *e;
    int fails = 0, docs = 0;
    long words = 0;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcmp(e->d_name + l - 4, ".jpg")) continue;
        char img[700], csv[700];
        snprintf(img, sizeof img, "%s/sroie-dev/img/%s", DS_DATA, e->d_name);
        snprintf(csv, sizeof csv, "%s/sroie-dev/box/%.*s.csv", DS_DATA, (int)(l - 4), e->d_name);
        ds_given_words g = {0};
        int rc = ds_gt_words_read(DS_EVAL_SROIE, img, &g);
        int want = count_tokens(csv);
        if (rc || g.n != want || !(fabsf(g.skew) < 0.2f)) {
            fprintf(stderr, "  %s: rc %d (%s), %d words, %d tokens, skew %.3f\n", e->d_name, rc,
                    rc ? ds_errmsg() : "", g.n, want, g.skew);
            fails++;
        }
        for (int k = 0; k < g.n; k++)
            fails += !(g.words[k].x1 > g.words[k].x0 && g.words[k].y1 > g.words[k].y0);
        words += g.n;
        docs++;
        ds_given_words_free(&g);
    }
    closedir(d);
    printf("  %d receipts, %ld words, each its transcript's tokens\n", docs, words);
    return fails + (docs == 0);
}

DS_TEST(gt_words_bad_input) {
    char base[600], p[700], img[800];
    DS_CHECK_INT_EQ(fixture("bad", "img", "box", "009", ".csv", NULL, 20, 20, img, sizeof img), 0);
    snprintf(base, sizeof base, "%s/gt-words-bad", ds_test_tmpdir());
    ds_given_words g = {0};
    int fails = 0;
    // no transcript beside the image
    int rc = ds_gt_words_read(DS_EVAL_SROIE, img, &g);
    printf("  missing: %s\n", ds_errmsg());
    fails += rc != DS_E_NOENT || !strstr(ds_errmsg(), "box/009.csv");
    // a row without its 8 coordinates
    snprintf(p, sizeof p, "%s/box/009.csv", base);
    DS_CHECK_INT_EQ(write_file(p, "1,1,5,1,5,4,1,4,OK\n1,2,3,TEXT\n"), 0);
    rc = ds_gt_words_read(DS_EVAL_SROIE, img, &g);
    printf("  short row: %s\n", ds_errmsg());
    fails += rc != DS_E_FORMAT || !strstr(ds_errmsg(), "009.csv:2:") || g.n != 0;
    // a FUNSD word whose box is not 4 numbers
    snprintf(p, sizeof p, "%s/annotations", base);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/annotations/009.json", base);
    DS_CHECK_INT_EQ(
        write_file(p, "{\"form\": [{\"words\": [{\"text\": \"x\", \"box\": [1, 2, 3]}]}]}"), 0);
    rc = ds_gt_words_read(DS_EVAL_FUNSD, img, &g);
    printf("  funsd box: %s\n", ds_errmsg());
    fails += rc != DS_E_FORMAT || !strstr(ds_errmsg(), "entity 0, word 0");
    // nor one beyond any page (1e300 is no float)
    DS_CHECK_INT_EQ(write_file(p, "{\"form\": [{\"words\": [{\"text\": \"x\", \"box\": [1, 2, 3, "
                                  "4]}, {\"text\": \"y\", \"box\": [1, 2, 1e300, 4]}]}]}"),
                    0);
    rc = ds_gt_words_read(DS_EVAL_FUNSD, img, &g);
    printf("  funsd huge box: %s\n", ds_errmsg());
    fails += rc != DS_E_FORMAT || !strstr(ds_errmsg(), "entity 0, word 1");
    // formats without words of their own
    rc = ds_gt_words_read(DS_EVAL_KLEISTER, img, &g);
    printf("  kleister: %s\n", ds_errmsg());
    fails += rc != DS_E_UNSUPPORTED || !strstr(ds_errmsg(), "kleister");
    fails += ds_gt_words_check(DS_EVAL_DOCSEEK) != DS_E_UNSUPPORTED;
    fails += ds_gt_words_check(DS_EVAL_SROIE) != 0 || ds_gt_words_check(DS_EVAL_FUNSD) != 0;
    // words given for a PDF: refused, not silently ignored
    ds_given_words one = {0};
    DS_CHECK_INT_EQ(ds_given_words_add(&one, 0, "x", 1, 1, 1, 2, 2), 0);
    ds_ingest_opts o;
    ds_ingest_opts_default(&o);
    o.no_pixels = 1;
    o.given = &one;
    ds_doc *doc = NULL;
    rc = ds_ingest_file(DS_SOURCE_DIR "/samples/sets/invoice/invoice-100-00000.pdf", &o, &doc);
    printf("  pdf: %s\n", ds_errmsg());
    fails += rc != DS_E_UNSUPPORTED || doc != NULL || !strstr(ds_errmsg(), "text layer");
    ds_given_words_free(&one);
    return fails;
}
