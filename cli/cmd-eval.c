// cmd-eval.c: `docseek eval --gt DIR --pred FILE`: scores predictions (JSON
// lines) against ground truth in docseek's format or a public set's (SROIE,
// FUNSD, Kleister, CORD) and prints a table; --json and --html write the
// report; --write-truth writes the truth as a perfect prediction. With
// --extractor NAME it runs an extractor on each document instead of reading
// predictions. It trains and tunes nothing.
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/extractor-opts.h"
#include "samples/calibration.h"
#include "core/error.h"
#include "fusion/extract.h"
#include "ingest/ingest.h"
#include "samples/eval.h"
#include "samples/form-entities.h"
#include "samples/rules.h"
#include "samples/schema.h"
#include "samples/gt-formats.h"
#include "samples/gt-words.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *usage_text =
    "usage: docseek eval --gt DIR (--pred FILE | --extractor NAME) [options]\n"
    "Scores predictions against ground truth: micro precision, recall and F1 overall, per\n"
    "document type and per field; grounding (IoU >= 0.5); the worst documents.\n"
    "  --gt DIR            the ground truth (its layout depends on --format)\n"
    "  --format F          docseek (DIR/NAME.json beside NAME.pdf, default), sroie (DIR/key),\n"
    "                      funsd (DIR/annotations), kleister (DIR/labels.tsv), cord (DIR/*.json)\n"
    "  --pred FILE         predictions, one JSON object a line: {\"id\" or \"file\", "
    "\"doc_type\",\n"
    "                      \"fields\": {name: value | [values] | {\"value\", \"page\", \"box\"}}}\n"
    "                      (boxes in page points; \"units\": \"pixels\" for the image's)\n"
    "  --extractor NAME    run an extractor on every document instead of reading --pred:\n"
    "                      rules (the baseline) or model (docseek's model, see --model)\n"
    "  --model FILE        the model of --extractor model (default " DS_DEFAULT_MODEL ")\n"
    "  --adapter FILE      a LoRA adapter for it (docseek finetune --lora; default: the\n"
    "                      type's own, MODEL.TYPE.lora.safetensors, beside the model)\n"
    "  --no-type-adapters  the base weights alone for every document, no type's adapter\n"
    "  --device D          cpu, cuda, cuda:N or auto (default: GPU 0 when present)\n"
    "  --calibration FILE  calibrated confidences from FILE (default: the model's own,\n"
    "                      MODEL.calibration.json beside it, when there is one); none: raw\n"
    "  --fit-calibration FILE  fit a calibration of the model's raw confidences to how\n"
    "                      often they were right here, and write it to FILE; with it, the\n"
    "                      fields whose unsure values are better withheld (the threshold\n"
    "                      that maximised F1 here): extract, ingest and serve then output\n"
    "                      null for them and list them under \"withheld\"\n"
    "  --no-withhold       with --fit-calibration: confidences only, nothing withheld\n"
    "  --withhold-z Z      how sure the fit must be that withholding helps: the withheld\n"
    "                      values count as right as often as Wilson's interval at Z allows\n"
    "                      (default 1.645, one-sided 95%; 0: the best F1 on these documents)\n"
    "  --decode-f32        decode with the model's f32 weights (default: bf16 copies of them,\n"
    "                      half the bytes a decoded token reads; the prefill stays f32)\n"
    "  --no-windows        read only the first max_seq tokens of a document longer than one\n"
    "                      sequence (default: windows of pages and their answers merged, as\n"
    "                      extract, ingest and serve read it)\n"
    "  --spans-only        a text, date or amount value is a run of the document's words or\n"
    "                      null, never text the model generates\n"
    "  --copy-constraint C what a generated value may be, to measure the constraint: run (a\n"
    "                      run of the document's tokens, the default), bigram (each token one\n"
    "                      that follows the one before somewhere in the document), none\n"
    "  --no-type-constraint  dates and amounts need not read as a date / an amount\n"
    "  --keep-generated-runs  a generated value that spells a run of the document's words\n"
    "                      stands (default: it is taken back, and the pointers choose the run)\n"
    "  --no-vision         the model sees a blank page instead of the page image\n"
    "  --schemas DIR       doc and field types, docseek format (default samples/schemas)\n"
    "  --uppercase         compare text fields upper-cased (Kleister always does)\n"
    "  --month-first       read numeric dates month/day/year (default day/month/year, but\n"
    "                      month first for --format kleister: US filings)\n"
    "  --day-first         read numeric dates day/month/year\n"
    "  --json FILE         write the report as JSON\n"
    "  --html FILE         write an HTML page of the wrong fields beside their pages\n"
    "  --worst N           documents listed in the table (default 10)\n"
    "  --write-truth FILE  write the truth as prediction lines (a prediction scoring 1.0)\n"
    "  --given-type        tell the extractor each document's true type (default: it guesses)\n"
    "  --set-words         read each scan's words from its set (sroie: DIR/box/NAME.csv, funsd:\n"
    "                      the annotations' words), as SROIE task 3 and FUNSD's labelling\n"
    "                      define them, instead of docseek's OCR (both extractors)\n"
    "  --quiet             no table on stdout\n";

// What the extractors get: the schemas, and whether to tell them the true type.
typedef struct {
    ds_schema_set schemas;
    int given_type;
    int set_words;         // --set-words: the set's own words instead of OCR
    ds_eval_format format; // FUNSD wants entities and links instead of fields
    const char *model_path;
    ds_extractor *x; // --extractor model: the model, loaded once (fusion/extract.h)
} ds_extract_env;

// The type an extractor is told: the truth's with --given-type, and always one the
// model and the rules never pick by themselves (form_entities); else NULL (guess).
static const char *told_type(const ds_extract_env *env, const char *doc_type) {
    return env->given_type ? doc_type : ds_schema_named_only(&env->schemas, doc_type);
}

// The rules baseline over one document: ingest (OCR where needed), then the rules.
static int rules_extract(const char *doc_path, const char *doc_type, json_t **pred, void *user) {
    ds_extract_env *env = user;
    ds_ingest_opts o;
    ds_ingest_opts_default(&o);
    o.no_pixels = 1;
    ds_doc *doc;
    int rc = ds_gt_ingest(env->format, env->set_words, doc_path, &o, &doc);
    if (rc) return rc;
    if (env->format == DS_EVAL_FUNSD) {
        rc = ds_rules_form_entities(doc, pred);
        if (!rc) ds_funsd_boxes_to_pixels(*pred, doc);
    } else {
        rc = ds_rules_extract(doc, &env->schemas, told_type(env, doc_type), pred);
    }
    ds_doc_free(doc);
    return rc;
}

// docseek's model over one document: ingest at the model's encoder size, decode.
static int model_extract(const char *doc_path, const char *doc_type, json_t **pred, void *user) {
    ds_extract_env *env = user;
    return ds_extractor_gt_file(env->x, env->format, env->set_words, doc_path,
                                told_type(env, doc_type), pred);
}

// The extractors `--extractor NAME` can run.
static const struct {
    const char *name;
    ds_eval_extract_fn fn;
} ds_extractors[] = {
    {"rules", rules_extract}, // label-proximity rules (samples/rules.h), the baseline
    {"model", model_extract}, // docseek's model (--model)
    {NULL, NULL},             // end of the table
};

static ds_eval_extract_fn find_extractor(const char *name) {
    for (int i = 0; ds_extractors[i].name; i++)
        if (strcmp(ds_extractors[i].name, name) == 0) return ds_extractors[i].fn;
    return NULL;
}

typedef struct {
    const char *gt, *pred, *extractor, *json, *html, *write_truth, *fit_calibration;
    ds_eval_format format;
    ds_eval_opts opts;
    int worst, quiet, given_type, set_words, no_withhold;
    double withhold_z;
    // --extractor model's model, schemas, calibration, --decode-f32, and its decoding
    // options (x.opts): --spans-only, --no-windows and the constraint switches
    ds_extractor_cfg x;
    int date_order_given; // --month-first or --day-first was given
} eval_args;

static int parse_args(int argc, char **argv, eval_args *a) {
    memset(a, 0, sizeof *a);
    a->worst = 10;
    a->withhold_z = DS_CALIB_WITHHOLD_Z;
    a->x = ds_cli_extractor_defaults(); // score what extract, ingest and serve output
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        int has_val = i + 1 < argc;
        if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
            fputs(usage_text, stdout);
            return 1;
        } else if (strcmp(s, "--uppercase") == 0) {
            a->opts.uppercase = 1;
        } else if (strcmp(s, "--month-first") == 0) {
            a->opts.month_first = 1;
            a->date_order_given = 1;
        } else if (strcmp(s, "--day-first") == 0) {
            a->opts.month_first = 0;
            a->date_order_given = 1;
        } else if (strcmp(s, "--quiet") == 0) {
            a->quiet = 1;
        } else if (strcmp(s, "--given-type") == 0) {
            a->given_type = 1;
        } else if (strcmp(s, "--set-words") == 0) {
            a->set_words = 1;
        } else if (strcmp(s, "--no-withhold") == 0) {
            a->no_withhold = 1;
        } else if (strcmp(s, "--withhold-z") == 0 && has_val) {
            if (ds_cli_real(s, argv[++i], 0, 10, &a->withhold_z)) {
                fprintf(stderr, "docseek eval: %s\n", ds_errmsg());
                return 2;
            }
        } else if (strcmp(s, "--decode-f32") == 0) {
            a->x.decode_f32 = 1;
        } else if (strcmp(s, "--spans-only") == 0) {
            a->x.opts.spans_only = 1;
        } else if (ds_cli_extractor_option(argc, argv, &i, &a->x)) {
            continue; // the model's options, read into a->x
        } else if (strcmp(s, "--no-type-constraint") == 0) {
            a->x.opts.no_type_constraint = 1;
        } else if (strcmp(s, "--keep-generated-runs") == 0) {
            a->x.opts.keep_generated_runs = 1;
        } else if (strcmp(s, "--copy-constraint") == 0 && has_val) {
            const char *c = argv[++i];
            a->x.opts.copy_constraint = !strcmp(c, "run")      ? DS_COPY_RUN
                                        : !strcmp(c, "bigram") ? DS_COPY_BIGRAM
                                        : !strcmp(c, "none")   ? DS_COPY_NONE
                                                               : -1;
            if (a->x.opts.copy_constraint < 0) {
                fprintf(stderr,
                        "docseek eval: --copy-constraint takes run, bigram or none, not "
                        "'%s'\n",
                        c);
                return 2;
            }
        } else if (strcmp(s, "--format") == 0 && has_val) {
            if (ds_eval_format_parse(argv[++i], &a->format) != 0) {
                fprintf(stderr, "docseek eval: %s\n", ds_errmsg());
                return 2;
            }
        } else if (strcmp(s, "--worst") == 0 && has_val) {
            if (ds_cli_int(s, argv[++i], 0, 100000, &a->worst)) {
                fprintf(stderr, "docseek eval: %s\n", ds_errmsg());
                return 2;
            }
        } else if (has_val && s[0] == '-') {
            const char **dst = !strcmp(s, "--gt")                ? &a->gt
                               : !strcmp(s, "--pred")            ? &a->pred
                               : !strcmp(s, "--fit-calibration") ? &a->fit_calibration
                               : !strcmp(s, "--extractor")       ? &a->extractor
                               : !strcmp(s, "--json")            ? &a->json
                               : !strcmp(s, "--html")            ? &a->html
                               : !strcmp(s, "--write-truth")     ? &a->write_truth
                                                                 : NULL;
            if (!dst) {
                fprintf(stderr, "docseek eval: unexpected argument '%s'\n%s", s, usage_text);
                return 2;
            }
            *dst = argv[++i];
        } else {
            fprintf(stderr, "docseek eval: unexpected argument '%s'\n%s", s, usage_text);
            return 2;
        }
    }
    if (!a->date_order_given) a->opts.month_first = ds_eval_format_month_first(a->format);
    if (!a->gt || (a->pred && a->extractor) || (!a->pred && !a->extractor && !a->write_truth)) {
        fprintf(stderr,
                "docseek eval: needs --gt DIR and one of --pred FILE, --extractor NAME "
                "(or --write-truth FILE)\n%s",
                usage_text);
        return 2;
    }
    if (a->set_words && (!a->extractor || ds_gt_words_check(a->format))) {
        fprintf(stderr, "docseek eval: %s\n",
                a->extractor ? ds_errmsg() : "--set-words is for --extractor (what it reads)");
        return 2;
    }
    if (a->extractor && !find_extractor(a->extractor)) {
        fprintf(stderr, "docseek eval: unknown extractor '%s' (available: rules, model)\n",
                a->extractor);
        return 2;
    }
    return 0;
}

// --fit-calibration FILE: fits the confidences of the scored predictions to how often
// they were right, writes FILE, and prints the reliability the calibration gives on
// this same set (on other documents is the honest test: eval --calibration FILE).
static int fit_calibration(ds_eval_report *rep, const eval_args *a) {
    char what[4200];
    snprintf(what, sizeof what, "%s (%s, %s), %ld values", a->gt, ds_eval_format_name(a->format),
             a->extractor ? a->x.model : a->pred, rep->n_scored);
    ds_calibration c;
    int rc = ds_calib_fit(rep->scored, rep->n_scored, what, &c);
    if (rc) return rc;
    if (!a->no_withhold)
        rc = ds_calib_fit_withhold(&c, rep->scored, rep->n_scored, rep->overall, a->withhold_z);
    if (rc) {
        ds_calib_free(&c);
        return rc;
    }
    rc = ds_calib_save(&c, a->fit_calibration);
    if (!rc) {
        fprintf(stderr, "docseek eval: wrote %s: %d curves (", a->fit_calibration, c.n_curves);
        for (int i = 0; i < c.n_curves; i++)
            fprintf(stderr, "%s%s %ld values, %d steps", i ? "; " : "", c.curves[i].kind,
                    c.curves[i].n_values, c.curves[i].n_steps);
        fprintf(stderr, ")\n");
        for (int i = 0; i < c.n_withhold; i++) {
            const ds_calib_withhold *w = &c.withhold[i];
            fprintf(stderr,
                    "docseek eval: %s: values below raw confidence %.4g withheld (here %ld "
                    "wrong and %ld right of %ld)\n",
                    w->field, (double)w->raw_below, w->wrong, w->right, w->n_values);
        }
        ds_eval_report cal = {0};
        for (long i = 0; i < rep->n_scored; i++) {
            const ds_eval_scored *v = &rep->scored[i];
            double p = ds_calib_apply(&c, v->kind, v->conf);
            ds_eval_add_reliability(&cal, p, v->right);
        }
        if (!a->quiet) {
            printf("\nwith the calibration just fitted (on these same documents):");
            ds_eval_print_reliability(stdout, &cal);
        }
    }
    ds_calib_free(&c);
    return rc;
}

int ds_cmd_eval(int argc, char **argv) {
    eval_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc) return rc == 1 ? 0 : rc;
    ds_eval_set truth;
    if ((rc = ds_gt_load(a.format, a.gt, a.x.schemas_dir, &truth)) != 0)
        return ds_cli_fail("eval", rc);
    if (a.write_truth && (rc = ds_gt_write_truth(&truth, a.write_truth)) != 0) {
        ds_eval_set_free(&truth);
        return ds_cli_fail("eval", rc);
    }
    if (a.write_truth)
        fprintf(stderr, "docseek eval: wrote the truth of %d documents to %s\n", truth.n_docs,
                a.write_truth);
    if (!a.pred && !a.extractor) {
        ds_eval_set_free(&truth);
        return 0;
    }
    ds_extract_env env = {.given_type = a.given_type,
                          .set_words = a.set_words,
                          .format = a.format,
                          .model_path = a.x.model};
    if (a.extractor && (rc = ds_schema_set_load(a.x.schemas_dir, &env.schemas)) != 0) {
        ds_eval_set_free(&truth);
        return ds_cli_fail("eval", rc);
    }
    if (a.extractor && strcmp(a.extractor, "model") == 0) { // load once, fail fast
        ds_extractor_cfg xc = a.x;
        xc.schemas = &env.schemas;
        if (a.fit_calibration) xc.calibration = "none"; // fitting wants the raw confidences
        if ((rc = ds_extractor_open(&xc, &env.x))) {
            ds_schema_set_free(&env.schemas);
            ds_eval_set_free(&truth);
            return ds_cli_fail("eval", rc);
        }
    }
    ds_eval_preds preds;
    rc = a.pred ? ds_eval_preds_load(a.pred, &truth, &preds)
                : ds_eval_run_extractor(&truth, find_extractor(a.extractor), &env, &preds);
    ds_extractor_free(env.x);
    ds_schema_set_free(&env.schemas);
    ds_ingest_thread_cleanup();
    ds_eval_report rep;
    if (!rc) rc = ds_eval_score(&truth, &preds, &a.opts, &rep);
    if (rc) {
        ds_eval_preds_free(&preds);
        ds_eval_set_free(&truth);
        return ds_cli_fail("eval", rc);
    }
    if (rep.n_pred_unmatched)
        fprintf(stderr, "docseek eval: warning: %d prediction(s) name no document of %s\n",
                rep.n_pred_unmatched, a.gt);
    if (preds.n_foreign_type)
        fprintf(stderr,
                "docseek eval: warning: %d prediction(s) name a document type outside the set "
                "(scored as wrong types)\n",
                preds.n_foreign_type);
    if (preds.n_extract_failed)
        fprintf(stderr, "docseek eval: warning: the extractor failed on %d document(s)\n",
                preds.n_extract_failed);
    if (!a.quiet) ds_eval_print_table(stdout, &rep, a.worst);
    if (a.fit_calibration) rc = fit_calibration(&rep, &a);
    if (!rc && a.json) rc = ds_eval_write_json(&rep, a.json);
    if (!rc && a.html) rc = ds_eval_write_html(&rep, a.html);
    ds_eval_report_free(&rep);
    ds_eval_preds_free(&preds);
    ds_eval_set_free(&truth);
    return rc ? ds_cli_fail("eval", rc) : 0;
}
