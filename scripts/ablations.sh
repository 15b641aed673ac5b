#!/bin/sh
# ablations.sh: the README's ablation table. Three models trained from the same
# data, tokenizer, seed and budget (steps x batch), differing only in config:
#   full   configs/default.json         text + vision (ViT prefix, ROI, glyph strips, check-box words), MoE
#   text   configs/ablation-text.json   the same without any pixel-derived input
#   dense  configs/ablation-dense.json  all layers dense, FFN width 416: the MoE's active
#                                       parameters per token (8.06 M vs 8.07 M)
# then each scored on the held-out documents with docseek eval. Needs the data
# and tokenizer of README "The shipped default model" under out/.
#   scripts/ablations.sh [STEPS]   (default 1200; about 12 minutes a model here)
set -eu
STEPS=${1:-1200}
export OMP_THREAD_LIMIT=1
D=""
for t in invoice receipt form contract; do D="$D --data out/data/train-$t --data out/data/train-$t-scan"; done
mkdir -p out/ablation
for v in full text dense; do
  case $v in
    full) cfg=configs/default.json ;;
    text) cfg=configs/ablation-text.json ;;
    dense) cfg=configs/ablation-dense.json ;;
  esac
  if [ ! -f out/ablation/$v.safetensors ]; then
    # shellcheck disable=SC2086
    build/docseek train $D --config $cfg --tokenizer out/tokenizer-marks.json \
      --out out/ablation/$v.safetensors --steps "$STEPS" --batch 4 --lr 2e-3 --warmup 200 \
      --checkpoint-every 250 --cache out/cache --seed 1 > out/ablation/$v.log 2>&1
  fi
  build/docseek eval --gt out/data/heldout --extractor model --model out/ablation/$v.safetensors \
    --json out/ablation/$v.json --quiet
done
python3 - <<'PY'
import json
rows = []
for v in ("full", "text", "dense"):
    r = json.load(open(f"out/ablation/{v}.json"))
    t = {d["doc_type"]: d["f1"] for d in r["doc_types"]}
    f = {x["field"]: x["f1"] for x in r["fields"] if x["doc_type"] == "form"}
    vis = sum(f.get(k, 0) for k in ("plan", "newsletter", "terms_accepted")) / 3
    rows.append((v, r["overall"]["f1"], t.get("invoice", 0), t.get("receipt", 0), t.get("form", 0),
                 t.get("contract", 0), vis))
print("| model | overall | invoice | receipt | form | contract | form check boxes + plan |")
print("|---|---|---|---|---|---|---|")
for row in rows:
    print("| %s | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f |" % row)
PY
