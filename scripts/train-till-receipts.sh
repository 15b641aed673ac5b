#!/bin/sh
# train-till-receipts.sh: a third stage for the default model: the shipped model
# continued on long till receipts as Malaysian shops print them (synth receipt
# families 12-23: sub-totals, tax, rounding, GST summaries, many amounts besides
# the total, as in SROIE) mixed with a share of the first two stages' data, so
# that what it knew stays. Writes $OUT (default out/default-v9.safetensors, and
# its .csv/.png).
#   scripts/train-till-receipts.sh [STEPS]   (default 2000; LR, SEED, OUT, CACHE from the environment)
set -eu
STEPS=${1:-2000}
LR=${LR:-3e-4}
SEED=${SEED:-9}
OUT=${OUT:-out/default-v9.safetensors}
export OMP_THREAD_LIMIT=1
DS=${DOCSEEK:-build/docseek}
D=out/data
. "$(dirname "$0")/stage3-data.sh"
[ -d $D/s3-receipt-till ] ||
  $DS synth --type receipt --count 500 --seed 3600 --families 12-23 --out $D/s3-receipt-till
[ -d $D/s3-receipt-till-scan ] ||
  $DS synth --type receipt --count 300 --seed 3700 --families 12-23 --scan --out $D/s3-receipt-till-scan
# more scans of the other types: a continuation on 300 till scans that saw only 60 contract
# scans read a scanned contract as an invoice (v10)
[ -d $D/s3-contract-scan2 ] ||
  $DS synth --type contract --count 120 --seed 3800 --scan --out $D/s3-contract-scan2
[ -d $D/s3-invoice-scan2 ] ||
  $DS synth --type invoice --count 120 --seed 3900 --scan --out $D/s3-invoice-scan2
# held out: till receipts, seeds never trained on (half of them scans)
if [ ! -d $D/heldout-till ]; then
  $DS synth --type receipt --count 24 --seed 9520 --families 12-23 --out $D/heldout-till
  $DS synth --type receipt --count 24 --seed 9620 --families 12-23 --scan --out $D/heldout-till
fi
data=""
for f in $D/s3-invoice $D/s3-invoice-scan $D/s3-receipt $D/s3-receipt-scan $D/s3-receipt-scan2 \
  $D/s3-form $D/s3-form-scan $D/s3-form-scan2 $D/s3-contract $D/s3-contract-scan \
  $D/s3-contract-filed $D/s3-contract-filed-long $D/s3-receipt-till $D/s3-receipt-till-scan \
  $D/s3-contract-scan2 $D/s3-invoice-scan2; do
  data="$data --data $f"
done
$DS train --init models/default.safetensors $data --windows --out "$OUT" \
  --steps "$STEPS" --batch 4 --lr "$LR" --warmup 100 --seed "$SEED" --eval $D/heldout --eval-every 500 \
  --checkpoint-every 250 --cache ${CACHE:-out/cache-v9} ${RESUME:-}
