// calibration.h: confidences a person can read as probabilities. The model's
// raw confidence of a value is the product of its decoding choices'
// probabilities, and what that is worth differs by how the value was found
// (a span pointed at, text generated token by token, a choice, a check box)
// and by how far the documents are from what the model was trained on. A
// calibration maps raw confidence to the share of values that were right, fitted
// on held-out documents with truth: per kind of value, isotonic (monotone) steps
// by pool-adjacent-violators, each step resting on at least DS_CALIB_MIN_STEP
// values, its share smoothed as (right + 1) / (values + 2) and never above a step
// to its right, so a short run of lucky values does not claim certainty. Between
// two steps' mean raw confidences the share is interpolated (centred isotonic
// regression): a step function would give every value in a step one confidence
// and so lose the raw order a reviewer sorts by; the interpolated curve keeps it.
// Beyond the outer steps' means their shares hold, as the fitted values there
// say (falling to 0 at raw 0 below the first mean was tried: it ranked the worst
// values of real scans but misjudged them when fitted on the same kind of
// documents, README "Confidence and calibration"). It lives in a small JSON file;
// one beside a model (models/x.calibration.json beside models/x.safetensors) is
// used by default.
#ifndef DS_CALIBRATION_H
#define DS_CALIBRATION_H

#include <jansson.h>

#include "samples/eval.h"

typedef struct {
    float raw_hi;   // raw confidences up to this (above the previous step's) ...
    float p;        // ... are right this often
    long n;         // values fitted in the step
    float raw_mean; // their mean raw confidence, where p is placed on the curve (< 0:
                    // unknown, a file of version 1: the steps are used as steps)
} ds_calib_step;

typedef struct {
    char kind[12]; // "span", "generated", "choice", "mark", or "*" (all kinds pooled)
    ds_calib_step *steps;
    int n_steps;
    long n_values;
} ds_calib_curve;

// A field whose values below a raw confidence are withheld (output as null, and listed
// under the result's "withheld"): fitted where withholding them raised the fit set's F1.
typedef struct {
    char field[64];    // "doc_type.field", as the extractor names them ("receipt.address")
    float raw_below;   // values with a raw confidence below this are withheld (> 1: all)
    long n_values;     // the field's values in the fit set
    long right, wrong; // ... of which withholding took away these
} ds_calib_withhold;

typedef struct {
    ds_calib_curve *curves;
    int n_curves;
    ds_calib_withhold *withhold; // fields whose unsure values are withheld, or NULL
    int n_withhold;
    char *fitted_on; // what it was fitted on, for people
} ds_calibration;

// A kind gets its own curve from this many values on; fewer use the pooled one.
#define DS_CALIB_MIN_VALUES 10
// A step rests on at least this many values (when the curve has that many).
#define DS_CALIB_MIN_STEP 10

// Fits a calibration to scored values v[0..n) (ds_eval_report.scored). DS_E_INVAL when
// there is nothing to fit.
int ds_calib_fit(const ds_eval_scored *v, long n, const char *fitted_on, ds_calibration *out);
// Adds to c the fields whose unsure values are better withheld, on the F1 of the same
// scored values (overall: the set's counts they are part of). Per field with at least
// DS_CALIB_MIN_VALUES values, the raw threshold that maximises the set's micro F1 (every
// other field at its own), a few rounds over the fields; ties keep the lower threshold,
// and a field that gains nothing withholds nothing. Pessimistic at z > 0: the withheld
// values count as right as often as the upper end of Wilson's interval at z says they
// may be (calibration-withhold.c); z = 0 maximises the fitted set's F1 itself.
int ds_calib_fit_withhold(ds_calibration *c, const ds_eval_scored *v, long n,
                          ds_eval_counts overall, double z);
// eval --fit-calibration's z: one-sided 95%.
#define DS_CALIB_WITHHOLD_Z 1.645
// The raw threshold below which values of doc_type's field are withheld (0: none).
double ds_calib_withhold_below(const ds_calibration *c, const char *doc_type, const char *field);
int ds_calib_save(const ds_calibration *c, const char *path);
// DS_E_NOENT, or DS_E_FORMAT naming what is wrong.
int ds_calib_load(const char *path, ds_calibration *out);
void ds_calib_free(ds_calibration *c);
// The calibrated confidence of a raw one of a value of this kind (the pooled curve for
// a kind without its own; raw when c has no curve at all).
double ds_calib_apply(const ds_calibration *c, const char *kind, double raw);
// Replaces every value's "confidence" in an extraction's "fields" by its calibrated one.
void ds_calib_apply_fields(const ds_calibration *c, json_t *fields);
// An extraction's result ({"doc_type", "fields", ...}) calibrated: values of a field c
// withholds that fall below its threshold move to "withheld" (a list item leaves its
// list; a single value leaves null behind), then every value's "confidence" becomes its
// calibrated one. Raw confidences in, as the extractor writes them.
int ds_calib_apply_result(const ds_calibration *c, json_t *result);
// The calibration a command uses for model_path: opt NULL the file beside the model
// when there is one (*out NULL otherwise), "none" none, else the file opt names.
// *out is malloc'd (free with ds_calib_free then free).
int ds_calib_for_model(const char *model_path, const char *opt, ds_calibration **out);

#endif
