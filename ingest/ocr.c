// ocr.c: words and boxes from a page raster through Tesseract's C API. Each
// thread keeps one TessBaseAPI, created on first use and reused (loading the
// language model costs far more than a page), freed when the thread exits.
// Recognition runs under a deadline (Tesseract's ETEXT_DESC monitor) so the
// document's time budget holds. Tesseract must see OMP_THREAD_LIMIT=1 in the
// environment from process start, or it runs ~7x slower (libs.c warns).
// Not here: layout analysis beyond Tesseract's own, or deskewing.
#include "core/error.h"
#include "core/timer.h"
#include "ingest/ingest-impl.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <tesseract/capi.h>

typedef struct {
    TessBaseAPI *api;
    char lang[64];
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
    engine_free(e);
    pthread_setspecific(ds_ocr_key, NULL);
    e = calloc(1, sizeof *e);
    if (!e) return ds_error(DS_E_NOMEM, "out of memory starting OCR");
    snprintf(e->lang, sizeof e->lang, "%s", lang);
    e->api = TessBaseAPICreate();
    if (!e->api || TessBaseAPIInit3(e->api, NULL, lang) != 0) {
        if (e->api) TessBaseAPIDelete(e->api);
        free(e);
        return ds_error(DS_E_UNSUPPORTED,
                        "Tesseract cannot load language '%s' (install tesseract-ocr-%s)", lang,
                        lang);
    }
    pthread_setspecific(ds_ocr_key, e);
    *out = e;
    return 0;
}

void ds_ingest_thread_cleanup(void) {
    pthread_once(&ds_ocr_once, make_key);
    engine_free(pthread_getspecific(ds_ocr_key));
    pthread_setspecific(ds_ocr_key, NULL);
}

int ds_page_ocr(ds_ingest_ctx *c, ds_page *page, int index) {
    double t0 = ds_time_s();
    ds_ocr_engine *e = NULL;
    int rc = get_engine(c->opts->ocr_lang ? c->opts->ocr_lang : "eng", &e);
    if (rc) return rc;
    TessBaseAPI *api = e->api;
    TessBaseAPISetImage(api, page->rgb, page->img_w, page->img_h, 3, page->img_w * 3);
    int dpi = (int)(page->px_per_pt * 72.0f + 0.5f);
    TessBaseAPISetSourceResolution(api, dpi < 70 ? 70 : dpi);
    ETEXT_DESC *monitor = TessMonitorCreate();
    if (c->opts->max_seconds > 0) {
        double left = c->opts->max_seconds - (ds_time_s() - c->t_start);
        TessMonitorSetDeadlineMSecs(monitor, left > 0 ? (int)(left * 1e3) : 1);
    }
    int failed = TessBaseAPIRecognize(api, monitor) != 0;
    TessMonitorDelete(monitor);
    if (failed) {
        TessBaseAPIClear(api);
        rc = ds_ingest_check_time(c, index);
        return rc ? rc : ds_error(DS_E_INTERNAL, "page %d: OCR failed", index + 1);
    }
    ds_word_list list = {0};
    TessResultIterator *ri = TessBaseAPIGetIterator(api);
    if (ri) {
        const TessPageIterator *pi = TessResultIteratorGetPageIterator(ri);
        do {
            char *text = TessResultIteratorGetUTF8Text(ri, RIL_WORD);
            int l, t, r, b;
            if (text && text[0] && TessPageIteratorBoundingBox(pi, RIL_WORD, &l, &t, &r, &b)) {
                size_t len = strlen(text);
                while (len && (text[len - 1] == ' ' || text[len - 1] == '\n')) len--;
                float s = 1.0f / page->px_per_pt;
                ds_box box = {l * s, t * s, r * s, b * s};
                float conf = TessResultIteratorConfidence(ri, RIL_WORD) / 100.0f;
                if (len)
                    rc = ds_word_list_add(c, &list, text, len, box, "", (b - t) * s, conf, 0,
                                          DS_WORD_OCR);
            }
            TessDeleteText(text);
        } while (rc == 0 && TessResultIteratorNext(ri, RIL_WORD));
        TessResultIteratorDelete(ri);
    }
    TessBaseAPIClear(api);
    if (rc == 0) rc = ds_page_set_words(c, page, &list);
    ds_word_list_free(&list);
    page->ocr_used = 1;
    page->ms_ocr = (ds_time_s() - t0) * 1e3;
    return rc;
}
