// extractor-opts.c: see extractor-opts.h.
#include "cli/extractor-opts.h"
#include "cli/cli.h"

#include <string.h>

ds_extractor_cfg ds_cli_extractor_defaults(void) {
    return (ds_extractor_cfg){.model = DS_DEFAULT_MODEL,
                              .schemas_dir = "samples/schemas",
                              .threads = 2,
                              .opts = {.windows = 1}};
}

int ds_cli_extractor_option(int argc, char **argv, int *i, ds_extractor_cfg *c) {
    const char *a = argv[*i];
    if (!strcmp(a, "--no-type-adapters")) {
        c->no_type_adapters = 1;
    } else if (!strcmp(a, "--no-vision")) {
        c->opts.no_vision = 1;
    } else if (!strcmp(a, "--windows")) {
        c->opts.windows = 1;
    } else if (!strcmp(a, "--no-windows")) {
        c->opts.windows = 0;
    } else {
        const char **dst = !strcmp(a, "--model")         ? &c->model
                           : !strcmp(a, "--adapter")     ? &c->adapter
                           : !strcmp(a, "--schemas")     ? &c->schemas_dir
                           : !strcmp(a, "--calibration") ? &c->calibration
                           : !strcmp(a, "--device")      ? &c->device
                                                         : NULL;
        if (!dst || *i + 1 >= argc) return 0;
        *dst = argv[++*i];
    }
    return 1;
}
