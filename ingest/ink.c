// ink.c: the page raster as an ink mask and its connected shapes, shared by
// the check-box finder (marks.c) and the reader of text drawn as graphics
// (graphic-text.c).
#include "core/error.h"
#include "ingest/ingest-impl.h"

#include <stdint.h>
#include <stdlib.h>

// The mask is kept near 144 dpi (f x f raster pixels per cell, inked when any
// is): a 7 pt box is still 14 cells, and a 600 dpi scan does not cost 6 bytes
// per raster pixel here.
uint8_t *ds_page_ink(const ds_page *page, int level, int *W_out, int *H_out, float *ppt) {
    *W_out = *H_out = 0;
    if (!page->rgb || page->img_w <= 0 || page->img_h <= 0 || page->px_per_pt <= 0) return NULL;
    int f = (int)(page->px_per_pt / 2.0f);
    f = f < 1 ? 1 : f;
    int W = (page->img_w + f - 1) / f, H = (page->img_h + f - 1) / f;
    if ((int64_t)W * H > INT32_MAX) return NULL; // stack indices are 32-bit
    uint8_t *ink = calloc((size_t)W * H, 1);
    if (!ink) {
        *W_out = -1;
        return NULL;
    }
    for (int y = 0; y < page->img_h; y++)
        for (int x = 0; x < page->img_w; x++) {
            const uint8_t *v = page->rgb + 3 * ((size_t)y * page->img_w + x);
            if ((299 * v[0] + 587 * v[1] + 114 * v[2]) / 1000 < level)
                ink[(size_t)(y / f) * W + x / f] = 1;
        }
    *W_out = W, *H_out = H;
    *ppt = page->px_per_pt / f;
    return ink;
}

// Flood fill with an explicit stack; every cell is pushed at most once.
int ds_ink_components(uint8_t *ink, int W, int H, ds_rect **out, int *n_out) {
    size_t N = (size_t)W * H;
    uint8_t *seen = calloc(N, 1);
    int32_t *stack = malloc(N * sizeof *stack);
    ds_rect *rs = NULL;
    int n = 0, cap = 0;
    if (!seen || !stack) goto nomem;
    for (size_t p = 0; p < N; p++) {
        if (!ink[p] || seen[p]) continue;
        ds_rect r = {(int)(p % W), (int)(p / W), (int)(p % W) + 1, (int)(p / W) + 1};
        size_t top = 0;
        stack[top++] = (int32_t)p;
        seen[p] = 1;
        while (top > 0) {
            int32_t q = stack[--top];
            int x = q % W, y = q / W;
            if (x < r.x0) r.x0 = x;
            if (x >= r.x1) r.x1 = x + 1;
            if (y >= r.y1) r.y1 = y + 1;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    int xx = x + dx, yy = y + dy;
                    if (xx < 0 || yy < 0 || xx >= W || yy >= H) continue;
                    size_t o = (size_t)yy * W + xx;
                    if (ink[o] && !seen[o]) seen[o] = 1, stack[top++] = (int32_t)o;
                }
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            ds_rect *g = realloc(rs, (size_t)cap * sizeof *g);
            if (!g) goto nomem;
            rs = g;
        }
        rs[n++] = r;
    }
    free(seen);
    free(stack);
    *out = rs;
    *n_out = n;
    return 0;
nomem:
    free(seen);
    free(stack);
    free(rs);
    return ds_error(DS_E_NOMEM, "out of memory finding the ink's shapes");
}
