#!/bin/sh
# ocr-layout.sh DOCSEEK WORK_DIR: OCR's page layouts from the command line.
# - a worn thermal receipt (synth seed 9560, the 22nd: heldout-thermal's
#   receipt-9560-00021) read with --ocr-layout auto, where Tesseract's layout
#   analysis makes Leptonica print "Error in boxClipToRectangle" (4 lines before
#   they went to the log): nothing on stderr, its words read, and the page says
#   the layout it was read with ("ocr_layout");
# - DS_OCR_LAYOUT=auto in the environment reads it as --ocr-layout auto does, and
#   differently from the default block (the words compared, not the timings);
# - an unknown layout: a clear error (exit 2), or in the environment a warning.
set -e
D=$1
W=$2
. "$(dirname "$0")/ocr-receipt.sh"
"$D" pages --ocr-layout auto "$doc" >"$W/auto.json" 2>"$W/auto.err"
"$D" pages "$doc" >"$W/block.json" 2>/dev/null
DS_OCR_LAYOUT=auto "$D" pages "$doc" >"$W/env.json" 2>/dev/null
words "$W/auto.json"
words "$W/block.json"
words "$W/env.json"
n=$(wc -l <"$W/auto.json.words")
echo "auto: $n words read; stderr:"
cat "$W/auto.err"
test "$n" -gt 20
test ! -s "$W/auto.err"
grep -q '"ocr_layout": "auto"' "$W/auto.json"
grep -q '"ocr_layout": "block"' "$W/block.json"
cmp -s "$W/auto.json.words" "$W/env.json.words"
! cmp -s "$W/auto.json.words" "$W/block.json.words"
echo "block: $(wc -l <"$W/block.json.words") words, another reading"
if "$D" pages --ocr-layout diagonal "$doc" >/dev/null 2>"$W/bad.err"; then exit 1; else rc=$?; fi
cat "$W/bad.err"
test "$rc" -eq 2
grep -q "takes block, auto, column or sparse, not 'diagonal'" "$W/bad.err"
DS_OCR_LAYOUT=diagonal "$D" pages "$doc" >/dev/null 2>"$W/env.err"
grep -q "DS_OCR_LAYOUT=diagonal is no OCR layout" "$W/env.err"
echo "OCR layouts: quiet, the environment's the same as the option's, unknown ones refused"
