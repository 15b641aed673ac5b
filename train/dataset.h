// dataset.h: the training documents: every NAME.{pdf,png,jpg,jpeg,tif,tiff,webp}
// with its docseek ground truth NAME.json beside it, in one or more folders.
// Preparation (ingest at the model's encoder size, OCR where needed, then the
// token sequence with its targets) runs on worker threads and is cached on
// disk, keyed by the document's bytes, the model's config and tokenizer, so a
// second run (or a resumed one) starts at once. Page pixels are kept as bytes
// (a quarter of the floats) and expanded when a batch is made. Plain struct.
#ifndef DS_DATASET_H
#define DS_DATASET_H

#include "fusion/model.h"
#include "samples/eval.h"

#include <jansson.h>
#include "samples/schema.h"

typedef struct {
    int n;
    char **doc_paths, **truth_paths; // truth_paths (or an item of it) NULL: truth in memory
    json_t **truths;                 // (n) truth objects read from a public format, or NULL
    ds_seq *seqs;                    // prepared sequences; pixels NULL (see px)
    uint8_t **px;                    // (n) page pixels as bytes, (n_pages, 3, S, S), or NULL
    int n_failed;                    // documents that could not be prepared (skipped, logged)
    int *ok;                         // (n) 1 when prepared
    int *times;                      // (n) how often an epoch lists each, or NULL: once
    int n_cached;                    // sequences read from the cache by the last prepare
    double seconds;                  // time of the last prepare
    // 1: a document longer than one sequence trains on one of its windows (as the
    // extractor reads them), picked by its path; values the window does not show
    // are absent there (ds_seq_build_window). Set before ds_dataset_prepare.
    int windows;
    // With windows: every window of a long document is a sequence of its own, so n
    // grows past the documents' count (finetuning on a few documents, which a single
    // window would mostly show without their values). Set before ds_dataset_prepare.
    int every_window;
    // 1: a value that is no run (exact or near) of its document's words is learned from
    // not at all instead of generated (DS_UNSEEN_SKIPPED). Set before ds_dataset_prepare.
    int skip_unfound;
    // 1: the documents read from a public format (truths) take their set's own words
    // instead of OCR (samples/gt-words.h); appended docseek-format ones keep OCR. Set
    // before ds_dataset_prepare.
    int set_words;
    ds_eval_format format; // what ds_dataset_from_gt read (docseek for a scanned folder)
    int n_docs;            // documents, as n counted them before ds_dataset_prepare
} ds_dataset;

// Lists the documents with truth in dirs (not recursive), sorted by path.
// DS_E_NOENT when a folder is missing, DS_E_INVAL when none holds a labelled document.
int ds_dataset_scan(const char *const *dirs, int n_dirs, ds_dataset *out);
// The same from a folder in a format the evaluator reads (SROIE, Kleister, FUNSD, CORD,
// docseek): documents and their truth as the evaluator sees them.
int ds_dataset_from_gt(ds_eval_format fmt, const char *dir, const char *schemas_dir,
                       ds_dataset *out);
// Either of the above, as the commands' --format and --data give them: format "docseek"
// scans every folder, another format (sroie, kleister, cord, ...) reads exactly one.
int ds_dataset_open(const char *format, const char *const *dirs, int n_dirs,
                    const char *schemas_dir, ds_dataset *out);
// Moves more's documents (not yet prepared, either kind of truth) to the end of d's;
// more is left empty, d's settings as they were.
int ds_dataset_append(ds_dataset *d, ds_dataset *more);
// Lists each of d's documents times times over in every epoch of training (ds_train_run
// draws it so often; it is prepared and held once): a user's few documents, repeated,
// weigh as much in the batches as the many rehearsed beside them. Documents appended
// later are listed once. DS_E_INVAL for times < 1.
int ds_dataset_repeat(ds_dataset *d, int times);
// How often an epoch lists item i (its windows: as often as their document).
int ds_dataset_times(const ds_dataset *d, int i);
// Prepares every document for model m on n_threads threads, through the cache folder
// (created; NULL: no cache). A document that fails is logged and skipped. Once per
// dataset: with every_window, n then counts sequences (n_docs the documents).
int ds_dataset_prepare(ds_dataset *d, const ds_model *m, const ds_schema_set *schemas,
                       int n_threads, const char *cache_dir);
// A sequence ready for ds_batch_pack: pixels expanded into buf (n_pages * 3 * S * S floats,
// or NULL without vision). The returned struct shares the dataset's arrays.
ds_seq ds_dataset_seq(const ds_dataset *d, int i, float *buf, int img_size);
void ds_dataset_free(ds_dataset *d);

#endif
