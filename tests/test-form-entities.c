// test-form-entities.c: a form read as entity lists (samples/form-entities.h):
// lists sort into reading order with their boxes, a prediction becomes FUNSD's
// entities with each answer linked to the question its layout gives it, and
// FUNSD's truth becomes docseek truth the sequence builder points with.
#include "core/error.h"
#include "samples/form-entities.h"
#include "tests/test.h"
#include "train/dataset.h"

#include <jansson.h>
#include <string.h>
#include <sys/stat.h>

#define DS_DATA DS_SOURCE_DIR "/../shared/data"

// {"value", "page": 1, "box"} as the decoder writes a span
static json_t *span(const char *text, double x0, double y0, double x1, double y1) {
    return json_pack("{s:s, s:i, s:[f, f, f, f]}", "value", text, "page", 1, "box", x0, y0, x1, y1);
}

static int has_link(const json_t *links, const char *q, const char *a) {
    size_t i;
    json_t *l;
    json_array_foreach(links, i, l) {
        if (!strcmp(json_string_value(json_array_get(l, 0)), q) &&
            !strcmp(json_string_value(json_array_get(l, 1)), a))
            return 1;
    }
    return 0;
}

DS_TEST(form_entities_links_by_layout) {
    // DATE: and TO: with answers right of them; a column head "Brand" with its answer
    // below; a second column's "Cost" whose answer is right of it on the DATE line;
    // an answer far below everything (no question); "SALEM" must not take "TO:"
    // although TO: is nearer in height, because their columns do not overlap.
    json_t *pred =
        json_pack("{s:s, s:{s:[o], s:[o, o, o, o], s:[o, o, o, o, o]}}", "doc_type",
                  "form_entities", "fields", "headers", span("MEMORANDUM", 250, 40, 360, 55),
                  "questions", span("DATE:", 50, 100, 90, 110), span("TO:", 50, 130, 75, 140),
                  span("Brand", 300, 160, 340, 170), span("Cost", 420, 100, 450, 110), "answers",
                  span("4/19/74", 120, 100, 170, 110), span("John Smith", 120, 130, 190, 140),
                  span("SALEM", 300, 175, 345, 185), span("$12.50", 470, 100, 510, 110),
                  span("770205964", 400, 700, 480, 712));
    json_t *out = NULL;
    DS_CHECK_INT_EQ(ds_form_entities_to_funsd(pred, &out), 0);
    const json_t *ents = json_object_get(out, "entities"), *links = json_object_get(out, "links");
    char *shown = json_dumps(links, JSON_COMPACT);
    printf("  %zu entities, links %s\n", json_array_size(ents), shown);
    free(shown);
    int bad = json_array_size(ents) != 10 || json_array_size(links) != 4;
    bad += !has_link(links, "DATE:", "4/19/74") + !has_link(links, "TO:", "John Smith");
    bad += !has_link(links, "Brand", "SALEM") + !has_link(links, "Cost", "$12.50");
    const json_t *first = json_array_get(ents, 0);
    bad += strcmp(json_string_value(json_object_get(first, "label")), "header") != 0;
    bad += json_array_size(json_object_get(first, "box")) != 4;
    json_decref(out);
    json_decref(pred);
    return bad;
}

DS_TEST(form_entities_reading_order) {
    // drawn column by column; read line by line, left to right (the 0.5 pt jitter of
    // a scan's line does not split it), the boxes moving with their values
    json_t *fields = json_pack("{s:[s, s, s, s, s]}", "questions", "b1", "b2", "a1", "a2", "top");
    json_t *boxes =
        json_pack("{s:[{s:i, s:[f, f, f, f]}, {s:i, s:[f, f, f, f]}, {s:i, s:[f, f, f, f]},"
                  " {s:i, s:[f, f, f, f]}, {s:i, s:[f, f, f, f]}]}",
                  "questions", "page", 1, "box", 300.0, 100.5, 340.0, 110.5, "page", 1, "box",
                  300.0, 130.0, 340.0, 140.0, "page", 1, "box", 50.0, 100.0, 90.0, 110.0, "page", 1,
                  "box", 50.0, 130.0, 90.0, 140.0, "page", 1, "box", 200.0, 40.0, 260.0, 52.0);
    ds_form_entities_sort(fields, boxes);
    const json_t *q = json_object_get(fields, "questions");
    const char *want[5] = {"top", "a1", "b1", "a2", "b2"};
    int bad = 0;
    for (size_t i = 0; i < 5; i++) {
        const char *got = json_string_value(json_array_get(q, i));
        printf("  %zu: %s\n", i, got);
        bad += strcmp(got, want[i]) != 0;
    }
    // the box of "b1" moved with it
    const json_t *b1 =
        json_object_get(json_array_get(json_object_get(boxes, "questions"), 2), "box");
    bad += json_number_value(json_array_get(b1, 1)) != 100.5;
    json_decref(fields);
    json_decref(boxes);
    return bad;
}

DS_TEST(form_entities_from_funsd) {
    // "other" and empty entities stay out; the rest land in their list, in reading order
    json_t *ents = json_pack(
        "[{s:s, s:s, s:[i, i, i, i]}, {s:s, s:s, s:[i, i, i, i]}, {s:s, s:s, s:[i, i, i, i]},"
        " {s:s, s:s, s:[i, i, i, i]}, {s:s, s:s, s:[i, i, i, i]}]",
        "text", "Signed", "label", "question", "box", 40, 900, 90, 915, "text", "DATE:", "label",
        "question", "box", 40, 100, 80, 112, "text", "BROWN & WILLIAMSON", "label", "header", "box",
        200, 50, 400, 65, "text", "620745255", "label", "other", "box", 500, 850, 600, 865, "text",
        " ", "label", "answer", "box", 100, 900, 200, 915);
    json_t *t = ds_form_entities_from_funsd(ents);
    DS_CHECK(t != NULL);
    char *shown = json_dumps(json_object_get(t, "fields"), JSON_COMPACT);
    printf("  %s\n", shown);
    free(shown);
    const json_t *f = json_object_get(t, "fields"), *b = json_object_get(t, "boxes");
    const json_t *q = json_object_get(f, "questions");
    int bad = strcmp(json_string_value(json_object_get(t, "doc_type")), "form_entities") != 0;
    bad += json_array_size(q) != 2 || json_array_size(json_object_get(f, "answers")) != 0;
    bad += json_array_size(json_object_get(f, "headers")) != 1;
    bad += q && strcmp(json_string_value(json_array_get(q, 0)), "DATE:") != 0;
    bad += json_array_size(json_object_get(b, "questions")) != 2;
    json_decref(t);
    json_decref(ents);
    return bad;
}

// FUNSD's own forms (when ../shared/data is there) through `--format funsd`: every
// scored entity reaches the truth, and the prepared sequences point at the ones OCR
// spelt near enough.
DS_TEST(dataset_funsd_truth) {
    struct stat st;
    if (stat(DS_DATA "/funsd-dev", &st) != 0) {
        printf("  SKIP: %s not found (the real data sets live beside the project)\n",
               DS_DATA "/funsd-dev");
        return 0;
    }
    const char *dirs[1] = {DS_DATA "/funsd-dev"};
    ds_dataset d;
    DS_CHECK_INT_EQ(ds_dataset_open("funsd", dirs, 1, DS_SOURCE_DIR "/samples/schemas", &d), 0);
    size_t n[3] = {0, 0, 0};
    static const char *lists[3] = {"headers", "questions", "answers"};
    for (int i = 0; i < d.n; i++)
        for (int l = 0; l < 3; l++)
            n[l] +=
                json_array_size(json_object_get(json_object_get(d.truths[i], "fields"), lists[l]));
    printf("  %d forms: %zu headers, %zu questions, %zu answers\n", d.n, n[0], n[1], n[2]);
    // the evaluator's counts (README): 75 headers, 457 questions, 552 answers with text
    int bad = d.n != 20 || n[0] != 75 || n[1] != 457 || n[2] != 552;
    ds_dataset_free(&d);
    return bad;
}
