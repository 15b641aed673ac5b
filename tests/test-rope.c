// test-rope.c: RoPE forward against a naive double rotation, in place against out of
// place, and backward against central finite differences of the double forward,
// including accumulation into a pre-filled gradient. Positions are deliberately not
// 0..T-1 (offset, strided, large) as with a KV cache or packed documents.
#include "tests/test.h"
#include "kernels/ops.h"

#include <math.h>
#include <stdlib.h>

// out (T, nh, hd) = interleaved pairs of inp rotated by pos[t] * theta^(-2i/hd), in double.
static void naive_rope(double *out, const double *inp, const int32_t *pos, int T, int nh, int hd,
                       double theta) {
    for (int t = 0; t < T; t++)
        for (int h = 0; h < nh; h++)
            for (int i = 0; i < hd / 2; i++) {
                double a = pos[t] * pow(theta, -2.0 * i / hd);
                const double *x = inp + ((size_t)t * nh + h) * hd + 2 * i;
                double *y = out + ((size_t)t * nh + h) * hd + 2 * i;
                y[0] = x[0] * cos(a) - x[1] * sin(a);
                y[1] = x[0] * sin(a) + x[1] * cos(a);
            }
}

// Offset, strided and large positions (up to ~30000, where a float angle is visibly off).
static void fill_pos(int32_t *pos, int T, int offset, int stride) {
    for (int t = 0; t < T; t++) pos[t] = offset + stride * t;
}

DS_TEST(rope_forward) {
    ds_ctx *ctx = ds_ctx_new(DS_BACKEND_CPU, 2);
    DS_CHECK(ctx != NULL);
    const int shapes[][5] = {
        // T, nh, hd, pos offset, pos stride
        {7, 3, 10, 0, 1},
        {37, 4, 16, 1000, 3},
        {5, 2, 8, 29990, 7},
    };
    int bad = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int T = shapes[s][0], nh = shapes[s][1], hd = shapes[s][2];
        int64_t n = (int64_t)T * nh * hd;
        float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
        double *xd = malloc(n * sizeof *xd), *yd = malloc(n * sizeof *yd);
        int32_t *pos = malloc(T * sizeof *pos);
        fill_pos(pos, T, shapes[s][3], shapes[s][4]);
        ds_test_randn(x, n, 100 + s, 1.0f);
        ds_test_to_f64(xd, x, n);
        ctx->ops->rope_forward(ctx, y, x, pos, T, nh, hd, 10000.0f);
        naive_rope(yd, xd, pos, T, nh, hd, 10000.0);
        char what[64];
        snprintf(what, sizeof what, "rope out T=%d nh=%d hd=%d pos0=%d", T, nh, hd, pos[0]);
        bad += ds_test_close_f64(what, y, yd, n, 1e-5, 1e-4) != 0;

        // In place must give the same bits as out of place.
        ctx->ops->rope_forward(ctx, x, x, pos, T, nh, hd, 10000.0f);
        bad += ds_test_close_f32("rope in place vs out of place", x, y, n, 0, 0) != 0;
        free(x), free(y), free(xd), free(yd), free(pos);
    }
    ds_ctx_free(ctx);
    return bad;
}

typedef struct {
    double *x, *w, *y;
    const int32_t *pos;
    int T, nh, hd;
} rope_env;

static double rope_loss(void *p) {
    rope_env *e = p;
    int64_t n = (int64_t)e->T * e->nh * e->hd;
    naive_rope(e->y, e->x, e->pos, e->T, e->nh, e->hd, 10000.0);
    double l = 0;
    for (int64_t i = 0; i < n; i++) l += e->y[i] * e->w[i];
    return l;
}

DS_TEST(rope_grad) {
    ds_ctx *ctx = ds_ctx_new(DS_BACKEND_CPU, 2);
    DS_CHECK(ctx != NULL);
    const int T = 9, nh = 3, hd = 10;
    const int64_t n = (int64_t)T * nh * hd;
    float *x = malloc(n * sizeof *x), *w = malloc(n * sizeof *w), *dx = malloc(n * sizeof *dx);
    double *xd = malloc(n * sizeof *xd), *wd = malloc(n * sizeof *wd), *yd = malloc(n * sizeof *yd);
    double *gd = malloc(n * sizeof *gd);
    int32_t pos[9];
    fill_pos(pos, T, 517, 5);
    ds_test_randn(x, n, 7, 1.0f);
    ds_test_randn(w, n, 8, 1.0f);
    ds_test_to_f64(xd, x, n);
    ds_test_to_f64(wd, w, n);
    rope_env env = {.x = xd, .w = wd, .y = yd, .pos = pos, .T = T, .nh = nh, .hd = hd};
    ds_test_fd_grad(xd, n, gd, rope_loss, &env, 1e-5);

    int bad = 0;
    for (int64_t i = 0; i < n; i++) dx[i] = 0;
    ctx->ops->rope_backward(ctx, dx, w, pos, T, nh, hd, 10000.0f);
    bad += ds_test_close_f64("rope dinp vs FD", dx, gd, n, 1e-4, 1e-3) != 0;

    // Accumulation: a pre-filled gradient gets the same gradient added.
    for (int64_t i = 0; i < n; i++) dx[i] = 0.5f, gd[i] += 0.5;
    ctx->ops->rope_backward(ctx, dx, w, pos, T, nh, hd, 10000.0f);
    bad += ds_test_close_f64("rope dinp accumulated (+0.5)", dx, gd, n, 1e-4, 1e-3) != 0;

    free(x), free(w), free(dx), free(xd), free(wd), free(yd), free(gd);
    ds_ctx_free(ctx);
    return bad;
}
