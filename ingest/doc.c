// doc.c: the entry points of ingest: limits checked in the order that costs
// least (bytes, type, then pages and pixels inside the readers), the
// document's single arena, and the word list the readers fill.
#include "core/error.h"
#include "core/timer.h"
#include "ingest/ingest-impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void ds_ingest_opts_default(ds_ingest_opts *o) {
    memset(o, 0, sizeof *o);
    o->max_bytes = (size_t)64 << 20;
    o->max_pages = 50;
    o->max_pixels = 100 * 1000 * 1000;
    o->max_seconds = 60;
    o->dpi = 150;
    o->ocr = DS_OCR_AUTO;
    o->ocr_lang = ds_ocr_lang_default();
    o->enc_size = 512;
    for (int i = 0; i < 3; i++) o->enc_mean[i] = 0.5f, o->enc_std[i] = 0.5f;
    const char *magnify = getenv("DS_OCR_MAGNIFY");
    o->no_ocr_magnify = magnify && strcmp(magnify, "0") == 0;
    o->ocr_layout = ds_ocr_layout_default();
}

void *ds_ingest_alloc(ds_ingest_ctx *c, size_t bytes) {
    return ds_arena_alloc(&c->doc->impl->arena, bytes);
}

int ds_ingest_check_time(ds_ingest_ctx *c, int page) {
    double limit = c->opts->max_seconds;
    double spent = ds_time_s() - c->t_start;
    if (limit > 0 && spent > limit)
        return ds_error(DS_E_TIMEOUT, "time budget of %.3g s spent (%.3g s) at page %d", limit,
                        spent, page + 1);
    return 0;
}

// Doubles the list's room; 0 or DS_E_NOMEM.
static int grow(ds_word_list *list) {
    int cap = list->cap ? 2 * list->cap : 256;
    ds_word *w = realloc(list->items, (size_t)cap * sizeof *w);
    if (!w) return ds_error(DS_E_NOMEM, "out of memory collecting words");
    list->items = w;
    list->cap = cap;
    return 0;
}

int ds_word_list_add(ds_ingest_ctx *c, ds_word_list *list, const char *text, size_t len, ds_box box,
                     const char *font, float font_size, float conf, int bold,
                     ds_word_source source) {
    if (list->n == list->cap && grow(list)) return DS_E_NOMEM;
    char *t = ds_ingest_alloc(c, len + 1);
    size_t flen = font ? strlen(font) : 0;
    char *f = flen ? ds_ingest_alloc(c, flen + 1) : NULL;
    if (!t || (flen && !f)) return ds_error(DS_E_NOMEM, "out of memory collecting words");
    memcpy(t, text, len);
    t[len] = '\0';
    if (f) memcpy(f, font, flen + 1);
    list->items[list->n++] = (ds_word){.text = t,
                                       .box = box,
                                       .font = f ? f : "",
                                       .font_size = font_size,
                                       .conf = conf,
                                       .bold = (uint8_t)(bold != 0),
                                       .source = (uint8_t)source};
    return 0;
}

int ds_page_add_words(ds_ingest_ctx *c, ds_page *page, ds_word_list *list, const uint8_t *drop) {
    for (int k = 0; k < page->n_words; k++) {
        if (drop && drop[k]) continue;
        if (list->n == list->cap && grow(list)) return DS_E_NOMEM;
        list->items[list->n++] = page->words[k]; // its strings are in the arena already
    }
    return ds_page_set_words(c, page, list);
}

void ds_word_list_free(ds_word_list *list) {
    free(list->items);
    memset(list, 0, sizeof *list);
}

int ds_words_usable(const ds_word_list *list) {
    for (int i = 0; i < list->n; i++)
        for (const unsigned char *p = (const unsigned char *)list->items[i].text; *p; p++)
            if ((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                *p >= 0x80)
                return 1;
    return 0;
}

void ds_doc_free(ds_doc *doc) {
    if (!doc) return;
    if (doc->impl) {
        ds_arena_free(&doc->impl->arena);
        free(doc->impl);
    }
    free(doc);
}

int ds_ingest_memory(const void *data, size_t size, const ds_ingest_opts *opts, ds_doc **out) {
    *out = NULL;
    ds_ingest_opts defaults;
    if (!opts) {
        ds_ingest_opts_default(&defaults);
        opts = &defaults;
    }
    double t0 = ds_time_s();
    if (size == 0) return ds_error(DS_E_FORMAT, "empty input (0 bytes)");
    if (opts->max_bytes && size > opts->max_bytes)
        return ds_error(DS_E_TOO_LARGE, "input of %zu bytes exceeds the limit of %zu bytes", size,
                        opts->max_bytes);
    ds_format fmt = ds_detect_format(data, size);
    if (fmt == DS_FORMAT_UNKNOWN || fmt >= DS_FORMAT_ZIP)
        return ds_error(DS_E_UNSUPPORTED,
                        "input looks like %s, not a document docseek reads "
                        "(PDF, PNG, JPEG, TIFF, WebP, GIF, BMP)",
                        fmt == DS_FORMAT_UNKNOWN ? "binary data of unknown type"
                                                 : ds_format_name(fmt));
    if (opts->given && fmt == DS_FORMAT_PDF)
        return ds_error(DS_E_UNSUPPORTED, "words given for a PDF: they are for images (a PDF's "
                                          "come from its text layer, or OCR)");
    int rc = ds_ingest_libs_init();
    if (rc) return rc;
    ds_doc *doc = calloc(1, sizeof *doc);
    if (doc) doc->impl = calloc(1, sizeof *doc->impl);
    if (!doc || !doc->impl) {
        free(doc);
        return ds_error(DS_E_NOMEM, "out of memory");
    }
    ds_arena_init(&doc->impl->arena, (size_t)1 << 20, 0);
    doc->format = fmt;
    ds_ingest_ctx c = {opts, doc, t0};
    rc =
        fmt == DS_FORMAT_PDF ? ds_pdf_ingest(&c, data, size) : ds_image_ingest(&c, data, size, fmt);
    if (rc) {
        ds_doc_free(doc);
        return rc;
    }
    doc->ms_total = (ds_time_s() - t0) * 1e3;
    *out = doc;
    return 0;
}

int ds_ingest_file(const char *path, const ds_ingest_opts *opts, ds_doc **out) {
    *out = NULL;
    ds_ingest_opts defaults;
    if (!opts) {
        ds_ingest_opts_default(&defaults);
        opts = &defaults;
    }
    FILE *f = fopen(path, "rb");
    if (!f)
        return ds_error(errno == ENOENT ? DS_E_NOENT : DS_E_IO, "%s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        return ds_error(DS_E_IO, "%s: not a regular file", path);
    }
    size_t size = (size_t)sb.st_size;
    if (opts->max_bytes && size > opts->max_bytes) {
        fclose(f);
        return ds_error(DS_E_TOO_LARGE, "%s: %zu bytes exceeds the limit of %zu bytes", path, size,
                        opts->max_bytes);
    }
    void *buf = malloc(size ? size : 1);
    if (!buf) {
        fclose(f);
        return ds_error(DS_E_NOMEM, "%s: cannot allocate %zu bytes", path, size);
    }
    size_t got = fread(buf, 1, size, f);
    fclose(f);
    if (got != size) {
        free(buf);
        return ds_error(DS_E_IO, "%s: short read (%zu of %zu bytes)", path, got, size);
    }
    int rc = ds_ingest_memory(buf, size, opts, out);
    free(buf);
    if (rc) {
        char detail[1024];
        snprintf(detail, sizeof detail, "%s", ds_errmsg());
        return ds_error(rc, "%s: %s", path, detail);
    }
    return 0;
}

int ds_fuzz_ingest(const uint8_t *data, size_t size) {
    ds_ingest_opts o;
    ds_ingest_opts_default(&o);
    o.max_pages = 3;
    o.max_pixels = 4 * 1000 * 1000;
    o.max_seconds = 5;
    o.dpi = 36;
    o.ocr = DS_OCR_NEVER; // OCR is Tesseract's code, not ours, and slow
    o.enc_size = 64;
    ds_doc *doc = NULL;
    int rc = ds_ingest_memory(data, size, &o, &doc);
    ds_doc_free(doc);
    return rc;
}
