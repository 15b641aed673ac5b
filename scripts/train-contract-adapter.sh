#!/bin/sh
# train-contract-adapter.sh: the contract specialist, a LoRA adapter over the frozen
# default model read whenever a contract is named as one (--type contract, ?type=contract,
# eval --given-type): contracts as EDGAR prints a filing's HTML (synth contract families
# 36-59, the look of Kleister-NDA's PDFs), 60 of them scanned, beside the contracts the
# base already reads (the default families, filed 12-35) so that it keeps them. The
# fourth stage's data (scripts/train-edgar-contracts.sh) as an adapter: the base, and with
# it every other type and FUNSD's form_entities adapter, stays as it is. Writes $OUT
# (default out/contract.lora.safetensors; copy it to models/default.contract.lora.safetensors).
# 600 steps: 15.5 minutes here with the documents' preparation (2 threads, 2026-12-01).
#   scripts/train-contract-adapter.sh [STEPS]   (default 600; OUT, CACHE from the environment)
set -eu
STEPS=${1:-600}
OUT=${OUT:-out/contract.lora.safetensors}
. "$(dirname "$0")/synth-once.sh"
syn $D/s4-contract-edgar-scan --type contract --count 60 --seed 4100 --families 36-59 --scan &
syn $D/s4-contract-edgar --type contract --count 360 --seed 4000 --families 36-47
syn $D/s4-contract-edgar-long --type contract --count 180 --seed 4200 --families 48-59
syn $D/s4-contract --type contract --count 150 --seed 1000
syn $D/s4-contract-filed --type contract --count 100 --seed 3000 --families 12-23
syn $D/s4-contract-filed-long --type contract --count 60 --seed 3400 --families 24-35
wait
syn $D/s4-contract-scan --type contract --count 30 --seed 2000 --scan
# held out: seeds never trained on
if [ ! -d $D/heldout-edgar ]; then
  $DS synth --type contract --count 18 --seed 9700 --families 36-47 --out $D/heldout-edgar
  $DS synth --type contract --count 6 --seed 9750 --families 36-47 --scan --out $D/heldout-edgar
  $DS synth --type contract --count 24 --seed 9800 --families 48-59 --out $D/heldout-edgar-long
fi
[ -n "${DATA_ONLY:-}" ] && exit 0
data=""
for f in s4-contract-edgar s4-contract-edgar-long s4-contract-edgar-scan s4-contract \
  s4-contract-filed s4-contract-filed-long s4-contract-scan; do
  data="$data --data $D/$f"
done
# --fresh: all contracts, and without it finetune would go on training the shipped adapter.
# --one-window: one window of each long contract, as when the shipped adapter was trained;
# every window (--windows) read Kleister's 20 NDAs worse, 0.474 against 0.558 (README).
$DS finetune --lora --experts --one-window --fresh --model models/default.safetensors $data \
  --out "$OUT" --steps "$STEPS" --lr 1e-3 --warmup 50 --eval $D/heldout-edgar --eval-every 300 \
  --seed 3 --cache ${CACHE:-out/cache-lora} ${RESUME:-}
