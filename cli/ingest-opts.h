// ingest-opts.h: the options that say how documents are read (OCR, limits),
// the same for every command that reads them (pages, extract, ingest).
#ifndef DS_CLI_INGEST_OPTS_H
#define DS_CLI_INGEST_OPTS_H

#include "ingest/ingest.h"

#define DS_CLI_INGEST_USAGE                                                                          \
    "  --ocr MODE       auto (pages without a text layer), always, never (default auto)\n"           \
    "  --dpi N          rendering and OCR resolution, 18 to 2400 (default 150)\n"                    \
    "  --ocr-layout L   how OCR finds a page's text: block (one block of lines, the default),\n"     \
    "                   auto (Tesseract's layout analysis), column, sparse; DS_OCR_LAYOUT=L\n"       \
    "                   in the environment sets it for every command\n"                              \
    "  --ocr-lang L     the languages OCR reads, Tesseract's names joined by '+' (default eng;\n"    \
    "                   deu, eng+msa, Latin, ... as installed); DS_OCR_LANG=L in the\n"              \
    "                   environment sets it for every command\n"                                     \
    "  --no-marks       do not add check boxes as words (source \"mark\": ☒ checked, ☐ empty)\n" \
    "  --no-graphic-text  do not OCR text a PDF page draws as graphics (a logo's letters)\n"         \
    "  --max-pages N    refuse documents with more pages (default 50)\n"                             \
    "  --max-pixels N   refuse pages larger than N pixels (default 100000000)\n"                     \
    "  --max-bytes N    refuse files larger than N bytes (default 67108864)\n"                       \
    "  --timeout S      per-document time budget in seconds, at most 86400 (default 60,\n"           \
    "                   0 = none)\n"

// Reads argv[*i] (and its value, advancing *i) into o when it is one of the options
// above. Returns 1 when it was, 0 when it is not one of them, -1 after printing why
// its value is wrong ("docseek CMD: ...").
int ds_cli_ingest_option(const char *cmd, int argc, char **argv, int *i, ds_ingest_opts *o);

#endif
