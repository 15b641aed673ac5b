// embed.c: the LM's input for every token: token embedding, plus for image
// tokens the projector output of their 2x2-merged patches (fusion a), plus
// for tokens with a box the four coordinate embeddings and the page
// embedding (b), plus the mean patch feature under the box through a linear
// map (c), plus the glyph strip under and beside the box through another (d).
// Each part only when the config switches it on.
#include "fusion/model-impl.h"

#include "core/error.h"
#include "kernels/glue.h"

#include <math.h>
#include <string.h>

// 2x2 merge of one image's (G, G, D) features into (G/2, G/2, 4 D): the four
// cells of a block side by side, row-major within the block.
static void merge2x2(float *out, const float *F, int G, int D, int reverse) {
    int g2 = G / 2;
    for (int my = 0; my < g2; my++)
        for (int mx = 0; mx < g2; mx++)
            for (int q = 0; q < 4; q++) {
                float *o = out + ((size_t)(my * g2 + mx) * 4 + q) * D;
                float *f = (float *)F + ((size_t)(2 * my + q / 2) * G + 2 * mx + q % 2) * D;
                if (!reverse)
                    memcpy(o, f, sizeof(float) * D);
                else
                    for (int d = 0; d < D; d++) f[d] += o[d];
            }
}

// The patch cells [gx0, gx1) x [gy0, gy1) a ROI box (encoder pixels) covers.
static void roi_cells(const int32_t *r, int patch, int G, int *c) {
    c[0] = r[1] / patch;
    c[1] = r[2] / patch;
    c[2] = (r[3] + patch - 1) / patch;
    c[3] = (r[4] + patch - 1) / patch;
    for (int j = 0; j < 2; j++) {
        c[j] = c[j] > G - 1 ? G - 1 : c[j];
        c[j + 2] = c[j + 2] <= c[j] ? c[j] + 1 : c[j + 2] > G ? G : c[j + 2];
    }
}

// Ink (0 white .. 1 black) of one encoder image (3, S, S; values in [-1, 1]) at
// (x, y) in pixels, bilinear between pixel centres; white outside the image.
static float ink_at(const float *px, int S, float x, float y) {
    float sx = x - 0.5f, sy = y - 0.5f;
    int ix = (int)floorf(sx), iy = (int)floorf(sy);
    float fx = sx - ix, fy = sy - iy, v = 0;
    for (int dy = 0; dy < 2; dy++)
        for (int dx = 0; dx < 2; dx++) {
            int xx = ix + dx, yy = iy + dy;
            if (xx < 0 || yy < 0 || xx >= S || yy >= S) continue;
            size_t o = (size_t)yy * S + xx, plane = (size_t)S * S;
            float gray = (px[o] + px[o + plane] + px[o + 2 * plane]) / 3.0f;
            v += (dx ? fx : 1 - fx) * (dy ? fy : 1 - fy) * (1.0f - gray) * 0.5f;
        }
    return v;
}

// Fusion (d): the glyph strip of one box (page, x0, y0, x1, y1 in encoder
// pixels) into out (DS_GLYPH_DIM, row-major): DS_GLYPH_ROWS rows from a quarter height above the
// box to a quarter below; columns over a margin of twice the height on the left, the box, and the
// same margin on the right; each cell the mean of 2x2 samples, so strokes thinner
// than a cell are not missed.
void ds_glyph_strip(float *out, const float *pixels, int S, const int32_t *r) {
    const float *px = pixels + (size_t)r[0] * 3 * S * S;
    float x0 = (float)r[1], x1 = (float)r[3], h = (float)(r[4] - r[2]);
    float m = 2 * h, ya = r[2] - h / 4, ch = 1.5f * h / DS_GLYPH_ROWS;
    const int MC = DS_GLYPH_MARGIN_COLS, WC = DS_GLYPH_WORD_COLS;
    for (int j = 0; j < DS_GLYPH_COLS; j++) {
        float cx, cw;
        if (j < MC)
            cw = m / MC, cx = x0 - m + j * cw;
        else if (j < MC + WC)
            cw = (x1 - x0) / WC, cx = x0 + (j - MC) * cw;
        else
            cw = m / MC, cx = x1 + (j - MC - WC) * cw;
        for (int i = 0; i < DS_GLYPH_ROWS; i++) {
            float cy = ya + i * ch, v = 0;
            for (int s = 0; s < 4; s++)
                v += ink_at(px, S, cx + cw * (s % 2 ? 0.75f : 0.25f),
                            cy + ch * (s / 2 ? 0.75f : 0.25f));
            out[i * DS_GLYPH_COLS + j] = 0.25f * v;
        }
    }
}

int ds_embed_forward(ds_model *m, ds_ctx *ctx, const ds_batch *b, ds_fwd *f, ds_arena *arena) {
    const ds_ops *ops = ctx->ops;
    const ds_model_cfg *cfg = &m->cfg;
    const ds_weights *w = &m->w;
    int N = b->N, C = cfg->dim, D = cfg->vit_dim, G = ds_cfg_grid(cfg), Tv = G * G;
    DS_ALLOC(f->x0, (size_t)N * C);
    ops->embedding_forward(ctx, f->x0, b->ids, w->lm.tok_emb, N, cfg->vocab, C);
    f->has_vit = ds_cfg_use_vit(cfg) && b->P > 0;
    if (f->has_vit) {
        int rc = ds_vit_forward(ctx, cfg, &w->vit, b->pixels, b->P, &f->vit, arena);
        if (rc) return rc;
    }
    const float *F = f->has_vit ? f->vit.out : NULL;
    if (cfg->use_prefix && f->has_vit) {
        int Mi = b->P * ds_cfg_img_tokens(cfg);
        f->n_imgtok = Mi;
        DS_ALLOC(f->merged, (size_t)Mi * 4 * D);
        DS_ALLOC(f->m1, (size_t)Mi * C);
        DS_ALLOC(f->g1, (size_t)Mi * C);
        DS_ALLOC(f->pre, (size_t)Mi * C);
        for (int p = 0; p < b->P; p++)
            merge2x2(f->merged + (size_t)p * (Tv / 4) * 4 * D, F + (size_t)p * Tv * D, G, D, 0);
        ops->matmul_forward(ctx, f->m1, f->merged, w->fu.proj1_w, w->fu.proj1_b, Mi, 4 * D, C);
        ops->gelu_forward(ctx, f->g1, f->m1, (int64_t)Mi * C);
        ops->matmul_forward(ctx, f->pre, f->g1, w->fu.proj2_w, w->fu.proj2_b, Mi, C, C);
        for (int t = 0; t < N; t++)
            if (b->img[t] >= 0)
                ds_row_axpy(f->x0 + (size_t)t * C, f->pre + (size_t)b->img[t] * C, 1.0f, C);
    }
    if (cfg->use_box)
        for (int t = 0; t < N; t++) {
            const int32_t *bx = b->box + 4 * t;
            if (bx[0] < 0) continue;
            float *x = f->x0 + (size_t)t * C;
            for (int j = 0; j < 4; j++)
                ds_row_axpy(x, w->fu.box + ((size_t)j * DS_BOX_BINS + bx[j]) * C, 1.0f, C);
            ds_row_axpy(x, w->fu.page + (size_t)b->page[t] * C, 1.0f, C);
        }
    int R = 0; // the tokens with a box on a page (fusions c and d)
    if (b->P > 0 && ((cfg->use_roi && f->has_vit) || cfg->use_glyph)) {
        for (int t = 0; t < N; t++) R += b->roi[5 * t] >= 0;
        DS_ALLOC(f->roi_tok, R);
        R = 0;
        for (int t = 0; t < N; t++)
            if (b->roi[5 * t] >= 0) f->roi_tok[R++] = t;
    }
    f->n_roi = R;
    float *rv = NULL;
    if (R > 0) DS_ALLOC(rv, (size_t)R * C);
    if (cfg->use_roi && f->has_vit && R > 0) {
        DS_ALLOC(f->pooled, (size_t)R * D);
        for (int i = 0; i < R; i++) {
            const int32_t *r = b->roi + 5 * f->roi_tok[i];
            float *pool = f->pooled + (size_t)i * D;
            memset(pool, 0, sizeof(float) * D);
            int c[4];
            roi_cells(r, cfg->patch, G, c);
            int cnt = (c[2] - c[0]) * (c[3] - c[1]);
            for (int gy = c[1]; gy < c[3]; gy++)
                for (int gx = c[0]; gx < c[2]; gx++)
                    ds_row_axpy(pool, F + ((size_t)r[0] * Tv + gy * G + gx) * D, 1.0f / cnt, D);
        }
        ops->matmul_forward(ctx, rv, f->pooled, w->fu.roi_w, w->fu.roi_b, R, D, C);
        for (int i = 0; i < R; i++)
            ds_row_axpy(f->x0 + (size_t)f->roi_tok[i] * C, rv + (size_t)i * C, 1.0f, C);
    }
    if (cfg->use_glyph && R > 0) {
        DS_ALLOC(f->glyph, (size_t)R * DS_GLYPH_DIM);
        for (int i = 0; i < R; i++)
            ds_glyph_strip(f->glyph + (size_t)i * DS_GLYPH_DIM, b->pixels, cfg->img_size,
                           b->roi + 5 * f->roi_tok[i]);
        ops->matmul_forward(ctx, rv, f->glyph, w->fu.glyph_w, w->fu.glyph_b, R, DS_GLYPH_DIM, C);
        for (int i = 0; i < R; i++)
            ds_row_axpy(f->x0 + (size_t)f->roi_tok[i] * C, rv + (size_t)i * C, 1.0f, C);
    }
    return 0;
}

int ds_embed_backward(ds_model *m, ds_ctx *ctx, const ds_batch *b, ds_fwd *f, ds_weights *g,
                      const float *dx0, ds_arena *arena) {
    const ds_ops *ops = ctx->ops;
    const ds_model_cfg *cfg = &m->cfg;
    const ds_weights *w = &m->w;
    int N = b->N, C = cfg->dim, D = cfg->vit_dim, G = ds_cfg_grid(cfg), Tv = G * G;
    ds_arena_mark_t mark = ds_arena_mark(arena);
    ops->embedding_backward(ctx, g->lm.tok_emb, dx0, b->ids, N, cfg->vocab, C);
    if (cfg->use_box)
        for (int t = 0; t < N; t++) {
            const int32_t *bx = b->box + 4 * t;
            if (bx[0] < 0) continue;
            for (int j = 0; j < 4; j++)
                ds_row_axpy(g->fu.box + ((size_t)j * DS_BOX_BINS + bx[j]) * C, dx0 + (size_t)t * C,
                            1.0f, C);
            ds_row_axpy(g->fu.page + (size_t)b->page[t] * C, dx0 + (size_t)t * C, 1.0f, C);
        }
    float *drv = NULL; // dx0 of the tokens with a box, gathered (fusions c and d)
    if (f->n_roi > 0) {
        DS_ALLOC(drv, (size_t)f->n_roi * C);
        for (int i = 0; i < f->n_roi; i++)
            memcpy(drv + (size_t)i * C, dx0 + (size_t)f->roi_tok[i] * C, sizeof(float) * C);
    }
    if (cfg->use_glyph && f->n_roi > 0) // the strip is data: only the map learns
        ops->matmul_backward(ctx, NULL, g->fu.glyph_w, g->fu.glyph_b, drv, f->glyph, w->fu.glyph_w,
                             f->n_roi, DS_GLYPH_DIM, C);
    if (!f->has_vit) {
        ds_arena_rewind(arena, mark);
        return 0;
    }
    float *dF;
    DS_ALLOC(dF, (size_t)b->P * Tv * D);
    ops->zero(ctx, dF, sizeof(float) * b->P * Tv * D);
    if (cfg->use_roi && f->n_roi > 0) {
        int R = f->n_roi;
        float *dpool;
        DS_ALLOC(dpool, (size_t)R * D);
        ops->zero(ctx, dpool, sizeof(float) * R * D);
        ops->matmul_backward(ctx, dpool, g->fu.roi_w, g->fu.roi_b, drv, f->pooled, w->fu.roi_w, R,
                             D, C);
        for (int i = 0; i < R; i++) {
            const int32_t *r = b->roi + 5 * f->roi_tok[i];
            int c[4];
            roi_cells(r, cfg->patch, G, c);
            int cnt = (c[2] - c[0]) * (c[3] - c[1]);
            for (int gy = c[1]; gy < c[3]; gy++)
                for (int gx = c[0]; gx < c[2]; gx++)
                    ds_row_axpy(dF + ((size_t)r[0] * Tv + gy * G + gx) * D, dpool + (size_t)i * D,
                                1.0f / cnt, D);
        }
    }
    if (cfg->use_prefix) {
        int Mi = f->n_imgtok;
        float *dpre, *dg1, *dm1, *dmerged;
        DS_ALLOC(dpre, (size_t)Mi * C);
        DS_ALLOC(dg1, (size_t)Mi * C);
        DS_ALLOC(dm1, (size_t)Mi * C);
        DS_ALLOC(dmerged, (size_t)Mi * 4 * D);
        ops->zero(ctx, dpre, sizeof(float) * Mi * C);
        for (int t = 0; t < N; t++)
            if (b->img[t] >= 0)
                ds_row_axpy(dpre + (size_t)b->img[t] * C, dx0 + (size_t)t * C, 1.0f, C);
        ops->zero(ctx, dg1, sizeof(float) * Mi * C);
        ops->matmul_backward(ctx, dg1, g->fu.proj2_w, g->fu.proj2_b, dpre, f->g1, w->fu.proj2_w, Mi,
                             C, C);
        ops->zero(ctx, dm1, sizeof(float) * Mi * C);
        ops->gelu_backward(ctx, dm1, dg1, f->m1, (int64_t)Mi * C);
        ops->zero(ctx, dmerged, sizeof(float) * Mi * 4 * D);
        ops->matmul_backward(ctx, dmerged, g->fu.proj1_w, g->fu.proj1_b, dm1, f->merged,
                             w->fu.proj1_w, Mi, 4 * D, C);
        for (int p = 0; p < b->P; p++)
            merge2x2(dmerged + (size_t)p * (Tv / 4) * 4 * D, dF + (size_t)p * Tv * D, G, D, 1);
    }
    int rc = ds_vit_backward(ctx, cfg, &w->vit, &g->vit, &f->vit, dF, arena);
    ds_arena_rewind(arena, mark);
    return rc;
}
