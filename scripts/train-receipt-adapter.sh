#!/bin/sh
# train-receipt-adapter.sh: the receipt specialist, a LoRA adapter over the frozen
# default model read whenever a receipt is named as one (--type receipt,
# ?type=receipt, eval --given-type). Till receipts as Malaysian shops print them
# (synth receipt families 12-23) and the same with their sums, labels and payment
# varied (24-35: the total repeated or followed by a tax line, dot leaders, "RM"
# before amounts, change larger than the total, the address wrapped by width, not
# at its commas, a name above the shop's in larger type), 600 of them scanned, beside
# the classic receipts the base already reads. Writes $OUT (default out/receipt.lora.safetensors; copy it to
# models/default.receipt.lora.safetensors).
#   scripts/train-receipt-adapter.sh [STEPS]   (default 1800; OUT, CACHE from the environment)
set -eu
STEPS=${1:-1800}
OUT=${OUT:-out/receipt.lora.safetensors}
. "$(dirname "$0")/synth-once.sh"
. "$(dirname "$0")/receipt-sets.sh"
[ -n "${DATA_ONLY:-}" ] && exit 0
data=""
for f in $receipt_sets; do
  data="$data --data $D/$f"
done
# --fresh: without it finetune would go on training the shipped receipt adapter.
$DS finetune --lora --experts --fresh --model models/default.safetensors $data \
  --out "$OUT" --steps "$STEPS" --lr 1e-3 --warmup 50 --eval $D/heldout-varied7 --eval-every 600 \
  --seed 3 --cache ${CACHE:-out/cache-lora} ${RESUME:-}
