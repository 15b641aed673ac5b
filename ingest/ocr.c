// ocr.c: words and boxes from a page raster through Tesseract's C API. Each
// thread keeps one TessBaseAPI, created on first use and reused (loading the
// language model costs far more than a page), freed when the thread exits.
// Recognition runs under a deadline (Tesseract's ETEXT_DESC monitor) so the
// document's time budget holds. Tesseract must see OMP_THREAD_LIMIT=1 in the
// environment from process start, or it runs ~7x slower (libs.c warns).
// The page's tilt is measured from Tesseract's text-line baselines (the median
// slope) so that layout.c can group the words of a tilted scan into its lines;
// the raster itself is not deskewed. Small type is read a second time from a
// magnified copy of the raster (ds_page_ocr).
#include "core/error.h"
#include "core/timer.h"
#include "ingest/ingest-impl.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <tesseract/capi.h>
#include <vips/vips.h>
#include <math.h>

typedef struct {
    TessBaseAPI *api;
    char lang[DS_OCR_LANG_MAX + 1];
} ds_ocr_engine;

static pthread_key_t ds_ocr_key;
static pthread_once_t ds_ocr_once = PTHREAD_ONCE_INIT;

static void engine_free(void *p) {
    ds_ocr_engine *e = p;
    if (!e) return;
    TessBaseAPIEnd(e->api);
    TessBaseAPIDelete(e->api);
    free(e);
}

static void make_key(void) {
    pthread_key_create(&ds_ocr_key, engine_free);
}

static int get_engine(const char *lang, ds_ocr_engine **out) {
    pthread_once(&ds_ocr_once, make_key);
    ds_ocr_engine *e = pthread_getspecific(ds_ocr_key);
    if (e && strcmp(e->lang, lang) == 0) {
        *out = e;
        return 0;
    }
    int rc = ds_ocr_lang_check(lang); // a name, never a path for Tesseract to open
    if (rc) return rc;
    engine_free(e);
    pthread_setspecific(ds_ocr_key, NULL);
    e = calloc(1, sizeof *e);
    if (!e) return ds_error(DS_E_NOMEM, "out of memory starting OCR");
    snprintf(e->lang, sizeof e->lang, "%s", lang);
    e->api = TessBaseAPICreate();
    // Tesseract's diagnostics ("Image too small to scale!!", "Line cannot be recognized!!"
    // for a region a few pixels high; why a language did not load) go to stderr, where
    // they end up in a user's logs with nothing to act on; a failure that matters
    // reaches us as a return code.
    if (e->api) TessBaseAPISetVariable(e->api, "debug_file", "/dev/null");
    if (!e->api || TessBaseAPIInit3(e->api, NULL, lang) != 0) {
        if (e->api) TessBaseAPIDelete(e->api);
        free(e);
        return ds_error(DS_E_UNSUPPORTED,
                        "Tesseract cannot load language '%s': each of its names needs its "
                        "NAME.traineddata (Debian: tesseract-ocr-eng, tesseract-ocr-deu, ...; "
                        "scripts such as Latin: tesseract-ocr-script-latn)",
                        lang);
    }
    pthread_setspecific(ds_ocr_key, e);
    *out = e;
    return 0;
}

int ds_ocr_thread_psm(void) {
    pthread_once(&ds_ocr_once, make_key);
    ds_ocr_engine *e = pthread_getspecific(ds_ocr_key);
    return e ? (int)TessBaseAPIGetPageSegMode(e->api) : -1;
}

void ds_ingest_thread_cleanup(void) {
    pthread_once(&ds_ocr_once, make_key);
    engine_free(pthread_getspecific(ds_ocr_key));
    pthread_setspecific(ds_ocr_key, NULL);
}

static int by_value(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

// The median of n values (sorted in place); 0 when there are none.
static float median_of(float *v, int n) {
    if (n == 0) return 0.0f;
    qsort(v, (size_t)n, sizeof *v, by_value);
    return n % 2 ? v[n / 2] : 0.5f * (v[n / 2 - 1] + v[n / 2]);
}

// The raster Tesseract reads: the page's, or a magnified copy (owned: g_free).
typedef struct {
    const uint8_t *rgb;
    uint8_t *owned;
    int w, h;
    float px_per_pt;
} ocr_raster;

static void set_raster(TessBaseAPI *api, const ocr_raster *r) {
    TessBaseAPISetImage(api, r->rgb, r->w, r->h, 3, r->w * 3);
    int dpi = (int)(r->px_per_pt * 72.0f + 0.5f);
    TessBaseAPISetSourceResolution(api, dpi < 70 ? 70 : dpi);
}

static void set_page(TessBaseAPI *api, const ds_page *page) {
    ocr_raster r = {page->rgb, NULL, page->img_w, page->img_h, page->px_per_pt};
    set_raster(api, &r);
}

// The page's raster magnified by scale (libvips' Lanczos), into *out.
static int magnify(const ds_page *page, double scale, ocr_raster *out) {
    VipsImage *in = vips_image_new_from_memory(page->rgb, (size_t)page->img_w * page->img_h * 3,
                                               page->img_w, page->img_h, 3, VIPS_FORMAT_UCHAR);
    VipsImage *big = NULL;
    int rc = 0;
    if (!in || vips_resize(in, &big, scale, "kernel", VIPS_KERNEL_LANCZOS3, NULL) != 0) {
        char msg[512];
        rc = ds_error(DS_E_INTERNAL, "magnifying the page for OCR failed: %s",
                      ds_vips_error_line(msg, sizeof msg));
    } else {
        size_t len = 0;
        out->owned = vips_image_write_to_memory(big, &len);
        out->w = big->Xsize, out->h = big->Ysize;
        out->rgb = out->owned;
        out->px_per_pt = page->px_per_pt * (float)out->w / (float)page->img_w;
        if (!out->owned || len != (size_t)out->w * out->h * 3) {
            g_free(out->owned);
            out->owned = NULL;
            rc = ds_error(DS_E_NOMEM, "out of memory magnifying the page for OCR");
        }
    }
    if (big) g_object_unref(big);
    if (in) g_object_unref(in);
    return rc;
}

// A ruling line or a box's edge read as letters ("eee" under a form's field,
// 500 pt wide and 7 high): wider than any run of that many characters can be.
// Over the scans of the held-out set, SROIE and FUNSD (10,561 OCR words), no
// real word is more than 3.5 times as wide per character as it is high; lines
// read as text reach 25-60.
static int ruling_line(const char *text, size_t len, int w, int h) {
    size_t chars = 0;
    for (size_t i = 0; i < len; i++) chars += ((unsigned char)text[i] & 0xc0) != 0x80;
    return w > 6 * (h > 0 ? h : 1) * (int)chars;
}

// Adds the iterator's current word to out (page points) when OCR is at least
// min_conf sure of it and it is not a ruling line.
static int add_word(ds_ingest_ctx *c, float px_per_pt, TessResultIterator *ri, float min_conf,
                    ds_word_list *out) {
    const TessPageIterator *pi = TessResultIteratorGetPageIterator(ri);
    char *text = TessResultIteratorGetUTF8Text(ri, RIL_WORD);
    float conf = TessResultIteratorConfidence(ri, RIL_WORD) / 100.0f;
    int l, t, r, b, rc = 0;
    if (text && text[0] && conf >= min_conf &&
        TessPageIteratorBoundingBox(pi, RIL_WORD, &l, &t, &r, &b)) {
        size_t len = strlen(text);
        while (len && (text[len - 1] == ' ' || text[len - 1] == '\n')) len--;
        float s = 1.0f / px_per_pt;
        ds_box box = {l * s, t * s, r * s, b * s};
        if (len && !ruling_line(text, len, r - l, b - t))
            rc = ds_word_list_add(c, out, text, len, box, "", (b - t) * s, conf, 0, DS_WORD_OCR);
    }
    TessDeleteText(text);
    return rc;
}

// One recognition of raster r: its words (page points) into *list, the tilt into *skew.
// within_s > 0 bounds this reading's time besides the document's budget: past it the
// reading is abandoned and DS_OCR_ABANDONED returned, with no error set.
#define DS_OCR_ABANDONED 1
static int recognize(ds_ingest_ctx *c, TessBaseAPI *api, const ocr_raster *r, int index,
                     double within_s, ds_word_list *list, float *skew) {
    set_raster(api, r);
    ETEXT_DESC *monitor = TessMonitorCreate();
    double left = c->opts->max_seconds > 0 ? c->opts->max_seconds - (ds_time_s() - c->t_start) : 0;
    int own = within_s > 0 && (left <= 0 || within_s < left);
    if (own) left = within_s;
    if (c->opts->max_seconds > 0 || own)
        TessMonitorSetDeadlineMSecs(monitor, left > 0 ? (int)(left * 1e3) : 1);
    int failed = TessBaseAPIRecognize(api, monitor) != 0;
    TessMonitorDelete(monitor);
    if (failed) {
        TessBaseAPIClear(api);
        int rc = ds_ingest_check_time(c, index);
        return rc    ? rc
               : own ? DS_OCR_ABANDONED
                     : ds_error(DS_E_INTERNAL, "page %d: OCR failed", index + 1);
    }
    float *slopes = NULL;
    int n_slopes = 0, cap_slopes = 0, rc = 0;
    TessResultIterator *ri = TessBaseAPIGetIterator(api);
    if (ri) {
        const TessPageIterator *pi = TessResultIteratorGetPageIterator(ri);
        do {
            // The tilt: baselines of lines at least a tenth of the page wide (short
            // ones are noisy); beyond ±10° it is rotated text, not a scan's tilt.
            int x0, y0, x1, y1;
            if (TessPageIteratorIsAtBeginningOf(pi, RIL_TEXTLINE) &&
                TessPageIteratorBaseline(pi, RIL_TEXTLINE, &x0, &y0, &x1, &y1) &&
                (x1 - x0) * 10 >= r->w) {
                float slope = (float)(y1 - y0) / (float)(x1 - x0);
                if (slope > -0.18f && slope < 0.18f) {
                    if (n_slopes == cap_slopes) {
                        cap_slopes = cap_slopes ? 2 * cap_slopes : 64;
                        float *grown = realloc(slopes, (size_t)cap_slopes * sizeof *slopes);
                        if (!grown) {
                            rc = ds_error(DS_E_NOMEM, "out of memory reading OCR lines");
                            break;
                        }
                        slopes = grown;
                    }
                    slopes[n_slopes++] = slope;
                }
            }
            rc = add_word(c, r->px_per_pt, ri, -1.0f, list);
        } while (rc == 0 && TessResultIteratorNext(ri, RIL_WORD));
        TessResultIteratorDelete(ri);
    }
    TessBaseAPIClear(api);
    *skew = median_of(slopes, n_slopes);
    free(slopes);
    return rc;
}

// The median height in pixels of the words of list (0 when it has fewer than 8).
static float median_height_px(const ds_word_list *list, float px_per_pt) {
    if (list->n < 8) return 0;
    float *h = malloc(sizeof(float) * (size_t)list->n);
    if (!h) return 0;
    for (int i = 0; i < list->n; i++)
        h[i] = (list->items[i].box.y1 - list->items[i].box.y0) * px_per_pt;
    float m = median_of(h, list->n);
    free(h);
    return m;
}

// How much of the page a reading read with confidence: its words' letters, each
// word's weighted by Tesseract's confidence in it; *mean the words' mean confidence.
static double confident_letters(const ds_word_list *list, double *mean) {
    double s = 0, c = 0;
    for (int i = 0; i < list->n; i++) {
        s += list->items[i].conf * (double)strlen(list->items[i].text);
        c += list->items[i].conf;
    }
    *mean = list->n ? c / list->n : 0;
    return s;
}

// Whether reading b is better than a: more letters read with confidence, and more
// sure of them on average (a magnified speckled scan yields many more low-confidence
// "words": 1,883 against 283 on one generated form scan, mean confidence 0.22 / 0.24).
static int better_reading(const ds_word_list *a, const ds_word_list *b) {
    double ma, mb;
    return confident_letters(b, &mb) > confident_letters(a, &ma) && mb > ma;
}

// A page of noise, not text: a speckled blank of a scan, whose specks OCR reads
// as hundreds of "words" (527 on the second page of the sample set's scanned
// contract-200-00002.tif, mean confidence 0.22) that drown the document's real
// words and decided its type. Every page with text measured reads with a mean
// word confidence of at least 0.53 (SROIE's 40 receipts, FUNSD's 20 forms) or
// 0.71 (the generated scans); on a page under 0.4 only the words OCR is sure
// of (0.6 and more) stay, so a real word on a noisy page (a signature line's
// label) is kept.
int ds_ocr_drop_noise(ds_word_list *list) {
    double mean = 0;
    confident_letters(list, &mean);
    if (list->n == 0 || mean >= 0.4) return 0;
    int kept = 0;
    for (int i = 0; i < list->n; i++)
        if (list->items[i].conf >= 0.6f) list->items[kept++] = list->items[i];
    int dropped = list->n - kept;
    list->n = kept;
    return dropped;
}

// 1 when s's n bytes are all ASCII digits (and there is at least one).
static int digits(const char *s, size_t n) {
    if (n == 0) return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return 0;
    return 1;
}

// 1 when a and b are the two halves of an amount split at its decimal point: "73."
// and "00", or "73" and ".00" (a comma for the point as well).
static int amount_halves(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    int point_ends_a = la >= 2 && la <= 8 && (a[la - 1] == '.' || a[la - 1] == ',') &&
                       digits(a, la - 1) && lb == 2 && digits(b, 2);
    int point_starts_b = la >= 1 && la <= 7 && digits(a, la) && lb == 3 &&
                         (b[0] == '.' || b[0] == ',') && digits(b + 1, 2);
    return point_ends_a || point_starts_b;
}

// Whether words a and b share a line: their boxes overlap vertically by half the
// shorter one's height or more.
static int same_line(const ds_word *a, const ds_word *b) {
    float ha = a->box.y1 - a->box.y0, hb = b->box.y1 - b->box.y0;
    float lo = a->box.y0 > b->box.y0 ? a->box.y0 : b->box.y0;
    float hi = a->box.y1 < b->box.y1 ? a->box.y1 : b->box.y1;
    return hi - lo >= 0.5f * (ha < hb ? ha : hb);
}

int ds_ocr_join_amounts(ds_ingest_ctx *c, ds_word_list *list) {
    int kept = 0, joined = 0;
    for (int i = 0; i < list->n; i++) {
        ds_word *a = &list->items[i];
        if (i + 1 < list->n && amount_halves(a->text, list->items[i + 1].text)) {
            const ds_word *b = &list->items[i + 1];
            float ha = a->box.y1 - a->box.y0, hb = b->box.y1 - b->box.y0;
            float h = ha > hb ? ha : hb, gap = b->box.x0 - a->box.x1;
            if (same_line(a, b) && gap >= -0.1f * h && gap < h) {
                size_t la = strlen(a->text), lb = strlen(b->text);
                char *t = ds_ingest_alloc(c, la + lb + 1);
                if (!t) return ds_error(DS_E_NOMEM, "out of memory joining OCR words");
                memcpy(t, a->text, la);
                memcpy(t + la, b->text, lb + 1);
                ds_word w = *a;
                w.text = t;
                w.box.y0 = a->box.y0 < b->box.y0 ? a->box.y0 : b->box.y0;
                w.box.y1 = a->box.y1 > b->box.y1 ? a->box.y1 : b->box.y1;
                w.box.x1 = b->box.x1 > a->box.x1 ? b->box.x1 : a->box.x1;
                w.conf = a->conf < b->conf ? a->conf : b->conf;
                w.font_size = a->font_size > b->font_size ? a->font_size : b->font_size;
                list->items[kept++] = w;
                joined++;
                i++;
                continue;
            }
        }
        list->items[kept++] = *a;
    }
    list->n = kept;
    return joined;
}

// The decimal mark of a word that reads as an amount in cents ("33.90", "RM33,90"):
// '.' or ','; 0 for anything else (one or three decimals, a thousands group).
static char decimal_mark(const char *t) {
    size_t n = strlen(t), i = 0;
    while (i < n && i < 2 && ((t[i] >= 'A' && t[i] <= 'Z') || t[i] == '$')) i++; // "RM", "$"
    size_t d0 = i;
    while (i < n && t[i] >= '0' && t[i] <= '9') i++;
    if (i == d0 || i + 3 != n || !digits(t + i + 1, 2)) return 0;
    return t[i] == '.' || t[i] == ',' ? t[i] : 0;
}

int ds_ocr_decimal_points(ds_ingest_ctx *c, ds_word_list *list) {
    int points = 0, commas = 0, changed = 0;
    for (int i = 0; i < list->n; i++) {
        char m = decimal_mark(list->items[i].text);
        points += m == '.', commas += m == ',';
    }
    if (points < 3 || points <= commas) return 0;
    for (int i = 0; i < list->n; i++) {
        ds_word *w = &list->items[i];
        if (decimal_mark(w->text) != ',') continue;
        const ds_word *next = i + 1 < list->n ? &list->items[i + 1] : NULL;
        if (next && !strcmp(next->text, "&") && same_line(w, next)) continue; // "55,57 & 59"
        size_t n = strlen(w->text);
        char *t = ds_ingest_alloc(c, n + 1);
        if (!t) return ds_error(DS_E_NOMEM, "out of memory reading an amount's point");
        memcpy(t, w->text, n + 1);
        t[n - 3] = '.';
        w->text = t;
        changed++;
    }
    return changed;
}

int ds_page_ocr(ds_ingest_ctx *c, ds_page *page, int index) {
    double t0 = ds_time_s();
    ds_ocr_engine *e = NULL;
    int rc = get_engine(c->opts->ocr_lang ? c->opts->ocr_lang : "eng", &e);
    if (rc) return rc;
    // every page says its layout: the thread's engine outlives one document's options
    TessBaseAPISetPageSegMode(e->api, (TessPageSegMode)ds_ocr_layout_psm(c->opts->ocr_layout));
    ocr_raster r = {page->rgb, NULL, page->img_w, page->img_h, page->px_per_pt};
    ds_word_list list = {0};
    float skew = 0;
    double t_first = ds_time_s();
    rc = recognize(c, e->api, &r, index, 0, &list, &skew);
    t_first = ds_time_s() - t_first;
    // Small type (a form scanned at 100 dpi or less, FUNSD's): Tesseract reads words
    // best 20-30 pixels high, so a page whose words' median height is under 20 is read
    // again magnified to ~28 (at most 3x); the magnified reading is kept when it is
    // better (better_reading: magnifying a blurred scan can lose words). On FUNSD's
    // 20 forms the entities whose text is a run of the words read went from 373 to
    // 564 of 1,084; on SROIE receipts 020-039 the values found stayed level (38 / 37).
    // Only a doubtful first reading is read again (mean word confidence under 0.9;
    // every FUNSD form and SROIE receipt is under 0.84): a confident one gained a few
    // letters at twice the time (8 of the held-out set's 20 scans, the same F1).
    float mh = rc ? 0 : median_height_px(&list, page->px_per_pt);
    double mean_conf = 0;
    confident_letters(&list, &mean_conf);
    if (mh > 0 && mh < 20 && mean_conf < 0.9 && !c->opts->no_ocr_magnify) {
        double scale = fmin(3.0, 28.0 / mh);
        ocr_raster big = {0};
        ds_word_list list2 = {0};
        float skew2 = 0;
        rc = magnify(page, scale, &big);
        // Bounded: a magnified speckled scan can take Tesseract 40 times as long (8.5 s
        // against 0.2 s on one sample invoice); past 4x the first reading's time and
        // half a second it is abandoned and the first reading stands.
        if (!rc) rc = recognize(c, e->api, &big, index, 4 * t_first + 0.5, &list2, &skew2);
        g_free(big.owned);
        int better = !rc && better_reading(&list, &list2);
        if (rc == DS_OCR_ABANDONED) rc = 0; // the first reading stands
        if (better) {
            ds_word_list_free(&list);
            list = list2, skew = skew2;
        } else {
            ds_word_list_free(&list2);
        }
    }
    page->skew = skew;
    if (rc == 0) ds_ocr_drop_noise(&list);
    if (rc == 0 && ds_ocr_join_amounts(c, &list) < 0) rc = DS_E_NOMEM;
    if (rc == 0 && ds_ocr_decimal_points(c, &list) < 0) rc = DS_E_NOMEM;
    if (rc == 0) rc = ds_page_set_words(c, page, &list);
    ds_word_list_free(&list);
    page->ocr_used = 1;
    page->ms_ocr = (ds_time_s() - t0) * 1e3;
    return rc;
}

int ds_page_ocr_regions(ds_ingest_ctx *c, ds_page *page, const ds_rect *regions, int n,
                        float min_conf, ds_word_list *out) {
    ds_ocr_engine *e = NULL;
    int rc = get_engine(c->opts->ocr_lang ? c->opts->ocr_lang : "eng", &e);
    if (rc) return rc;
    TessBaseAPI *api = e->api;
    TessPageSegMode mode = TessBaseAPIGetPageSegMode(api);
    TessBaseAPISetPageSegMode(api, PSM_SINGLE_LINE); // each region is one line of letters
    set_page(api, page);
    for (int i = 0; i < n && rc == 0; i++) {
        const ds_rect *r = &regions[i];
        if (r->x1 - r->x0 < 2 || r->y1 - r->y0 < 2) continue;
        // out of time: the regions left stay unread (the page keeps its text layer)
        if (c->opts->max_seconds > 0 && ds_time_s() - c->t_start > c->opts->max_seconds) break;
        TessBaseAPISetRectangle(api, r->x0, r->y0, r->x1 - r->x0, r->y1 - r->y0);
        if (TessBaseAPIRecognize(api, NULL) != 0) continue; // a region OCR cannot read
        TessResultIterator *ri = TessBaseAPIGetIterator(api);
        if (!ri) continue;
        do {
            rc = add_word(c, page->px_per_pt, ri, min_conf, out);
        } while (rc == 0 && TessResultIteratorNext(ri, RIL_WORD));
        TessResultIteratorDelete(ri);
    }
    TessBaseAPIClear(api);
    TessBaseAPISetPageSegMode(api, mode);
    return rc;
}
