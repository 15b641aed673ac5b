// test-rules.c: the rules baseline on documents drawn by the tests (cairo PDFs
// read back through ingest, so every value's box is known): invoices in
// English (labels left of values), German (labels above values) and French, a
// narrow till receipt, a contract paragraph and a form; each field's printed
// value, its box against the drawn one, the type guess, the empty and unknown
// cases. Then the real SROIE receipts, when ../shared/data is present: counts
// of exact fields are printed, not asserted (a baseline, not a goal).
#include "tests/test.h"
#include "core/error.h"
#include "samples/rules.h"
#include "tests/ingest-fixtures.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

// ---- drawn documents

// One piece of text drawn at (x, baseline); x < 0 continues right after the
// previous piece (pieces carry their own spaces). A piece with a field is that
// field's value (want, when the printed text is not the value: "$98.76" -> "98.76");
// several pieces of one field are its lines, or a party list's entries.
typedef struct {
    double x, y, size;
    int bold;
    const char *text;
    const char *field, *want;
} fx_piece;

// A field checked by value only (no drawn box): the currency code.
typedef struct {
    const char *field, *want;
} fx_value;

typedef struct {
    const char *name;
    double w, h; // page size in points
    const fx_piece *pieces;
    int n_pieces;
    const fx_value *values;
    int n_values;
    const char *type; // the type the rules should guess
} fx_doc;

static ds_schema_set *schemas(void) {
    static ds_schema_set set;
    static int loaded;
    if (!loaded && ds_schema_set_load(DS_SOURCE_DIR "/samples/schemas", &set) == 0) loaded = 1;
    return loaded ? &set : NULL;
}

// Draws the pieces into a one-page PDF and reads it back (text layer only).
static int draw_and_ingest(const fx_doc *d, ds_box *boxes, ds_doc **doc) {
    ds_fx_pdf p;
    if (ds_fx_pdf_begin(&p, d->w, d->h) != 0) return -1;
    double pen = 0;
    for (int i = 0; i < d->n_pieces; i++) {
        const fx_piece *pc = &d->pieces[i];
        double x = pc->x < 0 ? pen : pc->x;
        boxes[i] = ds_fx_pdf_text(&p, x, pc->y, pc->size, pc->bold, pc->text);
        pen = boxes[i].x1;
    }
    ds_fx_buf pdf;
    if (ds_fx_pdf_end(&p, &pdf) != 0) return -1;
    ds_ingest_opts o;
    ds_ingest_opts_default(&o);
    o.ocr = DS_OCR_NEVER;
    o.no_pixels = 1;
    int rc = ds_ingest_memory(pdf.data, pdf.n, &o, doc);
    ds_fx_buf_free(&pdf);
    if (rc) fprintf(stderr, "  ingest: %s: %s\n", ds_err_name(rc), ds_errmsg());
    return rc;
}

static void print_field(const char *name, json_t *f) {
    json_t *b = json_object_get(f, "box");
    printf("    %-15s = %-40s p%lld [%6.1f %6.1f %6.1f %6.1f] conf %.2f\n", name,
           json_string_value(json_object_get(f, "value")),
           (long long)json_integer_value(json_object_get(f, "page")),
           json_real_value(json_array_get(b, 0)), json_real_value(json_array_get(b, 1)),
           json_real_value(json_array_get(b, 2)), json_real_value(json_array_get(b, 3)),
           json_real_value(json_object_get(f, "confidence")));
}

// 1 when the field's box contains want within 1 pt on every side.
static int box_contains(json_t *f, ds_box want) {
    json_t *b = json_object_get(f, "box");
    double g[4];
    for (int k = 0; k < 4; k++) g[k] = json_real_value(json_array_get(b, (size_t)k));
    return g[0] <= want.x0 + 1 && g[1] <= want.y0 + 1 && g[2] >= want.x1 - 1 && g[3] >= want.y1 - 1;
}

static int check_field(const char *name, json_t *f, const char *want_value, const ds_box *want,
                       int n_want) {
    const char *got = json_string_value(json_object_get(f, "value"));
    double conf = json_real_value(json_object_get(f, "confidence"));
    int fails = 0;
    if (!got || strcmp(got, want_value) != 0) {
        fprintf(stderr, "  %s: value \"%s\", want \"%s\"\n", name, got ? got : "(none)",
                want_value);
        fails++;
    }
    for (int k = 0; k < n_want; k++)
        if (!box_contains(f, want[k])) {
            fprintf(stderr, "  %s: box does not contain the drawn [%.1f %.1f %.1f %.1f]\n", name,
                    want[k].x0, want[k].y0, want[k].x1, want[k].y1);
            fails++;
        }
    if (!(conf > 0 && conf <= 1) || json_integer_value(json_object_get(f, "page")) != 1) {
        fprintf(stderr, "  %s: confidence %.3f or page out of range\n", name, conf);
        fails++;
    }
    return fails;
}

// Extracts d with the type left to the rules; checks the guess, every expected
// field (value and box) and that no other field was filled.
static int run_doc(const fx_doc *d) {
    ds_box boxes[64];
    ds_doc *doc = NULL;
    if (d->n_pieces > 64 || !schemas() || draw_and_ingest(d, boxes, &doc) != 0) return 1;
    json_t *out = NULL;
    int rc = ds_rules_extract(doc, schemas(), NULL, &out);
    ds_doc_free(doc);
    if (rc) {
        fprintf(stderr, "  %s: %s: %s\n", d->name, ds_err_name(rc), ds_errmsg());
        return 1;
    }
    const char *type = json_string_value(json_object_get(out, "doc_type"));
    json_t *fields = json_object_get(out, "fields");
    printf("  %s: guessed %s, %zu fields\n", d->name, type, json_object_size(fields));
    int fails = !type || strcmp(type, d->type) != 0;
    if (fails) fprintf(stderr, "  %s: guessed %s, want %s\n", d->name, type, d->type);
    const char *key;
    json_t *f;
    json_object_foreach(fields, key, f) {
        if (json_is_array(f))
            for (size_t k = 0; k < json_array_size(f); k++) print_field(key, json_array_get(f, k));
        else
            print_field(key, f);
    }
    // Expected fields, in the order they are first drawn.
    size_t n_expected = 0;
    for (int i = 0; i < d->n_pieces; i++) {
        const char *name = d->pieces[i].field;
        if (!name) continue;
        int seen = 0;
        for (int j = 0; j < i; j++) seen |= d->pieces[j].field && !strcmp(d->pieces[j].field, name);
        if (seen) continue;
        n_expected++;
        json_t *got = json_object_get(fields, name);
        if (json_is_array(got)) { // a party list: one entry per piece, in order
            size_t k = 0;
            for (int j = i; j < d->n_pieces; j++) {
                const fx_piece *pc = &d->pieces[j];
                if (!pc->field || strcmp(pc->field, name) != 0) continue;
                json_t *e = json_array_get(got, k++);
                fails += e ? check_field(name, e, pc->want ? pc->want : pc->text, &boxes[j], 1) : 1;
            }
            if (k != json_array_size(got)) {
                fprintf(stderr, "  %s: %zu entries, want %zu\n", name, json_array_size(got), k);
                fails++;
            }
            continue;
        }
        if (!got) {
            fprintf(stderr, "  %s: %s not found\n", d->name, name);
            fails++;
            continue;
        }
        // Lines of one value are joined by a space; its box holds every line.
        char want[512] = "";
        ds_box want_boxes[8];
        int n_boxes = 0;
        for (int j = i; j < d->n_pieces && n_boxes < 8; j++) {
            const fx_piece *pc = &d->pieces[j];
            if (!pc->field || strcmp(pc->field, name) != 0) continue;
            if (want[0]) strcat(want, " ");
            strncat(want, pc->want ? pc->want : pc->text, sizeof want - strlen(want) - 1);
            want_boxes[n_boxes++] = boxes[j];
        }
        fails += check_field(name, got, want, want_boxes, n_boxes);
    }
    for (int i = 0; i < d->n_values; i++) {
        n_expected++;
        const char *got = json_string_value(
            json_object_get(json_object_get(fields, d->values[i].field), "value"));
        if (!got || strcmp(got, d->values[i].want) != 0) {
            fprintf(stderr, "  %s: value \"%s\", want \"%s\"\n", d->values[i].field,
                    got ? got : "(none)", d->values[i].want);
            fails++;
        }
    }
    if (json_object_size(fields) != n_expected) {
        fprintf(stderr, "  %s: %zu fields, want %zu\n", d->name, json_object_size(fields),
                n_expected);
        fails++;
    }
    json_decref(out);
    return fails;
}

#define FX_DOC(name_, w_, h_, pieces_, values_, n_values_, type_)                                  \
    ((fx_doc){name_, w_, h_, pieces_, (int)(sizeof pieces_ / sizeof *pieces_), values_, n_values_, \
              type_})

// ---- invoices

static const fx_piece invoice_en[] = {
    {72, 72, 22, 1, "INVOICE", NULL, NULL},
    {72, 110, 10, 0, "From:", NULL, NULL},
    {150, 110, 10, 0, "ACME Supplies Ltd.", "seller_name", NULL},
    {330, 110, 10, 0, "Bill to:", NULL, NULL},
    {400, 110, 10, 0, "Globex Corporation", "buyer_name", NULL},
    {72, 140, 10, 0, "Invoice No:", NULL, NULL},
    {170, 140, 10, 0, "INV-2024-0042", "invoice_number", NULL},
    {72, 156, 10, 0, "Invoice Date:", NULL, NULL},
    {170, 156, 10, 0, "2024-03-12", "invoice_date", NULL},
    {72, 172, 10, 0, "Due Date:", NULL, NULL},
    {170, 172, 10, 0, "April 11, 2024", "due_date", NULL},
    {72, 220, 10, 1, "Description", NULL, NULL},
    {330, 220, 10, 1, "Qty", NULL, NULL},
    {460, 220, 10, 1, "Amount", NULL, NULL},
    {72, 238, 10, 0, "Widgets, large", NULL, NULL},
    {330, 238, 10, 0, "10", NULL, NULL},
    {460, 238, 10, 0, "$1,000.00", NULL, NULL},
    {72, 254, 10, 0, "Gadgets", NULL, NULL},
    {330, 254, 10, 0, "2", NULL, NULL},
    {460, 254, 10, 0, "$234.56", NULL, NULL},
    {330, 300, 10, 0, "Subtotal:", NULL, NULL},
    {460, 300, 10, 0, "$1,234.56", "subtotal", "1,234.56"},
    {330, 316, 10, 0, "Tax (8%):", NULL, NULL},
    {460, 316, 10, 0, "$98.76", "tax_total", "98.76"},
    {330, 336, 11, 1, "Total:", NULL, NULL},
    {460, 336, 11, 1, "$1,333.32", "total", "1,333.32"},
    {72, 400, 9, 0, "Thank you for your business.", NULL, NULL},
};
static const fx_value invoice_en_values[] = {{"currency", "USD"}};

static const fx_piece invoice_de[] = {
    {72, 40, 20, 1, "RECHNUNG", NULL, NULL},
    {72, 70, 8, 0, "Absender", NULL, NULL},
    {72, 86, 12, 1, "Muster GmbH", "seller_name", NULL},
    {72, 130, 10, 0, "Rechnungsempfänger", NULL, NULL},
    {72, 146, 10, 0, "Beispiel AG", "buyer_name", NULL},
    {72, 160, 10, 0, "Hauptstraße 5", NULL, NULL},
    {72, 174, 10, 0, "10115 Berlin", NULL, NULL},
    {72, 210, 10, 1, "Rechnungsnummer", NULL, NULL},
    {230, 210, 10, 1, "Rechnungsdatum", NULL, NULL},
    {390, 210, 10, 1, "Fällig am", NULL, NULL},
    {72, 226, 10, 0, "RE-2024-117", "invoice_number", NULL},
    {230, 226, 10, 0, "12.03.2024", "invoice_date", NULL},
    {390, 226, 10, 0, "11.04.2024", "due_date", NULL},
    {72, 270, 10, 1, "Beschreibung", NULL, NULL},
    {330, 270, 10, 1, "Menge", NULL, NULL},
    {460, 270, 10, 1, "Betrag", NULL, NULL},
    {72, 286, 10, 0, "Beratung", NULL, NULL},
    {330, 286, 10, 0, "8", NULL, NULL},
    {460, 286, 10, 0, "1.200,00 €", NULL, NULL},
    {72, 302, 10, 0, "Reisekosten", NULL, NULL},
    {330, 302, 10, 0, "1", NULL, NULL},
    {460, 302, 10, 0, "34,56 €", NULL, NULL},
    {300, 350, 10, 1, "Zwischensumme", NULL, NULL},
    {400, 350, 10, 1, "MwSt 19%", NULL, NULL},
    {480, 350, 10, 1, "Gesamtbetrag", NULL, NULL},
    {300, 366, 10, 0, "1.234,56", "subtotal", NULL},
    {-1, 366, 10, 0, " €", NULL, NULL},
    {400, 366, 10, 0, "234,57", "tax_total", NULL},
    {-1, 366, 10, 0, " €", NULL, NULL},
    {480, 366, 10, 0, "1.469,13", "total", NULL},
    {-1, 366, 10, 0, " €", NULL, NULL},
};
static const fx_value invoice_de_values[] = {{"currency", "EUR"}};

static const fx_piece invoice_fr[] = {
    {72, 50, 20, 1, "FACTURE", NULL, NULL},
    {72, 90, 10, 0, "Vendeur :", NULL, NULL},
    {170, 90, 10, 0, "Dupont & Fils SARL", "seller_name", NULL},
    {72, 106, 10, 0, "Facturé à :", NULL, NULL},
    {170, 106, 10, 0, "Société Exemple", "buyer_name", NULL},
    {72, 140, 10, 0, "N° de facture :", NULL, NULL},
    {170, 140, 10, 0, "FA-2024-007", "invoice_number", NULL},
    {72, 156, 10, 0, "Date de facture :", NULL, NULL},
    {170, 156, 10, 0, "12 mars 2024", "invoice_date", NULL},
    {72, 172, 10, 0, "Date d'échéance :", NULL, NULL},
    {170, 172, 10, 0, "11/04/2024", "due_date", NULL},
    {72, 220, 10, 1, "Désignation", NULL, NULL},
    {330, 220, 10, 1, "Quantité", NULL, NULL},
    {460, 220, 10, 1, "Montant", NULL, NULL},
    {72, 236, 10, 0, "Maintenance annuelle", NULL, NULL},
    {330, 236, 10, 0, "1", NULL, NULL},
    {460, 236, 10, 0, "1 234,56 €", NULL, NULL},
    {330, 300, 10, 0, "Total HT :", NULL, NULL},
    {460, 300, 10, 0, "1 234,56", "subtotal", NULL},
    {-1, 300, 10, 0, " €", NULL, NULL},
    {330, 316, 10, 0, "TVA 20 % :", NULL, NULL},
    {460, 316, 10, 0, "246,91", "tax_total", NULL},
    {-1, 316, 10, 0, " €", NULL, NULL},
    {330, 336, 11, 1, "Total TTC :", NULL, NULL},
    {460, 336, 11, 1, "1 481,47", "total", NULL},
    {-1, 336, 11, 1, " €", NULL, NULL},
};
static const fx_value invoice_fr_values[] = {{"currency", "EUR"}};

DS_TEST(rules_invoice_en_de_fr) {
    int fails = run_doc(
        &FX_DOC("invoice en (labels left)", 612, 792, invoice_en, invoice_en_values, 1, "invoice"));
    fails += run_doc(&FX_DOC("invoice de (labels above)", 595, 842, invoice_de, invoice_de_values,
                             1, "invoice"));
    fails += run_doc(&FX_DOC("invoice fr", 595, 842, invoice_fr, invoice_fr_values, 1, "invoice"));
    return fails;
}

// ---- a till receipt, a contract, a form

static const fx_piece receipt[] = {
    {20, 30, 10, 1, "KEDAI MAJU JAYA SDN BHD", "company", NULL},
    {20, 44, 8, 0, "(123456-A)", NULL, NULL},
    {20, 58, 8, 0, "NO 12, JALAN BUNGA 3,", "address", NULL},
    {20, 70, 8, 0, "TAMAN MELATI, 53100 KUALA LUMPUR", "address", NULL},
    {20, 82, 8, 0, "TEL: 03-4021 7788", NULL, NULL},
    {20, 104, 9, 1, "CASH RECEIPT", NULL, NULL},
    {20, 120, 8, 0, "DATE:", NULL, NULL},
    {60, 120, 8, 0, "25/12/2018", "date", NULL},
    {110, 120, 8, 0, "10:21", NULL, NULL},
    {20, 140, 8, 0, "MILO PEKAT", NULL, NULL},
    {170, 140, 8, 0, "2.50", NULL, NULL},
    {20, 152, 8, 0, "ROTI BAKAR", NULL, NULL},
    {170, 152, 8, 0, "6.45", NULL, NULL},
    {20, 170, 8, 0, "SUBTOTAL", NULL, NULL},
    {170, 170, 8, 0, "8.95", NULL, NULL},
    {20, 182, 8, 0, "ROUNDING", NULL, NULL},
    {170, 182, 8, 0, "0.05", NULL, NULL},
    {20, 196, 9, 1, "TOTAL", NULL, NULL},
    {150, 196, 9, 1, "RM9.00", "total", "9.00"},
    {20, 210, 8, 0, "CASH", NULL, NULL},
    {170, 210, 8, 0, "10.00", NULL, NULL},
    {20, 222, 8, 0, "CHANGE", NULL, NULL},
    {170, 222, 8, 0, "1.00", NULL, NULL},
    {20, 250, 8, 0, "THANK YOU, PLEASE COME AGAIN", NULL, NULL},
};

static const fx_piece contract[] = {
    {72, 80, 14, 1, "MUTUAL NON-DISCLOSURE AGREEMENT", NULL, NULL},
    {72, 120, 10, 0,
     "This Mutual Non-Disclosure Agreement (the \"Agreement\") is entered into and effective as of",
     NULL, NULL},
    {72, 134, 10, 0, "March 1, 2019", "effective_date", NULL},
    {-1, 134, 10, 0, " by and between ", NULL, NULL},
    {-1, 134, 10, 0, "Acme Robotics, Inc.", "parties", NULL},
    {-1, 134, 10, 0, ", a Delaware corporation (\"Acme\"), and", NULL, NULL},
    {72, 148, 10, 0, "Globex Corporation", "parties", NULL},
    {-1, 148, 10, 0, " (\"Globex\"). The parties hereby agree as follows.", NULL, NULL},
    {72, 176, 10, 0, "1. Term. This Agreement shall remain in effect for a period of ", NULL, NULL},
    {-1, 176, 10, 0, "two (2) years", "term", NULL},
    {-1, 176, 10, 0, " from the", NULL, NULL},
    {72, 190, 10, 0,
     "Effective Date. 2. Governing Law. This Agreement shall be governed by the laws of the", NULL,
     NULL},
    {72, 204, 10, 0, "State of ", NULL, NULL},
    {-1, 204, 10, 0, "New York", "jurisdiction", NULL},
    {-1, 204, 10, 0, ", without regard to its conflict of law principles.", NULL, NULL},
};

static const fx_piece form[] = {
    {72, 72, 18, 1, "APPLICATION FORM", NULL, NULL},
    {72, 120, 10, 0, "Full name:", NULL, NULL},
    {180, 120, 10, 0, "Jane Doe", "applicant_name", NULL},
    {72, 140, 10, 0, "Date of birth:", NULL, NULL},
    {180, 140, 10, 0, "04/07/1990", "date_of_birth", NULL},
    {72, 160, 10, 0, "Phone:", NULL, NULL},
    {180, 160, 10, 0, "+1 555 0100 22", "phone", NULL},
    {72, 180, 10, 0, "Email:", NULL, NULL},
    {180, 180, 10, 0, "jane.doe@example.com", "email", NULL},
    {72, 200, 10, 0, "Address:", NULL, NULL},
    {180, 200, 10, 0, "12 Main Street, Springfield", "address", NULL},
    {72, 230, 10, 0, "Plan:", NULL, NULL},
    {180, 230, 10, 0, "[ ] Basic", NULL, NULL},
    {260, 230, 10, 0, "[x] Standard", NULL, NULL},
    {360, 230, 10, 0, "[ ] Premium", NULL, NULL},
    {72, 250, 10, 0, "Newsletter:", NULL, NULL},
    {180, 250, 10, 0, "[x]", NULL, NULL},
    {72, 290, 10, 0, "Signature:", NULL, NULL},
    {180, 290, 10, 0, "________________", NULL, NULL},
    {380, 290, 10, 0, "Date:", NULL, NULL},
    {420, 290, 10, 0, "2024-03-12", "signature_date", NULL},
};

DS_TEST(rules_receipt_contract_form) {
    // 80 mm till roll: 226 pt wide.
    int fails = run_doc(&FX_DOC("receipt (narrow)", 226, 300, receipt, NULL, 0, "receipt"));
    fails += run_doc(&FX_DOC("contract", 612, 792, contract, NULL, 0, "contract"));
    // The plan and the check boxes are left to the vision model: run_doc fails on extra fields.
    fails += run_doc(&FX_DOC("form", 612, 792, form, NULL, 0, "form"));
    return fails;
}

// ---- no labels, no words, unknown type

static const fx_piece prose[] = {
    {72, 100, 11, 0, "Lorem ipsum dolor sit amet, consectetur adipiscing elit.", NULL, NULL},
    {72, 116, 11, 0, "Sed do eiusmod tempor incididunt ut labore et dolore magna.", NULL, NULL},
};

DS_TEST(rules_empty_and_unknown) {
    ds_box boxes[4];
    ds_doc *doc = NULL;
    fx_doc d = FX_DOC("prose", 612, 792, prose, NULL, 0, "invoice");
    DS_CHECK(schemas() && draw_and_ingest(&d, boxes, &doc) == 0);
    json_t *out = NULL;
    int rc = ds_rules_extract(doc, schemas(), "invoice", &out);
    DS_CHECK_INT_EQ(rc, 0);
    char *s = json_dumps(out, JSON_COMPACT);
    printf("  prose as invoice -> %s\n", s);
    free(s);
    DS_CHECK(json_is_object(json_object_get(out, "fields")));
    DS_CHECK_INT_EQ(json_object_size(json_object_get(out, "fields")), 0);
    DS_CHECK(!strcmp(json_string_value(json_object_get(out, "doc_type")), "invoice"));
    json_decref(out);

    out = (json_t *)1;
    rc = ds_rules_extract(doc, schemas(), "passport", &out);
    printf("  doc_type passport -> %s: %s\n", ds_err_name(rc), ds_errmsg());
    DS_CHECK_INT_EQ(rc, DS_E_NOT_FOUND);
    DS_CHECK(out == NULL && strstr(ds_errmsg(), "passport"));
    ds_doc_free(doc);

    // A page without words: some type is guessed, and nothing is filled in.
    fx_doc blank = {"blank", 612, 792, NULL, 0, NULL, 0, NULL};
    DS_CHECK(draw_and_ingest(&blank, boxes, &doc) == 0);
    DS_CHECK_INT_EQ(doc->pages[0].n_words, 0);
    rc = ds_rules_extract(doc, schemas(), NULL, &out);
    DS_CHECK_INT_EQ(rc, 0);
    printf("  blank page -> guessed %s, %zu fields\n",
           json_string_value(json_object_get(out, "doc_type")),
           json_object_size(json_object_get(out, "fields")));
    DS_CHECK_INT_EQ(json_object_size(json_object_get(out, "fields")), 0);
    json_decref(out);
    ds_doc_free(doc);
    return 0;
}

// ---- real receipts (SROIE)

// Upper case, white space collapsed to single spaces, trimmed.
static void canon(const char *s, char *out, size_t cap) {
    size_t o = 0;
    for (; *s && o + 1 < cap; s++) {
        if (isspace((unsigned char)*s)) {
            if (o > 0 && out[o - 1] != ' ') out[o++] = ' ';
        } else {
            out[o++] = (char)toupper((unsigned char)*s);
        }
    }
    while (o > 0 && out[o - 1] == ' ') o--;
    out[o] = '\0';
}

// The number in an amount as printed ("RM 9.00", "$8.20", "33,90"); NAN if none.
static double amount_value(const char *s) {
    char buf[64];
    size_t o = 0;
    for (; *s && o + 1 < sizeof buf; s++)
        if (isdigit((unsigned char)*s) || *s == '.' || *s == ',' || *s == '-') buf[o++] = *s;
    buf[o] = '\0';
    char *comma = strrchr(buf, ','), *dot = strrchr(buf, '.');
    if (comma && (!dot || comma > dot)) { // decimal comma: drop dots, comma to dot
        size_t k = 0;
        for (size_t i = 0; buf[i]; i++)
            if (buf[i] != '.') buf[k++] = buf[i] == ',' ? '.' : buf[i];
        buf[k] = '\0';
    } else {
        size_t k = 0;
        for (size_t i = 0; buf[i]; i++)
            if (buf[i] != ',') buf[k++] = buf[i];
        buf[k] = '\0';
    }
    char *end;
    double v = strtod(buf, &end);
    return end != buf ? v : NAN;
}

DS_TEST(rules_shared_sroie) {
    char root[1024];
    snprintf(root, sizeof root, "%s/../shared/data/sroie-dev", DS_SOURCE_DIR);
    struct stat sb;
    if (stat(root, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        printf("  skip: %s not present\n", root);
        return 0;
    }
    if (!getenv("OMP_THREAD_LIMIT"))
        printf("  note: OMP_THREAD_LIMIT is not set: Tesseract's threads make OCR several times "
               "slower\n");
    static const char *fields[] = {"company", "date", "address", "total"};
    int right[4] = {0}, found[4] = {0}, docs = 0, guessed = 0, fails = 0;
    DS_CHECK(schemas());
    int n_read = ds_test_shared_docs(40);
    for (int i = 0; i < n_read; i++) {
        char path[1200], key_path[1200];
        snprintf(path, sizeof path, "%s/img/%03d.jpg", root, i);
        snprintf(key_path, sizeof key_path, "%s/key/%03d.json", root, i);
        ds_doc *doc = NULL;
        int rc = ds_ingest_file(path, NULL, &doc);
        json_t *key = json_load_file(key_path, 0, NULL);
        json_t *out = NULL, *guess = NULL;
        if (!rc) rc = ds_rules_extract(doc, schemas(), "receipt", &out);
        if (!rc) rc = ds_rules_extract(doc, schemas(), NULL, &guess);
        ds_doc_free(doc);
        if (rc || !key) {
            fprintf(stderr, "  %03d: %s: %s\n", i, ds_err_name(rc), key ? ds_errmsg() : "no key");
            fails++;
            json_decref(key);
            continue;
        }
        docs++;
        guessed += !strcmp(json_string_value(json_object_get(guess, "doc_type")), "receipt");
        for (int f = 0; f < 4; f++) {
            const char *want = json_string_value(json_object_get(key, fields[f]));
            const char *got = json_string_value(json_object_get(
                json_object_get(json_object_get(out, "fields"), fields[f]), "value"));
            if (!got || !want) continue;
            found[f]++;
            char a[1024], b[1024];
            canon(got, a, sizeof a);
            canon(want, b, sizeof b);
            int ok = strcmp(a, b) == 0;
            if (!ok && f == 3) ok = fabs(amount_value(got) - amount_value(want)) < 0.005;
            right[f] += ok;
        }
        json_decref(out);
        json_decref(guess);
        json_decref(key);
    }
    ds_ingest_thread_cleanup();
    printf("  sroie-dev: %d receipts (guessed as receipt: %d)\n", docs, guessed);
    int total_right = 0;
    for (int f = 0; f < 4; f++) {
        printf("    %-8s %2d / %d right (%d predicted)\n", fields[f], right[f], docs, found[f]);
        total_right += right[f];
    }
    DS_CHECK_INT_EQ(docs, n_read);
    DS_CHECK(total_right >= 1);
    return fails;
}

// FUNSD-style entities from the same form: the header, "label:" questions with the
// answers right of them, and their links. Expected lists written out by hand.
DS_TEST(rules_form_entities) {
    fx_doc d = {"form", 612, 792, form, (int)(sizeof form / sizeof *form), NULL, 0, "form"};
    ds_box boxes[64];
    ds_doc *doc;
    DS_CHECK_INT_EQ(draw_and_ingest(&d, boxes, &doc), 0);
    json_t *out;
    DS_CHECK_INT_EQ(ds_rules_form_entities(doc, &out), 0);
    static const char *want[][2] = {
        {"APPLICATION FORM", "header"},
        {"Full name:", "question"},
        {"Jane Doe", "answer"},
        {"Date of birth:", "question"},
        {"04/07/1990", "answer"},
        {"Phone:", "question"},
        {"+1 555 0100 22", "answer"},
        {"Email:", "question"},
        {"jane.doe@example.com", "answer"},
        {"Address:", "question"},
        {"12 Main Street, Springfield", "answer"},
        {"Plan:", "question"},
        {"[ ] Basic [x] Standard [ ] Premium", "answer"},
        {"Newsletter:", "question"},
        {"[x]", "answer"},
        {"Signature:", "question"},
        {"________________ Date: 2024-03-12", "answer"},
    };
    json_t *ents = json_object_get(out, "entities");
    size_t n = sizeof want / sizeof *want;
    int bad = json_array_size(ents) != n;
    for (size_t i = 0; i < json_array_size(ents); i++) {
        json_t *e = json_array_get(ents, i);
        const char *t = json_string_value(json_object_get(e, "text"));
        const char *l = json_string_value(json_object_get(e, "label"));
        int ok = i < n && !strcmp(t, want[i][0]) && !strcmp(l, want[i][1]);
        printf("  %-9s \"%s\"%s\n", l, t, ok ? "" : "   MISMATCH");
        bad += !ok;
    }
    json_t *links = json_object_get(out, "links");
    printf("  %zu links; first [\"%s\", \"%s\"]\n", json_array_size(links),
           json_string_value(json_array_get(json_array_get(links, 0), 0)),
           json_string_value(json_array_get(json_array_get(links, 0), 1)));
    bad += json_array_size(links) != 8 ||
           strcmp(json_string_value(json_array_get(json_array_get(links, 0), 1)), "Jane Doe");
    json_decref(out);
    ds_doc_free(doc);
    return bad;
}
