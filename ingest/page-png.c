// page-png.c: a page raster as PNG through libvips: to a file, optionally with
// every word box outlined, for people checking that boxes sit on the words
// (`docseek pages --png DIR`), or to memory, scaled down, for the service's
// upload page. Draws on a copy; the page is not changed.
#include "core/error.h"
#include "ingest/ingest-impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <vips/vips.h>

static void outline(uint8_t *rgb, int w, int h, int x0, int y0, int x1, int y1,
                    const uint8_t color[3]) {
    x0 = x0 < 0 ? 0 : x0, y0 = y0 < 0 ? 0 : y0;
    x1 = x1 >= w ? w - 1 : x1, y1 = y1 >= h ? h - 1 : y1;
    if (x1 < x0 || y1 < y0) return;
    for (int x = x0; x <= x1; x++) {
        memcpy(rgb + ((size_t)y0 * w + x) * 3, color, 3);
        memcpy(rgb + ((size_t)y1 * w + x) * 3, color, 3);
    }
    for (int y = y0; y <= y1; y++) {
        memcpy(rgb + ((size_t)y * w + x0) * 3, color, 3);
        memcpy(rgb + ((size_t)y * w + x1) * 3, color, 3);
    }
}

int ds_page_save_png(const ds_page *page, const char *path, int draw_words) {
    int rc = ds_ingest_libs_init();
    if (rc) return rc;
    size_t bytes = (size_t)page->img_w * page->img_h * 3;
    uint8_t *copy = malloc(bytes ? bytes : 1);
    if (!copy) return ds_error(DS_E_NOMEM, "out of memory");
    memcpy(copy, page->rgb, bytes);
    static const uint8_t red[3] = {220, 0, 0}, blue[3] = {0, 60, 220}, green[3] = {0, 160, 60};
    for (int i = 0; draw_words && i < page->n_words; i++) {
        const ds_word *wd = &page->words[i];
        float s = page->px_per_pt;
        outline(copy, page->img_w, page->img_h, (int)floorf(wd->box.x0 * s),
                (int)floorf(wd->box.y0 * s), (int)ceilf(wd->box.x1 * s), (int)ceilf(wd->box.y1 * s),
                wd->source == DS_WORD_OCR    ? blue
                : wd->source == DS_WORD_MARK ? green
                                             : red);
    }
    VipsImage *img =
        vips_image_new_from_memory(copy, bytes, page->img_w, page->img_h, 3, VIPS_FORMAT_UCHAR);
    if (!img || vips_pngsave(img, path, NULL) != 0) {
        char msg[512];
        rc = ds_error(DS_E_IO, "%s: cannot write PNG: %s", path,
                      ds_vips_error_line(msg, sizeof msg));
    }
    if (img) g_object_unref(img);
    free(copy);
    return rc;
}

int ds_page_png_memory(const ds_page *page, int max_side, void **png, size_t *len) {
    *png = NULL;
    *len = 0;
    int rc = ds_ingest_libs_init();
    if (rc) return rc;
    size_t bytes = (size_t)page->img_w * page->img_h * 3;
    VipsImage *img = vips_image_new_from_memory(page->rgb, bytes, page->img_w, page->img_h, 3,
                                                VIPS_FORMAT_UCHAR);
    VipsImage *small = NULL;
    int side = page->img_w > page->img_h ? page->img_w : page->img_h;
    double scale = max_side > 0 && side > max_side ? (double)max_side / side : 1.0;
    if (!img || (scale < 1 && vips_resize(img, &small, scale, NULL) != 0) ||
        vips_pngsave_buffer(small ? small : img, png, len, "compression", 6, NULL) != 0) {
        char msg[512];
        rc = ds_error(DS_E_INTERNAL, "cannot encode the page as PNG: %s",
                      ds_vips_error_line(msg, sizeof msg));
        *png = NULL;
        *len = 0;
    }
    if (small) g_object_unref(small);
    if (img) g_object_unref(img);
    return rc;
}
