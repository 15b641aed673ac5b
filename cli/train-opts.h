// train-opts.h: the options `docseek train` and `docseek finetune` share (the
// schedule and the optimiser, the held-out evaluation, the preparation of the
// documents, the checkpoint and the device), read by one parser so that both
// commands take the same ones and refuse the same bad values.
#ifndef DS_CLI_TRAIN_OPTS_H
#define DS_CLI_TRAIN_OPTS_H

#include "train/loop.h"

// What a run needs beside ds_train_opts: where it computes and prepares its
// documents, how their truth is written, and whether it resumes.
typedef struct {
    const char *device;        // cpu, cuda, cuda:N or auto
    const char *cache;         // prepared documents
    const char *format;        // the folders' ground truth (eval's formats)
    int threads, prep_threads; // compute threads on the CPU; document preparation threads
    int resume;                // continue from the checkpoint
} ds_cli_run;

// auto, .docseek-cache, docseek, two threads of each.
ds_cli_run ds_cli_run_defaults(void);

// Reads argv[*i] (and its value, advancing *i) into o and r when it is a shared option:
// --steps, --batch, --lr, --warmup, --min-lr, --clip, --weight-decay, --seed, --eval,
// --eval-every, --checkpoint-every, --stop-after, --schemas, --format, --cache,
// --checkpoint, --device, --threads, --prep-threads (each with a value), --resume,
// --recompute, --given-type, --set-words. Returns 1 when it was, 0 when it is not one
// or its value is missing (the caller reports the argument), DS_E_INVAL when its value
// is not a number or out of range (ds_errmsg says which).
int ds_cli_train_option(int argc, char **argv, int *i, ds_train_opts *o, ds_cli_run *r);

// With --resume, loads o's checkpoint into t, or warns that there is none (the run then
// starts at step 0); cmd names the command in the log. 0 or a DS_E* code.
int ds_cli_resume(ds_trainer *t, const ds_train_opts *o, const ds_cli_run *r, const char *cmd);

#endif
