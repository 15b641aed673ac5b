#!/bin/sh
# train-receipt-real.sh HALF OTHER: the receipt specialist's recipe
# (train-receipt-adapter.sh: its generated documents, steps, rate and seed) with half
# of SROIE's receipts (HALF a: 000-019, b: 020-039) trained beside the generated ones,
# read with the set's own words and each listed REPEAT times (default 10: 200 of
# 2,280 documents; listed once they were 1% of the batches); evaluated on the OTHER
# half every 600 steps. Issue 6's check: adapted on part of the folder, scored on the
# rest. WORDS=ocr trains and evaluates on docseek's OCR of the scans instead of the
# set's words (what a user adapting to their own scans has). Writes
# out/receipt-sroie-HALF.lora.safetensors (OUT); score it with
#   eval --gt out/real/sroie-OTHER --format sroie --given-type [--set-words]
#        --extractor model --adapter out/receipt-sroie-HALF.lora.safetensors
#   scripts/train-receipt-real.sh a b   (STEPS, REPEAT, CACHE, RESUME from the environment)
set -eu
H=$1
O=$2
OUT=${OUT:-out/receipt-sroie-$H.lora.safetensors}
. "$(dirname "$0")/synth-once.sh"
. "$(dirname "$0")/receipt-sets.sh"
. "$(dirname "$0")/real-sets.sh"
rehearse=""
for f in $receipt_sets; do
  rehearse="$rehearse --rehearse $D/$f"
done
W=--set-words
[ "${WORDS:-set}" = ocr ] && W=
$DS finetune --lora --experts --fresh --format sroie $W --model models/default.safetensors \
  --data $R/sroie-$H --repeat ${REPEAT:-10} $rehearse --out "$OUT" --steps ${STEPS:-1800} \
  --lr 1e-3 --warmup 50 --eval $R/sroie-$O --given-type --eval-every 600 --seed 3 \
  --cache ${CACHE:-out/cache-lora} ${RESUME:-}
