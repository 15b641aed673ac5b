// loop.h: `docseek train`'s loop: batches of prepared documents in a seeded
// order (a permutation per epoch, so the data position is the step count),
// warm-up then cosine learning rate, the trainer step, a progress line,
// checkpoints every N steps that resume bit for bit, a periodic evaluation on
// held-out documents with the evaluator's field F1, and a CSV of the curves.
// Plain options struct; one call runs the whole training.
#ifndef DS_LOOP_H
#define DS_LOOP_H

#include "train/dataset.h"
#include "train/trainer.h"

// One evaluation on the held-out documents (ds_train_evaluate).
typedef struct {
    double f1;            // field F1, micro-averaged
    ds_eval_counts c;     // its counts
    ds_eval_counts *docs; // (n_docs) each document's counts, in the truth's order (owned)
    int n_docs;
    json_t *types; // per-type F1 {"invoice": f1, ...} (owned)
} ds_train_eval;

typedef struct {
    int steps;                  // total steps of the schedule
    int stop_after;             // stop this run after so many steps (0: run to the end)
    int batch;                  // documents per step
    float lr, min_lr_frac;      // peak rate; the cosine ends at lr * min_lr_frac
    int warmup;                 // linear warm-up steps
    uint64_t seed;              // data order
    const char *checkpoint;     // path, or NULL
    int checkpoint_every;       // steps (0: only at the end)
    const char *eval_dir;       // held-out documents with truth, or NULL
    int eval_every;             // steps (0: only at the end)
    ds_eval_format eval_format; // their truth's format (default docseek)
    int eval_given_type;        // 1: the extractor is told each one's true type
    int eval_set_words;         // 1: their set's own words stand in for OCR (gt-words.h)
    // Called after each scheduled evaluation (every eval_every steps and the schedule's
    // last; not one at a stop_after stop, so a run in pieces sees the same ones) with its
    // step and result, the trainer synced (the model holds the parameters evaluated). A
    // nonzero return stops the training with that code.
    int (*on_eval)(void *user, int step, const ds_train_eval *e);
    void *on_eval_user;
    const char *schemas_dir; // for the evaluator
    const char *curve_csv;   // appended, or NULL
    const char *out;         // the final model, or NULL
    ds_trainer_opts opt;
} ds_train_opts;

void ds_train_opts_default(ds_train_opts *o);
// Trains m on d. t is a trainer for m (fresh, or loaded from a checkpoint: training
// continues at its step), on its own context; ctx is the CPU context the periodic
// evaluation decodes on. Returns 0 or a DS_E* code.
int ds_train_run(ds_model *m, ds_ctx *ctx, ds_trainer *t, const ds_dataset *d,
                 const ds_schema_set *schemas, const ds_train_opts *o);
// The learning rate of step s (1-based) of o's schedule.
float ds_train_lr(const ds_train_opts *o, int s);
// Field F1 of model m on o's held-out documents (eval_dir, in eval_format), through the
// evaluator, read as extract reads them (long ones in windows), into *e (free with
// ds_train_eval_free).
int ds_train_evaluate(ds_model *m, ds_ctx *ctx, const ds_schema_set *schemas,
                      const ds_train_opts *o, ds_train_eval *e);
void ds_train_eval_free(ds_train_eval *e);
// The line an evaluation prints: "eval at step N: field F1 X (tp a fp b fn c)  per type
// {...}" (scripts and tests read it).
void ds_train_eval_print(const ds_train_eval *e, int step);

#endif
