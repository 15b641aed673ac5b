// cmd-finetune.c: `docseek finetune --lora`: adapts a trained model to the
// user's own labelled documents by training a LoRA adapter on its attention
// projections; the base stays frozen and mapped from its file, the adapter
// goes to its own small file (use it with `--adapter`, or merge it with
// `docseek finetune --merge` into a full model).
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/train-opts.h"
#include "core/error.h"
#include "core/log.h"
#include "fusion/extract.h"
#include "ingest/ingest.h"
#include "samples/gt-words.h"
#include "train/loop.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *usage_text =
    "usage: docseek finetune --lora --data DIR [--data DIR ...] --out ADAPTER [options]\n"
    "       docseek finetune --merge --adapter ADAPTER --out MODEL [--model BASE]\n"
    "  --model BASE      the model to adapt (default " DS_DEFAULT_MODEL ")\n"
    "  --format F        the folders' ground truth: docseek (default), sroie, kleister,\n"
    "                    cord, funsd (the formats docseek eval reads; FUNSD's entities\n"
    "                    train the form_entities type)\n"
    "  --data DIR        labelled documents (NAME.pdf/.png/... beside NAME.json)\n"
    "  --rehearse DIR    documents of the kinds the model already reads (docseek format,\n"
    "                    e.g. from docseek synth), trained beside --data so that the\n"
    "                    adapter keeps reading them (a few documents alone overfit)\n"
    "  --repeat N        list each --data document N times an epoch (default 1): beside many\n"
    "                    rehearsed documents, a few of the user's weigh too little\n"
    "  --rank N          adapter rank (default 16); --alpha X (default 32)\n"
    "  --init-adapter F  go on training adapter F (its rank and layers) instead of a new one;\n"
    "                    documents all of one type go on training the model's adapter for\n"
    "                    it (MODEL.TYPE.lora.safetensors) when it has one, unless --fresh\n"
    "  --fresh           a new adapter even so\n"
    "  --experts         adapters on the feed-forward too: the dense layers, the shared\n"
    "                    experts and every routed expert (default: attention only)\n"
    "  --steps N         (default 300); --batch N (4); --lr X (1e-3); --warmup N (20);\n"
    "                    --min-lr F (0.1), --clip X (1), --weight-decay X (0): as train's\n"
    "  --eval DIR        held-out labelled documents (in --format), field F1 every\n"
    "                    --eval-every N steps (100) and at the end\n"
    "  --given-type      the evaluation tells the model each document's true type\n"
    "  --set-words       the --data and --eval scans' words are their set's own (sroie:\n"
    "                    DIR/box/NAME.csv, funsd: the annotations' words; as eval --set-words),\n"
    "                    not docseek's OCR; --rehearse documents keep OCR\n"
    "  --keep-best       write the adapter as it scored best on --eval, the start included,\n"
    "                    not as it ended: a few documents overfit, and adapting may not\n"
    "                    help at all (then the adapter is the one it started from: no\n"
    "                    change). A later step replaces the one kept only when its F1 gain\n"
    "                    over it is more than --keep-bar X (2) standard errors of that\n"
    "                    gain, paired by document (documents both read alike add nothing;\n"
    "                    on documents of one size a gain on one alone ties its error), at\n"
    "                    Student's t for n - 1 degrees of freedom (X = 2: 4.5 errors on 3\n"
    "                    documents, 2.9 on 5, 2.1 on 50): on a few held-out documents\n"
    "                    chance alone moves F1 that much (0: any gain). Each evaluation\n"
    "                    logs its documents' counts and the decision\n"
    "  --threads N       compute threads (default 2); --prep-threads N (2)\n"
    "  --device D        cpu, cuda, cuda:N or auto (default: the GPU when one is present)\n"
    "  --cache DIR       prepared-document cache (default .docseek-cache)\n"
    "  --seed N          adapter initialisation and data order (default 1)\n"
    "  --checkpoint FILE (default ADAPTER.ckpt); --checkpoint-every N (default 100)\n"
    "  --resume          continue from the checkpoint, bit for bit\n"
    "  --recompute       recompute LM layer activations in the backward (see train --help)\n"
    "  --skip-unfound    a value that is no run of its document's words (nor a near one:\n"
    "                    OCR spelling, date format) teaches nothing (default: it is\n"
    "                    generated, which the decoder can only copy from the document)\n"
    "  --windows         train long documents on every one of their windows, as extract\n"
    "                    reads them (train --windows: one window per document)\n"
    "  --one-window      as --windows, but one window per document, picked by its path\n"
    "                    (the shipped contract adapter's recipe: on many generated\n"
    "                    documents it read Kleister's NDAs better than every window did)\n"
    "  --stop-after N    stop this run after N steps (resume later)\n"
    "  --schemas DIR     document schemas (default samples/schemas)\n";

// What made the adapter, stored in its file as `docseek train` stores a model's: the
// command's settings, the data, for one trained further (--init-adapter) what made its
// starting point, and with --keep-best the step kept. The adapter's recipe scripts are
// then not the only record.
typedef struct {
    const ds_train_opts *o;
    const char *base, *init, *format;
    char *init_training; // the starting adapter's record (owned), or NULL
    const char **dirs, **rehearse;
    int n_dirs, n_rehearse, documents, windows, one_window, skip_unfound, set_words, repeat;
    int keep_best, kept_step;  // --keep-best: the step whose adapter is written
    double kept_f1, kept_se;   // its F1 on --eval; the standard error of its gain (0: first)
    ds_eval_counts *kept_docs; // (n_kept_docs) its counts on each --eval document (owned)
    int n_kept_docs;
    double bar; // --keep-bar: standard errors a later step must gain
} finetune_record;

static int record_training(ds_lora *l, const finetune_record *r) {
    const ds_train_opts *o = r->o;
    json_t *tr = json_pack("{s:s, s:s, s:s, s:i, s:i, s:f, s:i, s:i, s:I, s:b, s:b, s:b, s:b}",
                           "command", "docseek finetune --lora", "model", r->base, "format",
                           r->format, "steps", o->steps, "batch", o->batch, "lr", (double)o->lr,
                           "warmup", o->warmup, "documents", r->documents, "seed",
                           (json_int_t)o->seed, "windows", r->windows, "one_window", r->one_window,
                           "skip_unfound", r->skip_unfound, "set_words", r->set_words);
    if (tr && r->repeat > 1) json_object_set_new(tr, "repeat", json_integer(r->repeat));
    json_t *dj = json_array(), *rj = json_array();
    if (!tr || !dj || !rj) {
        json_decref(tr);
        json_decref(dj);
        json_decref(rj);
        return ds_error(DS_E_NOMEM, "finetune: out of memory");
    }
    for (int i = 0; i < r->n_dirs; i++) json_array_append_new(dj, json_string(r->dirs[i]));
    for (int i = 0; i < r->n_rehearse; i++) json_array_append_new(rj, json_string(r->rehearse[i]));
    json_object_set_new(tr, "data", dj);
    json_object_set_new(tr, "rehearse", rj);
    if (r->init) {
        json_t *prev = r->init_training ? json_loads(r->init_training, 0, NULL) : NULL;
        json_object_set_new(
            tr, "init",
            json_pack("{s:s, s:o}", "adapter", r->init, "training", prev ? prev : json_null()));
    }
    if (r->keep_best) {
        json_t *docs = json_array();
        for (int i = 0; docs && i < r->n_kept_docs; i++)
            json_array_append_new(docs, json_pack("[I, I, I]", (json_int_t)r->kept_docs[i].tp,
                                                  (json_int_t)r->kept_docs[i].fp,
                                                  (json_int_t)r->kept_docs[i].fn));
        json_object_set_new(tr, "keep_best",
                            json_pack("{s:s, s:i, s:f, s:f, s:f, s:o*}", "eval", o->eval_dir,
                                      "step", r->kept_step, "f1", r->kept_f1, "se", r->kept_se,
                                      "bar", r->bar, "documents", docs));
    }
    char *s = json_dumps(tr, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(tr);
    if (!s) return ds_error(DS_E_NOMEM, "finetune: out of memory");
    free(l->training);
    l->training = s;
    return 0;
}

// --keep-best: the adapter's parameters as they scored best on --eval so far, written
// to --out at each new best, so that a run stopped early leaves its best there and a
// resumed one reads it back.
typedef struct {
    ds_lora *l;
    const ds_model *m;
    finetune_record *rec;
    const char *out;
    float *best; // (l->table.total)
    int any;     // 0: nothing evaluated yet
} keep_best;

// "tp fp fn, tp fp fn, ..." of each document (new string; NULL when out of memory).
static char *docs_text(const ds_eval_counts *d, int n) {
    size_t cap = 80 * (size_t)n + 1, len = 0; // an entry is at most 64 bytes
    char *s = malloc(cap);
    if (s) s[0] = 0;
    for (int i = 0; s && i < n; i++)
        len += (size_t)snprintf(s + len, cap - len, "%s%ld %ld %ld", i ? ", " : "", d[i].tp,
                                d[i].fp, d[i].fn);
    return s;
}

// A later step is kept only when its gain over the kept one is more than chance on so
// few documents would give: the gain's standard error, paired by document
// (ds_eval_f1_gain_se), times Student's t at the one-sided level of bar normal
// standard errors with n - 1 degrees of freedom (ds_eval_t_from_z: three documents
// estimate an error poorly, so bar 2 asks for 4.5 errors there, 2.9 on five, 2.1 on
// fifty); a tie (within rounding: 1e-9) keeps the earlier. On documents of one size a
// gain on one document alone equals its error exactly.
static int keep_if_best(void *user, int step, const ds_train_eval *e) {
    keep_best *k = user;
    finetune_record *r = k->rec;
    char *dt = docs_text(e->docs, e->n_docs);
    if (!dt) return ds_error(DS_E_NOMEM, "finetune: out of memory");
    double gain = 0, se = 0;
    if (k->any) {
        if (e->n_docs != r->n_kept_docs) {
            free(dt);
            return ds_error(DS_E_INVAL,
                            "finetune --keep-best: --eval has %d documents now, %d at the "
                            "kept step %d: start again without --resume",
                            e->n_docs, r->n_kept_docs, r->kept_step);
        }
        se = ds_eval_f1_gain_se(r->kept_docs, e->docs, e->n_docs, &gain);
        double t = r->bar == 0 ? 0 : ds_eval_t_from_z(r->bar, e->n_docs - 1);
        int better = gain > 1e-9 && (r->bar == 0 || gain > t * se + 1e-9);
        DS_LOGI("finetune: step %d, documents (tp fp fn) %s: against kept step %d, F1 gain "
                "%+.4f, paired standard error %.4f, bar %g (t %.4f): %s",
                step, dt, r->kept_step, gain, se, r->bar, t, better ? "kept" : "not kept");
        if (!better) {
            free(dt);
            return 0;
        }
    } else {
        DS_LOGI("finetune: step %d, documents (tp fp fn) %s: kept (the first evaluated)", step, dt);
    }
    free(dt);
    ds_eval_counts *docs = malloc(sizeof *docs * ((size_t)e->n_docs + 1));
    if (!docs) return ds_error(DS_E_NOMEM, "finetune: out of memory");
    memcpy(docs, e->docs, sizeof *docs * (size_t)e->n_docs);
    free(r->kept_docs);
    r->kept_docs = docs;
    r->n_kept_docs = e->n_docs;
    k->any = 1;
    r->kept_step = step;
    r->kept_f1 = e->f1;
    r->kept_se = se;
    memcpy(k->best, k->l->params, sizeof(float) * (size_t)k->l->table.total);
    int rc = record_training(k->l, r);
    if (!rc) rc = ds_lora_save(k->l, k->m, k->out);
    if (!rc) DS_LOGI("finetune: kept step %d (field F1 %.4f): in %s", step, e->f1, k->out);
    return rc;
}

// A resumed --keep-best run: the best so far, from the adapter the stopped run wrote
// (its record's keep_best); 1 when found, 0 when there is none to read.
static int read_kept(keep_best *k, const char *base) {
    ds_lora *prev = NULL;
    if (access(k->out, F_OK) != 0 || ds_lora_load(k->out, k->m, &prev)) return 0;
    json_t *tr = prev->training ? json_loads(prev->training, 0, NULL) : NULL;
    json_t *kb = json_object_get(tr, "keep_best");
    const char *model = json_string_value(json_object_get(tr, "model"));
    const char *eval = json_string_value(json_object_get(kb, "eval"));
    // scores on other documents, or of another base, are no bar to clear
    const json_t *docs = json_object_get(kb, "documents");
    int n = (int)json_array_size(docs);
    int found = prev->table.total == k->l->table.total && model && !strcmp(model, base) && eval &&
                !strcmp(eval, k->rec->o->eval_dir) &&
                json_number_value(json_object_get(kb, "bar")) == k->rec->bar && n > 0;
    ds_eval_counts *kd = found ? malloc(sizeof *kd * (size_t)n) : NULL;
    for (int i = 0; kd && i < n; i++) {
        const json_t *d = json_array_get(docs, (size_t)i);
        kd[i] = (ds_eval_counts){(long)json_integer_value(json_array_get(d, 0)),
                                 (long)json_integer_value(json_array_get(d, 1)),
                                 (long)json_integer_value(json_array_get(d, 2))};
    }
    found = kd != NULL;
    if (found) {
        k->any = 1;
        k->rec->kept_f1 = json_number_value(json_object_get(kb, "f1"));
        k->rec->kept_se = json_number_value(json_object_get(kb, "se"));
        k->rec->kept_step = (int)json_integer_value(json_object_get(kb, "step"));
        free(k->rec->kept_docs);
        k->rec->kept_docs = kd;
        k->rec->n_kept_docs = n;
        memcpy(k->best, prev->params, sizeof(float) * (size_t)k->l->table.total);
    }
    json_decref(tr);
    ds_lora_free(prev);
    return found;
}

// The document type every one of d's documents is labelled with, into buf; NULL when
// they are of several (or a truth cannot be read: the dataset reports that later).
static const char *one_doc_type(const ds_dataset *d, char *buf, size_t cap) {
    buf[0] = 0;
    for (int i = 0; i < d->n; i++) {
        json_t *t = d->truths && d->truths[i] ? json_incref(d->truths[i])
                                              : json_load_file(d->truth_paths[i], 0, NULL);
        const char *type = json_string_value(json_object_get(t, "doc_type"));
        int same = type && (i == 0 || !strcmp(buf, type));
        if (same && i == 0) snprintf(buf, cap, "%s", type);
        json_decref(t);
        if (!same) return NULL;
    }
    return buf[0] ? buf : NULL;
}

int ds_cmd_finetune(int argc, char **argv) {
    const char *dirs[64], *rehearse[64], *out = NULL, *base = DS_DEFAULT_MODEL, *adapter = NULL;
    const char *init = NULL;
    int n_dirs = 0, n_rehearse = 0, lora = 0, merge = 0, rank = 16, repeat = 1;
    int experts = 0, windows = 0, one_window = 0, fresh = 0, shape_given = 0, skip_unfound = 0;
    int keep = 0;
    float keep_bar = 2, alpha = 32;
    ds_train_opts o;
    ds_train_opts_default(&o);
    o.steps = 300;
    o.lr = 1e-3f;
    o.warmup = 20;
    o.eval_every = 100;
    o.checkpoint_every = 100;
    ds_cli_run r = ds_cli_run_defaults();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int got = ds_cli_train_option(argc, argv, &i, &o, &r);
        if (got < 0) {
            fprintf(stderr, "docseek finetune: %s\n", ds_errmsg());
            return 2;
        }
        if (got) continue;
        int *flag = !strcmp(a, "--lora")           ? &lora
                    : !strcmp(a, "--merge")        ? &merge
                    : !strcmp(a, "--windows")      ? &windows
                    : !strcmp(a, "--fresh")        ? &fresh
                    : !strcmp(a, "--skip-unfound") ? &skip_unfound
                    : !strcmp(a, "--keep-best")    ? &keep
                                                   : NULL;
        if (flag) {
            *flag = 1;
            continue;
        }
        if (!strcmp(a, "--one-window")) {
            windows = one_window = 1;
            continue;
        }
        if (!strcmp(a, "--experts")) {
            experts = shape_given = 1;
            continue;
        }
        if (!strcmp(a, "--help")) {
            fputs(usage_text, stdout);
            return 0;
        }
        if (!v) {
            fprintf(stderr, "docseek finetune: '%s' needs a value\n%s", a, usage_text);
            return 2;
        }
        i++;
        int bad = 0;
        if (!strcmp(a, "--data") && n_dirs < 64)
            dirs[n_dirs++] = v;
        else if (!strcmp(a, "--rehearse") && n_rehearse < 64)
            rehearse[n_rehearse++] = v;
        else if (!strcmp(a, "--out"))
            out = v;
        else if (!strcmp(a, "--model"))
            base = v;
        else if (!strcmp(a, "--init-adapter"))
            init = v;
        else if (!strcmp(a, "--adapter"))
            adapter = v;
        else if (!strcmp(a, "--repeat"))
            bad = ds_cli_int(a, v, 1, 1000, &repeat);
        else if (!strcmp(a, "--keep-bar"))
            bad = ds_cli_float(a, v, 0, 0, &keep_bar);
        else if (!strcmp(a, "--rank"))
            bad = ds_cli_int(a, v, 1, DS_CLI_INT_MAX, &rank), shape_given = 1;
        else if (!strcmp(a, "--alpha"))
            bad = ds_cli_float(a, v, 0, 1, &alpha), shape_given = 1;
        else {
            fprintf(stderr, "docseek finetune: unknown option '%s'\n%s", a, usage_text);
            return 2;
        }
        if (bad) {
            fprintf(stderr, "docseek finetune: %s\n", ds_errmsg());
            return 2;
        }
    }
    if (lora == merge || !out || (lora && !n_dirs) || (merge && !adapter)) {
        fprintf(stderr,
                "docseek finetune: needs --lora with --data and --out, or --merge with "
                "--adapter and --out\n%s",
                usage_text);
        return 2;
    }
    if (keep && !o.eval_dir) {
        fprintf(stderr, "docseek finetune: --keep-best needs --eval DIR: held-out labelled "
                        "documents to score the adapter on\n");
        return 2;
    }
    if ((o.eval_dir || o.eval_set_words) && ds_eval_format_parse(r.format, &o.eval_format)) {
        fprintf(stderr, "docseek finetune: %s\n", ds_errmsg());
        return 2;
    }
    if (o.eval_set_words && ds_gt_words_check(o.eval_format)) {
        fprintf(stderr, "docseek finetune: %s\n", ds_errmsg());
        return 2;
    }
    ds_model *m;
    int rc = ds_model_load(base, &m);
    if (rc) return ds_cli_fail("finetune", rc);
    if (merge) {
        ds_lora *l = NULL;
        rc = ds_lora_load(adapter, m, &l);
        if (!rc) rc = ds_model_make_writable(m);
        if (!rc) rc = ds_lora_merge(m, l);
        if (!rc) rc = ds_model_save(m, out);
        if (!rc) printf("wrote %s: %s with %s merged in\n", out, base, adapter);
        ds_lora_free(l);
        ds_model_free(m);
        return rc ? ds_cli_fail("finetune", rc) : 0;
    }
    ds_schema_set schemas;
    if ((rc = ds_schema_set_load(o.schemas_dir, &schemas))) {
        ds_model_free(m);
        return ds_cli_fail("finetune", rc);
    }
    char curve[4096], ckpt_buf[4096];
    snprintf(curve, sizeof curve, "%s.csv", out);
    o.curve_csv = curve;
    if (!o.checkpoint) snprintf(ckpt_buf, sizeof ckpt_buf, "%s.ckpt", out), o.checkpoint = ckpt_buf;
    // auto takes the CPU for a model with host-only heads (ds_trainer_device; a GPU named
    // is refused by the trainer, with the reason).
    ds_ctx *ctx = NULL;
    rc = ds_ctx_open(ds_trainer_device(&m->cfg, r.device), r.threads, &ctx);
    char where[256];
    if (!rc) DS_LOGI("finetune: computing on %s", ds_ctx_describe(ctx, where, sizeof where));
    ds_lora *l = NULL;
    ds_trainer *t = NULL;
    ds_dataset d;
    memset(&d, 0, sizeof d);
    if (!rc) rc = ds_dataset_open(r.format, dirs, n_dirs, o.schemas_dir, &d);
    // documents of one type the model has an adapter for go on training that adapter: at
    // inference an adapter named with --adapter replaces the type's own
    char own[4096], type[64];
    if (!rc && !init && !fresh && one_doc_type(&d, type, sizeof type)) {
        ds_type_adapter_path(base, type, own, sizeof own);
        if (access(own, F_OK) == 0) {
            init = own;
            DS_LOGI("finetune: the documents are %s documents: going on training the model's "
                    "%s adapter (--fresh for a new one)",
                    type, type);
        }
    }
    if (!rc && init && shape_given)
        DS_LOGW("finetune: --rank, --alpha and --experts do not apply: %s keeps its own", init);
    int own_docs = d.n;
    if (!rc) rc = ds_dataset_repeat(&d, repeat);
    if (!rc && repeat > 1)
        DS_LOGI("finetune: each of the %d documents listed %d times", own_docs, repeat);
    if (!rc && n_rehearse) {
        ds_dataset reh;
        rc = ds_dataset_scan(rehearse, n_rehearse, &reh);
        if (!rc) {
            DS_LOGI("finetune: %d documents to adapt to, %d rehearsed", own_docs, reh.n);
            rc = ds_dataset_append(&d, &reh);
            if (rc) ds_dataset_free(&reh);
        }
    }
    // a new adapter (B zero: changes nothing yet), or one to go on from (its rank and
    // layers: a form_entities adapter adapted to the user's forms)
    if (!rc)
        rc = init ? ds_lora_load(init, m, &l) : ds_lora_new(m, rank, alpha, experts, o.seed, &l);
    if (!rc) rc = ds_trainer_new_lora(m, ctx, &o.opt, l, &t);
    if (!rc) rc = ds_cli_resume(t, &o, &r, "finetune");
    // the user's few documents: every window of a long one trains (one picked per document
    // showed most of them without their values, which then trained as absent)
    d.windows = windows;
    d.every_window = windows && !one_window;
    d.skip_unfound = skip_unfound;
    d.set_words = o.eval_set_words;
    if (!rc) rc = ds_dataset_prepare(&d, m, &schemas, r.prep_threads, r.cache);
    finetune_record rec = {.o = &o,
                           .base = base,
                           .init = init,
                           .format = r.format,
                           .dirs = dirs,
                           .rehearse = rehearse,
                           .n_dirs = n_dirs,
                           .n_rehearse = n_rehearse,
                           .documents = d.n_docs - d.n_failed,
                           .windows = windows,
                           .one_window = one_window,
                           .skip_unfound = skip_unfound,
                           .set_words = o.eval_set_words,
                           .repeat = repeat,
                           .keep_best = keep,
                           .bar = keep_bar};
    if (!rc && init && l->training && !(rec.init_training = strdup(l->training)))
        rc = ds_error(DS_E_NOMEM, "finetune: out of memory");
    keep_best k = {.l = l, .m = m, .rec = &rec, .out = out};
    if (!rc && keep) {
        if (!(k.best = malloc(sizeof(float) * (size_t)l->table.total)))
            rc = ds_error(DS_E_NOMEM, "finetune: out of memory");
        o.on_eval = keep_if_best;
        o.on_eval_user = &k;
    }
    if (!rc && keep && r.resume && read_kept(&k, base))
        DS_LOGI("finetune: kept so far: step %d (field F1 %.4f), from %s", rec.kept_step,
                rec.kept_f1, out);
    else if (!rc && keep) { // the adapter as it starts is the first candidate
        ds_train_eval e;
        int s0 = ds_trainer_steps_done(t);
        rc = ds_train_evaluate(m, ctx, &schemas, &o, &e);
        if (!rc) ds_train_eval_print(&e, s0);
        if (!rc) rc = keep_if_best(&k, s0, &e);
        ds_train_eval_free(&e);
    }
    if (!rc) {
        DS_LOGI("finetune: rank %d, alpha %g, %s: %lld adapter parameters on %d documents%s%s",
                l->rank, (double)l->alpha, l->experts ? "attention and experts" : "attention",
                (long long)l->table.total, d.n_docs - d.n_failed, init ? ", from " : "",
                init ? init : "");
        rc = ds_train_run(m, ctx, t, &d, &schemas, &o);
    }
    if (!rc && keep) {
        memcpy(l->params, k.best, sizeof(float) * (size_t)l->table.total);
        if (rec.kept_step == 0)
            DS_LOGI("finetune: kept the adapter as it started (field F1 %.4f on %s): no "
                    "step of this training scored better by more than chance",
                    rec.kept_f1, o.eval_dir);
        else
            DS_LOGI("finetune: kept the adapter of step %d (field F1 %.4f on %s)", rec.kept_step,
                    rec.kept_f1, o.eval_dir);
    }
    if (!rc) rc = record_training(l, &rec);
    if (!rc) rc = ds_lora_save(l, m, out);
    if (!rc) printf("wrote %s (use it with --adapter, or merge it with --merge)\n", out);
    free(k.best);
    free(rec.kept_docs);
    free(rec.init_training);
    ds_dataset_free(&d);
    ds_trainer_free(t);
    ds_lora_free(l);
    ds_ctx_free(ctx);
    ds_model_free(m);
    ds_schema_set_free(&schemas);
    ds_ingest_thread_cleanup();
    return rc ? ds_cli_fail("finetune", rc) : 0;
}
