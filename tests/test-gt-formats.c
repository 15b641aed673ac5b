// test-gt-formats.c: the public-format readers. On ../shared/data (skipped
// with a line when it is absent) each reader's counts are checked against
// counts this test takes itself from the raw files, and the truth written as
// a prediction (--write-truth) must score exactly 1.0. CORD has no data here:
// three tiny Donut-style fixtures with F1 worked out by hand. Bad input to
// every reader must give a clear error.
#include "tests/test.h"
#include "core/error.h"
#include "samples/eval.h"
#include "samples/gt-formats.h"

#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DS_DATA DS_SOURCE_DIR "/../shared/data"

static int have_data(const char *sub) {
    struct stat st;
    char p[600];
    snprintf(p, sizeof p, "%s/%s", DS_DATA, sub);
    if (stat(p, &st) == 0) return 1;
    printf("  SKIP: %s not found (the real data sets live beside the project)\n", p);
    return 0;
}

static int write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f) return 1;
    fputs(text, f);
    return fclose(f) != 0;
}

static long n_values(const ds_eval_set *s, const char *field) {
    long n = 0;
    for (int i = 0; i < s->n_docs; i++)
        for (int k = 0; k < s->docs[i].n_fields; k++)
            if (!field || !strcmp(s->docs[i].fields[k].name, field))
                n += s->docs[i].fields[k].n_values;
    return n;
}

// Writes the truth as predictions, reads them back and scores them: must be exactly 1.0.
static int oracle(const ds_eval_set *truth, const char *name, ds_eval_report *r) {
    char path[700];
    snprintf(path, sizeof path, "%s/%s-truth.jsonl", ds_test_tmpdir(), name);
    ds_eval_preds preds;
    int rc = ds_gt_write_truth(truth, path);
    if (!rc) rc = ds_eval_preds_load(path, truth, &preds);
    if (!rc) rc = ds_eval_score(truth, &preds, NULL, r);
    if (rc) {
        fprintf(stderr, "  %s\n", ds_errmsg());
        return 1;
    }
    ds_eval_preds_free(&preds);
    double p, rec, f1;
    ds_eval_prf(r->overall, &p, &rec, &f1);
    printf("  %s oracle: TP %ld FP %ld FN %ld  P %.4f R %.4f F1 %.4f over %d documents\n", name,
           r->overall.tp, r->overall.fp, r->overall.fn, p, rec, f1, r->n_docs);
    return !(f1 == 1.0 && r->overall.fp == 0 && r->overall.fn == 0 && r->n_predicted == r->n_docs);
}

DS_TEST(gt_sroie_oracle) {
    if (!have_data("sroie-dev")) return 0;
    // independent count: every key/*.json, its keys and the non-empty values
    DIR *d = opendir(DS_DATA "/sroie-dev/key");
    DS_CHECK(d != NULL);
    int docs = 0, keys = 0, nonempty = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strstr(e->d_name, ".json")) continue;
        char p[700];
        snprintf(p, sizeof p, "%s/sroie-dev/key/%s", DS_DATA, e->d_name);
        json_t *j = json_load_file(p, 0, NULL);
        DS_CHECK(j != NULL);
        const char *k;
        json_t *v;
        json_object_foreach(j, k, v) {
            keys++;
            nonempty += json_string_length(v) > 0;
        }
        docs++;
        json_decref(j);
    }
    closedir(d);
    printf("  raw files: %d receipts, %d fields, %d with a value\n", docs, keys, nonempty);
    ds_eval_set truth;
    int rc = ds_gt_load(DS_EVAL_SROIE, DS_DATA "/sroie-dev", NULL, &truth);
    if (rc) fprintf(stderr, "  %s\n", ds_errmsg());
    DS_CHECK_INT_EQ(rc, 0);
    printf("  reader: %d receipts, %ld true values, %d with their image\n", truth.n_docs,
           n_values(&truth, NULL), truth.docs[0].doc_path ? truth.n_docs : 0);
    DS_CHECK(docs == 40 && keys == 160 && truth.n_docs == docs);
    DS_CHECK_INT_EQ(n_values(&truth, NULL), nonempty);
    for (int i = 0; i < truth.n_docs; i++) DS_CHECK(truth.docs[i].doc_path != NULL);
    ds_eval_report r;
    int bad = oracle(&truth, "sroie", &r);
    DS_CHECK_INT_EQ(r.overall.tp, nonempty);
    ds_eval_report_free(&r);
    ds_eval_set_free(&truth);
    return bad;
}

// FUNSD entities scored by the reader: label question/answer/header and text that is not
// only white space; links: question->answer pairs of ids (listed on both ends: once).
static int has_text(const char *s) {
    for (; *s; s++)
        if (!isspace((unsigned char)*s)) return 1;
    return 0;
}

DS_TEST(gt_funsd_oracle) {
    if (!have_data("funsd-dev")) return 0;
    static const char *labels[4] = {"question", "answer", "header", "other"};
    long raw[4] = {0}, scored[4] = {0}, links = 0;
    int forms = 0;
    DIR *d = opendir(DS_DATA "/funsd-dev/annotations");
    DS_CHECK(d != NULL);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strstr(e->d_name, ".json")) continue;
        char p[700];
        snprintf(p, sizeof p, "%s/funsd-dev/annotations/%s", DS_DATA, e->d_name);
        json_t *j = json_load_file(p, 0, NULL), *form = json_object_get(j, "form"), *en;
        DS_CHECK(json_is_array(form));
        size_t i, n = json_array_size(form);
        const char **lab = calloc(n + 1, sizeof *lab), **txt = calloc(n + 1, sizeof *txt);
        json_array_foreach(form, i, en) {
            json_int_t id = json_integer_value(json_object_get(en, "id"));
            DS_CHECK(id >= 0 && (size_t)id < n); // FUNSD ids are 0..n-1
            lab[id] = json_string_value(json_object_get(en, "label"));
            txt[id] = json_string_value(json_object_get(en, "text"));
            for (int l = 0; l < 4; l++)
                if (!strcmp(lab[id], labels[l])) raw[l]++, scored[l] += l < 3 && has_text(txt[id]);
        }
        char *seen = calloc(n * n + 1, 1);
        json_array_foreach(form, i, en) {
            size_t k;
            json_t *l;
            json_array_foreach(json_object_get(en, "linking"), k, l) {
                json_int_t a = json_integer_value(json_array_get(l, 0));
                json_int_t b = json_integer_value(json_array_get(l, 1));
                if (!strcmp(lab[a], "answer") && !strcmp(lab[b], "question")) {
                    json_int_t t = a;
                    a = b, b = t;
                }
                if (strcmp(lab[a], "question") || strcmp(lab[b], "answer") ||
                    seen[a * (json_int_t)n + b])
                    continue;
                seen[a * (json_int_t)n + b] = 1;
                links += has_text(txt[a]) && has_text(txt[b]);
            }
        }
        free(seen);
        free(lab);
        free(txt);
        json_decref(j);
        forms++;
    }
    closedir(d);
    printf("  raw files: %d forms; entities question %ld, answer %ld, header %ld, other %ld\n",
           forms, raw[0], raw[1], raw[2], raw[3]);
    printf("  scored (text not empty): question %ld, answer %ld, header %ld; q->a links %ld\n",
           scored[0], scored[1], scored[2], links);
    ds_eval_set truth;
    int rc = ds_gt_load(DS_EVAL_FUNSD, DS_DATA "/funsd-dev", NULL, &truth);
    if (rc) fprintf(stderr, "  %s\n", ds_errmsg());
    DS_CHECK_INT_EQ(rc, 0);
    DS_CHECK(forms == 20 && truth.n_docs == 20);
    for (int l = 0; l < 3; l++) DS_CHECK_INT_EQ(n_values(&truth, labels[l]), scored[l]);
    DS_CHECK_INT_EQ(n_values(&truth, "links"), links);
    ds_eval_report r;
    int bad = oracle(&truth, "funsd", &r);
    // the truth's boxes written as predictions: every entity grounded (pixels on pixels)
    printf("  funsd oracle grounding: %ld of %ld\n", r.n_grounded_ok, r.n_grounded);
    DS_CHECK_INT_EQ(r.n_grounded, r.overall.tp);
    DS_CHECK_INT_EQ(r.n_grounded_ok, r.n_grounded);
    double p, rec, f1;
    ds_eval_prf(r.aux_counts, &p, &rec, &f1);
    printf("  funsd oracle linking: TP %ld FP %ld FN %ld F1 %.4f\n", r.aux_counts.tp,
           r.aux_counts.fp, r.aux_counts.fn, f1);
    bad += f1 != 1.0 || r.aux_counts.tp != links;
    DS_CHECK_INT_EQ(r.overall.tp, scored[0] + scored[1] + scored[2]);
    ds_eval_report_free(&r);
    ds_eval_set_free(&truth);
    return bad;
}

DS_TEST(gt_kleister_oracle) {
    if (!have_data("kleister-nda-dev")) return 0;
    // independent count: lines of labels.tsv and key=value pairs per key
    FILE *f = fopen(DS_DATA "/kleister-nda-dev/labels.tsv", "r");
    DS_CHECK(f != NULL);
    static const char *keys[4] = {"party", "effective_date", "jurisdiction", "term"};
    long per_key[4] = {0};
    int docs = 0;
    char line[8192];
    while (fgets(line, sizeof line, f)) {
        char *tab = strchr(line, '\t');
        if (!tab) continue;
        docs++;
        for (char *t = strtok(tab + 1, " \n"); t; t = strtok(NULL, " \n"))
            for (int k = 0; k < 4; k++)
                if (!strncmp(t, keys[k], strlen(keys[k])) && t[strlen(keys[k])] == '=')
                    per_key[k]++;
    }
    fclose(f);
    printf("  raw file: %d documents; party %ld, effective_date %ld, jurisdiction %ld, term %ld\n",
           docs, per_key[0], per_key[1], per_key[2], per_key[3]);
    ds_eval_set truth;
    int rc = ds_gt_load(DS_EVAL_KLEISTER, DS_DATA "/kleister-nda-dev", NULL, &truth);
    if (rc) fprintf(stderr, "  %s\n", ds_errmsg());
    DS_CHECK_INT_EQ(rc, 0);
    DS_CHECK(docs == 20 && truth.n_docs == 20);
    for (int k = 0; k < 4; k++) DS_CHECK_INT_EQ(n_values(&truth, keys[k]), per_key[k]);
    for (int i = 0; i < truth.n_docs; i++) DS_CHECK(truth.docs[i].doc_path != NULL);
    ds_eval_report r;
    int bad = oracle(&truth, "kleister", &r);
    ds_eval_report_free(&r);
    // the metric upper-cases and reads '_' as a space: "nike inc." (as "parties", the contract
    // schema's name) matches "Nike_Inc." of the first document; every other value is missed:
    // TP 1, FP 0, FN = all true values - 1
    ds_eval_preds preds = {0};
    json_t *line0 =
        json_pack("{s:s, s:{s:[s]}}", "id", truth.docs[0].id, "fields", "parties", "nike inc.");
    rc = ds_eval_preds_add(&preds, &truth, line0, "test");
    json_decref(line0);
    DS_CHECK_INT_EQ(rc, 0);
    DS_CHECK_INT_EQ(ds_eval_score(&truth, &preds, NULL, &r), 0);
    printf("  'nike inc.' vs %s: TP %ld FP %ld FN %ld (want 1, 0, %ld)\n", truth.docs[0].id,
           r.overall.tp, r.overall.fp, r.overall.fn, n_values(&truth, NULL) - 1);
    bad += r.overall.tp != 1 || r.overall.fp != 0 || r.overall.fn != n_values(&truth, NULL) - 1;
    ds_eval_report_free(&r);
    ds_eval_preds_free(&preds);
    ds_eval_set_free(&truth);
    return bad;
}

// Three Donut-style receipts: a gt_parse, a "ground_truth" string, numbers and empty values.
DS_TEST(gt_cord_fixtures) {
    char dir[600], p[700];
    snprintf(dir, sizeof dir, "%s/cord", ds_test_tmpdir());
    mkdir(dir, 0755);
    snprintf(p, sizeof p, "%s/r1.json", dir);
    write_file(p, "{\"gt_parse\": {\"menu\": [{\"nm\": \"Latte\", \"cnt\": \"2\", \"price\": "
                  "\"9.00\"}, {\"nm\": \"Bagel\", \"cnt\": \"1\", \"price\": \"3.50\"}],"
                  " \"total\": {\"total_price\": \"12.50\"}}}");
    snprintf(p, sizeof p, "%s/r2.json", dir);
    write_file(p,
               "{\"ground_truth\": \"{\\\"gt_parse\\\": {\\\"menu\\\": {\\\"nm\\\": \\\"Tea\\\","
               " \\\"price\\\": \\\"2.00\\\"}, \\\"total\\\": {\\\"total_price\\\": \\\"2.00\\\","
               " \\\"cashprice\\\": \\\"5.00\\\"}}}\"}");
    snprintf(p, sizeof p, "%s/r3.json", dir);
    write_file(p, "{\"gt_parse\": {\"menu\": [{\"nm\": \"Soup \", \"price\": 4}],"
                  " \"sub_total\": {\"subtotal_price\": \"\", \"tax\": 0}}}");
    ds_eval_set truth;
    int rc = ds_gt_load(DS_EVAL_CORD, dir, NULL, &truth);
    if (rc) fprintf(stderr, "  %s\n", ds_errmsg());
    DS_CHECK_INT_EQ(rc, 0);
    // pairs: r1 menu.nm x2, menu.cnt x2, menu.price x2, total.total_price = 7; r2 4;
    // r3 menu.nm, menu.price ("4"); "" and 0 are dropped as Donut's normalize_dict does = 2
    printf("  %d receipts, %ld (key path, value) pairs (want 3, 13)\n", truth.n_docs,
           n_values(&truth, NULL));
    DS_CHECK(truth.n_docs == 3 && n_values(&truth, NULL) == 13);
    ds_eval_report r;
    int bad = oracle(&truth, "cord", &r);
    ds_eval_report_free(&r);
    // r1: cnt {2, 2} vs {2, 1}: TP 1, FP 1, FN 1; 5 more TP -> TP 6 FP 1 FN 1
    // r2: no cashprice -> TP 3, FN 1. r3: "Soup" = "Soup " after strip, "4" = 4 -> TP 2
    // total TP 11, FP 1, FN 2: F1 = 22 / 25 = 0.88 (Donut: tp / (tp + (fp + fn) / 2))
    snprintf(p, sizeof p, "%s/cord-preds.jsonl", ds_test_tmpdir());
    write_file(p,
               "{\"id\": \"r1\", \"parse\": {\"menu\": [{\"nm\": \"Latte\", \"cnt\": \"2\","
               " \"price\": \"9.00\"}, {\"nm\": \"Bagel\", \"cnt\": \"2\", \"price\": \"3.50\"}],"
               " \"total\": {\"total_price\": \"12.50\"}}}\n"
               "{\"id\": \"r2\", \"parse\": {\"menu\": {\"nm\": \"Tea\", \"price\": \"2.00\"},"
               " \"total\": {\"total_price\": \"2.00\"}}}\n"
               "{\"id\": \"r3\", \"parse\": {\"menu\": [{\"nm\": \"Soup\", \"price\": \"4\"}]}}\n");
    ds_eval_preds preds;
    rc = ds_eval_preds_load(p, &truth, &preds);
    if (!rc) rc = ds_eval_score(&truth, &preds, NULL, &r);
    DS_CHECK_INT_EQ(rc, 0);
    double pr, rec, f1;
    ds_eval_prf(r.overall, &pr, &rec, &f1);
    printf("  predictions: TP %ld FP %ld FN %ld F1 %.4f (want 11, 1, 2, 0.88)\n", r.overall.tp,
           r.overall.fp, r.overall.fn, f1);
    bad += r.overall.tp != 11 || r.overall.fp != 1 || r.overall.fn != 2 || fabs(f1 - 0.88) > 1e-12;
    ds_eval_report_free(&r);
    ds_eval_preds_free(&preds);
    ds_eval_set_free(&truth);
    // Donut's docstring example: menu.name cake, juice; menu.count 2, 1
    json_t *tree = json_loads("{\"menu\": [{\"name\": [\"cake\"], \"count\": [\"2\"]},"
                              " {\"name\": [\"juice\"], \"count\": [\"1\"]}]}",
                              0, NULL),
           *fields = json_object();
    DS_CHECK_INT_EQ(ds_gt_cord_flatten(tree, fields), 0);
    char *dump = json_dumps(fields, JSON_COMPACT);
    printf("  flatten: %s\n", dump);
    bad += strcmp(dump, "{\"menu.name\":[\"cake\",\"juice\"],\"menu.count\":[\"2\",\"1\"]}") != 0;
    free(dump);
    json_decref(tree);
    json_decref(fields);
    return bad;
}

DS_TEST(gt_bad_input) {
    char base[600], p[1000];
    snprintf(base, sizeof base, "%s/gt-bad", ds_test_tmpdir());
    mkdir(base, 0755);
    int bad = 0;
    ds_eval_set s;
    // a missing folder, for every format
    for (int fmt = DS_EVAL_DOCSEEK; fmt <= DS_EVAL_CORD; fmt++) {
        int rc = ds_gt_load((ds_eval_format)fmt, "/nonexistent/set", NULL, &s);
        printf("  %s, no folder -> %s: %s\n", ds_eval_format_name((ds_eval_format)fmt),
               ds_err_name(rc), ds_errmsg());
        bad += rc != DS_E_NOENT;
    }
    // the folder exists but holds nothing of the format
    int rc = ds_gt_load(DS_EVAL_SROIE, base, NULL, &s);
    printf("  sroie, no key/ -> %s: %s\n", ds_err_name(rc), ds_errmsg());
    bad += rc != DS_E_NOENT || !strstr(ds_errmsg(), "key");
    static const struct {
        ds_eval_format fmt;
        const char *file, *text, *needle;
    } cases[] = {
        {DS_EVAL_KLEISTER, "labels.tsv", "a.pdf\tparty=A\nb.pdf party=B\n", "labels.tsv:2"},
        {DS_EVAL_KLEISTER, "labels.tsv", "a.pdf\tparty=A colour=red\n", "unknown key 'colour'"},
        {DS_EVAL_KLEISTER, "labels.tsv", "a.pdf\tparty\n", "'party' is not key=value"},
        {DS_EVAL_SROIE, "key/1.json", "{\"company\": \"A\", \"colour\": \"red\"}",
         "unknown field 'colour'"},
        {DS_EVAL_FUNSD, "annotations/1.json",
         "{\"form\": [{\"id\": 0, \"text\": \"A\", \"label\": \"title\", \"box\": [0,0,1,1]}]}",
         "entity 0 needs"},
        {DS_EVAL_FUNSD, "annotations/1.json",
         "{\"form\": [{\"id\": 0, \"text\": \"A\", \"label\": \"question\", \"box\": [0,0,1,1],"
         " \"linking\": [[0, 7]]}]}",
         "link 0 is not"},
        {DS_EVAL_CORD, "1.json", "{\"parse\": {}}", "needs \"gt_parse\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char dir[700];
        snprintf(dir, sizeof dir, "%s/case%zu", base, i);
        mkdir(dir, 0755);
        snprintf(p, sizeof p, "%s/key", dir);
        mkdir(p, 0755);
        snprintf(p, sizeof p, "%s/annotations", dir);
        mkdir(p, 0755);
        snprintf(p, sizeof p, "%s/%s", dir, cases[i].file);
        write_file(p, cases[i].text);
        rc = ds_gt_load(cases[i].fmt, dir, NULL, &s);
        printf("  %s case %zu -> %s: %s\n", ds_eval_format_name(cases[i].fmt), i, ds_err_name(rc),
               ds_errmsg());
        bad += rc != DS_E_FORMAT || !strstr(ds_errmsg(), cases[i].needle);
    }
    // predictions in a public format's shape
    snprintf(p, sizeof p, "%s/case4/annotations/1.json", base);
    write_file(p, "{\"form\": [{\"id\": 0, \"text\": \"A\", \"label\": \"question\", \"box\": "
                  "[0,0,1,1]}]}");
    snprintf(p, sizeof p, "%s/case4", base);
    DS_CHECK_INT_EQ(ds_gt_load(DS_EVAL_FUNSD, p, NULL, &s), 0);
    static const struct {
        const char *json, *needle;
    } preds[] = {
        {"{\"id\": \"1\", \"entities\": [{\"text\": \"A\", \"label\": \"title\"}]}", "entity 0"},
        {"{\"id\": \"1\", \"fields\": {}}", "needs \"entities\""},
        {"{\"id\": \"1\", \"entities\": [], \"links\": [[\"A\"]]}", "link 0 must be"},
        {"{\"id\": \"1\", \"entities\": [{\"text\": \"A\", \"label\": \"question\", \"box\": [0, "
         "1]}]}",
         "\"box\" must be"}, // an entity's box is read, in the image's pixels
    };
    for (size_t i = 0; i < sizeof preds / sizeof *preds; i++) {
        ds_eval_preds pr = {0};
        json_t *j = json_loads(preds[i].json, 0, NULL);
        rc = ds_eval_preds_add(&pr, &s, j, "funsd.jsonl:1");
        json_decref(j);
        ds_eval_preds_free(&pr);
        printf("  funsd prediction %zu -> %s: %s\n", i, ds_err_name(rc), ds_errmsg());
        bad += rc != DS_E_FORMAT || !strstr(ds_errmsg(), preds[i].needle) ||
               !strstr(ds_errmsg(), "funsd.jsonl:1");
    }
    ds_eval_set_free(&s);
    return bad;
}
