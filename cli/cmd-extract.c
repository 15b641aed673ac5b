// cmd-extract.c: `docseek extract FILE... [--type T] [--model M] [--adapter A]
// [--windows] [--pretty]`: the main job from the command line. Each file is
// read (OCR where a page has no text layer) and extracted by the model; one
// JSON object per file goes to stdout, in the order given: its type, every
// field with the value as printed, its normalised form (ISO date, decimal
// amount, ...), page, box and confidence, the page count, the time of each
// stage, the model and how sure it was of the type. A file that cannot be
// read becomes an object with its error's name and message, and the others go
// on (exit 1 at the end).
#include "cli/cli.h"
#include "core/error.h"
#include "core/timer.h"
#include "fusion/extract.h"
#include "fusion/infer.h"
#include "fusion/lora.h"
#include "samples/normalize.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const char *usage_text =
    "usage: docseek extract FILE... [options]\n"
    "Reads each document (PDF or image; OCR where a page has no text layer) and prints\n"
    "its extraction as one JSON object a line: doc_type, fields (value as printed,\n"
    "normalized, page, box in page points, confidence), pages, timings, model.\n"
    "  --type T        the document type (invoice, receipt, form, contract); default: the\n"
    "                  model names it\n"
    "  --model M       the model (default " DS_DEFAULT_MODEL ")\n"
    "  --adapter A     a LoRA adapter for it (docseek finetune --lora)\n"
    "  --windows       read a document longer than one sequence in windows of pages\n"
    "  --schemas DIR   document types and fields (default samples/schemas)\n"
    "  --pretty        indented JSON instead of one line per document\n";

// Adds "normalized" beside a value of field type t: the evaluator's canonical form
// when the type's parser reads it (dates, amounts, currencies, check boxes,
// durations), null otherwise.
static void add_normalized(json_t *v, ds_field_type t) {
    if (!json_is_object(v)) return;
    json_t *raw = json_object_get(v, "value");
    json_t *norm = json_null();
    ds_norm_opts o = {0};
    ds_norm_value n;
    int typed = t == DS_FIELD_DATE || t == DS_FIELD_AMOUNT || t == DS_FIELD_CURRENCY ||
                t == DS_FIELD_CHECKBOX || t == DS_FIELD_DURATION;
    if (json_is_boolean(raw)) {
        norm = json_incref(raw);
    } else if (typed && json_is_string(raw) &&
               ds_norm_value_make(t, json_string_value(raw), &o, &n) == 0) {
        if (n.parsed) norm = json_string(n.text);
        ds_norm_value_free(&n);
    }
    json_object_set_new(v, "normalized", norm);
}

static void normalize_fields(json_t *out, const ds_schema_set *schemas) {
    const ds_schema *sc =
        ds_schema_find(schemas, json_string_value(json_object_get(out, "doc_type")));
    json_t *fields = json_object_get(out, "fields");
    for (int f = 0; sc && f < sc->n_fields; f++) {
        json_t *v = json_object_get(fields, sc->fields[f].name);
        size_t i;
        json_t *item;
        if (json_is_array(v))
            json_array_foreach(v, i, item) add_normalized(item, sc->fields[f].type);
        else
            add_normalized(v, sc->fields[f].type);
    }
}

// Extracts one file into *out (the result object, or the error object). Returns 0 or
// the error's code.
static int extract_one(ds_extractor *x, const ds_schema_set *schemas, const char *path,
                       const char *type, const char *model_path, json_t **out) {
    ds_ingest_opts io;
    ds_extractor_ingest_opts(x, &io);
    ds_doc *doc = NULL;
    double t0 = ds_time_s();
    int rc = ds_ingest_file(path, &io, &doc);
    double t1 = ds_time_s();
    json_t *res = NULL;
    if (!rc) rc = ds_extractor_doc(x, doc, type, &res);
    double t2 = ds_time_s();
    if (rc) {
        *out = json_pack("{s:s, s:{s:s, s:s}}", "file", path, "error", "code", ds_err_name(rc),
                         "message", ds_errmsg()[0] ? ds_errmsg() : ds_strerror(rc));
        ds_doc_free(doc);
        return rc;
    }
    double ocr = 0, render = 0, text = 0;
    for (int p = 0; p < doc->n_pages; p++)
        ocr += doc->pages[p].ms_ocr, render += doc->pages[p].ms_render,
            text += doc->pages[p].ms_text;
    normalize_fields(res, schemas);
    json_t *o = json_pack("{s:s, s:O, s:O, s:i, s:{s:f, s:f, s:f, s:f, s:f}, s:s}", "file", path,
                          "doc_type", json_object_get(res, "doc_type"), "fields",
                          json_object_get(res, "fields"), "pages", doc->n_pages, "timings_ms",
                          "ingest", (t1 - t0) * 1e3, "render", render, "text_layer", text, "ocr",
                          ocr, "model", (t2 - t1) * 1e3, "model", model_path);
    json_t *w = json_object_get(res, "windows");
    if (w) json_object_set(o, "windows", w);
    json_object_set(o, "type_confidence", json_object_get(res, "confidence"));
    json_decref(res);
    ds_doc_free(doc);
    *out = o;
    return 0;
}

int ds_cmd_extract(int argc, char **argv) {
    const char *files[4096], *type = NULL, *model_path = DS_DEFAULT_MODEL, *adapter = NULL;
    const char *schemas_dir = "samples/schemas";
    int n_files = 0, pretty = 0, windows = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage_text, stdout);
            return 0;
        } else if (!strcmp(a, "--pretty")) {
            pretty = 1;
        } else if (!strcmp(a, "--json")) {
            pretty = 0;
        } else if (!strcmp(a, "--windows")) {
            windows = 1;
        } else if (a[0] == '-' && a[1] == '-' && v) {
            const char **dst = !strcmp(a, "--type")      ? &type
                               : !strcmp(a, "--model")   ? &model_path
                               : !strcmp(a, "--adapter") ? &adapter
                               : !strcmp(a, "--schemas") ? &schemas_dir
                                                         : NULL;
            if (!dst) {
                fprintf(stderr, "docseek extract: unknown option '%s'\n%s", a, usage_text);
                return 2;
            }
            *dst = v;
            i++;
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
    ds_schema_set schemas;
    ds_model *m = NULL;
    ds_lora *l = NULL;
    ds_ctx *ctx = NULL;
    ds_extractor *x = NULL;
    int rc = ds_schema_set_load(schemas_dir, &schemas);
    if (rc) return ds_cli_fail("extract", rc);
    if (type && !ds_schema_find(&schemas, type))
        rc = ds_error(DS_E_INVAL, "--type %s: no such document type in %s", type, schemas_dir);
    if (!rc) rc = ds_model_load(model_path, &m);
    if (!rc && adapter && !(rc = ds_lora_load(adapter, m, &l))) ds_lora_attach(m, l);
    if (!rc) rc = ds_infer_set_bf16(m, 1);
    if (!rc && !(ctx = ds_ctx_new(DS_BACKEND_CPU, 2)))
        rc = ds_error(DS_E_NOMEM, "cannot start the compute threads");
    if (!rc) rc = ds_extractor_new(m, ctx, &schemas, &x);
    if (!rc) ds_extractor_set_opts(x, &(ds_decode_opts){.windows = windows});
    int failed = 0;
    for (int i = 0; !rc && i < n_files; i++) {
        json_t *o = NULL;
        failed += extract_one(x, &schemas, files[i], type, model_path, &o) != 0;
        char *s = o ? json_dumps(o, (pretty ? JSON_INDENT(2) : JSON_COMPACT) |
                                        JSON_REAL_PRECISION(6) | JSON_PRESERVE_ORDER)
                    : NULL;
        if (s) printf("%s\n", s);
        fflush(stdout);
        free(s);
        json_decref(o);
    }
    ds_extractor_free(x);
    ds_ctx_free(ctx);
    ds_model_free(m);
    ds_lora_free(l);
    ds_schema_set_free(&schemas);
    ds_ingest_thread_cleanup(); // Tesseract's per-thread engine
    if (rc) return ds_cli_fail("extract", rc);
    if (failed) fprintf(stderr, "docseek extract: %d of %d files failed\n", failed, n_files);
    return failed ? 1 : 0;
}
