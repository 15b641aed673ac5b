// params.c: the parameter table and the carving walk (see params.h).
#include "core/params.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

float *ds_carve(ds_carver *c, int ndim, int64_t d0, int64_t d1, int64_t d2, const char *name_fmt,
                ...) {
    int64_t shape[3] = {d0, d1, d2};
    int64_t numel = 1;
    for (int i = 0; i < ndim; i++) numel *= shape[i];
    int64_t off = c->offset;
    if (c->tab) {
        ds_param_table *t = c->tab;
        if (t->n == t->cap) {
            int cap = t->cap ? 2 * t->cap : 64;
            ds_param *items = realloc(t->items, (size_t)cap * sizeof *items);
            if (!items) {
                c->failed = 1;
                goto done;
            }
            t->items = items;
            t->cap = cap;
        }
        ds_param *p = &t->items[t->n++];
        memset(p, 0, sizeof *p);
        va_list ap;
        va_start(ap, name_fmt);
        vsnprintf(p->name, sizeof p->name, name_fmt, ap);
        va_end(ap);
        p->ndim = ndim;
        for (int i = 0; i < ndim; i++) p->shape[i] = shape[i];
        p->offset = off;
        p->numel = numel;
        t->total = off + numel;
    }
done:
    c->offset = off + numel;
    return c->base ? c->base + off : NULL;
}

void ds_param_table_free(ds_param_table *tab) {
    if (!tab) return;
    free(tab->items);
    memset(tab, 0, sizeof *tab);
}

const ds_param *ds_param_find(const ds_param_table *tab, const char *name) {
    for (int i = 0; i < tab->n; i++)
        if (strcmp(tab->items[i].name, name) == 0) return &tab->items[i];
    return NULL;
}
