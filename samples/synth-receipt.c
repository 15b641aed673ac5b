// synth-receipt.c: till receipts as narrow long strips (80 mm), in 12 layout
// families: centred or left header, monospaced or proportional type, upper or
// mixed case, the date at the top or the bottom, several total labels, tax
// summaries, cash and change lines (distractor amounts larger than the total).
// Fields as in SROIE: company, address (all its lines), date, total.
#include "samples/synth-impl.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static void upper(char *s) {
    for (; *s; s++) *s = (char)toupper((unsigned char)*s);
}

void ds_synth_receipt(ds_synth_doc *d, int family) {
    ds_rng *r = &d->rng;
    family %= 12;
    int centred = family % 2 == 0, mono = family % 3 == 0, caps = family % 4 != 3;
    int date_bottom = family >= 8, gst = family % 5 < 3;
    static const char *total_labels[] = {"TOTAL",     "TOTAL RM",     "GRAND TOTAL",
                                         "NET TOTAL", "TOTAL AMOUNT", "Total Incl. GST"};
    d->lang = DS_LANG_EN;
    if (mono) d->font = family % 2 ? "Liberation Mono" : "DejaVu Sans Mono";
    double W = d->page_w, m = 14, x = centred ? W / 2 : m;
    int align = centred ? 2 : 0;
    char company[96], street[96], city[96], buf[160], iso[16], date[48];
    ds_synth_company(r, DS_LANG_EN, company, sizeof company);
    if (caps) upper(company);
    double y = 34;
    ds_synth_field(d, "company", company, ds_synth_text(d, x, y, 10.5, 1, align, company), 0);
    y += 14;
    ds_synth_pattern(r, "(######-@)", buf, sizeof buf);
    ds_synth_text(d, x, y, 7.5, 0, align, buf);
    y += 12;
    ds_synth_street(r, DS_LANG_EN, street, sizeof street);
    snprintf(city, sizeof city, "%05d %s", (int)ds_rng_below(r, 99999), ds_synth_city(r));
    if (caps) upper(street), upper(city);
    ds_synth_box a = ds_synth_text(d, x, y, 8, 0, align, street);
    ds_synth_box b = ds_synth_text(d, x, y + 10, 8, 0, align, city);
    char address[200];
    snprintf(address, sizeof address, "%s %s", street, city);
    ds_synth_field(d, "address", address, ds_synth_union(a, b), 0);
    y += 22;
    ds_synth_pattern(r, "TEL: ##-### ####", buf, sizeof buf);
    ds_synth_text(d, x, y, 8, 0, align, buf);
    y += 10;
    if (gst) {
        ds_synth_pattern(r, "GST ID: ############", buf, sizeof buf);
        ds_synth_text(d, x, y, 8, 0, align, buf);
        y += 10;
    }
    ds_synth_date(r, DS_LANG_EN, (int)ds_rng_below(r, 4), 0, NULL, iso, date, sizeof date);
    char time[16];
    snprintf(time, sizeof time, "%02d:%02d:%02d", (int)ds_rng_below(r, 24),
             (int)ds_rng_below(r, 60), (int)ds_rng_below(r, 60));
    y += 8;
    ds_synth_text(d, W / 2, y, 9, 1, 2, family % 3 == 1 ? "TAX INVOICE" : "CASH RECEIPT");
    y += 16;
    if (!date_bottom) {
        ds_synth_text(d, m, y, 8, 0, 0, "Date:");
        ds_synth_field(d, "date", date, ds_synth_text(d, m + 40, y, 8, 0, 0, date), 0);
        ds_synth_text(d, W - m, y, 8, 0, 1, time);
        y += 11;
    }
    ds_synth_pattern(r, "Bill No: CS########", buf, sizeof buf);
    ds_synth_text(d, m, y, 8, 0, 0, buf);
    y += 8;
    ds_synth_line(d, m, y, W - m, y, 0.5);
    y += 12;
    int n = 1 + (int)ds_rng_below(r, 8);
    long total = 0;
    for (int i = 0; i < n; i++) {
        long price = 50 + (long)ds_rng_below(r, 6000);
        int qty = 1 + (int)ds_rng_below(r, 3);
        total += price * qty;
        snprintf(buf, sizeof buf, "%s %s", ds_synth_word(r), ds_synth_word(r));
        if (caps) upper(buf);
        ds_synth_text(d, m, y, 8, 0, 0, buf);
        char amt[32], q[16];
        snprintf(q, sizeof q, "%d x", qty);
        ds_synth_text(d, W - m - 60, y + 10, 8, 0, 1, q);
        ds_synth_amount(price * qty, DS_LANG_EN, amt, sizeof amt);
        ds_synth_text(d, W - m, y + 10, 8, 0, 1, amt);
        y += 22;
    }
    ds_synth_line(d, m, y - 6, W - m, y - 6, 0.5);
    y += 6;
    char tot[32], cash[32], change[32];
    ds_synth_amount(total, DS_LANG_EN, tot, sizeof tot);
    long paid = (total / 1000 + 1) * 1000;
    ds_synth_amount(paid, DS_LANG_EN, cash, sizeof cash);
    ds_synth_amount(paid - total, DS_LANG_EN, change, sizeof change);
    ds_synth_text(d, m, y, 9.5, 1, 0, total_labels[family % 6]);
    ds_synth_field(d, "total", tot, ds_synth_text(d, W - m, y, 9.5, 1, 1, tot), 0);
    y += 14;
    ds_synth_text(d, m, y, 8, 0, 0, "CASH");
    ds_synth_text(d, W - m, y, 8, 0, 1, cash);
    y += 11;
    ds_synth_text(d, m, y, 8, 0, 0, "CHANGE");
    ds_synth_text(d, W - m, y, 8, 0, 1, change);
    y += 18;
    if (date_bottom) {
        ds_synth_field(d, "date", date, ds_synth_text(d, m, y, 8, 0, 0, date), 0);
        ds_synth_text(d, W - m, y, 8, 0, 1, time);
        y += 14;
    }
    ds_synth_text(d, W / 2, y + 6, 8, 0, 2, caps ? "THANK YOU. PLEASE COME AGAIN" : "Thank you!");
}
