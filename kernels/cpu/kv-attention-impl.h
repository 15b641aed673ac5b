// kv-attention-impl.h: the cache attention task, instantiated once per storage
// type (float, _Float16) by kv-attention.c: define KV_T and KV_NAME, then
// include. KV_HALF set: storage is half precision, converted block by block
// into a float buffer (F16C) before the same float loops. Private to
// kv-attention.c.
static void KV_NAME(void *arg, int ith, int nth) {
    attn_args *a = arg;
    const ds_kv_pool *p = a->p;
    int nh = a->nh, hd = p->hd, grp = nh / p->nkv, bs = p->block_size;
    float scale = 1.0f / sqrtf((float)hd);
    int64_t lo, hi;
    ds_split((int64_t)a->n * nh, ith, nth, &lo, &hi);
    if (lo >= hi) return;
    int max_keys = 1;
    for (int64_t it = lo; it < hi; it++) {
        const int32_t *in = a->info + 3 * (it / nh);
        int last = in[0] < in[1] ? in[1] - 1 : in[0];
        max_keys = last + 1 > max_keys ? last + 1 : max_keys;
    }
    float *sc = malloc(sizeof(float) * (size_t)max_keys);
#ifdef KV_HALF
    float *kb = malloc(sizeof(float) * (size_t)hd * bs),
          *vb = malloc(sizeof(float) * (size_t)hd * bs);
    if (!sc || !kb || !vb) {
        free(sc);
        free(kb);
        free(vb);
        return; // cannot happen in practice; leaves out untouched rather than crash
    }
#else
    if (!sc) return; // cannot happen in practice; leaves out untouched rather than crash
#endif
    for (int64_t it = lo; it < hi; it++) {
        int i = (int)(it / nh), h = (int)(it % nh), kvh = h / grp;
        int pos = a->info[3 * i], np = a->info[3 * i + 1];
        const int32_t *tbl = a->blocks + a->info[3 * i + 2];
        // keys j: j <= pos, or both inside the prefix; and within the window
        int jhi = pos < np ? np - 1 : pos, jlo = 0;
        if (a->window > 0) {
            jlo = pos - a->window + 1 > 0 ? pos - a->window + 1 : 0;
            jhi = jhi < pos + a->window - 1 ? jhi : pos + a->window - 1;
        }
        const float *q = a->q + ((size_t)i * nh + h) * hd;
        float mx = -INFINITY;
        for (int j = jlo; j <= jhi;) {
            int off = j % bs, run = bs - off; // keys left in this block
            if (run > jhi - j + 1) run = jhi - j + 1;
            const KV_T *kt = (const KV_T *)p->k + head_base(p, tbl[j / bs], a->layer, kvh);
            // blocks lie anywhere in the pool: start loading the next one now
            if (j + run <= jhi) {
                const KV_T *kn =
                    (const KV_T *)p->k + head_base(p, tbl[(j + run) / bs], a->layer, kvh);
                for (int d = 0; d < hd; d += 4) __builtin_prefetch(kn + (size_t)d * bs);
            }
            float *s = sc + (j - jlo);
            for (int r = 0; r < run; r++) s[r] = 0.0f;
#ifdef KV_HALF
            half_to_float(kb, kt, hd * bs);
            const float *kf = kb;
#else
            const float *kf = kt;
#endif
            for (int d = 0; d < hd; d++) {
                const float *kd = kf + (size_t)d * bs + off;
                float qd = q[d] * scale;
                for (int r = 0; r < run; r++) s[r] += qd * kd[r];
            }
            for (int r = 0; r < run; r++) mx = s[r] > mx ? s[r] : mx;
            j += run;
        }
        int nk = jhi - jlo + 1;
        float z = 0;
        for (int j = 0; j < nk; j++) {
            sc[j] = ds_fast_expf(sc[j] - mx);
            z += sc[j];
        }
        float *o = a->out + ((size_t)i * nh + h) * hd;
        memset(o, 0, sizeof(float) * hd);
        for (int j = jlo; j <= jhi;) {
            int off = j % bs, run = bs - off;
            if (run > jhi - j + 1) run = jhi - j + 1;
            const KV_T *v =
                (const KV_T *)p->v + head_base(p, tbl[j / bs], a->layer, kvh) + (size_t)off * hd;
            const KV_T *vn = j + run <= jhi ? (const KV_T *)p->v +
                                                  head_base(p, tbl[(j + run) / bs], a->layer, kvh)
                                            : v;
#ifdef KV_HALF
            half_to_float(vb, v, run * hd);
            const float *vf = vb;
#else
            const float *vf = v;
#endif
            for (int r = 0; r < run; r++, vf += hd) {
                __builtin_prefetch(vn + r * hd);
                float pr = sc[j - jlo + r];
                for (int d = 0; d < hd; d++) o[d] += pr * vf[d];
            }
            j += run;
        }
        float iz = 1.0f / z;
        for (int d = 0; d < hd; d++) o[d] *= iz;
    }
    free(sc);
#ifdef KV_HALF
    free(kb);
    free(vb);
#endif
}

#undef KV_T
#undef KV_NAME
#undef KV_HALF
