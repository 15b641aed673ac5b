// tokenizer.h: docseek's byte-level BPE tokenizer, trained by docseek on its
// own corpus. Text is first split into pre-tokens: a run of letters (ASCII
// and every byte >= 0x80, so UTF-8 words stay whole), one digit, or a run of
// other symbols, each with the space before it attached (GPT-2 style); other
// whitespace (new lines, tabs, further spaces) forms runs of its own; every
// run is cut at 64 bytes. BPE merges never cross a pre-token, digits are never
// merged (one digit, one token: copying numbers stays easy), and every byte
// has its own token, so any byte string (invalid UTF-8 included) round-trips.
// Special tokens have fixed ids 0..DS_TOK_N_SPECIAL-1, the 256 byte tokens
// follow, then the merges in the order they were learned.
// Opaque handle; a tokenizer is immutable after training or loading and may
// be shared between threads.
#ifndef DS_TOKENIZER_H
#define DS_TOKENIZER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

// Special tokens. Their text form (for decode and debugging) is "<name>".
#define DS_TOK_SPECIALS(X)                                                                         \
    X(PAD, "pad")              /* padding, never predicted */                                      \
    X(BOS, "bos")              /* start of every sequence */                                       \
    X(EOS, "eos")              /* end of the answer */                                             \
    X(IMG, "img")              /* one image (prefix) token; its input is a vision feature */       \
    X(PAGE, "page")            /* page break: opens every page of the document */                  \
    X(TASK_EXTRACT, "extract") /* task marker: extract the fields */                               \
    X(ANS, "ans")              /* the answer starts after this token */                            \
    X(COPY, "copy")            /* a value copied from the document: start-word pointer here */     \
    X(COPY_END, "copy_end")    /* end-word pointer here */                                         \
    X(NULLV, "null")           /* the field has no value in this document */                       \
    X(EOV, "eov")              /* end of a generated value (or of a list) */                       \
    X(FIELD, "field")          /* precedes a field name in the answer */                           \
    X(RESERVED0, "reserved0")                                                                      \
    X(RESERVED1, "reserved1")                                                                      \
    X(RESERVED2, "reserved2")                                                                      \
    X(RESERVED3, "reserved3")

enum {
#define DS_TOK_ENUM(name, text) DS_TOK_##name,
    DS_TOK_SPECIALS(DS_TOK_ENUM)
#undef DS_TOK_ENUM
        DS_TOK_N_SPECIAL,
    DS_TOK_BYTE0 = DS_TOK_N_SPECIAL, // token of byte b is DS_TOK_BYTE0 + b
};

typedef struct ds_tokenizer ds_tokenizer;

// Trains merges on texts (n of them; each is one document's text, words
// separated by spaces or new lines) until the vocabulary has vocab_size
// tokens (specials + 256 bytes + merges; at least DS_TOK_BYTE0 + 256) or no
// pair occurs twice. Deterministic: ties broken by the smaller pair of ids.
// Returns 0 and *out (free with ds_tokenizer_free) or a negative DS_E*.
int ds_tokenizer_train(const char *const *texts, size_t n, int vocab_size, ds_tokenizer **out);
void ds_tokenizer_free(ds_tokenizer *tok);
int ds_tokenizer_vocab_size(const ds_tokenizer *tok);

// Encodes len bytes of text into ids (at most cap). Returns the number of
// tokens, or DS_E_TOO_LARGE when cap is too small (nothing partial is
// promised). Special-token text such as "<eos>" is NOT recognised: input text
// is data, never control.
int ds_tokenizer_encode(const ds_tokenizer *tok, const char *text, size_t len, int32_t *ids,
                        int cap);
// Encodes n_words words as the text "w0 w1 w2 ..." (each word after the
// first with a leading space) and writes, for every token, the index of the
// word it came from into word_of (cap entries too). Each word is encoded on
// its own, so its tokens decode to exactly " " + word (none for an empty
// first word); the ids equal those of the joined text whenever the words are
// non-empty and hold no whitespace. Returns the number of tokens or DS_E_TOO_LARGE.
int ds_tokenizer_encode_words(const ds_tokenizer *tok, const char *const *words, int n_words,
                              int32_t *ids, int32_t *word_of, int cap);
// Same, with a space before the first word too: every word gets the tokens it has
// in the middle of a line, so a value copied from anywhere on the page tokenises
// as it does in the answer (" value"). The model's sequences use this one.
int ds_tokenizer_encode_words_spaced(const ds_tokenizer *tok, const char *const *words, int n_words,
                                     int32_t *ids, int32_t *word_of, int cap);
// Decodes ids into out (NUL-terminated, at most cap bytes including the NUL).
// Specials decode as "<name>". Returns the length written (without the NUL),
// DS_E_TOO_LARGE when cap is too small, or DS_E_INVAL for an id out of range.
int ds_tokenizer_decode(const ds_tokenizer *tok, const int32_t *ids, int n, char *out, size_t cap);
// The bytes of one token (not NUL-terminated) and their count; NULL for an id out of range.
const char *ds_tokenizer_piece(const ds_tokenizer *tok, int32_t id, int *len);

// Serialisation as JSON (stored in the model file's __metadata__):
// {"type":"bpe-bytes","version":1,"vocab_size":N,"merges":[[a,b],...]}.
// to_json returns a new reference (NULL on out-of-memory); from_json checks
// every merge (ids in range, each defined before use) and returns 0 or
// DS_E_FORMAT with a message naming the bad entry.
json_t *ds_tokenizer_to_json(const ds_tokenizer *tok);
int ds_tokenizer_from_json(const json_t *j, ds_tokenizer **out);
// Same, from / to a file path (atomic write).
int ds_tokenizer_save(const ds_tokenizer *tok, const char *path);
int ds_tokenizer_load(const char *path, ds_tokenizer **out);

// Fuzz entry: loads data as tokenizer JSON, and encodes/decodes data as text
// with a small built-in tokenizer; must never crash.
int ds_fuzz_tokenizer(const uint8_t *data, size_t size);

#endif
