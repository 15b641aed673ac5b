// test-calibration.c: fitting confidences to how often values were right.
// - pool-adjacent-violators worked by hand on eight values, and the curve
//   interpolated between its steps' mean raw confidences (flat beyond them),
//   so it keeps the raw order where steps would tie; a step whose values all
//   read 0 (FUNSD's) saves and loads;
// - a file of version 1 (steps without means) still loads and maps as steps;
// - on 20,000 values whose chance of being right is raw^2 ("span") and
//   1 - raw ("generated": the model's raw figure means the opposite), each
//   kind's curve comes within 0.05 of the truth (steps of at least 10 values,
//   "generated" one flat step) and never falls;
// - a kind with too few values uses the pooled curve;
// - save and load give the same mapping; bad files are refused by name.
#include "core/error.h"
#include "core/rng.h"
#include "samples/calibration.h"
#include "tests/test.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static ds_eval_scored sv(float conf, const char *kind, int right) {
    ds_eval_scored s = {.conf = conf, .right = right};
    snprintf(s.kind, sizeof s.kind, "%s", kind);
    return s;
}

// Writes json to path and loads it as a calibration.
static int load_text(const char *path, const char *json, ds_calibration *out) {
    FILE *f = fopen(path, "w");
    if (!f) return DS_E_IO;
    fputs(json, f);
    fclose(f);
    return ds_calib_load(path, out);
}

DS_TEST(calibration_pav_by_hand) {
    // raw (values, right): 0.1 (10, 2), 0.2 (10, 1), 0.3 (4, 2), 0.5 (10, 6), 0.9 (10, 10),
    // 0.95 (5, 5), 0.97 (3, 1).
    // PAV: 0.2's 1/10 < 0.1's 2/10: pooled, 3/20. 0.3 2/4, 0.5 6/10 rise. 0.95 ties 0.9:
    // pooled, 15/15; 0.97's 1/3 falls: pooled, 16/18. The 0.3 block (4 < 10 values) joins
    // its right neighbour: 8/14. Steps: <= 0.2 3/20, <= 0.5 8/14, <= 1 16/18; smoothed
    // (r + 1) / (n + 2): 4/22, 9/16, 17/20. Mean raw confidences: (1 + 2) / 20 = 0.15,
    // (1.2 + 5) / 14, (9 + 4.75 + 2.91) / 18.
    const struct {
        float raw;
        int n, right;
    } groups[7] = {{0.1f, 10, 2},  {0.2f, 10, 1}, {0.3f, 4, 2}, {0.5f, 10, 6},
                   {0.9f, 10, 10}, {0.95f, 5, 5}, {0.97f, 3, 1}};
    ds_eval_scored v[64];
    int n = 0;
    for (int g = 0; g < 7; g++)
        for (int i = 0; i < groups[g].n; i++, n++)
            v[n] = sv(groups[g].raw, n % 2 ? "span" : "generated", i < groups[g].right);
    ds_calibration c;
    DS_CHECK_INT_EQ(ds_calib_fit(v, n, "by hand", &c), 0);
    const ds_calib_curve *pooled = &c.curves[0];
    DS_CHECK(!strcmp(pooled->kind, "*"));
    printf("  %d values, %d steps:", n, pooled->n_steps);
    for (int k = 0; k < pooled->n_steps; k++)
        printf(" (<= %.2f: %.4f of %ld)", pooled->steps[k].raw_hi, pooled->steps[k].p,
               pooled->steps[k].n);
    printf("\n");
    const float want_hi[3] = {0.2f, 0.5f, 1.0f}, want_p[3] = {4 / 22.f, 9 / 16.f, 17 / 20.f};
    const float want_mean[3] = {0.15f, 6.2f / 14, 16.66f / 18};
    const long want_n[3] = {20, 14, 18};
    DS_CHECK_INT_EQ(pooled->n_steps, 3);
    for (int k = 0; k < 3; k++)
        DS_CHECK(fabsf(pooled->steps[k].raw_hi - want_hi[k]) < 1e-6 &&
                 fabsf(pooled->steps[k].p - want_p[k]) < 1e-6 && pooled->steps[k].n == want_n[k] &&
                 fabsf(pooled->steps[k].raw_mean - want_mean[k]) < 1e-6);
    // at a step's mean its share; between two means the line between them; beyond, flat
    for (int k = 0; k < 3; k++)
        DS_CHECK(fabs(ds_calib_apply(&c, "*", want_mean[k]) - want_p[k]) < 1e-6);
    double t = (0.35 - want_mean[0]) / (want_mean[1] - want_mean[0]);
    DS_CHECK(fabs(ds_calib_apply(&c, "*", 0.35) - (want_p[0] + t * (want_p[1] - want_p[0]))) <
             1e-6);
    DS_CHECK(fabs(ds_calib_apply(&c, "*", 0.05) - 4 / 22.) < 1e-6);
    DS_CHECK(fabs(ds_calib_apply(&c, "*", 1.0) - 17 / 20.) < 1e-6);
    // raw order kept: between the outer means every larger raw confidence maps higher
    int ties = 0;
    for (double r = 0.16; r < 0.92; r += 0.01)
        ties += !(ds_calib_apply(&c, "*", r + 0.01) > ds_calib_apply(&c, "*", r));
    DS_CHECK_INT_EQ(ties, 0);
    // both kinds have 28 or 29 values: their own curves; an unknown kind gets the pooled one
    DS_CHECK_INT_EQ(c.n_curves, 3);
    DS_CHECK(fabs(ds_calib_apply(&c, "other", 0.99) - 17 / 20.) < 1e-6);
    ds_calib_free(&c);
    // a kind with fewer than DS_CALIB_MIN_VALUES values gets no curve of its own
    v[0] = sv(0.5f, "mark", 1);
    DS_CHECK_INT_EQ(ds_calib_fit(v, n, "by hand", &c), 0);
    int marks = 0;
    for (int i = 0; i < c.n_curves; i++) marks += !strcmp(c.curves[i].kind, "mark");
    DS_CHECK_INT_EQ(marks, 0);
    ds_calib_free(&c);
    return 0;
}

DS_TEST(calibration_fits_known_curves) {
    ds_rng rng;
    ds_rng_seed(&rng, 11);
    enum { N = 20000 };
    static ds_eval_scored v[N];
    for (int i = 0; i < N; i++) {
        float raw = (float)ds_rng_uniform(&rng);
        int gen = i % 2;
        double p = gen ? 1 - raw : raw * raw;
        v[i] = sv(raw, gen ? "generated" : "span", ds_rng_uniform(&rng) < p);
    }
    ds_calibration c;
    DS_CHECK_INT_EQ(ds_calib_fit(v, N, "synthetic", &c), 0);
    DS_CHECK_INT_EQ(c.n_curves, 3); // pooled, span, generated
    double worst_span = 0, worst_gen = 0, last = 0;
    int falls = 0;
    for (double r = 0.05; r < 1; r += 0.05) {
        double ps = ds_calib_apply(&c, "span", r), pg = ds_calib_apply(&c, "generated", r);
        worst_span = fmax(worst_span, fabs(ps - r * r));
        falls += ps < last - 1e-9;
        last = ps;
        // "generated" gets right less often as raw grows: a monotone fit can only flatten
        // it to the mean share (1/2), which is what it must do
        worst_gen = fmax(worst_gen, fabs(pg - 0.5));
    }
    printf("  span: worst |fitted - raw^2| %.4f; generated (right 1 - raw): worst |fitted - 0.5| "
           "%.4f; %d falls\n",
           worst_span, worst_gen, falls);
    DS_CHECK(worst_span < 0.05 && worst_gen < 0.03 && falls == 0);
    // save / load: the same mapping
    char path[600];
    snprintf(path, sizeof path, "%s/calib.json", ds_test_tmpdir());
    DS_CHECK_INT_EQ(ds_calib_save(&c, path), 0);
    ds_calibration back;
    DS_CHECK_INT_EQ(ds_calib_load(path, &back), 0);
    double diff = 0;
    for (double r = 0; r <= 1; r += 0.01)
        diff = fmax(diff, fabs(ds_calib_apply(&c, "span", r) - ds_calib_apply(&back, "span", r)));
    printf("  saved and loaded: worst difference %.2g\n", diff);
    DS_CHECK(diff < 1e-5);
    ds_calib_free(&back);
    ds_calib_free(&c);
    // bad files
    DS_CHECK_INT_EQ(
        load_text(path,
                  "{\"docseek_calibration\": 1, \"curves\": {\"span\": {\"values\": 3, "
                  "\"steps (raw up to, right share, values)\": [[0.5, 0.9, 2], [0.4, 0.95, 1]]}}}",
                  &back),
        DS_E_FORMAT);
    DS_CHECK(strstr(ds_errmsg(), "step 1") != NULL);
    // version 2: a step's mean raw confidence must lie in the step (0.3 is below step 1)
    DS_CHECK_INT_EQ(load_text(path,
                              "{\"docseek_calibration\": 2, \"curves\": {\"span\": {\"values\": 3, "
                              "\"steps (raw up to, right share, values, mean raw)\": "
                              "[[0.5, 0.2, 2, 0.4], [0.9, 0.95, 1, 0.3]]}}}",
                              &back),
                    DS_E_FORMAT);
    DS_CHECK(strstr(ds_errmsg(), "step 1 is not [raw up to, share, values, mean raw]") != NULL);
    // version 1 (written before the means were kept) still loads, and maps as steps
    DS_CHECK_INT_EQ(
        load_text(path,
                  "{\"docseek_calibration\": 1, \"curves\": {\"span\": {\"values\": 30, "
                  "\"steps (raw up to, right share, values)\": [[0.5, 0.2, 10], [1, 0.9, 20]]}}}",
                  &back),
        0);
    DS_CHECK(fabs(ds_calib_apply(&back, "span", 0.1) - 0.2) < 1e-6 &&
             fabs(ds_calib_apply(&back, "span", 0.5) - 0.2) < 1e-6 &&
             fabs(ds_calib_apply(&back, "span", 0.51) - 0.9) < 1e-6 &&
             fabs(ds_calib_apply(&back, "span", 1) - 0.9) < 1e-6);
    ds_calib_free(&back);
    DS_CHECK_INT_EQ(load_text(path, "{\"curves\": {}}", &back), DS_E_FORMAT);
    DS_CHECK(strstr(ds_errmsg(), "not a docseek calibration") != NULL);
    DS_CHECK_INT_EQ(ds_calib_load("/nonexistent/calib.json", &back), DS_E_NOENT);
    DS_CHECK_INT_EQ(ds_calib_fit(v, 0, "nothing", &back), DS_E_INVAL);
    return 0;
}

// FUNSD's raw confidences are products of many small probabilities and read 0.000 as
// written: a step of such values has mean raw 0, and its file must load again.
DS_TEST(calibration_zero_raw_step) {
    ds_eval_scored v[60];
    for (int i = 0; i < 60; i++) v[i] = sv(i < 30 ? 0.0f : 0.5f, "span", i < 30 ? i < 5 : i < 50);
    ds_calibration c, back;
    DS_CHECK_INT_EQ(ds_calib_fit(v, 60, "zeros", &c), 0);
    DS_CHECK_INT_EQ(c.curves[0].n_steps, 2);
    DS_CHECK(c.curves[0].steps[0].raw_mean == 0);
    char path[600];
    snprintf(path, sizeof path, "%s/calib-zero.json", ds_test_tmpdir());
    DS_CHECK_INT_EQ(ds_calib_save(&c, path), 0);
    DS_CHECK_INT_EQ(ds_calib_load(path, &back), 0);
    // 6/32 at raw 0, 21/32 at raw 0.5, halfway between at 0.25
    DS_CHECK(fabs(ds_calib_apply(&back, "span", 0) - 6 / 32.) < 1e-6);
    DS_CHECK(fabs(ds_calib_apply(&back, "span", 0.25) - 27 / 64.) < 1e-6);
    ds_calib_free(&back);
    ds_calib_free(&c);
    return 0;
}
