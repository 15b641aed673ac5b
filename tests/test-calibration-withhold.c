// test-calibration-withhold.c: the fields a calibration withholds unsure values of.
// - fitted on four fields (one always wrong, one wrong below a confidence, one always
//   right, one of too few values) at z = 0: the F1 the fit reaches equals the best of
//   every combination of thresholds tried by brute force, the always-wrong field is
//   withheld whole, the always-right one and the small one not at all; pessimistic
//   (z = 1.645) it withholds a subset, the always-wrong field still whole;
// - applied to an extraction: a single value below its field's threshold leaves null and
//   goes to "withheld", a list loses only its unsure items, another type is untouched,
//   confidences are calibrated in both places;
// - saved and loaded the same; a bad entry is refused by name;
// - keyed by the extractor's field names in every format; FUNSD entities keep their
//   confidences through the conversion to FUNSD and back.
#include "core/error.h"
#include "samples/calibration.h"
#include "samples/eval-impl.h"
#include "samples/form-entities.h"
#include "samples/gt-formats.h"
#include "tests/test.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static ds_eval_scored wv(const char *field, float conf, int right) {
    ds_eval_scored s = {.conf = conf, .right = right};
    snprintf(s.kind, sizeof s.kind, "span");
    snprintf(s.field, sizeof s.field, "%s", field);
    return s;
}

static double f1(long tp, long fp, long fn) {
    return 2.0 * (double)tp / (double)(2 * tp + fp + fn);
}

// The set's F1 with values of field f below th[f] withheld (fields by index of names).
static double f1_with(const ds_eval_scored *v, int n, ds_eval_counts all, const char **names,
                      const float *th, int nf) {
    long tp = all.tp, fp = all.fp, fn = all.fn;
    for (int i = 0; i < n; i++)
        for (int f = 0; f < nf; f++)
            if (!strcmp(v[i].field, names[f]) && v[i].conf < th[f]) {
                if (v[i].right)
                    tp--, fn++;
                else
                    fp--;
            }
    return f1(tp, fp, fn);
}

DS_TEST(calibration_withhold_fit) {
    ds_eval_scored v[64];
    int n = 0;
    for (int i = 0; i < 12; i++) v[n++] = wv("receipt.address", 0.04f * (float)i, 0);
    // total: wrong at 0.01, 0.02, 0.05, right at 0.03 and from 0.5 up
    const float tc[12] = {0.01f, 0.02f, 0.03f, 0.05f, 0.5f,  0.6f,
                          0.7f,  0.8f,  0.9f,  0.95f, 0.97f, 1};
    for (int i = 0; i < 12; i++) v[n++] = wv("receipt.total", tc[i], i == 2 || i >= 4);
    for (int i = 0; i < 12; i++) v[n++] = wv("receipt.date", 0.08f * (float)i, 1);
    for (int i = 0; i < 5; i++) v[n++] = wv("receipt.note", 0.1f, 0);
    v[n++] = wv("", 0.0f, 0);       // a field outside overall (FUNSD's links): never withheld
    ds_eval_counts all = {0, 0, 6}; // six true values nobody predicted
    for (int i = 0; i < n; i++) {
        if (!v[i].field[0]) continue;
        all.tp += v[i].right;
        all.fp += !v[i].right;
        all.fn += !v[i].right; // each wrong value stood where a true one was
    }
    ds_calibration c;
    DS_CHECK_INT_EQ(ds_calib_fit(v, n, "by hand", &c), 0);
    DS_CHECK_INT_EQ(ds_calib_fit_withhold(&c, v, n, all, 0), 0);
    const char *names[4] = {"receipt.address", "receipt.total", "receipt.date", "receipt.note"};
    float th[4];
    for (int f = 0; f < 4; f++) th[f] = (float)ds_calib_withhold_below(&c, "receipt", names[f] + 8);
    double got = f1_with(v, n, all, names, th, 4), before = f1(all.tp, all.fp, all.fn);
    // brute force over the three fitted fields' candidate thresholds (note: too few values)
    float cand[3][16];
    int nc[3] = {0, 0, 0};
    for (int f = 0; f < 3; f++) {
        cand[f][nc[f]++] = 0;
        for (int i = 0; i < n; i++)
            if (!strcmp(v[i].field, names[f])) cand[f][nc[f]++] = v[i].conf;
        cand[f][nc[f]++] = 2;
    }
    double best = 0;
    for (int a = 0; a < nc[0]; a++)
        for (int b = 0; b < nc[1]; b++)
            for (int d = 0; d < nc[2]; d++) {
                float t[4] = {cand[0][a], cand[1][b], cand[2][d], 0};
                best = fmax(best, f1_with(v, n, all, names, t, 4));
            }
    printf("  F1 %.4f -> %.4f withheld (brute force best %.4f); below: address %g, total %g, "
           "date %g, note %g\n",
           before, got, best, th[0], th[1], th[2], th[3]);
    DS_CHECK(fabs(got - best) < 1e-12);
    DS_CHECK(got > before);
    DS_CHECK(th[0] > 1);                  // always wrong: all of it
    DS_CHECK(th[1] > 0 && th[1] <= 0.5f); // the wrong low ones, none of the sure ones
    DS_CHECK(th[2] == 0);                 // always right
    DS_CHECK(th[3] == 0);                 // 5 values: too few to judge
    DS_CHECK_INT_EQ(c.n_withhold, 2);
    // pessimistic (eval's z): withholds a subset of that, still every address (12 of 12
    // wrong), and the F1 it reaches is between
    DS_CHECK_INT_EQ(ds_calib_fit_withhold(&c, v, n, all, DS_CALIB_WITHHOLD_Z), 0);
    float tz[4];
    for (int f = 0; f < 4; f++) tz[f] = (float)ds_calib_withhold_below(&c, "receipt", names[f] + 8);
    double got_z = f1_with(v, n, all, names, tz, 4);
    printf("  at z %.3f: F1 %.4f; below: address %g, total %g, date %g, note %g\n",
           DS_CALIB_WITHHOLD_Z, got_z, tz[0], tz[1], tz[2], tz[3]);
    for (int f = 0; f < 4; f++) DS_CHECK(tz[f] <= th[f]);
    DS_CHECK(tz[0] > 1);
    DS_CHECK(got_z > before && got_z <= got);
    ds_calib_free(&c);
    return 0;
}

static json_t *val(const char *text, double conf) {
    return json_pack("{s:s, s:f, s:s}", "value", text, "confidence", conf, "source", "span");
}

DS_TEST(calibration_withhold_apply_save_load) {
    ds_eval_scored v[40];
    int n = 0;
    for (int i = 0; i < 20; i++) v[n++] = wv("receipt.total", 0.05f * (float)i, i >= 10);
    for (int i = 0; i < 20; i++) v[n++] = wv("receipt.items", 0.05f * (float)i, i >= 10);
    ds_eval_counts all = {20, 20, 20};
    ds_calibration c;
    DS_CHECK_INT_EQ(ds_calib_fit(v, n, "by hand", &c), 0);
    DS_CHECK_INT_EQ(ds_calib_fit_withhold(&c, v, n, all, 0), 0);
    double below = ds_calib_withhold_below(&c, "receipt", "total");
    printf("  total and items withheld below %g\n", below);
    DS_CHECK(fabs(below - 0.5) < 1e-6);
    DS_CHECK(ds_calib_withhold_below(&c, "invoice", "total") == 0);
    DS_CHECK(ds_calib_withhold_below(&c, "receipt", "date") == 0);

    json_t *items = json_pack("[o, o]", val("tea", 0.2), val("rice", 0.9));
    json_t *r = json_pack("{s:s, s:{s:o, s:o, s:o}}", "doc_type", "receipt", "fields", "total",
                          val("9.60", 0.1), "date", val("01/02/2018", 0.1), "items", items);
    DS_CHECK_INT_EQ(ds_calib_apply_result(&c, r), 0);
    json_t *fields = json_object_get(r, "fields"), *wh = json_object_get(r, "withheld");
    char *s = json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS);
    printf("  %s\n", s);
    free(s);
    DS_CHECK(json_is_null(json_object_get(fields, "total")));
    DS_CHECK(
        !strcmp(json_string_value(json_object_get(json_object_get(wh, "total"), "value")), "9.60"));
    DS_CHECK(json_is_object(json_object_get(fields, "date"))); // not a withheld field
    DS_CHECK_INT_EQ((int)json_array_size(json_object_get(fields, "items")), 1);
    DS_CHECK(!strcmp(json_string_value(json_object_get(
                         json_array_get(json_object_get(fields, "items"), 0), "value")),
                     "rice"));
    DS_CHECK_INT_EQ((int)json_array_size(json_object_get(wh, "items")), 1);
    // calibrated: 0.9 is among values all right (smoothed 11/12), 0.1 among all wrong (1/12)
    double kept = json_number_value(
        json_object_get(json_array_get(json_object_get(fields, "items"), 0), "confidence"));
    double held = json_number_value(json_object_get(json_object_get(wh, "total"), "confidence"));
    DS_CHECK(fabs(kept - ds_calib_apply(&c, "span", 0.9)) < 1e-3 && kept > 0.8);
    DS_CHECK(fabs(held - ds_calib_apply(&c, "span", 0.1)) < 1e-3 && held < 0.2);
    json_decref(r);
    // another type: nothing withheld, no "withheld"
    r = json_pack("{s:s, s:{s:o}}", "doc_type", "invoice", "fields", "total", val("5", 0.1));
    DS_CHECK_INT_EQ(ds_calib_apply_result(&c, r), 0);
    DS_CHECK(json_is_object(json_object_get(json_object_get(r, "fields"), "total")));
    DS_CHECK(json_object_get(r, "withheld") == NULL);
    json_decref(r);

    char path[600];
    snprintf(path, sizeof path, "%s/withhold.json", ds_test_tmpdir());
    DS_CHECK_INT_EQ(ds_calib_save(&c, path), 0);
    ds_calibration back;
    DS_CHECK_INT_EQ(ds_calib_load(path, &back), 0);
    DS_CHECK_INT_EQ(back.n_withhold, c.n_withhold);
    DS_CHECK(ds_calib_withhold_below(&back, "receipt", "items") ==
             ds_calib_withhold_below(&c, "receipt", "items"));
    DS_CHECK(back.withhold[0].n_values == 20);
    ds_calib_free(&back);
    ds_calib_free(&c);
    FILE *f = fopen(path, "w");
    fputs("{\"docseek_calibration\": 1, \"curves\": {\"*\": {\"values\": 3, "
          "\"steps (raw up to, right share, values)\": [[1, 0.9, 3]]}}, "
          "\"withhold\": {\"total\": {\"raw_below\": 0.5}}}",
          f);
    fclose(f);
    DS_CHECK_INT_EQ(ds_calib_load(path, &back), DS_E_FORMAT);
    DS_CHECK(strstr(ds_errmsg(), "withhold 'total'") != NULL);
    return 0;
}

// Withholding is keyed by the extractor's names, whatever the format's truth calls the
// field; FUNSD's entities keep the confidence the extractor gave them, so the evaluator
// can fit a calibration (and withholding) on forms too.
DS_TEST(calibration_withhold_keys_and_funsd_confidences) {
    char k[64];
    ds_eval_pred_field_key(DS_EVAL_KLEISTER, "contract", "party", k, sizeof k);
    DS_CHECK(!strcmp(k, "contract.parties"));
    ds_eval_pred_field_key(DS_EVAL_FUNSD, "form", "question", k, sizeof k);
    DS_CHECK(!strcmp(k, "form_entities.questions"));
    ds_eval_pred_field_key(DS_EVAL_SROIE, "receipt", "total", k, sizeof k);
    DS_CHECK(!strcmp(k, "receipt.total"));
    json_t *pred = json_pack(
        "{s:s, s:{s:[{s:s, s:i, s:[i, i, i, i], s:f, s:s}], s:[], s:[{s:s, s:i, s:[i, i, i, i]}]}}",
        "doc_type", "form_entities", "fields", "questions", "value", "DATE:", "page", 1, "box", 50,
        100, 90, 110, "confidence", 0.25, "source", "span", "headers", "answers", "value",
        "4/19/74", "page", 1, "box", 120, 100, 170, 110);
    json_t *funsd = NULL, *fields = NULL;
    DS_CHECK_INT_EQ(ds_form_entities_to_funsd(pred, &funsd), 0);
    DS_CHECK_INT_EQ(ds_gt_funsd_pred(funsd, "test", &fields), 0);
    char *s = json_dumps(fields, JSON_COMPACT | JSON_SORT_KEYS);
    printf("  %s\n", s);
    free(s);
    json_t *q = json_array_get(json_object_get(json_object_get(fields, "fields"), "question"), 0);
    DS_CHECK(fabs(json_number_value(json_object_get(q, "confidence")) - 0.25) < 1e-9);
    DS_CHECK(!strcmp(json_string_value(json_object_get(q, "value")), "DATE:"));
    // an entity without a confidence has none, but keeps its box, in FUNSD's pixels
    json_t *a = json_array_get(json_object_get(json_object_get(fields, "fields"), "answer"), 0);
    DS_CHECK(!strcmp(json_string_value(json_object_get(a, "value")), "4/19/74"));
    DS_CHECK(!json_object_get(a, "confidence"));
    DS_CHECK(!strcmp(json_string_value(json_object_get(a, "units")), "pixels"));
    DS_CHECK_INT_EQ((int)json_array_size(json_object_get(a, "box")), 4);
    json_decref(fields);
    json_decref(funsd);
    json_decref(pred);
    return 0;
}
