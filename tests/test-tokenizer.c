// test-tokenizer.c: the BPE tokenizer against its contract: exact round trips
// (random bytes, the text of real documents), the pre-token rules, digits
// never merged, word_of of encode_words, training against a naive trainer
// (recount every pair for every merge) and twice over, the JSON form and each
// kind of malformed one, the size limits, training speed, and the fuzz entry.
#include "tests/test.h"
#include "core/error.h"
#include "core/rng.h"
#include "core/timer.h"
#include "ingest/ingest.h"
#include "text/tokenizer-impl.h"

#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

// ---- helpers

static const char *const small_corpus[] = {
    "Invoice number 2061-1324 dated 18.07.2016\nSeller: Auslebst KG, Bahnhofstrasse 12\n"
    "Total amount due: CHF 5.090,71 including VAT 7.7% of 4.757,68\n",
    "The parties agree that the Confidential Information shall remain the property of the "
    "disclosing party. The receiving party shall not disclose the information to any third "
    "party without the prior written consent of the disclosing party.\n",
    "Schrägstem AG, Zürich; Café Crème — naïve façade. Größe: 12 × 3 mm\n"
    "Receipt #000123\tTable 4\tServer: Anna\nTOTAL    42.50\nTHANK YOU!!\n",
    "the theme of the thesis: then there, these, those, other mother brother\n"
    "invoice invoices invoiced total totals totalled amount amounts\n",
};
#define N_SMALL ((int)(sizeof small_corpus / sizeof *small_corpus))

static ds_tokenizer *train_small(int vocab) {
    ds_tokenizer *tok = NULL;
    int rc = ds_tokenizer_train(small_corpus, N_SMALL, vocab, &tok);
    if (rc) fprintf(stderr, "  train: %s: %s\n", ds_err_name(rc), ds_errmsg());
    return tok;
}

// Encodes and decodes len bytes; 0 when the bytes come back exactly.
static int round_trip(const ds_tokenizer *tok, const char *s, size_t len, int *n_tokens) {
    int32_t *ids = malloc((len ? len : 1) * sizeof *ids);
    char *back = malloc(len + 1);
    int n = ids && back ? ds_tokenizer_encode(tok, s, len, ids, (int)len) : -1;
    int m = n >= 0 ? ds_tokenizer_decode(tok, ids, n, back, len + 1) : -1;
    int bad = n < 0 || m != (int)len || memcmp(back, s, len) != 0;
    if (bad) {
        size_t at = 0;
        while (m >= 0 && at < len && at < (size_t)m && back[at] == s[at]) at++;
        fprintf(stderr,
                "  round trip of %zu bytes: encode %d, decode %d, first difference at %zu\n", len,
                n, m, at);
    }
    if (n_tokens) *n_tokens = n;
    free(ids);
    free(back);
    return bad;
}

// Words joined by spaces, lines and pages by new lines (as `docseek tokenizer train` does).
static char *doc_text(const ds_doc *doc) {
    size_t cap = 1;
    for (int p = 0; p < doc->n_pages; p++)
        for (int i = 0; i < doc->pages[p].n_words; i++)
            cap += strlen(doc->pages[p].words[i].text) + 1;
    char *s = malloc(cap + (size_t)doc->n_pages), *o = s;
    if (!s) return NULL;
    for (int p = 0; p < doc->n_pages; p++) {
        const ds_page *pg = &doc->pages[p];
        if (p > 0) *o++ = '\n';
        for (int i = 0; i < pg->n_words; i++) {
            if (i > 0) *o++ = pg->words[i].line != pg->words[i - 1].line ? '\n' : ' ';
            size_t n = strlen(pg->words[i].text);
            memcpy(o, pg->words[i].text, n);
            o += n;
        }
    }
    *o = '\0';
    return s;
}

// Texts of the PDFs matching pattern (sorted), read until budget_s seconds have passed.
static int read_pdfs(const char *pattern, double budget_s, char ***texts, int *n_files) {
    glob_t g;
    *texts = NULL;
    *n_files = 0;
    if (glob(pattern, 0, NULL, &g) != 0) return 0;
    *n_files = (int)g.gl_pathc;
    *texts = calloc(g.gl_pathc, sizeof **texts);
    ds_ingest_opts o;
    ds_ingest_opts_default(&o);
    o.no_pixels = 1;
    o.ocr = DS_OCR_NEVER; // text layers only: OCR would take seconds a page
    o.dpi = 36;           // the raster is not used; render it small
    double t0 = ds_time_s();
    int n = 0;
    for (size_t i = 0; *texts && i < g.gl_pathc && ds_time_s() - t0 < budget_s; i++) {
        ds_doc *doc;
        int rc = ds_ingest_file(g.gl_pathv[i], &o, &doc);
        if (rc) {
            printf("  skipping %s: %s: %s\n", g.gl_pathv[i], ds_err_name(rc), ds_errmsg());
            continue;
        }
        char *s = doc_text(doc);
        ds_doc_free(doc);
        if (s) (*texts)[n++] = s;
    }
    globfree(&g);
    return n;
}

static void free_texts(char **t, int n) {
    for (int i = 0; i < n; i++) free(t[i]);
    free(t);
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

// ---- pre-tokens

DS_TEST(tokenizer_pretokens) {
    static const struct {
        const char *text;
        const char *want; // pre-tokens separated by '|'
    } cases[] = {
        {"Hello world", "Hello| world"},
        {"Total: 42.50!", "Total|:| 4|2|.|5|0|!"},
        {"a  b", "a| | b"},
        {"x\n\ny", "x|\n\n|y"},
        {"end \nnext", "end| \n|next"},
        {"tab\t\t word", "tab|\t\t| word"},
        {"café naïve", "café| naïve"},
        {" (c)2024", " (|c|)|2|0|2|4"},
        {"   ", "   "},
        {"a\xff\xfe", "a\xff\xfe"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        const uint8_t *s = (const uint8_t *)cases[c].text;
        size_t len = strlen(cases[c].text);
        char got[256] = "";
        for (size_t pos = 0, end; pos < len; pos = end) {
            end = ds_tok_pretoken_end(s, len, pos);
            DS_CHECK(end > pos && end <= len);
            if (pos) strcat(got, "|");
            strncat(got, (const char *)s + pos, end - pos);
        }
        if (strcmp(got, cases[c].want) != 0) {
            fprintf(stderr, "  pre-tokens of \"%s\": got \"%s\", want \"%s\"\n", cases[c].text, got,
                    cases[c].want);
            return 1;
        }
    }
    // Runs are cut at DS_TOK_MAX_PRETOKEN bytes.
    char run[200];
    memset(run, 'a', sizeof run);
    DS_CHECK_INT_EQ(ds_tok_pretoken_end((const uint8_t *)run, sizeof run, 0), DS_TOK_MAX_PRETOKEN);
    printf("  %zu texts split as specified; runs cut at %d bytes\n", sizeof cases / sizeof *cases,
           DS_TOK_MAX_PRETOKEN);
    return 0;
}

// ---- round trips

DS_TEST(tokenizer_round_trip_random) {
    ds_tokenizer *tok = train_small(400);
    DS_CHECK(tok != NULL);
    ds_rng r;
    ds_rng_seed(&r, 11);
    static const char *const frag[] = {"the", " the", "invoice", "\n", "\t", " ", "  ", "\r\n",
                                       "ä",   "\xc3", "\xff",    "0",  "42", ".", "\0", "<eos>"};
    char buf[600];
    size_t total = 0;
    long tokens = 0;
    for (int iter = 0; iter < 3000; iter++) {
        size_t len = 0, want = ds_rng_below(&r, 300);
        while (len < want) {
            uint64_t k = ds_rng_below(&r, 3);
            if (k == 0) { // any byte: NUL, invalid UTF-8, controls
                buf[len++] = (char)ds_rng_below(&r, 256);
            } else { // fragments, so merges do fire
                const char *f = frag[ds_rng_below(&r, sizeof frag / sizeof *frag)];
                size_t n = f[0] ? strlen(f) : 1;
                memcpy(buf + len, f, n);
                len += n;
            }
        }
        int n;
        DS_CHECK_INT_EQ(round_trip(tok, buf, len, &n), 0);
        total += len;
        tokens += n;
    }
    printf("  3000 random byte strings (NUL, invalid UTF-8, new lines), %zu bytes: all round-trip "
           "exactly; %.2f bytes per token (vocab %d)\n",
           total, (double)total / (double)tokens, ds_tokenizer_vocab_size(tok));
    ds_tokenizer_free(tok);
    return 0;
}

// Trained on the generated sample sets, tested on real documents it never saw.
DS_TEST(tokenizer_round_trip_real_docs) {
    const char *data = DS_SOURCE_DIR "/../shared/data";
    struct stat st;
    if (stat(data, &st) != 0) {
        printf("  SKIP: %s is absent (real documents live beside the repository)\n", data);
        return 0;
    }
    char **train_texts, **real;
    int n_train_files, n_real_files;
    double t0 = ds_time_s();
    int n_train =
        read_pdfs(DS_SOURCE_DIR "/samples/sets/*/*.pdf", 3.0, &train_texts, &n_train_files);
    double t1 = ds_time_s();
    // The real PDFs (Kleister-NDA) sit one folder down: data/SET/documents/*.pdf.
    int n_real = read_pdfs(DS_SOURCE_DIR "/../shared/data/*/*/*.pdf", 3.0, &real, &n_real_files);
    double t2 = ds_time_s();
    ds_ingest_thread_cleanup();
    printf("  read %d of %d sample-set PDFs in %.1f s, %d of %d real PDFs in %.1f s\n", n_train,
           n_train_files, t1 - t0, n_real, n_real_files, t2 - t1);
    DS_CHECK(n_train > 0);
    if (n_real == 0) {
        printf("  SKIP: no PDFs under %s\n", data);
        free_texts(train_texts, n_train);
        return 0;
    }
    ds_tokenizer *tok;
    DS_CHECK_INT_EQ(
        ds_tokenizer_train((const char *const *)train_texts, (size_t)n_train, 2048, &tok), 0);
    size_t bytes = 0, words = 0;
    long tokens = 0;
    for (int i = 0; i < n_real; i++) {
        int n;
        DS_CHECK_INT_EQ(round_trip(tok, real[i], strlen(real[i]), &n), 0);
        bytes += strlen(real[i]);
        words += count_words(real[i]);
        tokens += n;
    }
    size_t train_words = 0;
    long train_tokens = 0;
    for (int i = 0; i < n_train; i++) {
        int n;
        DS_CHECK_INT_EQ(round_trip(tok, train_texts[i], strlen(train_texts[i]), &n), 0);
        train_words += count_words(train_texts[i]);
        train_tokens += n;
    }
    printf("  real documents: %zu bytes, %zu words -> %ld tokens, all round-trip exactly\n", bytes,
           words, tokens);
    printf("  tokens per word (vocab %d): real %.3f, training set %.3f\n",
           ds_tokenizer_vocab_size(tok), (double)tokens / (double)words,
           (double)train_tokens / (double)train_words);
    // Merges must compress: fewer tokens than bytes by a clear margin.
    DS_CHECK(words > 0 && (double)tokens < 0.6 * (double)bytes);
    ds_tokenizer_free(tok);
    free_texts(train_texts, n_train);
    free_texts(real, n_real);
    return 0;
}

// ---- digits

DS_TEST(tokenizer_digits) {
    // A corpus of numbers glued to words and signs ("No.2024", "x9y", "1st", "#42"): digit
    // pairs would be the most frequent pairs by far, and digits sit next to letters.
    char *text = malloc(400000), *o = text;
    DS_CHECK(text != NULL);
    ds_rng r;
    ds_rng_seed(&r, 3);
    static const char *const pre[] = {"", "No.", "x", "#", "EUR ", "v", "(", "-"};
    static const char *const post[] = {"", "st", "y", ".00", "%", " items", ")", "kg"};
    for (int i = 0; i < 15000; i++)
        o += sprintf(
            o, "%s%s%llu%s", i ? (i % 7 ? " " : "\n") : "", pre[i % 8],
            (unsigned long long)(i % 3 ? (uint64_t)(2024 + i % 5) : ds_rng_below(&r, 1000000)),
            post[(i / 8) % 8]);
    const char *texts[] = {text,
                           "Total 100.00 EUR, 12 items, 2024-05-06",
                           small_corpus[0],
                           small_corpus[1],
                           small_corpus[2],
                           small_corpus[3]};
    ds_tokenizer *tok;
    DS_CHECK_INT_EQ(ds_tokenizer_train(texts, 6, 600, &tok), 0);
    free(text);
    int v = ds_tokenizer_vocab_size(tok);
    DS_CHECK(v > DS_TOK_FIRST_MERGE + 50); // merges did happen, around the digits too
    for (int id = DS_TOK_FIRST_MERGE; id < v; id++) {
        int len;
        const char *p = ds_tokenizer_piece(tok, id, &len);
        for (int i = 0; i < len; i++)
            if (p[i] >= '0' && p[i] <= '9') {
                fprintf(stderr, "  token %d \"%.*s\" holds a digit\n", id, len, p);
                return 1;
            }
    }
    const char *s = "Invoice 2024-0042 total 1234567890.99 on 06/05/2024, x9y 7";
    int32_t ids[128];
    int n = ds_tokenizer_encode(tok, s, strlen(s), ids, 128);
    DS_CHECK(n > 0);
    int digits = 0, digit_tokens = 0;
    for (const char *c = s; *c; c++) digits += *c >= '0' && *c <= '9';
    for (int i = 0; i < n; i++)
        if (ids[i] >= DS_TOK_BYTE0 + '0' && ids[i] <= DS_TOK_BYTE0 + '9') digit_tokens++;
    DS_CHECK_INT_EQ(digit_tokens, digits);
    printf("  %d merges learned on a corpus full of numbers: no token holds a digit; \"%s\": %d "
           "digits -> %d single-digit tokens\n",
           v - DS_TOK_FIRST_MERGE, s, digits, digit_tokens);
    ds_tokenizer_free(tok);
    return 0;
}

// ---- encode_words

DS_TEST(tokenizer_encode_words) {
    ds_tokenizer *tok = train_small(500);
    DS_CHECK(tok != NULL);
    static const char *const words[] = {"Invoice",
                                        "number",
                                        "2061-1324",
                                        "dated",
                                        "18.07.2016",
                                        "Café",
                                        "Zürich;",
                                        "the",
                                        "(c)",
                                        "\xff",
                                        "TOTAL",
                                        "42.50",
                                        "!!",
                                        "a",
                                        "theeeeeeeeeeeeeeeeeeeeeeeee"
                                        "eeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
                                        "eeeeeeeeeeeeeeeeeeeeeeee"};
    int n_words = (int)(sizeof words / sizeof *words);
    int32_t ids[512], word_of[512], ref[512];
    int n = ds_tokenizer_encode_words(tok, words, n_words, ids, word_of, 512);
    DS_CHECK(n > 0);
    for (int i = 1; i < n; i++) DS_CHECK(word_of[i] >= word_of[i - 1]);
    char want[256], got[256];
    for (int w = 0, i = 0; w < n_words; w++) {
        int j = i;
        while (j < n && word_of[j] == w) j++;
        if (j == i) {
            fprintf(stderr, "  word %d \"%s\" has no token\n", w, words[w]);
            return 1;
        }
        snprintf(want, sizeof want, "%s%s", w ? " " : "", words[w]);
        DS_CHECK(ds_tokenizer_decode(tok, ids + i, j - i, got, sizeof got) >= 0);
        if (strcmp(got, want) != 0) {
            fprintf(stderr, "  word %d: tokens decode to \"%s\", want \"%s\"\n", w, got, want);
            return 1;
        }
        i = j;
    }
    // Words without whitespace: the same tokens as the joined text.
    char joined[512] = "";
    for (int w = 0; w < n_words; w++) {
        if (w) strcat(joined, " ");
        strcat(joined, words[w]);
    }
    int m = ds_tokenizer_encode(tok, joined, strlen(joined), ref, 512);
    DS_CHECK_INT_EQ(m, n);
    DS_CHECK(memcmp(ids, ref, (size_t)n * sizeof *ids) == 0);
    DS_CHECK_INT_EQ(ds_tokenizer_encode_words(tok, words, n_words, ids, word_of, n - 1),
                    DS_E_TOO_LARGE);
    // The spaced variant: the first word gets its mid-line tokens too, i.e. the ids of
    // " " + the joined text.
    char spaced[520];
    snprintf(spaced, sizeof spaced, " %s", joined);
    m = ds_tokenizer_encode(tok, spaced, strlen(spaced), ref, 512);
    int ns = ds_tokenizer_encode_words_spaced(tok, words, n_words, ids, word_of, 512);
    DS_CHECK_INT_EQ(ns, m);
    DS_CHECK(memcmp(ids, ref, (size_t)m * sizeof *ids) == 0);
    DS_CHECK(word_of[0] == 0 && word_of[ns - 1] == n_words - 1);
    printf("  %d words -> %d tokens: word_of non-decreasing, every word covered, each word's "
           "tokens decode to it (space first), same ids as the joined text; spaced: %d tokens, "
           "same ids as \" \" + the joined text\n",
           n_words, n, ns);
    ds_tokenizer_free(tok);
    return 0;
}

// ---- training

// The naive trainer: recount every pair of every unique pre-token for every merge.
static int naive_train(const char *const *texts, int n_texts, int vocab, int32_t *merges) {
    enum { MAXW = 4096 };
    static int32_t sym[MAXW][DS_TOK_MAX_PRETOKEN];
    static int len[MAXW];
    static long count[MAXW];
    static long pc[512][512];
    int nw = 0;
    for (int d = 0; d < n_texts; d++) {
        const uint8_t *s = (const uint8_t *)texts[d];
        size_t n = strlen(texts[d]);
        for (size_t pos = 0, end; pos < n; pos = end) {
            end = ds_tok_pretoken_end(s, n, pos);
            int w = 0;
            for (; w < nw; w++) {
                int same = len[w] == (int)(end - pos);
                for (int i = 0; same && i < len[w]; i++)
                    same = sym[w][i] == DS_TOK_BYTE0 + s[pos + i];
                if (same) break;
            }
            if (w == nw) {
                if (nw == MAXW) return -1;
                len[w] = (int)(end - pos);
                for (int i = 0; i < len[w]; i++) sym[w][i] = DS_TOK_BYTE0 + s[pos + i];
                count[w] = 0;
                nw++;
            }
            count[w]++;
        }
    }
    int m = 0;
    for (; DS_TOK_FIRST_MERGE + m < vocab; m++) {
        memset(pc, 0, sizeof pc);
        for (int w = 0; w < nw; w++)
            for (int i = 0; i + 1 < len[w]; i++)
                if (!ds_tok_is_digit(sym[w][i]) && !ds_tok_is_digit(sym[w][i + 1]))
                    pc[sym[w][i]][sym[w][i + 1]] += count[w];
        long best = 1;
        int ba = -1, bb = -1;
        for (int a = 0; a < 512; a++)
            for (int b = 0; b < 512; b++)
                if (pc[a][b] > best) best = pc[a][b], ba = a, bb = b;
        if (ba < 0) break;
        merges[2 * m] = ba;
        merges[2 * m + 1] = bb;
        for (int w = 0; w < nw; w++) {
            int o = 0;
            for (int i = 0; i < len[w];)
                if (i + 1 < len[w] && sym[w][i] == ba && sym[w][i + 1] == bb)
                    sym[w][o++] = DS_TOK_FIRST_MERGE + m, i += 2;
                else
                    sym[w][o++] = sym[w][i++];
            len[w] = o;
        }
    }
    return m;
}

DS_TEST(tokenizer_train_matches_naive) {
    // Few letters, so runs like "aaaa" and "abab" make merges overlap.
    static char text[3][6000];
    ds_rng r;
    ds_rng_seed(&r, 5);
    static const char alphabet[] = "aaabbc   ..\n7";
    for (int d = 0; d < 3; d++) {
        for (int i = 0; i < (int)sizeof text[d] - 1; i++)
            text[d][i] = alphabet[ds_rng_below(&r, sizeof alphabet - 1)];
        text[d][sizeof text[d] - 1] = '\0';
    }
    const char *const texts[] = {text[0],         text[1],         text[2],        small_corpus[0],
                                 small_corpus[1], small_corpus[2], small_corpus[3]};
    static int32_t want[2 * 240];
    int vocab = DS_TOK_FIRST_MERGE + 240;
    int m = naive_train(texts, 7, vocab, want);
    DS_CHECK(m > 100);
    ds_tokenizer *tok;
    DS_CHECK_INT_EQ(ds_tokenizer_train(texts, 7, vocab, &tok), 0);
    DS_CHECK_INT_EQ(ds_tokenizer_vocab_size(tok), DS_TOK_FIRST_MERGE + m);
    for (int i = 0; i < m; i++)
        if (tok->merges[2 * i] != want[2 * i] || tok->merges[2 * i + 1] != want[2 * i + 1]) {
            fprintf(stderr, "  merge %d: got [%d, %d], the naive trainer [%d, %d]\n", i,
                    tok->merges[2 * i], tok->merges[2 * i + 1], want[2 * i], want[2 * i + 1]);
            return 1;
        }
    printf("  %d merges identical to the naive trainer's (ties, overlapping runs, digits)\n", m);
    ds_tokenizer_free(tok);
    // Too small a corpus to fill the vocabulary: training stops when no pair occurs twice.
    const char *tiny[] = {"ab ab ab"};
    DS_CHECK_INT_EQ(ds_tokenizer_train(tiny, 1, 1000, &tok), 0);
    printf("  \"ab ab ab\" to vocab 1000: stopped at %d (merges \"ab\", then \" \"+\"ab\")\n",
           ds_tokenizer_vocab_size(tok));
    DS_CHECK_INT_EQ(ds_tokenizer_vocab_size(tok), DS_TOK_FIRST_MERGE + 2);
    ds_tokenizer_free(tok);
    return 0;
}

DS_TEST(tokenizer_deterministic) {
    ds_tokenizer *a = train_small(450), *b = train_small(450), *c;
    DS_CHECK(a && b);
    // The order of the texts does not matter either: only counts decide.
    const char *const rev[] = {small_corpus[3], small_corpus[2], small_corpus[1], small_corpus[0]};
    DS_CHECK_INT_EQ(ds_tokenizer_train(rev, N_SMALL, 450, &c), 0);
    json_t *ja = ds_tokenizer_to_json(a), *jb = ds_tokenizer_to_json(b),
           *jc = ds_tokenizer_to_json(c);
    char *sa = json_dumps(ja, JSON_COMPACT), *sb = json_dumps(jb, JSON_COMPACT),
         *sc = json_dumps(jc, JSON_COMPACT);
    DS_CHECK(sa && sb && sc);
    DS_CHECK(strcmp(sa, sb) == 0);
    DS_CHECK(strcmp(sa, sc) == 0);
    printf("  trained twice (and on the texts reversed): identical JSON, %zu bytes, vocab %d\n",
           strlen(sa), ds_tokenizer_vocab_size(a));
    free(sa);
    free(sb);
    free(sc);
    json_decref(ja);
    json_decref(jb);
    json_decref(jc);
    ds_tokenizer_free(a);
    ds_tokenizer_free(b);
    ds_tokenizer_free(c);
    return 0;
}

// Training speed on ~2 MB of varied made-up words (many unique pre-tokens).
DS_TEST(tokenizer_train_speed) {
    size_t cap = 2 << 20;
    char *text = malloc(cap + 64), *o = text;
    DS_CHECK(text != NULL);
    ds_rng r;
    ds_rng_seed(&r, 9);
    static const char *const syl[] = {"th", "e",  "an", "in", "er", "on", "re", "at", "ou", "ä",
                                      "st", "ch", "ng", "qu", "x",  "ve", "ro", "al", "is", "é"};
    while ((size_t)(o - text) < cap) {
        // Zipf-like: short common words often, long rare ones sometimes.
        int k = 1 + (int)ds_rng_below(&r, 1 + ds_rng_below(&r, 5));
        *o++ = ds_rng_below(&r, 12) ? ' ' : '\n';
        for (int i = 0; i < k; i++) {
            const char *s = syl[ds_rng_below(&r, 1 + ds_rng_below(&r, 20))];
            size_t n = strlen(s);
            memcpy(o, s, n);
            o += n;
        }
        if (!ds_rng_below(&r, 8)) o += sprintf(o, ", %d.%02d", (int)ds_rng_below(&r, 999), 5);
    }
    *o = '\0';
    const char *texts[] = {text};
    double t0 = ds_time_s();
    ds_tokenizer *tok;
    DS_CHECK_INT_EQ(ds_tokenizer_train(texts, 1, 4096, &tok), 0);
    double t1 = ds_time_s();
    size_t len = strlen(text);
    int32_t *ids = malloc(len * sizeof *ids);
    DS_CHECK(ids != NULL);
    int n = ds_tokenizer_encode(tok, text, len, ids, (int)len);
    double t2 = ds_time_s();
    DS_CHECK(n > 0);
    printf("  trained vocab %d on %zu bytes in %.2f s (%.1f MB/s); encoded them in %.3f s (%.1f "
           "MB/s), %.2f bytes per token\n",
           ds_tokenizer_vocab_size(tok), len, t1 - t0, len / 1e6 / (t1 - t0), t2 - t1,
           len / 1e6 / (t2 - t1), (double)len / n);
    DS_CHECK(t1 - t0 < 30);
    free(ids);
    free(text);
    ds_tokenizer_free(tok);
    return 0;
}

// ---- JSON

DS_TEST(tokenizer_json) {
    ds_tokenizer *tok = train_small(420), *back;
    DS_CHECK(tok != NULL);
    json_t *j = ds_tokenizer_to_json(tok);
    DS_CHECK(j != NULL);
    DS_CHECK_INT_EQ(ds_tokenizer_from_json(j, &back), 0);
    json_decref(j);
    char path[1024];
    snprintf(path, sizeof path, "%s/tok-test.json", ds_test_tmpdir());
    ds_tokenizer *loaded;
    DS_CHECK_INT_EQ(ds_tokenizer_save(tok, path), 0);
    DS_CHECK_INT_EQ(ds_tokenizer_load(path, &loaded), 0);
    const char *s = small_corpus[2];
    int32_t a[512], b[512], c[512];
    int na = ds_tokenizer_encode(tok, s, strlen(s), a, 512);
    int nb = ds_tokenizer_encode(back, s, strlen(s), b, 512);
    int nc = ds_tokenizer_encode(loaded, s, strlen(s), c, 512);
    DS_CHECK(na > 0);
    DS_CHECK_INT_EQ(na, nb);
    DS_CHECK_INT_EQ(na, nc);
    DS_CHECK(memcmp(a, b, (size_t)na * sizeof *a) == 0 &&
             memcmp(a, c, (size_t)na * sizeof *a) == 0);
    printf("  to_json/from_json and save/load: vocab %d, %d tokens identical\n",
           ds_tokenizer_vocab_size(back), na);
    ds_tokenizer_free(back);
    ds_tokenizer_free(loaded);
    ds_tokenizer_free(tok);

    // 'a' = 113, 'b' = 114, 'c' = 115, '1' = 65, the first merge is 272.
    static const struct {
        const char *json, *names;
    } bad[] = {
        {"[1,2]", "not an object"},
        {"{\"version\":1,\"vocab_size\":272,\"merges\":[]}", "missing key \"type\""},
        {"{\"type\":\"bpe-bytes\",\"version\":1,\"vocab_size\":272}", "missing key \"merges\""},
        {"{\"type\":\"wordpiece\",\"version\":1,\"vocab_size\":272,\"merges\":[]}", "bpe-bytes"},
        {"{\"type\":\"bpe-bytes\",\"version\":2,\"vocab_size\":272,\"merges\":[]}", "version 2"},
        {"{\"type\":\"bpe-bytes\",\"version\":1,\"vocab_size\":\"272\",\"merges\":[]}",
         "\"vocab_size\" must be an integer"},
        {"{\"type\":\"bpe-bytes\",\"version\":1,\"vocab_size\":272,\"merges\":{}}",
         "\"merges\" must be an array"},
        {"{\"type\":\"bpe-bytes\",\"version\":1,\"vocab_size\":274,\"merges\":[[113,114]]}",
         "does not match"},
        {"{\"type\":\"bpe-bytes\",\"version\":1,\"vocab_size\":273,\"merges\":[[113,\"b\"]]}",
         "merges[0] must be an array of two ids"},
        {"{\"type\":\"bpe-bytes\",\"version\":1,\"vocab_size\":273,\"merges\":[[113,114,115]]}",
         "merges[0] must be an array of two ids"},
        {"{\"type\":\"bpe-bytes\",\"version\":1,\"vocab_size\":274,\"merges\":[[113,114],[273,115]]"
         "}",
         "id 273 is used before it is defined"},
        {"{\"type\":\"bpe-bytes\",\"version\":1,\"vocab_size\":273,\"merges\":[[113,99999]]}",
         "id 99999 is out of range"},
        {"{\"type\":\"bpe-bytes\",\"version\":1,\"vocab_size\":273,\"merges\":[[-5,113]]}",
         "is out of range"},
        {"{\"type\":\"bpe-bytes\",\"version\":1,\"vocab_size\":273,\"merges\":[[2,113]]}",
         "id 2 is a special token"},
        {"{\"type\":\"bpe-bytes\",\"version\":1,\"vocab_size\":273,\"merges\":[[65,66]]}",
         "is a digit"},
        {"{\"type\":\"bpe-bytes\",\"version\":1,\"vocab_size\":274,\"merges\":[[113,114],[113,114]]"
         "}",
         "merges[1] = [113, 114] repeats merges[0]"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        json_error_t e;
        json_t *jb = json_loads(bad[i].json, 0, &e);
        DS_CHECK(jb != NULL);
        ds_tokenizer *t = (ds_tokenizer *)&t; // must be reset to NULL on failure
        ds_error_clear();
        int rc = ds_tokenizer_from_json(jb, &t);
        json_decref(jb);
        printf("  %-34.34s -> %s: %s\n", bad[i].names, ds_err_name(rc), ds_errmsg());
        DS_CHECK_INT_EQ(rc, DS_E_FORMAT);
        DS_CHECK(t == NULL);
        if (!strstr(ds_errmsg(), bad[i].names)) {
            fprintf(stderr, "  message \"%s\" does not name \"%s\"\n", ds_errmsg(), bad[i].names);
            return 1;
        }
    }
    // A chain of merges doubling the piece would pass the id checks; its length must not.
    json_t *chain = json_pack("{s:s, s:i, s:i, s:[]}", "type", "bpe-bytes", "version", 1,
                              "vocab_size", DS_TOK_FIRST_MERGE + 8, "merges");
    json_array_append_new(json_object_get(chain, "merges"), json_pack("[i,i]", 113, 113));
    for (int k = 1; k < 8; k++)
        json_array_append_new(
            json_object_get(chain, "merges"),
            json_pack("[i,i]", DS_TOK_FIRST_MERGE + k - 1, DS_TOK_FIRST_MERGE + k - 1));
    int rc = ds_tokenizer_from_json(chain, &back);
    json_decref(chain);
    printf("  doubling chain -> %s: %s\n", ds_err_name(rc), ds_errmsg());
    DS_CHECK_INT_EQ(rc, DS_E_FORMAT);
    DS_CHECK(strstr(ds_errmsg(), "longer than a pre-token") != NULL);
    snprintf(path, sizeof path, "%s/tok-missing.json", ds_test_tmpdir());
    remove(path);
    rc = ds_tokenizer_load(path, &back);
    printf("  load of a missing file -> %s: %s\n", ds_err_name(rc), ds_errmsg());
    DS_CHECK_INT_EQ(rc, DS_E_NOENT);
    return 0;
}

// ---- limits

DS_TEST(tokenizer_limits) {
    ds_tokenizer *tok = train_small(400);
    DS_CHECK(tok != NULL);
    const char *s = "The parties agree that 12 items cost 42.50";
    int32_t ids[64];
    int n = ds_tokenizer_encode(tok, s, strlen(s), ids, 64);
    DS_CHECK(n > 4);
    DS_CHECK_INT_EQ(ds_tokenizer_encode(tok, s, strlen(s), ids, n), n);
    int rc = ds_tokenizer_encode(tok, s, strlen(s), ids, n - 1);
    printf("  encode with cap %d for %d tokens -> %s: %s\n", n - 1, n, ds_err_name(rc),
           ds_errmsg());
    DS_CHECK_INT_EQ(rc, DS_E_TOO_LARGE);
    DS_CHECK_INT_EQ(ds_tokenizer_encode(tok, s, strlen(s), NULL, 0), DS_E_TOO_LARGE);
    DS_CHECK_INT_EQ(ds_tokenizer_encode(tok, "", 0, NULL, 0), 0);
    char out[64];
    DS_CHECK_INT_EQ(ds_tokenizer_decode(tok, ids, n, out, strlen(s) + 1), (int)strlen(s));
    rc = ds_tokenizer_decode(tok, ids, n, out, strlen(s));
    printf("  decode into %zu bytes for %zu + NUL -> %s: %s\n", strlen(s), strlen(s),
           ds_err_name(rc), ds_errmsg());
    DS_CHECK_INT_EQ(rc, DS_E_TOO_LARGE);
    int32_t bad[3] = {DS_TOK_BYTE0 + 'a', ds_tokenizer_vocab_size(tok), -1};
    rc = ds_tokenizer_decode(tok, bad, 2, out, sizeof out);
    printf("  decode of id %d -> %s: %s\n", bad[1], ds_err_name(rc), ds_errmsg());
    DS_CHECK_INT_EQ(rc, DS_E_INVAL);
    DS_CHECK_INT_EQ(ds_tokenizer_decode(tok, bad + 2, 1, out, sizeof out), DS_E_INVAL);
    DS_CHECK(ds_tokenizer_piece(tok, -1, NULL) == NULL);
    int32_t special[2] = {DS_TOK_BOS, DS_TOK_COPY_END};
    DS_CHECK_INT_EQ(ds_tokenizer_decode(tok, special, 2, out, sizeof out), 15);
    DS_CHECK(strcmp(out, "<bos><copy_end>") == 0);
    // Special-token text is data: "<eos>" encodes as bytes and merges, never as DS_TOK_EOS.
    n = ds_tokenizer_encode(tok, "<eos>", 5, ids, 64);
    for (int i = 0; i < n; i++) DS_CHECK(ids[i] >= DS_TOK_BYTE0);
    ds_tokenizer *t2;
    rc = ds_tokenizer_train(small_corpus, N_SMALL, 100, &t2);
    printf("  train to vocab 100 -> %s: %s\n", ds_err_name(rc), ds_errmsg());
    DS_CHECK_INT_EQ(rc, DS_E_INVAL);
    printf("  specials decode as \"%s\"; \"<eos>\" as text -> %d ordinary tokens\n", out, n);
    ds_tokenizer_free(tok);
    return 0;
}

// ---- fuzz entry

DS_TEST(tokenizer_fuzz_smoke) {
    ds_tokenizer *tok = train_small(300);
    DS_CHECK(tok != NULL);
    json_t *j = ds_tokenizer_to_json(tok);
    char *seed = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    ds_tokenizer_free(tok);
    DS_CHECK(seed != NULL);
    size_t n = strlen(seed);
    uint8_t *mut = malloc(n);
    DS_CHECK(mut != NULL);
    ds_rng r;
    ds_rng_seed(&r, 13);
    int accepted = 0, rejected = 0;
    for (int iter = 0; iter < 2000; iter++) {
        size_t len = ds_test_mutate(&r, mut, (const uint8_t *)seed, n);
        if (ds_fuzz_tokenizer(mut, len) == 0)
            accepted++;
        else
            rejected++;
    }
    free(mut);
    free(seed);
    FILE *m = fopen(DS_SOURCE_DIR "/tests/corpus/tokenizer/manifest.txt", "r");
    DS_CHECK(m != NULL);
    char line[512];
    int seeds = 0, seeds_ok = 0;
    while (fgets(line, sizeof line, m)) {
        line[strcspn(line, "\n")] = 0;
        if (!line[0]) continue;
        char file[1024];
        snprintf(file, sizeof file, "%s/tests/corpus/tokenizer/%s", DS_SOURCE_DIR, line);
        FILE *f = fopen(file, "rb");
        DS_CHECK(f != NULL);
        uint8_t buf[65536];
        size_t len = fread(buf, 1, sizeof buf, f);
        fclose(f);
        seeds_ok += ds_fuzz_tokenizer(buf, len) == 0;
        seeds++;
    }
    fclose(m);
    printf("  2000 mutations of a tokenizer JSON: %d accepted, %d rejected; %d corpus seeds (%d "
           "valid tokenizers) round-tripped\n",
           accepted, rejected, seeds, seeds_ok);
    DS_CHECK(accepted > 0 && rejected > 0 && seeds > 0 && seeds_ok > 0);
    return 0;
}
