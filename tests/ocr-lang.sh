#!/bin/sh
# ocr-lang.sh DOCSEEK WORK_DIR: OCR's languages from the command line.
# - a worn thermal receipt (synth seed 9560, the 22nd) read with --ocr-lang Latin
#   (Tesseract's Latin-script model, Debian's tesseract-ocr-script-latn): its words
#   read, another reading than English's, and the page says the languages it was
#   read with ("ocr_lang");
# - DS_OCR_LANG=Latin in the environment reads it as --ocr-lang Latin does;
# - a language Tesseract has no model for: the document fails with a message that
#   names it and the packages (exit 1); a name that is no language ("../eng", a path):
#   a usage error (exit 2), or in the environment a warning and English.
set -e
D=$1
W=$2
. "$(dirname "$0")/ocr-receipt.sh"
"$D" pages --ocr-lang Latin "$doc" >"$W/latin.json"
"$D" pages "$doc" >"$W/eng.json"
DS_OCR_LANG=Latin "$D" pages "$doc" >"$W/env.json"
for f in latin eng env; do words "$W/$f.json"; done
n=$(wc -l <"$W/latin.json.words")
echo "Latin: $n words read, English: $(wc -l <"$W/eng.json.words")"
test "$n" -gt 20
grep -q '"ocr_lang": "Latin"' "$W/latin.json"
grep -q '"ocr_lang": "eng"' "$W/eng.json"
cmp -s "$W/latin.json.words" "$W/env.json.words"
! cmp -s "$W/latin.json.words" "$W/eng.json.words"
if "$D" pages --ocr-lang xyz "$doc" >/dev/null 2>"$W/none.err"; then exit 1; else rc=$?; fi
cat "$W/none.err"
test "$rc" -eq 1
grep -q "Tesseract cannot load language 'xyz'" "$W/none.err"
! grep -q "Error opening data file" "$W/none.err" # Tesseract's own words: ours say it
if "$D" pages --ocr-lang ../eng "$doc" >/dev/null 2>"$W/bad.err"; then exit 1; else rc=$?; fi
cat "$W/bad.err"
test "$rc" -eq 2
grep -q "'../eng' is no OCR language" "$W/bad.err"
DS_OCR_LANG=../eng "$D" pages "$doc" >"$W/badenv.json" 2>"$W/env.err"
grep -q "DS_OCR_LANG=../eng: '../eng' is no OCR language" "$W/env.err"
grep -q '"ocr_lang": "eng"' "$W/badenv.json"
echo "OCR languages: Latin read, the environment's the same as the option's, unknown ones refused"
