// cmd-extract.c: `docseek extract FILE... [--type T] [--model M] [--adapter A]
// [--no-windows] [--no-vision] [--pretty]`: the main job from the command line. Each file is
// read (OCR where a page has no text layer) and extracted by the model; one
// JSON object per file goes to stdout, in the order given: its type, every
// field with the value as printed, its normalised form (ISO date, decimal
// amount, ...), page, box and confidence, the page count, the time of each
// stage, the model and how sure it was of the type. A file that cannot be
// read becomes an object with its error's name and message, and the others go
// on (exit 1 at the end).
#include "cli/cli.h"
#include "cli/extractor-opts.h"
#include "cli/ingest-opts.h"
#include "fusion/result.h"
#include "core/error.h"
#include "core/timer.h"
#include "fusion/extract.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const char *usage_text =
    "usage: docseek extract FILE... [options]\n"
    "Reads each document (PDF or image; OCR where a page has no text layer) and prints\n"
    "its extraction as one JSON object a line: doc_type, fields (value as printed,\n"
    "normalized, page, box in page points, confidence), pages, timings, model; withheld:\n"
    "the values a calibration that withholds unsure ones took out of fields.\n"
    "  --type T        the document type (invoice, receipt, form, contract); default: the\n"
    "                  model names it\n" DS_CLI_EXTRACTOR_USAGE
    "  --pretty        indented JSON instead of one line per document\n" DS_CLI_INGEST_USAGE;

// Extracts one file into *out (the result object, or the error object). Returns 0 or
// the error's code.
static int extract_one(ds_extractor *x, const ds_schema_set *schemas, const ds_ingest_opts *io,
                       const char *path, const char *type, const char *model_path, json_t **out) {
    ds_doc *doc = NULL;
    double t0 = ds_time_s();
    int rc = ds_ingest_file(path, io, &doc);
    double t1 = ds_time_s();
    json_t *pred = NULL;
    if (!rc) rc = ds_extractor_doc(x, doc, type, &pred);
    ds_result_info ri = {.file = path,
                         .model = model_path,
                         .ms_ingest = (t1 - t0) * 1e3,
                         .ms_model = (ds_time_s() - t1) * 1e3};
    *out = rc ? ds_result_error(&ri, rc) : ds_result_json(&ri, pred, doc, schemas);
    if (!rc && !*out) rc = ds_error(DS_E_NOMEM, "extract: out of memory");
    json_decref(pred);
    ds_doc_free(doc);
    return rc;
}

int ds_cmd_extract(int argc, char **argv) {
    const char *files[4096], *type = NULL;
    int n_files = 0, pretty = 0, k;
    ds_extractor_cfg cfg = ds_cli_extractor_defaults();
    ds_ingest_opts io;
    ds_ingest_opts_default(&io);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage_text, stdout);
            return 0;
        } else if (!strcmp(a, "--pretty")) {
            pretty = 1;
        } else if (!strcmp(a, "--json")) {
            pretty = 0;
        } else if (ds_cli_extractor_option(argc, argv, &i, &cfg)) {
            continue; // the model's options, read into cfg
        } else if ((k = ds_cli_ingest_option("extract", argc, argv, &i, &io)) != 0) {
            if (k < 0) return 2;
        } else if (!strcmp(a, "--type") && v) {
            type = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "docseek extract: unknown or incomplete option '%s'\n%s", a,
                    usage_text);
            return 2;
        } else if (n_files < (int)(sizeof files / sizeof *files)) {
            files[n_files++] = a;
        } else {
            fprintf(stderr, "docseek extract: more than %d files; use docseek ingest for folders\n",
                    (int)(sizeof files / sizeof *files));
            return 2;
        }
    }
    if (!n_files) {
        fputs(usage_text, stderr);
        return 2;
    }
    ds_extractor *x = NULL;
    int rc = ds_extractor_open(&cfg, &x);
    const ds_schema_set *schemas = rc ? NULL : ds_extractor_schemas(x);
    if (!rc && type && !ds_schema_find(schemas, type))
        rc = ds_error(DS_E_INVAL, "--type %s: no such document type in %s", type, cfg.schemas_dir);
    if (!rc) ds_extractor_ingest_model(x, &io);
    int failed = 0;
    for (int i = 0; !rc && i < n_files; i++) {
        json_t *o = NULL;
        failed += extract_one(x, schemas, &io, files[i], type, cfg.model, &o) != 0;
        char *s = o ? json_dumps(o, (pretty ? JSON_INDENT(2) : JSON_COMPACT) |
                                        JSON_REAL_PRECISION(6) | JSON_PRESERVE_ORDER)
                    : NULL;
        if (s) printf("%s\n", s);
        fflush(stdout);
        free(s);
        json_decref(o);
    }
    ds_extractor_free(x);
    ds_ingest_thread_cleanup(); // Tesseract's per-thread engine
    if (rc) return ds_cli_fail("extract", rc);
    if (failed) fprintf(stderr, "docseek extract: %d of %d files failed\n", failed, n_files);
    return failed ? 1 : 0;
}
