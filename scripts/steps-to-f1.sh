#!/bin/sh
# steps-to-f1.sh: the README's steps-to-F1 table. Five models trained from the
# same data, seed and schedule, differing only in how values are copied out of
# the document or in the tokenizer; each is scored on a fixed held-out subset
# (out/data/heldout-small: 8 born-digital + 2 scanned documents per type) every
# EVERY steps during training, so the curves show how fast each one learns:
#   pointer      configs/default.json         word-span pointing (the default)
#   generate     configs/copy-generate.json   plain generation of the value tokens
#   pointer-gen  configs/copy-pointer-gen.json  pointer-generator mixture
#   copy-mask    configs/copy-mask.json       generation, the copy constraint as a training mask
#   bytes        configs/default.json with a byte tokenizer (vocab 272: no merges)
# Writes docs/steps-to-f1.svg (scripts/plot-steps.py). Needs the data and
# tokenizer of README "The shipped default model" under out/.
#   scripts/steps-to-f1.sh [STEPS] [EVERY]   (default 400 100; ~45 minutes here)
set -eu
STEPS=${1:-400}
EVERY=${2:-100}
export OMP_THREAD_LIMIT=1
DS=${DOCSEEK:-build/docseek} # a copy keeps a long run safe from rebuilds
D=""
for t in invoice receipt form contract; do D="$D --data out/data/train-$t --data out/data/train-$t-scan"; done
mkdir -p out/steps
[ -f out/tokenizer-bytes.json ] ||
  $DS tokenizer train --corpus samples/sets/receipt --vocab 272 --out out/tokenizer-bytes.json
for v in pointer generate pointer-gen copy-mask bytes; do
  tok=out/tokenizer-marks.json
  case $v in
    pointer) cfg=configs/default.json ;;
    generate) cfg=configs/copy-generate.json ;;
    pointer-gen) cfg=configs/copy-pointer-gen.json ;;
    copy-mask) cfg=configs/copy-mask.json ;;
    bytes) cfg=configs/default.json tok=out/tokenizer-bytes.json ;;
  esac
  if [ ! -f out/steps/$v.safetensors ]; then
    # shellcheck disable=SC2086
    $DS train $D --config $cfg --tokenizer $tok --out out/steps/$v.safetensors \
      --steps "$STEPS" --batch 4 --lr 2e-3 --warmup 100 --checkpoint-every 100 --cache out/cache \
      --seed 1 --eval out/data/heldout-small --eval-every "$EVERY" > out/steps/$v.log 2>&1
  fi
done
python3 scripts/plot-steps.py docs/steps-to-f1.svg --batch 4 pointer=out/steps/pointer.safetensors.csv \
  generate=out/steps/generate.safetensors.csv pointer-gen=out/steps/pointer-gen.safetensors.csv \
  copy-mask=out/steps/copy-mask.safetensors.csv bytes=out/steps/bytes.safetensors.csv
for v in pointer generate pointer-gen copy-mask bytes; do
  echo "$v: $(grep 'tokens in' out/steps/$v.log | sed 's/.*train: //')"
done
