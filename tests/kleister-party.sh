#!/bin/sh
# kleister-party.sh DOCSEEK SOURCE_DIR WORK_DIR: the shipped default model reads a
# Kleister NDA (../shared/data/kleister-nda-dev; skipped with a line when absent) whose
# one party's name breaks across two lines, "REG MARKETING & LOGISTICS" / "GROUP, LLC,".
# The pointers find the halves as two items; the decoder joins items that meet with no
# word between them (fusion/decode.c, put_party), so the party is listed once, whole,
# and scored right against Kleister's label (Reg_Marketing_and_Logistics_Group_LLC):
# before the join it was two wrong parties and a missed one.
set -e
D=$1
SRC=$2
W=$3
DATA="$SRC/../shared/data/kleister-nda-dev"
if [ ! -d "$DATA" ]; then
  echo "SKIP: $DATA not found (the real data sets live beside the project); one party, whole"
  exit 0
fi
rm -rf "$W"
mkdir -p "$W"
ln -s "$DATA/documents" "$W/documents"
grep '^06bb89c0b34d24024ccfba76663bac8f[.]pdf' "$DATA/labels.tsv" >"$W/labels.tsv"
"$D" eval --gt "$W" --format kleister --given-type --extractor model --worst 1 \
  --model "$SRC/models/default.safetensors" --schemas "$SRC/samples/schemas" >"$W/eval.txt"
cat "$W/eval.txt"
# the party row: TP 1, FP 0, FN 0
awk '$1 == "party" && $2 == 1 && $3 == 0 && $4 == 0 { ok = 1 } END { exit !ok }' "$W/eval.txt"
echo "kleister party: a name broken across lines is one party, whole"
