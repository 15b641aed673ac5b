// sequence.h: turns a document (and, for training, its ground truth) into
// the model's token sequence:
//   [bos][extract] { [page] [img]*n  words of the page ... } [ans] answer [eos]
// Every document token keeps its word's box (quantised to 0..1023 of the
// page), its page and the box in encoder pixels (ROI and glyph strip). Check
// boxes found by ingest (DS_WORD_MARK) are words when the config's use_marks is on. The answer is
//   type-tokens [eov]  then per schema field:  [field] name-tokens  value
// where a value is [copy][copy_end] (start/end word pointers) for text that
// is a run of document words, [null] when absent, or generated tokens + [eov]
// (check boxes, enums, and values that are no run of words). With use_marks, a
// check box or a choice whose truth box is one of ingest's check-box words
// points at that word instead ([copy][copy_end], both pointers on it); the
// decoder reads the state, or the label beside it, from the word. A list repeats
// [copy][copy_end] and ends with [eov]. Field names are forced (no loss):
// the schema fixes them. fusion/decode.c walks the same grammar.
#ifndef DS_SEQUENCE_H
#define DS_SEQUENCE_H

#include <jansson.h>

#include "fusion/model.h"
#include "ingest/ingest.h"
#include "samples/schema.h"

typedef struct {
    int n_words, n_words_kept; // document words, and those that fit the sequence
    int n_pages_kept;
    int last_page_cut;    // 1: the last kept page lost words (the budget ran out on it)
    int n_values;         // values in the truth
    int n_values_span;    // ... found as a run of document words (pointer targets)
    int n_values_gen;     // ... generated instead
    int n_values_near;    // ... pointing at a near run, not an exact one (of n_values_span)
    int n_values_unseen;  // ... absent from a window's words, written as absent (unseen_null)
    int n_values_skipped; // ... no run of the words, written absent with no loss (masked)
} ds_seq_info;

// What ds_seq_build_window makes of a value that is no run (exact or near) of the words.
enum {
    DS_UNSEEN_GENERATE, // generated: the model learns to write it
    DS_UNSEEN_ABSENT,   // absent: a window that does not show it says nothing about it
    // absent, with no loss on it: truth the page does not print as any run (a receipt's
    // company that OCR misread beyond a near run), which the decoder, holding generated
    // values to runs of the document's tokens, could not write anyway
    DS_UNSEEN_SKIPPED,
};

// Whether a sequence built from doc (with info) holds all of it: every page, none cut.
static inline int ds_seq_read_whole(const ds_seq_info *info, const ds_doc *doc) {
    return info->n_pages_kept == doc->n_pages && !info->last_page_cut;
}

// Whether the sequence of a model with config c holds word w (check-box words only
// with use_marks); the decoder maps its word indices by the same rule.
static inline int ds_seq_reads_word(const ds_model_cfg *c, const ds_word *w) {
    return c->use_marks || w->source != DS_WORD_MARK;
}

// Tokens kept free for the answer of any type the model routes to: document words
// beyond max_seq minus this are dropped. A type read only when named ("routed": false,
// a form's long entity lists) gets what is left; training on it keeps its whole room.
int ds_seq_answer_reserve(const ds_model *m, const ds_schema_set *schemas);

// Builds the sequence of doc. truth (a docseek ground-truth object, or NULL for inference)
// adds the answer and its targets. The page images must have the config's size.
// Returns 0 or DS_E_* (DS_E_INVAL naming the problem: unknown doc type, image size).
int ds_seq_build(const ds_model *m, const ds_schema_set *schemas, const ds_doc *doc,
                 const json_t *truth, ds_seq *out, ds_seq_info *info);

// The same for one window of a long document (doc: its pages from the window's first):
// with unseen_null DS_UNSEEN_ABSENT, a value that is no run of the window's words is
// written as absent ([null], or left out of its list) instead of generated, so the model
// learns to say nothing about what the window does not show; DS_UNSEEN_SKIPPED writes it
// absent but learns nothing from it. truth's boxes must name the window's pages.
int ds_seq_build_window(const ds_model *m, const ds_schema_set *schemas, const ds_doc *doc,
                        const json_t *truth, int unseen_null, ds_seq *out, ds_seq_info *info);

// How a value is matched to a run of the document's words (training points at a value
// that is such a run, and fusion/decode.c takes back one the model generated instead):
// ds_seq_collapse copies src with white space trimmed and runs of it one space (at most
// cap bytes with the NUL); ds_seq_spell_next adds word t to a run that spells the first
// *off bytes of want (wl long, collapsed), first: t is the run's first word. Returns 1
// and the new *off while the run still spells want's start (*off == wl: all of it), 0
// when it does not.
void ds_seq_collapse(char *dst, const char *src, size_t cap);
int ds_seq_spell_next(const char *want, size_t wl, size_t *off, const char *t, int first);

// Encodes " text" (leading space: how words appear in documents) into ids; returns the
// count or a negative DS_E*.
int ds_seq_encode_value(const ds_model *m, const char *text, int32_t *ids, int cap);

#endif
