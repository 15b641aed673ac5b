// synth-receipt-till.c: receipt families 12-23, long till receipts the way
// Malaysian shops print them (as in SROIE). The first families (0-11) are
// short and tidy: one TOTAL line and the cash and change under it. A real
// till receipt is three to six times longer and full of amounts that are not
// the total: item codes and prices, a total quantity, a sub-total without
// tax, the tax, a rounding adjustment, a GST summary table repeating the
// sums, the cash given and the change. The total is the rounded amount paid,
// under one of many labels. Above it: a company name (often on two lines), a
// registration number, an address of two to four lines ending in commas, TEL,
// GST number, a title and a block of document number, date, time, cashier.
// Fields as in SROIE: company, address (all its lines), date (as printed), total.
//
// Families 24-35 draw the same receipts with what 12-23 tie to the family drawn at
// random, and more of what real tills print: the sums in any of nine blocks (the
// total repeated, or a tax line after it), labels with dot leaders, a colon in a
// column of its own or "RM" before the amount, cash of a larger note than the next
// ten ringgit (so the change can exceed the total), the GST summary before the
// payment, the address wrapped by width, and a name above the shop's in larger type.
// On SROIE the model trained on 12-23 took the change, the cash or the tax for the
// total: there the change was always under ten ringgit and the total the last sum,
// so the place could stand in for the label.
//
// Families 36-47 are the varied tills with the tax rate printed where real tills
// print it: in the tax's label ("GST @ 6% :"), beside the amount it was charged on
// ("TAX AMT (S) 6%"), in the total's label now and then ("TOTAL INCL. GST @6%"), as
// the GST summary's code ("SR @ 6%") and in a footer ("TOTAL INCLUDES 6% GST"). No
// generated receipt printed "6%" before, and on SROIE read by OCR the model's
// pointer went to that word and took the amount beside it for the total (receipts
// 010, 016, 027, 029, 039). The receipt specialist retrained with them read other
// SROIE totals wrong instead (README, "Real documents"), so it ships without them.
#include "samples/synth-impl.h"

#include <stdio.h>
#include <string.h>

#define RNG(n)  ((int)ds_rng_below(r, (uint64_t)(n)))
#define PICK(a) (a)[RNG(sizeof(a) / sizeof *(a))]

static const char *syllables[] = {"TAN",  "LIM",  "TEO",   "HENG", "YONG", "FATT", "ZHENG",
                                  "HUI",  "SIN",  "CHUAN", "KEE",  "HOCK", "SENG", "WAH",
                                  "LEE",  "KIAN", "MING",  "AIK",  "HUAT", "SOON", "CHEONG",
                                  "LOON", "FOOK", "YEE",   "KHOO", "ONG",  "GUAN", "JAYA"};
static const char *towns[] = {"JOHOR BAHRU",  "KUALA LUMPUR", "PETALING JAYA",  "SHAH ALAM",
                              "KLANG",        "CHERAS",       "PUCHONG",        "SUBANG JAYA",
                              "SKUDAI",       "KAJANG",       "SERI KEMBANGAN", "MASAI",
                              "PASIR GUDANG", "RAWANG",       "AMPANG",         "SEMENYIH",
                              "IPOH",         "MELAKA",       "SEREMBAN",       "KULAI"};
static const char *states[] = {"JOHOR",
                               "SELANGOR",
                               "SELANGOR DARUL EHSAN",
                               "KUALA LUMPUR",
                               "JOHOR DARUL TAKZIM",
                               "W.P. KUALA LUMPUR",
                               "PERAK",
                               "MELAKA",
                               "NEGERI SEMBILAN"};

static void upper(char *s) {
    for (; *s; s++)
        if (*s >= 'a' && *s <= 'z') *s = (char)(*s - 'a' + 'A');
}

// A name part: a Chinese-Malaysian syllable pair or an English word, upper case.
static void name_part(ds_rng *r, char *buf, size_t n) {
    if (RNG(2))
        snprintf(buf, n, "%s %s", PICK(syllables), PICK(syllables));
    else
        snprintf(buf, n, "%s", ds_synth_word(r));
    upper(buf);
}

static void company_name(ds_rng *r, char *buf, size_t n) {
    static const char *forms[] = {"%s SDN BHD",      "%s SDN. BHD.",
                                  "%s ENTERPRISE",   "%s TRADING",
                                  "%s (M) SDN BHD",  "PERNIAGAAN %s",
                                  "KEDAI %s",        "%s HARDWARE & ELECTRICAL",
                                  "%s RESTAURANT",   "%s STATIONERY & BOOKS",
                                  "%s MART SDN BHD", "%s TRADING CO.",
                                  "%s MINI MARKET",  "%s INTERNATIONAL SDN BHD"};
    char part[64];
    name_part(r, part, sizeof part);
    snprintf(buf, n, PICK(forms), part);
}

// Two to four address lines, the last ones the postcode and town, the state.
static int address_lines(ds_rng *r, char lines[6][200]) {
    char a[64], b[64];
    name_part(r, a, sizeof a);
    name_part(r, b, sizeof b);
    int k = 0, no = 1 + RNG(300);
    switch (RNG(5)) {
    case 0:
        snprintf(lines[k++], 200, "NO. %d, JALAN %s %d,", no, a, 1 + RNG(30));
        break;
    case 1:
        snprintf(lines[k++], 200, "NO.%d, JLN %s %d/%d,", no, a, 1 + RNG(20), 1 + RNG(9));
        break;
    case 2:
        snprintf(lines[k++], 200, "LOT %d, JALAN %s,", no, a);
        break;
    case 3:
        snprintf(lines[k++], 200, "%d, JALAN %s %d,", no, a, 1 + RNG(30));
        break;
    default:
        snprintf(lines[k++], 200, "NO %d-%d, JALAN %s,", no, 1 + RNG(3), a);
        break;
    }
    static const char *areas[] = {"TAMAN", "BANDAR", "KAWASAN PERINDUSTRIAN",
                                  "TAMAN PERINDUSTRIAN"};
    if (RNG(3)) snprintf(lines[k++], 200, "%s %s,", PICK(areas), b);
    const char *town = RNG(3) ? PICK(towns) : b;
    const char *state = PICK(states);
    if (RNG(2)) {
        snprintf(lines[k++], 200, "%05d %s,", 10000 + RNG(89999), town);
        snprintf(lines[k++], 200, "%s.", state);
    } else {
        snprintf(lines[k++], 200, "%05d %s, %s", 10000 + RNG(89999), town, state);
    }
    return k;
}

static void date_printed(ds_rng *r, int style, char *out, size_t n) {
    static const char *mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int y = 2015 + RNG(8), m = 1 + RNG(12), d = 1 + RNG(28);
    char month[8];
    snprintf(month, sizeof month, "%s", mon[m - 1]);
    if (style % 5 == 2) upper(month); // "14 MAR 2018"
    switch (style % 5) {
    case 0:
        snprintf(out, n, "%02d/%02d/%04d", d, m, y);
        break;
    case 1:
        snprintf(out, n, "%02d-%02d-%04d", d, m, y);
        break;
    case 2:
    case 3:
        snprintf(out, n, "%02d %s %04d", d, month, y);
        break;
    default:
        snprintf(out, n, "%02d.%02d.%04d", d, m, y);
        break;
    }
}

typedef struct {
    ds_synth_doc *d;
    double W, m, y, size, lh;
} till;

static ds_synth_box line_at(till *t, double x, int align, int bold, const char *s) {
    return ds_synth_text(t->d, x, t->y, t->size, bold, align, s);
}

// A varied till's address (families 24-35): the way shops write their own, one
// text that the till wraps wherever the next word no longer fits, so a line can
// end mid-phrase ("12, JALAN TAMPOI 7/4,KAWASAN PERINDUSTRIAN" then "TAMPOI,81200
// JOHOR BAHRU,JOHOR"). It may begin with a lot or unit range, a floor or a
// building, or no number at all, and end with the country or the branch. On SROIE
// the model trained on families 12-23, whose address lines all end in a comma,
// stopped at the first line without one. Writes the text to out; returns it wrapped
// into at most 6 lines of width w at the till's size.
static int address_wrapped(till *t, ds_rng *r, double w, char *out, size_t n, char lines[6][200]) {
    char a[64], b[64], c[64];
    name_part(r, a, sizeof a);
    name_part(r, b, sizeof b);
    name_part(r, c, sizeof c);
    const char *sep = RNG(3) ? ", " : ","; // "27,JALAN DEDAP 13" as often as not spaced
    // drawn here, not in the calls below, whose arguments C evaluates in no set order
    int no = 1 + RNG(300), u = 1 + RNG(8), v = 1 + RNG(40), ord = RNG(4), side = RNG(2);
    char first[256];
    switch (RNG(11)) {
    case 0:
        snprintf(first, sizeof first, "LOT %d-A & %d-B%sJALAN %s %d", no, no, sep, a, 1 + RNG(30));
        break;
    case 1:
        snprintf(first, sizeof first, "NO.%d%c & %d%c%sJALAN %s", no, 'A' + u - 1, no + 2,
                 'A' + u - 1, sep, a);
        break;
    case 2:
        snprintf(first, sizeof first, "NO.%d-%d-%d JALAN %s", no, u, v % 9 + 1, a);
        break;
    case 3:
        snprintf(first, sizeof first, "LEVEL %d%sBANGUNAN %s%sNO.%d%sJALAN %s/%d", u, sep, a, sep,
                 v, sep, b, no % 40 + 1);
        break;
    case 4:
        snprintf(first, sizeof first, "%d%s FLR%s%s PLAZA%sJLN %s", ord + 1,
                 (const char *[]){"ST", "ND", "RD", "TH"}[ord], sep, a, sep, b);
        break;
    case 5:
        snprintf(first, sizeof first, "S%d%s%s FLOOR%s%s CITY%s%d%sJALAN %s", 100 + no, sep,
                 side ? "SECOND" : "GROUND", sep, a, sep, v, sep, b);
        break;
    case 6:
        snprintf(first, sizeof first, "NO.%d BATU %d%sJALAN %s", no, v % 20 + 1, sep, a);
        break;
    case 7:
        snprintf(first, sizeof first, "LOT P.T. %d%sJALAN %s", 100 + no * 29, sep, a);
        break;
    case 8:
        snprintf(first, sizeof first, "JALAN %s %d", a, v % 20 + 1);
        break;
    case 9:
        snprintf(first, sizeof first, "NO.%d %d,%d & %d%sJALAN %s %d", no, no + 2, no + 4, no + 6,
                 sep, a, v % 30 + 1);
        break;
    default:
        snprintf(first, sizeof first, "NO: %d%sJALAN %s %d%s", no, sep, a, u, side ? "C" : "");
        break;
    }
    static const char *areas[] = {"TAMAN", "BANDAR", "KAWASAN PERINDUSTRIAN", "TAMAN PERINDUSTRIAN",
                                  "PUSAT PERNIAGAAN"};
    static const char *states_short[] = {"SELANGOR D.E", "JOHOR", "SELANGOR",
                                         "KL",           "W.P.",  "DARUL EHSAN"};
    snprintf(out, n, "%s", first);
    if (RNG(3)) snprintf(out + strlen(out), n - strlen(out), "%s%s %s", sep, PICK(areas), c);
    const char *town = RNG(3) ? PICK(towns) : b;
    snprintf(out + strlen(out), n - strlen(out), "%s%05d %s", sep, 10000 + RNG(89999), town);
    if (RNG(4)) { // the state, long or short; after a comma or not
        const char *before = RNG(2) ? sep : " ";
        const char *state = RNG(2) ? PICK(states) : PICK(states_short);
        snprintf(out + strlen(out), n - strlen(out), "%s%s", before, state);
    }
    if (RNG(5) == 0) snprintf(out + strlen(out), n - strlen(out), "%sMALAYSIA", sep);
    if (RNG(6) == 0) { // the branch, as chains print it
        char br[64];
        name_part(r, br, sizeof br);
        const char *chain = (const char *[]){"TESCO", "AEON", "GIANT", "MYDIN"}[RNG(4)];
        snprintf(out + strlen(out), n - strlen(out), " (%s %s)", chain, br);
    }
    const char *end = (const char *[]){"", ".", ","}[RNG(3)];
    if (out[strlen(out) - 1] != '.') snprintf(out + strlen(out), n - strlen(out), "%s", end);
    // wrap at spaces: each line takes words while they fit in w (the first word always)
    int k = 0;
    const char *p = out;
    while (*p && k < 6) {
        char *line = lines[k++];
        size_t used = 0;
        line[0] = 0;
        while (*p) {
            size_t len = strcspn(p, " "), was = used;
            if (used + 1 + len >= 200) break;
            if (used) line[used++] = ' ';
            memcpy(line + used, p, len);
            line[used + len] = 0;
            if (was && ds_synth_text_width(t->d, t->size, 0, line) > w) {
                line[was] = 0;
                break;
            }
            used += len;
            p += len;
            p += strspn(p, " ");
        }
    }
    if (*p) { // longer than six lines: the truth is what was printed
        size_t have = 0;
        for (int i = 0; i < k && have + strlen(lines[i]) + 2 < n; i++) {
            if (i) out[have++] = ' ';
            memcpy(out + have, lines[i], strlen(lines[i]) + 1);
            have += strlen(lines[i]);
        }
    }
    return k;
}

// How a varied till (families 24-35) sets its sums' rows.
enum { ROW_LEADER = 1, ROW_COLON = 2, ROW_RM = 4 };

// A label at the left and an amount at the right; the amount goes on the next line
// when both do not fit. style (ROW_*): dots after the label, its colon in a column
// of its own, "RM" before the amount. Returns the amount's box.
static ds_synth_box row_styled(till *t, const char *label, const char *amount, int bold,
                               int style) {
    char lab[96];
    size_t n = strlen(label);
    while (style & ROW_COLON && n > 0 && (label[n - 1] == ':' || label[n - 1] == ' ')) n--;
    snprintf(lab, sizeof lab, "%.*s%s", (int)n, label, style & ROW_LEADER ? "........" : "");
    double rm = style & ROW_RM ? ds_synth_text_width(t->d, t->size, bold, "RM ") : 0;
    double need = ds_synth_text_width(t->d, t->size, bold, lab) +
                  ds_synth_text_width(t->d, t->size, bold, amount) + rm + 8;
    line_at(t, t->m, 0, bold, lab);
    if (style & ROW_COLON && n < strlen(label)) line_at(t, t->W * 0.58, 0, 0, ":");
    if (need > t->W - 2 * t->m) t->y += t->lh;
    ds_synth_box b = line_at(t, t->W - t->m, 1, bold, amount);
    if (style & ROW_RM) ds_synth_text(t->d, b.x0 - rm, t->y, t->size, bold, 0, "RM");
    t->y += t->lh;
    return b;
}

static void rule(till *t, int dashes) {
    if (dashes) {
        char s[64];
        int n = (int)((t->W - 2 * t->m) / (t->size * 0.62));
        n = n < 63 ? n : 63;
        memset(s, '-', (size_t)n);
        s[n] = 0;
        line_at(t, t->m, 0, 0, s);
    } else {
        ds_synth_line(t->d, t->m, t->y - t->size * 0.35, t->W - t->m, t->y - t->size * 0.35, 0.5);
    }
    t->y += t->lh * 0.8;
}

static void amt(long cents, char *buf, size_t n) {
    ds_synth_amount(cents, DS_LANG_EN, buf, n);
}

// The header: an optional name scribbled on top, the company (one or two lines),
// registration number, address, TEL, GST number.
static void header(till *t, ds_rng *r, int f, int varied) {
    ds_synth_doc *d = t->d;
    int centred = f % 2 == 0;
    double x = centred ? t->W / 2 : t->m;
    int align = centred ? 2 : 0;
    char buf[200], company[128];
    // a customer's or cashier's name written above the shop's. On a varied till it is
    // more common, and half the time larger than the shop's name with a gap under it,
    // as on SROIE's receipts 000-007 (boxes 33-39 px high against the shop's 23): there
    // the model, and the rules, took the largest line on top for the company.
    if (RNG(5) == 0 || (varied && RNG(4) == 0)) {
        ds_synth_person(r, buf, sizeof buf);
        upper(buf);
        if (varied && RNG(2)) {
            double size = t->size * (1.5 + 0.1 * RNG(6));
            int bold = RNG(2);
            while (size > t->size && ds_synth_text_width(d, size, bold, buf) > t->W - 2 * t->m)
                size *= 0.9;
            t->y += size - t->size; // the baseline lower, so that the name stays on the page
            ds_synth_text(d, x, t->y, size, bold, align, buf);
            t->y += size * (1.3 + 0.4 * RNG(3));
        } else {
            line_at(t, x, align, 0, buf);
            t->y += t->lh * 1.4;
        }
    }
    company_name(r, company, sizeof company);
    double csize = t->size + 1 + RNG(3);
    char *space = strrchr(company, ' ');
    if (ds_synth_text_width(d, csize, 1, company) > t->W - 2 * t->m && !space) csize = t->size;
    if ((ds_synth_text_width(d, csize, 1, company) > t->W - 2 * t->m || RNG(6) == 0) && space) {
        // two lines, broken at the last space that leaves the first line fitting
        char first[128];
        snprintf(first, sizeof first, "%s", company);
        char *cut = NULL;
        for (char *p = strchr(first, ' '); p; p = strchr(p + 1, ' ')) {
            *p = 0;
            int fits = ds_synth_text_width(d, csize, 1, first) <= t->W - 2 * t->m;
            *p = ' ';
            if (fits) cut = p;
        }
        if (!cut) cut = strchr(first, ' ');
        *cut = 0;
        ds_synth_box a = ds_synth_text(d, x, t->y, csize, 1, align, first);
        t->y += csize * 1.25;
        ds_synth_box b = ds_synth_text(d, x, t->y, csize, 1, align, cut + 1);
        ds_synth_field(d, "company", company, ds_synth_union(a, b), 0);
    } else {
        ds_synth_field(d, "company", company, ds_synth_text(d, x, t->y, csize, 1, align, company),
                       0);
    }
    t->y += csize * 1.3;
    static const char *regs[] = {"(######-@)", "(JM#######-@)", "CO. REG NO: ######-@",
                                 "COMPANY REG NO. : ######-@", "(@A########-@)"};
    if (RNG(5)) {
        ds_synth_pattern(r, PICK(regs), buf, sizeof buf);
        line_at(t, x, align, 0, buf);
        t->y += t->lh;
    }
    char lines[6][200];
    char address[1300] = "";
    int n = varied ? address_wrapped(t, r, (t->W - 2 * t->m) * (0.55 + 0.05 * RNG(10)), address,
                                     sizeof address, lines)
                   : address_lines(r, lines);
    ds_synth_box box = {0};
    for (int i = 0; i < n; i++) {
        ds_synth_box b = line_at(t, x, align, 0, lines[i]);
        box = i ? ds_synth_union(box, b) : b;
        if (!varied)
            snprintf(address + strlen(address), sizeof address - strlen(address), "%s%s",
                     i ? " " : "", lines[i]);
        t->y += t->lh;
    }
    ds_synth_field(d, "address", address, box, 0);
    static const char *tels[] = {"TEL: 0#-### ####", "TEL : 0#-#######  FAX : 0#-#######",
                                 "TEL NO: 0#-### ####", "Tel: 01#-### ####"};
    ds_synth_pattern(r, PICK(tels), buf, sizeof buf);
    line_at(t, x, align, 0, buf);
    t->y += t->lh;
    static const char *gsts[] = {"GST ID: 000#########", "GST REG NO. : 000#########",
                                 "GST NO : 000#########", "(GST REG NO: 000#########)"};
    if (f % 5 != 4) {
        ds_synth_pattern(r, PICK(gsts), buf, sizeof buf);
        line_at(t, x, align, 0, buf);
        t->y += t->lh;
    }
    static const char *titles[] = {
        "SIMPLIFIED TAX INVOICE", "TAX INVOICE", "CASH BILL", "INVOICE", "RECEIPT",
        "OFFICIAL RECEIPT"};
    t->y += t->lh * 0.6;
    line_at(t, t->W / 2, 2, 1, titles[f % 6]);
    t->y += t->lh * 1.4;
}

// Document number, date, time, cashier: the date is its own run of words.
static void meta(till *t, ds_rng *r, int f, const char *date, const char *time) {
    ds_synth_doc *d = t->d;
    char buf[96];
    static const char *docs[] = {"DOC NO : CS########", "Receipt # : CS########",
                                 "INVOICE NO.: ######", "BILL NO: ##########"};
    ds_synth_pattern(r, docs[f % 4], buf, sizeof buf);
    line_at(t, t->m, 0, 0, buf);
    t->y += t->lh;
    static const char *labels[] = {"DATE :", "Date:", "DATE:", "Date :"};
    ds_synth_box l = line_at(t, t->m, 0, 0, labels[f % 4]);
    ds_synth_box b = ds_synth_text(d, l.x1 + t->size * 0.6, t->y, t->size, 0, 0, date);
    ds_synth_field(d, "date", date, b, 0);
    if (f % 3 == 0)
        ds_synth_text(d, b.x1 + t->size * 0.6, t->y, t->size, 0, 0, time);
    else
        ds_synth_text(d, t->W - t->m, t->y, t->size, 0, 1, time);
    t->y += t->lh;
    static const char *cashiers[] = {"CASHIER : USER", "Cashier: ##", "CASHIER # : ###",
                                     "SALESPERSON :", "MEMBER :"};
    ds_synth_pattern(r, PICK(cashiers), buf, sizeof buf);
    line_at(t, t->m, 0, 0, buf);
    t->y += t->lh;
}

// Item lines: returns the sum of their amounts (cents) and the count of pieces.
static long items(till *t, ds_rng *r, int f, int varied, double stop, int *pieces) {
    static const char *heads[] = {"ITEM QTY S/PRICE AMOUNT TAX", "CODE/DESC QTY PRICE AMOUNT",
                                  "DESCRIPTION QTY U.PRICE RM", "ITEM QTY PRICE DISC AMOUNT"};
    line_at(t, t->m, 0, 0, heads[f % 4]);
    t->y += t->lh;
    rule(t, f % 4 == 1);
    long sum = 0;
    int n = 1 + RNG(varied && RNG(2) ? 5 : 24), style = f % 3; // varied: half of them short
    *pieces = 0;
    for (int i = 0; i < n && t->y + 3 * t->lh < stop; i++) {
        char desc[96], buf[64], a[32], p[32];
        snprintf(desc, sizeof desc, "%s %s", ds_synth_word(r), ds_synth_word(r));
        if (RNG(2))
            snprintf(desc + strlen(desc), sizeof desc - strlen(desc), " %dPCS", 1 + RNG(20));
        upper(desc);
        int qty = RNG(4) ? 1 : 2 + RNG(5);
        long price = 50 + RNG(RNG(5) ? 3000 : 30000);
        long amount = price * qty;
        sum += amount;
        *pieces += qty;
        amt(price, p, sizeof p);
        amt(amount, a, sizeof a);
        if (style == 1) { // code line, then the description, then the figures
            ds_synth_pattern(r, RNG(2) ? "955#########" : "#####", buf, sizeof buf);
            line_at(t, t->m, 0, 0, buf);
            t->y += t->lh;
        }
        if (style == 2 && ds_synth_text_width(t->d, t->size, 0, desc) > (t->W - 2 * t->m) * 0.58)
            *strchr(desc, ' ') = 0; // one word, clear of the quantity column
        line_at(t, t->m, 0, 0, desc);
        if (style == 2) {
            snprintf(buf, sizeof buf, "%d", qty);
            line_at(t, t->m + (t->W - 2 * t->m) * 0.62, 0, 0, buf);
        } else {
            t->y += t->lh;
            snprintf(buf, sizeof buf, style == 0 ? "%d x %s" : "%d PC * %s", qty, p);
            line_at(t, t->m + t->size * 2, 0, 0, buf);
        }
        ds_synth_box ab = line_at(t, t->W - t->m - (f % 4 == 0 ? t->size * 2 : 0), 1, 0, a);
        if (f % 4 == 0) ds_synth_text(t->d, ab.x1 + t->size * 0.6, t->y, t->size, 0, 0, "SR");
        t->y += t->lh;
    }
    rule(t, f % 4 == 1);
    return sum;
}

// The lines between the items and the payment: what each shows, the total last.
enum { EX, SUM, TAX, RND, ZERO, TOTAL, QTY }; // QTY: "TOTAL QTY: n" and the sum without tax
typedef struct {
    const char *label; // NULL on a total: "TOTAL" or "NETT TOTAL"
    int what, bold;
} sums_line;
static const sums_line sums_blocks[9][6] = {
    {{"", QTY, 0},
     {"SUB TOTAL :", SUM, 0},
     {"ROUNDING ADJUSTMENT :", RND, 0},
     {"GRAND TOTAL :", TOTAL, 1}},
    {{"TOTAL SALES (EXCLUDING GST) :", EX, 0},
     {"DISCOUNT :", ZERO, 0},
     {"TOTAL GST :", TAX, 0},
     {"ROUNDING :", RND, 0},
     {"TOTAL SALES (INCLUSIVE OF GST) :", TOTAL, 0}},
    {{"SUBTOTAL :", SUM, 0},
     {"TOTAL EXCL. OF GST", EX, 0},
     {"TOTAL INCL. OF GST", SUM, 0},
     {"TOTAL AMT ROUNDED", TOTAL, 1}},
    {{"Sub Total (RM) :", EX, 0},
     {"Discount (RM) :", ZERO, 0},
     {"Total GST (RM) :", TAX, 0},
     {"Rounding (RM) :", RND, 0},
     {"Total (RM) :", TOTAL, 1}},
    {{"TOTAL :", SUM, 0}, {"ROUNDING ADJ :", RND, 0}, {"ROUNDED TOTAL (RM):", TOTAL, 1}},
    {{"", QTY, 0},
     {"SUB-TOTAL (EX) :", EX, 0},
     {"TOTAL TAX :", TAX, 0},
     {"ROUNDING :", RND, 0},
     {NULL, TOTAL, 1}},
    // varied tills only (families 24-35)
    {{"", QTY, 0}, {"TOTAL AMT", SUM, 0}, {"ROUNDING ADJ", RND, 0}, {"RM", TOTAL, 0}},
    {{"TOTAL :", TOTAL, 0}, {"TOTAL AMOUNT :", TOTAL, 1}},
    {{"SUBTOTAL", EX, 0},
     {"SST 6%", TAX, 0},
     {"TOTAL (RM)", TOTAL, 1},
     {"TOTAL GST INCLUDED", TAX, 0}},
};

// The rate as a rated till (36-47) prints it, in a label or a tax code.
static const char *rate(ds_rng *r) {
    static const char *rates[] = {"6%", "6%", "@ 6%", "@6%", "6.00%", "@ 6.00%"};
    return PICK(rates);
}

// The GST summary: the sums without tax and the tax again, with a TOTAL row; on a
// rated till the code carries the rate ("SR @ 6%") and r draws how.
static void gst_summary(till *t, ds_rng *r, int rated, const char *ex, const char *tax) {
    char code[32];
    static const char *titles[] = {"GST SUMMARY", "GST SUMMARY", "GST Summary", "TAX SUMMARY"};
    static const char *codes[] = {"SR", "S", "SR =", "SR"};
    line_at(t, t->m, 0, 1, rated ? PICK(titles) : "GST SUMMARY");
    t->y += t->lh;
    line_at(t, t->m, 0, 0, "TAX CODE  %   AMT (RM)  TAX (RM)");
    t->y += t->lh;
    if (rated) snprintf(code, sizeof code, "%s %s", PICK(codes), rate(r));
    line_at(t, t->m, 0, 0, rated ? code : "SR        6");
    line_at(t, t->W - t->m - t->size * 8, 1, 0, ex);
    line_at(t, t->W - t->m, 1, 0, tax);
    t->y += t->lh;
    line_at(t, t->m, 0, 0, "TOTAL :");
    line_at(t, t->W - t->m - t->size * 8, 1, 0, ex);
    line_at(t, t->W - t->m, 1, 0, tax);
    t->y += t->lh * 1.5;
}

// The cash given: the next ten ringgit or the exact sum; on a varied till also a
// larger note, or a note and a ringgit (101.00 for 31.00: change 70.00).
static long paid_for(ds_rng *r, long total, int varied) {
    if (!varied) return RNG(3) ? (total / 1000 + 1) * 1000 : total;
    switch (RNG(5)) {
    case 0:
        return total;
    case 1:
        return (total / 1000 + 1) * 1000;
    case 2:
        return (total / 5000 + 1) * 5000;
    case 3:
        return (total / 10000 + 1) * 10000;
    default:
        return (total / 10000 + 1) * 10000 + 100;
    }
}

enum { LABEL_CAP = 96 }; // a sums row's label, as made

// How a rated till labels its tax: "GST @ 6% :" ("%s" the rate).
static const char *const tax_labels[] = {"GST %s :", "GST %s",   "GST %s RM",
                                         "%s GST :", "TAX %s :", "SST %s"};

// A rated till's tax row with the rate, drawn before the first total of a block that
// has no tax row.
static void rated_tax_row(till *t, ds_rng *r, const char *tax, int style) {
    char row[48];
    snprintf(row, sizeof row, PICK(tax_labels), rate(r));
    row_styled(t, row, tax, 0, style);
}

// A rated till's label for sums row `what` (into buf, LABEL_CAP bytes, when made): the
// tax's label with the rate, the sum without tax labelled as the amount the rate
// applies to, now and then the total's label naming the tax it includes.
static const char *rated_label(ds_rng *r, int what, const char *label, char *buf) {
    static const char *bases[] = {"TAX AMT (S) %s", "AMT EXCL GST %s",
                                  "SR %s TAXABLE :", "NET AMT (SR %s)"};
    static const char *totals[] = {"TOTAL INCL. GST %s", "TOTAL (INCL %s GST)", "TOTAL INCL GST%s"};
    const char *form = what == TAX                ? PICK(tax_labels)
                       : what == EX && RNG(2)     ? PICK(bases)
                       : what == TOTAL && !RNG(4) ? PICK(totals)
                                                  : NULL;
    if (!form) return label;
    snprintf(buf, LABEL_CAP, form, rate(r));
    return buf;
}

void ds_synth_receipt_till(ds_synth_doc *d, int family) {
    ds_rng *r = &d->rng;
    int f = (family - 12) % 12, varied = family >= 24, rated = family >= 36;
    d->lang = DS_LANG_EN;
    static const char *fonts[] = {"DejaVu Sans Mono", "Liberation Mono", "DejaVu Sans Mono",
                                  "Liberation Sans"};
    d->font = fonts[f % 4];
    till t = {.d = d, .W = d->page_w, .y = 24};
    t.m = 10 + RNG(6);
    t.size = 7 + 0.5 * RNG(3);
    t.lh = t.size * 1.35;
    header(&t, r, f, varied);
    char date[48], time[32];
    date_printed(r, RNG(4) ? 0 : 1 + RNG(4), date, sizeof date);
    int hh = RNG(24), mm = RNG(60), ss = RNG(60);
    if (RNG(2))
        snprintf(time, sizeof time, "%02d:%02d:%02d", hh, mm, ss);
    else
        snprintf(time, sizeof time, "%d:%02d:%02d %s", hh % 12 + 1, mm, ss, hh < 12 ? "AM" : "PM");
    int date_bottom = f >= 9;
    if (!date_bottom) meta(&t, r, f, date, time);
    t.y += t.lh * 0.5;
    int gst = f % 5 != 4, pieces;
    // what follows the items: at most ~26 lines of sums, payment, summary, footer
    long ex = items(&t, r, f, varied, d->page_h - 26 * t.lh, &pieces);
    long tax = gst ? (ex * 6 + 50) / 100 : 0, sum = ex + tax;
    long total = (sum + 2) / 5 * 5, rounding = total - sum; // to 5 sen, as Malaysian tills do
    char a[32], b[32], c[32], g[32], buf[LABEL_CAP];
    amt(ex, a, sizeof a);
    amt(sum, b, sizeof b);
    amt(total, c, sizeof c);
    amt(tax, g, sizeof g);
    char rnd[32];
    snprintf(rnd, sizeof rnd, "%s0.0%ld", rounding < 0 ? "-" : "",
             rounding < 0 ? -rounding : rounding);
    const char *shown[] = {
        [EX] = a, [SUM] = b, [TAX] = g, [RND] = rnd, [ZERO] = "0.00", [TOTAL] = c};
    ds_synth_box tb = {0};
    int block = varied ? RNG(9) : f % 6, style = varied ? RNG(8) : 0, has_total = 0;
    int bold_total = varied ? RNG(2) : -1; // -1: as the block says
    int tax_shown = 0;
    for (const sums_line *l = sums_blocks[block]; l->label || l->what == TOTAL; l++) {
        const char *label = l->label;
        if (l->what == QTY) snprintf(buf, sizeof buf, "TOTAL QTY: %d", pieces), label = buf;
        if (!label) label = RNG(2) ? "TOTAL" : "NETT TOTAL";
        if (rated && gst && l->what == TOTAL && !tax_shown && RNG(2)) // half the time
            rated_tax_row(&t, r, g, style);
        if (rated && gst) label = rated_label(r, l->what, label, buf);
        tax_shown |= l->what == TAX;
        int bold = l->what == TOTAL && bold_total >= 0 ? bold_total : l->bold;
        ds_synth_box box = row_styled(&t, label, shown[l->what == QTY ? EX : l->what], bold, style);
        if (l->what == TOTAL && !has_total) tb = box, has_total = 1; // the first of two
    }
    ds_synth_field(d, "total", c, tb, 0);
    long paid = paid_for(r, total, varied);
    char p[32], ch[32];
    amt(paid, p, sizeof p);
    amt(paid - total, ch, sizeof ch);
    static const char *cash[] = {
        "CASH :", "CASH", "PAYMENT :", "TENDERED :", "CASH RECEIVED :", "CASH TENDERED", "PAID :"};
    static const char *change[] = {
        "CHANGE :", "CHANGE", "CHANGE DUE :", "BALANCE :", "CHANGE :", "CHANGE AMT", "CHANGE :"};
    int pay = varied ? RNG(7) : f % 4, summary_first = varied && gst && RNG(3) == 0;
    if (summary_first) gst_summary(&t, r, rated, a, g);
    row_styled(&t, cash[pay], p, 0, style);
    row_styled(&t, change[pay], ch, 0, style);
    t.y += t.lh * 0.6;
    if (gst && !summary_first) gst_summary(&t, r, rated, a, g); // the sums without tax, and the tax
    if (rated && gst && RNG(3) == 0) {
        static const char *notes[] = {"TOTAL INCLUDES %s GST", "GST %s INCLUDED IN TOTAL",
                                      "PRICES INCLUSIVE OF %s GST"};
        snprintf(buf, sizeof buf, PICK(notes), RNG(2) ? "6%" : "6.00%");
        line_at(&t, t.W / 2, 2, 0, buf);
        t.y += t.lh;
    }
    if (date_bottom) {
        ds_synth_box db = line_at(&t, t.m, 0, 0, date);
        ds_synth_field(d, "date", date, db, 0);
        snprintf(buf, sizeof buf, "%s, PRINT BY: %s", time, RNG(2) ? "ROOT" : "ADMIN");
        ds_synth_text(d, db.x1 + t.size * 0.6, t.y, t.size, 0, 0, buf);
        t.y += t.lh;
        ds_synth_pattern(r, "INVOICE NO: #####", buf, sizeof buf);
        line_at(&t, t.m, 0, 0, buf);
        t.y += t.lh * 1.5;
    }
    static const char *thanks[] = {"GOODS SOLD ARE NOT RETURNABLE", "THANK YOU",
                                   "PLEASE COME AGAIN", "THANK YOU & HAVE A NICE DAY"};
    line_at(&t, t.W / 2, 2, 0, thanks[f % 4]);
    t.y += t.lh;
    line_at(&t, t.W / 2, 2, 0, thanks[(f + 1) % 4]);
}
