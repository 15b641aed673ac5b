// span-automaton.h: the suffix automaton of a document's token stream (Blumer
// et al. 1985): every path from its root spells a contiguous run of the
// document's tokens, and every such run is a path. The decoder walks it while
// it generates a value, allowing at each step only the tokens that continue
// the run so far, so a generated value is always a piece of the document's
// text (a mask over the vocabulary, intersected with it). Each state also
// knows where its run first ends, so the value can be grounded on the words
// it came from. Linear size (at most 2n states and 3n transitions) and build
// time; plain struct.
#ifndef DS_SPAN_AUTOMATON_H
#define DS_SPAN_AUTOMATON_H

#include <stdint.h>

typedef struct {
    int32_t len;   // the longest run this state stands for
    int32_t link;  // suffix link (-1 at the root)
    int32_t edge;  // first outgoing transition (-1: none)
    int32_t first; // where (token index) the runs of this state first end
} ds_sam_state;

typedef struct {
    int32_t tok, to, next; // next: the state's following transition
} ds_sam_edge;

typedef struct {
    ds_sam_state *st;
    ds_sam_edge *ed;
    int n_st, n_ed;
} ds_span_automaton;

// Builds the automaton of toks[0..n). Returns 0 or DS_E_NOMEM.
int ds_sam_build(ds_span_automaton *a, const int32_t *toks, int n);
void ds_sam_free(ds_span_automaton *a);
// The state after token tok from state s (the root is 0), or -1 when no run continues so.
int ds_sam_next(const ds_span_automaton *a, int s, int32_t tok);
// Sets allowed[t] = 1 for every token t >= min_tok that continues a run from state s
// (allowed has the vocabulary's size; other entries are left as they are). Returns how
// many it set.
int ds_sam_allow(const ds_span_automaton *a, int s, int32_t min_tok, uint8_t *allowed);

#endif
