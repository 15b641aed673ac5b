// cmd-synth.c: `docseek synth --type T --count N --seed S --out DIR [--scan [--on-sheet]
// [--thermal]] [--family F | --families A-B]`: writes generated documents and their ground
// truth. The recorded command reproduces the same files byte for byte.
#include "cli/args.h"
#include "cli/cli.h"
#include "core/error.h"
#include "core/timer.h"
#include "samples/synth.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *synth_usage =
    "usage: docseek synth --type T --count N --seed S --out DIR\n"
    "       [--scan [--on-sheet] [--thermal]] [--family F | --families A-B]\n"
    "Writes N generated documents of type T (invoice, receipt, form, contract,\n"
    "form_entities: FUNSD-style headers, questions and answers) and,\n"
    "beside each, NAME.json with its ground truth (values and the boxes they were drawn in).\n"
    "  --scan       rasterise and degrade each page into a JPEG (TIFF if several pages)\n"
    "  --on-sheet   with --scan: a one-page document smaller than A4 (a receipt) is\n"
    "               scanned lying at a random place on an A4 sheet\n"
    "  --thermal    with --scan: each page printed first as a worn thermal till prints\n"
    "               it (dots on or off, ink faded in patches, streaks, missing dots)\n"
    "  --family F   only layout family F\n"
    "  --families A-B  cycle through families A to B (default 0-11, the classic ones;\n"
    "               receipts also have 12-23: long till receipts as Malaysian shops\n"
    "               print them, with sub-totals, tax, rounding and a GST summary, and\n"
    "               24-35: the same with their sums, labels and payment varied,\n"
    "               36-47: and the tax rate printed in labels (\"GST @ 6%\");\n"
    "               contracts 12-35: agreements as filed with the SEC,\n"
    "               24-35 of them long, 4-6 pages; 36-59: the same as EDGAR\n"
    "               prints them, A4 in small type, 48-59 long)\n";

// A bad option's value: its message, exit status 2.
static int synth_bad(void) {
    fprintf(stderr, "docseek synth: %s\n", ds_errmsg());
    return 2;
}

// --families A-B: two family numbers (each checked against the type by ds_synth_generate).
static int parse_families(const char *s, ds_synth_opts *o) {
    const char *dash = strchr(s, '-');
    char lo[32];
    if (!dash || dash == s || (size_t)(dash - s) >= sizeof lo)
        return ds_error(DS_E_INVAL, "bad value '%s' for --families: a range of family numbers, A-B",
                        s);
    memcpy(lo, s, (size_t)(dash - s));
    lo[dash - s] = 0;
    int rc = ds_cli_int("--families", lo, 0, DS_CLI_INT_MAX, &o->family_lo);
    return rc ? rc : ds_cli_int("--families", dash + 1, 0, DS_CLI_INT_MAX, &o->family_hi);
}

int ds_cmd_synth(int argc, char **argv) {
    ds_synth_opts o = {
        .type = NULL, .count = 1, .seed = 1, .out_dir = NULL, .family_lo = 0, .family_hi = 11};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int v = i + 1 < argc;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(synth_usage, stdout);
            return 0;
        } else if (strcmp(a, "--type") == 0 && v) {
            o.type = argv[++i];
        } else if (strcmp(a, "--count") == 0 && v) {
            if (ds_cli_int(a, argv[++i], 1, DS_CLI_INT_MAX, &o.count)) return synth_bad();
        } else if (strcmp(a, "--seed") == 0 && v) {
            uint64_t seed;
            if (ds_cli_seed(a, argv[++i], &seed)) return synth_bad();
            o.seed = (unsigned long)seed;
        } else if (strcmp(a, "--out") == 0 && v) {
            o.out_dir = argv[++i];
        } else if (strcmp(a, "--family") == 0 && v) {
            if (ds_cli_int(a, argv[++i], 0, DS_CLI_INT_MAX, &o.family_lo)) return synth_bad();
            o.family_hi = o.family_lo;
        } else if (strcmp(a, "--families") == 0 && v) {
            if (parse_families(argv[++i], &o)) return synth_bad();
        } else if (strcmp(a, "--scan") == 0) {
            o.scan = 1;
        } else if (strcmp(a, "--on-sheet") == 0) {
            o.on_sheet = 1;
        } else if (strcmp(a, "--thermal") == 0) {
            o.thermal = 1;
        } else {
            fprintf(stderr, "docseek synth: unexpected argument '%s'\n%s", a, synth_usage);
            return 2;
        }
    }
    if ((o.on_sheet || o.thermal) && !o.scan) {
        fprintf(stderr, "docseek synth: %s describes a scan: add --scan\n",
                o.thermal ? "--thermal" : "--on-sheet");
        return 2;
    }
    if (!o.type || !o.out_dir) {
        fputs(synth_usage, stderr);
        return 2;
    }
    double t0 = ds_time_s();
    int rc = ds_synth_generate(&o);
    if (rc) return ds_cli_fail("synth", rc);
    double dt = ds_time_s() - t0;
    fprintf(stderr, "docseek synth: %d %s document(s) in %s in %.2f s (%.0f/min)\n", o.count,
            o.type, o.out_dir, dt, o.count / dt * 60);
    return 0;
}
