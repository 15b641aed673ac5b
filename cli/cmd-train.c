// cmd-train.c: `docseek train`: trains a model on folders of labelled
// documents (NAME.pdf / .png / ... with NAME.json beside it; `docseek synth`
// writes such folders), with checkpoints, resume, periodic held-out
// evaluation and a CSV of the curves. The model starts from a config and a
// tokenizer (`docseek tokenizer train`), or from an existing model file.
#include "cli/cli.h"
#include "cli/train-opts.h"
#include "core/error.h"
#include "core/log.h"
#include "ingest/ingest.h"
#include "samples/gt-words.h"
#include "train/loop.h"
#include "train/plot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *usage_text =
    "usage: docseek train --data DIR [--data DIR ...] --out MODEL\n"
    "                     (--config FILE --tokenizer TOK | --init MODEL) [options]\n"
    "  --format F        the folders' ground truth: docseek (default), sroie, kleister,\n"
    "                    cord, funsd (the formats docseek eval reads; FUNSD's entities\n"
    "                    train the form_entities type)\n"
    "  --data DIR            labelled documents (NAME.pdf/.png/... beside NAME.json)\n"
    "  --out MODEL           the trained model (also written at the end of every run)\n"
    "  --config FILE         model settings (configs/*.json) for a new model\n"
    "  --tokenizer TOK       its tokenizer (docseek tokenizer train)\n"
    "  --init MODEL          start from this model instead\n"
    "  --steps N             schedule length (default 2000)\n"
    "  --batch N             documents per step (default 4)\n"
    "  --lr X                peak learning rate (default 2e-3); --warmup N (100); --min-lr F "
    "(0.1)\n"
    "  --clip X              global gradient norm limit (default 1)\n"
    "  --weight-decay X      AdamW decoupled decay (default 0)\n"
    "  --seed N              initialisation and data order (default 1)\n"
    "  --device D            cpu, cuda, cuda:N, or auto (default: the GPU when one is\n"
    "                        present, else the CPU); the held-out evaluation runs there too\n"
    "  --threads N           compute threads on the CPU (default 2)\n"
    "  --prep-threads N      document preparation threads (default 2)\n"
    "  --cache DIR           prepared-document cache (default .docseek-cache)\n"
    "  --checkpoint FILE     (default MODEL.ckpt); --checkpoint-every N (default 200)\n"
    "  --resume              continue from the checkpoint, bit for bit\n"
    "  --recompute           recompute each LM layer's activations in the backward instead\n"
    "                        of keeping them (less memory, one more forward; same result)\n"
    "  --windows             a document longer than one sequence trains on one of its\n"
    "                        windows (picked by its path); values the window does not\n"
    "                        show are absent there (default: its first window only)\n"
    "  --stop-after N        stop this run after N steps (resume later)\n"
    "  --eval DIR            held-out labelled documents (in --format): field F1 every\n"
    "                        --eval-every N (500)\n"
    "  --given-type          the evaluation tells the model each document's true type\n"
    "  --set-words           the --data and --eval scans' words are their set's own (sroie,\n"
    "                        funsd; as eval --set-words), not docseek's OCR\n"
    "  --curve FILE          CSV of the curves (default MODEL.csv)\n"
    "  --schemas DIR         document schemas (default samples/schemas)\n"
    "       docseek train --plot FILE.csv   (re)draws FILE.png from a run's curves\n";

int ds_cmd_train(int argc, char **argv) {
    const char *dirs[64], *out = NULL, *config = NULL, *tok_path = NULL, *init = NULL;
    const char *curve = NULL;
    int n_dirs = 0, windows = 0;
    ds_train_opts o;
    ds_train_opts_default(&o);
    ds_cli_run r = ds_cli_run_defaults();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int got = ds_cli_train_option(argc, argv, &i, &o, &r);
        if (got < 0) {
            fprintf(stderr, "docseek train: %s\n", ds_errmsg());
            return 2;
        }
        if (got) continue;
        if (!strcmp(a, "--windows")) {
            windows = 1;
            continue;
        }
        if (!strcmp(a, "--plot") && v) { // redraw the curves of a finished run
            char png[4096];
            size_t L = strlen(v);
            snprintf(png, sizeof png, "%.*s.png", (int)(L > 4 ? L - 4 : L), v);
            int prc = ds_plot_curves(v, png);
            if (prc) return ds_cli_fail("train", prc);
            printf("wrote %s\n", png);
            return 0;
        }
        if (!strcmp(a, "--help")) {
            fputs(usage_text, stdout);
            return 0;
        }
        if (!v || a[0] != '-') {
            fprintf(stderr, "docseek train: unexpected or incomplete '%s'\n%s", a, usage_text);
            return 2;
        }
        i++;
        if (!strcmp(a, "--data") && n_dirs < 64)
            dirs[n_dirs++] = v;
        else if (!strcmp(a, "--out"))
            out = v;
        else if (!strcmp(a, "--config"))
            config = v;
        else if (!strcmp(a, "--tokenizer"))
            tok_path = v;
        else if (!strcmp(a, "--init"))
            init = v;
        else if (!strcmp(a, "--curve"))
            curve = v;
        else {
            fprintf(stderr, "docseek train: unknown option '%s'\n%s", a, usage_text);
            return 2;
        }
    }
    if (!n_dirs || !out || (!init && (!config || !tok_path)) || (init && config)) {
        fprintf(stderr,
                "docseek train: needs --data, --out, and --config with --tokenizer "
                "or --init\n%s",
                usage_text);
        return 2;
    }
    // the held-out documents are read as --data's are
    if (ds_eval_format_parse(r.format, &o.eval_format) ||
        (o.eval_set_words && ds_gt_words_check(o.eval_format))) {
        fprintf(stderr, "docseek train: %s\n", ds_errmsg());
        return 2;
    }
    // The steps and the held-out evaluation run on the device asked for (first: a wrong one
    // fails before any work).
    ds_ctx *ctx = NULL;
    int rc = ds_ctx_open(r.device, r.threads, &ctx);
    if (rc) return ds_cli_fail("train", rc);
    if (!getenv("OMP_THREAD_LIMIT"))
        DS_LOGW("OMP_THREAD_LIMIT is not set: OCR of scans runs ~7x slower");
    char ckpt_buf[4096], curve_buf[4096];
    if (!o.checkpoint) snprintf(ckpt_buf, sizeof ckpt_buf, "%s.ckpt", out), o.checkpoint = ckpt_buf;
    if (!curve) snprintf(curve_buf, sizeof curve_buf, "%s.csv", out), curve = curve_buf;
    o.curve_csv = curve;
    o.out = out;
    ds_schema_set schemas;
    if ((rc = ds_schema_set_load(o.schemas_dir, &schemas))) {
        ds_ctx_free(ctx);
        return ds_cli_fail("train", rc);
    }
    ds_model *m = NULL;
    if (init) {
        rc = ds_model_load(init, &m);
        if (!rc) rc = ds_model_make_writable(m);
    } else {
        ds_model_cfg cfg;
        ds_tokenizer *tok = NULL;
        rc = ds_model_cfg_load(config, &cfg);
        if (!rc) rc = ds_tokenizer_load(tok_path, &tok);
        if (!rc) cfg.vocab = ds_tokenizer_vocab_size(tok);
        if (!rc) rc = ds_model_cfg_check(&cfg);
        if (!rc) rc = ds_model_init(&cfg, tok, o.seed, &m);
        if (rc) ds_tokenizer_free(tok);
    }
    if (rc) {
        ds_schema_set_free(&schemas);
        ds_ctx_free(ctx);
        return ds_cli_fail("train", rc);
    }
    // auto takes the CPU for a model with host-only heads (ds_trainer_device); a GPU asked
    // for by name is refused by the trainer below, before any document is prepared.
    if (ctx->backend != DS_BACKEND_CPU && !strcmp(ds_trainer_device(&m->cfg, r.device), "cpu")) {
        DS_LOGI("train: this model's copy mask / pointer-generator heads train on the CPU");
        ds_ctx_free(ctx);
        if (!(ctx = ds_ctx_new(DS_BACKEND_CPU, r.threads))) {
            ds_model_free(m);
            ds_schema_set_free(&schemas);
            return ds_cli_fail("train", DS_E_NOMEM);
        }
    }
    ds_trainer *t = NULL;
    ds_dataset d;
    memset(&d, 0, sizeof d);
    char where[256];
    DS_LOGI("train: computing on %s", ds_ctx_describe(ctx, where, sizeof where));
    rc = ds_trainer_new(m, ctx, &o.opt, &t);
    if (!rc) rc = ds_cli_resume(t, &o, &r, "train");
    if (!rc) rc = ds_dataset_open(r.format, dirs, n_dirs, o.schemas_dir, &d);
    d.windows = windows;
    d.set_words = o.eval_set_words;
    if (!rc) {
        DS_LOGI("train: preparing %d documents on %d threads (cache %s)", d.n, r.prep_threads,
                r.cache);
        rc = ds_dataset_prepare(&d, m, &schemas, r.prep_threads, r.cache);
        if (!rc)
            DS_LOGI("train: prepared in %.1f s (%d from the cache, %d skipped)", d.seconds,
                    d.n_cached, d.n_failed);
    }
    if (!rc) {
        // what made this model, stored in its file
        json_t *tr = json_pack("{s:s, s:i, s:i, s:f, s:i, s:I}", "command", "docseek train",
                               "steps", o.steps, "batch", o.batch, "lr", o.lr, "documents",
                               d.n - d.n_failed, "seed", (json_int_t)o.seed);
        json_t *dj = json_array();
        for (int i = 0; i < n_dirs; i++) json_array_append_new(dj, json_string(dirs[i]));
        json_object_set_new(tr, "data", dj);
        json_object_set_new(tr, "windows", json_boolean(windows));
        if (init) { // a continuation keeps what made its starting point
            json_t *prev = m->training ? json_loads(m->training, 0, NULL) : NULL;
            json_object_set_new(
                tr, "init",
                json_pack("{s:s, s:o}", "model", init, "training", prev ? prev : json_null()));
        }
        free(m->training);
        m->training = json_dumps(tr, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(tr);
        rc = ds_train_run(m, ctx, t, &d, &schemas, &o);
    }
    ds_dataset_free(&d);
    ds_trainer_free(t);
    ds_ctx_free(ctx);
    ds_model_free(m);
    ds_schema_set_free(&schemas);
    ds_ingest_thread_cleanup();
    if (rc) return ds_cli_fail("train", rc);
    return 0;
}
