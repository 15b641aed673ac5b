// args.h: numbers on the command line. Every command reads its numeric options
// through these, so each refuses a bad value the same way, before any work:
// "bad value 'X' for --opt: a whole number from 1 to 64" (ds_errmsg), which the
// command prints and exits 2 on. A value is read whole ("12abc", "" and "nan"
// are refused) and checked as the type it is kept in, so no out-of-range double
// is ever converted to an integer (undefined behaviour) or a float (inf or 0).
#ifndef DS_CLI_ARGS_H
#define DS_CLI_ARGS_H

#include <stdint.h>

#define DS_CLI_INT_MAX   1000000000       // a count or a step number, at most
#define DS_CLI_WHOLE_MAX 9007199254740992 // 2^53: every whole number up to it is a double

// s as a whole number in [lo, hi] into *out; "1e6" is a whole number, "2.5" is not.
int ds_cli_int(const char *opt, const char *s, int lo, int hi, int *out);
int ds_cli_whole(const char *opt, const char *s, int64_t lo, int64_t hi, int64_t *out);
// s as a finite number, > lo (above) or >= lo, into *out (checked as a float: 1e-50
// is 0 there, 1e39 inf); DS_E_INVAL if not.
int ds_cli_float(const char *opt, const char *s, double lo, int above, float *out);
// s as a number in [lo, hi] (finite: lo and hi are) into *out.
int ds_cli_real(const char *opt, const char *s, double lo, double hi, double *out);
// s as a random seed: any whole number from 0 to 2^64 - 1.
int ds_cli_seed(const char *opt, const char *s, uint64_t *out);

#endif
