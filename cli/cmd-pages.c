// cmd-pages.c: `docseek pages FILE`: ingests one document and prints it as
// JSON (pages, sizes, words with boxes, fonts, source, confidences, timings);
// with --png DIR, writes each rendered page with its word boxes drawn.
// It shows what the model will read; it extracts nothing.
#include "cli/cli.h"
#include "cli/ingest-opts.h"
#include "core/error.h"
#include "ingest/ingest.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *usage_text =
    "usage: docseek pages FILE [options]\n"
    "Reads a PDF or image and prints its pages and words as JSON.\n" DS_CLI_INGEST_USAGE
    "  --png DIR        write DIR/page-N.png with the word boxes drawn (marks in green)\n"
    "  --compact        one line of JSON\n"
    "  --summary        one human-readable line per page instead of JSON\n";

static json_t *box_json(ds_box b) {
    return json_pack("[f, f, f, f]", round(b.x0 * 100) / 100, round(b.y0 * 100) / 100,
                     round(b.x1 * 100) / 100, round(b.y1 * 100) / 100);
}

// The document's pages and words as JSON; an OCR'd page names the layout and the
// languages it was read with.
static json_t *doc_json(const char *path, const ds_doc *doc, const ds_ingest_opts *o) {
    json_t *pages = json_array();
    for (int i = 0; i < doc->n_pages; i++) {
        const ds_page *p = &doc->pages[i];
        json_t *words = json_array();
        for (int k = 0; k < p->n_words; k++) {
            const ds_word *w = &p->words[k];
            json_t *jw =
                json_pack("{s:s, s:o, s:i, s:s, s:f, s:b, s:s, s:f}", "text", w->text, "box",
                          box_json(w->box), "line", w->line, "font", w->font, "font_size",
                          round(w->font_size * 100) / 100, "bold", w->bold, "source",
                          ds_word_source_name(w->source), "conf", round(w->conf * 1000) / 1000);
            json_array_append_new(words, jw);
        }
        json_t *jp = json_pack(
            "{s:i, s:f, s:f, s:i, s:i, s:i, s:i, s:s, s:f, s:{s:f, s:f, s:f}, s:o}", "page", i + 1,
            "width_pt", round(p->width_pt * 100) / 100, "height_pt",
            round(p->height_pt * 100) / 100, "image_width", p->img_w, "image_height", p->img_h,
            "n_words", p->n_words, "n_lines", p->n_lines, "text_source",
            p->ocr_used ? "ocr" : "pdf", "skew_deg", round(atan(p->skew) * 180 / M_PI * 100) / 100,
            "ms", "render", round(p->ms_render * 10) / 10, "text", round(p->ms_text * 10) / 10,
            "ocr", round(p->ms_ocr * 10) / 10, "words", words);
        if (p->ocr_used) {
            json_object_set_new(jp, "ocr_layout", json_string(ds_ocr_layout_name(o->ocr_layout)));
            json_object_set_new(jp, "ocr_lang", json_string(o->ocr_lang ? o->ocr_lang : "eng"));
        }
        json_array_append_new(pages, jp);
    }
    return json_pack("{s:s, s:s, s:i, s:f, s:o}", "file", path, "format",
                     ds_format_name(doc->format), "n_pages", doc->n_pages, "ms_total",
                     round(doc->ms_total * 10) / 10, "pages", pages);
}

// mkdir -p: creates dir and any missing parents; 0 or -1 with errno set.
static int mkdir_parents(const char *dir) {
    char path[4096];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return mkdir(path, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

int ds_cmd_pages(int argc, char **argv) {
    ds_ingest_opts o;
    ds_ingest_opts_default(&o);
    const char *path = NULL, *png_dir = NULL;
    int compact = 0, summary = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int k;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage_text, stdout);
            return 0;
        } else if (strcmp(a, "--compact") == 0) {
            compact = 1;
        } else if (strcmp(a, "--summary") == 0) {
            summary = 1;
        } else if (strcmp(a, "--png") == 0 && i + 1 < argc) {
            png_dir = argv[++i];
        } else if ((k = ds_cli_ingest_option("pages", argc, argv, &i, &o)) != 0) {
            if (k < 0) return 2;
        } else if (a[0] == '-' || path) {
            fprintf(stderr, "docseek pages: unexpected argument '%s'\n%s", a, usage_text);
            return 2;
        } else {
            path = a;
        }
    }
    if (!path) {
        fputs(usage_text, stderr);
        return 2;
    }
    o.no_pixels = 1; // the encoder tensor is not printed
    ds_doc *doc;
    int rc = ds_ingest_file(path, &o, &doc);
    ds_ingest_thread_cleanup();
    if (rc) return ds_cli_fail("pages", rc);
    if (png_dir) {
        if (mkdir_parents(png_dir) != 0) {
            ds_doc_free(doc);
            return ds_cli_fail("pages", ds_error(DS_E_IO, "%s: %s", png_dir, strerror(errno)));
        }
        for (int i = 0; i < doc->n_pages && rc == 0; i++) {
            char out[4096];
            snprintf(out, sizeof out, "%s/page-%d.png", png_dir, i + 1);
            rc = ds_page_save_png(&doc->pages[i], out, 1);
        }
        if (rc) {
            ds_doc_free(doc);
            return ds_cli_fail("pages", rc);
        }
    }
    if (summary) {
        printf("%s: %s, %d page(s), %.0f ms\n", path, ds_format_name(doc->format), doc->n_pages,
               doc->ms_total);
        for (int i = 0; i < doc->n_pages; i++) {
            const ds_page *p = &doc->pages[i];
            printf("  page %d: %.0fx%.0f pt, %d words in %d lines from %s", i + 1, p->width_pt,
                   p->height_pt, p->n_words, p->n_lines, p->ocr_used ? "OCR" : "the text layer");
            for (int k = 0; k < p->n_words && k < 8; k++)
                printf("%s%s", k ? " " : ": ", p->words[k].text);
            printf("%s\n", p->n_words > 8 ? " ..." : "");
        }
        ds_doc_free(doc);
        return 0;
    }
    json_t *j = doc_json(path, doc, &o);
    json_dumpf(j, stdout, compact ? JSON_COMPACT : JSON_INDENT(1));
    printf("\n");
    json_decref(j);
    ds_doc_free(doc);
    return 0;
}
