#!/bin/sh
# ocr-quiet.sh DOCSEEK WORK_DIR: OCR of a scanned EDGAR contract whose page has
# regions a few pixels high, where Tesseract writes "Image too small to scale!!"
# and "Line cannot be recognized!!" to stderr (4 lines before the fix): docseek
# pages reads it with nothing on stderr, and still finds its words.
set -e
D=$1
W=$2
rm -rf "$W"
mkdir -p "$W"
# the fourth of these (family 39) is the page that made Tesseract talk
"$D" synth --type contract --count 4 --seed 77 --scan --families 36-47 --out "$W" 2>/dev/null
doc="$W/contract-77-00003.tif"
"$D" pages "$doc" >"$W/pages.json" 2>"$W/pages.err"
words=$(grep -o '"text":' "$W/pages.json" | wc -l)
echo "$words words read; stderr:"
cat "$W/pages.err"
test "$words" -gt 100
test ! -s "$W/pages.err"
echo "OCR with nothing on stderr"
