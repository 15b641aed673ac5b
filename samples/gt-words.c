// gt-words.c: a public set's own words for its scans (gt-words.h).
#include "samples/gt-words.h"
#include "core/error.h"
#include "samples/eval-impl.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ds_gt_words_check(ds_eval_format f) {
    if (f == DS_EVAL_SROIE || f == DS_EVAL_FUNSD) return 0;
    return ds_error(DS_E_UNSUPPORTED,
                    "--set-words: format %s gives no words of its own (sroie and funsd do; "
                    "kleister's PDFs have their text layers)",
                    ds_eval_format_name(f));
}

// ROOT/SUB/NAME.EXT for doc_path ROOT/IMGDIR/NAME.IMGEXT.
static int sibling_path(const char *doc_path, const char *sub, const char *ext, char *out,
                        size_t cap) {
    const char *slash = strrchr(doc_path, '/');
    const char *name = slash ? slash + 1 : doc_path;
    const char *dot = strrchr(name, '.');
    int name_len = dot ? (int)(dot - name) : (int)strlen(name);
    int dir_len = 0; // ROOT: doc_path up to the image folder's slash
    if (slash) {
        const char *p = slash;
        while (p > doc_path && p[-1] != '/') p--;
        dir_len = (int)(p - doc_path);
    }
    int n = snprintf(out, cap, "%.*s%s/%.*s%s", dir_len, doc_path, sub, name_len, name, ext);
    if (n < 0 || (size_t)n >= cap) return ds_error(DS_E_INVAL, "%s: path too long", doc_path);
    return 0;
}

static size_t utf8_chars(const char *s, size_t len) {
    size_t n = 0;
    for (size_t i = 0; i < len; i++) n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

static int by_value(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

// One SROIE row's words (or a FUNSD word's parts): the word spanning characters [a, b)
// of n lies between the points a/n and b/n of the way along the quadrilateral's top and
// bottom edges.
static int sroie_line(ds_given_words *out, const float q[8], const char *text) {
    size_t len = strlen(text), n = utf8_chars(text, len);
    if (n == 0) return 0;
    size_t i = 0;
    while (i < len) {
        while (i < len && isspace((unsigned char)text[i])) i++;
        size_t j = i;
        while (j < len && !isspace((unsigned char)text[j])) j++;
        if (j == i) break;
        float a = (float)utf8_chars(text, i) / (float)n, b = (float)utf8_chars(text, j) / (float)n;
        float xs[4] = {q[0] + a * (q[2] - q[0]), q[0] + b * (q[2] - q[0]), q[6] + a * (q[4] - q[6]),
                       q[6] + b * (q[4] - q[6])};
        float ys[4] = {q[1] + a * (q[3] - q[1]), q[1] + b * (q[3] - q[1]), q[7] + a * (q[5] - q[7]),
                       q[7] + b * (q[5] - q[7])};
        float x0 = xs[0], x1 = xs[0], y0 = ys[0], y1 = ys[0];
        for (int k = 1; k < 4; k++) {
            x0 = fminf(x0, xs[k]), x1 = fmaxf(x1, xs[k]);
            y0 = fminf(y0, ys[k]), y1 = fmaxf(y1, ys[k]);
        }
        int rc = ds_given_words_add(out, 0, text + i, j - i, x0, y0, x1, y1);
        if (rc) return rc;
        i = j;
    }
    return 0;
}

static int read_sroie(const char *path, ds_given_words *out) {
    FILE *f = fopen(path, "r");
    if (!f)
        return ds_error(errno == ENOENT ? DS_E_NOENT : DS_E_IO,
                        "%s: %s (--set-words reads SROIE's DIR/box/NAME.csv)", path,
                        strerror(errno));
    char line[8192];
    float *slopes = NULL;
    int n_lines = 0, rc = 0;
    for (int ln = 1; !rc && fgets(line, sizeof line, f); ln++) {
        char *p = line;
        if (ln == 1 && (unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB &&
            (unsigned char)p[2] == 0xBF)
            p += 3; // a byte-order mark
        p[strcspn(p, "\r\n")] = '\0';
        if (!*p) continue;
        float q[8];
        for (int k = 0; k < 8 && !rc; k++) {
            char *end;
            q[k] = strtof(p, &end);
            if (end == p || *end != ',')
                rc = ds_error(DS_E_FORMAT,
                              "%s:%d: expected 8 coordinates and the text, "
                              "x1,y1,...,x4,y4,text",
                              path, ln);
            p = end + 1;
        }
        if (rc) break;
        rc = sroie_line(out, q, p);
        float dx = q[2] - q[0];
        if (!rc && dx > 0) {
            float *s = realloc(slopes, (size_t)(n_lines + 1) * sizeof *s);
            if (!s)
                rc = ds_error(DS_E_NOMEM, "out of memory");
            else
                slopes = s, slopes[n_lines++] = (q[3] - q[1]) / dx;
        }
    }
    if (!rc && ferror(f)) rc = ds_error(DS_E_IO, "%s: read error", path);
    fclose(f);
    if (!rc && n_lines) {
        qsort(slopes, (size_t)n_lines, sizeof *slopes, by_value);
        out->skew = slopes[n_lines / 2];
    }
    free(slopes);
    return rc;
}

static int read_funsd(const char *path, ds_given_words *out) {
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    if (!root)
        return ds_error(DS_E_FORMAT, "%s:%d: %s (--set-words reads FUNSD's annotations)", path,
                        err.line, err.text);
    const json_t *form = json_object_get(root, "form");
    int rc = json_is_array(form) ? 0 : ds_error(DS_E_FORMAT, "%s: no \"form\" list", path);
    size_t i, k;
    json_t *ent, *w;
    json_array_foreach(form, i, ent) {
        json_array_foreach(json_object_get(ent, "words"), k, w) {
            const char *text = json_string_value(json_object_get(w, "text"));
            const json_t *box = json_object_get(w, "box");
            float b[4];
            int ok = text && json_is_array(box) && json_array_size(box) == 4;
            for (size_t c = 0; ok && c < 4; c++) {
                const json_t *x = json_array_get(box, c); // bounded: kept as a float
                ok = json_is_number(x) && fabs(json_number_value(x)) <= DS_EVAL_MAX_COORD;
                if (ok) b[c] = (float)json_number_value(x);
            }
            if (!ok) {
                rc = ds_error(DS_E_FORMAT,
                              "%s: entity %zu, word %zu: expected {\"text\", \"box\": "
                              "[x0, y0, x1, y1]}",
                              path, i, k);
                break;
            }
            // a word with spaces in it (rare) is split as a SROIE row is: its box is a
            // level quadrilateral
            float q[8] = {b[0], b[1], b[2], b[1], b[2], b[3], b[0], b[3]};
            if ((rc = sroie_line(out, q, text))) break;
        }
        if (rc) break;
    }
    json_decref(root);
    return rc;
}

int ds_gt_words_path(ds_eval_format f, const char *doc_path, char *out, size_t cap) {
    int rc = ds_gt_words_check(f);
    if (rc) return rc;
    return f == DS_EVAL_SROIE ? sibling_path(doc_path, "box", ".csv", out, cap)
                              : sibling_path(doc_path, "annotations", ".json", out, cap);
}

int ds_gt_words_read(ds_eval_format f, const char *doc_path, ds_given_words *out) {
    char path[4096];
    int rc = ds_gt_words_path(f, doc_path, path, sizeof path);
    if (!rc) rc = f == DS_EVAL_SROIE ? read_sroie(path, out) : read_funsd(path, out);
    if (rc) ds_given_words_free(out);
    return rc;
}

int ds_gt_ingest(ds_eval_format f, int set_words, const char *doc_path, const ds_ingest_opts *io,
                 ds_doc **out) {
    *out = NULL;
    if (!set_words) return ds_ingest_file(doc_path, io, out);
    ds_given_words g = {0};
    int rc = ds_gt_words_read(f, doc_path, &g);
    if (rc) return rc;
    ds_ingest_opts o = *io;
    o.given = &g;
    rc = ds_ingest_file(doc_path, &o, out);
    ds_given_words_free(&g);
    return rc;
}
