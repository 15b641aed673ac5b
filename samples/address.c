// address.c: see address.h.
#include "samples/address.h"
#include "samples/normalize.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

const char *const ds_address_stops[] = {
    "tel",     "fax",     "phone",  "telephone", "hp",       "h/p",      "gst",
    "invoice", "receipt", "cash",   "bill",      "doc",      "document", "cashier",
    "date",    "table",   "order",  "email",     "e-mail",   "website",  "www",
    "server",  "counter", "member", "time",      "quittung", "reçu",     "rechnung",
    "facture", "ticket",  "tax",    "sst",       NULL,
};

static int starts_word(const char *t, const char *w) {
    size_t n = strlen(w);
    for (size_t i = 0; i < n; i++)
        if (tolower((unsigned char)t[i]) != (unsigned char)w[i]) return 0;
    return !isalpha((unsigned char)t[n]);
}

int ds_address_stop_word(const char *w) {
    while (*w && !isalnum((unsigned char)*w)) w++;
    for (const char *const *s = ds_address_stops; *s; s++)
        if (starts_word(w, *s)) return 1;
    return 0;
}

static int is_date(const char *text) {
    char iso[11];
    return ds_norm_date(text, 0, iso) == 0 || ds_norm_date(text, 1, iso) == 0;
}

// Whether the line is a company's registration number, as the receipt rules read one.
static int registration(const char *const *words, int n) {
    static const char *const reg[] = {"reg", "co.reg", "company", "roc"};
    int digits = 0;
    for (int i = 0; i < n; i++) {
        const char *w = words[i];
        while (*w && !isalnum((unsigned char)*w)) w++;
        for (size_t k = 0; k < sizeof reg / sizeof *reg; k++)
            if (starts_word(w, reg[k])) return 1;
        for (const char *p = w; *p; p++) digits += isdigit((unsigned char)*p) != 0;
    }
    const char *last = words[n - 1];
    size_t nl = strlen(last);
    // "(JM0517726)", "(742016-W}"
    if (words[0][0] == '(' && nl && strchr(")}]", last[nl - 1]) && digits >= 4) return 1;
    // "789417-W", and OCR's reading of it in one or two words
    return n <= 2 && digits >= 2 && nl >= 2 && last[nl - 2] == '-';
}

// Whether w has cents after a decimal point: "19.00", not "55,57" (house numbers).
static int point_cents(const char *w) {
    for (const char *p = strchr(w, '.'); p; p = strchr(p + 1, '.'))
        if (isdigit((unsigned char)p[1]) && isdigit((unsigned char)p[2]) &&
            !isdigit((unsigned char)p[3]))
            return 1;
    return 0;
}

int ds_address_line(const char *const *words, int n) {
    if (n <= 0) return 0;
    char three[256];
    for (int i = 0; i < n; i++) {
        const char *w = words[i];
        double v;
        if (ds_address_stop_word(w) || is_date(w)) return 0;
        if (point_cents(w) && ds_norm_amount(w, &v) == 0) return 0;
        // a date in words: "29 Dec 2017"
        if (i + 2 < n &&
            snprintf(three, sizeof three, "%s %s %s", w, words[i + 1], words[i + 2]) <
                (int)sizeof three &&
            is_date(three))
            return 0;
    }
    return !registration(words, n);
}
