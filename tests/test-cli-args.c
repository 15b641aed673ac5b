// test-cli-args.c: the command line's number parser (cli/args.c) against each
// value's expected reading: accepted values kept exactly, every bad one refused
// with DS_E_INVAL, a message naming the option, and the output left untouched.
#include "cli/args.h"
#include "core/error.h"
#include "tests/test.h"

#include <string.h>

static int refused(int rc, const char *opt, const char *value) {
    if (rc != DS_E_INVAL || !strstr(ds_errmsg(), opt) || !strstr(ds_errmsg(), value)) {
        fprintf(stderr, "  %s '%s': rc %d, message '%s'\n", opt, value, rc, ds_errmsg());
        return 1;
    }
    return 0;
}

DS_TEST(cli_args_whole_numbers) {
    static const struct {
        const char *s;
        int want;
    } good[] = {{"12", 12}, {"0", 0}, {"64", 64}, {"1e1", 10}, {"+7", 7}, {"0x10", 16}};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        int v = -1;
        DS_CHECK_INT_EQ(ds_cli_int("--n", good[i].s, 0, 64, &v), 0);
        DS_CHECK_INT_EQ(v, good[i].want);
    }
    // empty, leading space, trailing junk, fractions, not a number, beyond the range
    static const char *bad[] = {"",   " 1", "1 ",  "1x",   "2.5",   "nan",    "inf",
                                "-1", "65", "1e2", "-inf", "1e999", "0x1p-3", "--5"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int v = 99;
        if (refused(ds_cli_int("--n", bad[i], 0, 64, &v), "--n", bad[i])) return 1;
        DS_CHECK_INT_EQ(v, 99);
    }
    int64_t w = 0;
    DS_CHECK_INT_EQ(ds_cli_whole("--w", "9007199254740992", 1, DS_CLI_WHOLE_MAX, &w), 0);
    DS_CHECK_INT_EQ(w, DS_CLI_WHOLE_MAX);
    DS_CHECK_INT_EQ(ds_cli_whole("--w", "1e8", 1, DS_CLI_WHOLE_MAX, &w), 0);
    DS_CHECK_INT_EQ(w, 100000000);
    if (refused(ds_cli_whole("--w", "1e30", 1, DS_CLI_WHOLE_MAX, &w), "--w", "1e30")) return 1;
    DS_CHECK_INT_EQ(w, 100000000);
    return 0;
}

DS_TEST(cli_args_real_numbers) {
    float f = -1;
    DS_CHECK_INT_EQ(ds_cli_float("--lr", "3e-4", 0, 1, &f), 0);
    DS_CHECK(f == 3e-4f);
    DS_CHECK_INT_EQ(ds_cli_float("--clip", "0", 0, 0, &f), 0);
    DS_CHECK(f == 0);
    // 0 is not above 0; 1e-50 rounds to 0 as a float and 1e39 to inf: refused, not kept so
    static const char *bad_f[] = {"0", "1e-50", "1e39", "-1e-50", "nan", "inf", "", "1,5"};
    for (size_t i = 0; i < sizeof bad_f / sizeof *bad_f; i++) {
        f = 7;
        if (refused(ds_cli_float("--lr", bad_f[i], 0, 1, &f), "--lr", bad_f[i])) return 1;
        DS_CHECK(f == 7);
    }
    double d = -1;
    DS_CHECK_INT_EQ(ds_cli_real("--dpi", "300", 18, 2400, &d), 0);
    DS_CHECK(d == 300);
    DS_CHECK_INT_EQ(ds_cli_real("--dpi", "18", 18, 2400, &d), 0);
    DS_CHECK(d == 18);
    static const char *bad_d[] = {"17.99", "2400.5", "inf", "nan", "1e9", "300dpi", " 300"};
    for (size_t i = 0; i < sizeof bad_d / sizeof *bad_d; i++) {
        d = 7;
        if (refused(ds_cli_real("--dpi", bad_d[i], 18, 2400, &d), "--dpi", bad_d[i])) return 1;
        DS_CHECK(d == 7);
    }
    return 0;
}

DS_TEST(cli_args_seeds) {
    uint64_t v = 0;
    DS_CHECK_INT_EQ(ds_cli_seed("--seed", "18446744073709551615", &v), 0);
    DS_CHECK(v == UINT64_MAX);
    DS_CHECK_INT_EQ(ds_cli_seed("--seed", "0", &v), 0);
    DS_CHECK(v == 0);
    // one past 2^64 - 1; strtoull would take "-1" as 2^64 - 1 and skip the space
    static const char *bad[] = {"18446744073709551616", "-1", " 1", "+1", "", "abc", "1.5"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        v = 5;
        if (refused(ds_cli_seed("--seed", bad[i], &v), "--seed", bad[i])) return 1;
        DS_CHECK(v == 5);
    }
    return 0;
}
