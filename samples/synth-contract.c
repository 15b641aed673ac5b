// synth-contract.c: non-disclosure and service agreements set as flowing
// paragraphs (words wrap at the margin, values may cross a line break), in 12
// families varying the title, the order of the recitals, the wording that
// names the parties, the governing-law and term clauses, and the numbering.
// Fields as in Kleister-NDA: parties (several), effective_date, jurisdiction, term.
#include "samples/synth-impl.h"

#include <stdio.h>
#include <string.h>

void ds_synth_contract(ds_synth_doc *d, int family) {
    ds_rng *r = &d->rng;
    family %= 12;
    d->lang = DS_LANG_EN;
    static const char *titles[] = {"NON-DISCLOSURE AGREEMENT", "MUTUAL CONFIDENTIALITY AGREEMENT",
                                   "CONFIDENTIALITY AND NON-DISCLOSURE AGREEMENT",
                                   "SERVICES AGREEMENT"};
    static const char *states[] = {"Delaware",      "New York", "California", "Texas",   "Ohio",
                                   "Massachusetts", "Illinois", "Nevada",     "Georgia", "Florida"};
    static const char *units[] = {"years", "months"};
    char p1[96], p2[96], iso[16], date[48], term[48];
    ds_synth_company(r, DS_LANG_EN, p1, sizeof p1);
    ds_synth_company(r, DS_LANG_EN, p2, sizeof p2);
    ds_synth_date(r, DS_LANG_EN, (int)ds_rng_below(r, 4), 0, NULL, iso, date, sizeof date);
    int unit = (int)ds_rng_below(r, 2);
    snprintf(term, sizeof term, "%d %s",
             unit ? 6 + (int)ds_rng_below(r, 30) : 1 + (int)ds_rng_below(r, 5), units[unit]);
    const char *state = states[ds_rng_below(r, 10)];

    ds_synth_flow f = {d, 72, 90, 10.5 + (family % 3) * 0.5, 72, d->page_w - 72, 14, 0, 0};
    ds_synth_text(d, d->page_w / 2, 70, 13, 1, 2, titles[family % 4]);
    f.y = 110;
    // The recital naming the parties and the date, in three wordings.
    if (family % 3 == 0) {
        ds_synth_put(&f, "This Agreement is entered into as of", 0);
        ds_synth_field(d, "effective_date", date, ds_synth_value(&f, date, 0), 0);
        ds_synth_put(&f, "(the \"Effective Date\") by and between", 0);
        ds_synth_field(d, "parties", p1, ds_synth_value(&f, p1, 1), 1);
        ds_synth_put(&f, "(\"Discloser\") and", 0);
        ds_synth_field(d, "parties", p2, ds_synth_value(&f, p2, 1), 1);
        ds_synth_put(&f, "(\"Recipient\").", 0);
    } else if (family % 3 == 1) {
        ds_synth_put(&f, "This Agreement is made by and between", 0);
        ds_synth_field(d, "parties", p1, ds_synth_value(&f, p1, 1), 1);
        ds_synth_put(&f, "and", 0);
        ds_synth_field(d, "parties", p2, ds_synth_value(&f, p2, 1), 1);
        ds_synth_put(&f, ", effective", 0);
        ds_synth_field(d, "effective_date", date, ds_synth_value(&f, date, 0), 0);
        ds_synth_put(&f, ".", 0);
    } else {
        ds_synth_put(&f, "PARTIES:", 1);
        ds_synth_paragraph_end(&f);
        ds_synth_field(d, "parties", p1, ds_synth_value(&f, p1, 0), 1);
        ds_synth_put(&f, "(the \"Company\"), and", 0);
        ds_synth_paragraph_end(&f);
        ds_synth_field(d, "parties", p2, ds_synth_value(&f, p2, 0), 1);
        ds_synth_put(&f, "(the \"Consultant\").", 0);
        ds_synth_paragraph_end(&f);
        ds_synth_put(&f, "Dated:", 1);
        ds_synth_field(d, "effective_date", date, ds_synth_value(&f, date, 0), 0);
    }
    ds_synth_paragraph_end(&f);
    // Body clauses: filler sentences from the word list between the clauses that matter.
    for (int clause = 1; clause <= 5; clause++) {
        char head[64];
        snprintf(head, sizeof head, family % 2 ? "%d." : "Section %d.", clause);
        ds_synth_put(&f, head, 1);
        int words = 25 + (int)ds_rng_below(r, 40);
        char sentence[64];
        for (int w = 0; w < words; w++) {
            snprintf(sentence, sizeof sentence, "%s%s", ds_synth_word(r), w % 11 == 10 ? "." : "");
            ds_synth_put(&f, sentence, 0);
        }
        if (clause == 3) {
            ds_synth_put(&f,
                         family % 4 < 2 ? "This Agreement shall remain in effect for a period of"
                                        : "The term of this Agreement is",
                         0);
            ds_synth_field(d, "term", term, ds_synth_value(&f, term, 0), 0);
            ds_synth_put(&f, "from the Effective Date.", 0);
        }
        if (clause == 4) {
            ds_synth_put(&f,
                         family % 2
                             ? "This Agreement shall be governed by the laws of the State of"
                             : "This Agreement is governed by and construed under the laws of",
                         0);
            ds_synth_field(d, "jurisdiction", state, ds_synth_value(&f, state, 0), 0);
            ds_synth_put(&f, ".", 0);
        }
        ds_synth_paragraph_end(&f);
        if (f.y > d->page_h - 120) {
            ds_synth_next_page(d);
            f.y = 80;
        }
    }
    ds_synth_put(&f, "IN WITNESS WHEREOF, the parties have executed this Agreement.", 0);
}
