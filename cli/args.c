// args.c: see args.h.
#include "cli/args.h"
#include "core/error.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

// s as a double, whole: no leading space (strtod skips it), nothing after, not NaN.
// Out of range it is what strtod makes of it (inf, or 0 and the smallest ones).
static int read_double(const char *s, double *out) {
    char *end = NULL;
    if (!*s || strchr(" \t\n\v\f\r", *s)) return -1;
    double v = strtod(s, &end);
    if (*end || isnan(v)) return -1;
    *out = v;
    return 0;
}

int ds_cli_whole(const char *opt, const char *s, int64_t lo, int64_t hi, int64_t *out) {
    double v;
    // compared as doubles: lo and hi are at most 2^53 in size, so exactly so
    if (read_double(s, &v) || v != floor(v) || v < (double)lo || v > (double)hi)
        return ds_error(DS_E_INVAL, "bad value '%s' for %s: a whole number from %lld to %lld", s,
                        opt, (long long)lo, (long long)hi);
    *out = (int64_t)v;
    return 0;
}

int ds_cli_int(const char *opt, const char *s, int lo, int hi, int *out) {
    int64_t v;
    int rc = ds_cli_whole(opt, s, lo, hi, &v);
    if (!rc) *out = (int)v;
    return rc;
}

int ds_cli_float(const char *opt, const char *s, double lo, int above, float *out) {
    double d = 0;
    // kept as a float: one beyond its range (1e39) or that it rounds to 0 (1e-50) is refused
    int ok = !read_double(s, &d) && fabs(d) <= FLT_MAX && (d == 0 || (float)d != 0) &&
             (above ? d > lo : d >= lo);
    if (!ok)
        return ds_error(DS_E_INVAL, "bad value '%s' for %s: a number %s %g", s, opt,
                        above ? "above" : "from", lo);
    *out = (float)d;
    return 0;
}

int ds_cli_real(const char *opt, const char *s, double lo, double hi, double *out) {
    double v;
    if (read_double(s, &v) || v < lo || v > hi) // inf is beyond any hi
        return ds_error(DS_E_INVAL, "bad value '%s' for %s: a number from %.12g to %.12g", s, opt,
                        lo, hi);
    *out = v;
    return 0;
}

int ds_cli_seed(const char *opt, const char *s, uint64_t *out) {
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    // strtoull takes "-1" as 2^64 - 1 and skips leading space: both refused
    if (end == s || *end || errno || strchr(s, '-') || strchr(" \t\n\v\f\r+", *s))
        return ds_error(DS_E_INVAL, "bad value '%s' for %s: a whole number from 0", s, opt);
    *out = v;
    return 0;
}
