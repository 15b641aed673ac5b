// gt-words.h: the words a public set gives with its scans. SROIE task 3 and
// FUNSD's entity labelling are defined on them: every system reads the same
// words, so what is scored is extraction, not OCR. `eval`, `finetune` and
// `train` read them with --set-words; by default docseek reads every scan with
// its own OCR, as it does a user's.
#ifndef DS_GT_WORDS_H
#define DS_GT_WORDS_H

#include "ingest/ingest.h"
#include "samples/eval.h"

// 0 when format f's sets carry their words (sroie, funsd); else DS_E_UNSUPPORTED
// saying why not (docseek's format, Kleister's PDFs with their text layers, CORD).
int ds_gt_words_check(ds_eval_format f);

// The words of document doc_path (DIR/img/NAME.jpg, DIR/images/NAME.png) of a set in
// format f into *out (empty on entry; free with ds_given_words_free), boxes in the
// image's pixels:
// - sroie: DIR/box/NAME.csv, a text line a row (x1,y1,...,x4,y4,transcript, corners
//   clockwise from the top left); each word of a line gets its share of the line's
//   quadrilateral by its characters, and the median slope of the lines is the skew;
// - funsd: DIR/annotations/NAME.json, the words of every entity with their boxes.
// DS_E_NOENT, DS_E_FORMAT (naming the file and the line or entity), DS_E_UNSUPPORTED.
int ds_gt_words_read(ds_eval_format f, const char *doc_path, ds_given_words *out);

// The file ds_gt_words_read reads for doc_path into out (cap bytes): 0, DS_E_INVAL (too
// long) or DS_E_UNSUPPORTED.
int ds_gt_words_path(ds_eval_format f, const char *doc_path, char *out, size_t cap);

// Ingests doc_path with io; with set_words, its set's words stand in for OCR.
int ds_gt_ingest(ds_eval_format f, int set_words, const char *doc_path, const ds_ingest_opts *io,
                 ds_doc **out);

#endif
