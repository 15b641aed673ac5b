#!/bin/sh
# train-edgar-contracts.sh: a fourth stage for the default model: the shipped model
# continued on contracts as EDGAR prints a filing's HTML (synth contract families
# 36-59: A4, small type from edge to edge, pages ending part way down, capitalised
# phrases that name no one; the look of Kleister-NDA's PDFs, where the third-stage
# model read the pages' pixels as nothing it knew) mixed with a smaller share of
# the earlier stages' data, so that what it knew stays. Writes $OUT (default
# out/default-v13.safetensors, and its .csv/.png). 240 steps (16 minutes here, its one
# evaluation included) bring the four stages to about the 2 hours of training the default
# model may take (122 minutes as logged, some 11 of them periodic evaluations); v12
# trained 800 (44 minutes).
#   scripts/train-edgar-contracts.sh [STEPS]   (default 240; LR, SEED, OUT, CACHE from the environment)
set -eu
STEPS=${1:-240}
LR=${LR:-1.5e-4}
SEED=${SEED:-12}
OUT=${OUT:-out/default-v13.safetensors}
. "$(dirname "$0")/synth-once.sh"
# the contracts (EDGAR-printed, filed, the default families, their scans) and the held-out
# EDGAR sets are the contract specialist's: made by its script, with the same seeds
DATA_ONLY=1 DOCSEEK=$DS scripts/train-contract-adapter.sh
# the other types' share: fewer documents each than stage 3's
for t in invoice receipt form; do
  syn $D/s4-$t --type $t --count 150 --seed 1000
done
syn $D/s4-receipt-till --type receipt --count 150 --seed 3600 --families 12-23
for t in invoice form; do
  syn $D/s4-$t-scan --type $t --count 30 --seed 2000 --scan &
done
syn $D/s4-receipt-till-scan --type receipt --count 60 --seed 3700 --families 12-23 --scan
wait
[ -n "${DATA_ONLY:-}" ] && exit 0
data=""
for f in $D/s4-contract-edgar $D/s4-contract-edgar-scan $D/s4-contract-edgar-long $D/s4-invoice \
  $D/s4-receipt $D/s4-form $D/s4-contract $D/s4-contract-filed $D/s4-contract-filed-long \
  $D/s4-receipt-till $D/s4-invoice-scan $D/s4-form-scan $D/s4-contract-scan \
  $D/s4-receipt-till-scan; do
  data="$data --data $f"
done
$DS train --init models/default.safetensors $data --windows --out "$OUT" \
  --steps "$STEPS" --batch 4 --lr "$LR" --warmup 30 --seed "$SEED" --eval $D/heldout --eval-every "$STEPS" \
  --checkpoint-every 250 --cache ${CACHE:-out/cache-v12} ${RESUME:-}
