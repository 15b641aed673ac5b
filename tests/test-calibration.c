// test-calibration.c: fitting confidences to how often values were right.
// - pool-adjacent-violators worked by hand on eight values;
// - on 20,000 values whose chance of being right is raw^2 ("span") and
//   1 - raw ("generated": the model's raw figure means the opposite), each
//   kind's curve comes within 0.05 of the truth (a step function of steps of at
//   least 10 values) and never falls;
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

DS_TEST(calibration_pav_by_hand) {
    // raw (values, right): 0.1 (10, 2), 0.2 (10, 1), 0.3 (4, 2), 0.5 (10, 6), 0.9 (10, 10),
    // 0.95 (5, 5), 0.97 (3, 1).
    // PAV: 0.2's 1/10 < 0.1's 2/10: pooled, 3/20. 0.3 2/4, 0.5 6/10 rise. 0.95 ties 0.9:
    // pooled, 15/15; 0.97's 1/3 falls: pooled, 16/18. The 0.3 block (4 < 10 values) joins
    // its right neighbour: 8/14. Steps: <= 0.2 3/20, <= 0.5 8/14, <= 1 16/18; smoothed
    // (r + 1) / (n + 2): 4/22, 9/16, 17/20.
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
    const long want_n[3] = {20, 14, 18};
    DS_CHECK_INT_EQ(pooled->n_steps, 3);
    for (int k = 0; k < 3; k++)
        DS_CHECK(fabsf(pooled->steps[k].raw_hi - want_hi[k]) < 1e-6 &&
                 fabsf(pooled->steps[k].p - want_p[k]) < 1e-6 && pooled->steps[k].n == want_n[k]);
    DS_CHECK(fabs(ds_calib_apply(&c, "*", 0.35) - 9 / 16.) < 1e-6);
    DS_CHECK(fabs(ds_calib_apply(&c, "*", 0.2) - 4 / 22.) < 1e-6);
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
    FILE *f = fopen(path, "w");
    fputs("{\"docseek_calibration\": 1, \"curves\": {\"span\": {\"values\": 3, "
          "\"steps (raw up to, right share, values)\": [[0.5, 0.9, 2], [0.4, 0.95, 1]]}}}",
          f);
    fclose(f);
    DS_CHECK_INT_EQ(ds_calib_load(path, &back), DS_E_FORMAT);
    DS_CHECK(strstr(ds_errmsg(), "step 1") != NULL);
    f = fopen(path, "w");
    fputs("{\"curves\": {}}", f);
    fclose(f);
    DS_CHECK_INT_EQ(ds_calib_load(path, &back), DS_E_FORMAT);
    DS_CHECK(strstr(ds_errmsg(), "not a docseek calibration") != NULL);
    DS_CHECK_INT_EQ(ds_calib_load("/nonexistent/calib.json", &back), DS_E_NOENT);
    DS_CHECK_INT_EQ(ds_calib_fit(v, 0, "nothing", &back), DS_E_INVAL);
    return 0;
}
