#!/bin/sh
# extract-samples.sh DOCSEEK SOURCE_DIR WORK_DIR: `docseek extract` on the committed
# sample sets of all four types (PDFs and scans) gives, scored by the evaluator as
# predictions, exactly the F1 and grounding of `eval --extractor model` (on ten
# documents of each set, eight PDFs and two scans: cli_default_model_samples reads
# them all, and the sanitizer run needs its time; with DS_TEST_SUBSET set, three PDFs
# and one scan); a file
# that is no document and one that is missing become error lines naming their
# error while the rest goes on (exit 1); a blank scan is answered with every field
# empty; an unknown --type is refused; a calibration
# fitted by eval --fit-calibration is read back, a missing one refused.
set -e
D=$1
SRC=$2
W=$3
S="--schemas $SRC/samples/schemas"
rm -rf "$W"
mkdir -p "$W"
cd "$SRC"
pdfs=8 scans=2
if [ -n "${DS_TEST_SUBSET:-}" ]; then pdfs=3 scans=1; fi # the sanitizer build: for time
n=$((pdfs + scans))
sh tests/sample-subset.sh "$SRC/samples/sets" "$W/sets" $pdfs $scans
for t in invoice receipt form contract; do
  G="$W/sets/$t"
  test "$(ls "$G" | wc -l)" = $((2 * n))
  "$D" extract $S $(ls "$G"/*.pdf "$G"/*.jpg "$G"/*.tif 2>/dev/null) >"$W/$t.jsonl"
  test "$(wc -l <"$W/$t.jsonl")" = $n
  a=$("$D" eval --gt "$G" $S --pred "$W/$t.jsonl" --worst 0 | grep -E '^overall|^grounding')
  b=$("$D" eval --gt "$G" $S --extractor model --worst 0 | grep -E '^overall|^grounding')
  echo "$t through extract: $(echo "$a" | head -1)"
  test -n "$a"
  test "$a" = "$b"
done
set +e
"$D" extract $S samples/sets/invoice/invoice-100-00000.pdf CMakeLists.txt "$W/missing.pdf" \
    >"$W/mixed.jsonl" 2>"$W/mixed.err"
rc=$?
set -e
test $rc = 1
test "$(wc -l <"$W/mixed.jsonl")" = 3
grep -q '"doc_type":"invoice"' "$W/mixed.jsonl"
grep -q '"code":"UNSUPPORTED"' "$W/mixed.jsonl"
grep -q '"code":"NOENT"' "$W/mixed.jsonl"
if "$D" extract $S --type passport samples/sets/invoice/invoice-100-00000.pdf 2>"$W/type.err"; then
  exit 1
fi
grep -q "passport" "$W/type.err"
# A blank scan (no words at all): every type answers with no value read from the page
# (the decoder pointed at word 0 of none and crashed before); left to the model, no type
# is named (it named every blank page a receipt at 0.99) and the answer says why
python3 "$SRC/tests/py/blank_png.py" "$W/blank.png"
for t in "--type invoice" "--type receipt" "--type form" "--type contract" "--type form_entities"; do
  "$D" extract $S $t "$W/blank.png" >"$W/blank.jsonl"
  grep -q '"doc_type":"[a-z_]*"' "$W/blank.jsonl"
  if grep -q '"source":"span"\|"error"' "$W/blank.jsonl"; then exit 1; fi
done
"$D" extract $S "$W/blank.png" >"$W/blank.jsonl"
grep -q '"doc_type":null,"fields":{}' "$W/blank.jsonl"
grep -q '"type_confidence":0.0,"note":"no words on any page' "$W/blank.jsonl"
echo "a blank scan: every type answers, no value read from it; untyped, no type named"
# --no-vision: the model sees a blank page; it still answers in the schema
"$D" extract $S --no-vision --no-windows samples/sets/invoice/invoice-100-00000.pdf \
    | grep -q '"doc_type":"[a-z]*"'
# A calibration fitted by eval is read by extract; a missing one is refused by name.
"$D" eval --gt "$W/sets/receipt" $S --extractor model --fit-calibration "$W/cal.json" --quiet
grep -q '"docseek_calibration": 2' "$W/cal.json"
"$D" extract $S --calibration "$W/cal.json" samples/sets/receipt/receipt-200-00000.jpg \
    | grep -q '"confidence":'
if "$D" extract $S --calibration "$W/none.json" samples/sets/receipt/receipt-200-00000.jpg \
    2>"$W/cal.err"; then exit 1; fi
grep -q "NOENT: .*none.json" "$W/cal.err"
# A calibration that withholds every receipt total: extract outputs it as null and
# lists it under "withheld"; the other fields stay.
cat >"$W/withhold.json" <<'JSON'
{"docseek_calibration": 1, "curves": {"*": {"values": 10,
 "steps (raw up to, right share, values)": [[1, 0.9, 10]]}},
 "withhold": {"receipt.total": {"raw_below": 2, "values": 10}}}
JSON
"$D" extract $S --type receipt --calibration "$W/withhold.json" \
    samples/sets/receipt/receipt-200-00000.jpg >"$W/withheld.json"
grep -q '"total":null' "$W/withheld.json"
grep -q '"withheld":{"total":{"value":' "$W/withheld.json"
grep -q '"date":{"value":' "$W/withheld.json"
echo "extract: the same F1 as the evaluator's model run; bad files are error lines, the rest goes on"
