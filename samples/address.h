// address.h: which lines can be part of a postal address. A shop's address on a
// receipt is whole lines under its name, up to its phone, its tax number, the
// receipt's title or a date; decoding holds an address field (type "address") to
// such lines (fusion/decode.c), and the receipt rules end the address where they do
// (samples/rules-layout.c). On SROIE with OCR the model's address ran on into
// "Tel:07-3507405 Fax:07-3558160" and "-INVOICE- CHOPPING BOARD 35.5x25.5CM".
#ifndef DS_SAMPLES_ADDRESS_H
#define DS_SAMPLES_ADDRESS_H

// The words that end an address, lower-case, NULL-terminated: a phone, a tax
// number, a title ("invoice"), the first lines of a receipt's body ("cashier").
extern const char *const ds_address_stops[];

// Whether word w (any case) is one of ds_address_stops, alone or glued to what
// follows it or to signs before it: "Tel:", "tel.07-...", "-INVOICE-"; not "TIMES".
int ds_address_stop_word(const char *w);

// Whether a line of n words can be part of an address: no stop word, no date, no
// amount with cents after a decimal point ("1X 19.00 19.00"; the house numbers "55,57"
// are none), no registration number ("(CO.REG :933109-x)", "(742016-W}", "789417-W").
int ds_address_line(const char *const *words, int n);

#endif
