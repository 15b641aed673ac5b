// test-form-decoded.c: the rules a form's decoded entities (questions, answers, headers)
// keep whatever the model's scores. Random tiny models (their pointers are noise) list
// the entities of a page, with the type constraints and with them lifted: constrained,
// no entity is signs alone, and one over several lines is a block of them; lifted, some
// break each rule, so the checks can fail.
#include "core/error.h"
#include "tests/decode-fixtures.h"
#include "tests/ingest-fixtures.h"
#include "tests/test.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    int decoded, items, concerned, broken;
} tally;

// What check says of an entity (its value and its box's height): -1 the rule does not
// concern it, 0 it keeps the rule, 1 it breaks it.
typedef int (*entity_check)(const char *value, double height);

// Eight random models of corpus list the entities of the page's n lines, constrained
// into t[0] and lifted into t[1]; the constrained ones that break the rule are printed.
static int tally_entities(const char *const *lines, int n, const char *corpus, entity_check check,
                          tally t[2]) {
    ds_fx_decode f;
    DS_CHECK(ds_fx_decode_open(&f) == 0);
    ds_doc *doc; // lines 20 pt apart, 11 pt type, all at one margin
    DS_CHECK_INT_EQ(ds_fx_text_doc(lines, n, f.cfg.img_size, &doc), 0);
    memset(t, 0, 2 * sizeof *t);
    for (int seed = 1; seed <= 8; seed++) {
        DS_CHECK(ds_fx_decode_model(&f, corpus, 320, (uint64_t)seed) == 0);
        for (int lifted = 0; lifted < 2; lifted++) {
            ds_extractor_set_opts(f.x,
                                  &(ds_decode_opts){.spans_only = 1, .no_type_constraint = lifted});
            json_t *out = NULL;
            if (ds_extractor_doc(f.x, doc, "form_entities", &out) == 0) {
                t[lifted].decoded++;
                const char *key;
                json_t *list;
                json_object_foreach(json_object_get(out, "fields"), key, list) {
                    size_t i;
                    json_t *it;
                    json_array_foreach(list, i, it) {
                        const char *v = json_string_value(json_object_get(it, "value"));
                        json_t *box = json_object_get(it, "box");
                        double h = json_number_value(json_array_get(box, 3)) -
                                   json_number_value(json_array_get(box, 1));
                        int r = v ? check(v, h) : -1;
                        t[lifted].items++;
                        t[lifted].concerned += r >= 0;
                        t[lifted].broken += r == 1;
                        if (!lifted && r == 1) printf("  seed %d: %s \"%s\"\n", seed, key, v);
                    }
                }
            }
            json_decref(out);
        }
    }
    ds_doc_free(doc);
    ds_fx_decode_close(&f);
    return 0;
}

// Signs alone: no ASCII letter or digit (the page below has no other script).
static int signs_alone(const char *s, double height) {
    (void)height;
    for (; *s; s++)
        if (isalnum((unsigned char)*s)) return 0;
    return 1;
}

DS_TEST(form_entities_not_signs_alone) {
    static const char *form[] = {"| ; . :",
                                 "Name : John Smith |",
                                 ". . . — —",
                                 "“ Date : 12/03/2024 ”",
                                 "| | Remarks : none ;",
                                 "— : . |"};
    tally t[2];
    DS_CHECK(tally_entities(form, 6, "Name Date Remarks John Smith", signs_alone, t) == 0);
    printf("  8 random models: %d decoded, %d items, %d of them signs alone; with the type "
           "constraints lifted %d items, %d signs alone\n",
           t[0].decoded, t[0].items, t[0].broken, t[1].items, t[1].broken);
    return t[0].decoded != 8 || t[0].items < 3 || t[0].broken != 0 || t[1].broken == 0;
}

static const char *const margin_form[] = {
    "Name : John Smith Date : 12/03/2024",   "Address : 12 Long Road Springfield",
    "Remarks : none given here today",       "Signature Phone Number Email Fax",
    "Total Items Received Checked Approved", "Comments : the goods arrived late",
};

// An entity over several lines (taller than one) that does not start at a line's first
// word wraps a line's end into the next line's start: no block. Each line's first word
// stands nowhere else on the page.
static int wrapped(const char *s, double height) {
    if (height < 15) return -1; // one line
    for (int l = 0; l < 6; l++) {
        size_t n = strcspn(margin_form[l], " ");
        if (!strncmp(s, margin_form[l], n) && (s[n] == ' ' || !s[n])) return 0;
    }
    return 1;
}

DS_TEST(form_entities_blocks_of_lines) {
    tally t[2];
    DS_CHECK(tally_entities(margin_form, 6, "Name Address Remarks Total Comments", wrapped, t) ==
             0);
    printf("  8 random models: %d decoded, %d items, %d on several lines, %d of them wrapped "
           "from inside a line; with the type constraints lifted %d items, %d on several "
           "lines, %d wrapped\n",
           t[0].decoded, t[0].items, t[0].concerned, t[0].broken, t[1].items, t[1].concerned,
           t[1].broken);
    return t[0].decoded != 8 || t[0].concerned == 0 || t[0].broken != 0 || t[1].broken == 0;
}
