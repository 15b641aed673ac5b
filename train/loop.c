// loop.c: see loop.h.
#include "train/loop.h"

#include "core/error.h"
#include "core/log.h"
#include "core/rng.h"
#include "core/timer.h"
#include "fusion/extract.h"
#include "samples/eval.h"
#include "samples/gt-formats.h"
#include "train/plot.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void ds_train_opts_default(ds_train_opts *o) {
    memset(o, 0, sizeof *o);
    o->steps = 2000;
    o->batch = 4;
    o->lr = 2e-3f;
    o->min_lr_frac = 0.1f;
    o->warmup = 100;
    o->seed = 1;
    o->checkpoint_every = 200;
    o->eval_every = 500;
    o->schemas_dir = "samples/schemas";
    ds_trainer_opts_default(&o->opt);
}

float ds_train_lr(const ds_train_opts *o, int s) {
    if (o->warmup > 0 && s <= o->warmup) return o->lr * (float)s / (float)o->warmup;
    int span = o->steps - o->warmup;
    double x = span > 0 ? (double)(s - o->warmup) / span : 1.0;
    if (x > 1) x = 1;
    double c = 0.5 * (1 + cos(M_PI * x)); // cosine from 1 to 0 (Loshchilov & Hutter 2017)
    return (float)(o->lr * (o->min_lr_frac + (1 - o->min_lr_frac) * c));
}

// ---- evaluation through the evaluator

typedef struct {
    ds_extractor *x;
    const ds_schema_set *schemas;
    const ds_train_opts *o;
} eval_env;

static int eval_extract(const char *doc_path, const char *doc_type, json_t **pred, void *user) {
    eval_env *env = user;
    // the model names the type itself unless told it, or it is one it never picks
    // (form_entities)
    const char *told =
        env->o->eval_given_type ? doc_type : ds_schema_named_only(env->schemas, doc_type);
    return ds_extractor_gt_file(env->x, env->o->eval_format, env->o->eval_set_words, doc_path, told,
                                pred);
}

int ds_train_evaluate(ds_model *m, ds_ctx *ctx, const ds_schema_set *schemas,
                      const ds_train_opts *o, ds_train_eval *e) {
    memset(e, 0, sizeof *e);
    ds_eval_set truth;
    int rc = ds_gt_load(o->eval_format, o->eval_dir, o->schemas_dir, &truth);
    if (rc) return rc;
    eval_env env = {.schemas = schemas, .o = o};
    if ((rc = ds_extractor_new(m, ctx, schemas, &env.x))) {
        ds_eval_set_free(&truth);
        return rc;
    }
    ds_decode_opts dopts = {.windows = 1}; // score what extract outputs
    ds_extractor_set_opts(env.x, &dopts);
    ds_eval_preds preds;
    rc = ds_eval_run_extractor(&truth, eval_extract, &env, &preds);
    ds_extractor_free(env.x);
    ds_eval_report rep;
    ds_eval_opts eo = {.month_first = ds_eval_format_month_first(o->eval_format)};
    if (!rc) rc = ds_eval_score(&truth, &preds, &eo, &rep);
    if (!rc) {
        double p, r;
        ds_eval_prf(rep.overall, &p, &r, &e->f1);
        e->c = rep.overall;
        e->types = json_object();
        for (int i = 0; i < rep.n_types; i++) {
            double tp, tr, tf;
            ds_eval_prf(rep.types[i].c, &tp, &tr, &tf);
            json_object_set_new(e->types, rep.types[i].doc_type, json_real(tf));
        }
        e->n_docs = truth.n_docs;
        e->docs = calloc((size_t)truth.n_docs + 1, sizeof *e->docs);
        if (!e->docs || !e->types) rc = ds_error(DS_E_NOMEM, "evaluation: out of memory");
        for (int i = 0; !rc && i < rep.n_docs; i++) // the report lists the worst first
            e->docs[rep.docs[i].truth - truth.docs] = rep.docs[i].c;
        ds_eval_report_free(&rep);
        ds_eval_preds_free(&preds);
    }
    ds_eval_set_free(&truth);
    if (rc) ds_train_eval_free(e);
    return rc;
}

void ds_train_eval_free(ds_train_eval *e) {
    free(e->docs);
    json_decref(e->types);
    memset(e, 0, sizeof *e);
}

void ds_train_eval_print(const ds_train_eval *e, int step) {
    char *ts = e->types ? json_dumps(e->types, JSON_COMPACT | JSON_REAL_PRECISION(4)) : NULL;
    fprintf(stderr, "eval at step %d: field F1 %.4f (tp %ld fp %ld fn %ld)  per type %s\n", step,
            e->f1, e->c.tp, e->c.fp, e->c.fn, ts ? ts : "{}");
    free(ts);
}

// ---- the loop

// The k-th document of the (epoch-wise shuffled) order of the prepared documents.
typedef struct {
    int *ok_idx; // prepared documents, each as often as an epoch lists it
    int n_ok;    // ok_idx's length: the listings of an epoch
    int *perm;
    int perm_epoch;
    uint64_t seed;
} order;

static int order_at(order *o, int64_t k) {
    int epoch = (int)(k / o->n_ok);
    if (epoch != o->perm_epoch) { // Fisher-Yates with a generator seeded by (seed, epoch)
        ds_rng r;
        ds_rng_seed(&r, o->seed * 1000003ull + (uint64_t)epoch);
        for (int i = 0; i < o->n_ok; i++) o->perm[i] = o->ok_idx[i];
        for (int i = o->n_ok - 1; i > 0; i--) {
            int j = (int)ds_rng_below(&r, (uint64_t)i + 1);
            int t = o->perm[i];
            o->perm[i] = o->perm[j];
            o->perm[j] = t;
        }
        o->perm_epoch = epoch;
    }
    return o->perm[k % o->n_ok];
}

// max over MoE layers of (most loaded expert / mean load)
static double imbalance(const ds_model_cfg *c, const float *load) {
    double worst = 1;
    for (int l = c->n_dense_layers; l < c->n_layers; l++) {
        float mx = 0;
        for (int e = 0; e < c->n_experts; e++) mx = fmaxf(mx, load[(size_t)l * c->n_experts + e]);
        worst = fmax(worst, mx * c->n_experts);
    }
    return worst;
}

static int checkpoint(ds_trainer *t, const ds_train_opts *o) {
    if (!o->checkpoint) return 0;
    json_t *meta = json_pack("{s:i, s:I, s:i, s:f}", "steps", o->steps, "seed", (json_int_t)o->seed,
                             "batch", o->batch, "lr", o->lr);
    int rc = ds_trainer_save(t, o->checkpoint, meta);
    json_decref(meta);
    if (rc) DS_LOGE("checkpoint %s: %s", o->checkpoint, ds_errmsg());
    return rc;
}

int ds_train_run(ds_model *m, ds_ctx *ctx, ds_trainer *t, const ds_dataset *d,
                 const ds_schema_set *schemas, const ds_train_opts *o) {
    const ds_model_cfg *cfg = &m->cfg;
    int S = ds_cfg_use_vision(cfg) ? cfg->img_size : 0, B = o->batch;
    // an epoch lists each prepared item as often as the dataset says (ds_dataset_repeat)
    size_t listed = 0;
    int n_prepared = 0;
    for (int i = 0; i < d->n; i++) listed += d->ok[i] ? (size_t)ds_dataset_times(d, i) : 0;
    if (listed > INT_MAX) return ds_error(DS_E_INVAL, "train: %zu documents listed", listed);
    order ord = {calloc(listed + 1, sizeof(int)), 0, calloc(listed + 1, sizeof(int)), -1, o->seed};
    int max_pages = 0;
    for (int i = 0; i < d->n && ord.ok_idx; i++)
        if (d->ok[i]) {
            for (int k = ds_dataset_times(d, i); k > 0; k--) ord.ok_idx[ord.n_ok++] = i;
            n_prepared++;
            max_pages = d->seqs[i].n_pages > max_pages ? d->seqs[i].n_pages : max_pages;
        }
    size_t page_floats = (size_t)3 * S * S;
    float *pix = S ? malloc(sizeof(float) * page_floats * (max_pages + 1) * B) : NULL;
    ds_seq *seqs = calloc((size_t)B, sizeof(ds_seq));
    ds_seq **ptrs = calloc((size_t)B, sizeof(ds_seq *));
    FILE *csv = NULL;
    int rc = 0;
    if (!ord.ok_idx || !ord.perm || (S && !pix) || !seqs || !ptrs) {
        rc = ds_error(DS_E_NOMEM, "train: out of memory");
        goto done;
    }
    if (o->curve_csv) {
        int fresh = access(o->curve_csv, F_OK) != 0;
        if (!(csv = fopen(o->curve_csv, "a"))) {
            rc = ds_error(DS_E_IO, "train: cannot write %s", o->curve_csv);
            goto done;
        }
        if (fresh)
            fprintf(csv, "step,epoch,lr,loss,loss_answer,loss_pointer,loss_document,"
                         "answer_acc,pointer_acc,tokens_per_s,expert_imbalance,eval_f1\n");
    }
    int tty = isatty(fileno(stderr)), s0 = ds_trainer_steps_done(t);
    int last = o->stop_after > 0 && s0 + o->stop_after < o->steps ? s0 + o->stop_after : o->steps;
    double t_start = ds_time_s(), tokens = 0;
    DS_LOGI("train: %d documents (%d skipped; %d listed an epoch), steps %d..%d of %d, batch %d",
            n_prepared, d->n - n_prepared, ord.n_ok, s0 + 1, last, o->steps, B);
    for (int s = s0 + 1; s <= last && !rc; s++) {
        for (int j = 0; j < B; j++) {
            int i = order_at(&ord, (int64_t)(s - 1) * B + j);
            seqs[j] = ds_dataset_seq(d, i, pix ? pix + page_floats * (max_pages + 1) * j : NULL, S);
            ptrs[j] = &seqs[j];
        }
        ds_batch b;
        if ((rc = ds_batch_pack(cfg, ptrs, B, &b))) break;
        ds_step_stats st;
        double gn, t0 = ds_time_s();
        float lr = ds_train_lr(o, s);
        rc = ds_trainer_step(t, &b, lr, &st, &gn);
        double dt = ds_time_s() - t0;
        tokens += b.N;
        double tps = b.N / dt, imb = rc ? 0 : imbalance(cfg, st.load);
        ds_batch_free(&b);
        if (rc) break;
        double ans_acc = st.n_ans ? (double)st.ans_correct / st.n_ans : 0;
        double ptr_acc = st.n_ptr ? (double)st.ptr_correct / st.n_ptr : 0;
        double el = ds_time_s() - t_start, eta = el / (s - s0) * (last - s);
        if (tty || s % 10 == 0 || s == last)
            fprintf(stderr,
                    "%sstep %d/%d  loss %.4f  answer %.4f (acc %.3f)  pointer %.4f (acc %.3f)  "
                    "%.0f tok/s  imbalance %.2f  lr %.2e  ETA %.0f s%s",
                    tty ? "\r" : "", s, o->steps, st.loss, st.loss_ans, ans_acc, st.loss_ptr,
                    ptr_acc, tps, imb, lr, eta, tty ? "   " : "\n");
        double f1 = -1;
        int eval_now = o->eval_dir && ((o->eval_every > 0 && s % o->eval_every == 0) || s == last);
        if (eval_now) {
            ds_trainer_sync(t); // the evaluation decodes with the host parameters
            ds_train_eval e;
            int erc = ds_train_evaluate(m, ctx, schemas, o, &e);
            if (erc) {
                DS_LOGW("train: evaluation failed: %s", ds_errmsg());
            } else {
                if (tty) fputc('\n', stderr);
                ds_train_eval_print(&e, s);
                f1 = e.f1;
            }
            // not the evaluation at a --stop-after stop: a run in pieces sees the same ones
            int scheduled = (o->eval_every > 0 && s % o->eval_every == 0) || s == o->steps;
            if (!erc && scheduled && o->on_eval) rc = o->on_eval(o->on_eval_user, s, &e);
            ds_train_eval_free(&e);
        }
        if (csv) {
            fprintf(csv, "%d,%lld,%.6g,%.6f,%.6f,%.6f,%.6f,%.4f,%.4f,%.0f,%.3f,", s,
                    (long long)((int64_t)(s - 1) * B / ord.n_ok), lr, st.loss, st.loss_ans,
                    st.loss_ptr, st.loss_doc, ans_acc, ptr_acc, tps, imb);
            if (f1 >= 0)
                fprintf(csv, "%.4f\n", f1);
            else
                fprintf(csv, "\n");
            fflush(csv);
        }
        if (!rc && o->checkpoint_every > 0 && s % o->checkpoint_every == 0 && s != last)
            rc = checkpoint(t, o);
    }
    if (tty) fprintf(stderr, "\n");
    if (!rc) rc = checkpoint(t, o);
    if (!rc) rc = ds_trainer_sync(t);
    if (!rc && o->out) rc = ds_model_save(m, o->out);
    if (csv) { // plotted on success only: a plot's error would replace the run's
        fclose(csv);
        csv = NULL;
    }
    if (!rc && o->curve_csv) {
        char png[4096];
        size_t L = strlen(o->curve_csv);
        if (L > 4 && strcmp(o->curve_csv + L - 4, ".csv") == 0) {
            snprintf(png, sizeof png, "%.*s.png", (int)(L - 4), o->curve_csv);
            if (ds_plot_curves(o->curve_csv, png) == 0)
                DS_LOGI("train: curves in %s and %s", o->curve_csv, png);
        }
    }
    if (!rc)
        DS_LOGI("train: %.0f tokens in %.0f s (%.0f tokens/s)", tokens, ds_time_s() - t_start,
                tokens / (ds_time_s() - t_start));
done:
    if (csv) fclose(csv);
    free(ord.ok_idx);
    free(ord.perm);
    free(pix);
    free(seqs);
    free(ptrs);
    return rc;
}
