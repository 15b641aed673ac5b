// cmd-synth.c: `docseek synth --type T --count N --seed S --out DIR [--scan [--on-sheet]
// [--thermal]] [--family F | --families A-B]`: writes generated documents and their ground
// truth. The recorded command reproduces the same files byte for byte.
#include "cli/cli.h"
#include "core/error.h"
#include "core/timer.h"
#include "samples/synth.h"

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
            o.count = atoi(argv[++i]);
        } else if (strcmp(a, "--seed") == 0 && v) {
            o.seed = strtoul(argv[++i], NULL, 10);
        } else if (strcmp(a, "--out") == 0 && v) {
            o.out_dir = argv[++i];
        } else if (strcmp(a, "--family") == 0 && v) {
            o.family_lo = o.family_hi = atoi(argv[++i]);
        } else if (strcmp(a, "--families") == 0 && v) {
            if (sscanf(argv[++i], "%d-%d", &o.family_lo, &o.family_hi) != 2) o.family_lo = -1;
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
    if (!o.type || !o.out_dir || o.count < 1 || o.family_lo < 0) {
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
