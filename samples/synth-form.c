// synth-form.c: application forms in 12 layout families (labels left of or
// above the answers, one or two columns, boxed or underlined answer fields,
// check boxes before or after their labels). The check boxes' states are drawn
// as strokes and exist only in the pixels: the text layer says nothing about
// them, so only the vision path can read newsletter, terms_accepted and plan.
#include "samples/synth-impl.h"

#include <stdio.h>
#include <string.h>

// Draws "Label" and its answer; returns the y of the next row.
static double answer(ds_synth_doc *d, int above, int boxed, double x, double y, double w,
                     const char *label, const char *value, const char *name) {
    double vx = above ? x : x + 120, vy = above ? y + 15 : y;
    ds_synth_text(d, x, y, 9, 1, 0, label);
    if (boxed)
        ds_synth_rect(d, vx - 3, vy - 11, w - (vx - x), 15, 0.6);
    else
        ds_synth_line(d, vx, vy + 3, x + w, vy + 3, 0.5);
    ds_synth_field(d, name, value, ds_synth_text(d, vx, vy, 10, 0, 0, value), 0);
    return vy + 22;
}

static double check(ds_synth_doc *d, int box_after, double x, double y, const char *label,
                    int checked, const char *name) {
    double s = 9;
    ds_synth_box b;
    if (box_after) {
        ds_synth_box t = ds_synth_text(d, x, y, 9, 0, 0, label);
        b = ds_synth_checkbox(d, t.x1 + 6, y - s + 1, s, checked);
    } else {
        b = ds_synth_checkbox(d, x, y - s + 1, s, checked);
        ds_synth_text(d, x + s + 5, y, 9, 0, 0, label);
    }
    if (name) {
        ds_synth_field_bool(d, name, checked, b);
        ds_synth_visual_only(d, name);
    }
    return y + 18;
}

void ds_synth_form(ds_synth_doc *d, int family) {
    ds_rng *r = &d->rng;
    family %= 12;
    int above = family % 2, two_col = family % 3 == 2, boxed = family % 4 < 2;
    int box_after = family >= 6;
    d->lang = DS_LANG_EN;
    double W = d->page_w, m = 56, y = 70;
    char company[96], buf[128], name[96], iso[16], dob[48], sig[48], street[96], email[128];
    ds_synth_company(r, DS_LANG_EN, company, sizeof company);
    ds_synth_text(d, m, y, 11, 1, 0, company);
    y += 26;
    static const char *titles[] = {"Membership Application", "Customer Registration Form",
                                   "Service Enrolment Form", "Subscription Request"};
    ds_synth_text(d, W / 2, y, 16, 1, 2, titles[family % 4]);
    y += 34;
    ds_synth_person(r, name, sizeof name);
    int style = (int)ds_rng_below(r, 4);
    ds_synth_date(r, DS_LANG_EN, style, 0, NULL, iso, dob, sizeof dob);
    ds_synth_date(r, DS_LANG_EN, style, 0, NULL, iso, sig, sizeof sig);
    ds_synth_street(r, DS_LANG_EN, street, sizeof street);
    snprintf(email, sizeof email, "%s.%s@%s.com", ds_synth_word(r), ds_synth_word(r),
             ds_synth_word(r));
    char phone[32];
    ds_synth_pattern(r, "+## ### ### ####", phone, sizeof phone);
    double colw = two_col ? (W - 2 * m - 20) / 2 : W - 2 * m;
    double x2 = two_col ? m + colw + 20 : m;
    double y1 = answer(d, above, boxed, m, y, colw, "Full name", name, "applicant_name");
    double y2 =
        answer(d, above, boxed, x2, two_col ? y : y1, colw, "Date of birth", dob, "date_of_birth");
    y = two_col ? (y1 > y2 ? y1 : y2) : y2;
    y1 = answer(d, above, boxed, m, y, colw, "Phone", phone, "phone");
    y2 = answer(d, above, boxed, x2, two_col ? y : y1, colw, "E-mail", email, "email");
    y = two_col ? (y1 > y2 ? y1 : y2) : y2;
    y = answer(d, above, boxed, m, y, W - 2 * m, "Address", street, "address") + 10;

    ds_synth_text(d, m, y, 10, 1, 0, "Plan (check one)");
    y += 18;
    static const char *plans[] = {"basic", "standard", "premium"};
    static const char *plan_labels[] = {"Basic", "Standard", "Premium"};
    int chosen = (int)ds_rng_below(r, 3);
    ds_synth_box plan_box = {0, 0, 0, 0};
    for (int i = 0; i < 3; i++) {
        double px = m + i * 130, py = y;
        double s = 9;
        ds_synth_box b;
        if (box_after) {
            ds_synth_box t = ds_synth_text(d, px, py, 9, 0, 0, plan_labels[i]);
            b = ds_synth_checkbox(d, t.x1 + 6, py - s + 1, s, i == chosen);
        } else {
            b = ds_synth_checkbox(d, px, py - s + 1, s, i == chosen);
            ds_synth_text(d, px + s + 5, py, 9, 0, 0, plan_labels[i]);
        }
        if (i == chosen) plan_box = b;
    }
    ds_synth_field(d, "plan", plans[chosen], plan_box, 0); // the box of the checked option
    ds_synth_visual_only(d, "plan");
    y += 28;
    y = check(d, box_after, m, y, "Send me the newsletter", (int)ds_rng_below(r, 2), "newsletter");
    y = check(d, box_after, m, y, "I accept the terms and conditions", (int)ds_rng_below(r, 2),
              "terms_accepted");
    y += 24;
    ds_synth_text(d, m, y, 9, 1, 0, "Date");
    ds_synth_field(d, "signature_date", sig, ds_synth_text(d, m + 40, y, 10, 0, 0, sig), 0);
    ds_synth_text(d, W / 2, y, 9, 1, 0, "Signature");
    ds_synth_line(d, W / 2 + 60, y + 3, W - m, y + 3, 0.5);
    snprintf(buf, sizeof buf, "Form %c-%d rev. %d", 'A' + family, 100 + family * 7, 2 + family % 5);
    ds_synth_text(d, m, d->page_h - 40, 7, 0, 0, buf);
}
