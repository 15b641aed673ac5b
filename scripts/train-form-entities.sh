#!/bin/sh
# train-form-entities.sh: a third stage for the default model: the shipped model
# continued on generated forms whose truth is FUNSD-style entity lists (synth
# --type form_entities: headers, questions, answers; born-digital and scanned),
# mixed with a share of the first two stages' data so that what it knew stays.
# Writes $OUT (default out/default-v8.safetensors, and its .csv/.png).
#   [LR=3e-4] [SEED=9] [OUT=FILE] scripts/train-form-entities.sh [STEPS]
#   (default 3000 steps; RESUME=--resume continues)
set -eu
STEPS=${1:-3000}
LR=${LR:-3e-4}
SEED=${SEED:-9}
OUT=${OUT:-out/default-v8.safetensors}
export OMP_THREAD_LIMIT=1
DS=${DOCSEEK:-build/docseek}
D=out/data
. "$(dirname "$0")/stage3-data.sh"
[ -d $D/train-fe ] || $DS synth --type form_entities --count 500 --seed 4000 --out $D/train-fe
[ -d $D/train-fe-scan ] ||
  $DS synth --type form_entities --count 400 --seed 4100 --scan --out $D/train-fe-scan
# held out: seeds never trained on, half of them scans
if [ ! -d $D/heldout-fe ]; then
  $DS synth --type form_entities --count 30 --seed 9800 --out $D/heldout-fe
  $DS synth --type form_entities --count 30 --seed 9900 --scan --out $D/heldout-fe
fi
data=""
for f in $D/s3-invoice $D/s3-invoice-scan $D/s3-receipt $D/s3-receipt-scan $D/s3-form \
  $D/s3-form-scan $D/s3-contract $D/s3-contract-scan $D/s3-contract-filed \
  $D/s3-contract-filed-long $D/s3-form-scan2 $D/s3-receipt-scan2 $D/train-fe $D/train-fe-scan; do
  data="$data --data $f"
done
$DS train --init models/default.safetensors $data --windows --out "$OUT" \
  --steps "$STEPS" --batch 4 --lr "$LR" --warmup 100 --seed "$SEED" --eval $D/heldout-fe \
  --eval-every 500 --checkpoint-every 250 --cache "${CACHE:-out/cache-v8}" ${RESUME:-}
