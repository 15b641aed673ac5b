// extractor-opts.h: the options that say which model reads documents and how
// (DS_CLI_EXTRACTOR_USAGE in cli/cli.h), parsed alike by every command that
// extracts (extract, ingest, eval).
#ifndef DS_CLI_EXTRACTOR_OPTS_H
#define DS_CLI_EXTRACTOR_OPTS_H

#include "fusion/extract.h"

// The configuration before any option: the default model and schemas, two threads,
// long documents read in windows (what extract, ingest and eval start from).
ds_extractor_cfg ds_cli_extractor_defaults(void);

// Reads argv[*i] (and its value, advancing *i) into c when it is one of those options:
// --model, --adapter, --schemas, --calibration, --device (each with a value),
// --no-type-adapters, --windows, --no-windows, --no-vision. Returns 1 when it was, 0
// when it is not, or when its value is missing (the caller reports the argument).
int ds_cli_extractor_option(int argc, char **argv, int *i, ds_extractor_cfg *c);

#endif
