// test-synth.c: the generator's ground truth against what it wrote: every
// field value outside the declared visual-only ones is in the PDF text layer
// at its recorded box; check boxes are visibly ticked (or not) in the pixels;
// the same seed gives the same bytes; scans keep their boxes on the words.
#include "tests/test.h"
#include "core/error.h"
#include "ingest/ingest.h"
#include "samples/synth.h"

#include <jansson.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

// the four document types (samples/sets has them), then forms with FUNSD-style truth
static const char *types[] = {"invoice", "receipt", "form", "contract", "form_entities"};

static void collapse(char *s) {
    char *o = s;
    int space = 1;
    for (char *p = s; *p; p++) {
        if (*p == ' ' || *p == '\t' || *p == '\n') {
            if (!space) *o++ = ' ';
            space = 1;
        } else {
            *o++ = *p;
            space = 0;
        }
    }
    if (o > s && o[-1] == ' ') o--;
    *o = 0;
}

// The words of a page whose centres lie in box (grown by pad points), in reading order.
static void words_in(const ds_page *p, json_t *box, double pad, char *out, size_t n) {
    double b[4];
    for (int k = 0; k < 4; k++) b[k] = json_number_value(json_array_get(box, (size_t)k));
    out[0] = 0;
    for (int i = 0; i < p->n_words; i++) {
        const ds_word *w = &p->words[i];
        double cx = (w->box.x0 + w->box.x1) / 2, cy = (w->box.y0 + w->box.y1) / 2;
        if (cx >= b[0] - pad && cx <= b[2] + pad && cy >= b[1] - pad && cy <= b[3] + pad) {
            size_t len = strlen(out);
            snprintf(out + len, n - len, "%s%s", len ? " " : "", w->text);
        }
    }
}

// The box of field name's first value in a truth ([x0, y0, x1, y1]), or NULL.
static json_t *first_box(json_t *truth, const char *name) {
    return json_object_get(
        json_array_get(json_object_get(json_object_get(truth, "boxes"), name), 0), "box");
}

static int is_visual(json_t *truth, const char *name) {
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(truth, "visual_only"), i,
                       v) if (strcmp(json_string_value(v), name) == 0) return 1;
    return 0;
}

static int generate(const char *type, int family, int scan, const char *dir) {
    ds_synth_opts o = {.type = type,
                       .count = 1,
                       .seed = 7,
                       .out_dir = dir,
                       .scan = scan,
                       .family_lo = family,
                       .family_hi = family};
    int rc = ds_synth_generate(&o);
    if (rc) fprintf(stderr, "  synth %s/%d: %s\n", type, family, ds_errmsg());
    return rc;
}

// Fraction of dark pixels inside the middle of a box (page points).
static double ink(const ds_page *p, json_t *box) {
    double s = p->px_per_pt, b[4];
    for (int k = 0; k < 4; k++) b[k] = json_number_value(json_array_get(box, (size_t)k));
    double mx = (b[2] - b[0]) * 0.2, my = (b[3] - b[1]) * 0.2;
    int x0 = (int)((b[0] + mx) * s), x1 = (int)((b[2] - mx) * s);
    int y0 = (int)((b[1] + my) * s), y1 = (int)((b[3] - my) * s);
    int dark = 0, all = 0;
    for (int y = y0; y < y1 && y < p->img_h; y++)
        for (int x = x0; x < x1 && x < p->img_w; x++, all++)
            dark += p->rgb[((size_t)y * p->img_w + x) * 3] < 128;
    return all ? (double)dark / all : 0;
}

// Checks one born-digital document against its truth: text values at their boxes in
// the text layer, check boxes and the chosen plan in the pixels. Returns mismatches.
static int check_truth(const char *pdf, const char *json, int *checked, int *ticks) {
    ds_ingest_opts o;
    ds_ingest_opts_default(&o);
    o.ocr = DS_OCR_NEVER;
    o.no_pixels = 1;
    o.dpi = 100;
    json_t *truth = json_load_file(json, 0, NULL);
    ds_doc *doc;
    if (!truth || ds_ingest_file(pdf, &o, &doc) != 0) {
        fprintf(stderr, "  %s: cannot read (%s)\n", pdf, ds_errmsg());
        json_decref(truth);
        return 1;
    }
    int bad = 0;
    char got[4096], want[1024];
    const char *name;
    json_t *value;
    json_object_foreach(json_object_get(truth, "fields"), name, value) {
        json_t *boxes = json_object_get(json_object_get(truth, "boxes"), name);
        for (size_t i = 0; i < json_array_size(boxes); i++) {
            json_t *entry = json_array_get(boxes, i);
            json_int_t page = json_integer_value(json_object_get(entry, "page"));
            if (page < 1 || page > doc->n_pages) {
                bad++;
                continue;
            }
            const ds_page *pg = &doc->pages[page - 1];
            if (json_is_boolean(value) || is_visual(truth, name)) {
                // Pixels only: a ticked box has ink inside it, an empty one does not. (A
                // logo's name is outlines: nothing to compare in the text layer.)
                if (!json_is_boolean(value) && strcmp(name, "plan") != 0) continue;
                int tick = json_is_boolean(value) ? json_is_true(value) : 1;
                double f = ink(pg, json_object_get(entry, "box"));
                if ((f > 0.05) != tick) {
                    fprintf(stderr, "  %s: %s ink %.3f, want %s\n", pdf, name, f,
                            tick ? "ticked" : "empty");
                    bad++;
                }
                (*ticks)++;
                continue;
            }
            snprintf(want, sizeof want, "%s",
                     json_is_array(value) ? json_string_value(json_array_get(value, i))
                                          : json_string_value(value));
            collapse(want);
            words_in(pg, json_object_get(entry, "box"), 1.0, got, sizeof got);
            // a name printed with its comma on its last word ("Kite Pharma, Inc.,", the
            // EDGAR contracts): the value is the name
            size_t gl = strlen(got);
            if (gl && got[gl - 1] == ',' && gl == strlen(want) + 1 && !strncmp(got, want, gl - 1))
                got[gl - 1] = 0;
            if (strcmp(got, want) != 0) {
                fprintf(stderr, "  %s: %s: text layer has \"%s\", truth \"%s\"\n", pdf, name, got,
                        want);
                bad++;
            }
            (*checked)++;
        }
    }
    ds_doc_free(doc);
    json_decref(truth);
    return bad;
}

DS_TEST(synth_truth_in_text_layer) {
    char dir[1024], pdf[1200], json[1200];
    snprintf(dir, sizeof dir, "%s/synth-truth", ds_test_tmpdir());
    int checked = 0, bad = 0, ticks = 0, docs = 0;
    int lists = 0;
    for (int t = 0; t < 5; t++)
        for (int fam = 0; fam < ds_synth_families(types[t]); fam++, docs++) {
            DS_CHECK_INT_EQ(generate(types[t], fam, 0, dir), 0);
            snprintf(json, sizeof json, "%s/%s-7-00000.json", dir, types[t]);
            snprintf(pdf, sizeof pdf, "%s/%s-7-00000.pdf", dir, types[t]);
            int before = checked;
            bad += check_truth(pdf, json, &checked, &ticks);
            if (t == 4) { // every entity at its box, and a form has all three kinds
                json_t *tr = json_load_file(json, 0, NULL);
                json_t *f = json_object_get(tr, "fields");
                int n = 0, kinds = 0;
                const char *k;
                json_t *v;
                json_object_foreach(f, k, v) {
                    n += (int)json_array_size(v);
                    kinds += json_array_size(v) > 0;
                }
                bad += kinds != 3 || checked - before != n;
                lists += n;
                json_decref(tr);
            }
        }
    printf("  %d documents (every family of the 5 types): %d values compared at their boxes "
           "(%d entities of forms), %d check boxes read from pixels, %d mismatches\n",
           docs, checked, lists, ticks, bad);
    return bad != 0 || checked < 48 * 4 || ticks < 12 * 3 || lists < 12 * 8;
}

// "1,043.95" -> 104395 cents; -1 when the word is no amount with two decimals.
static long cents_of(const char *w) {
    long v = 0;
    int digits = 0, dot = -1, neg = *w == '-';
    for (const char *p = w + neg; *p; p++) {
        if (*p >= '0' && *p <= '9')
            v = v * 10 + (*p - '0'), digits++;
        else if (*p == '.' && dot < 0)
            dot = digits;
        else if (*p != ',' || dot >= 0)
            return -1;
    }
    return dot >= 1 && digits - dot == 2 ? (neg ? -v : v) : -1;
}

// A born-digital document's text layer, without OCR or pixels; NULL (said) on failure.
static ds_doc *text_layer(const char *pdf) {
    ds_ingest_opts o;
    ds_ingest_opts_default(&o);
    o.ocr = DS_OCR_NEVER;
    o.no_pixels = 1;
    ds_doc *doc = NULL;
    if (ds_ingest_file(pdf, &o, &doc) == 0) return doc;
    fprintf(stderr, "  %s: %s\n", pdf, ds_errmsg());
    return NULL;
}

// Contract families 36-59 print as EDGAR prints a filing's HTML, the look of
// Kleister-NDA's PDFs: A4, body type of 10 pt or less from near one edge to near the
// other, every page but the last ending part way down, curly quotes; the earlier
// filed families (12-35) stay on US Letter.
DS_TEST(synth_edgar_contracts) {
    char dir[1024], pdf[1200];
    snprintf(dir, sizeof dir, "%s/synth-edgar", ds_test_tmpdir());
    int bad = 0, docs = 0, pages = 0;
    for (int fam = 12; fam < 60; fam++) {
        int edgar = fam >= 36;
        DS_CHECK_INT_EQ(generate("contract", fam, 0, dir), 0);
        snprintf(pdf, sizeof pdf, "%s/contract-7-00000.pdf", dir);
        ds_doc *doc = text_layer(pdf);
        DS_CHECK_INT_EQ(doc != NULL, 1);
        int a4 = fabsf(doc->pages[0].width_pt - 595.28f) < 1 &&
                 fabsf(doc->pages[0].height_pt - 841.89f) < 1;
        int ok = a4 == edgar, quotes = 0, small = 0, words = 0;
        for (int p = 0; edgar && p < doc->n_pages; p++) {
            const ds_page *pg = &doc->pages[p];
            float x0 = 1e9f, x1 = 0, y1 = 0;
            for (int i = 0; i < pg->n_words; i++) {
                const ds_word *w = &pg->words[i];
                x0 = fminf(x0, w->box.x0), x1 = fmaxf(x1, w->box.x1), y1 = fmaxf(y1, w->box.y1);
                quotes += strstr(w->text, "\xe2\x80\x9c") != NULL;
                small += w->font_size < 10.5f;
                words++;
            }
            // a page before the last (the last may hold a few lines): edge to edge within
            // 32 pt, ending above 80% of its height
            int last = p == doc->n_pages - 1;
            ok &= last || (x0 < 32 && x1 > pg->width_pt - 32 && y1 < 0.8f * pg->height_pt);
            pages++;
        }
        ok &= !edgar || (quotes > 0 && small > 0.9 * words);
        if (!ok) {
            fprintf(stderr, "  family %d: A4 %d, %d pages, curly quotes %d, %d of %d words small\n",
                    fam, a4, doc->n_pages, quotes, small, words);
            bad++;
        }
        docs += edgar;
        ds_doc_free(doc);
    }
    printf("  %d EDGAR contracts (%d pages): A4, small type edge to edge, pages ending part way "
           "down, curly quotes; 24 filed ones on US Letter; %d mismatches\n",
           docs, pages, bad);
    return bad != 0 || docs != 24;
}

// Whether word w is label alone, but for dot leaders or a colon after it ("RM........").
static int is_label(const char *w, const char *label) {
    size_t n = strlen(label);
    if (strncmp(w, label, n)) return 0;
    return w[n + strspn(w + n, ".:")] == 0;
}

// Whether word i's line, or the line above it (a row that wrapped), holds a word that
// contains label (any case) or is the word alone (NULL: none).
static int labelled_by(const ds_page *pg, int i, const char *label, const char *alone) {
    for (int j = 0; j < pg->n_words; j++)
        if (pg->words[j].line >= pg->words[i].line - 1 && pg->words[j].line <= pg->words[i].line &&
            (strcasestr(pg->words[j].text, label) || (alone && is_label(pg->words[j].text, alone))))
            return 1;
    return 0;
}

// Till receipts (families 12-23) are what makes a real receipt hard: the total is
// one of many amounts on the page (sub-total, tax, rounding, cash, change, the GST
// summary; 8 a receipt on average), rounded to 5 sen, on a line whose label says TOTAL.
DS_TEST(synth_till_receipt_amounts) {
    char dir[1024], pdf[1200], json[1200];
    snprintf(dir, sizeof dir, "%s/synth-till", ds_test_tmpdir());
    int bad = 0, fams = 0, others = 0;
    for (int fam = 12; fam < 24; fam++, fams++) {
        DS_CHECK_INT_EQ(generate("receipt", fam, 0, dir), 0);
        snprintf(json, sizeof json, "%s/receipt-7-00000.json", dir);
        snprintf(pdf, sizeof pdf, "%s/receipt-7-00000.pdf", dir);
        json_t *truth = json_load_file(json, 0, NULL);
        const char *total =
            json_string_value(json_object_get(json_object_get(truth, "fields"), "total"));
        ds_doc *doc = text_layer(pdf);
        DS_CHECK_INT_EQ(doc != NULL, 1);
        const ds_page *pg = &doc->pages[0];
        long want = total ? cents_of(total) : -1, seen[256];
        int n_other = 0, labelled = 0;
        for (int i = 0; i < pg->n_words; i++) {
            long c = cents_of(pg->words[i].text);
            if (c < 0) continue;
            if (c == want) { // the total's line (or the line above, when it wrapped) names it
                labelled |= labelled_by(pg, i, "TOTAL", NULL);
                continue;
            }
            int dup = 0;
            for (int k = 0; k < n_other; k++) dup |= seen[k] == c;
            if (!dup && n_other < 256) seen[n_other++] = c;
        }
        others += n_other;
        if (want < 0 || want % 5 != 0 || n_other < 3 || !labelled) {
            fprintf(stderr, "  family %d: total %s, %d other amounts, labelled %d\n", fam,
                    total ? total : "(none)", n_other, labelled);
            bad++;
        }
        ds_doc_free(doc);
        json_decref(truth);
    }
    printf("  %d till receipts: the total a multiple of 5 sen, labelled TOTAL, among %d other "
           "amounts (3 or more each): %d mismatches\n",
           fams, others, bad);
    return bad != 0 || others < 8 * fams;
}

// The amount on word i's line, or on the next line when the row wrapped; -1 if none.
static long line_amount(const ds_page *pg, int i) {
    for (int j = i + 1; j < pg->n_words && pg->words[j].line <= pg->words[i].line + 1; j++) {
        long c = cents_of(pg->words[j].text);
        if (c >= 0) return c;
    }
    return -1;
}

// Generates 48 till receipts of families lo to lo + 11 (seed 11) into the folder sub
// of the tests' own; its path into dir.
static int make_tills(const char *sub, int lo, char *dir, size_t cap) {
    snprintf(dir, cap, "%s/%s", ds_test_tmpdir(), sub);
    ds_synth_opts o = {.type = "receipt",
                       .count = 48,
                       .seed = 11,
                       .out_dir = dir,
                       .family_lo = lo,
                       .family_hi = lo + 11};
    return ds_synth_generate(&o);
}

// Till k of make_tills' folder: its text layer (NULL if unreadable), its truth and
// that truth's total (*total, NULL if none; *want its cents, -1 if none).
static ds_doc *till_doc(const char *dir, int k, json_t **truth, const char **total, long *want) {
    char pdf[1200], json[1200];
    snprintf(json, sizeof json, "%s/receipt-11-%05d.json", dir, k);
    snprintf(pdf, sizeof pdf, "%s/receipt-11-%05d.pdf", dir, k);
    *truth = json_load_file(json, 0, NULL);
    *total = json_string_value(json_object_get(json_object_get(*truth, "fields"), "total"));
    *want = *total ? cents_of(*total) : -1;
    return text_layer(pdf);
}

// Varied tills (families 24-35): what 12-23 tie to the family comes at random, so
// across 48 of them each variation shows: change larger than the total, the total
// repeated, a line after the total that is not the payment, dot leaders, "RM" before
// the total; and every total still lies on a line labelled TOTAL or RM.
DS_TEST(synth_till_varied) {
    char dir[1024];
    DS_CHECK_INT_EQ(make_tills("synth-varied", 24, dir, sizeof dir), 0);
    int bad = 0, big_change = 0, repeated = 0, after = 0, leaders = 0, rm = 0, wrapped = 0;
    int larger_name = 0;
    for (int k = 0; k < 48; k++) {
        json_t *truth;
        const char *total;
        long want, change = -1;
        ds_doc *doc = till_doc(dir, k, &truth, &total, &want);
        DS_CHECK_INT_EQ(doc != NULL, 1);
        const ds_page *pg = &doc->pages[0];
        int times = 0, labelled = 0, first_line = -1, pay_line = -1, sums_after = 0;
        for (int i = 0; i < pg->n_words; i++) {
            const char *w = pg->words[i].text;
            if ((is_label(w, "CHANGE") || is_label(w, "BALANCE")) && change < 0) {
                change = line_amount(pg, i);
                pay_line = pg->words[i].line - 1; // the cash given, the row above
            }
            leaders += strstr(w, "........") != NULL;
        }
        for (int i = 0; i < pg->n_words; i++) {
            const char *w = pg->words[i].text;
            if (cents_of(w) != want || pg->words[i].line >= pay_line) continue;
            times++;
            if (first_line < 0) first_line = pg->words[i].line;
            rm += i > 0 && !strcmp(pg->words[i - 1].text, "RM") && times == 1;
            labelled |= labelled_by(pg, i, "TOTAL", "RM");
        }
        for (int i = 0; i < pg->n_words; i++) // an amount between the total and the payment
            sums_after |= pg->words[i].line > first_line && pg->words[i].line < pay_line &&
                          cents_of(pg->words[i].text) >= 0 && cents_of(pg->words[i].text) != want;
        big_change += change > want;
        repeated += times >= 2; // before the payment
        after += sums_after;
        if (want < 0 || !labelled || change < 0) {
            fprintf(stderr, "  receipt %d: total %s, labelled %d, change %ld\n", k,
                    total ? total : "(none)", labelled, change);
            bad++;
        }
        // the address: printed as its truth says, its lines wrapped by width
        json_t *abox = first_box(truth, "address");
        char printed[1400], want_addr[1400];
        words_in(pg, abox, 1, printed, sizeof printed);
        snprintf(want_addr, sizeof want_addr, "%s",
                 json_string_value(json_object_get(json_object_get(truth, "fields"), "address")));
        collapse(want_addr);
        if (strcmp(printed, want_addr)) {
            fprintf(stderr, "  receipt %d: address printed \"%s\", truth \"%s\"\n", k, printed,
                    want_addr);
            bad++;
        }
        int mid = 0, last = -1;
        for (int i = 0; i < pg->n_words; i++) { // a line of it ends without a comma, not the last
            const ds_word *w = &pg->words[i];
            double cy = (w->box.y0 + w->box.y1) / 2;
            if (cy < json_number_value(json_array_get(abox, 1)) ||
                cy > json_number_value(json_array_get(abox, 3)))
                continue;
            if (last >= 0 && w->line != pg->words[last].line) {
                size_t len = strlen(pg->words[last].text);
                mid |= pg->words[last].text[len - 1] != ',';
            }
            last = i;
        }
        wrapped += mid;
        // a name above the shop's, in larger type than its first word
        json_t *cbox = first_box(truth, "company");
        double ctop = json_number_value(json_array_get(cbox, 1));
        const ds_word *top = &pg->words[0], *shop = NULL;
        for (int i = 0; i < pg->n_words && !shop; i++) {
            double cy = (pg->words[i].box.y0 + pg->words[i].box.y1) / 2;
            if (cy > ctop) shop = &pg->words[i];
        }
        larger_name += shop && top->box.y1 < ctop &&
                       top->box.y1 - top->box.y0 > 1.2 * (shop->box.y1 - shop->box.y0);
        ds_doc_free(doc);
        json_decref(truth);
    }
    printf("  48 varied tills: a name above the shop's in larger type %d, addresses wrapped "
           "mid-phrase %d, change over the total %d, the "
           "total twice before the payment "
           "%d, an amount after "
           "the total before the payment %d, dot leaders on %d lines, RM before the total %d; "
           "%d totals unlabelled or without change, or addresses not as printed\n",
           larger_name, wrapped, big_change, repeated, after, leaders, rm, bad);
    return bad != 0 || !larger_name || !wrapped || !big_change || !repeated || !after || !leaders ||
           !rm;
}

// Whether w prints a tax rate: "6%", "6.00%", "@6%", "GST@6%".
static int is_rate(const char *w) {
    return strstr(w, "6%") != NULL || strstr(w, "6.00%") != NULL;
}

// Rated tills (families 36-47): the varied tills with the tax rate printed where real
// tills print it. Across 48 of them each place shows: beside an amount that is not the
// total (the tax, the sum it was charged on), the GST summary's code, a footer, the
// total's own label; and every total still lies on a line labelled TOTAL or RM.
DS_TEST(synth_till_rated) {
    char dir[1024];
    DS_CHECK_INT_EQ(make_tills("synth-rated", 36, dir, sizeof dir), 0);
    int bad = 0, rated = 0, beside_other = 0, in_summary = 0, footer = 0, in_total = 0;
    for (int k = 0; k < 48; k++) {
        json_t *truth;
        const char *total;
        long want;
        ds_doc *doc = till_doc(dir, k, &truth, &total, &want);
        DS_CHECK_INT_EQ(doc != NULL, 1);
        const ds_page *pg = &doc->pages[0];
        int labelled = 0, any = 0, summary_line = -2;
        for (int i = 0; i < pg->n_words; i++) {
            const ds_word *w = &pg->words[i];
            if (!strcmp(w->text, "SUMMARY") || !strcmp(w->text, "Summary")) summary_line = w->line;
            if (cents_of(w->text) == want) labelled |= labelled_by(pg, i, "TOTAL", "RM");
            if (!is_rate(w->text)) continue;
            any = 1;
            in_summary += w->line == summary_line + 2; // under the title and the header
            int total_line = 0, other = 0, amounts = 0, inclusive = 0;
            for (int j = 0; j < pg->n_words; j++) {
                const char *v = pg->words[j].text;
                if (pg->words[j].line != w->line) continue;
                total_line |= strstr(v, "TOTAL") != NULL;
                amounts |= cents_of(v) >= 0;
                other |= cents_of(v) >= 0 && cents_of(v) != want;
                inclusive |= strstr(v, "INCLU") != NULL;
            }
            footer += inclusive && !amounts;
            in_total += total_line && line_amount(pg, i) == want;
            beside_other += other && !total_line;
        }
        rated += any;
        if (want < 0 || !labelled) {
            fprintf(stderr, "  receipt %d: total %s, labelled %d\n", k, total ? total : "(none)",
                    labelled);
            bad++;
        }
        ds_doc_free(doc);
        json_decref(truth);
    }
    printf("  48 rated tills: %d print a rate; rates beside another amount %d, as the GST "
           "summary's code %d, in a footer %d, in the total's label %d; %d totals unlabelled\n",
           rated, beside_other, in_summary, footer, in_total, bad);
    return bad != 0 || rated < 30 || !beside_other || !in_summary || !footer || !in_total;
}

// The committed sets (samples/sets): every born-digital document against its truth,
// every scan readable with the page size its truth's boxes assume.
DS_TEST(synth_sample_sets) {
    int checked = 0, ticks = 0, bad = 0, pdfs = 0, scans = 0;
    char pdf[1200], json[1200];
    for (int t = 0; t < 4; t++) {
        for (int i = 0; i < 26; i++) {
            snprintf(pdf, sizeof pdf, "%s/samples/sets/%s/%s-100-%05d.pdf", DS_SOURCE_DIR, types[t],
                     types[t], i);
            snprintf(json, sizeof json, "%s/samples/sets/%s/%s-100-%05d.json", DS_SOURCE_DIR,
                     types[t], types[t], i);
            bad += check_truth(pdf, json, &checked, &ticks);
            pdfs++;
        }
        for (int i = 0; i < 4; i++) {
            ds_ingest_opts o;
            ds_ingest_opts_default(&o);
            o.ocr = DS_OCR_NEVER;
            o.no_pixels = 1;
            ds_doc *doc = NULL;
            int rc = DS_E_NOENT;
            for (int e = 0; e < 2 && rc; e++) {
                snprintf(pdf, sizeof pdf, "%s/samples/sets/%s/%s-200-%05d.%s", DS_SOURCE_DIR,
                         types[t], types[t], i, e ? "tif" : "jpg");
                rc = ds_ingest_file(pdf, &o, &doc);
            }
            if (rc || doc->pages[0].width_pt < 200) { // a scan keeps its size in points
                fprintf(stderr, "  scan %s %d: %s\n", types[t], i, rc ? ds_errmsg() : "size");
                bad++;
            }
            ds_doc_free(doc);
            scans++;
        }
    }
    printf("  samples/sets: %d PDFs (%d values at their boxes, %d check boxes), %d scans; %d "
           "problems\n",
           pdfs, checked, ticks, scans, bad);
    return bad != 0;
}

static int same_file(const char *a, const char *b) {
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb;
    while (same) {
        int ca = fgetc(fa), cb = fgetc(fb);
        if (ca != cb) same = 0;
        if (ca == EOF || cb == EOF) break;
    }
    if (fa) fclose(fa);
    if (fb) fclose(fb);
    return same;
}

// Generates o into d1 and again into d2; counts the documents (ext) and truths that are
// the same bytes both times.
static int twice(ds_synth_opts o, const char *d1, const char *d2, const char *ext, int *same,
                 int *files) {
    char a[1200], b[1200];
    o.out_dir = d1;
    DS_CHECK_INT_EQ(ds_synth_generate(&o), 0);
    o.out_dir = d2;
    DS_CHECK_INT_EQ(ds_synth_generate(&o), 0);
    for (int i = 0; i < o.count; i++)
        for (int truth = 0; truth < 2; truth++) {
            snprintf(a, sizeof a, "%s/%s-%lu-%05d.%s", d1, o.type, o.seed, i, truth ? "json" : ext);
            snprintf(b, sizeof b, "%s/%s-%lu-%05d.%s", d2, o.type, o.seed, i, truth ? "json" : ext);
            *same += same_file(a, b);
            (*files)++;
        }
    return 0;
}

DS_TEST(synth_deterministic) {
    char d1[1024], d2[1024];
    snprintf(d1, sizeof d1, "%s/synth-det-1", ds_test_tmpdir());
    snprintf(d2, sizeof d2, "%s/synth-det-2", ds_test_tmpdir());
    int same = 0, files = 0;
    for (int t = 0; t < 4; t++) {
        ds_synth_opts o = {
            .type = types[t], .count = 3, .seed = 11, .family_lo = 0, .family_hi = 11};
        DS_CHECK(twice(o, d1, d2, "pdf", &same, &files) == 0);
    }
    // scans too (libvips' noise is seeded from the document's seed), on a sheet or not,
    // and printed on a thermal till first (its wear drawn per pixel from a seed)
    for (int k = 0; k < 3; k++) {
        ds_synth_opts o = {.type = "receipt",
                           .count = 2,
                           .seed = 12 + (unsigned long)k,
                           .scan = 1,
                           .on_sheet = k == 1,
                           .thermal = k == 2,
                           .family_lo = 0,
                           .family_hi = 11};
        DS_CHECK(twice(o, d1, d2, "jpg", &same, &files) == 0);
    }
    printf("  %d of %d files (PDFs, scans, truths) identical across two runs of the same seeds\n",
           same, files);
    ds_synth_opts bad = {
        .type = "passport", .count = 1, .seed = 1, .out_dir = d1, .family_lo = 0, .family_hi = 11};
    int rc = ds_synth_generate(&bad);
    printf("  unknown type -> %s: %s\n", ds_err_name(rc), ds_errmsg());
    DS_CHECK_INT_EQ(rc, DS_E_INVAL);
    bad.type = "invoice", bad.family_lo = bad.family_hi = 12; // contracts only have 12-59
    DS_CHECK_INT_EQ(ds_synth_generate(&bad), DS_E_INVAL);
    bad.type = "contract", bad.family_lo = bad.family_hi = 60;
    DS_CHECK_INT_EQ(ds_synth_generate(&bad), DS_E_INVAL);
    return same != files;
}

// Counts the truth's values (check boxes seen only in pixels aside) that page p's words
// read exactly inside their boxes into *read, of *total.
static void values_read(const ds_page *p, json_t *truth, int *read, int *total) {
    const char *name;
    json_t *value;
    char got[4096], want[512];
    json_object_foreach(json_object_get(truth, "fields"), name, value) {
        if (is_visual(truth, name) || !json_is_string(value)) continue;
        words_in(p, first_box(truth, name), 3.0, got, sizeof got);
        snprintf(want, sizeof want, "%s", json_string_value(value));
        collapse(want);
        *read += strcmp(got, want) == 0;
        (*total)++;
    }
}

// A scan: the image keeps the page's size in points, and OCR finds most values'
// words inside their (rotated) boxes: scanned invoices, and receipts lying on an A4
// sheet (their boxes moved with the page).
DS_TEST(synth_scan_boxes) {
    char dir[1024], path[1200];
    snprintf(dir, sizeof dir, "%s/synth-scan", ds_test_tmpdir());
    int found = 0, total = 0, found_sheet = 0, total_sheet = 0;
    for (int k = 0; k < 5; k++) {
        int sheet = k >= 3; // invoices of families 0-2, then receipts on a sheet
        const char *type = sheet ? "receipt" : "invoice";
        ds_synth_opts so = {.type = type,
                            .count = 1,
                            .seed = 7,
                            .out_dir = dir,
                            .scan = 1,
                            .on_sheet = sheet,
                            .family_lo = k,
                            .family_hi = k};
        DS_CHECK_INT_EQ(ds_synth_generate(&so), 0);
        snprintf(path, sizeof path, "%s/%s-7-00000.json", dir, type);
        json_t *truth = json_load_file(path, 0, NULL);
        DS_CHECK(truth != NULL);
        snprintf(path, sizeof path, "%s/%s-7-00000.jpg", dir, type);
        ds_ingest_opts o;
        ds_ingest_opts_default(&o);
        o.no_pixels = 1;
        ds_doc *doc;
        DS_CHECK_INT_EQ(ds_ingest_file(path, &o, &doc), 0);
        DS_CHECK(doc->pages[0].ocr_used);
        DS_CHECK(doc->pages[0].width_pt > 590 && doc->pages[0].width_pt < 600); // A4 width
        if (sheet)
            values_read(&doc->pages[0], truth, &found_sheet, &total_sheet);
        else
            values_read(&doc->pages[0], truth, &found, &total);
        ds_doc_free(doc);
        json_decref(truth);
    }
    ds_ingest_thread_cleanup();
    printf("  3 scanned invoices: OCR reads %d of %d values exactly inside their rotated boxes\n",
           found, total);
    printf("  2 receipts scanned on an A4 sheet: %d of %d\n", found_sheet, total_sheet);
    return !(total > 0 && found * 10 >= total * 6 && total_sheet > 0 &&
             found_sheet * 10 >= total_sheet * 6);
}

// The mean confidence of a page's OCR words, and the values read exactly inside their
// boxes into *read (of *total).
static double ocr_reading(const char *scan, json_t *truth, int *read, int *total) {
    ds_ingest_opts o;
    ds_ingest_opts_default(&o);
    o.no_pixels = 1;
    ds_doc *doc;
    if (ds_ingest_file(scan, &o, &doc) != 0) return -1;
    const ds_page *p = &doc->pages[0];
    double conf = 0;
    for (int i = 0; i < p->n_words; i++) conf += p->words[i].conf;
    values_read(p, truth, read, total);
    conf = p->n_words ? conf / p->n_words : 0;
    ds_doc_free(doc);
    return conf;
}

// A thermal print (--thermal): the same document and truth as the plain scan of the
// same seed (the wear is drawn after the page and its boxes), a different image, and
// OCR reads it less surely but still reads it: its values are a training signal, not
// noise.
DS_TEST(synth_thermal) {
    char dir[2][1024], path[1200];
    int read[2] = {0}, total[2] = {0};
    double conf[2] = {0};
    int same_truth = 0, same_image = 0, n = 4;
    for (int th = 0; th < 2; th++) {
        snprintf(dir[th], sizeof dir[th], "%s/synth-thermal-%d", ds_test_tmpdir(), th);
        ds_synth_opts so = {.type = "receipt",
                            .count = n,
                            .seed = 31,
                            .out_dir = dir[th],
                            .scan = 1,
                            .thermal = th,
                            .family_lo = 12,
                            .family_hi = 35};
        DS_CHECK_INT_EQ(ds_synth_generate(&so), 0);
    }
    for (int i = 0; i < n; i++) {
        char a[1200], b[1200];
        snprintf(a, sizeof a, "%s/receipt-31-%05d.json", dir[0], i);
        snprintf(b, sizeof b, "%s/receipt-31-%05d.json", dir[1], i);
        same_truth += same_file(a, b);
        snprintf(a, sizeof a, "%s/receipt-31-%05d.jpg", dir[0], i);
        snprintf(b, sizeof b, "%s/receipt-31-%05d.jpg", dir[1], i);
        same_image += same_file(a, b);
        for (int th = 0; th < 2; th++) {
            snprintf(path, sizeof path, "%s/receipt-31-%05d.json", dir[th], i);
            json_t *truth = json_load_file(path, 0, NULL);
            DS_CHECK(truth != NULL);
            snprintf(path, sizeof path, "%s/receipt-31-%05d.jpg", dir[th], i);
            double c = ocr_reading(path, truth, &read[th], &total[th]);
            json_decref(truth);
            DS_CHECK(c >= 0);
            conf[th] += c / n;
        }
    }
    ds_ingest_thread_cleanup();
    printf("  %d receipts: truths identical %d, images identical %d\n", n, same_truth, same_image);
    printf("  plain scans: mean OCR confidence %.3f, %d of %d values read in their boxes\n",
           conf[0], read[0], total[0]);
    printf("  thermal prints: %.3f, %d of %d\n", conf[1], read[1], total[1]);
    return !(same_truth == n && same_image == 0 && conf[1] < conf[0] && read[1] * 4 >= total[1]);
}
