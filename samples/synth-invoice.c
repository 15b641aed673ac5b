// synth-invoice.c: invoices in 12 layout families (letterhead left / right /
// centred, logo-only seller names, labels left of or above values, stacked or
// side-by-side address blocks, item tables with and without rules, totals
// right-aligned or boxed, multi-page with totals on the last page, stamps), in
// English, German or French with their date and amount conventions, and
// distractors (phone, VAT id, IBAN, order number, a delivery date).
#include "samples/synth-impl.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    int letterhead;   // 0 left, 1 right, 2 centred
    int logo;         // seller name only inside a drawn logo (pixels)
    int labels_above; // meta labels above their values
    int side_by_side; // seller and buyer blocks side by side
    int rules;        // item table with rules
    int totals_box;   // totals inside a frame
    int multipage;    // long item list, totals on the last page
    int stamp;        // PAID / COPY stamp
} inv_family;

static const inv_family families[12] = {
    {0, 0, 0, 0, 1, 0, 0, 0}, {1, 0, 0, 1, 0, 0, 0, 0}, {2, 0, 1, 0, 1, 1, 0, 0},
    {0, 1, 0, 0, 0, 1, 0, 0}, {1, 0, 1, 1, 1, 0, 0, 1}, {2, 1, 0, 1, 0, 0, 0, 0},
    {0, 0, 1, 0, 0, 0, 1, 0}, {1, 0, 0, 0, 1, 1, 1, 0}, {0, 0, 0, 1, 1, 0, 0, 1},
    {2, 0, 0, 0, 0, 1, 0, 1}, {1, 1, 1, 0, 1, 0, 0, 0}, {0, 0, 1, 1, 0, 1, 1, 1},
};

static const char *L[][3] = {
    // en, de, fr
    {"INVOICE", "RECHNUNG", "FACTURE"},
    {"Invoice No.", "Rechnungsnummer", "N° de facture"},
    {"Invoice Date", "Rechnungsdatum", "Date de facture"},
    {"Due Date", "Fällig am", "Date d'échéance"},
    {"Order No.", "Bestellnummer", "N° de commande"},
    {"Bill to", "Rechnungsempfänger", "Facturé à"},
    {"Description", "Beschreibung", "Désignation"},
    {"Qty", "Menge", "Qté"},
    {"Unit price", "Einzelpreis", "Prix unitaire"},
    {"Amount", "Betrag", "Montant"},
    {"Subtotal", "Zwischensumme", "Sous-total"},
    {"VAT", "MwSt.", "TVA"},
    {"Total", "Gesamtbetrag", "Total TTC"},
    {"Currency", "Währung", "Devise"},
    {"Delivery date", "Lieferdatum", "Date de livraison"},
    {"Page", "Seite", "Page"},
};
enum {
    T_TITLE,
    T_NUMBER,
    T_DATE,
    T_DUE,
    T_ORDER,
    T_BILLTO,
    T_DESC,
    T_QTY,
    T_PRICE,
    T_AMOUNT,
    T_SUBTOTAL,
    T_VAT,
    T_TOTAL,
    T_CURRENCY,
    T_DELIVERY,
    T_PAGE
};

#define LBL(k) L[k][d->lang]

// A label and its value, the value recorded as a field when name is set.
static double pair(ds_synth_doc *d, const inv_family *f, double x, double y, double size,
                   const char *label, const char *value, const char *name) {
    ds_synth_box vb;
    if (f->labels_above) {
        cairo_set_source_rgb(d->cr, 0.35, 0.35, 0.35);
        ds_synth_text(d, x, y, size - 2, 0, 0, label);
        cairo_set_source_rgb(d->cr, 0, 0, 0);
        vb = ds_synth_text(d, x, y + size + 2, size, 0, 0, value);
        if (name) ds_synth_field(d, name, value, vb, 0);
        return y + 2 * size + 10;
    }
    char lab[96];
    snprintf(lab, sizeof lab, "%s:", label);
    ds_synth_text(d, x, y, size, 0, 0, lab);
    vb = ds_synth_text(d, x + 110, y, size, 0, 0, value);
    if (name) ds_synth_field(d, name, value, vb, 0);
    return y + size + 5;
}

void ds_synth_invoice(ds_synth_doc *d, int family) {
    const inv_family *f = &families[family % 12];
    ds_rng *r = &d->rng;
    d->lang = (ds_synth_lang)ds_rng_below(r, 3);
    double W = d->page_w, m = 48;
    char seller[96], buyer[96], street[96], city[96], buf[128], iso[16];
    ds_synth_company(r, d->lang, seller, sizeof seller);
    ds_synth_company(r, d->lang, buyer, sizeof buyer);

    // ---- letterhead
    double x = f->letterhead == 0 ? m : f->letterhead == 1 ? W - m : W / 2;
    int align = f->letterhead == 0 ? 0 : f->letterhead == 1 ? 1 : 2;
    double size = 15 + ds_rng_below(r, 6), y = 62;
    if (f->logo) {
        // The seller's name lives only in a drawn logo: a frame with outlined letters.
        ds_synth_box b = ds_synth_text_outline(d, x, y, size + 2, 1, align, seller);
        cairo_set_line_width(d->cr, 1.5);
        cairo_rectangle(d->cr, b.x0 - 6, b.y0 - 4, b.x1 - b.x0 + 12, b.y1 - b.y0 + 8);
        cairo_stroke(d->cr);
        ds_synth_field(d, "seller_name", seller, b, 0);
        ds_synth_visual_only(d, "seller_name");
    } else {
        ds_synth_field(d, "seller_name", seller, ds_synth_text(d, x, y, size, 1, align, seller), 0);
    }
    y += size + 6;
    ds_synth_street(r, d->lang, street, sizeof street);
    snprintf(city, sizeof city, "%s %s", ds_synth_city(r), ds_synth_country(r));
    ds_synth_text(d, x, y, 9, 0, align, street);
    ds_synth_text(d, x, y + 11, 9, 0, align, city);
    ds_synth_pattern(r, "Tel. +## ## #### ####", buf, sizeof buf);
    ds_synth_text(d, x, y + 22, 9, 0, align, buf);
    ds_synth_pattern(r, "VAT @@#########", buf, sizeof buf);
    ds_synth_text(d, x, y + 33, 9, 0, align, buf);
    y += 60;

    // ---- title, buyer, meta
    ds_synth_text(d, m, y, 20, 1, 0, LBL(T_TITLE));
    y += 28;
    double meta_x = f->side_by_side ? W / 2 + 20 : m, by = y;
    ds_synth_text(d, m, by, 9, 1, 0, LBL(T_BILLTO));
    ds_synth_field(d, "buyer_name", buyer, ds_synth_text(d, m, by + 13, 11, 0, 0, buyer), 0);
    ds_synth_street(r, d->lang, street, sizeof street);
    ds_synth_text(d, m, by + 26, 10, 0, 0, street);
    ds_synth_text(d, m, by + 38, 10, 0, 0, ds_synth_city(r));
    double my = f->side_by_side ? y : by + 62;
    char number[32], date[48], due[48], delivery[48];
    static const char *num_patterns[] = {"INV-####-###", "#######", "RE ##/####", "F-@@-#####",
                                         "20##-####"};
    ds_synth_pattern(r, num_patterns[ds_rng_below(r, 5)], number, sizeof number);
    // One date style per document; due and delivery dates follow the invoice date.
    int style = (int)ds_rng_below(r, 4);
    struct tm when;
    memset(&when, 0, sizeof when);
    ds_synth_date(r, d->lang, style, 0, NULL, iso, date, sizeof date);
    sscanf(iso, "%d-%d-%d", &when.tm_year, &when.tm_mon, &when.tm_mday);
    when.tm_year -= 1900, when.tm_mon -= 1;
    struct tm due_base = when;
    ds_synth_date(r, d->lang, style, 14 + 7 * (int)ds_rng_below(r, 7), &due_base, iso, due,
                  sizeof due);
    ds_synth_date(r, d->lang, style, (int)ds_rng_below(r, 10) - 5, &when, iso, delivery,
                  sizeof delivery);
    const char *cur = ds_synth_currency(r);
    my = pair(d, f, meta_x, my, 10, LBL(T_NUMBER), number, "invoice_number");
    my = pair(d, f, meta_x, my, 10, LBL(T_DATE), date, "invoice_date");
    if (ds_rng_below(r, 2)) { // distractors: an order number and a delivery date
        ds_synth_pattern(r, "PO-#####", buf, sizeof buf);
        my = pair(d, f, meta_x, my, 10, LBL(T_ORDER), buf, NULL);
        my = pair(d, f, meta_x, my, 10, LBL(T_DELIVERY), delivery, NULL);
    }
    my = pair(d, f, meta_x, my, 10, LBL(T_DUE), due, "due_date");
    my = pair(d, f, meta_x, my, 10, LBL(T_CURRENCY), cur, "currency");
    y = (my > by + 62 ? my : by + 62) + 14;

    // ---- items
    int n_items = f->multipage ? 34 + (int)ds_rng_below(r, 12) : 2 + (int)ds_rng_below(r, 7);
    double cx[4] = {m, W - m - 200, W - m - 110, W - m};
    long subtotal = 0;
    for (int i = -1; i < n_items; i++) {
        if (y > d->page_h - 70) { // continue on a new page
            ds_synth_next_page(d);
            snprintf(buf, sizeof buf, "%s %d", LBL(T_PAGE), d->page);
            ds_synth_text(d, W - m, 40, 8, 0, 1, buf);
            y = 70;
        }
        if (i < 0) {
            ds_synth_text(d, cx[0], y, 9, 1, 0, LBL(T_DESC));
            ds_synth_text(d, cx[1], y, 9, 1, 1, LBL(T_QTY));
            ds_synth_text(d, cx[2], y, 9, 1, 1, LBL(T_PRICE));
            ds_synth_text(d, cx[3], y, 9, 1, 1, LBL(T_AMOUNT));
            if (f->rules) ds_synth_line(d, m, y + 4, W - m, y + 4, 0.8);
            y += 16;
            continue;
        }
        int qty = 1 + (int)ds_rng_below(r, 12);
        long price = 100 + (long)ds_rng_below(r, 40000);
        subtotal += qty * price;
        snprintf(buf, sizeof buf, "%s %s", ds_synth_word_lang(r, d->lang), ds_synth_word(r));
        ds_synth_text(d, cx[0], y, 9, 0, 0, buf);
        snprintf(buf, sizeof buf, "%d", qty);
        ds_synth_text(d, cx[1], y, 9, 0, 1, buf);
        ds_synth_amount(price, d->lang, buf, sizeof buf);
        ds_synth_text(d, cx[2], y, 9, 0, 1, buf);
        ds_synth_amount(qty * price, d->lang, buf, sizeof buf);
        ds_synth_text(d, cx[3], y, 9, 0, 1, buf);
        if (f->rules) ds_synth_line(d, m, y + 4, W - m, y + 4, 0.3);
        y += 14;
    }

    // ---- totals (on the last page)
    if (y > d->page_h - 130) {
        ds_synth_next_page(d);
        y = 70;
    }
    y += 10;
    static const int rates[] = {19, 20, 7, 10, 21};
    int rate = rates[ds_rng_below(r, 5)];
    long tax = subtotal * rate / 100, total = subtotal + tax;
    char a_sub[32], a_tax[32], a_tot[32];
    ds_synth_amount(subtotal, d->lang, a_sub, sizeof a_sub);
    ds_synth_amount(tax, d->lang, a_tax, sizeof a_tax);
    ds_synth_amount(total, d->lang, a_tot, sizeof a_tot);
    double lx = W - m - 200, top = y - 12;
    ds_synth_text(d, lx, y, 10, 0, 0, LBL(T_SUBTOTAL));
    ds_synth_field(d, "subtotal", a_sub, ds_synth_text(d, W - m, y, 10, 0, 1, a_sub), 0);
    snprintf(buf, sizeof buf, "%s %d%%", LBL(T_VAT), rate);
    ds_synth_text(d, lx, y + 15, 10, 0, 0, buf);
    ds_synth_field(d, "tax_total", a_tax, ds_synth_text(d, W - m, y + 15, 10, 0, 1, a_tax), 0);
    ds_synth_text(d, lx, y + 34, 12, 1, 0, LBL(T_TOTAL));
    ds_synth_field(d, "total", a_tot, ds_synth_text(d, W - m, y + 34, 12, 1, 1, a_tot), 0);
    if (f->totals_box) ds_synth_rect(d, lx - 8, top, W - m - lx + 14, 58, 1);
    if (f->stamp) ds_synth_stamp(d, m + 120, y + 20, ds_rng_below(r, 2) ? "PAID" : "COPY");

    // ---- footer distractors
    ds_synth_pattern(r, "IBAN @@## #### #### #### #### ##", buf, sizeof buf);
    ds_synth_text(d, m, d->page_h - 36, 8, 0, 0, buf);
}
