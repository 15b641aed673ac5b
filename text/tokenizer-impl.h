// tokenizer-impl.h: what tokenizer.c (encode, decode, JSON) and bpe-train.c
// (training) share: the tokenizer's fields, the pre-tokenizer, the pair hash
// and the one constructor that checks a merge list. Private to text/; the
// public API is text/tokenizer.h.
#ifndef DS_TOKENIZER_IMPL_H
#define DS_TOKENIZER_IMPL_H

#include "text/tokenizer.h"

// Longest pre-token in bytes; longer runs are cut into pieces of this size.
// It bounds every piece's length and the cost of encoding one pre-token
// (quadratic in its length), whatever the input.
#define DS_TOK_MAX_PRETOKEN 64
#define DS_TOK_FIRST_MERGE  (DS_TOK_BYTE0 + 256)
#define DS_TOK_MAX_VOCAB    (1 << 20)

struct ds_tokenizer {
    int n_merges;
    int32_t *merges; // (n_merges, 2): merge r joins (a, b) into id DS_TOK_FIRST_MERGE + r
    uint32_t
        *piece_off; // (vocab + 1): piece of id i is piece_bytes[piece_off[i] .. piece_off[i+1])
    char *piece_bytes;
    uint64_t *map_keys; // (map_mask + 1): pair key, 0 = empty slot (pair (0,0) is never a merge)
    int32_t *map_rank;  // (map_mask + 1): merge rank of that pair
    uint32_t map_mask;
};

// End (exclusive) of the pre-token that starts at pos < len: an optional
// leading space, then a run of letters (ASCII and bytes >= 0x80), one digit,
// or a run of other symbols; or a run of whitespace (a last space before a
// non-whitespace byte is left to the next pre-token). At most DS_TOK_MAX_PRETOKEN bytes.
size_t ds_tok_pretoken_end(const uint8_t *s, size_t len, size_t pos);

static inline int ds_tok_is_digit(int32_t id) {
    return id >= DS_TOK_BYTE0 + '0' && id <= DS_TOK_BYTE0 + '9';
}

static inline uint64_t ds_tok_pair_key(int32_t a, int32_t b) {
    return (uint64_t)(uint32_t)a << 32 | (uint32_t)b;
}

// splitmix64's finaliser: pair keys differ in few bits, the table needs them spread.
static inline uint64_t ds_tok_hash64(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

// Builds a tokenizer from n_merges pairs (merges[2r], merges[2r+1]), checking
// each (ids in range and defined before use, no special token, no digit, no
// repeat, piece no longer than a pre-token). Returns 0 and *out, DS_E_FORMAT
// naming the bad entry, or DS_E_NOMEM.
int ds_tok_build(const int32_t *merges, int n_merges, ds_tokenizer **out);

#endif
