// cmd-tokenizer.c: `docseek tokenizer train` learns the byte-level BPE
// tokenizer (text/tokenizer.h) on the text of a corpus (documents through
// ingest, .txt files, the string values of ground-truth .json) and writes it
// as JSON; `docseek tokenizer encode` shows how a text splits into tokens.
// The corpus is read serially (one OCR engine) and held in memory whole; this
// command trains nothing but the tokenizer.
#include "cli/args.h"
#include "cli/cli.h"
#include "core/error.h"
#include "core/timer.h"
#include "ingest/ingest.h"
#include "text/tokenizer.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *tok_usage =
    "usage: docseek tokenizer train --corpus PATH [--corpus PATH ...] --vocab N --out FILE "
    "[--stats]\n"
    "       docseek tokenizer encode --tok FILE TEXT\n"
    "train: learns a byte-level BPE tokenizer (digits never merge) on the text of a corpus\n"
    "and writes it as JSON.\n"
    "  --corpus PATH  a file, or a folder searched recursively: documents (.pdf .png .jpg\n"
    "                 .jpeg .tif .tiff .webp; their words, OCR where there is no text layer),\n"
    "                 .txt files as they are, .json ground truth (its string values)\n"
    "  --vocab N      vocabulary size: 16 specials + 256 bytes + merges (at least 272)\n"
    "  --out FILE     the tokenizer JSON to write\n"
    "  --stats        also print the 20 longest tokens\n"
    "encode: prints the id and the piece of every token of TEXT.\n";

// ---- a growing text buffer

typedef struct {
    char *p;
    size_t n, cap;
} tbuf;

static int tbuf_put(tbuf *b, const char *s, size_t n) {
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n + 1) cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q) return ds_error(DS_E_NOMEM, "out of memory for %zu bytes of text", cap);
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
    return 0;
}

// ---- reading the corpus

typedef struct {
    char **texts;
    size_t n, cap;
    int n_docs, n_txt, n_json, n_skipped;
    const ds_ingest_opts *opts;
} corpus;

static int corpus_take(corpus *c, tbuf *b) {
    if (!b->p && tbuf_put(b, "", 0)) return DS_E_NOMEM;
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 64;
        char **q = realloc(c->texts, cap * sizeof *q);
        if (!q) {
            free(b->p);
            return ds_error(DS_E_NOMEM, "out of memory for %zu texts", cap);
        }
        c->texts = q;
        c->cap = cap;
    }
    c->texts[c->n++] = b->p;
    return 0;
}

// Words joined by spaces, lines (ds_word.line) and pages by new lines.
static int doc_text(const ds_doc *doc, tbuf *b) {
    int rc = 0;
    for (int p = 0; p < doc->n_pages && !rc; p++) {
        const ds_page *pg = &doc->pages[p];
        if (p > 0) rc = tbuf_put(b, "\n", 1);
        for (int i = 0; i < pg->n_words && !rc; i++) {
            if (i > 0) rc = tbuf_put(b, pg->words[i].line != pg->words[i - 1].line ? "\n" : " ", 1);
            if (!rc) rc = tbuf_put(b, pg->words[i].text, strlen(pg->words[i].text));
        }
    }
    return rc;
}

// Every string value (not the keys), one per line.
static int json_strings(const json_t *j, tbuf *b) {
    int rc = 0;
    if (json_is_string(j)) {
        if (b->n) rc = tbuf_put(b, "\n", 1);
        if (!rc) rc = tbuf_put(b, json_string_value(j), strlen(json_string_value(j)));
    } else if (json_is_object(j)) {
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)j, key, v) if ((rc = json_strings(v, b))) break;
    } else if (json_is_array(j)) {
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v) if ((rc = json_strings(v, b))) break;
    }
    return rc;
}

static int read_txt(const char *path, tbuf *b) {
    FILE *f = fopen(path, "rb");
    if (!f) return ds_error(DS_E_IO, "%s: %s", path, strerror(errno));
    char chunk[65536];
    size_t n;
    int rc = 0;
    while (!rc && (n = fread(chunk, 1, sizeof chunk, f)) > 0) rc = tbuf_put(b, chunk, n);
    if (!rc && ferror(f)) rc = ds_error(DS_E_IO, "%s: read error", path);
    fclose(f);
    return rc;
}

enum { KIND_NONE, KIND_DOC, KIND_TXT, KIND_JSON };

static int file_kind(const char *path) {
    static const char *const docs[] = {"pdf", "png", "jpg", "jpeg", "tif", "tiff", "webp"};
    const char *dot = strrchr(path, '.');
    if (!dot || strchr(dot, '/')) return KIND_NONE;
    for (size_t i = 0; i < sizeof docs / sizeof *docs; i++)
        if (strcasecmp(dot + 1, docs[i]) == 0) return KIND_DOC;
    if (strcasecmp(dot + 1, "txt") == 0) return KIND_TXT;
    if (strcasecmp(dot + 1, "json") == 0) return KIND_JSON;
    return KIND_NONE;
}

static int read_file(corpus *c, const char *path, int kind) {
    tbuf b = {0};
    int rc = 0;
    if (kind == KIND_DOC) {
        ds_doc *doc;
        if ((rc = ds_ingest_file(path, c->opts, &doc)) == 0) {
            rc = doc_text(doc, &b);
            ds_doc_free(doc);
        }
    } else if (kind == KIND_TXT) {
        rc = read_txt(path, &b);
    } else {
        json_error_t e;
        json_t *j = json_load_file(path, 0, &e);
        if (!j) rc = ds_error(DS_E_FORMAT, "%s:%d:%d: %s", path, e.line, e.column, e.text);
        if (j) rc = json_strings(j, &b);
        json_decref(j);
    }
    if (rc) {
        free(b.p);
        return rc;
    }
    if ((rc = corpus_take(c, &b)) == 0) {
        c->n_docs += kind == KIND_DOC;
        c->n_txt += kind == KIND_TXT;
        c->n_json += kind == KIND_JSON;
    }
    return rc;
}

// A named path must be readable; inside a folder, unreadable files are skipped with a
// warning and files of other kinds silently.
static int add_path(corpus *c, const char *path, int named) {
    struct stat st;
    if (stat(path, &st) != 0)
        return ds_error(errno == ENOENT ? DS_E_NOENT : DS_E_IO, "corpus %s: %s", path,
                        strerror(errno));
    if (S_ISDIR(st.st_mode)) {
        struct dirent **list;
        int n = scandir(path, &list, NULL, alphasort); // sorted: the same order every run
        if (n < 0) return ds_error(DS_E_IO, "corpus folder %s: %s", path, strerror(errno));
        int rc = 0;
        for (int i = 0; i < n; i++) {
            char child[4096];
            if (!rc && list[i]->d_name[0] != '.' &&
                snprintf(child, sizeof child, "%s/%s", path, list[i]->d_name) < (int)sizeof child) {
                rc = add_path(c, child, 0);
                if (rc && rc != DS_E_NOMEM) {
                    fprintf(stderr, "docseek tokenizer: skipping %s: %s: %s\n", child,
                            ds_err_name(rc), ds_errmsg());
                    c->n_skipped++;
                    rc = 0;
                }
            }
            free(list[i]);
        }
        free(list);
        return rc;
    }
    int kind = file_kind(path);
    if (kind == KIND_NONE)
        return named ? ds_error(DS_E_UNSUPPORTED,
                                "corpus %s: not a folder, document (.pdf .png .jpg .jpeg .tif "
                                ".tiff .webp), .txt or .json file",
                                path)
                     : 0;
    return read_file(c, path, kind);
}

static size_t count_words(const char *s) {
    size_t n = 0;
    for (int in = 0; *s; s++) {
        int sp = *s == ' ' || (*s >= '\t' && *s <= '\r');
        n += !sp && !in;
        in = !sp;
    }
    return n;
}

// ---- printing pieces

static int valid_utf8(const unsigned char *s, int n) {
    for (int i = 0; i < n;) {
        int k = s[i] < 0x80             ? 0
                : (s[i] & 0xe0) == 0xc0 ? 1
                : (s[i] & 0xf0) == 0xe0 ? 2
                : (s[i] & 0xf8) == 0xf0 ? 3
                                        : -1;
        if (k < 0 || i + k >= n) return 0;
        for (int j = 1; j <= k; j++)
            if ((s[i + j] & 0xc0) != 0x80) return 0;
        i += k + 1;
    }
    return 1;
}

// The piece in double quotes: control bytes escaped; bytes >= 0x80 raw when the piece is
// valid UTF-8, else as \xNN (a piece may end inside a character).
static void print_piece(FILE *f, const char *p, int n) {
    int raw = valid_utf8((const unsigned char *)p, n);
    fputc('"', f);
    for (int i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch == '\n')
            fputs("\\n", f);
        else if (ch == '\t')
            fputs("\\t", f);
        else if (ch < 0x20 || ch == 0x7f || (ch >= 0x80 && !raw))
            fprintf(f, "\\x%02x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

// ---- train

typedef struct {
    int len;
    int32_t id;
} piece_len;

static int by_length(const void *x, const void *y) {
    const piece_len *a = x, *b = y;
    return a->len != b->len ? b->len - a->len : (a->id > b->id) - (a->id < b->id);
}

static void print_longest(const ds_tokenizer *tok, int k) {
    int v = ds_tokenizer_vocab_size(tok), n = v - (DS_TOK_BYTE0 + 256);
    piece_len *pl = malloc((size_t)(n > 0 ? n : 1) * sizeof *pl);
    if (!pl) return;
    for (int i = 0; i < n; i++) {
        pl[i].id = DS_TOK_BYTE0 + 256 + i;
        ds_tokenizer_piece(tok, pl[i].id, &pl[i].len);
    }
    qsort(pl, (size_t)n, sizeof *pl, by_length);
    printf("the %d longest tokens:\n", n < k ? n : k);
    for (int i = 0; i < n && i < k; i++) {
        int len;
        const char *p = ds_tokenizer_piece(tok, pl[i].id, &len);
        printf("  %6d  %2d bytes  ", pl[i].id, len);
        print_piece(stdout, p, len);
        putchar('\n');
    }
    free(pl);
}

static int train(int argc, char **argv) {
    const char **paths = calloc((size_t)argc, sizeof *paths);
    const char *out = NULL;
    int n_paths = 0, vocab = 0, stats = 0;
    if (!paths) return ds_cli_fail("tokenizer", DS_E_NOMEM);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int v = i + 1 < argc;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(tok_usage, stdout);
            free(paths);
            return 0;
        } else if (strcmp(a, "--corpus") == 0 && v) {
            paths[n_paths++] = argv[++i];
        } else if (strcmp(a, "--out") == 0 && v) {
            out = argv[++i];
        } else if (strcmp(a, "--vocab") == 0 && v) {
            if (ds_cli_int(a, argv[++i], DS_TOK_BYTE0 + 256, 1 << 20, &vocab)) {
                fprintf(stderr, "docseek tokenizer train: %s\n", ds_errmsg());
                free(paths);
                return 2;
            }
        } else if (strcmp(a, "--stats") == 0) {
            stats = 1;
        } else {
            fprintf(stderr, "docseek tokenizer train: unknown option or missing value '%s'\n%s", a,
                    tok_usage);
            free(paths);
            return 2;
        }
    }
    const char *missing = !n_paths ? "--corpus PATH"
                          : !vocab ? "--vocab N"
                          : !out   ? "--out FILE"
                                   : NULL;
    if (missing) {
        fprintf(stderr, "docseek tokenizer train: missing %s\n%s", missing, tok_usage);
        free(paths);
        return 2;
    }
    // Refuse an unwritable --out now, not after minutes of reading the corpus.
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", out);
    char *slash = strrchr(dir, '/');
    if (slash) slash[slash == dir] = '\0';
    if (access(slash ? dir : ".", W_OK) != 0) {
        fprintf(stderr, "docseek tokenizer: IO: cannot write %s: %s: %s\n", out, slash ? dir : ".",
                strerror(errno));
        free(paths);
        return 1;
    }
    if (!getenv("OMP_THREAD_LIMIT"))
        fprintf(stderr, "docseek tokenizer: warning: OMP_THREAD_LIMIT is not set: OCR of images "
                        "and scans runs several times slower (set OMP_THREAD_LIMIT=1)\n");
    ds_ingest_opts o;
    ds_ingest_opts_default(&o);
    o.no_pixels = 1;
    corpus c = {.opts = &o};
    double t0 = ds_time_s();
    int rc = 0;
    for (int i = 0; i < n_paths && !rc; i++) rc = add_path(&c, paths[i], 1);
    ds_ingest_thread_cleanup();
    free(paths);
    size_t bytes = 0, words = 0, max_len = 0;
    for (size_t i = 0; i < c.n; i++) {
        size_t n = strlen(c.texts[i]);
        bytes += n;
        max_len = n > max_len ? n : max_len;
        words += count_words(c.texts[i]);
    }
    if (!rc && !words) rc = ds_error(DS_E_INVAL, "the corpus holds no words (%zu files read)", c.n);
    double t1 = ds_time_s();
    ds_tokenizer *tok = NULL;
    if (!rc) {
        printf("corpus: %d documents, %d .txt, %d .json (%d skipped) read in %.1f s: %zu bytes, "
               "%zu words\n",
               c.n_docs, c.n_txt, c.n_json, c.n_skipped, t1 - t0, bytes, words);
        rc = ds_tokenizer_train((const char *const *)c.texts, c.n, vocab, &tok);
    }
    double t2 = ds_time_s();
    int32_t *ids = rc ? NULL : malloc((max_len ? max_len : 1) * sizeof *ids);
    if (!rc && !ids) rc = ds_error(DS_E_NOMEM, "out of memory for %zu token ids", max_len);
    size_t tokens = 0;
    for (size_t i = 0; !rc && i < c.n; i++) {
        // Tokens never outnumber bytes, so max_len ids always suffice.
        int n = ds_tokenizer_encode(tok, c.texts[i], strlen(c.texts[i]), ids, (int)max_len);
        if (n < 0) rc = n;
        tokens += n < 0 ? 0 : (size_t)n;
    }
    free(ids);
    for (size_t i = 0; i < c.n; i++) free(c.texts[i]);
    free(c.texts);
    if (!rc) {
        int v = ds_tokenizer_vocab_size(tok);
        printf("trained: vocab %d (%d merges%s) on %zu bytes in %.2f s (%.1f MB/s)\n", v,
               v - (DS_TOK_BYTE0 + 256), v < vocab ? ", stopped early: no pair occurs twice" : "",
               bytes, t2 - t1, bytes / 1e6 / (t2 - t1 > 1e-9 ? t2 - t1 : 1e-9));
        printf("tokens per word %.3f (%zu tokens / %zu words)\n", (double)tokens / (double)words,
               tokens, words);
        if (stats) print_longest(tok, 20);
        rc = ds_tokenizer_save(tok, out);
        if (!rc) printf("wrote %s\n", out);
    }
    ds_tokenizer_free(tok);
    return rc ? ds_cli_fail("tokenizer", rc) : 0;
}

// ---- encode

static int encode(int argc, char **argv) {
    const char *path = NULL, *text = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--tok") == 0 && i + 1 < argc) {
            path = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1] && !text) {
            fprintf(stderr, "docseek tokenizer encode: unknown option '%s'\n%s", argv[i],
                    tok_usage);
            return 2;
        } else if (!text) {
            text = argv[i];
        } else {
            fprintf(stderr, "docseek tokenizer encode: one TEXT only (quote it), got '%s' too\n",
                    argv[i]);
            return 2;
        }
    }
    if (!path || !text) {
        fprintf(stderr, "docseek tokenizer encode: missing %s\n%s", !path ? "--tok FILE" : "TEXT",
                tok_usage);
        return 2;
    }
    ds_tokenizer *tok;
    int rc = ds_tokenizer_load(path, &tok);
    if (rc) return ds_cli_fail("tokenizer", rc);
    size_t len = strlen(text);
    int32_t *ids = malloc((len ? len : 1) * sizeof *ids);
    int n = ids ? ds_tokenizer_encode(tok, text, len, ids, (int)len) : DS_E_NOMEM;
    if (n >= 0) {
        printf("%d tokens for %zu bytes (%.2f bytes per token)\n", n, len,
               n ? (double)len / n : 0.0);
        for (int i = 0; i < n; i++) {
            int pl;
            const char *p = ds_tokenizer_piece(tok, ids[i], &pl);
            printf("  %6d  ", ids[i]);
            print_piece(stdout, p, pl);
            putchar('\n');
        }
    }
    free(ids);
    ds_tokenizer_free(tok);
    return n < 0 ? ds_cli_fail("tokenizer", n) : 0;
}

int ds_cmd_tokenizer(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "train") == 0) return train(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "encode") == 0) return encode(argc - 1, argv + 1);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(tok_usage, stdout);
        return 0;
    }
    fprintf(stderr, "docseek tokenizer: %s%s%s\n%s",
            argc < 2 ? "missing subcommand (train or encode)" : "unknown subcommand '",
            argc < 2 ? "" : argv[1], argc < 2 ? "" : "'", tok_usage);
    return 2;
}
