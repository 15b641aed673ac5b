#!/bin/sh
# score-model.sh: one model's field F1 on every set the README reports, one line
# each: the generated held-out sets (out/data, made by the README's recipes and
# scripts/train-*.sh) and the real documents of ../shared/data (halves under
# out/real, made by scripts/real-docs.sh), zero-shot with the type given where a
# folder holds one type. Sets that are not there are skipped.
#   [DOCSEEK=build/docseek] scripts/score-model.sh [MODEL]   (default models/default.safetensors)
set -eu
M=${1:-models/default.safetensors}
export OMP_THREAD_LIMIT=1
DS=${DOCSEEK:-build/docseek}
D=out/data
R=out/real
S=$(cd "$(dirname "$0")/../../shared/data" 2>/dev/null && pwd || echo /nonexistent)
J=$(mktemp)
trap 'rm -f "$J"' EXIT
score() { # NAME DIR ARGS...
  name=$1 dir=$2
  shift 2
  [ -e "$dir" ] || return 0
  $DS eval --quiet --json "$J" --model "$M" --gt "$dir" --extractor model "$@" >/dev/null
  python3 -c "import json, sys
r = json.load(open(sys.argv[1]))
print('%-34s %.4f' % (sys.argv[2], r['overall']['f1']))" "$J" "$name"
}
echo "model $M"
score "held-out 120" $D/heldout
score "filed contracts" $D/heldout-filed
score "long filed contracts, windows" $D/heldout-filed-long --windows
score "EDGAR contracts, windows" $D/heldout-edgar --windows
score "long EDGAR contracts, windows" $D/heldout-edgar-long --windows
score "till receipts, type given" $D/heldout-till --given-type
score "held-out forms (form_entities)" $D/heldout-fe --given-type
score "Kleister NDAs, all 20" "$S/kleister-nda-dev" --format kleister --given-type --windows
score "Kleister NDAs, first 10" $R/kleister-a --format kleister --given-type --windows
score "Kleister NDAs, last 10" $R/kleister-b --format kleister --given-type --windows
score "SROIE receipts 000-019" $R/sroie-a --format sroie --given-type
score "SROIE receipts 020-039" $R/sroie-b --format sroie --given-type
score "FUNSD forms, all 20" "$S/funsd-dev" --format funsd --given-type
