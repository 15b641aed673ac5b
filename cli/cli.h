// cli.h: the subcommands of the `docseek` command. Each takes argc/argv after
// its own name and returns the process exit status (0 ok, 1 failure, 2 usage).
// Errors are printed as "docseek <cmd>: <ERROR_NAME>: <detail>" so scripts can grep them.
#ifndef DS_CLI_H
#define DS_CLI_H

int ds_cmd_info(int argc, char **argv);
int ds_cmd_tensors(int argc, char **argv);
int ds_cmd_pages(int argc, char **argv);
int ds_cmd_synth(int argc, char **argv);
int ds_cmd_eval(int argc, char **argv);
int ds_cmd_model(int argc, char **argv);
int ds_cmd_tokenizer(int argc, char **argv);
int ds_cmd_train(int argc, char **argv);
int ds_cmd_finetune(int argc, char **argv);
int ds_cmd_extract(int argc, char **argv);
int ds_cmd_ingest(int argc, char **argv);
int ds_cmd_serve(int argc, char **argv);

// The model every command uses when none is named (relative to the working directory).
#define DS_DEFAULT_MODEL "models/default.safetensors"

// The model options of the commands that extract (extract, ingest), for their usage;
// ds_cli_extractor_option (cli/extractor-opts.h) parses them, for eval too.
#define DS_CLI_EXTRACTOR_USAGE                                                                     \
    "  --model M       the model (default " DS_DEFAULT_MODEL ")\n"                                 \
    "  --adapter A     a LoRA adapter for it (docseek finetune --lora; default: the type's\n"      \
    "                  own, MODEL.TYPE.lora.safetensors, when one lies beside the model)\n"        \
    "  --no-type-adapters  read every document with the base weights alone: no type's own\n"       \
    "                  adapter (a routed receipt or contract is then read once, not twice)\n"      \
    "  --calibration C confidences calibrated by file C (default: the model's own,\n"              \
    "                  MODEL.calibration.json beside it, when there is one); none: raw\n"          \
    "  --no-windows    read only a document's first max_seq tokens (default: a longer one is\n"    \
    "                  read in windows of pages and the answers merged)\n"                         \
    "  --no-vision     the model sees a blank page instead of the page image (words, boxes\n"      \
    "                  and ingest's check-box marks only; --no-marks drops those too)\n"           \
    "  --schemas DIR   document types and fields (default samples/schemas)\n"                      \
    "  --device D      cpu, cuda, cuda:N or auto (default: GPU 0 when one is present, else\n"      \
    "                  the CPU)\n"

// Prints the failure of a library call in the one format; returns 1.
int ds_cli_fail(const char *cmd, int err);

#endif
