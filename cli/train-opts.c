// train-opts.c: see train-opts.h.
#include "cli/train-opts.h"
#include "cli/args.h"
#include "core/error.h"
#include "core/log.h"

#include <string.h>
#include <unistd.h>

ds_cli_run ds_cli_run_defaults(void) {
    return (ds_cli_run){.device = "auto",
                        .cache = ".docseek-cache",
                        .format = "docseek",
                        .threads = 2,
                        .prep_threads = 2};
}

int ds_cli_train_option(int argc, char **argv, int *i, ds_train_opts *o, ds_cli_run *r) {
    const char *a = argv[*i];
    int *flag = !strcmp(a, "--resume")       ? &r->resume
                : !strcmp(a, "--recompute")  ? &o->opt.recompute
                : !strcmp(a, "--given-type") ? &o->eval_given_type
                : !strcmp(a, "--set-words")  ? &o->eval_set_words
                                             : NULL;
    if (flag) {
        *flag = 1;
        return 1;
    }
    if (*i + 1 >= argc) return 0;
    const char *v = argv[*i + 1];
    // options whose value is a name: taken as given
    const char **name = !strcmp(a, "--eval")         ? &o->eval_dir
                        : !strcmp(a, "--schemas")    ? &o->schemas_dir
                        : !strcmp(a, "--format")     ? &r->format
                        : !strcmp(a, "--cache")      ? &r->cache
                        : !strcmp(a, "--checkpoint") ? &o->checkpoint
                        : !strcmp(a, "--device")     ? &r->device
                                                     : NULL;
    if (name) {
        *name = v;
        ++*i;
        return 1;
    }
    const struct {
        const char *opt;
        int *dst, lo;
    } counts[] = {{"--steps", &o->steps, 1},
                  {"--batch", &o->batch, 1},
                  {"--warmup", &o->warmup, 0},
                  {"--eval-every", &o->eval_every, 0},
                  {"--checkpoint-every", &o->checkpoint_every, 0},
                  {"--stop-after", &o->stop_after, 0},
                  {"--threads", &r->threads, 1},
                  {"--prep-threads", &r->prep_threads, 1}};
    const struct {
        const char *opt;
        float *dst;
        int above; // 1: above 0, 0: from 0
    } reals[] = {{"--lr", &o->lr, 1},
                 {"--min-lr", &o->min_lr_frac, 0},
                 {"--clip", &o->opt.clip, 0},
                 {"--weight-decay", &o->opt.weight_decay, 0}};
    int rc = 0, found = 0;
    for (size_t k = 0; !found && k < sizeof counts / sizeof *counts; k++)
        if ((found = !strcmp(a, counts[k].opt)))
            rc = ds_cli_int(a, v, counts[k].lo, DS_CLI_INT_MAX, counts[k].dst);
    for (size_t k = 0; !found && k < sizeof reals / sizeof *reals; k++)
        if ((found = !strcmp(a, reals[k].opt)))
            rc = ds_cli_float(a, v, 0, reals[k].above, reals[k].dst);
    if (!found && (found = !strcmp(a, "--seed"))) rc = ds_cli_seed(a, v, &o->seed);
    if (!found) return 0;
    ++*i;
    return rc ? rc : 1;
}

int ds_cli_resume(ds_trainer *t, const ds_train_opts *o, const ds_cli_run *r, const char *cmd) {
    if (!r->resume) return 0;
    if (access(o->checkpoint, F_OK) != 0) {
        DS_LOGW("%s: --resume but no checkpoint %s: starting at step 0", cmd, o->checkpoint);
        return 0;
    }
    int rc = ds_trainer_load(t, o->checkpoint, NULL);
    if (!rc)
        DS_LOGI("%s: resuming from %s at step %d", cmd, o->checkpoint, ds_trainer_steps_done(t));
    return rc;
}
