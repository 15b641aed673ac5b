// synth.h: the generator of labelled documents (`docseek synth`). Each
// document is drawn with cairo into a PDF (real fonts from Debian packages,
// real vocabularies: word lists, iso-codes currencies and countries, tzdata
// cities), with ground truth that knows exactly where every value was drawn;
// with scan on, the page is rasterised and degraded through libvips into a
// JPEG. Deterministic: the same (type, seed, index) gives the same bytes.
#ifndef DS_SYNTH_H
#define DS_SYNTH_H

typedef struct {
    const char *type;    // invoice | receipt | form | contract
    int count;           // documents to write
    unsigned long seed;  // base seed
    const char *out_dir; // created if missing
    int scan;            // 1: rasterise and degrade into JPEG (exercises OCR)
    int on_sheet;        // with scan: a page smaller than A4 lies on an A4 sheet (receipts)
    int thermal;         // with scan: printed first as a worn thermal till prints it
    int family_lo;       // document i is drawn in layout family lo + i % (hi - lo + 1);
    int family_hi;       // 0-11 are the classic families, 12-59 (contracts) the filed ones
} ds_synth_opts;

// Number of layout families of a document type (0 for an unknown type).
int ds_synth_families(const char *type);
// Writes opts->count documents and their NAME.json ground truth into out_dir.
// Returns 0 or a DS_E* code (unknown type, unwritable folder, missing fonts or word lists).
int ds_synth_generate(const ds_synth_opts *opts);

#endif
