// ingest-opts.c: see ingest-opts.h.
#include "cli/ingest-opts.h"
#include "cli/args.h"
#include "core/error.h"

#include <stdio.h>
#include <string.h>

int ds_cli_ingest_option(const char *cmd, int argc, char **argv, int *i, ds_ingest_opts *o) {
    const char *a = argv[*i];
    if (!strcmp(a, "--no-marks")) {
        o->no_marks = 1;
        return 1;
    }
    if (!strcmp(a, "--no-graphic-text")) {
        o->no_graphic_text = 1;
        return 1;
    }
    enum { DPI, MAX_PAGES, MAX_PIXELS, MAX_BYTES, TIMEOUT }; // num's order
    static const char *const num[] = {"--dpi", "--max-pages", "--max-pixels", "--max-bytes",
                                      "--timeout"};
    int k = -1;
    for (int j = 0; j < (int)(sizeof num / sizeof *num); j++)
        if (!strcmp(a, num[j])) k = j;
    if (k < 0 && strcmp(a, "--ocr") && strcmp(a, "--ocr-layout") && strcmp(a, "--ocr-lang"))
        return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "docseek %s: %s needs a value\n", cmd, a);
        return -1;
    }
    const char *s = argv[++*i];
    if (k < 0 && !strcmp(a, "--ocr-lang")) {
        if (ds_ocr_lang_check(s) == 0) {
            o->ocr_lang = s; // argv outlives the options
            return 1;
        }
        fprintf(stderr, "docseek %s: --ocr-lang: %s\n", cmd, ds_errmsg());
        return -1;
    }
    if (k < 0 && !strcmp(a, "--ocr-layout")) {
        if (ds_ocr_layout_parse(s, &o->ocr_layout) == 0) return 1;
        fprintf(stderr, "docseek %s: --ocr-layout takes " DS_OCR_LAYOUT_CHOICES ", not '%s'\n", cmd,
                s);
        return -1;
    }
    if (k < 0) {
        if (ds_ocr_mode_parse(s, &o->ocr) == 0) return 1;
        fprintf(stderr, "docseek %s: --ocr takes " DS_OCR_MODE_CHOICES ", not '%s'\n", cmd, s);
        return -1;
    }
    int64_t whole = 0;
    double real = 0;
    int rc = k == DPI         ? ds_cli_real(a, s, 18, 2400, &real)
             : k == TIMEOUT   ? ds_cli_real(a, s, 0, 86400, &real)
             : k == MAX_PAGES ? ds_cli_whole(a, s, 1, DS_CLI_INT_MAX, &whole)
                              : ds_cli_whole(a, s, 1, DS_CLI_WHOLE_MAX, &whole);
    if (rc) {
        fprintf(stderr, "docseek %s: %s\n", cmd, ds_errmsg());
        return -1;
    }
    if (k == DPI) o->dpi = (float)real;
    if (k == MAX_PAGES) o->max_pages = (int)whole;
    if (k == MAX_PIXELS) o->max_pixels = whole;
    if (k == MAX_BYTES) o->max_bytes = (size_t)whole;
    if (k == TIMEOUT) o->max_seconds = real;
    return 1;
}
