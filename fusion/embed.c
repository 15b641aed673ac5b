// embed.c: the LM's input for every token: token embedding, plus for image
// tokens the projector output of their 2x2-merged patches (fusion a), plus
// for tokens with a box the four coordinate embeddings and the page
// embedding (b), plus the mean patch feature under the box through a linear
// map (c), plus the glyph strip under and beside the box through another (d).
// Each part only when the config switches it on.
#include "fusion/model-impl.h"

#include "core/error.h"
#include "kernels/row-plan.h"

#include <math.h>
#include <string.h>

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

// The (destination, source, scale) triples of one row movement; host memory.
typedef struct {
    int m;
    int32_t *dst, *src;
    float *scale; // NULL: all 1
} moves;

static int moves_alloc(moves *mv, int m, int scaled, ds_arena *arena) {
    ds_arena *h = ds_arena_host(arena);
    mv->m = 0;
    mv->dst = ds_arena_alloc(h, sizeof(int32_t) * ((size_t)m + 1));
    mv->src = ds_arena_alloc(h, sizeof(int32_t) * ((size_t)m + 1));
    mv->scale = scaled ? ds_arena_alloc(h, sizeof(float) * ((size_t)m + 1)) : NULL;
    if (!mv->dst || !mv->src || (scaled && !mv->scale))
        return ds_error(DS_E_NOMEM, "fusion: arena full (%d row moves)", m);
    return 0;
}

static void move(moves *mv, int dst, int src, float scale) {
    mv->dst[mv->m] = dst;
    mv->src[mv->m] = src;
    if (mv->scale) mv->scale[mv->m] = scale;
    mv->m++;
}

// The plan of the moves (reverse: sources and destinations swapped, for gradients).
static int plan_of(ds_ctx *ctx, ds_arena *arena, const moves *mv, int reverse, int n_dst,
                   ds_row_plan *plan) {
    return ds_row_plan_build(ctx, arena, reverse ? mv->src : mv->dst, reverse ? mv->dst : mv->src,
                             mv->scale, mv->m, n_dst, plan);
}

// 2x2 merge of P images' (G, G, D) features, F rows (P G G, D), into (P G/2 G/2, 4 D): the
// four cells of a block side by side, row-major within the block; as rows of D: merged row
// ((p (G/2) + my) (G/2) + mx) 4 + q takes F row p G G + (2 my + q / 2) G + 2 mx + q % 2.
static int merge_moves(moves *mv, int P, int G, ds_arena *arena) {
    int g2 = G / 2, rc = moves_alloc(mv, P * G * G, 0, arena);
    if (rc) return rc;
    for (int p = 0; p < P; p++)
        for (int my = 0; my < g2; my++)
            for (int mx = 0; mx < g2; mx++)
                for (int q = 0; q < 4; q++)
                    move(mv, ((p * g2 + my) * g2 + mx) * 4 + q,
                         p * G * G + (2 * my + q / 2) * G + 2 * mx + q % 2, 1.0f);
    return 0;
}

// Each token with an image token (img >= 0) takes its prefix row.
static int img_moves(moves *mv, const ds_batch *b, ds_arena *arena) {
    int rc = moves_alloc(mv, b->N, 0, arena);
    for (int t = 0; t < b->N && !rc; t++)
        if (b->img[t] >= 0) move(mv, t, b->img[t], 1.0f);
    return rc;
}

// Each token with a box takes its four coordinate rows of the box tables (x0, y0, x1, y1
// stacked, DS_BOX_BINS rows each) and, in page_mv, its page's row.
static int box_moves(moves *mv, moves *page_mv, const ds_batch *b, ds_arena *arena) {
    int rc = moves_alloc(mv, 4 * b->N, 0, arena);
    if (!rc) rc = moves_alloc(page_mv, b->N, 0, arena);
    for (int t = 0; t < b->N && !rc; t++) {
        const int32_t *bx = b->box + 4 * t;
        if (bx[0] < 0) continue;
        for (int j = 0; j < 4; j++) move(mv, t, j * DS_BOX_BINS + bx[j], 1.0f);
        move(page_mv, t, b->page[t], 1.0f);
    }
    return rc;
}

// ROI pooling: row i of pooled is the mean of the patch cells (F rows) under box i.
static int pool_moves(moves *mv, const ds_model_cfg *cfg, const ds_batch *b, const ds_fwd *f,
                      ds_arena *arena) {
    int G = ds_cfg_grid(cfg), n = 0, c[4];
    for (int i = 0; i < f->n_roi; i++) {
        roi_cells(b->roi + 5 * f->roi_tok[i], cfg->patch, G, c);
        n += (c[2] - c[0]) * (c[3] - c[1]);
    }
    int rc = moves_alloc(mv, n, 1, arena);
    for (int i = 0; i < f->n_roi && !rc; i++) {
        const int32_t *r = b->roi + 5 * f->roi_tok[i];
        roi_cells(r, cfg->patch, G, c);
        int cnt = (c[2] - c[0]) * (c[3] - c[1]);
        for (int gy = c[1]; gy < c[3]; gy++)
            for (int gx = c[0]; gx < c[2]; gx++)
                move(mv, i, r[0] * G * G + gy * G + gx, 1.0f / cnt);
    }
    return rc;
}

#define TRY(call)                                                                                  \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        if (rc_) return rc_;                                                                       \
    } while (0)

int ds_embed_forward(ds_model *m, ds_ctx *ctx, const ds_batch *b, ds_fwd *f, ds_arena *arena) {
    const ds_ops *ops = ctx->ops;
    const ds_model_cfg *cfg = &m->cfg;
    const ds_weights *w = &m->w;
    int N = b->N, C = cfg->dim, D = cfg->vit_dim, G = ds_cfg_grid(cfg);
    f->ids = ds_ctx_i32(ctx, arena, b->ids, N); // kept for the backward
    if (!f->ids) return ds_error(DS_E_NOMEM, "fusion: arena full");
    DS_ALLOC(f->x0, (size_t)N * C);
    ops->embedding_forward(ctx, f->x0, f->ids, w->lm.tok_emb, N, cfg->vocab, C);
    f->has_vit = ds_cfg_use_vit(cfg) && b->P > 0;
    if (f->has_vit) TRY(ds_vit_forward(ctx, cfg, &w->vit, b->pixels, b->P, &f->vit, arena));
    const float *F = f->has_vit ? f->vit.out : NULL;
    moves mv, mv2;
    ds_row_plan plan;
    if (cfg->use_prefix && f->has_vit) {
        int Mi = b->P * ds_cfg_img_tokens(cfg);
        f->n_imgtok = Mi;
        DS_ALLOC(f->merged, (size_t)Mi * 4 * D);
        DS_ALLOC(f->m1, (size_t)Mi * C);
        DS_ALLOC(f->g1, (size_t)Mi * C);
        DS_ALLOC(f->pre, (size_t)Mi * C);
        TRY(merge_moves(&mv, b->P, G, arena));
        TRY(plan_of(ctx, arena, &mv, 0, Mi * 4, &plan));
        ops->zero(ctx, f->merged, sizeof(float) * Mi * 4 * D);
        ds_row_plan_apply(ctx, &plan, f->merged, F, D);
        ops->matmul_forward(ctx, f->m1, f->merged, w->fu.proj1_w, w->fu.proj1_b, Mi, 4 * D, C);
        ops->gelu_forward(ctx, f->g1, f->m1, (int64_t)Mi * C);
        ops->matmul_forward(ctx, f->pre, f->g1, w->fu.proj2_w, w->fu.proj2_b, Mi, C, C);
        TRY(img_moves(&mv, b, arena));
        TRY(plan_of(ctx, arena, &mv, 0, N, &plan));
        ds_row_plan_apply(ctx, &plan, f->x0, f->pre, C);
    }
    if (cfg->use_box) {
        TRY(box_moves(&mv, &mv2, b, arena));
        TRY(plan_of(ctx, arena, &mv, 0, N, &plan));
        ds_row_plan_apply(ctx, &plan, f->x0, w->fu.box, C);
        TRY(plan_of(ctx, arena, &mv2, 0, N, &plan));
        ds_row_plan_apply(ctx, &plan, f->x0, w->fu.page, C);
    }
    int R = 0; // the tokens with a box on a page (fusions c and d)
    if (b->P > 0 && ((cfg->use_roi && f->has_vit) || cfg->use_glyph)) {
        for (int t = 0; t < N; t++) R += b->roi[5 * t] >= 0;
        DS_ARENA_HOST_ALLOC(arena, f->roi_tok, R);
        R = 0;
        for (int t = 0; t < N; t++)
            if (b->roi[5 * t] >= 0) f->roi_tok[R++] = t;
    }
    f->n_roi = R;
    if (R == 0) return 0;
    float *rv;
    DS_ALLOC(rv, (size_t)R * C);
    ds_row_plan to_tokens;
    TRY(ds_row_plan_gather(ctx, arena, f->roi_tok, R, N, 1, &to_tokens)); // row i to its token
    if (cfg->use_roi && f->has_vit) {
        DS_ALLOC(f->pooled, (size_t)R * D);
        TRY(pool_moves(&mv, cfg, b, f, arena));
        TRY(plan_of(ctx, arena, &mv, 0, R, &plan));
        ops->zero(ctx, f->pooled, sizeof(float) * R * D);
        ds_row_plan_apply(ctx, &plan, f->pooled, F, D);
        ops->matmul_forward(ctx, rv, f->pooled, w->fu.roi_w, w->fu.roi_b, R, D, C);
        ds_row_plan_apply(ctx, &to_tokens, f->x0, rv, C);
    }
    if (cfg->use_glyph) { // strips of the host's pixels, made there and sent up
        float *glyph;
        DS_ARENA_HOST_ALLOC(arena, glyph, (size_t)R * DS_GLYPH_DIM);
        for (int i = 0; i < R; i++)
            ds_glyph_strip(glyph + (size_t)i * DS_GLYPH_DIM, b->pixels, cfg->img_size,
                           b->roi + 5 * f->roi_tok[i]);
        f->glyph = glyph;
        if (!ds_arena_in_host_memory(arena)) {
            DS_ALLOC(f->glyph, (size_t)R * DS_GLYPH_DIM);
            ops->upload(ctx, f->glyph, glyph, sizeof(float) * R * DS_GLYPH_DIM);
        }
        ops->matmul_forward(ctx, rv, f->glyph, w->fu.glyph_w, w->fu.glyph_b, R, DS_GLYPH_DIM, C);
        ds_row_plan_apply(ctx, &to_tokens, f->x0, rv, C);
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
    ops->embedding_backward(ctx, g->lm.tok_emb, dx0, f->ids, N, cfg->vocab, C);
    moves mv, mv2;
    ds_row_plan plan;
    if (cfg->use_box) { // each table row gathers its tokens' gradients, in token order
        TRY(box_moves(&mv, &mv2, b, arena));
        TRY(plan_of(ctx, arena, &mv, 1, 4 * DS_BOX_BINS, &plan));
        ds_row_plan_apply(ctx, &plan, g->fu.box, dx0, C);
        TRY(plan_of(ctx, arena, &mv2, 1, cfg->max_pages, &plan));
        ds_row_plan_apply(ctx, &plan, g->fu.page, dx0, C);
    }
    float *drv = NULL; // dx0 of the tokens with a box, gathered (fusions c and d)
    if (f->n_roi > 0) {
        DS_ALLOC(drv, (size_t)f->n_roi * C);
        TRY(ds_row_plan_gather(ctx, arena, f->roi_tok, f->n_roi, N, 0, &plan));
        ops->zero(ctx, drv, sizeof(float) * f->n_roi * C);
        ds_row_plan_apply(ctx, &plan, drv, dx0, C);
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
        TRY(pool_moves(&mv, cfg, b, f, arena));
        TRY(plan_of(ctx, arena, &mv, 1, b->P * Tv, &plan));
        ds_row_plan_apply(ctx, &plan, dF, dpool, D);
    }
    if (cfg->use_prefix) {
        int Mi = f->n_imgtok;
        float *dpre, *dg1, *dm1, *dmerged;
        DS_ALLOC(dpre, (size_t)Mi * C);
        DS_ALLOC(dg1, (size_t)Mi * C);
        DS_ALLOC(dm1, (size_t)Mi * C);
        DS_ALLOC(dmerged, (size_t)Mi * 4 * D);
        ops->zero(ctx, dpre, sizeof(float) * Mi * C);
        TRY(img_moves(&mv, b, arena));
        TRY(plan_of(ctx, arena, &mv, 1, Mi, &plan));
        ds_row_plan_apply(ctx, &plan, dpre, dx0, C);
        ops->zero(ctx, dg1, sizeof(float) * Mi * C);
        ops->matmul_backward(ctx, dg1, g->fu.proj2_w, g->fu.proj2_b, dpre, f->g1, w->fu.proj2_w, Mi,
                             C, C);
        ops->zero(ctx, dm1, sizeof(float) * Mi * C);
        ops->gelu_backward(ctx, dm1, dg1, f->m1, (int64_t)Mi * C);
        ops->zero(ctx, dmerged, sizeof(float) * Mi * 4 * D);
        ops->matmul_backward(ctx, dmerged, g->fu.proj1_w, g->fu.proj1_b, dm1, f->merged,
                             w->fu.proj1_w, Mi, 4 * D, C);
        TRY(merge_moves(&mv, b->P, G, arena));
        TRY(plan_of(ctx, arena, &mv, 1, b->P * Tv, &plan));
        ds_row_plan_apply(ctx, &plan, dF, dmerged, D);
    }
    int rc = ds_vit_backward(ctx, cfg, &w->vit, &g->vit, &f->vit, dF, arena);
    ds_arena_rewind(arena, mark);
    return rc;
}
