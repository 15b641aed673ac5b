// tokenizer.c: the pre-tokenizer, encoding (merges applied by rank inside each
// pre-token, classic BPE: Sennrich et al. 2016, GPT-2's byte-level variant),
// decoding, and the JSON form with its checks. Training is in bpe-train.c.
// No cache: the tokenizer stays immutable and lock-free between threads, and
// pre-tokens are short enough that merging from scratch is fast.
#include "text/tokenizer-impl.h"
#include "core/error.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// ---- pre-tokenizer

enum { CL_LETTER, CL_DIGIT, CL_SYMBOL, CL_SPACE, CL_WS };

static int byte_class(uint8_t c) {
    if (c == ' ') return CL_SPACE;
    if (c >= '\t' && c <= '\r') return CL_WS;
    if (c >= '0' && c <= '9') return CL_DIGIT;
    // Bytes >= 0x80 count as letters so a UTF-8 word stays one pre-token.
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return CL_LETTER;
    return c >= 0x80 ? CL_LETTER : CL_SYMBOL;
}

size_t ds_tok_pretoken_end(const uint8_t *s, size_t len, size_t pos) {
    size_t lim = len - pos > DS_TOK_MAX_PRETOKEN ? pos + DS_TOK_MAX_PRETOKEN : len;
    size_t i = pos;
    int c = byte_class(s[i]);
    if (c == CL_SPACE && i + 1 < len && byte_class(s[i + 1]) <= CL_SYMBOL) c = byte_class(s[++i]);
    if (c == CL_DIGIT) return i + 1; // one digit, one pre-token: digits never merge
    if (c >= CL_SPACE) {
        for (i++; i < lim && byte_class(s[i]) >= CL_SPACE;) i++;
        // GPT-2's \s+(?!\S): the run's last space goes with the word that follows.
        if (i - pos >= 2 && i < len && s[i - 1] == ' ' && byte_class(s[i]) <= CL_SYMBOL) i--;
        return i;
    }
    for (i++; i < lim && byte_class(s[i]) == c;) i++;
    return i;
}

// ---- building (from a checked merge list)

static int32_t merge_rank(const ds_tokenizer *t, int32_t a, int32_t b) {
    uint64_t key = ds_tok_pair_key(a, b);
    for (uint32_t h = (uint32_t)ds_tok_hash64(key) & t->map_mask;; h = (h + 1) & t->map_mask) {
        if (t->map_keys[h] == key) return t->map_rank[h];
        if (t->map_keys[h] == 0) return INT32_MAX;
    }
}

static const char *const special_text[] = {
#define DS_TOK_TEXT(name, text) "<" text ">",
    DS_TOK_SPECIALS(DS_TOK_TEXT)
#undef DS_TOK_TEXT
};

int ds_tok_build(const int32_t *merges, int n_merges, ds_tokenizer **out) {
    *out = NULL;
    if (n_merges < 0 || n_merges > DS_TOK_MAX_VOCAB - DS_TOK_FIRST_MERGE)
        return ds_error(DS_E_FORMAT, "tokenizer: %d merges, the limit is %d", n_merges,
                        DS_TOK_MAX_VOCAB - DS_TOK_FIRST_MERGE);
    int vocab = DS_TOK_FIRST_MERGE + n_merges;
    uint32_t cap = 16;
    while (cap < 2u * (uint32_t)n_merges) cap *= 2;
    ds_tokenizer *t = calloc(1, sizeof *t);
    size_t special_bytes = 0;
    for (int i = 0; i < DS_TOK_N_SPECIAL; i++) special_bytes += strlen(special_text[i]);
    if (t) {
        t->n_merges = n_merges;
        t->merges = malloc((size_t)(n_merges ? n_merges : 1) * 2 * sizeof(int32_t));
        t->piece_off = malloc((size_t)(vocab + 1) * sizeof(uint32_t));
        // Pieces of merges are at most DS_TOK_MAX_PRETOKEN bytes (checked below).
        t->piece_bytes = malloc(special_bytes + 256 + (size_t)n_merges * DS_TOK_MAX_PRETOKEN);
        t->map_keys = calloc(cap, sizeof(uint64_t));
        t->map_rank = malloc(cap * sizeof(int32_t));
        t->map_mask = cap - 1;
    }
    if (!t || !t->merges || !t->piece_off || !t->piece_bytes || !t->map_keys || !t->map_rank) {
        ds_tokenizer_free(t);
        return ds_error(DS_E_NOMEM, "tokenizer: out of memory for %d merges", n_merges);
    }
    uint32_t off = 0;
    for (int i = 0; i < DS_TOK_N_SPECIAL; i++) {
        t->piece_off[i] = off;
        size_t n = strlen(special_text[i]);
        memcpy(t->piece_bytes + off, special_text[i], n);
        off += (uint32_t)n;
    }
    for (int b = 0; b < 256; b++) {
        t->piece_off[DS_TOK_BYTE0 + b] = off;
        t->piece_bytes[off++] = (char)b;
    }
    t->piece_off[DS_TOK_FIRST_MERGE] = off;
    for (int r = 0; r < n_merges; r++) {
        int32_t id = DS_TOK_FIRST_MERGE + r, ab[2] = {merges[2 * r], merges[2 * r + 1]};
        for (int k = 0; k < 2; k++) {
            const char *fail = ab[k] < 0 || ab[k] >= vocab ? "is out of range"
                               : ab[k] < DS_TOK_BYTE0      ? "is a special token"
                               : ab[k] >= id               ? "is used before it is defined"
                               : ds_tok_is_digit(ab[k])    ? "is a digit (digits never merge)"
                                                           : NULL;
            if (fail) {
                ds_tokenizer_free(t);
                return ds_error(DS_E_FORMAT,
                                "tokenizer: merges[%d] = [%d, %d]: id %d %s (merge %d defines id "
                                "%d; vocab_size %d)",
                                r, ab[0], ab[1], ab[k], fail, r, id, vocab);
            }
        }
        uint32_t la = t->piece_off[ab[0] + 1] - t->piece_off[ab[0]];
        uint32_t lb = t->piece_off[ab[1] + 1] - t->piece_off[ab[1]];
        if (la + lb > DS_TOK_MAX_PRETOKEN) {
            ds_tokenizer_free(t);
            return ds_error(DS_E_FORMAT,
                            "tokenizer: merges[%d] = [%d, %d] makes a piece of %u bytes, longer "
                            "than a pre-token (%d)",
                            r, ab[0], ab[1], la + lb, DS_TOK_MAX_PRETOKEN);
        }
        uint64_t key = ds_tok_pair_key(ab[0], ab[1]);
        uint32_t h = (uint32_t)ds_tok_hash64(key) & t->map_mask;
        for (; t->map_keys[h]; h = (h + 1) & t->map_mask)
            if (t->map_keys[h] == key) {
                int first = t->map_rank[h];
                ds_tokenizer_free(t);
                return ds_error(DS_E_FORMAT, "tokenizer: merges[%d] = [%d, %d] repeats merges[%d]",
                                r, ab[0], ab[1], first);
            }
        t->map_keys[h] = key;
        t->map_rank[h] = r;
        t->merges[2 * r] = ab[0];
        t->merges[2 * r + 1] = ab[1];
        memcpy(t->piece_bytes + off, t->piece_bytes + t->piece_off[ab[0]], la);
        memcpy(t->piece_bytes + off + la, t->piece_bytes + t->piece_off[ab[1]], lb);
        off += la + lb;
        t->piece_off[id + 1] = off;
    }
    *out = t;
    return 0;
}

void ds_tokenizer_free(ds_tokenizer *tok) {
    if (!tok) return;
    free(tok->merges);
    free(tok->piece_off);
    free(tok->piece_bytes);
    free(tok->map_keys);
    free(tok->map_rank);
    free(tok);
}

int ds_tokenizer_vocab_size(const ds_tokenizer *tok) {
    return DS_TOK_FIRST_MERGE + tok->n_merges;
}

const char *ds_tokenizer_piece(const ds_tokenizer *tok, int32_t id, int *len) {
    if (id < 0 || id >= ds_tokenizer_vocab_size(tok)) {
        if (len) *len = 0;
        return NULL;
    }
    if (len) *len = (int)(tok->piece_off[id + 1] - tok->piece_off[id]);
    return tok->piece_bytes + tok->piece_off[id];
}

// ---- encoding

// Classic BPE inside one pre-token (n <= DS_TOK_MAX_PRETOKEN bytes): merge the
// adjacent pair of lowest rank (leftmost on ties) until none has a rank.
// rank[i] caches the rank of (sym[i], sym[i+1]); a merge changes only its neighbours'.
static int encode_pretoken(const ds_tokenizer *t, const uint8_t *s, int n, int32_t *sym) {
    int32_t rank[DS_TOK_MAX_PRETOKEN];
    for (int i = 0; i < n; i++) sym[i] = DS_TOK_BYTE0 + s[i];
    for (int i = 0; i + 1 < n; i++) rank[i] = merge_rank(t, sym[i], sym[i + 1]);
    while (n > 1) {
        int best = -1;
        int32_t br = INT32_MAX;
        for (int i = 0; i + 1 < n; i++)
            if (rank[i] < br) br = rank[i], best = i;
        if (best < 0) break;
        sym[best] = DS_TOK_FIRST_MERGE + br;
        memmove(sym + best + 1, sym + best + 2, (size_t)(n - best - 2) * sizeof *sym);
        if (n - best - 3 > 0)
            memmove(rank + best + 1, rank + best + 2, (size_t)(n - best - 3) * sizeof *rank);
        n--;
        if (best + 1 < n) rank[best] = merge_rank(t, sym[best], sym[best + 1]);
        if (best > 0) rank[best - 1] = merge_rank(t, sym[best - 1], sym[best]);
    }
    return n;
}

// Appends the tokens of len bytes to ids (and word to word_of) from *n_out on.
static int encode_append(const ds_tokenizer *t, const uint8_t *s, size_t len, int32_t *ids,
                         int32_t *word_of, int32_t word, int cap, int *n_out) {
    int32_t sym[DS_TOK_MAX_PRETOKEN];
    for (size_t pos = 0; pos < len;) {
        size_t end = ds_tok_pretoken_end(s, len, pos);
        int k = encode_pretoken(t, s + pos, (int)(end - pos), sym);
        if (k > cap - *n_out)
            return ds_error(DS_E_TOO_LARGE, "tokenizer: more than %d tokens (at byte %zu of %zu)",
                            cap, pos, len);
        memcpy(ids + *n_out, sym, (size_t)k * sizeof *sym);
        if (word_of)
            for (int i = 0; i < k; i++) word_of[*n_out + i] = word;
        *n_out += k;
        pos = end;
    }
    return 0;
}

int ds_tokenizer_encode(const ds_tokenizer *tok, const char *text, size_t len, int32_t *ids,
                        int cap) {
    int n = 0;
    if (cap < 0) cap = 0;
    int rc = encode_append(tok, (const uint8_t *)text, len, ids, NULL, 0, cap, &n);
    return rc ? rc : n;
}

static int encode_words(const ds_tokenizer *tok, const char *const *words, int n_words,
                        int32_t *ids, int32_t *word_of, int cap, int space_first) {
    // Each word on its own, after its space: the same tokens as the joined text
    // whenever words are non-empty and hold no whitespace (a space ends every
    // pre-token), and word_of is exact even when they are not.
    uint8_t small[256];
    int n = 0;
    if (cap < 0) cap = 0;
    for (int w = 0; w < n_words; w++) {
        int space = w > 0 || space_first;
        size_t wl = strlen(words[w]), bl = wl + space;
        uint8_t *buf = bl <= sizeof small ? small : malloc(bl);
        if (!buf) return ds_error(DS_E_NOMEM, "tokenizer: out of memory for a %zu-byte word", wl);
        buf[0] = ' ';
        memcpy(buf + space, words[w], wl);
        int rc = encode_append(tok, buf, bl, ids, word_of, w, cap, &n);
        if (buf != small) free(buf);
        if (rc) return rc;
    }
    return n;
}

int ds_tokenizer_encode_words(const ds_tokenizer *tok, const char *const *words, int n_words,
                              int32_t *ids, int32_t *word_of, int cap) {
    return encode_words(tok, words, n_words, ids, word_of, cap, 0);
}

int ds_tokenizer_encode_words_spaced(const ds_tokenizer *tok, const char *const *words, int n_words,
                                     int32_t *ids, int32_t *word_of, int cap) {
    return encode_words(tok, words, n_words, ids, word_of, cap, 1);
}

int ds_tokenizer_decode(const ds_tokenizer *tok, const int32_t *ids, int n, char *out, size_t cap) {
    size_t o = 0;
    for (int i = 0; i < n; i++) {
        int len;
        const char *p = ds_tokenizer_piece(tok, ids[i], &len);
        if (!p)
            return ds_error(DS_E_INVAL, "tokenizer: ids[%d] = %d is out of range (vocab_size %d)",
                            i, ids[i], ds_tokenizer_vocab_size(tok));
        if ((size_t)len >= cap - o || cap == 0)
            return ds_error(DS_E_TOO_LARGE, "tokenizer: decoding needs more than %zu bytes", cap);
        memcpy(out + o, p, (size_t)len);
        o += (size_t)len;
    }
    if (cap == 0)
        return ds_error(DS_E_TOO_LARGE, "tokenizer: decoding needs 1 byte, the capacity is 0");
    if (o > INT_MAX) return ds_error(DS_E_TOO_LARGE, "tokenizer: decoded text over 2 GiB");
    out[o] = '\0';
    return (int)o;
}

// ---- JSON

json_t *ds_tokenizer_to_json(const ds_tokenizer *tok) {
    json_t *merges = json_array();
    for (int r = 0; merges && r < tok->n_merges; r++)
        if (json_array_append_new(
                merges, json_pack("[i,i]", tok->merges[2 * r], tok->merges[2 * r + 1])) != 0) {
            json_decref(merges);
            return NULL;
        }
    if (!merges) return NULL;
    return json_pack("{s:s, s:i, s:i, s:o}", "type", "bpe-bytes", "version", 1, "vocab_size",
                     ds_tokenizer_vocab_size(tok), "merges", merges);
}

static int get_key(const json_t *j, const char *key, json_type type, const char *what,
                   json_t **out) {
    *out = json_object_get(j, key);
    if (!*out) return ds_error(DS_E_FORMAT, "tokenizer JSON: missing key \"%s\"", key);
    if (json_typeof(*out) != type)
        return ds_error(DS_E_FORMAT, "tokenizer JSON: \"%s\" must be %s", key, what);
    return 0;
}

int ds_tokenizer_from_json(const json_t *j, ds_tokenizer **out) {
    *out = NULL;
    if (!json_is_object(j)) return ds_error(DS_E_FORMAT, "tokenizer JSON: not an object");
    json_t *type, *version, *vocab, *merges;
    int rc;
    if ((rc = get_key(j, "type", JSON_STRING, "a string", &type)) ||
        (rc = get_key(j, "version", JSON_INTEGER, "an integer", &version)) ||
        (rc = get_key(j, "vocab_size", JSON_INTEGER, "an integer", &vocab)) ||
        (rc = get_key(j, "merges", JSON_ARRAY, "an array", &merges)))
        return rc;
    if (strcmp(json_string_value(type), "bpe-bytes") != 0)
        return ds_error(DS_E_FORMAT, "tokenizer JSON: type \"%s\", expected \"bpe-bytes\"",
                        json_string_value(type));
    if (json_integer_value(version) != 1)
        return ds_error(DS_E_FORMAT, "tokenizer JSON: version %lld, this build reads version 1",
                        (long long)json_integer_value(version));
    size_t n = json_array_size(merges);
    long long want = json_integer_value(vocab);
    if (n > DS_TOK_MAX_VOCAB - DS_TOK_FIRST_MERGE || want != DS_TOK_FIRST_MERGE + (long long)n)
        return ds_error(DS_E_FORMAT,
                        "tokenizer JSON: vocab_size %lld does not match %d + %zu merges (at most "
                        "%d)",
                        want, DS_TOK_FIRST_MERGE, n, DS_TOK_MAX_VOCAB);
    int32_t *m = malloc((n ? n : 1) * 2 * sizeof(int32_t));
    if (!m) return ds_error(DS_E_NOMEM, "tokenizer JSON: out of memory for %zu merges", n);
    for (size_t r = 0; r < n; r++) {
        const json_t *e = json_array_get(merges, r);
        const json_t *a = json_array_get(e, 0), *b = json_array_get(e, 1);
        if (!json_is_array(e) || json_array_size(e) != 2 || !json_is_integer(a) ||
            !json_is_integer(b)) {
            free(m);
            return ds_error(DS_E_FORMAT, "tokenizer JSON: merges[%zu] must be an array of two ids",
                            r);
        }
        for (int k = 0; k < 2; k++) {
            json_int_t v = json_integer_value(k ? b : a);
            // Out-of-int32 ids map to -1 so ds_tok_build names them out of range.
            m[2 * r + k] = v < 0 || v > INT32_MAX ? -1 : (int32_t)v;
        }
    }
    rc = ds_tok_build(m, (int)n, out);
    free(m);
    return rc;
}

int ds_tokenizer_save(const ds_tokenizer *tok, const char *path) {
    json_t *j = ds_tokenizer_to_json(tok);
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!s) return ds_error(DS_E_NOMEM, "%s: out of memory serialising the tokenizer", path);
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
        free(s);
        return ds_error(DS_E_INVAL, "path too long: %s", path);
    }
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        free(s);
        return ds_error(DS_E_IO, "%s: %s", tmp, strerror(errno));
    }
    size_t n = strlen(s);
    int ok = fwrite(s, 1, n, f) == n && fputc('\n', f) != EOF;
    free(s);
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return ds_error(DS_E_IO, "%s: write failed: %s", path, strerror(e));
    }
    return 0;
}

int ds_tokenizer_load(const char *path, ds_tokenizer **out) {
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return ds_error(errno == ENOENT ? DS_E_NOENT : DS_E_IO, "%s: %s", path, strerror(errno));
    json_error_t e;
    json_t *j = json_loadf(f, 0, &e);
    fclose(f);
    if (!j) return ds_error(DS_E_FORMAT, "%s:%d:%d: not JSON: %s", path, e.line, e.column, e.text);
    int rc = ds_tokenizer_from_json(j, out);
    json_decref(j);
    if (rc) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", ds_errmsg());
        ds_error(rc, "%s: %s", path, msg);
    }
    return rc;
}

// ---- fuzz entry

static ds_tokenizer *fuzz_tok;

static void fuzz_tok_init(void) {
    static const char *const text[] = {
        "Invoice number 2061-1324 dated 18.07.2016; total CHF 5.090,71 (VAT 7.7%).\n"
        "Schrägstem AG, Bahnhofstraße 12, 8001 Zürich\tPage 1 of 2\r\n",
        "The parties agree that the Confidential Information shall remain the property of the "
        "disclosing party. ____________ Signature ... Date ....",
    };
    if (ds_tokenizer_train(text, 2, DS_TOK_FIRST_MERGE + 80, &fuzz_tok) != 0) fuzz_tok = NULL;
}

// Encodes and decodes size bytes; any difference is a broken invariant.
static void fuzz_round_trip(const ds_tokenizer *t, const uint8_t *data, size_t size) {
    int32_t *ids = malloc((size ? size : 1) * sizeof *ids);
    char *back = malloc(size * DS_TOK_MAX_PRETOKEN + 1);
    if (ids && back) {
        int n = ds_tokenizer_encode(t, (const char *)data, size, ids, (int)size);
        DS_ASSERT(n >= 0 && (size_t)n <= size);
        int m = ds_tokenizer_decode(t, ids, n, back, size * DS_TOK_MAX_PRETOKEN + 1);
        DS_ASSERT(m == (int)size && memcmp(back, data, size) == 0);
        // The same bytes read as ids: out-of-range ones must be refused, not read.
        int n_raw = (int)(size / sizeof(int32_t));
        memcpy(ids, data, (size_t)n_raw * sizeof(int32_t));
        m = ds_tokenizer_decode(t, ids, n_raw, back, size * DS_TOK_MAX_PRETOKEN + 1);
        DS_ASSERT(m >= 0 || m == DS_E_INVAL);
    }
    free(ids);
    free(back);
}

int ds_fuzz_tokenizer(const uint8_t *data, size_t size) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, fuzz_tok_init);
    if (size > (1u << 16)) size = 1u << 16;
    int rc = DS_E_FORMAT;
    json_error_t e;
    json_t *j = json_loadb((const char *)data, size, 0, &e);
    if (j) {
        ds_tokenizer *t;
        rc = ds_tokenizer_from_json(j, &t);
        json_decref(j);
        if (rc == 0) {
            fuzz_round_trip(t, data, size);
            ds_tokenizer_free(t);
        }
    }
    if (fuzz_tok) fuzz_round_trip(fuzz_tok, data, size);
    return rc;
}
