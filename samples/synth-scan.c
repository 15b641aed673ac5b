// synth-scan.c: a generated PDF turned into a scan: rendered at 120-200 dpi
// with docseek's own renderer, rotated by up to ±3° about the page centre,
// blurred, given sensor noise and uneven lighting through libvips, and saved
// as JPEG (quality 40-90; multi-page documents as a JPEG-compressed TIFF);
// on request a small page lies on an A4 sheet, as receipts are scanned, and
// a page is first printed as a thermal till prints it (thermal_print).
// The truth's boxes go through the same rotation (the axis-aligned box of the
// rotated corners), and the image records its dpi so pages keep their size
// in points when ingest reads them back.
#include "core/error.h"
#include "ingest/ingest.h"
#include "samples/synth-impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <vips/vips.h>

typedef struct {
    double c, s, cx, cy, scale; // rotation about (cx, cy) in pixels; scale px per pt
} ds_rot;

static void map_box(const ds_rot *t, json_t *box) {
    double x[2] = {json_number_value(json_array_get(box, 0)),
                   json_number_value(json_array_get(box, 2))};
    double y[2] = {json_number_value(json_array_get(box, 1)),
                   json_number_value(json_array_get(box, 3))};
    double x0 = 1e30, y0 = 1e30, x1 = -1e30, y1 = -1e30;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
            double px = x[i] * t->scale - t->cx, py = y[j] * t->scale - t->cy;
            double rx = (t->c * px - t->s * py + t->cx) / t->scale;
            double ry = (t->s * px + t->c * py + t->cy) / t->scale;
            x0 = fmin(x0, rx), y0 = fmin(y0, ry), x1 = fmax(x1, rx), y1 = fmax(y1, ry);
        }
    double v[4] = {x0, y0, x1, y1};
    for (int k = 0; k < 4; k++)
        json_array_set_new(box, (size_t)k, json_real(round(v[k] * 100) / 100));
}

// A seed for libvips' noise, from r without advancing it (so the truth's boxes, drawn
// from r, stay as they were before the noise had a seed): without one, libvips seeds
// from the clock and a scan was never the same twice.
static int noise_seed(const ds_rng *r) {
    ds_rng copy = *r;
    return (int)ds_rng_below(&copy, 1u << 30);
}

// A hash of (seed, x, y) to [0, 1): a pixel's own draw without a stream of draws.
static double pixel_draw(uint64_t seed, int x, int y) {
    uint64_t h = seed ^ ((uint64_t)(uint32_t)x << 32 | (uint32_t)y);
    h ^= h >> 33, h *= 0xff51afd7ed558ccdull, h ^= h >> 33, h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return (double)(h >> 11) / 9007199254740992.0;
}

// The page as a worn thermal till prints it, into out (RGB, the page's size). SROIE's
// receipts read far worse by OCR than generated scans did (mean word confidence 0.71
// against 0.87; the company's exact text found in 15 of 40 receipts against 14 of 16),
// because a thermal print is not a clean render: its dots are on or off (the render's
// anti-aliased strokes binarised, thinner or bolder by the threshold), the ink fades
// in patches as the paper ages, worn head elements leave light streaks along the
// roll, and dots go missing in the strokes. Each document draws its own mix, from
// barely worn to hard to read. Returns 0 or DS_E_NOMEM.
static int thermal_print(const ds_page *p, ds_rng *r, uint8_t *out) {
    int w = p->img_w, h = p->img_h;
    // how worn: most prints a little, a few badly (each kind of wear alone costs OCR
    // little; all of them at full strength halve the totals it reads)
    double wear = pow(ds_rng_uniform(r), 1.5);
    double threshold = 0.45 + 0.15 * ds_rng_uniform(r);         // of the render's ink, 0..1
    double fade = 0.6 * wear * ds_rng_uniform(r);               // the deepest patch's loss of ink
    double dropout = 0.12 * wear * ds_rng_uniform(r);           // dots missing in a stroke
    double black = 20 + 70 * ds_rng_uniform(r);                 // a full dot's grey
    double paper = 225 + 28 * ds_rng_uniform(r);                // the paper's grey
    double cell = (30 + 60 * ds_rng_uniform(r)) * p->px_per_pt; // the patches' size
    uint64_t seed = ds_rng_u64(r);
    // the patches: a coarse grid of draws, interpolated bilinearly
    int gw = (int)(w / cell) + 2, gh = (int)(h / cell) + 2;
    double *grid = malloc(sizeof(double) * (size_t)gw * gh);
    float *streak = malloc(sizeof(float) * (size_t)w);
    if (!grid || !streak) {
        free(grid), free(streak);
        return ds_error(DS_E_NOMEM, "out of memory printing a page");
    }
    for (int i = 0; i < gw * gh; i++) grid[i] = pixel_draw(seed, -1 - i, -1);
    for (int x = 0; x < w; x++) streak[x] = 1;
    int n_streaks = (int)(ds_rng_below(r, 7) * wear + 0.5);
    for (int k = 0; k < n_streaks; k++) {
        int x0 = (int)ds_rng_below(r, (uint64_t)w), width = 1 + (int)ds_rng_below(r, 3);
        float keep = 0.15f + 0.5f * ds_rng_uniform(r);
        for (int x = x0; x < x0 + width && x < w; x++) streak[x] = keep;
    }
    for (int y = 0; y < h; y++) {
        double gy = y / cell;
        int iy = (int)gy;
        double fy = gy - iy;
        for (int x = 0; x < w; x++) {
            const uint8_t *s = p->rgb + ((size_t)y * w + x) * 3;
            uint8_t *d = out + ((size_t)y * w + x) * 3;
            double ink = 1.0 - (s[0] + s[1] + s[2]) / 765.0;
            double v = paper;
            if (ink > threshold && pixel_draw(seed, x, y) >= dropout) {
                double gx = x / cell;
                int ix = (int)gx;
                double fx = gx - ix;
                const double *g = grid + (size_t)iy * gw + ix;
                double patch = (g[0] * (1 - fx) + g[1] * fx) * (1 - fy) +
                               (g[gw] * (1 - fx) + g[gw + 1] * fx) * fy;
                double strength = (1.0 - fade * patch) * streak[x];
                v = paper - strength * (paper - black);
            }
            d[0] = d[1] = d[2] = (uint8_t)(v + 0.5);
        }
    }
    free(grid);
    free(streak);
    return 0;
}

// One page (its RGB raster, the page's size): rotate, blur, noise, lighting; returns
// a new uchar image or NULL.
static VipsImage *degrade(const ds_page *p, const uint8_t *rgb, ds_rng *r, const ds_rot *t) {
    VipsImage *im[8] = {0};
    VipsImage *out = NULL;
    double white[3] = {255, 255, 255};
    VipsArrayDouble *bg = vips_array_double_new(white, 3);
    VipsArrayInt *area = vips_array_int_newv(4, 0, 0, p->img_w, p->img_h);
    im[0] = vips_image_new_from_memory(rgb, (size_t)p->img_w * p->img_h * 3, p->img_w, p->img_h, 3,
                                       VIPS_FORMAT_UCHAR);
    double odx = t->cx - t->c * t->cx + t->s * t->cy, ody = t->cy - t->s * t->cx - t->c * t->cy;
    double sigma = 0.3 + 0.8 * ds_rng_uniform(r), noise = 3 + 9 * ds_rng_uniform(r);
    double light = 0.25 * ds_rng_uniform(r);
    int seed = noise_seed(r);
    int ok = im[0] &&
             vips_affine(im[0], &im[1], t->c, -t->s, t->s, t->c, "odx", odx, "ody", ody, "oarea",
                         area, "background", bg, "extend", VIPS_EXTEND_BACKGROUND, NULL) == 0 &&
             vips_gaussblur(im[1], &im[2], sigma, NULL) == 0 &&
             vips_gaussnoise(&im[3], p->img_w, p->img_h, "sigma", noise, "mean", 0.0, "seed", seed,
                             NULL) == 0 &&
             vips_add(im[2], im[3], &im[4], NULL) == 0 &&
             vips_xyz(&im[5], p->img_w, p->img_h, NULL) == 0 &&
             vips_linear1(im[5], &im[6], -light / p->img_w, 1.0, NULL) == 0 &&
             vips_extract_band(im[6], &im[7], 0, NULL) == 0;
    VipsImage *lit = NULL;
    if (ok && vips_multiply(im[4], im[7], &lit, NULL) == 0) {
        if (vips_cast(lit, &out, VIPS_FORMAT_UCHAR, NULL) != 0) out = NULL;
        g_object_unref(lit);
    }
    for (int i = 7; i >= 0; i--)
        if (im[i]) g_object_unref(im[i]);
    vips_area_unref(VIPS_AREA(bg));
    vips_area_unref(VIPS_AREA(area));
    return out;
}

// Page im (the scanned page, scale px per pt) laid on an A4 sheet at a random place with
// a background of paper grey and sensor noise; *dx, *dy get its offset in points. NULL
// when it fails; im itself when it is no smaller than A4.
static VipsImage *on_a4(VipsImage *im, double scale, ds_rng *r, double *dx, double *dy) {
    int W = (int)(595 * scale), H = (int)(842 * scale), w = im->Xsize, h = im->Ysize;
    *dx = *dy = 0;
    if (w >= W || h >= H) {
        g_object_ref(im);
        return im;
    }
    int x = (int)ds_rng_below(r, (uint64_t)(W - w)), y = (int)ds_rng_below(r, (uint64_t)(H - h));
    double grey = 225 + 30 * ds_rng_uniform(r);
    double bgv[3] = {grey, grey, grey};
    VipsArrayDouble *bg = vips_array_double_new(bgv, 3);
    VipsImage *sheet = NULL, *noise = NULL, *noisy = NULL, *out = NULL;
    int ok = vips_embed(im, &sheet, x, y, W, H, "extend", VIPS_EXTEND_BACKGROUND, "background", bg,
                        NULL) == 0 &&
             vips_gaussnoise(&noise, W, H, "sigma", 2.0, "mean", 0.0, "seed", noise_seed(r),
                             NULL) == 0 &&
             vips_add(sheet, noise, &noisy, NULL) == 0 &&
             vips_cast(noisy, &out, VIPS_FORMAT_UCHAR, NULL) == 0;
    if (!ok) out = NULL;
    if (sheet) g_object_unref(sheet);
    if (noise) g_object_unref(noise);
    if (noisy) g_object_unref(noisy);
    vips_area_unref(VIPS_AREA(bg));
    *dx = x / scale;
    *dy = y / scale;
    return out;
}

int ds_synth_scan(const ds_synth_bytes *pdf, json_t *truth, ds_rng *r, int on_sheet, int thermal,
                  const char *path) {
    ds_ingest_opts o;
    ds_ingest_opts_default(&o);
    o.dpi = (float)(120 + ds_rng_below(r, 81));
    o.ocr = DS_OCR_NEVER;
    o.no_pixels = 1;
    ds_doc *doc;
    int rc = ds_ingest_memory(pdf->data, pdf->n, &o, &doc);
    if (rc) return rc;
    double angle = (ds_rng_uniform(r) * 2 - 1) * 3.0 * M_PI / 180;
    const ds_page *p0 = &doc->pages[0];
    ds_rot t = {cos(angle), sin(angle), p0->img_w / 2.0, p0->img_h / 2.0, o.dpi / 72.0};
    VipsImage *pages[64] = {0};
    int n = doc->n_pages < 64 ? doc->n_pages : 64;
    for (int i = 0; i < n && rc == 0; i++) {
        ds_rot ti = t;
        ti.cx = doc->pages[i].img_w / 2.0, ti.cy = doc->pages[i].img_h / 2.0;
        const ds_page *p = &doc->pages[i];
        uint8_t *printed = thermal ? malloc((size_t)p->img_w * p->img_h * 3) : NULL;
        if (thermal && !printed) rc = ds_error(DS_E_NOMEM, "out of memory printing page %d", i + 1);
        if (printed) rc = thermal_print(p, r, printed);
        if (rc) {
            free(printed);
            break;
        }
        pages[i] = degrade(p, printed ? printed : p->rgb, r, &ti);
        // vips_image_new_from_memory reads the buffer lazily: render the page into memory of
        // its own before the buffer is freed
        if (pages[i] && printed) {
            VipsImage *own = vips_image_copy_memory(pages[i]);
            g_object_unref(pages[i]);
            pages[i] = own;
        }
        free(printed);
        if (!pages[i])
            rc =
                ds_error(DS_E_INTERNAL, "degrading page %d failed: %s", i + 1, vips_error_buffer());
    }
    double dx = 0, dy = 0; // where the page lies on its sheet (points)
    if (rc == 0 && on_sheet && n == 1) {
        VipsImage *sheet = on_a4(pages[0], t.scale, r, &dx, &dy);
        if (!sheet) rc = ds_error(DS_E_INTERNAL, "laying the page on a sheet failed");
        g_object_unref(pages[0]);
        pages[0] = sheet;
    }
    VipsImage *joined = NULL;
    int q = 40 + (int)ds_rng_below(r, 51);
    if (rc == 0) {
        // The resolution travels in the file (JFIF density, TIFF resolution): ingest reads
        // the pages back at the same size in points.
        double res = o.dpi / 25.4; // pixels per millimetre
        for (int i = 0; i < n && rc == 0; i++) {
            VipsImage *c = NULL;
            if (vips_copy(pages[i], &c, "xres", res, "yres", res, NULL) != 0) {
                rc = ds_error(DS_E_INTERNAL, "setting the resolution failed");
                break;
            }
            g_object_unref(pages[i]);
            pages[i] = c;
        }
        if (rc) {
        } else if (n == 1) {
            if (vips_jpegsave(pages[0], path, "Q", q, NULL) != 0)
                rc = ds_error(DS_E_IO, "%s: %s", path, vips_error_buffer());
        } else if (vips_arrayjoin(pages, &joined, n, "across", 1, NULL) != 0 ||
                   (vips_image_set_int(joined, "page-height", doc->pages[0].img_h),
                    vips_tiffsave(joined, path, "compression", VIPS_FOREIGN_TIFF_COMPRESSION_JPEG,
                                  "Q", q, "resunit", VIPS_FOREIGN_TIFF_RESUNIT_INCH, NULL)) != 0) {
            rc = ds_error(DS_E_IO, "%s: %s", path, vips_error_buffer());
        }
        vips_error_clear();
    }
    // Boxes follow the rotation (every page is rotated by the same angle about its centre).
    const char *name;
    json_t *list;
    json_object_foreach(json_object_get(truth, "boxes"), name, list) {
        size_t i;
        json_t *e;
        json_array_foreach(list, i, e) {
            json_t *box = json_object_get(e, "box");
            map_box(&t, box);
            for (size_t k = 0; k < 4; k++) {
                double v = json_number_value(json_array_get(box, k)) + (k % 2 ? dy : dx);
                json_array_set_new(box, k, json_real(round(v * 100) / 100));
            }
        }
    }
    if (joined) g_object_unref(joined);
    for (int i = 0; i < n; i++)
        if (pages[i]) g_object_unref(pages[i]);
    ds_doc_free(doc);
    return rc;
}
