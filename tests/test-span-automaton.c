// test-span-automaton.c: the suffix automaton of a token stream against the
// naive definition. For random streams over small alphabets (so runs repeat),
// every sequence of up to 5 tokens is walked: a path exists exactly when the
// sequence occurs as a contiguous run; its state's first end is the end of the
// run's first occurrence; the tokens it allows next are exactly those that
// follow some occurrence. Size stays within 2n states and 3n transitions.
#include "core/rng.h"
#include "fusion/span-automaton.h"
#include "tests/test.h"

#include <string.h>

enum { MAXN = 64, ALPHA = 4, MAXLEN = 5 };

// First end (index) of run q[0..k) in t[0..n), or -1.
static int first_end(const int32_t *t, int n, const int32_t *q, int k) {
    for (int i = 0; i + k <= n; i++)
        if (!memcmp(t + i, q, sizeof(int32_t) * (size_t)k)) return i + k - 1;
    return -1;
}

DS_TEST(span_automaton_matches_naive) {
    ds_rng rng;
    ds_rng_seed(&rng, 7);
    long walked = 0, present = 0, faults = 0;
    for (int trial = 0; trial < 60; trial++) {
        int n = 1 + (int)(ds_rng_uniform(&rng) * MAXN), alpha = 2 + trial % (ALPHA - 1);
        int32_t t[MAXN];
        for (int i = 0; i < n; i++) t[i] = 10 + (int32_t)(ds_rng_uniform(&rng) * alpha);
        ds_span_automaton a;
        DS_CHECK_INT_EQ(ds_sam_build(&a, t, n), 0);
        DS_CHECK(a.n_st <= 2 * n + 1 && a.n_ed <= 3 * n + 1);
        // every sequence over the alphabet (plus one absent token) up to MAXLEN long
        int32_t q[MAXLEN];
        int base = alpha + 1;
        for (int k = 1; k <= MAXLEN; k++) {
            long total = 1;
            for (int j = 0; j < k; j++) total *= base;
            for (long code = 0; code < total; code++) {
                long c = code;
                for (int j = 0; j < k; j++, c /= base) q[j] = 10 + (int32_t)(c % base);
                int s = 0;
                for (int j = 0; j < k && s >= 0; j++) s = ds_sam_next(&a, s, q[j]);
                int want = first_end(t, n, q, k);
                walked++;
                present += want >= 0;
                if ((s >= 0) != (want >= 0) || (s >= 0 && a.st[s].first != want)) {
                    faults++;
                    continue;
                }
                if (s < 0) continue;
                uint8_t allowed[64] = {0}, expect[64] = {0};
                int na = ds_sam_allow(&a, s, 0, allowed), ne = 0;
                for (int i = 0; i + k < n; i++)
                    if (!memcmp(t + i, q, sizeof(int32_t) * (size_t)k) && !expect[t[i + k]])
                        expect[t[i + k]] = 1, ne++;
                faults += na != ne || memcmp(allowed, expect, sizeof allowed) != 0;
            }
        }
        // min_tok leaves lower tokens out
        uint8_t low[64] = {0};
        ds_sam_allow(&a, 0, 11, low);
        faults += low[10] != 0;
        ds_sam_free(&a);
    }
    printf("  60 random streams: %ld sequences walked, %ld of them runs of the stream, %ld "
           "disagreements with the naive search\n",
           walked, present, faults);
    return faults != 0 || present < 1000;
}
