// test-cuda-model.c: the model's layer stacks on the GPU against the CPU. The MoE
// language model (grouped-query attention in a sliding window over two packed
// sequences with bidirectional prefixes, a dense and a MoE feed-forward, routing
// with a selection bias, the balance loss) and the ViT encoder run forward and
// backward through the CUDA table with the parameters in one device allocation and
// the activations in a device arena, then through the CPU table on the same
// parameters and inputs. Outputs, every parameter's gradient and the input's
// gradient are compared (GEMMs in full f32; the stacks compound each op's rounding,
// so the tolerance is wider than one op's), and the experts chosen must be the
// same. With bf16 GEMMs the last attention output is compared by relative norm.
// Under the CUDA emulator (tests/cuda-emu) device memory is out of the host's
// reach, so host code that reads an activation directly fails here.
#include "tests/test.h"
#include "core/error.h"
#include "fusion/model-impl.h"
#include "tests/cuda-parity.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STACK_ATOL 2e-4
#define STACK_RTOL 2e-3

// Every parameter gradient whose name starts with prefix: device against host.
static int64_t check_grads(ds_ctx *g, const ds_model *m, const float *dev_grads, const float *grads,
                           const char *prefix) {
    int64_t fails = 0;
    int n = 0;
    for (int i = 0; i < m->table.n; i++) {
        const ds_param *p = &m->table.items[i];
        if (strncmp(p->name, prefix, strlen(prefix)) != 0) continue;
        fails += ds_par_check(g, p->name, dev_grads + p->offset, grads + p->offset, p->numel,
                              STACK_ATOL, STACK_RTOL);
        n++;
    }
    printf("  %d gradients compared (%s)\n", n, *prefix ? prefix : "every tensor");
    return fails + (n == 0);
}

#ifdef DS_HAVE_CUDA
// ||a - b|| / ||b|| over n host values.
static double rel_norm(const float *a, const float *b, int64_t n) {
    double d = 0, r = 0;
    for (int64_t i = 0; i < n; i++) {
        d += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        r += (double)b[i] * b[i];
    }
    return r > 0 ? sqrt(d / r) : sqrt(d);
}
#endif

typedef struct {
    ds_model *m;
    float *dparams;        // the parameters, one device allocation
    float *dgrads;         // their gradients, one device allocation
    float *grads;          // host gradients (CPU run)
    ds_weights wd, gd, gh; // pointers into dparams, dgrads, grads
} stack_setup;

static int setup(ds_ctx *g, stack_setup *s) {
    memset(s, 0, sizeof *s);
    ds_model_cfg cfg;
    if (ds_model_cfg_load(DS_SOURCE_DIR "/configs/tiny.json", &cfg)) return 1;
    cfg.window = 24; // shorter than the sequences: the sliding window is exercised
    if (ds_model_init(&cfg, NULL, 77, &s->m)) return 1;
    int64_t n = s->m->table.total;
    s->dparams = ds_par_up(g, s->m->params, n);
    s->dgrads = ds_par_zeros(g, sizeof(float) * n);
    s->grads = calloc((size_t)n, sizeof(float));
    if (!s->grads) return 1;
    ds_model_point(s->m, s->dparams, &s->wd);
    ds_model_point(s->m, s->dgrads, &s->gd);
    ds_model_point(s->m, s->grads, &s->gh);
    return 0;
}

static void teardown(ds_ctx *g, stack_setup *s) {
    g->ops->free(g, s->dparams);
    g->ops->free(g, s->dgrads);
    free(s->grads);
    ds_model_free(s->m);
}

DS_TEST(cuda_model_lm_stack) {
    ds_ctx *g = ds_par_gpu(), *c = ds_par_cpu();
    if (!g) return 0;
    stack_setup s;
    DS_CHECK_INT_EQ(setup(g, &s), 0);
    const ds_model_cfg *cfg = &s.m->cfg;
    int C = cfg->dim, E = cfg->n_experts, L = cfg->n_layers;
    int32_t seq_off[] = {0, 37, 66}, n_prefix[] = {20, 12}, pos[66];
    int N = seq_off[2];
    for (int b = 0; b < 2; b++)
        for (int t = seq_off[b]; t < seq_off[b + 1]; t++) pos[t] = t - seq_off[b];
    float *x0 = ds_par_randn((int64_t)N * C, 5, 1.0f),
          *dout = ds_par_randn((int64_t)N * C, 6, 1.0f);
    float *bias = ds_par_randn((int64_t)L * E, 7, 0.05f);
    // CPU reference
    ds_arena ha;
    ds_arena_init(&ha, 0, 0);
    ds_seq_layout lay = {2, seq_off, n_prefix, pos};
    ds_lm_acts a;
    DS_CHECK_INT_EQ(ds_lm_forward(c, cfg, &s.m->w.lm, bias, x0, &lay, &a, &ha), 0);
    float *dx0 = calloc((size_t)N * C, sizeof(float));
    float *dout_c = malloc(sizeof(float) * N * C);
    memcpy(dout_c, dout, sizeof(float) * N * C);
    DS_CHECK_INT_EQ(ds_lm_backward(c, cfg, &s.m->w.lm, &s.gh.lm, &lay, &a, dout_c, dx0, &ha), 0);
    // GPU: inputs up, activations in a device arena
    ds_arena da, dh;
    ds_ctx_arena_init(g, &da, &dh, 0, 0);
    int32_t *pos_d = ds_par_up_i32(g, pos, N);
    float *x0_d = ds_par_up(g, x0, (int64_t)N * C), *dout_d = ds_par_up(g, dout, (int64_t)N * C);
    float *bias_d = ds_par_up(g, bias, (int64_t)L * E);
    float *dx0_d = ds_par_zeros(g, sizeof(float) * N * C);
    ds_seq_layout lay_d = {2, seq_off, n_prefix, pos_d};
    ds_lm_acts ad;
    DS_CHECK_INT_EQ(ds_lm_forward(g, cfg, &s.wd.lm, bias_d, x0_d, &lay_d, &ad, &da), 0);
    int64_t fails =
        ds_par_check(g, "lm out", ad.out, a.out, (int64_t)N * C, STACK_ATOL, STACK_RTOL);
    int same_experts = 1;
    for (int l = cfg->n_dense_layers; l < L; l++) {
        int32_t *eidx = ds_par_down_i32(g, ad.l[l].eidx, (int64_t)N * cfg->topk);
        same_experts &= memcmp(eidx, a.l[l].eidx, sizeof(int32_t) * N * cfg->topk) == 0;
        same_experts &= memcmp(ad.l[l].offsets_h, a.l[l].offsets_h, sizeof(int32_t) * (E + 1)) == 0;
        free(eidx);
    }
    printf("  experts chosen: %s; balance loss cpu %.9g cuda %.9g\n",
           same_experts ? "same" : "DIFFER", a.balance_loss, ad.balance_loss);
    fails += !same_experts;
    fails += fabs(a.balance_loss - ad.balance_loss) > 1e-6 * fabs(a.balance_loss) + 1e-9;
    fails += memcmp(ad.load, a.load, sizeof(float) * L * E) != 0;
    DS_CHECK_INT_EQ(ds_lm_backward(g, cfg, &s.wd.lm, &s.gd.lm, &lay_d, &ad, dout_d, dx0_d, &da), 0);
    fails += ds_par_check(g, "lm dx0", dx0_d, dx0, (int64_t)N * C, STACK_ATOL, STACK_RTOL);
    fails += check_grads(g, s.m, s.dgrads, s.grads, "lm.");
#ifdef DS_HAVE_CUDA
    // The same forward on bf16 tensor cores: a looser, norm-wise agreement, on the last
    // layer's attention output (GEMM products through and through; the stack's output is
    // mostly its input, carried by the residual stream, and would hide the rounding).
    ds_arena_reset(&da);
    ds_cuda_set_gemm_f32(g, 0);
    DS_CHECK_INT_EQ(ds_lm_forward(g, cfg, &s.wd.lm, bias_d, x0_d, &lay_d, &ad, &da), 0);
    ds_cuda_set_gemm_f32(g, 1);
    int64_t nao = (int64_t)N * cfg->n_heads * cfg->head_dim;
    float *ao16 = ds_par_down(g, ad.l[L - 1].ao, nao);
    double rel = rel_norm(ao16, a.l[L - 1].ao, nao);
    printf("  last attention output with bf16 GEMMs: relative error %.3g (norm-wise)\n", rel);
    fails += !(rel < 3e-2);
    free(ao16);
#endif
    ds_arena_free(&da);
    ds_arena_free(&dh);
    ds_arena_free(&ha);
    g->ops->free(g, pos_d);
    g->ops->free(g, x0_d);
    g->ops->free(g, dout_d);
    g->ops->free(g, bias_d);
    g->ops->free(g, dx0_d);
    free(x0), free(dout), free(dout_c), free(bias), free(dx0);
    teardown(g, &s);
    return (int)fails;
}

DS_TEST(cuda_model_vit_stack) {
    ds_ctx *g = ds_par_gpu(), *c = ds_par_cpu();
    if (!g) return 0;
    stack_setup s;
    DS_CHECK_INT_EQ(setup(g, &s), 0);
    const ds_model_cfg *cfg = &s.m->cfg;
    int P = 2, S = cfg->img_size, D = cfg->vit_dim, G = S / cfg->patch, N = P * G * G;
    float *pixels = ds_par_randn((int64_t)P * 3 * S * S, 8, 0.5f);
    float *dout = ds_par_randn((int64_t)N * D, 9, 1.0f);
    ds_arena ha;
    ds_arena_init(&ha, 0, 0);
    ds_vit_acts a;
    DS_CHECK_INT_EQ(ds_vit_forward(c, cfg, &s.m->w.vit, pixels, P, &a, &ha), 0);
    float *dout_d = ds_par_up(g, dout, (int64_t)N * D); // backward clobbers its dout
    DS_CHECK_INT_EQ(ds_vit_backward(c, cfg, &s.m->w.vit, &s.gh.vit, &a, dout, &ha), 0);
    ds_arena da, dh;
    ds_ctx_arena_init(g, &da, &dh, 0, 0);
    ds_vit_acts ad;
    DS_CHECK_INT_EQ(ds_vit_forward(g, cfg, &s.wd.vit, pixels, P, &ad, &da), 0);
    int64_t fails =
        ds_par_check(g, "vit out", ad.out, a.out, (int64_t)N * D, STACK_ATOL, STACK_RTOL);
    DS_CHECK_INT_EQ(ds_vit_backward(g, cfg, &s.wd.vit, &s.gd.vit, &ad, dout_d, &da), 0);
    fails += check_grads(g, s.m, s.dgrads, s.grads, "vision.");
    ds_arena_free(&da);
    ds_arena_free(&dh);
    ds_arena_free(&ha);
    g->ops->free(g, dout_d);
    free(pixels), free(dout);
    teardown(g, &s);
    return (int)fails;
}

// A hand-made batch for the tiny config: two sequences, each [bos][a page's 16 image
// tokens][document tokens with boxes, some without][answer], one page image each.
typedef struct {
    ds_batch b;
    int32_t seq_off[3], n_prefix[2], pos[70], ids[70], box[280], page[70], roi[350], img[70];
} tiny_batch;

static void make_batch(const ds_model_cfg *cfg, tiny_batch *tb) {
    memset(tb, 0, sizeof *tb);
    int lens[2] = {40, 30}, answer[2] = {5, 6}, n_img = ds_cfg_img_tokens(cfg), S = cfg->img_size;
    tb->seq_off[1] = lens[0], tb->seq_off[2] = lens[0] + lens[1];
    uint64_t r = 99;
    for (int s = 0; s < 2; s++) {
        tb->n_prefix[s] = lens[s] - answer[s];
        for (int i = 0; i < lens[s]; i++) {
            int t = tb->seq_off[s] + i;
            r = r * 6364136223846793005ull + 1442695040888963407ull;
            tb->pos[t] = i;
            tb->ids[t] = (int32_t)((r >> 33) % (uint64_t)cfg->vocab);
            tb->img[t] = i >= 1 && i <= n_img ? s * n_img + i - 1 : -1;
            int has_box = i > n_img && i < tb->n_prefix[s] && (r >> 12) % 5 != 0;
            tb->box[4 * t] = tb->roi[5 * t] = -1;
            if (!has_box) continue;
            int x0 = (int)((r >> 20) % (uint64_t)(S - 20)),
                y0 = (int)((r >> 28) % (uint64_t)(S - 12));
            int x1 = x0 + 3 + (int)((r >> 40) % 17), y1 = y0 + 4 + (int)((r >> 44) % 8);
            int32_t bx[4] = {x0 * 1023 / S, y0 * 1023 / S, x1 * 1023 / S, y1 * 1023 / S};
            memcpy(tb->box + 4 * t, bx, sizeof bx);
            tb->page[t] = 0; // the first page of its document
            int32_t ro[5] = {s, x0, y0, x1, y1};
            memcpy(tb->roi + 5 * t, ro, sizeof ro);
        }
    }
    ds_batch *b = &tb->b;
    b->n_seq = 2, b->N = tb->seq_off[2], b->P = 2;
    b->seq_off = tb->seq_off, b->n_prefix = tb->n_prefix, b->pos = tb->pos, b->ids = tb->ids;
    b->box = tb->box, b->page = tb->page, b->roi = tb->roi, b->img = tb->img;
}

// The whole model but its loss heads: pixels and words in, vocabulary logits at every
// position out (vision, fusion's prefix, box, ROI and glyph inputs, the language model, the
// output projection), then back from random logit gradients to every parameter.
DS_TEST(cuda_model_whole) {
    ds_ctx *g = ds_par_gpu(), *c = ds_par_cpu();
    if (!g) return 0;
    stack_setup s;
    DS_CHECK_INT_EQ(setup(g, &s), 0);
    const ds_model_cfg *cfg = &s.m->cfg;
    int C = cfg->dim, V = cfg->vocab, S = cfg->img_size, L = cfg->n_layers, E = cfg->n_experts;
    tiny_batch tb;
    make_batch(cfg, &tb);
    ds_batch *b = &tb.b;
    int N = b->N;
    b->pixels = ds_par_randn((int64_t)2 * 3 * S * S, 21, 0.5f);
    float *dlogits = ds_par_randn((int64_t)N * V, 22, 1e-2f);
    float *bias = ds_par_randn((int64_t)L * E, 23, 0.05f);
    memcpy(s.m->router_bias, bias, sizeof(float) * L * E);
    // CPU
    ds_arena ha;
    ds_arena_init(&ha, 0, 0);
    ds_fwd *f = calloc(1, sizeof *f);
    ds_seq_layout lay = {b->n_seq, b->seq_off, b->n_prefix, b->pos};
    float *logits = malloc(sizeof(float) * N * V), *dh = calloc((size_t)N * C, sizeof(float));
    float *dx0 = calloc((size_t)N * C, sizeof(float));
    DS_CHECK_INT_EQ(ds_embed_forward(s.m, c, b, f, &ha), 0);
    DS_CHECK_INT_EQ(ds_lm_forward(c, cfg, &s.m->w.lm, s.m->router_bias, f->x0, &lay, &f->lm, &ha),
                    0);
    c->ops->matmul_forward(c, logits, f->lm.out, s.m->w.lm.head, NULL, N, C, V);
    c->ops->matmul_backward(c, dh, s.gh.lm.head, NULL, dlogits, f->lm.out, s.m->w.lm.head, N, C, V);
    DS_CHECK_INT_EQ(ds_lm_backward(c, cfg, &s.m->w.lm, &s.gh.lm, &lay, &f->lm, dh, dx0, &ha), 0);
    DS_CHECK_INT_EQ(ds_embed_backward(s.m, c, b, f, &s.gh, dx0, &ha), 0);
    // GPU: the same model with its weights and routing bias in device memory
    ds_model dm = *s.m;
    dm.w = s.wd;
    dm.router_bias = ds_par_up(g, bias, (int64_t)L * E);
    ds_arena da, dhost;
    ds_ctx_arena_init(g, &da, &dhost, 0, 0);
    ds_fwd *fd = calloc(1, sizeof *fd);
    int32_t *pos_d = ds_par_up_i32(g, b->pos, N);
    ds_seq_layout lay_d = {b->n_seq, b->seq_off, b->n_prefix, pos_d};
    float *logits_d = ds_par_zeros(g, sizeof(float) * N * V),
          *dh_d = ds_par_zeros(g, sizeof(float) * N * C);
    float *dx0_d = ds_par_zeros(g, sizeof(float) * N * C),
          *dlogits_d = ds_par_up(g, dlogits, (int64_t)N * V);
    DS_CHECK_INT_EQ(ds_embed_forward(&dm, g, b, fd, &da), 0);
    DS_CHECK_INT_EQ(ds_lm_forward(g, cfg, &dm.w.lm, dm.router_bias, fd->x0, &lay_d, &fd->lm, &da),
                    0);
    g->ops->matmul_forward(g, logits_d, fd->lm.out, dm.w.lm.head, NULL, N, C, V);
    int64_t fails =
        ds_par_check(g, "fused input x0", fd->x0, f->x0, (int64_t)N * C, STACK_ATOL, STACK_RTOL);
    fails += ds_par_check(g, "logits", logits_d, logits, (int64_t)N * V, STACK_ATOL, STACK_RTOL);
    g->ops->matmul_backward(g, dh_d, s.gd.lm.head, NULL, dlogits_d, fd->lm.out, dm.w.lm.head, N, C,
                            V);
    DS_CHECK_INT_EQ(ds_lm_backward(g, cfg, &dm.w.lm, &s.gd.lm, &lay_d, &fd->lm, dh_d, dx0_d, &da),
                    0);
    DS_CHECK_INT_EQ(ds_embed_backward(&dm, g, b, fd, &s.gd, dx0_d, &da), 0);
    fails += check_grads(g, s.m, s.dgrads, s.grads, "");
    printf("  %d tokens, %d with a box, %d pages\n", N, f->n_roi, b->P);
    ds_arena_free(&da);
    ds_arena_free(&dhost);
    ds_arena_free(&ha);
    float *dev[] = {dm.router_bias, logits_d, dh_d, dx0_d, dlogits_d};
    for (int i = 0; i < 5; i++) g->ops->free(g, dev[i]);
    g->ops->free(g, pos_d);
    free(f), free(fd), free(logits), free(dh), free(dx0), free(dlogits), free(bias);
    free(b->pixels);
    teardown(g, &s);
    return (int)fails;
}
