#!/bin/sh
# receipt-adapter.sh DOCSEEK SOURCE_DIR WORK_DIR: the shipped receipt specialist
# (models/default.receipt.lora.safetensors, beside the default model) on long till
# receipts it never saw (synth receipt families 12-23, seed 9520, born-digital),
# read with the type given so that the adapter is used: field F1 must reach the
# floor measured when it shipped, and beat the same model without the adapter
# (a copy of the model file alone in WORK_DIR). Measured when it shipped: 1.0000
# with, 0.6526 without.
set -e
D=$1
SRC=$2
W=$3
N=24
FLOOR=0.99
rm -rf "$W"
mkdir -p "$W"
"$D" synth --type receipt --count "$N" --seed 9520 --families 12-23 --out "$W/till" >/dev/null
cp "$SRC/models/default.safetensors" "$W/base.safetensors"
f1() {
  "$D" eval --gt "$W/till" --given-type --schemas "$SRC/samples/schemas" --worst 0 \
    --extractor model --model "$1" 2>>"$W/eval.err" | awk '$1 == "overall" { print $NF }'
}
with=$(f1 "$SRC/models/default.safetensors")
without=$(f1 "$W/base.safetensors")
echo "till receipts ($N, type given): F1 $with with the receipt adapter, $without without (floor $FLOOR)"
ok=$(awk -v a="$with" -v b="$without" -v f="$FLOOR" \
  'BEGIN { print (a != "" && b != "" && a + 0 >= f + 0 && a + 0 > b + 0) ? "ok" : "LOW" }')
[ "$ok" = ok ]
echo "receipt adapter: floor met, better than the base"
