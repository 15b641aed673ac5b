// main.c: `docseek` entry point: dispatches to the subcommands.
#include "cli/cli.h"
#include "core/error.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} ds_commands[] = {
    {"info", ds_cmd_info, "build, CPU/BLAS and GPU facts; environment checks"},
    {"tensors", ds_cmd_tensors, "list (and check) the tensors of a .safetensors file"},
    {"pages", ds_cmd_pages, "read a PDF or image: pages, words and boxes as JSON"},
    {"synth", ds_cmd_synth, "generate labelled documents (invoice, receipt, form, contract)"},
    {"eval", ds_cmd_eval, "score predictions against ground truth (docseek, SROIE, FUNSD, ...)"},
    {"tokenizer", ds_cmd_tokenizer, "train the BPE tokenizer on a corpus; show how a text splits"},
    {"train", ds_cmd_train, "train a model on labelled documents (checkpoints, resume, eval)"},
    {"finetune", ds_cmd_finetune, "adapt a model to your documents (LoRA adapter) or merge one"},
    {"model", ds_cmd_model, "create a model file (random init) or describe one"},
    {"extract", ds_cmd_extract, "extract documents with the model: JSON with values and boxes"},
    {"ingest", ds_cmd_ingest, "extract a whole folder into JSON lines (parallel, resumable)"},
    {"serve", ds_cmd_serve, "the HTTP service: POST /v1/extract, /healthz, /metrics"},
};

static void usage(FILE *f) {
    fprintf(f, "usage: docseek COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof ds_commands / sizeof *ds_commands; i++)
        fprintf(f, "  %-10s %s\n", ds_commands[i].name, ds_commands[i].help);
    fprintf(f, "\n`docseek COMMAND --help` describes a command.\n");
}

int ds_cli_fail(const char *cmd, int err) {
    fprintf(stderr, "docseek %s: %s: %s\n", cmd, ds_err_name(err),
            ds_errmsg()[0] ? ds_errmsg() : ds_strerror(err));
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("docseek %s\n", DS_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof ds_commands / sizeof *ds_commands; i++)
        if (strcmp(argv[1], ds_commands[i].name) == 0)
            return ds_commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "docseek: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
