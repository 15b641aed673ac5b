#!/bin/sh
# train-receipt-adapter.sh: the receipt specialist, a LoRA adapter over the frozen
# default model read whenever a receipt is named as one (--type receipt,
# ?type=receipt, eval --given-type). Till receipts as Malaysian shops print them
# (synth receipt families 12-23) and the same with their sums, labels and payment
# varied (24-35: the total repeated or followed by a tax line, dot leaders, "RM"
# before amounts, change larger than the total, the address wrapped by width, not
# at its commas), 600 of them scanned, beside the classic receipts the base already
# reads. Writes $OUT (default out/receipt.lora.safetensors; copy it to
# models/default.receipt.lora.safetensors).
#   scripts/train-receipt-adapter.sh [STEPS]   (default 1800; OUT, CACHE from the environment)
set -eu
STEPS=${1:-1800}
OUT=${OUT:-out/receipt.lora.safetensors}
. "$(dirname "$0")/synth-once.sh"
syn $D/s3-receipt-till --type receipt --count 500 --seed 3600 --families 12-23
syn $D/s3-receipt-till-scan --type receipt --count 300 --seed 3700 --families 12-23 --scan
syn $D/s6-receipt-varied --type receipt --count 500 --seed 3650 --families 24-35
syn $D/s6-receipt-varied-scan --type receipt --count 300 --seed 3750 --families 24-35 --scan
syn $D/s3-receipt --type receipt --count 300 --seed 1000
syn $D/s3-receipt-scan --type receipt --count 60 --seed 2000 --scan
syn $D/s3-receipt-scan2 --type receipt --count 120 --seed 3300 --scan
# held out: seeds never trained on, half of them scans
if [ ! -d $D/heldout-varied6 ]; then
  $DS synth --type receipt --count 24 --seed 9540 --families 24-35 --out $D/heldout-varied6
  $DS synth --type receipt --count 24 --seed 9640 --families 24-35 --scan --out $D/heldout-varied6
fi
if [ ! -d $D/heldout-till ]; then
  $DS synth --type receipt --count 24 --seed 9520 --families 12-23 --out $D/heldout-till
  $DS synth --type receipt --count 24 --seed 9620 --families 12-23 --scan --out $D/heldout-till
fi
[ -n "${DATA_ONLY:-}" ] && exit 0
data=""
for f in s3-receipt-till s3-receipt-till-scan s6-receipt-varied s6-receipt-varied-scan \
  s3-receipt s3-receipt-scan s3-receipt-scan2; do
  data="$data --data $D/$f"
done
# --fresh: without it finetune would go on training the shipped receipt adapter.
$DS finetune --lora --experts --fresh --model models/default.safetensors $data \
  --out "$OUT" --steps "$STEPS" --lr 1e-3 --warmup 50 --eval $D/heldout-varied6 --eval-every 600 \
  --seed 3 --cache ${CACHE:-out/cache-lora} ${RESUME:-}
