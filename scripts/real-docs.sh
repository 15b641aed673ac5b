#!/bin/sh
# real-docs.sh: the README's real-document table. The public sets of
# ../shared/data are split in halves (links under out/real, nothing copied):
# SROIE receipts 000-019 / 020-039, the Kleister NDAs' first / last ten lines,
# FUNSD's first / last ten forms (by name; scored as entities, type form_entities).
# Every extractor is scored on the second half: the rules baseline, the default
# model zero-shot, the same with its unsure values withheld (a calibration fitted on
# the first half: eval --fit-calibration; FUNSD's entities carry no confidences, so
# none there), and the default model with LoRA adapters trained on the first
# half (docseek finetune --lora, STEPS steps): on the attention projections, and
# with --experts on the feed-forward and every expert too. The model reads long
# documents in windows (--windows) and adapters train on them so. The caller names
# the type (--given-type): each folder holds one document type.
#   [MODEL=FILE] [SETS="sroie kleister funsd"] scripts/real-docs.sh [STEPS]
#   (default 200; ~35 minutes here)
set -eu
STEPS=${1:-200}
export OMP_THREAD_LIMIT=1
DS=${DOCSEEK:-build/docseek}
M=${MODEL:-models/default.safetensors}  # the model scored and adapted
DATA=$(cd "$(dirname "$0")/../../shared/data" && pwd)
R=out/real
mkdir -p $R/sroie-a/img $R/sroie-a/key $R/sroie-b/img $R/sroie-b/key $R/kleister-a $R/kleister-b
for i in $(seq -w 0 39); do
  h=a; [ "$i" -ge 20 ] && h=b
  ln -sf "$DATA/sroie-dev/img/0$i.jpg" $R/sroie-$h/img/0$i.jpg
  ln -sf "$DATA/sroie-dev/key/0$i.json" $R/sroie-$h/key/0$i.json
done
for h in a b; do ln -sfn "$DATA/kleister-nda-dev/documents" $R/kleister-$h/documents; done
i=0
for f in $(ls "$DATA/funsd-dev/annotations" | sort); do
  h=a; [ $i -ge 10 ] && h=b
  mkdir -p $R/funsd-$h/annotations $R/funsd-$h/images
  ln -sf "$DATA/funsd-dev/annotations/$f" $R/funsd-$h/annotations/$f
  ln -sf "$DATA/funsd-dev/images/${f%.json}.png" $R/funsd-$h/images/${f%.json}.png
  i=$((i + 1))
done
head -n 10 "$DATA/kleister-nda-dev/labels.tsv" > $R/kleister-a/labels.tsv
tail -n +11 "$DATA/kleister-nda-dev/labels.tsv" > $R/kleister-b/labels.tsv
f1() { $DS eval --quiet --json $R/last.json "$@" && python3 -c \
  "import json; print('%.3f' % json.load(open('$R/last.json'))['overall']['f1'])"; }
echo "| set (scored half) | rules | model, zero-shot | zero-shot, unsure values withheld (fitted on the other half) | + LoRA, attention ($STEPS steps on the other half) | + LoRA, attention and experts |"
echo "|---|---|---|---|---|---|"
for s in ${SETS:-sroie kleister funsd}; do
  A="--gt $R/$s-b --format $s --given-type"
  rules=$(f1 $A --extractor rules)
  zero=$(f1 $A --extractor model --model $M --windows)
  held="–"
  if [ $s != funsd ]; then
    $DS eval --quiet --gt $R/$s-a --format $s --given-type --extractor model --model $M \
      --windows --fit-calibration $R/$s-a.cal.json 2>$R/$s-a.cal.log
    held=$(f1 $A --extractor model --model $M --windows --calibration $R/$s-a.cal.json)
  fi
  lora=" | $held"
  for e in "" --experts; do
    ad=$R/$s-lora$e.safetensors
    rm -f $ad $ad.ckpt
    # FUNSD: the form_entities adapter beside the model goes on training (its rank
    # and layers: attention and experts both times)
    init=""
    [ $s = funsd ] && init="--init-adapter ${M%.safetensors}.form_entities.lora.safetensors"
    $DS finetune --lora $e $init --windows --model $M --format $s --data $R/$s-a --out $ad \
      --steps "$STEPS" --cache out/cache > $R/$s-lora$e.log 2>&1
    lora="$lora | $(f1 $A --extractor model --model $M --windows --adapter $ad)"
  done
  echo "| $s | $rules | $zero$lora |"
done
