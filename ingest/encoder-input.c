// encoder-input.c: the vision encoder's input for a page: the rendered raster
// resized (aspect kept, libvips' Lanczos resampling) to fit a square of
// enc_size, centred on white (letterboxing), and normalised per channel to
// (v / 255 - mean) / std in (C, H, W) order. It also records the map from page
// points to encoder pixels, so fusion can pool the features under a word's box.
#include "core/error.h"
#include "ingest/ingest-impl.h"

#include <math.h>
#include <string.h>
#include <vips/vips.h>

// Where the page lies in the encoder's square: nw pixels wide from (off_x, off_y).
static void set_geometry(ds_page *page, int S, int nw, int off_x, int off_y) {
    page->enc_size = S;
    page->enc_scale = (float)(page->px_per_pt * (double)nw / page->img_w);
    page->enc_off_x = (float)off_x;
    page->enc_off_y = (float)off_y;
}

int ds_page_encoder_input(ds_ingest_ctx *c, ds_page *page) {
    const int S = c->opts->enc_size;
    if (S <= 0 || c->opts->no_pixels) return 0;
    double scale = (double)S / (page->img_w > page->img_h ? page->img_w : page->img_h);
    int nw = (int)lround(page->img_w * scale), nh = (int)lround(page->img_h * scale);
    nw = nw < 1 ? 1 : nw > S ? S : nw;
    nh = nh < 1 ? 1 : nh > S ? S : nh;
    int off_x = (S - nw) / 2, off_y = (S - nh) / 2;
    if (c->opts->blank_pixels) { // a white square: the model reads no pixels of the page
        page->pixels = ds_ingest_alloc(c, (size_t)3 * S * S * sizeof(float));
        if (!page->pixels) return ds_error(DS_E_NOMEM, "out of memory for the encoder input");
        for (int ch = 0; ch < 3; ch++) {
            float white = (1.0f - c->opts->enc_mean[ch]) / c->opts->enc_std[ch];
            float *plane = page->pixels + (size_t)ch * S * S;
            for (size_t i = 0; i < (size_t)S * S; i++) plane[i] = white;
        }
        set_geometry(page, S, nw, off_x, off_y);
        return 0;
    }

    VipsImage *in = vips_image_new_from_memory(page->rgb, (size_t)page->img_w * page->img_h * 3,
                                               page->img_w, page->img_h, 3, VIPS_FORMAT_UCHAR);
    VipsImage *sized = NULL, *boxed = NULL;
    double bg[3] = {255, 255, 255};
    VipsArrayDouble *white = vips_array_double_new(bg, 3);
    int rc = 0;
    if (!in ||
        vips_resize(in, &sized, (double)nw / page->img_w, "vscale", (double)nh / page->img_h,
                    NULL) != 0 ||
        vips_embed(sized, &boxed, off_x, off_y, S, S, "extend", VIPS_EXTEND_BACKGROUND,
                   "background", white, NULL) != 0) {
        char msg[512];
        rc = ds_error(DS_E_INTERNAL, "resizing the page for the encoder failed: %s",
                      ds_vips_error_line(msg, sizeof msg));
        goto done;
    }
    size_t len = 0;
    uint8_t *px = vips_image_write_to_memory(boxed, &len);
    if (!px || len != (size_t)S * S * 3) {
        g_free(px);
        rc = ds_error(DS_E_INTERNAL, "encoder input has %zu bytes, expected %zu", len,
                      (size_t)S * S * 3);
        goto done;
    }
    page->pixels = ds_ingest_alloc(c, (size_t)3 * S * S * sizeof(float));
    if (!page->pixels) {
        g_free(px);
        rc = ds_error(DS_E_NOMEM, "out of memory for the encoder input");
        goto done;
    }
    for (int ch = 0; ch < 3; ch++) {
        float inv = 1.0f / (255.0f * c->opts->enc_std[ch]);
        float sub = c->opts->enc_mean[ch] / c->opts->enc_std[ch];
        float *plane = page->pixels + (size_t)ch * S * S;
        for (size_t i = 0; i < (size_t)S * S; i++) plane[i] = px[i * 3 + ch] * inv - sub;
    }
    g_free(px);
    set_geometry(page, S, nw, off_x, off_y);
done:
    vips_area_unref(VIPS_AREA(white));
    if (boxed) g_object_unref(boxed);
    if (sized) g_object_unref(sized);
    if (in) g_object_unref(in);
    return rc;
}
