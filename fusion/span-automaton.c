// span-automaton.c: see span-automaton.h. The online construction: each token
// extends the automaton of the prefix before it by one state (and at most one
// clone), following suffix links.
#include "fusion/span-automaton.h"

#include "core/error.h"

#include <stdlib.h>

static int add_edge(ds_span_automaton *a, int from, int32_t tok, int to) {
    ds_sam_edge *e = &a->ed[a->n_ed];
    *e = (ds_sam_edge){tok, to, a->st[from].edge};
    a->st[from].edge = a->n_ed++;
    return 0;
}

static ds_sam_edge *find(const ds_span_automaton *a, int s, int32_t tok) {
    for (int e = a->st[s].edge; e >= 0; e = a->ed[e].next)
        if (a->ed[e].tok == tok) return &a->ed[e];
    return NULL;
}

int ds_sam_build(ds_span_automaton *a, const int32_t *toks, int n) {
    *a = (ds_span_automaton){0};
    // at most 2n - 1 states and 3n - 4 transitions (n >= 3); room for small n too
    a->st = malloc(sizeof *a->st * (size_t)(2 * n + 2));
    a->ed = malloc(sizeof *a->ed * (size_t)(3 * n + 4));
    if (!a->st || !a->ed) {
        ds_sam_free(a);
        return ds_error(DS_E_NOMEM, "span automaton: out of memory (%d tokens)", n);
    }
    a->st[0] = (ds_sam_state){0, -1, -1, -1};
    a->n_st = 1;
    int last = 0;
    for (int i = 0; i < n; i++) {
        int32_t t = toks[i];
        int cur = a->n_st++;
        a->st[cur] = (ds_sam_state){a->st[last].len + 1, 0, -1, i};
        int p = last;
        while (p >= 0 && !find(a, p, t)) {
            add_edge(a, p, t, cur);
            p = a->st[p].link;
        }
        if (p >= 0) {
            int q = find(a, p, t)->to;
            if (a->st[p].len + 1 == a->st[q].len) {
                a->st[cur].link = q;
            } else {
                int clone = a->n_st++;
                a->st[clone] = (ds_sam_state){a->st[p].len + 1, a->st[q].link, -1, a->st[q].first};
                for (int e = a->st[q].edge; e >= 0; e = a->ed[e].next)
                    add_edge(a, clone, a->ed[e].tok, a->ed[e].to);
                ds_sam_edge *pe;
                while (p >= 0 && (pe = find(a, p, t)) && pe->to == q) {
                    pe->to = clone;
                    p = a->st[p].link;
                }
                a->st[q].link = a->st[cur].link = clone;
            }
        }
        last = cur;
    }
    return 0;
}

void ds_sam_free(ds_span_automaton *a) {
    free(a->st);
    free(a->ed);
    *a = (ds_span_automaton){0};
}

int ds_sam_next(const ds_span_automaton *a, int s, int32_t tok) {
    if (s < 0 || s >= a->n_st) return -1;
    const ds_sam_edge *e = find(a, s, tok);
    return e ? e->to : -1;
}

int ds_sam_allow(const ds_span_automaton *a, int s, int32_t min_tok, uint8_t *allowed) {
    int n = 0;
    if (s < 0 || s >= a->n_st) return 0;
    for (int e = a->st[s].edge; e >= 0; e = a->ed[e].next)
        if (a->ed[e].tok >= min_tok && !allowed[a->ed[e].tok]) {
            allowed[a->ed[e].tok] = 1;
            n++;
        }
    return n;
}
