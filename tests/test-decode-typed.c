// test-decode-typed.c: the decoder points a date field only at a run of words
// that reads as a date, and an amount field only at one that reads as an
// amount (ten digits without a mark are an ID, not an amount; on a page whose
// amounts carry two decimals, one with two decimals), whatever the model's pointer
// scores say. Randomly initialised tiny
// models (their pointers are noise), decoding spans only (no generated text),
// extract an invoice whose words hold a couple of dates and amounts among many
// other words and numbers: every date and amount they return must parse as
// one. On a page with no date at all the date fields come back null.
#include "core/error.h"
#include "fusion/extract.h"
#include "samples/normalize.h"
#include "tests/ingest-fixtures.h"
#include "tests/model-fixtures.h"
#include "tests/test.h"

#include <ctype.h>
#include <jansson.h>
#include <string.h>
#include <strings.h>

static int make_doc(const ds_model_cfg *cfg, int with_dates, ds_doc **doc) {
    const char *lines[4] = {"Acme Tools Ltd Tel. +44 20 7946 0958 Order 2000160000024",
                            with_dates ? "Invoice 4471 dated 12 March 2024 due 2024-04-11"
                                       : "Invoice 4471 dated soon due later",
                            "Widgets 3 x 12 pieces code A-77 ref 100100000006-",
                            "Subtotal 1,204.50 VAT 20% 240.90 Total 1,445.40 EUR"};
    return ds_fx_text_doc(lines, 4, cfg->img_size, doc);
}

// Counts the date / amount values of fields and how many of them do not parse.
static void check(const json_t *fields, const ds_schema *sc, int *n, int *bad) {
    for (int f = 0; f < sc->n_fields; f++) {
        ds_field_type t = sc->fields[f].type;
        if (t != DS_FIELD_DATE && t != DS_FIELD_AMOUNT) continue;
        const char *v = json_string_value(
            json_object_get(json_object_get(fields, sc->fields[f].name), "value"));
        if (!v) continue;
        char iso[11];
        double a;
        int digits = 0, marks = 0; // ten digits without a mark: an ID, no amount
        for (const char *p = v; *p; p++)
            digits += isdigit((unsigned char)*p) != 0, marks += *p == '.' || *p == ',';
        // the page prints its three amounts with cents ("1,204.50"): so must the value
        int cents = 0;
        for (const char *p = v + 1; *p && p[1] && p[2]; p++)
            cents |= isdigit((unsigned char)p[-1]) && (*p == '.' || *p == ',') &&
                     isdigit((unsigned char)p[1]) && isdigit((unsigned char)p[2]) &&
                     !isdigit((unsigned char)p[3]);
        int ok = t == DS_FIELD_DATE ? ds_norm_date(v, 0, iso) == 0 || ds_norm_date(v, 1, iso) == 0
                                    : ds_norm_amount(v, &a) == 0 && (marks || digits < 10) && cents;
        (*n)++;
        if (!ok) {
            (*bad)++;
            printf("  %s = \"%s\" does not read as its type\n", sc->fields[f].name, v);
        }
    }
}

DS_TEST(decode_typed_pointers) {
    ds_fx_init();
    ds_schema_set schemas;
    DS_CHECK(ds_schema_set_load(DS_SOURCE_DIR "/samples/schemas", &schemas) == 0);
    const ds_schema *inv = ds_schema_find(&schemas, "invoice");
    DS_CHECK(inv != NULL);
    ds_model_cfg cfg;
    DS_CHECK(ds_model_cfg_load(DS_SOURCE_DIR "/configs/tiny.json", &cfg) == 0);
    ds_doc *docs[2];
    DS_CHECK_INT_EQ(make_doc(&cfg, 1, &docs[0]), 0);
    DS_CHECK_INT_EQ(make_doc(&cfg, 0, &docs[1]), 0);
    ds_ctx *ctx = ds_ctx_new(DS_BACKEND_CPU, 1);
    int n = 0, bad = 0, decoded = 0, undated = 0;
    for (int seed = 1; seed <= 12; seed++) {
        ds_model *m;
        DS_CHECK(ds_fixture_text_model(&cfg,
                                       "Acme Tools Invoice dated due Subtotal VAT Total EUR March",
                                       320, (uint64_t)seed, &m) == 0);
        ds_extractor *x;
        DS_CHECK(ds_extractor_new(m, ctx, &schemas, &x) == 0);
        ds_decode_opts o = {.spans_only = 1}; // random models otherwise mostly generate
        ds_extractor_set_opts(x, &o);
        for (int d = 0; d < 2; d++) {
            json_t *out = NULL;
            int rc = ds_extractor_doc(x, docs[d], "invoice", &out);
            if (rc) printf("  seed %d doc %d: %s\n", seed, d, ds_errmsg());
            decoded += rc == 0;
            if (rc == 0 && d == 0) check(json_object_get(out, "fields"), inv, &n, &bad);
            if (rc == 0 && d == 1) // no date anywhere: the date fields must be null
                for (int f = 0; f < inv->n_fields; f++) {
                    json_t *v =
                        json_object_get(json_object_get(out, "fields"), inv->fields[f].name);
                    if (inv->fields[f].type == DS_FIELD_DATE && v && !json_is_null(v)) {
                        undated++;
                        printf("  %s = %s on a page without dates\n", inv->fields[f].name,
                               json_string_value(json_object_get(v, "value")));
                    }
                }
            json_decref(out);
        }
        ds_extractor_free(x);
        ds_model_free(m);
    }
    printf("  12 random models: %d of 24 documents decoded; %d date and amount values pointed "
           "at, %d not of their type; %d dates on the page without one\n",
           decoded, n, bad, undated);
    ds_ctx_free(ctx);
    ds_doc_free(docs[0]);
    ds_doc_free(docs[1]);
    ds_schema_set_free(&schemas);
    return decoded != 24 || n < 6 || bad != 0 || undated != 0;
}

static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

// A contract read by a random tiny model of seed (its pointers are noise), spans only:
// the answer, or NULL when the model or the extraction failed.
static json_t *random_contract(ds_model_cfg *cfg, ds_ctx *ctx, const ds_schema_set *schemas,
                               const ds_doc *doc, int seed) {
    ds_model *m;
    if (ds_fixture_text_model(cfg, "Agreement made between party secret period years", 320,
                              (uint64_t)seed, &m))
        return NULL;
    ds_extractor *x;
    json_t *out = NULL;
    if (ds_extractor_new(m, ctx, schemas, &x) == 0) {
        ds_extractor_set_opts(x, &(ds_decode_opts){.spans_only = 1});
        if (ds_extractor_doc(x, doc, "contract", &out)) {
            json_decref(out);
            out = NULL;
        }
        ds_extractor_free(x);
    }
    ds_model_free(m);
    return out;
}

// A contract's term is a duration, its jurisdiction a place and its parties names:
// random tiny models pointing at an agreement's words return a term that reads as one
// ("two (2) years"), a state or country ("Ohio", without the ";" the page writes after
// it) and parties of two capitalised words or more ("Acme Inc."), never another clause,
// an exhibit label, a heading or a defined term ("Confidential Information"), and
// whole: never a word short of the name printed ("Software Corporation" of "Progress
// Software Corporation", "Kite Pharma," of "Kite Pharma, Inc.", "Partners" of "Leonard
// Green & Partners", "Acme Trading" of "Acme Trading co" as OCR may read it; a legal
// form after a comma on the next line too), and each party once.
DS_TEST(decode_typed_duration_place) {
    ds_fx_init();
    ds_schema_set schemas;
    DS_CHECK(ds_schema_set_load(DS_SOURCE_DIR "/samples/schemas", &schemas) == 0);
    ds_model_cfg cfg;
    DS_CHECK(ds_model_cfg_load(DS_SOURCE_DIR "/configs/tiny.json", &cfg) == 0);
    const char *lines[7] = {"EX-10.2 Exhibit 10.2 CONFIDENTIALITY AGREEMENT Recipient",
                            "This Agreement is made on 5 May 2021 between The Acme Company and "
                            "Beta LLC",
                            "Each party shall keep the Confidential Information secret for the "
                            "Restricted Period",
                            "This Agreement remains in force for a period of two (2) years",
                            "It is governed by the laws of the State of Ohio; 12 copies signed",
                            "Signed by Progress Software Corporation and Kite Pharma,",
                            "Inc. today; witnessed by Leonard Green & Partners and Acme Trading "
                            "co and Beta LLC"};
    ds_doc *doc;
    DS_CHECK_INT_EQ(ds_fx_text_doc(lines, 7, cfg.img_size, &doc), 0);
    ds_ctx *ctx = ds_ctx_new(DS_BACKEND_CPU, 1);
    int decoded = 0, terms = 0, laws = 0, parties = 0, bad = 0;
    for (int seed = 1; seed <= 12; seed++) {
        json_t *out = random_contract(&cfg, ctx, &schemas, doc, seed);
        if (out) {
            decoded++;
            json_t *fields = json_object_get(out, "fields");
            const char *v =
                json_string_value(json_object_get(json_object_get(fields, "term"), "value"));
            const char *law = json_string_value(
                json_object_get(json_object_get(fields, "jurisdiction"), "value"));
            char dur[32], place[64];
            if (v) {
                terms++;
                if (ds_norm_duration(v, dur) != 0) {
                    bad++;
                    printf("  seed %d: term \"%s\" is no duration\n", seed, v);
                }
            }
            size_t i;
            json_t *it;
            json_t *plist = json_object_get(fields, "parties");
            json_array_foreach(plist, i, it) {
                for (size_t j = 0; j < i; j++) { // each party once
                    const char *a = json_string_value(json_object_get(it, "value")),
                               *b = json_string_value(
                                   json_object_get(json_array_get(plist, j), "value"));
                    if (a && b && !strcasecmp(a, b)) {
                        bad++;
                        printf("  seed %d: party \"%s\" twice\n", seed, a);
                    }
                }
                // a name: two words at least, capitalised, no exhibit label or heading
                const char *pv = json_string_value(json_object_get(it, "value"));
                parties++;
                if (!pv || !strchr(pv, ' ') || !(isupper((unsigned char)pv[0])) ||
                    strstr(pv, "Exhibit") || strstr(pv, "EX-") || strstr(pv, "AGREEMENT") ||
                    strstr(pv, "Agreement") || strstr(pv, "Information") || strstr(pv, "Period")) {
                    bad++;
                    printf("  seed %d: party \"%s\" is no name\n", seed, pv ? pv : "?");
                } else if ((strstr(pv, "Software") && !strstr(pv, "Progress")) ||
                           (strstr(pv, "Pharma") && !strstr(pv, "Kite")) ||
                           ends_with(pv, "Pharma,") ||
                           (strstr(pv, "Partners") && !strstr(pv, "Leonard Green &")) ||
                           ends_with(pv, "Trading")) {
                    bad++; // the name a word short: its pointers cut it
                    printf("  seed %d: party \"%s\" is part of a name\n", seed, pv);
                }
            }
            if (law) {
                laws++;
                if (ds_norm_place(law, place) != 0 || strchr(",.;:", law[strlen(law) - 1])) {
                    bad++;
                    printf("  seed %d: jurisdiction \"%s\" is no place\n", seed, law);
                }
            }
        }
        json_decref(out);
    }
    printf("  12 random models: %d of 12 contracts decoded, %d terms, %d jurisdictions and %d "
           "parties, %d not of their type\n",
           decoded, terms, laws, parties, bad);
    ds_ctx_free(ctx);
    ds_doc_free(doc);
    ds_schema_set_free(&schemas);
    return decoded != 12 || terms == 0 || laws == 0 || parties == 0 || bad != 0;
}

// What reads like a name but names no party: a heading ("AMENDED AND RESTATED", "NO
// EFFECT ON", "Covenant Not To Compete", "GOVERNING LAW"), an officer's title ("General
// Counsel"), an address ("Colorado Avenue, Santa Monica,", "Charlotte, NC"), a
// salutation ("Gentlemen: In"), a sentence ("I UNDERSTAND THAT MY"), a defined term in
// the plural ("Non-Solicitation of Employees", "Affiliates’ Representatives"), the
// short name given a party ("(“Beta”)") or OCR's reading of a logo ("A0So0/@"). Random
// tiny models pointing at a page that is mostly such runs return only the one party
// printed there, or none.
DS_TEST(decode_typed_party_not_heading) {
    ds_fx_init();
    ds_schema_set schemas;
    DS_CHECK(ds_schema_set_load(DS_SOURCE_DIR "/samples/schemas", &schemas) == 0);
    ds_model_cfg cfg;
    DS_CHECK(ds_model_cfg_load(DS_SOURCE_DIR "/configs/tiny.json", &cfg) == 0);
    const char *lines[6] = {
        "AMENDED AND RESTATED NO EFFECT ON Covenant Not To Compete",
        "General Counsel of Beta Holdings LLC at 2425 Colorado Avenue, Santa Monica,",
        "Charlotte, NC Gentlemen: In Affiliates’ Representatives, Severance Pay.",
        "I UNDERSTAND THAT MY Non-Solicitation of Employees GOVERNING LAW",
        "A0So0/@ Beta Holdings LLC (“Beta”), Delaware United Kingdom",
        "Signed 5 May 2021 for a period of two (2) years"};
    static const char *not_names[] = {"AMENDED",   "EFFECT",    "Covenant",        "Counsel",
                                      "Avenue",    "NC",        "Gentlemen",       "UNDERSTAND",
                                      "Employees", "GOVERNING", "Representatives", "Beta”",
                                      "Severance", "A0So0"};
    ds_doc *doc;
    DS_CHECK_INT_EQ(ds_fx_text_doc(lines, 6, cfg.img_size, &doc), 0);
    ds_ctx *ctx = ds_ctx_new(DS_BACKEND_CPU, 1);
    int decoded = 0, parties = 0, bad = 0;
    for (int seed = 1; seed <= 16; seed++) {
        json_t *out = random_contract(&cfg, ctx, &schemas, doc, seed);
        if (out) {
            decoded++;
            size_t i;
            json_t *it;
            json_array_foreach(json_object_get(json_object_get(out, "fields"), "parties"), i, it) {
                const char *pv = json_string_value(json_object_get(it, "value"));
                parties++;
                for (size_t k = 0; pv && k < sizeof not_names / sizeof *not_names; k++)
                    if (strstr(pv, not_names[k])) {
                        bad++;
                        printf("  seed %d: party \"%s\" is no one\n", seed, pv);
                        break;
                    }
            }
        }
        json_decref(out);
    }
    printf("  16 random models: %d of 16 contracts decoded, %d parties, %d no one's name\n",
           decoded, parties, bad);
    ds_ctx_free(ctx);
    ds_doc_free(doc);
    ds_schema_set_free(&schemas);
    return decoded != 16 || parties == 0 || bad != 0;
}
