// ingest-opts.c: see ingest-opts.h.
#include "cli/ingest-opts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_num(const char *cmd, const char *flag, const char *s, double lo, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || v < lo) {
        fprintf(stderr, "docseek %s: %s needs a number >= %g, got '%s'\n", cmd, flag, lo, s);
        return -1;
    }
    *out = v;
    return 0;
}

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
    static const struct {
        const char *flag;
        double lo;
    } num[] = {{"--dpi", 18},
               {"--max-pages", 1},
               {"--max-pixels", 1},
               {"--max-bytes", 1},
               {"--timeout", 0}};
    int k = -1;
    for (int j = 0; j < (int)(sizeof num / sizeof *num); j++)
        if (!strcmp(a, num[j].flag)) k = j;
    if (k < 0 && strcmp(a, "--ocr") && strcmp(a, "--ocr-layout")) return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "docseek %s: %s needs a value\n", cmd, a);
        return -1;
    }
    const char *s = argv[++*i];
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
    double v;
    if (parse_num(cmd, a, s, num[k].lo, &v)) return -1;
    switch (k) {
    case 0:
        o->dpi = (float)v;
        break;
    case 1:
        o->max_pages = (int)v;
        break;
    case 2:
        o->max_pixels = (int64_t)v;
        break;
    case 3:
        o->max_bytes = (size_t)v;
        break;
    default:
        o->max_seconds = v;
        break;
    }
    return 1;
}
