// image.c: PNG, JPEG, TIFF (every page), WebP, GIF (first frame) and BMP
// through libvips. The header is read first and the pixel count checked against
// the limit before any pixel is decoded, because libvips itself does not stop
// decompression bombs. Decoding is sequential and fails on the first decode
// error (a truncated JPEG is an error, not a half-grey page); EXIF orientation
// is applied, alpha flattened on white, colour converted to 8-bit sRGB.
// Image pages get their words from OCR unless ocr = never or the caller gives them.
#include "core/error.h"
#include "core/timer.h"
#include "ingest/ingest-impl.h"

#include <math.h>
#include <string.h>
#include <vips/vips.h>

// The loader's header for page `index` (all formats accept these options since 8.12).
static VipsImage *load_header(const void *data, size_t size, int index, int multipage) {
    if (multipage)
        return vips_image_new_from_buffer(data, size, "", "access", VIPS_ACCESS_SEQUENTIAL,
                                          "fail_on", VIPS_FAIL_ON_ERROR, "page", index, NULL);
    return vips_image_new_from_buffer(data, size, "", "access", VIPS_ACCESS_SEQUENTIAL, "fail_on",
                                      VIPS_FAIL_ON_ERROR, NULL);
}

static int vips_fail(int code, int page, const char *what) {
    char msg[512];
    return ds_error(code, "page %d: %s: %s", page + 1, what, ds_vips_error_line(msg, sizeof msg));
}

// Decodes one page into 8-bit sRGB in the document arena.
static int decode_page(ds_ingest_ctx *c, VipsImage *hdr, ds_page *page, int index) {
    int64_t pixels = (int64_t)hdr->Xsize * hdr->Ysize;
    if (c->opts->max_pixels && pixels > c->opts->max_pixels)
        return ds_error(DS_E_TOO_MANY_PIXELS,
                        "page %d: image of %dx%d = %lld pixels exceeds the limit of %lld pixels",
                        index + 1, hdr->Xsize, hdr->Ysize, (long long)pixels,
                        (long long)c->opts->max_pixels);
    VipsImage *t[5] = {0};
    int rc = 0;
    double white[1] = {255};
    VipsImage *cur = hdr;
    if (vips_autorot(cur, &t[0], NULL) != 0) {
        rc = vips_fail(DS_E_FORMAT, index, "cannot apply orientation");
        goto done;
    }
    cur = t[0];
    if (vips_image_hasalpha(cur)) {
        VipsArrayDouble *bg = vips_array_double_new(white, 1);
        int frc = vips_flatten(cur, &t[1], "background", bg, NULL);
        vips_area_unref(VIPS_AREA(bg));
        if (frc != 0) {
            rc = vips_fail(DS_E_FORMAT, index, "cannot flatten alpha");
            goto done;
        }
        cur = t[1];
    }
    if (vips_colourspace(cur, &t[2], VIPS_INTERPRETATION_sRGB, NULL) != 0 ||
        vips_cast(t[2], &t[3], VIPS_FORMAT_UCHAR, NULL) != 0) {
        rc = vips_fail(DS_E_FORMAT, index, "cannot convert to sRGB");
        goto done;
    }
    cur = t[3];
    if (cur->Bands > 3) { // e.g. CMYK converted with an extra band left: keep RGB
        if (vips_extract_band(cur, &t[4], 0, "n", 3, NULL) != 0) {
            rc = vips_fail(DS_E_FORMAT, index, "cannot select RGB bands");
            goto done;
        }
        cur = t[4];
    }
    if (cur->Bands != 3) {
        rc = ds_error(DS_E_UNSUPPORTED, "page %d: %d colour bands after conversion to sRGB",
                      index + 1, cur->Bands);
        goto done;
    }
    size_t len = 0;
    uint8_t *px = vips_image_write_to_memory(cur, &len);
    if (!px) {
        rc = vips_fail(DS_E_FORMAT, index, "decoding failed (damaged or truncated image)");
        goto done;
    }
    page->img_w = cur->Xsize;
    page->img_h = cur->Ysize;
    page->rgb = ds_ingest_alloc(c, len);
    if (!page->rgb) {
        g_free(px);
        rc = ds_error(DS_E_NOMEM, "page %d: out of memory for %zu bytes", index + 1, len);
        goto done;
    }
    memcpy(page->rgb, px, len);
    g_free(px);
    // Pages are measured in points like PDF pages: the image's own resolution when it
    // states a plausible one, else 1 pixel = 1 point (72 dpi).
    double dpi = vips_image_get_xres(hdr) * 25.4;
    if (!(dpi >= 50 && dpi <= 2400)) dpi = 72;
    page->px_per_pt = (float)(dpi / 72.0);
    page->width_pt = (float)(page->img_w / page->px_per_pt);
    page->height_pt = (float)(page->img_h / page->px_per_pt);
done:
    for (int i = 4; i >= 0; i--)
        if (t[i]) g_object_unref(t[i]);
    return rc;
}

int ds_image_ingest(ds_ingest_ctx *c, const void *data, size_t size, ds_format fmt) {
    VipsImage *first = load_header(data, size, 0, 0);
    if (!first) return vips_fail(DS_E_FORMAT, 0, "not a readable image");
    int n_pages = 1;
    if (fmt == DS_FORMAT_TIFF) n_pages = vips_image_get_n_pages(first);
    if (n_pages < 1) n_pages = 1;
    if (c->opts->max_pages && n_pages > c->opts->max_pages) {
        g_object_unref(first);
        return ds_error(DS_E_TOO_MANY_PAGES, "image has %d pages, the limit is %d", n_pages,
                        c->opts->max_pages);
    }
    ds_doc *doc = c->doc;
    doc->pages = ds_ingest_alloc(c, (size_t)n_pages * sizeof(ds_page));
    if (!doc->pages) {
        g_object_unref(first);
        return ds_error(DS_E_NOMEM, "out of memory");
    }
    memset(doc->pages, 0, (size_t)n_pages * sizeof(ds_page));
    doc->n_pages = n_pages;
    int rc = 0;
    for (int i = 0; i < n_pages && rc == 0; i++) {
        rc = ds_ingest_check_time(c, i);
        if (rc) break;
        ds_page *page = &doc->pages[i];
        double t0 = ds_time_s();
        VipsImage *hdr = i == 0 ? first : load_header(data, size, i, 1);
        if (!hdr) {
            rc = vips_fail(DS_E_FORMAT, i, "cannot read the page header");
            break;
        }
        rc = decode_page(c, hdr, page, i);
        if (hdr != first) g_object_unref(hdr);
        page->ms_render = (ds_time_s() - t0) * 1e3;
        if (rc) break;
        if (c->opts->given)
            rc = ds_page_given_words(c, page, i);
        else if (c->opts->ocr != DS_OCR_NEVER)
            rc = ds_page_ocr(c, page, i);
        if (rc == 0 && !c->opts->no_marks) rc = ds_page_find_marks(c, page);
        if (rc == 0) rc = ds_page_encoder_input(c, page);
    }
    g_object_unref(first);
    return rc;
}
