// synth-contract-filed.c: contract families 12-59, agreements the way they are
// filed with the SEC (as in Kleister-NDA): an exhibit header above the title,
// a company and a person or two companies as parties (each followed by words
// that are not its name: "a Delaware corporation", its short name), the date
// written out ("the 5th day of November, 2004"), numbered sections of legal
// prose over one to three pages, a governing-law clause naming the state
// after a party's state of incorporation has named another, a term clause in
// words and digits (absent from some), and a signature block repeating the
// parties. Families 24-35 are the same at length (4-6 pages), longer than one
// sequence of the default model, so the governing law lies in a later window.
// Families 36-59 are 12-35 as EDGAR prints a filing's HTML, the look of
// Kleister-NDA's PDFs: A4, the filing's header line ("EX-10.23 5 dex1023.htm")
// at the top left, the title twice around the exhibit label, 10 pt serif running
// almost from edge to edge (or 5.6 pt double-spaced between wide margins), each
// page ending part way down, parties in capitals or as named, curly quotes, and
// prose full of capitalised phrases that name no one ("Charged Off Accounts",
// "Securities Exchange Act of 1934", a court in another state).
// Fields as in Kleister-NDA: parties, effective_date, jurisdiction, term.
#include "samples/synth-impl.h"

#include <cairo-pdf.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

static const char *states[] = {"Delaware", "New York",      "California", "Texas",
                               "Indiana",  "Massachusetts", "Illinois",   "Nevada",
                               "Colorado", "Florida",       "Michigan",   "Pennsylvania",
                               "Oregon",   "Iowa",          "Georgia",    "Minnesota",
                               "Virginia", "Washington",    "Ohio",       "New Jersey"};
#define N_STATES (sizeof states / sizeof *states)

// Sections of prose; %1 and %2 stand for the parties' short names.
static const char *sentences[] = {
    "%1 may disclose certain Confidential Information to %2 in connection with the "
    "evaluation of a possible business relationship between the parties.",
    "\"Confidential Information\" means all non-public information, in any form, "
    "furnished by or on behalf of %1 to %2 or its Representatives.",
    "%2 shall hold the Confidential Information in strict confidence and shall not "
    "disclose it to any third party without the prior written consent of %1.",
    "Confidential Information does not include information that is or becomes generally "
    "available to the public other than as a result of a disclosure by %2.",
    "Upon the written request of %1, %2 shall promptly return or destroy all copies of "
    "the Confidential Information within ten (10) days.",
    "Nothing in this Agreement obligates either party to proceed with any transaction, and "
    "no agreement shall exist unless and until a definitive agreement has been executed.",
    "%2 acknowledges that a breach of this Agreement may cause irreparable harm to %1 for "
    "which monetary damages would be an inadequate remedy.",
    "%1 shall be entitled to seek equitable relief, including injunction and specific "
    "performance, in addition to all other remedies available at law or in equity.",
    "No failure or delay in exercising any right hereunder shall operate as a waiver "
    "thereof, nor shall any single exercise preclude any other or further exercise.",
    "This Agreement constitutes the entire agreement between the parties with respect to "
    "its subject matter and supersedes all prior understandings.",
    "This Agreement may be amended only by a written instrument signed by both %1 and %2.",
    "Any notice under this Agreement shall be in writing and delivered by hand, by "
    "courier or by certified mail to the address set forth above.",
    "During the term of this Agreement, %2 shall not solicit for employment any employee "
    "of %1 with whom it had contact in connection with the evaluation.",
    "%2 shall use the Confidential Information solely for the purpose of evaluating the "
    "proposed transaction and for no other purpose.",
    "If any provision of this Agreement is held invalid, the remaining provisions shall "
    "continue in full force and effect.",
    "Neither party may assign this Agreement without the prior written consent of the "
    "other party, and any attempted assignment shall be void.",
    "%2 shall be responsible for any breach of this Agreement by its Representatives, "
    "including its directors, officers, employees, agents and advisors.",
    "This Agreement may be executed in counterparts, each of which shall be deemed an "
    "original and all of which together constitute one instrument.",
    "All Confidential Information shall remain the property of %1, and no license is "
    "granted to %2 under any patent, copyright or other right.",
    "In the event %2 is required by law to disclose any Confidential Information, it "
    "shall provide %1 with prompt written notice so that %1 may seek a protective order.",
};
#define N_SENTENCES (sizeof sentences / sizeof *sentences)

// The EDGAR families' further prose: capitalised phrases that name no party, and
// places that are not the governing law (%3: a state, %4: a country).
static const char *edgar_sentences[] = {
    "%2 acknowledges that the Company's business of purchasing and collecting Charged Off "
    "Accounts depends on its Trade Secrets and Customer Lists.",
    "For purposes of this Agreement, the term \"participate\" includes any direct or indirect "
    "interest, other than ownership of less than one (1) percent of the stock of a "
    "corporation registered under the Securities Exchange Act of 1934 (a \"Public Company\").",
    "ANY LEGAL ACTION OR PROCEEDING WITH RESPECT TO THIS AGREEMENT MAY BE BROUGHT IN THE "
    "UNITED STATES DISTRICT COURT FOR THE DISTRICT OF %3.",
    "%1 is a company organized under the laws of %4 and has offices in the United States.",
    "During the Restricted Period, %2 shall not engage in any Competitive Activity within the "
    "Territory described in Schedule A.",
    "Covenant Not to Compete. %2 agrees that the Non-Competition Period shall run from the "
    "Closing Date of the Merger Agreement.",
    "The Board of Directors of %1 may waive any provision of this Section in its sole "
    "discretion by notice to %2.",
    "%2 agrees to comply with the Company's Insider Trading Policy, Code of Ethics and "
    "Business Conduct as in effect from time to time.",
    "Any notice to %1 shall be sent to the attention of the General Counsel, with a copy to "
    "Outside Counsel in %3.",
    "The provisions of the Employee Retirement Income Security Act and the Internal Revenue "
    "Code shall not apply to any payment under this Section.",
};
#define N_EDGAR_SENTENCES (sizeof edgar_sentences / sizeof *edgar_sentences)

static const char *countries[] = {"Norway",          "Canada", "the British Virgin Islands",
                                  "the Netherlands", "Israel", "Bermuda"};

static const char *section_titles[] = {
    "Definitions.",   "Confidentiality.", "Use of Information.", "Return of Materials.",
    "Remedies.",      "No Obligation.",   "Non-Solicitation.",   "Notices.",
    "Miscellaneous.", "Assignment.",      "Severability.",       "Entire Agreement."};

// Writes sentence s with %1 / %2 replaced by the short names (%3 / %4 by c / e).
static void expand(const char *s, const char *a, const char *b, const char *c, const char *e,
                   char *out, size_t n) {
    size_t k = 0;
    for (; *s && k + 1 < n; s++) {
        if (s[0] == '%' && s[1] >= '1' && s[1] <= '4') {
            const char *name = s[1] == '1' ? a : s[1] == '2' ? b : s[1] == '3' ? c : e;
            for (; *name && k + 1 < n; name++) out[k++] = *name;
            s++;
        } else {
            out[k++] = *s;
        }
    }
    out[k] = 0;
}

// Straight quotes to curly ones, as EDGAR's HTML prints them (UTF-8 into out).
static void curly(const char *s, char *out, size_t n) {
    size_t k = 0;
    int open = 1;
    for (; *s && k + 4 < n; s++) {
        if (*s != '"') {
            out[k++] = *s;
            continue;
        }
        memcpy(out + k, open ? "\xe2\x80\x9c" : "\xe2\x80\x9d", 3);
        k += 3;
        open = !open;
    }
    out[k] = 0;
}

// A name in capitals, as many filings print a company ("ASSET ACCEPTANCE CAPITAL CORP.").
static void upper(char *s) {
    for (; *s; s++) *s = (char)toupper((unsigned char)*s);
}

static void company_name(ds_rng *r, char *buf, size_t n) {
    static const char *suffix[] = {", Inc.", " Inc.", " Corporation", ", LLC",
                                   " L.P.",  " Ltd.", " Company",     ", Inc."};
    char a[32], b[32];
    snprintf(a, sizeof a, "%s", ds_synth_word(r));
    snprintf(b, sizeof b, "%s", ds_synth_word(r));
    ds_synth_capitalise(a);
    ds_synth_capitalise(b);
    const char *suf = suffix[ds_rng_below(r, 8)];
    if (ds_rng_below(r, 2))
        snprintf(buf, n, "%s %s%s", a, b, suf);
    else
        snprintf(buf, n, "%s%s", a, suf);
}

static void person_name(ds_rng *r, char *buf, size_t n) {
    char base[96];
    ds_synth_person(r, base, sizeof base);
    if (ds_rng_below(r, 2)) {
        // a middle initial: "Anna K. Smith"
        const char *sp = strchr(base, ' ');
        int first = sp ? (int)(sp - base) : (int)strlen(base);
        snprintf(buf, n, "%.*s %c.%s", first, base, 'A' + (int)ds_rng_below(r, 26), sp ? sp : "");
    } else {
        snprintf(buf, n, "%s", base);
    }
}

// The effective date in one of the ways agreements print it; iso gets its ISO form.
static void long_date(ds_rng *r, int style, char *iso, char *out, size_t n) {
    static const char *months[] = {"January",   "February", "March",    "April",
                                   "May",       "June",     "July",     "August",
                                   "September", "October",  "November", "December"};
    static const char *th[] = {"th", "st", "nd", "rd"};
    int y = 1998 + (int)ds_rng_below(r, 22), m = 1 + (int)ds_rng_below(r, 12),
        d = 1 + (int)ds_rng_below(r, 28);
    snprintf(iso, 16, "%04u-%02u-%02u", (unsigned)y % 10000u, (unsigned)m % 100u,
             (unsigned)d % 100u);
    int last = d % 10, ord = d / 10 == 1 || last > 3 ? 0 : last;
    if (style == 0)
        snprintf(out, n, "%s %d, %d", months[m - 1], d, y);
    else if (style == 1)
        snprintf(out, n, "%d%s day of %s, %d", d, th[ord], months[m - 1], y);
    else if (style == 2)
        snprintf(out, n, "%d %s %d", d, months[m - 1], y);
    else
        snprintf(out, n, "%02d/%02d/%04d", m, d, y); // US month first: the value keeps it
}

// "two (2) years", "12 months", "thirty (30) days".
static void term_text(ds_rng *r, char *out, size_t n) {
    static const char *words[] = {"",      "one",    "two",    "three",    "four",
                                  "five",  "six",    "seven",  "eight",    "nine",
                                  "ten",   "eleven", "twelve", "",         "",
                                  "",      "",       "",       "eighteen", "",
                                  "",      "",       "",       "",         "twenty-four",
                                  "",      "",       "",       "",         "",
                                  "thirty"};
    static const int counts[][2] = {{1, 3},  {2, 3},  {3, 3},  {5, 3}, {6, 2}, {12, 2},
                                    {18, 2}, {24, 2}, {30, 1}, {7, 3}, {4, 3}, {9, 2}};
    static const char *units[] = {"", "days", "months", "years"};
    int k = (int)ds_rng_below(r, 12), c = counts[k][0], u = counts[k][1];
    const char *unit = c == 1 ? (u == 3 ? "year" : u == 2 ? "month" : "day") : units[u];
    if (ds_rng_below(r, 3))
        snprintf(out, n, "%s (%d) %s", words[c], c, unit);
    else
        snprintf(out, n, "%d %s", c, unit);
}

// Text set in the flow, its quotes curly in the EDGAR families.
static ds_synth_box put(ds_synth_flow *f, const char *text, int bold, int edgar) {
    char c[512];
    if (!edgar) return ds_synth_put(f, text, bold);
    curly(text, c, sizeof c);
    return ds_synth_put(f, c, bold);
}

// The EDGAR families' page: A4, the filing's header line, the title around the
// exhibit label; the flow's font, margins and page end as the filing prints them.
static void edgar_page(ds_synth_doc *d, ds_synth_flow *f, int family, const char *title) {
    ds_rng *r = &d->rng;
    cairo_pdf_surface_set_size(d->surface, 595.28, 841.89);
    d->page_w = 595.28;
    d->page_h = 841.89;
    int small = ds_rng_below(r, 4) == 0; // 5.6 pt double-spaced between wide margins
    d->font = small || ds_rng_below(r, 4) ? "Liberation Serif" : "TeX Gyre Termes";
    double size = small ? 5.6 : 9.75, left = small ? 29.6 : 6;
    // the text stops 40-75% down each page, as EDGAR's print of HTML does
    double bottom = d->page_h * (0.4 + 0.35 * ds_rng_uniform(r));
    *f = (ds_synth_flow){d, left, 0, size, left, d->page_w - left, small ? 11.25 : 12, 14, bottom};
    static const char *exhibits[] = {"EX-10.%d", "EX-99.(D)(%d)", "EX-10.%d", "EX-99.(E)(%d)"};
    char head[160], label[64], buf[160];
    int n = 1 + (int)ds_rng_below(r, 30), seq = 2 + (int)ds_rng_below(r, 20);
    snprintf(label, sizeof label, exhibits[family % 4], n);
    snprintf(head, sizeof head, "%s %d d%uex%d%d.htm", label, seq,
             100000u + (unsigned)ds_rng_below(r, 900000), 10 + n / 10, n % 10);
    double y = 17;
    if (ds_rng_below(r, 4)) { // the header line of the filing's document
        ds_synth_text(d, 6, y, 12, 0, 0, head);
        ds_synth_text(d, d->page_w / 2, y += 14, size, 1, 2, title);
        y += 14;
    }
    snprintf(buf, sizeof buf, family % 2 ? "Exhibit 10.%d" : "EXHIBIT %d", n);
    ds_synth_text(d, family % 3 ? d->page_w - left : left, y += 12, size, 1, family % 3 ? 1 : 0,
                  buf);
    ds_synth_text(d, d->page_w / 2, y += 22, size, 1, 2, title);
    f->x = f->left;
    f->y = y + 24;
}

void ds_synth_contract_filed(ds_synth_doc *d, int family) {
    ds_rng *r = &d->rng;
    // 24-35 and 48-59: 22-31 sections, 4-6 pages: read in windows
    int edgar = family >= 36, long_form = edgar ? family >= 48 : family >= 24;
    family %= 12;
    d->lang = DS_LANG_EN;
    if (family % 3 == 1) d->font = "Liberation Serif";
    static const char *titles[] = {"CONFIDENTIALITY AGREEMENT", "NON-DISCLOSURE AGREEMENT",
                                   "MUTUAL NONDISCLOSURE AGREEMENT",
                                   "CONSULTING, NON-COMPETITION AND CONFIDENTIALITY AGREEMENT",
                                   "CONFIDENTIALITY AND STANDSTILL AGREEMENT"};
    static const char *shorts1[] = {"the Company", "Discloser", "Parent", "Buyer"};
    static const char *shorts2[] = {"Recipient", "Receiving Party", "Consultant", "Executive"};
    char p1[96], p2[96], iso[16], date[64], term[48], buf[512], other[64], oiso[16];
    company_name(r, p1, sizeof p1);
    int person = family % 3 != 2;
    if (person)
        person_name(r, p2, sizeof p2);
    else
        company_name(r, p2, sizeof p2);
    long_date(r, family % 4, iso, date, sizeof date);
    long_date(r, 0, oiso, other, sizeof other); // a date that is not the effective date
    term_text(r, term, sizeof term);
    const char *law = states[ds_rng_below(r, N_STATES)];
    const char *incorporated = states[ds_rng_below(r, N_STATES)];
    const char *s1 = shorts1[family % 4], *s2 = person ? "Executive" : shorts2[family % 3];
    int has_term = ds_rng_below(r, 10) < 6, has_law = ds_rng_below(r, 10) < 9;
    double size = 10 + (family % 2) * 0.5;
    ds_synth_flow f = {d, 72, 60, size, 72, d->page_w - 72, size * 1.35, 72, d->page_h - 80};
    const char *court = "", *country = ""; // drawn for the EDGAR families only
    if (edgar) {
        court = states[ds_rng_below(r, N_STATES)];
        country = countries[ds_rng_below(r, sizeof countries / sizeof *countries)];
        if (ds_rng_below(r, 3) == 0) upper(p1); // "ASSET ACCEPTANCE CAPITAL CORP."
        edgar_page(d, &f, family, titles[family % 5]);
    } else {
        // the exhibit header the filing adds above the document
        static const char *exhibits[] = {"EX-10.%d", "Exhibit 10.%d", "EX-99.(D)(%d)",
                                         "EXHIBIT %d"};
        snprintf(buf, sizeof buf, exhibits[family % 4], 1 + (int)ds_rng_below(r, 30));
        ds_synth_text(d, family % 2 ? d->page_w - 72 : 72, 48, 9, 0, family % 2, buf);
        ds_synth_text(d, d->page_w / 2, 84, 12, 1, 2, titles[family % 5]);
        f.y = 112;
    }

    // the opening, naming the parties and the date
    if (family % 4 == 2) { // a letter: date, then the addressee
        ds_synth_field(d, "effective_date", date, ds_synth_value(&f, date, 0), 0);
        ds_synth_paragraph_end(&f);
        ds_synth_field(d, "parties", p2, ds_synth_value(&f, p2, 0), 1);
        f.x = f.left, f.y += f.lead;
        char street[96];
        ds_synth_street(r, DS_LANG_EN, street, sizeof street);
        ds_synth_put(&f, street, 0);
        ds_synth_paragraph_end(&f);
        ds_synth_put(&f,
                     "Ladies and Gentlemen: In connection with your consideration of a "
                     "possible negotiated transaction with",
                     0);
        ds_synth_field(d, "parties", p1, ds_synth_value(&f, p1, 0), 1);
        snprintf(buf, sizeof buf,
                 "(together with its subsidiaries, \"%s\"), you have requested "
                 "information concerning %s.",
                 s1, s1);
        put(&f, buf, 0, edgar);
    } else {
        ds_synth_put(&f,
                     family % 4 == 1 ? "THIS AGREEMENT is entered into on"
                                     : "This Agreement is made and entered into as of",
                     0);
        if (family % 4 == 1) {
            ds_synth_field(d, "effective_date", date, ds_synth_value(&f, date, 0), 0);
        } else {
            ds_synth_put(&f, "the", 0);
            ds_synth_field(d, "effective_date", date, ds_synth_value(&f, date, 0), 0);
        }
        put(&f, "(the \"Effective Date\"), by and between", 0, edgar);
        // EDGAR prints the comma on the name's last word ("Kite Pharma, Inc.,")
        snprintf(buf, sizeof buf, "%s%s", p1, edgar ? "," : "");
        ds_synth_field(d, "parties", p1, ds_synth_value(&f, buf, 0), 1);
        if (edgar && family % 2)
            snprintf(buf, sizeof buf, "a company organized under the laws of %s (\"%s\"), and",
                     country, s1);
        else
            snprintf(buf, sizeof buf, "%sa %s corporation (\"%s\"), and", edgar ? "" : ", ",
                     incorporated, s1);
        put(&f, buf, 0, edgar);
        ds_synth_field(d, "parties", p2, ds_synth_value(&f, p2, 0), 1);
        snprintf(buf, sizeof buf, person ? "(\"%s\"), an individual." : "(\"%s\").", s2);
        put(&f, buf, 0, edgar);
    }
    ds_synth_paragraph_end(&f);
    snprintf(buf, sizeof buf,
             "This Agreement is made in connection with the Purchase Agreement dated %s.", other);
    ds_synth_put(&f, buf, 0);
    ds_synth_paragraph_end(&f);

    // numbered sections; the term early, the governing law late
    int n_sections = (long_form ? 22 : 5) + (int)ds_rng_below(r, long_form ? 10 : 4);
    int term_at = 1 + (int)ds_rng_below(r, 3), law_at = n_sections - (int)ds_rng_below(r, 2);
    for (int s = 1; s <= n_sections; s++) {
        snprintf(buf, sizeof buf, "%d. %s", s, section_titles[(s - 1 + family) % 12]);
        ds_synth_put(&f, buf, 1);
        int n = 2 + (int)ds_rng_below(r, 3);
        for (int i = 0; i < n; i++) {
            expand(sentences[ds_rng_below(r, N_SENTENCES)], s1, s2, "", "", buf, sizeof buf);
            put(&f, buf, 0, edgar);
        }
        if (edgar && ds_rng_below(r, 2)) { // the filing's own capitalised prose
            expand(edgar_sentences[ds_rng_below(r, N_EDGAR_SENTENCES)], s1, s2, court, country, buf,
                   sizeof buf);
            put(&f, buf, 0, edgar);
        }
        if (s == term_at && has_term) {
            ds_synth_put(&f,
                         family % 2 ? "This Agreement shall remain in effect for a period of"
                                    : "The obligations under this Agreement shall expire",
                         0);
            ds_synth_field(d, "term", term, ds_synth_value(&f, term, 0), 0);
            ds_synth_put(&f, "from the Effective Date.", 0);
        }
        if (s == law_at && has_law) {
            int commonwealth = strcmp(law, "Massachusetts") == 0 ||
                               strcmp(law, "Pennsylvania") == 0 || strcmp(law, "Virginia") == 0;
            snprintf(buf, sizeof buf,
                     "This Agreement shall be governed by and construed in accordance with the "
                     "laws of the %s of",
                     commonwealth ? "Commonwealth" : "State");
            ds_synth_put(&f, buf, 0);
            ds_synth_field(d, "jurisdiction", law, ds_synth_value(&f, law, 0), 0);
            ds_synth_put(&f, ", without regard to its conflicts of law principles.", 0);
        }
        ds_synth_paragraph_end(&f);
    }
    ds_synth_put(&f,
                 "IN WITNESS WHEREOF, the parties have executed this Agreement as of the date "
                 "first written above.",
                 0);
    ds_synth_paragraph_end(&f);
    ds_synth_put(&f, p1, 1);
    f.x = f.left, f.y += f.lead;
    ds_synth_put(&f, "By: ______________________", 0);
    ds_synth_paragraph_end(&f);
    ds_synth_put(&f, p2, 1);
}
