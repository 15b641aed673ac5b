// ocr-layout.c: the names of OCR's modes (when a page is OCR'd) and page layouts
// (ingest.h's ds_ocr_mode, ds_ocr_layout), the Tesseract page segmentation mode each
// layout stands for, OCR language names, and the layout and language the environment
// sets (DS_OCR_LAYOUT, DS_OCR_LANG), read once per process.
#include "core/error.h"
#include "core/log.h"
#include "ingest/ingest-impl.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <tesseract/capi.h>

static const struct {
    const char *name;
    TessPageSegMode psm;
} ds_layouts[] = {
    [DS_OCR_LAYOUT_BLOCK] = {"block", PSM_SINGLE_BLOCK},
    [DS_OCR_LAYOUT_AUTO] = {"auto", PSM_AUTO},
    [DS_OCR_LAYOUT_COLUMN] = {"column", PSM_SINGLE_COLUMN},
    [DS_OCR_LAYOUT_SPARSE] = {"sparse", PSM_SPARSE_TEXT},
};
enum { N_LAYOUTS = sizeof ds_layouts / sizeof *ds_layouts };

static const char *const ds_modes[] = {
    [DS_OCR_AUTO] = "auto", [DS_OCR_ALWAYS] = "always", [DS_OCR_NEVER] = "never"};
enum { N_MODES = sizeof ds_modes / sizeof *ds_modes };

int ds_ocr_mode_parse(const char *s, ds_ocr_mode *out) {
    for (int i = 0; s && i < N_MODES; i++)
        if (!strcmp(s, ds_modes[i])) {
            *out = (ds_ocr_mode)i;
            return 0;
        }
    return -1;
}

const char *ds_ocr_mode_name(ds_ocr_mode m) {
    return (int)m >= 0 && (int)m < N_MODES ? ds_modes[m] : "auto";
}

int ds_ocr_layout_parse(const char *s, ds_ocr_layout *out) {
    for (int i = 0; s && i < N_LAYOUTS; i++)
        if (!strcmp(s, ds_layouts[i].name)) {
            *out = (ds_ocr_layout)i;
            return 0;
        }
    return -1;
}

const char *ds_ocr_layout_name(ds_ocr_layout l) {
    return (int)l >= 0 && (int)l < N_LAYOUTS ? ds_layouts[l].name : "block";
}

int ds_ocr_layout_psm(ds_ocr_layout l) {
    return (int)l >= 0 && (int)l < N_LAYOUTS ? (int)ds_layouts[l].psm : (int)PSM_SINGLE_BLOCK;
}

int ds_ocr_lang_check(const char *s) {
    size_t n = s ? strlen(s) : 0;
    int ok = n > 0 && n <= DS_OCR_LANG_MAX && s[0] != '+' && s[n - 1] != '+';
    for (size_t i = 0; ok && i < n; i++) {
        char c = s[i];
        ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '_' || (c == '+' && s[i + 1] != '+');
    }
    return ok ? 0
              : ds_error(DS_E_INVAL,
                         "'%s' is no OCR language: Tesseract's language names joined by '+' "
                         "(eng, deu, eng+msa, Latin), letters, digits and '_', at most %d bytes",
                         s ? s : "", DS_OCR_LANG_MAX);
}

static pthread_once_t ds_env_once = PTHREAD_ONCE_INIT;
static ds_ocr_layout ds_env_layout = DS_OCR_LAYOUT_BLOCK;
static const char *ds_env_lang = "eng";

static void read_env(void) {
    const char *s = getenv("DS_OCR_LAYOUT");
    if (s && *s && ds_ocr_layout_parse(s, &ds_env_layout) != 0)
        DS_LOGW("DS_OCR_LAYOUT=%s is no OCR layout (" DS_OCR_LAYOUT_CHOICES "): block it is", s);
    s = getenv("DS_OCR_LANG");
    if (s && *s && ds_ocr_lang_check(s) == 0)
        ds_env_lang = s; // the environment's string lives as long as the process
    else if (s && *s)
        DS_LOGW("DS_OCR_LANG=%s: %s; eng it is", s, ds_errmsg());
}

ds_ocr_layout ds_ocr_layout_default(void) {
    pthread_once(&ds_env_once, read_env);
    return ds_env_layout;
}

const char *ds_ocr_lang_default(void) {
    pthread_once(&ds_env_once, read_env);
    return ds_env_lang;
}
