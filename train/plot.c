// plot.c: see plot.h. Plain cairo: axes, a few grid lines, one polyline per
// series; no plotting library.
#include "train/plot.h"

#include "core/error.h"

#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    double *step, *loss, *ans, *ptr, *f1; // f1 < 0: no evaluation at that step
    int n, cap;
} curves;

static int read_csv(const char *path, curves *c) {
    FILE *f = fopen(path, "r");
    if (!f) return ds_error(DS_E_IO, "plot: cannot read %s", path);
    char line[1024];
    memset(c, 0, sizeof *c);
    if (!fgets(line, sizeof line, f)) {
        fclose(f);
        return ds_error(DS_E_FORMAT, "plot: %s is empty", path);
    }
    while (fgets(line, sizeof line, f)) {
        double v[12];
        int k = 0;
        char *p = line;
        for (; k < 12; k++) {
            char *end;
            v[k] = strtod(p, &end);
            if (end == p) v[k] = -1; // empty column (no evaluation)
            p = strchr(end, ',');
            if (!p) {
                k++;
                break;
            }
            p++;
        }
        if (k < 11) continue;
        if (c->n == c->cap) {
            c->cap = c->cap ? 2 * c->cap : 1024;
            double **cols[5] = {&c->step, &c->loss, &c->ans, &c->ptr, &c->f1};
            for (int i = 0; i < 5; i++) *cols[i] = realloc(*cols[i], sizeof(double) * c->cap);
            if (!c->step || !c->loss || !c->ans || !c->ptr || !c->f1) {
                fclose(f);
                return ds_error(DS_E_NOMEM, "plot: out of memory");
            }
        }
        c->step[c->n] = v[0], c->loss[c->n] = v[3], c->ans[c->n] = v[4], c->ptr[c->n] = v[5];
        c->f1[c->n] = k >= 12 ? v[11] : -1;
        c->n++;
    }
    fclose(f);
    return 0;
}

typedef struct {
    double x0, y0, w, h; // panel in pixels
    double sx, sy0, sy1; // data ranges: steps, y
    int logy;
} panel;

static double px(const panel *p, double step) {
    return p->x0 + p->w * step / p->sx;
}
static double py(const panel *p, double y) {
    double a = p->logy ? log10(fmax(y, 1e-4)) : y;
    double b0 = p->logy ? log10(p->sy0) : p->sy0, b1 = p->logy ? log10(p->sy1) : p->sy1;
    return p->y0 + p->h - p->h * (a - b0) / (b1 - b0);
}

static void series(cairo_t *cr, const panel *p, const curves *c, const double *y, double r,
                   double g, double b, int dots) {
    cairo_set_source_rgb(cr, r, g, b);
    int started = 0;
    for (int i = 0; i < c->n; i++) {
        if (y[i] < 0) continue;
        double x = px(p, c->step[i]), yy = py(p, y[i]);
        if (dots) {
            cairo_new_sub_path(cr);
            cairo_arc(cr, x, yy, 3, 0, 2 * M_PI);
            cairo_fill(cr);
            continue;
        }
        if (!started)
            cairo_move_to(cr, x, yy), started = 1;
        else
            cairo_line_to(cr, x, yy);
    }
    cairo_stroke(cr);
}

static void frame(cairo_t *cr, const panel *p, const char *title) {
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, p->x0, p->y0, p->w, p->h);
    cairo_stroke(cr);
    cairo_move_to(cr, p->x0, p->y0 - 8);
    cairo_show_text(cr, title);
    char label[64];
    snprintf(label, sizeof label, "step %.0f", p->sx);
    cairo_move_to(cr, p->x0 + p->w - 70, p->y0 + p->h + 16);
    cairo_show_text(cr, label);
}

int ds_plot_curves(const char *csv_path, const char *png_path) {
    curves c = {0};
    int rc = read_csv(csv_path, &c);
    if (!rc && c.n == 0) rc = ds_error(DS_E_FORMAT, "plot: %s has no rows", csv_path);
    if (rc) goto done;
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1000, 420);
    cairo_t *cr = cairo_create(s);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_select_font_face(cr, "sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, 13);
    double smax = c.step[c.n - 1] > 0 ? c.step[c.n - 1] : 1, lmax = 1e-3;
    for (int i = 0; i < c.n; i++) lmax = fmax(lmax, fmax(c.loss[i], fmax(c.ans[i], c.ptr[i])));
    panel lp = {60, 40, 400, 320, smax, 1e-4, lmax * 1.2, 1};
    panel fp = {560, 40, 400, 320, smax, 0, 1, 0};
    frame(cr, &lp, "loss (log): total black, answer blue, pointers red");
    frame(cr, &fp, "held-out field F1");
    for (double g = 0.2; g < 1; g += 0.2) { // F1 grid
        cairo_set_source_rgb(cr, 0.85, 0.85, 0.85);
        cairo_move_to(cr, fp.x0, py(&fp, g));
        cairo_line_to(cr, fp.x0 + fp.w, py(&fp, g));
        cairo_stroke(cr);
        char t[16];
        snprintf(t, sizeof t, "%.1f", g);
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_move_to(cr, fp.x0 - 28, py(&fp, g) + 4);
        cairo_show_text(cr, t);
    }
    for (double g = 1e-2; g < lmax * 1.2; g *= 10) { // loss decades
        cairo_set_source_rgb(cr, 0.85, 0.85, 0.85);
        cairo_move_to(cr, lp.x0, py(&lp, g));
        cairo_line_to(cr, lp.x0 + lp.w, py(&lp, g));
        cairo_stroke(cr);
        char t[16];
        snprintf(t, sizeof t, "%g", g);
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_move_to(cr, lp.x0 - 40, py(&lp, g) + 4);
        cairo_show_text(cr, t);
    }
    cairo_set_line_width(cr, 1.2);
    cairo_save(cr);
    cairo_rectangle(cr, lp.x0, lp.y0, lp.w, lp.h);
    cairo_clip(cr);
    series(cr, &lp, &c, c.ans, 0.1, 0.3, 0.9, 0);
    series(cr, &lp, &c, c.ptr, 0.9, 0.2, 0.1, 0);
    series(cr, &lp, &c, c.loss, 0, 0, 0, 0);
    cairo_restore(cr);
    cairo_set_line_width(cr, 2);
    series(cr, &fp, &c, c.f1, 0.1, 0.6, 0.2, 1);
    cairo_destroy(cr);
    if (cairo_surface_write_to_png(s, png_path) != CAIRO_STATUS_SUCCESS)
        rc = ds_error(DS_E_IO, "plot: cannot write %s", png_path);
    cairo_surface_destroy(s);
done:
    free(c.step);
    free(c.loss);
    free(c.ans);
    free(c.ptr);
    free(c.f1);
    return rc;
}
