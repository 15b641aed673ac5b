// test-decode-constraints.c: whatever the model's scores, the constrained
// decoder writes only schema-valid answers whose values are the document's
// own text. Randomly initialised tiny models (their logits and pointers are
// noise), sampled at a high temperature so every branch of the grammar gets
// taken, read pages whose words repeat fragments (so a decoder that only
// checked each token against the one before could join two fragments into
// text the page does not hold). Every answer must have: a type among the
// schemas; its fields exactly the schema's, in order; each value null or of
// its field type (a check box true/false, a choice one of its values, a date
// that reads as a date, an amount as an amount, a currency as a currency, a
// list at most its max_items long); every text value a piece of the page's
// text with a page and a box on that page, a pointed one DS_MAX_SPAN_WORDS words at
// most, a generated one no number cut in two; confidences in [0, 1].
#include "core/error.h"
#include "core/rng.h"
#include "fusion/decode.h"
#include "fusion/sequence.h"
#include "samples/normalize.h"
#include "tests/decode-fixtures.h"
#include "tests/ingest-fixtures.h"
#include "tests/test.h"

#include <ctype.h>
#include <jansson.h>
#include <string.h>

static const char *const lines[] = {
    "Acme Tools Ltd Tel. 4420 7946 0958 Order 88231 Acme Trading GmbH",
    "Invoice 4471 dated 12 March 2024 due 2024-04-11 Agreement dated 3 May 2021",
    "Widgets 3 x 12 pieces code A-77 ref 5531 Widget Tools 77 pieces",
    "Subtotal 1,204.50 VAT 20% 240.90 Total 1,445.40 EUR Total due 1,445.40",
    "This Agreement is between Acme Tools Ltd and Trading GmbH for 2 years",
    "Name Jane Doe Email jane@acme.example Plan basic standard premium",
};

// The document's text as the decoder may copy it: its words joined by single spaces.
static void doc_text(const ds_doc *doc, char *text, size_t cap) {
    size_t n = 0;
    text[0] = 0;
    for (int p = 0; p < doc->n_pages; p++)
        for (int k = 0; k < doc->pages[p].n_words; k++) {
            const char *w = doc->pages[p].words[k].text;
            n += (size_t)snprintf(text + n, cap - n, "%s%s", n ? " " : "", w);
            if (n >= cap) return;
        }
}

// Whether every place s stands in text starts or ends it between two digits
// ("2024-04-1" of "2024-04-11"): a generated value takes a number whole.
static int cuts_number(const char *text, const char *s) {
    size_t n = strlen(s);
    for (const char *at = strstr(text, s); at; at = strstr(at + 1, s)) {
        int starts = at > text && isdigit((unsigned char)at[-1]) && isdigit((unsigned char)s[0]);
        int ends = isdigit((unsigned char)at[n]) && isdigit((unsigned char)s[n - 1]);
        if (!starts && !ends) return 0;
    }
    return 1;
}

// Checks one value v of field fd; returns 0, or 1 after printing what is wrong.
static int check_value(const ds_field *fd, const json_t *v, const ds_doc *doc, const char *text) {
    if (json_is_null(v)) return 0;
    if (!json_is_object(v)) {
        printf("  %s: not an object or null\n", fd->name);
        return 1;
    }
    double c = json_number_value(json_object_get(v, "confidence"));
    if (!json_is_number(json_object_get(v, "confidence")) || c < 0 || c > 1) {
        printf("  %s: confidence %g\n", fd->name, c);
        return 1;
    }
    const json_t *val = json_object_get(v, "value");
    if (fd->type == DS_FIELD_CHECKBOX) {
        if (json_is_boolean(val)) return 0;
        printf("  %s: a check box that is not true/false\n", fd->name);
        return 1;
    }
    const char *s = json_string_value(val);
    if (!s || !s[0] || s[0] == ' ' || s[strlen(s) - 1] == ' ') {
        printf("  %s: \"%s\": no value, or one with spaces at an end\n", fd->name, s ? s : "");
        return 1;
    }
    if (fd->type == DS_FIELD_ENUM) {
        for (int i = 0; i < fd->n_values; i++)
            if (!strcmp(s, fd->values[i])) return 0;
        printf("  %s: \"%s\" is not one of its values\n", fd->name, s);
        return 1;
    }
    if (!strstr(text, s)) {
        printf("  %s: \"%s\" is not text of the document\n", fd->name, s);
        return 1;
    }
    int words = 1;
    for (const char *q = s; *q; q++) words += *q == ' ';
    const char *source = json_string_value(json_object_get(v, "source"));
    if (source && !strcmp(source, "generated") && cuts_number(text, s)) {
        printf("  %s: \"%s\" cuts a number of the document in two\n", fd->name, s);
        return 1;
    }
    if (source && !strcmp(source, "span") && words > DS_MAX_SPAN_WORDS) {
        printf("  %s: a span of %d words\n", fd->name, words);
        return 1;
    }
    char iso[11];
    double a;
    if (fd->type == DS_FIELD_DATE && ds_norm_date(s, 0, iso) && ds_norm_date(s, 1, iso)) {
        printf("  %s: \"%s\" does not read as a date\n", fd->name, s);
        return 1;
    }
    if (fd->type == DS_FIELD_AMOUNT && ds_norm_amount(s, &a)) {
        printf("  %s: \"%s\" does not read as an amount\n", fd->name, s);
        return 1;
    }
    char code[4];
    if (fd->type == DS_FIELD_CURRENCY && ds_norm_currency(s, code)) {
        printf("  %s: \"%s\" does not read as a currency\n", fd->name, s);
        return 1;
    }
    const json_t *box = json_object_get(v, "box");
    int page = (int)json_integer_value(json_object_get(v, "page"));
    if (page < 1 || page > doc->n_pages || json_array_size(box) != 4) {
        printf("  %s: \"%s\" has no page and box\n", fd->name, s);
        return 1;
    }
    double b[4];
    for (int i = 0; i < 4; i++) b[i] = json_number_value(json_array_get(box, (size_t)i));
    const ds_page *pg = &doc->pages[page - 1];
    if (!(b[0] >= 0 && b[1] >= 0 && b[0] < b[2] && b[1] < b[3] && b[2] <= pg->width_pt + 0.01 &&
          b[3] <= pg->height_pt + 0.01)) {
        printf("  %s: box [%g %g %g %g] is not on its page\n", fd->name, b[0], b[1], b[2], b[3]);
        return 1;
    }
    return 0;
}

// Checks one answer; returns the number of faults (printed).
static int check_answer(const json_t *out, const ds_schema_set *S, const ds_doc *doc,
                        const char *text, int *n_values, int *n_text) {
    const ds_schema *sc = ds_schema_find(S, json_string_value(json_object_get(out, "doc_type")));
    if (!sc) {
        printf("  doc_type is not one of the schemas'\n");
        return 1;
    }
    const json_t *fields = json_object_get(out, "fields");
    int bad = 0, f = 0;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)fields, key, v) {
        if (f >= sc->n_fields || strcmp(key, sc->fields[f].name)) {
            printf("  field %d is \"%s\", not the schema's \"%s\"\n", f, key,
                   f < sc->n_fields ? sc->fields[f].name : "(none)");
            return bad + 1;
        }
        const ds_field *fd = &sc->fields[f++];
        if (ds_field_is_multi(fd->type)) {
            if (!json_is_array(v) || json_array_size(v) > (size_t)fd->max_items) {
                printf("  %s: not a list of at most %d\n", fd->name, fd->max_items);
                bad++;
                continue;
            }
            size_t i;
            json_t *item;
            json_array_foreach(v, i, item) {
                bad += check_value(fd, item, doc, text);
                (*n_values)++, (*n_text)++;
                // a text list's items come in reading order, one after the other: none
                // repeats an earlier one's box
                for (size_t k = 0; k < i && fd->type == DS_FIELD_TEXT_LIST; k++)
                    if (json_equal(json_object_get(item, "box"),
                                   json_object_get(json_array_get(v, k), "box"))) {
                        printf("  %s: item %zu repeats item %zu\n", fd->name, i, k);
                        bad++;
                        break;
                    }
            }
            continue;
        }
        bad += check_value(fd, v, doc, text);
        if (!json_is_null(v)) {
            (*n_values)++;
            *n_text += json_is_string(json_object_get(v, "value")) && fd->type != DS_FIELD_ENUM;
        }
    }
    if (f != sc->n_fields) {
        printf("  %d of the schema's %d fields\n", f, sc->n_fields);
        bad++;
    }
    return bad;
}

DS_TEST(decode_constraints_random_logits) {
    ds_fx_decode f;
    DS_CHECK(ds_fx_decode_open(&f) == 0);
    const ds_schema_set *S = &f.schemas;
    ds_doc *doc;
    DS_CHECK_INT_EQ(ds_fx_text_doc(lines, 6, f.cfg.img_size, &doc), 0);
    char text[4096];
    doc_text(doc, text, sizeof text);
    int answers = 0, faults = 0, values = 0, texts = 0, generated = 0, types[8] = {0};
    for (int seed = 1; seed <= 10; seed++) {
        // a tokenizer of few merges: values are many tokens long, fragments repeat
        DS_CHECK(ds_fx_decode_model(&f, "Acme Tools Total Agreement dated Widgets pieces", 300,
                                    (uint64_t)seed) == 0);
        ds_rng rng;
        ds_rng_seed(&rng, (uint64_t)seed * 977);
        for (int run = 0; run < 5; run++) {
            // greedy, then sampling hot enough to take every branch; the last run names
            // the type the model never picks itself (a form's entity lists)
            ds_decode_opts o = {.temperature = run ? 2.0f + run % 4 : 0, .rng = &rng};
            ds_extractor_set_opts(f.x, &o);
            json_t *out = NULL;
            int rc = ds_extractor_doc(f.x, doc, run == 4 ? "form_entities" : NULL, &out);
            if (rc) {
                printf("  seed %d run %d: %s: %s\n", seed, run, ds_err_name(rc), ds_errmsg());
                faults++;
                continue;
            }
            answers++;
            const char *t = json_string_value(json_object_get(out, "doc_type"));
            for (int s = 0; s < S->n && s < 8; s++)
                types[s] += t && !strcmp(t, S->schemas[s].doc_type);
            int bad = check_answer(out, S, doc, text, &values, &texts);
            // values that are not whole runs of words come from generation
            const json_t *fields = json_object_get(out, "fields");
            const char *key;
            json_t *v;
            json_object_foreach((json_t *)fields, key, v) {
                const char *s = json_string_value(json_object_get(v, "value"));
                char pad[2048];
                snprintf(pad, sizeof pad, " %s ", s ? s : "");
                char hay[4200];
                snprintf(hay, sizeof hay, " %s ", text);
                generated += s && !strstr(hay, pad);
            }
            if (bad) {
                char *js = json_dumps(out, JSON_COMPACT);
                printf("  seed %d run %d: %d faults in %s\n", seed, run, bad, js);
                free(js);
            }
            faults += bad;
            json_decref(out);
        }
    }
    printf("  10 random models x 5 decodes: %d answers (types", answers);
    for (int s = 0; s < S->n && s < 8; s++) printf(" %s %d", S->schemas[s].doc_type, types[s]);
    printf("), %d values, %d of them text (%d generated, not whole words), %d faults\n", values,
           texts, generated, faults);
    // form_entities only where named: 10 of 50
    int named = 0;
    for (int s = 0; s < S->n && s < 8; s++)
        if (!strcmp(S->schemas[s].doc_type, "form_entities")) named = types[s];
    faults += named != 10;
    ds_doc_free(doc);
    ds_fx_decode_close(&f);
    // the answers must have exercised the grammar: values, and generated ones among them
    return faults != 0 || answers != 50 || values < 40 || texts < 20 || generated < 3;
}

// A page that fills the model's sequence: its words are cut where the answer's reserve
// begins, and a hot-sampled random model's generated values (up to 48 tokens each)
// would run past the KV cache's room for the document (an error, DS_E_BUSY, for the
// whole document, as a briefly trained model on receipts did). They stop where the
// sequence has no room left for them and the fields after them: every answer comes back
// whole and checks out as above.
DS_TEST(decode_constraints_full_sequence) {
    ds_fx_decode f;
    DS_CHECK(ds_fx_decode_open(&f) == 0);
    const char *many[120];
    for (int i = 0; i < 120; i++) many[i] = lines[i % 6];
    ds_doc *doc;
    DS_CHECK_INT_EQ(ds_fx_text_doc(many, 120, f.cfg.img_size, &doc), 0);
    char *text = malloc(65536);
    DS_CHECK(text != NULL);
    doc_text(doc, text, 65536);
    int answers = 0, faults = 0, values = 0, texts = 0, truncated = 0;
    for (int seed = 1; seed <= 4; seed++) {
        DS_CHECK(ds_fx_decode_model(&f, "Acme Tools Total Agreement dated Widgets pieces", 300,
                                    (uint64_t)seed) == 0);
        ds_seq seq;
        ds_seq_info info;
        DS_CHECK_INT_EQ(ds_seq_build(f.m, &f.schemas, doc, NULL, &seq, &info), 0);
        truncated += !ds_seq_read_whole(&info, doc);
        ds_seq_free(&seq);
        ds_rng rng;
        ds_rng_seed(&rng, (uint64_t)seed * 31);
        for (int run = 0; run < 4; run++) {
            ds_decode_opts o = {.temperature = 3.0f + run, .rng = &rng};
            ds_extractor_set_opts(f.x, &o);
            json_t *out = NULL;
            int rc = ds_extractor_doc(f.x, doc, NULL, &out);
            if (rc) {
                printf("  seed %d run %d: %s: %s\n", seed, run, ds_err_name(rc), ds_errmsg());
                faults++;
                continue;
            }
            answers++;
            faults += check_answer(out, &f.schemas, doc, text, &values, &texts);
            json_decref(out);
        }
    }
    printf("  4 random models x 4 hot decodes of a page cut to the sequence (%d of 4 cut): %d "
           "answers, %d values (%d text), %d faults\n",
           truncated, answers, values, texts, faults);
    free(text);
    ds_doc_free(doc);
    ds_fx_decode_close(&f);
    return faults != 0 || answers != 16 || truncated != 4 || texts == 0;
}
