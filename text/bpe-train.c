// bpe-train.c: ds_tokenizer_train. Pre-tokens are counted once in a hash
// table; each unique one becomes a symbol sequence weighted by its count.
// Pair counts stay exact and change only where a merge happens (each pair
// lists the words it was born in), and a lazy max-heap picks the next pair:
// the scheme of HuggingFace tokenizers' BPE trainer (bpe/trainer.rs).
// Single-threaded; memory is a small multiple of the unique pre-tokens.
#include "text/tokenizer-impl.h"
#include "core/error.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    int32_t a, b;
    int64_t count;  // occurrences, weighted by word counts
    int32_t *where; // words the pair was born in (it may have left some since)
    int32_t n_where, cap_where;
    int32_t born; // last step that listed the pair in fresh
} bpe_pair;

typedef struct {
    int64_t count; // the pair's count when pushed; stale once the pair changes
    int32_t pair;
} heap_ent;

typedef struct {
    const uint8_t *str; // into the caller's text
    uint64_t hash;
    int64_t count;
    uint32_t len;
} bpe_word;

typedef struct {
    bpe_word *words; // unique pre-tokens
    int32_t n_words, cap_words;
    int32_t *w_slots; // open addressing: word index + 1, 0 = empty
    uint32_t w_mask;
    // each word's current symbols: sym[sym_off[w] .. + sym_len[w]]
    int32_t *sym;
    size_t *sym_off;
    int32_t *sym_len;
    bpe_pair *pairs;
    int32_t n_pairs, cap_pairs;
    int32_t *p_slots; // pair index + 1, 0 = empty
    uint32_t p_mask;
    heap_ent *heap;
    int32_t n_heap, cap_heap;
    int32_t *fresh; // pairs whose count grew this step (all contain the new token)
    int32_t n_fresh, cap_fresh;
    int32_t step;
} bpe_trainer;

// Grows the array *pp (elements of size elem) to hold need; 0 or -1 on
// out-of-memory, the array kept. pp is the address of any object pointer
// (memcpy, not a cast to void **, keeps strict aliasing).
static int grow(void *pp, int32_t *cap, int64_t need, size_t elem) {
    if (need <= *cap) return 0;
    int64_t c = *cap ? *cap : 16;
    while (c < need) c *= 2;
    if (c > INT32_MAX) return -1;
    void *p;
    memcpy(&p, pp, sizeof p);
    void *q = realloc(p, (size_t)c * elem);
    if (!q) return -1;
    memcpy(pp, &q, sizeof q);
    *cap = (int32_t)c;
    return 0;
}

// Rebuilds an index table of 2x the entries' count; hash_of(i) gives entry i's hash.
static int rehash(int32_t **slots, uint32_t *mask, int32_t n, const bpe_trainer *t,
                  uint64_t (*hash_of)(const bpe_trainer *, int32_t)) {
    uint32_t cap = 64;
    while (cap < 2u * (uint32_t)n + 2) cap *= 2;
    int32_t *s = calloc(cap, sizeof *s);
    if (!s) return -1;
    for (int32_t i = 0; i < n; i++) {
        uint32_t h = (uint32_t)hash_of(t, i) & (cap - 1);
        while (s[h]) h = (h + 1) & (cap - 1);
        s[h] = i + 1;
    }
    free(*slots);
    *slots = s;
    *mask = cap - 1;
    return 0;
}

// ---- unique pre-tokens

static uint64_t word_hash(const bpe_trainer *t, int32_t i) {
    return t->words[i].hash;
}

static int word_add(bpe_trainer *t, const uint8_t *s, uint32_t n) {
    uint64_t h = 0xcbf29ce484222325ull; // FNV-1a
    for (uint32_t i = 0; i < n; i++) h = (h ^ s[i]) * 0x100000001b3ull;
    h = ds_tok_hash64(h);
    for (uint32_t i = (uint32_t)h & t->w_mask;; i = (i + 1) & t->w_mask) {
        int32_t k = t->w_slots[i] - 1;
        if (k < 0) break;
        bpe_word *w = &t->words[k];
        if (w->hash == h && w->len == n && memcmp(w->str, s, n) == 0) {
            w->count++;
            return 0;
        }
    }
    int32_t k = t->n_words;
    if (grow(&t->words, &t->cap_words, k + 1, sizeof *t->words)) return -1;
    t->words[k] = (bpe_word){.str = s, .hash = h, .count = 1, .len = n};
    t->n_words++;
    if (2u * (uint32_t)t->n_words + 2 > t->w_mask + 1)
        return rehash(&t->w_slots, &t->w_mask, t->n_words, t, word_hash);
    uint32_t i = (uint32_t)h & t->w_mask;
    while (t->w_slots[i]) i = (i + 1) & t->w_mask;
    t->w_slots[i] = k + 1;
    return 0;
}

// ---- pairs

static uint64_t pair_hash(const bpe_trainer *t, int32_t i) {
    return ds_tok_hash64(ds_tok_pair_key(t->pairs[i].a, t->pairs[i].b));
}

static int32_t pair_find(const bpe_trainer *t, int32_t a, int32_t b) {
    uint64_t h = ds_tok_hash64(ds_tok_pair_key(a, b));
    for (uint32_t i = (uint32_t)h & t->p_mask;; i = (i + 1) & t->p_mask) {
        int32_t k = t->p_slots[i] - 1;
        if (k < 0) return -1;
        if (t->pairs[k].a == a && t->pairs[k].b == b) return k;
    }
}

static int32_t pair_get(bpe_trainer *t, int32_t a, int32_t b) {
    int32_t k = pair_find(t, a, b);
    if (k >= 0) return k;
    k = t->n_pairs;
    if (grow(&t->pairs, &t->cap_pairs, k + 1, sizeof *t->pairs)) return -1;
    t->pairs[k] = (bpe_pair){.a = a, .b = b, .born = INT32_MIN};
    t->n_pairs++;
    if (2u * (uint32_t)t->n_pairs + 2 > t->p_mask + 1) {
        if (rehash(&t->p_slots, &t->p_mask, t->n_pairs, t, pair_hash)) return -1;
        return k;
    }
    uint32_t i = (uint32_t)pair_hash(t, k) & t->p_mask;
    while (t->p_slots[i]) i = (i + 1) & t->p_mask;
    t->p_slots[i] = k + 1;
    return k;
}

// Pairs with a digit are never counted, so they are never merged.
static int pair_add(bpe_trainer *t, int32_t a, int32_t b, int64_t f, int32_t w) {
    if (ds_tok_is_digit(a) || ds_tok_is_digit(b)) return 0;
    int32_t k = pair_get(t, a, b);
    if (k < 0) return -1;
    bpe_pair *p = &t->pairs[k];
    p->count += f;
    if (!p->n_where || p->where[p->n_where - 1] != w) {
        if (grow(&p->where, &p->cap_where, p->n_where + 1, sizeof *p->where)) return -1;
        p->where[p->n_where++] = w;
    }
    if (p->born != t->step) {
        p->born = t->step;
        if (grow(&t->fresh, &t->cap_fresh, t->n_fresh + 1, sizeof *t->fresh)) return -1;
        t->fresh[t->n_fresh++] = k;
    }
    return 0;
}

static void pair_sub(bpe_trainer *t, int32_t a, int32_t b, int64_t f) {
    if (ds_tok_is_digit(a) || ds_tok_is_digit(b)) return;
    int32_t k = pair_find(t, a, b);
    DS_ASSERT(k >= 0); // every pair in a word was counted when it formed
    t->pairs[k].count -= f;
}

// ---- heap: largest count first, then the smaller (a, b)

static int heap_before(const bpe_trainer *t, heap_ent x, heap_ent y) {
    if (x.count != y.count) return x.count > y.count;
    const bpe_pair *p = &t->pairs[x.pair], *q = &t->pairs[y.pair];
    return p->a != q->a ? p->a < q->a : p->b < q->b;
}

static int heap_push(bpe_trainer *t, int32_t k) {
    if (grow(&t->heap, &t->cap_heap, t->n_heap + 1, sizeof *t->heap)) return -1;
    heap_ent e = {t->pairs[k].count, k};
    int32_t i = t->n_heap++;
    while (i > 0 && heap_before(t, e, t->heap[(i - 1) / 2])) {
        t->heap[i] = t->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    t->heap[i] = e;
    return 0;
}

static heap_ent heap_pop(bpe_trainer *t) {
    heap_ent top = t->heap[0], e = t->heap[--t->n_heap];
    int32_t i = 0, n = t->n_heap;
    for (;;) {
        int32_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && heap_before(t, t->heap[c + 1], t->heap[c])) c++;
        if (!heap_before(t, t->heap[c], e)) break;
        t->heap[i] = t->heap[c];
        i = c;
    }
    if (n) t->heap[i] = e;
    return top;
}

// Pushes the pairs that grew this step; pairs below 2 can never win (counts only
// fall once a step is over: every new pair holds that step's new token).
static int push_fresh(bpe_trainer *t) {
    for (int32_t i = 0; i < t->n_fresh; i++)
        if (t->pairs[t->fresh[i]].count >= 2 && heap_push(t, t->fresh[i])) return -1;
    t->n_fresh = 0;
    return 0;
}

// ---- merging

// Replaces (a, b) by c left to right in word w, moving the counts of the
// neighbouring pairs as it goes (prev may already be a c of this word).
static int merge_word(bpe_trainer *t, int32_t w, int32_t ab, int32_t c) {
    int32_t a = t->pairs[ab].a, b = t->pairs[ab].b;
    int32_t *s = t->sym + t->sym_off[w];
    int32_t n = t->sym_len[w], o = 0;
    int64_t f = t->words[w].count;
    for (int32_t i = 0; i < n;) {
        if (i + 1 < n && s[i] == a && s[i + 1] == b) {
            if (o > 0) {
                pair_sub(t, s[o - 1], a, f);
                if (pair_add(t, s[o - 1], c, f, w)) return -1;
            }
            if (i + 2 < n) {
                pair_sub(t, b, s[i + 2], f);
                if (pair_add(t, c, s[i + 2], f, w)) return -1;
            }
            t->pairs[ab].count -= f;
            s[o++] = c;
            i += 2;
        } else {
            s[o++] = s[i++];
        }
    }
    t->sym_len[w] = o;
    return 0;
}

static void trainer_free(bpe_trainer *t) {
    for (int32_t i = 0; i < t->n_pairs; i++) free(t->pairs[i].where);
    free(t->pairs);
    free(t->p_slots);
    free(t->heap);
    free(t->fresh);
    free(t->words);
    free(t->w_slots);
    free(t->sym);
    free(t->sym_off);
    free(t->sym_len);
}

// Counts pre-tokens, then every adjacent pair of every unique pre-token.
static int trainer_init(bpe_trainer *t, const char *const *texts, size_t n) {
    if (rehash(&t->w_slots, &t->w_mask, 0, t, word_hash) ||
        rehash(&t->p_slots, &t->p_mask, 0, t, pair_hash))
        return -1;
    for (size_t d = 0; d < n; d++) {
        const uint8_t *s = (const uint8_t *)texts[d];
        size_t len = strlen(texts[d]);
        for (size_t pos = 0, end; pos < len; pos = end) {
            end = ds_tok_pretoken_end(s, len, pos);
            if (word_add(t, s + pos, (uint32_t)(end - pos))) return -1;
        }
    }
    size_t total = 0;
    for (int32_t w = 0; w < t->n_words; w++) total += t->words[w].len;
    t->sym = malloc((total ? total : 1) * sizeof *t->sym);
    t->sym_off = malloc((size_t)(t->n_words ? t->n_words : 1) * sizeof *t->sym_off);
    t->sym_len = malloc((size_t)(t->n_words ? t->n_words : 1) * sizeof *t->sym_len);
    if (!t->sym || !t->sym_off || !t->sym_len) return -1;
    t->step = -1;
    size_t off = 0;
    for (int32_t w = 0; w < t->n_words; w++) {
        const bpe_word *wd = &t->words[w];
        int32_t *s = t->sym + off;
        t->sym_off[w] = off;
        t->sym_len[w] = (int32_t)wd->len;
        for (uint32_t i = 0; i < wd->len; i++) s[i] = DS_TOK_BYTE0 + wd->str[i];
        for (uint32_t i = 0; i + 1 < wd->len; i++)
            if (pair_add(t, s[i], s[i + 1], wd->count, w)) return -1;
        off += wd->len;
    }
    return push_fresh(t);
}

int ds_tokenizer_train(const char *const *texts, size_t n, int vocab_size, ds_tokenizer **out) {
    *out = NULL;
    if (vocab_size < DS_TOK_FIRST_MERGE || vocab_size > DS_TOK_MAX_VOCAB)
        return ds_error(DS_E_INVAL, "tokenizer: vocab_size %d, it must be in [%d, %d]", vocab_size,
                        DS_TOK_FIRST_MERGE, DS_TOK_MAX_VOCAB);
    for (size_t d = 0; d < n; d++)
        if (!texts[d]) return ds_error(DS_E_INVAL, "tokenizer: texts[%zu] is NULL", d);
    int32_t target = vocab_size - DS_TOK_FIRST_MERGE, n_merges = 0;
    int32_t *merges = malloc((size_t)(target ? target : 1) * 2 * sizeof *merges);
    bpe_trainer t = {0};
    int rc = merges ? trainer_init(&t, texts, n) : -1;
    for (t.step = 0; !rc && n_merges < target && t.n_heap > 0;) {
        heap_ent top = heap_pop(&t);
        int64_t now = t.pairs[top.pair].count;
        if (top.count != now) {
            if (now >= 2) rc = heap_push(&t, top.pair);
            continue;
        }
        int32_t c = DS_TOK_FIRST_MERGE + n_merges;
        merges[2 * n_merges] = t.pairs[top.pair].a;
        merges[2 * n_merges + 1] = t.pairs[top.pair].b;
        n_merges++;
        // The pair's own list never grows while it merges (new pairs all hold c).
        bpe_pair *p = &t.pairs[top.pair];
        int32_t *where = p->where, n_where = p->n_where;
        p->where = NULL;
        p->n_where = p->cap_where = 0;
        for (int32_t i = 0; !rc && i < n_where; i++) rc = merge_word(&t, where[i], top.pair, c);
        free(where);
        DS_ASSERT(rc || t.pairs[top.pair].count == 0);
        if (!rc) rc = push_fresh(&t);
        t.step++;
    }
    trainer_free(&t);
    if (rc) {
        free(merges);
        return ds_error(DS_E_NOMEM, "tokenizer: out of memory training on %zu texts", n);
    }
    rc = ds_tok_build(merges, n_merges, out);
    free(merges);
    return rc;
}
