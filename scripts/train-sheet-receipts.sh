#!/bin/sh
# train-sheet-receipts.sh: a third stage for the default model: the shipped
# model continued on receipts scanned lying on an A4 sheet (as many of SROIE's are:
# synth --on-sheet) mixed with a share of the first two stages' data, so that
# what it knew stays. Writes out/default-v6.safetensors (and its .csv/.png).
# Tried 2026-11-29 and not shipped: better on generated on-sheet receipts,
# worse on SROIE's real ones (README, "Real documents").
#   scripts/train-sheet-receipts.sh [STEPS]   (default 2000)
set -eu
STEPS=${1:-2000}
export OMP_THREAD_LIMIT=1
DS=${DOCSEEK:-build/docseek}
D=out/data
. "$(dirname "$0")/stage3-data.sh"
[ -d $D/s3-receipt-sheet ] ||
  $DS synth --type receipt --count 400 --seed 3500 --scan --on-sheet --out $D/s3-receipt-sheet
# held out: receipts on a sheet, seeds never trained on
[ -d $D/heldout-sheet ] ||
  $DS synth --type receipt --count 30 --seed 9700 --scan --on-sheet --out $D/heldout-sheet
data=""
for f in $D/s3-*; do data="$data --data $f"; done
$DS train --init models/default.safetensors $data --windows --out out/default-v6.safetensors \
  --steps "$STEPS" --batch 4 --lr 4e-4 --warmup 100 --seed 7 --eval $D/heldout --eval-every 500 \
  --checkpoint-every 250 --cache out/cache-v6 ${RESUME:-}
