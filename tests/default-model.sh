#!/bin/sh
# default-model.sh DOCSEEK SOURCE_DIR WORK_DIR: the shipped default model on the
# committed sample sets (30 documents a type, born-digital and scanned), read by
# `docseek ingest` over the whole folder as a user runs it and scored by the
# evaluator. Each type's field F1 must reach the floor below: what the training
# issue reported for the committed model, the three-stage one (invoice 0.9926,
# receipt 1.000, form 0.9815, contract 1.000 since OCR drops the words of a
# speckled blank page; each rounded down). A change to ingest, the sequence or the decoder
# that costs the model one value fails here.
# With DS_TEST_SUBSET set (the sanitizer build sets it) it reads 3 born-digital documents
# and one scan of each type and asserts a field F1 above zero, not the floors: the floors
# are the release run's, the sanitizers look for memory errors on the way (all 120
# documents took 250 s of their run, 58 s of the release one).
set -e
D=$1
SRC=$2
W=$3
rm -rf "$W"
mkdir -p "$W"
fail=0
SETS="$SRC/samples/sets"
per_type=30
if [ -n "${DS_TEST_SUBSET:-}" ]; then
  sh "$SRC/tests/sample-subset.sh" "$SETS" "$W/sets" 3 1
  SETS="$W/sets"
  per_type=4
fi
"$D" ingest "$SETS" --out "$W/sets.jsonl" --schemas "$SRC/samples/schemas" \
    --model "$SRC/models/default.safetensors" --glob '*.pdf' --glob '*.jpg' --glob '*.tif' \
    --glob '*.png' 2>"$W/ingest.err" || { cat "$W/ingest.err"; exit 1; }
tail -2 "$W/ingest.err"
for t in invoice:0.992 receipt:1.000 form:0.981 contract:1.000; do
  type=${t%%:*}
  floor=${t#*:}
  [ -n "${DS_TEST_SUBSET:-}" ] && floor=0.000001
  f1=$("$D" eval --gt "$SETS/$type" --schemas "$SRC/samples/schemas" \
        --pred "$W/sets.jsonl" --worst 0 | awk '$1 == "overall" { print $NF }')
  ok=$(awk -v a="$f1" -v b="$floor" 'BEGIN { print (a != "" && a + 0 >= b + 0) ? "ok" : "LOW" }')
  echo "$type: field F1 $f1 (floor $floor) $ok"
  [ "$ok" = ok ] || fail=1
done
# The caller may fix the type: every document must then carry it (the decoder
# once named the schema list's first type whenever the type was given).
right=$("$D" eval --gt "$SETS/receipt" --schemas "$SRC/samples/schemas" --extractor model \
         --model "$SRC/models/default.safetensors" --given-type --worst 0 | sed -n 's/^document type right in //p')
echo "receipts with --given-type: type right in $right"
[ "$right" = "$per_type of $per_type predicted documents" ] || fail=1
[ $fail = 0 ] && echo "default model meets every floor"
exit $fail
