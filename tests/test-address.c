// test-address.c: which lines can be part of an address (samples/address.c), from
// SROIE receipts' lines as OCR read them; and an address decoded by random tiny models
// (their pointers are noise) is whole lines of the shop's address, never the phone,
// the title or an item under it.
#include "core/error.h"
#include "samples/address.h"
#include "tests/decode-fixtures.h"
#include "tests/ingest-fixtures.h"
#include "tests/test.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *line;
    int address;
} lines[] = {
    {"LOT 1851-A & 1851-B, JALAN KPB 6,", 1},
    {"NO.53 55,57 & 59, JALAN SAGU 18, TAMAN DAYA,", 1}, // house numbers, not cents
    {"(MR DIY TESCO TERBAU)", 1},
    {"NO: 28, JALAN ASTANA 1C,", 1},
    {"TIMES SQUARE, 1 JALAN IMBI", 1}, // "TIMES" is no "time"
    {"67,JLN NEWAH 25/63 THN SRI MUDA,", 1},
    {"-INVOICE-", 0},
    {"Tel:07-3507405 Fax:07-3558160", 0},
    {"TEL/FAX : 03~51213881", 0},
    {"8970669 1X 19.00 19.00", 0},
    {"(CO.REG :933109-x)", 0},
    {"(742016-W}", 0},
    {"789417-W", 0},
    {"DATE : 12/28/2017 10:17:32 PM", 0},
    {"Closed 29 Dec 2017", 0},
    {"12-01-19 21:13", 0},
    {"CASHIER : HASSAN", 0},
};

DS_TEST(address_lines) {
    int fails = 0;
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
        char buf[256];
        const char *w[32];
        int n = 0;
        snprintf(buf, sizeof buf, "%s", lines[i].line);
        for (char *save = NULL, *t = strtok_r(buf, " ", &save); t && n < 32;
             t = strtok_r(NULL, " ", &save))
            w[n++] = t;
        int got = ds_address_line(w, n);
        printf("  %-48s %s\n", lines[i].line, got ? "address" : "not");
        fails += got != lines[i].address;
    }
    return fails;
}

// The address a random model decodes from a receipt: a run of whole lines that can
// each be part of one (the name, the address's three, the item's name), or none;
// never the registration number, the title, an item's prices or the total.
DS_TEST(address_decoded_whole_lines) {
    static const char *receipt[] = {"MR D.I.Y. (JOHOR) SDN BHD",
                                    "(CO.REG :933109-x)",
                                    "LOT 1851-A & 1851-B, JALAN KPB 6,",
                                    "43300 SERI KEMBANGAN, SELANGOR",
                                    "(MR DIY TESCO TERBAU)",
                                    "-INVOICE-",
                                    "CHOPPING BOARD 35.5x25.5CM",
                                    "8970669 1X 19.00 19.00",
                                    "TOTAL RM 19.00"};
    static const int possible[] = {1, 0, 1, 1, 1, 0, 1, 0, 0};
    ds_fx_decode f;
    DS_CHECK(ds_fx_decode_open(&f) == 0);
    ds_doc *doc;
    DS_CHECK_INT_EQ(ds_fx_text_doc(receipt, 9, f.cfg.img_size, &doc), 0);
    int decoded = 0, found = 0, whole = 0, free_found = 0, free_whole = 0;
    for (int seed = 1; seed <= 12; seed++) {
        DS_CHECK(ds_fx_decode_model(&f, "LOT JALAN SELANGOR INVOICE TOTAL", 320, (uint64_t)seed) ==
                 0);
        for (int constrained = 1; constrained >= 0; constrained--) {
            ds_extractor_set_opts(
                f.x, &(ds_decode_opts){.spans_only = 1, .no_type_constraint = !constrained});
            json_t *out = NULL;
            if (ds_extractor_doc(f.x, doc, "receipt", &out) == 0) {
                decoded += constrained;
                const char *v = json_string_value(json_object_get(
                    json_object_get(json_object_get(out, "fields"), "address"), "value"));
                // whole lines that can be an address: from one's start to one's end
                int ok = 0;
                for (int a = 0; v && a < 9; a++)
                    for (int b = a; b < 9 && possible[b]; b++) {
                        char want[512] = "";
                        for (int l = a; l <= b; l++)
                            snprintf(want + strlen(want), sizeof want - strlen(want), "%s%s",
                                     l > a ? " " : "", receipt[l]);
                        ok |= !strcmp(v, want);
                    }
                if (constrained) {
                    found += v != NULL, whole += ok;
                    if (v && !ok) printf("  seed %d: address \"%s\"\n", seed, v);
                } else {
                    free_found += v != NULL, free_whole += ok;
                }
            }
            json_decref(out);
        }
    }
    printf("  12 random models: %d decoded, %d with an address, %d of them whole address "
           "lines that can be; without the constraint %d of %d\n",
           decoded, found, whole, free_whole, free_found);
    ds_doc_free(doc);
    ds_fx_decode_close(&f);
    return decoded != 12 || found < 3 || whole != found || free_whole == free_found;
}
