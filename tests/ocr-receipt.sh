# ocr-receipt.sh: sourced by the OCR command-line tests (ocr-layout.sh, ocr-lang.sh)
# with D (docseek) and W (a work folder, made afresh) set: doc is a worn thermal
# receipt (synth seed 9560, the 22nd: heldout-thermal's receipt-9560-00021), and
# words FILE writes the "text" lines of pages' JSON FILE to FILE.words.
rm -rf "$W"
mkdir -p "$W"
"$D" synth --type receipt --count 22 --seed 9560 --families 12-23 --scan --thermal \
    --out "$W" 2>/dev/null
doc="$W/receipt-9560-00021.jpg"
words() { tr ',' '\n' <"$1" | grep '"text":' >"$1.words"; }
