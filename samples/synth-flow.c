// synth-flow.c: running text for the generators of prose documents
// (contracts): words set one by one and wrapped at the right margin, values
// kept whole on one line so their box covers exactly their own words, and,
// when the flow has a bottom margin, a new page when the text reaches it.
#include "samples/synth-impl.h"

#include <string.h>

// Moves to the next line when s (in the flow's font) does not fit on this one.
static void fit(ds_synth_flow *f, const char *s, int bold) {
    cairo_text_extents_t te;
    cairo_select_font_face(f->d->cr, f->d->font, CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(f->d->cr, f->size);
    cairo_text_extents(f->d->cr, s, &te);
    if (f->x + te.x_advance > f->right && f->x > f->left) {
        f->x = f->left;
        f->y += f->lead;
    }
    if (f->bottom > 0 && f->y > f->bottom) {
        ds_synth_next_page(f->d);
        f->y = f->top;
    }
}

static ds_synth_box put_impl(ds_synth_flow *f, const char *text, int bold, int keep) {
    char word[128];
    ds_synth_box all = {1e9, 1e9, -1e9, -1e9};
    const char *p = text;
    if (keep) fit(f, text, bold);
    while (*p) {
        size_t n = strcspn(p, " ");
        if (n >= sizeof word) n = sizeof word - 1;
        memcpy(word, p, n);
        word[n] = 0;
        p += n;
        while (*p == ' ') p++;
        if (!n) continue;
        fit(f, word, bold);
        ds_synth_box b = ds_synth_text(f->d, f->x, f->y, f->size, bold, 0, word);
        all = ds_synth_union(all, b);
        cairo_text_extents_t te;
        cairo_text_extents(f->d->cr, " ", &te);
        f->x = b.x1 + te.x_advance;
    }
    return all;
}

ds_synth_box ds_synth_put(ds_synth_flow *f, const char *text, int bold) {
    return put_impl(f, text, bold, 0);
}

ds_synth_box ds_synth_value(ds_synth_flow *f, const char *text, int bold) {
    return put_impl(f, text, bold, 1);
}

void ds_synth_paragraph_end(ds_synth_flow *f) {
    f->x = f->left;
    f->y += f->lead * 1.8;
    if (f->bottom > 0 && f->y > f->bottom) {
        ds_synth_next_page(f->d);
        f->y = f->top;
    }
}
