// eval-report.c: the three views of a ds_eval_report: a readable table,
// JSON with the same numbers, and an HTML page that shows each wrong field
// beside its page image (rendered with ingest, no OCR) with the predicted box
// in red and the true box in green. Every string in HTML is escaped; pages
// are PNG files beside the HTML, referenced by relative path. It computes no
// score: everything shown comes from the report.
#include "core/error.h"
#include "ingest/ingest.h"
#include "samples/eval.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

// ---- table

// s clipped to about max bytes (never inside a UTF-8 character), "-" for NULL.
static const char *clip(const char *s, char *buf, size_t max) {
    if (!s) return "-";
    size_t n = strlen(s);
    if (n <= max) return s;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80) max--;
    snprintf(buf, max + 4, "%.*s...", (int)max, s);
    return buf;
}

static void row(FILE *f, const char *name, ds_eval_counts c) {
    double p, r, f1;
    ds_eval_prf(c, &p, &r, &f1);
    fprintf(f, "%-36s %7ld %7ld %7ld %9.4f %7.4f %7.4f\n", name, c.tp, c.fp, c.fn, p, r, f1);
}

void ds_eval_print_reliability(FILE *f, const ds_eval_report *r) {
    long n = 0, hi = 0, hi_ok = 0;
    for (int b = 0; b < DS_EVAL_REL_BINS; b++) n += r->rel_n[b];
    if (!n) return;
    fprintf(f, "\nreliability: predicted values by confidence, and how many were right\n");
    fprintf(f, "  %-12s %7s %7s %9s\n", "confidence", "values", "right", "accuracy");
    for (int b = 0; b < DS_EVAL_REL_BINS; b++) {
        if (!r->rel_n[b]) continue;
        double lo = (double)b / DS_EVAL_REL_BINS, up = (double)(b + 1) / DS_EVAL_REL_BINS;
        fprintf(f, "  [%.1f, %.1f%c %7ld %7ld %9.4f\n", lo, up,
                b == DS_EVAL_REL_BINS - 1 ? ']' : ')', r->rel_n[b], r->rel_ok[b],
                (double)r->rel_ok[b] / (double)r->rel_n[b]);
        if (b == DS_EVAL_REL_BINS - 1) hi = r->rel_n[b], hi_ok = r->rel_ok[b];
    }
    if (hi)
        fprintf(f, "confidence >= 0.9: %ld of %ld values right: %.4f\n", hi_ok, hi,
                (double)hi_ok / (double)hi);
    double ece, brier;
    ds_eval_calibration_error(r, &ece, &brier);
    fprintf(f, "calibration error: ECE %.4f (over the tenths above), Brier score %.4f\n", ece,
            brier);
    double auroc = r->n_scored ? ds_eval_auroc(r) : -1;
    if (auroc >= 0)
        fprintf(f, "ranking: AUROC %.4f (a right value above a wrong one, by confidence)\n", auroc);
}

void ds_eval_print_table(FILE *f, const ds_eval_report *r, int n_worst) {
    fprintf(f, "docseek eval (format %s): %d documents, %d with a prediction",
            ds_eval_format_name(r->format), r->n_docs, r->n_predicted);
    if (r->n_pred_unmatched)
        fprintf(f, ", %d prediction(s) for no true document (not scored)", r->n_pred_unmatched);
    fprintf(f, "\ndocument type right in %d of %d predicted documents\n\n", r->n_doc_type_ok,
            r->n_predicted);
    fprintf(f, "%-36s %7s %7s %7s %9s %7s %7s\n", "", "TP", "FP", "FN", "precision", "recall",
            "F1");
    row(f, "overall", r->overall);
    if (r->aux) {
        char name[64];
        snprintf(name, sizeof name, "linking (%s, not in overall)", r->aux);
        row(f, name, r->aux_counts);
    }
    for (int t = 0; t < r->n_types; t++) {
        row(f, r->types[t].doc_type, r->types[t].c);
        for (int i = 0; i < r->n_fields; i++) {
            if (strcmp(r->fields[i].doc_type, r->types[t].doc_type) != 0) continue;
            if (r->aux && strcmp(r->fields[i].field, r->aux) == 0) continue; // the linking row
            char name[128];
            snprintf(name, sizeof name, "  %s", r->fields[i].field);
            row(f, name, r->fields[i].c);
        }
    }
    if (r->n_grounded)
        fprintf(f, "\ngrounding: %ld of %ld correct values with both boxes have IoU >= 0.5: %.4f\n",
                r->n_grounded_ok, r->n_grounded, (double)r->n_grounded_ok / (double)r->n_grounded);
    else
        fprintf(f, "\ngrounding: no correct value has both a predicted and a true box\n");
    ds_eval_print_reliability(f, r);
    int shown = 0;
    for (int i = 0; i < r->n_docs && shown < n_worst; i++) {
        const ds_eval_doc_result *d = &r->docs[i];
        if (d->n_misses == 0) continue;
        if (shown++ == 0) fprintf(f, "\nworst documents (document F1, then wrong fields):\n");
        fprintf(f, "  %-20s %-10s F1 %.4f  TP %ld FP %ld FN %ld%s\n", d->truth->id,
                d->truth->doc_type ? d->truth->doc_type : "-", d->f1, d->c.tp, d->c.fp, d->c.fn,
                d->predicted ? "" : "  (no prediction)");
        for (int k = 0; k < d->n_misses && k < 8; k++) {
            char b1[128], b2[128];
            const ds_eval_miss *m = &d->misses[k];
            fprintf(f, "      %-16s predicted %s%s%s, true %s%s%s\n", m->field, m->pred ? "\"" : "",
                    m->pred ? clip(m->pred, b1, 60) : "nothing", m->pred ? "\"" : "",
                    m->truth ? "\"" : "", m->truth ? clip(m->truth, b2, 60) : "nothing",
                    m->truth ? "\"" : "");
        }
        if (d->n_misses > 8) fprintf(f, "      ... %d more\n", d->n_misses - 8);
    }
    // with --worst 0 nothing is listed, which says nothing about the documents
    if (shown == 0 && n_worst > 0) fprintf(f, "\nno document has a wrong field\n");
}

// ---- JSON

static json_t *counts_json(ds_eval_counts c) {
    double p, r, f1;
    ds_eval_prf(c, &p, &r, &f1);
    return json_pack("{s:I, s:I, s:I, s:f, s:f, s:f}", "tp", (json_int_t)c.tp, "fp",
                     (json_int_t)c.fp, "fn", (json_int_t)c.fn, "precision", p, "recall", r, "f1",
                     f1);
}

static json_t *str_or_null(const char *s) {
    return s ? json_string(s) : json_null();
}

static json_t *box_json(const ds_eval_box *b) {
    return json_pack("{s:i, s:[f,f,f,f], s:s}", "page", b->page, "box", b->box[0], b->box[1],
                     b->box[2], b->box[3], "units", b->in_pixels ? "pixels" : "points");
}

json_t *ds_eval_report_json(const ds_eval_report *r) {
    json_t *types = json_array(), *fields = json_array(), *docs = json_array();
    for (int i = 0; i < r->n_types; i++) {
        json_t *o = counts_json(r->types[i].c);
        json_object_set_new(o, "doc_type", json_string(r->types[i].doc_type));
        json_array_append_new(types, o);
    }
    for (int i = 0; i < r->n_fields; i++) {
        json_t *o = counts_json(r->fields[i].c);
        json_object_set_new(o, "doc_type", json_string(r->fields[i].doc_type));
        json_object_set_new(o, "field", json_string(r->fields[i].field));
        json_array_append_new(fields, o);
    }
    for (int i = 0; i < r->n_docs; i++) {
        const ds_eval_doc_result *d = &r->docs[i];
        json_t *wrong = json_array();
        for (int k = 0; k < d->n_misses; k++) {
            const ds_eval_miss *m = &d->misses[k];
            json_t *w = json_pack("{s:s, s:o, s:o}", "field", m->field, "predicted",
                                  str_or_null(m->pred), "true", str_or_null(m->truth));
            if (m->pred_box.page) json_object_set_new(w, "predicted_box", box_json(&m->pred_box));
            if (m->n_true_boxes) {
                json_t *tb = json_array();
                for (int b = 0; b < m->n_true_boxes; b++)
                    json_array_append_new(tb, box_json(&m->true_boxes[b]));
                json_object_set_new(w, "true_boxes", tb);
            }
            json_array_append_new(wrong, w);
        }
        json_t *o = counts_json(d->c);
        json_object_set_new(o, "id", json_string(d->truth->id));
        json_object_set_new(o, "doc_type", str_or_null(d->truth->doc_type));
        json_object_set_new(o, "predicted", json_boolean(d->predicted));
        json_object_set_new(o, "doc_type_ok", json_boolean(d->doc_type_ok));
        json_object_set_new(o, "wrong", wrong);
        json_array_append_new(docs, o);
    }
    json_t *g = json_pack(
        "{s:I, s:I, s:o}", "n_with_both_boxes", (json_int_t)r->n_grounded, "n_iou_at_least_0_5",
        (json_int_t)r->n_grounded_ok, "accuracy",
        r->n_grounded ? json_real((double)r->n_grounded_ok / (double)r->n_grounded) : json_null());
    json_t *out =
        json_pack("{s:s, s:i, s:i, s:i, s:i, s:o, s:o, s:o, s:o, s:o}", "format",
                  ds_eval_format_name(r->format), "n_documents", r->n_docs, "n_predicted",
                  r->n_predicted, "n_doc_type_ok", r->n_doc_type_ok, "n_predictions_unmatched",
                  r->n_pred_unmatched, "overall", counts_json(r->overall), "doc_types", types,
                  "fields", fields, "grounding", g, "documents", docs);
    if (out && r->aux) json_object_set_new(out, "linking", counts_json(r->aux_counts));
    json_t *rel = json_array();
    for (int b = 0; rel && b < DS_EVAL_REL_BINS; b++)
        if (r->rel_n[b])
            json_array_append_new(
                rel, json_pack("{s:f, s:f, s:I, s:I}", "from", (double)b / DS_EVAL_REL_BINS, "to",
                               (double)(b + 1) / DS_EVAL_REL_BINS, "values",
                               (json_int_t)r->rel_n[b], "right", (json_int_t)r->rel_ok[b]));
    if (out && rel)
        json_object_set_new(out, "reliability", rel);
    else
        json_decref(rel);
    double ece, brier;
    long n_conf = ds_eval_calibration_error(r, &ece, &brier);
    double auroc = r->n_scored ? ds_eval_auroc(r) : -1;
    if (out && auroc >= 0) json_object_set_new(out, "auroc", json_real(auroc));
    if (out && n_conf)
        json_object_set_new(
            out, "calibration_error",
            json_pack("{s:I, s:f, s:f}", "values", (json_int_t)n_conf, "ece", ece, "brier", brier));
    return out;
}

int ds_eval_write_json(const ds_eval_report *r, const char *path) {
    json_t *j = ds_eval_report_json(r);
    if (!j) return ds_error(DS_E_NOMEM, "out of memory");
    int bad = json_dump_file(j, path, JSON_INDENT(1)) != 0;
    json_decref(j);
    return bad ? ds_error(DS_E_IO, "%s: cannot write the JSON report: %s", path, strerror(errno))
               : 0;
}

// ---- HTML

static void esc(FILE *f, const char *s) {
    for (; s && *s; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

static void safe_name(const char *id, char *out, size_t cap) {
    size_t o = 0;
    for (; *id && o + 1 < cap; id++) {
        char c = *id;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '_' || c == '.';
        out[o++] = ok ? c : '_';
    }
    out[o] = 0;
}

static void rect(FILE *f, const ds_eval_box *b, const ds_page *p, const char *colour) {
    float s = b->in_pixels ? 1 / p->px_per_pt : 1;
    fprintf(f,
            "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
            "stroke=\"%s\" stroke-width=\"%.1f\"/>",
            b->box[0] * s, b->box[1] * s, (b->box[2] - b->box[0]) * s, (b->box[3] - b->box[1]) * s,
            colour, p->width_pt / 300 + 0.5);
}

typedef struct {
    FILE *f;
    const char *dir, *rel; // where page PNGs go; the same folder relative to the HTML
    ds_doc *doc;
    char err[512];
    unsigned char *written; // per page: PNG already written
} html_ctx;

// One page of the document with the miss's boxes on it.
static void html_page(html_ctx *h, const ds_eval_doc_result *d, const ds_eval_miss *m, int page) {
    if (!h->doc) {
        fprintf(h->f, "<p class=\"err\">page image unavailable: ");
        esc(h->f, h->err);
        fprintf(h->f, "</p>");
        return;
    }
    if (page < 1 || page > h->doc->n_pages) {
        fprintf(h->f, "<p class=\"err\">page %d is not in the document (%d pages)</p>", page,
                h->doc->n_pages);
        return;
    }
    const ds_page *p = &h->doc->pages[page - 1];
    char name[300], path[4500];
    safe_name(d->truth->id, name, 256);
    snprintf(path, sizeof path, "%s/%s-p%d.png", h->dir, name, page);
    if (!h->written[page - 1]) {
        if (ds_page_save_png(p, path, 0) != 0) {
            fprintf(h->f, "<p class=\"err\">");
            esc(h->f, ds_errmsg());
            fprintf(h->f, "</p>");
            return;
        }
        h->written[page - 1] = 1;
    }
    fprintf(h->f, "<div class=\"page\"><img src=\"");
    esc(h->f, h->rel);
    fprintf(h->f, "/%s-p%d.png\" alt=\"page %d\">", name, page, page);
    fprintf(h->f, "<svg viewBox=\"0 0 %.1f %.1f\" preserveAspectRatio=\"none\">", p->width_pt,
            p->height_pt);
    for (int b = 0; b < m->n_true_boxes; b++)
        if (m->true_boxes[b].page == page) rect(h->f, &m->true_boxes[b], p, "#0a0");
    if (m->pred_box.page == page) rect(h->f, &m->pred_box, p, "#e00");
    fprintf(h->f, "</svg><div class=\"cap\">page %d</div></div>", page);
}

static void html_miss(html_ctx *h, const ds_eval_doc_result *d, const ds_eval_miss *m) {
    fprintf(h->f, "<div class=\"miss\"><div class=\"vals\"><b>");
    esc(h->f, m->field);
    fprintf(h->f, "</b><br>predicted: %s", m->pred ? "<span class=\"pred\">" : "<i>nothing</i>");
    esc(h->f, m->pred);
    fprintf(h->f, "%s<br>true: %s", m->pred ? "</span>" : "",
            m->truth ? "<span class=\"true\">" : "<i>nothing</i>");
    esc(h->f, m->truth);
    fprintf(h->f, "%s</div>", m->truth ? "</span>" : "");
    // the pages that hold a box of this miss (the first page when none has a box)
    int pages[4], n = 0;
    if (m->pred_box.page) pages[n++] = m->pred_box.page;
    for (int b = 0; b < m->n_true_boxes && n < 4; b++) {
        int dup = 0;
        for (int k = 0; k < n; k++) dup |= pages[k] == m->true_boxes[b].page;
        if (!dup) pages[n++] = m->true_boxes[b].page;
    }
    if (n == 0) pages[n++] = 1;
    for (int k = 0; k < n; k++) html_page(h, d, m, pages[k]);
    fprintf(h->f, "</div>\n");
}

static void html_row(FILE *f, const char *a, const char *b, ds_eval_counts c) {
    double p, r, f1;
    ds_eval_prf(c, &p, &r, &f1);
    fprintf(f, "<tr><td>");
    esc(f, a);
    esc(f, b);
    fprintf(f,
            "</td><td>%ld</td><td>%ld</td><td>%ld</td><td>%.4f</td><td>%.4f</td><td>%.4f</td>"
            "</tr>\n",
            c.tp, c.fp, c.fn, p, r, f1);
}

static void html_table(FILE *f, const ds_eval_report *r) {
    fprintf(f, "<table><tr><th></th><th>TP</th><th>FP</th><th>FN</th><th>precision</th>"
               "<th>recall</th><th>F1</th></tr>\n");
    html_row(f, "overall", "", r->overall);
    if (r->aux) html_row(f, "linking (not in overall)", "", r->aux_counts);
    for (int t = 0; t < r->n_types; t++) {
        html_row(f, r->types[t].doc_type, "", r->types[t].c);
        for (int i = 0; i < r->n_fields; i++)
            if (strcmp(r->fields[i].doc_type, r->types[t].doc_type) == 0 &&
                !(r->aux && strcmp(r->fields[i].field, r->aux) == 0))
                html_row(f, "\xc2\xa0\xc2\xa0", r->fields[i].field, r->fields[i].c);
    }
    fprintf(f, "</table>\n");
}

static const char *ds_eval_css =
    "body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}"
    "td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}td:first-child{text-align:left}"
    ".miss{display:flex;gap:1em;align-items:flex-start;margin:1em 0;border-top:1px solid #ddd;"
    "padding-top:.5em}.vals{width:22em;word-break:break-word}.pred{color:#c00}.true{color:#080}"
    ".page{position:relative;width:480px;flex:none}.page img{width:100%;display:block;"
    "border:1px solid #999}.page svg{position:absolute;left:0;top:0;width:100%;height:100%}"
    ".cap{font-size:small;color:#666}.err{color:#a00}";

int ds_eval_write_html(const ds_eval_report *r, const char *path) {
    char dir[4096];
    size_t n = strlen(path);
    if (n + 8 > sizeof dir) return ds_error(DS_E_INVAL, "%s: path too long", path);
    size_t stem = n > 5 && strcmp(path + n - 5, ".html") == 0 ? n - 5 : n;
    snprintf(dir, sizeof dir, "%.*s-pages", (int)stem, path);
    const char *slash = strrchr(dir, '/');
    html_ctx h = {.dir = dir, .rel = slash ? slash + 1 : dir};
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return ds_error(DS_E_IO, "%s: cannot create the page folder: %s", dir, strerror(errno));
    if (!(h.f = fopen(path, "w")))
        return ds_error(DS_E_IO, "%s: cannot write: %s", path, strerror(errno));
    fprintf(h.f,
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>docseek eval</title>"
            "<style>%s</style></head><body>\n<h1>docseek eval</h1>\n",
            ds_eval_css);
    fprintf(h.f,
            "<p>format %s: %d documents, %d with a prediction. Predicted boxes "
            "<span class=\"pred\">red</span>, true boxes <span class=\"true\">green</span>.",
            ds_eval_format_name(r->format), r->n_docs, r->n_predicted);
    if (r->n_grounded)
        fprintf(h.f, " Grounding: %ld of %ld correct values with both boxes have IoU &gt;= 0.5.",
                r->n_grounded_ok, r->n_grounded);
    fprintf(h.f, "</p>\n");
    html_table(h.f, r);
    ds_ingest_opts o;
    ds_ingest_opts_default(&o);
    o.ocr = DS_OCR_NEVER; // the page image is all we show
    o.no_pixels = 1;
    o.dpi = 100;
    for (int i = 0; i < r->n_docs; i++) {
        const ds_eval_doc_result *d = &r->docs[i];
        if (d->n_misses == 0) continue;
        fprintf(h.f, "<h2>");
        esc(h.f, d->truth->id);
        fprintf(h.f, " <small>(");
        esc(h.f, d->truth->doc_type);
        fprintf(h.f, ") F1 %.4f, TP %ld FP %ld FN %ld%s</small></h2>\n", d->f1, d->c.tp, d->c.fp,
                d->c.fn, d->predicted ? "" : ", no prediction");
        h.doc = NULL;
        snprintf(h.err, sizeof h.err, "no document file beside %s",
                 d->truth->source ? d->truth->source : "the truth");
        if (d->truth->doc_path && ds_ingest_file(d->truth->doc_path, &o, &h.doc) != 0)
            snprintf(h.err, sizeof h.err, "%s", ds_errmsg());
        h.written = h.doc ? calloc((size_t)h.doc->n_pages, 1) : NULL;
        if (h.doc && !h.written) {
            ds_doc_free(h.doc);
            h.doc = NULL;
            snprintf(h.err, sizeof h.err, "out of memory");
        }
        for (int k = 0; k < d->n_misses; k++) html_miss(&h, d, &d->misses[k]);
        free(h.written);
        ds_doc_free(h.doc);
    }
    fprintf(h.f, "</body></html>\n");
    ds_ingest_thread_cleanup();
    return fclose(h.f) == 0 ? 0 : ds_error(DS_E_IO, "%s: write failed", path);
}
