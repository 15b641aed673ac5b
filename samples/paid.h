// paid.h: a receipt's own arithmetic. A till prints what the customer handed over
// ("CASH 100.00") and the change given back ("CHANGE 19.10"); the difference is
// what was due, the receipt's total (80.90), whatever its label reads like after
// OCR ("Total Salestinclusive of GST) : 80.90"); where no change is given, the
// subtotal and the tax below it add up to it. Decoding takes it as a constraint on a
// total (fusion/decode.c): on SROIE the model had pointed at the cash handed over,
// the change or the tax instead.
#ifndef DS_SAMPLES_PAID_H
#define DS_SAMPLES_PAID_H

#include "ingest/ingest.h"

// The amount due by the document's payment lines: on one line a tendered label (CASH,
// TENDERED, RECEIVED, PAID, PAYMENT, or a card: VISA, MASTER, AMEX, DEBIT, CARD) and an
// amount with cents after it, on one of the next four lines of that page CHANGE and its
// amount, the change below the tendered amount: the difference; a card's charge with no
// change line: the charge. It counts only when another word of the document prints it
// (the total's own line). Returns 1 and *due, or 0 when the document shows no such lines.
int ds_paid_due(const ds_doc *doc, double *due);
// The amount due by the document's sum: on one line a subtotal label (SUBTOTAL, SUB
// TOTAL, SUB-TOTAL) and an amount with cents, on one of the next three lines of that
// page a tax label (GST, TAX, VAT, SST, GST/TAX) and its amount: their sum, when a later
// line of the page prints it ("Sub Total RM 68.87", "GST/TAX 6% RM 4.13", and OCR's
// "TORe RM 73.00" for TOTAL). Returns 1 and *due, or 0 when the document shows no such
// lines.
int ds_sum_due(const ds_doc *doc, double *due);

#endif
