#!/bin/sh
# finetune-keep-best.sh DOCSEEK SOURCE_DIR WORK_DIR: finetune --keep-best writes the
# adapter as it scored best on --eval, the start included, not as it ended; a later
# step replaces the one kept only when better by more than the kept F1's standard
# error. The step kept must be the one that rule picks from the evaluations the run
# printed; the adapter written must hold that step's parameters (those of a run
# stopped there, or the starting adapter's for step 0), byte for byte; and a run
# stopped half-way and resumed must write the same file as one run. Without --eval
# it is refused. (The standard error: test eval_f1_standard_error. This tiny model's
# adapters rarely clear one standard error, so --keep-bar 0 runs too: any gain.)
set -e
D=$1
SRC=$2
W=$3
S="--schemas $SRC/samples/schemas"
rm -rf "$W"
mkdir -p "$W"
"$D" synth --type invoice --count 6 --seed 7300 --out "$W/data" >/dev/null
"$D" synth --type invoice --count 3 --seed 7400 --out "$W/eval" >/dev/null
"$D" tokenizer train --corpus "$W/data" --vocab 500 --out "$W/tok.json" >/dev/null
"$D" train --data "$W/data" --config "$SRC/configs/tiny.json" --tokenizer "$W/tok.json" \
    --steps 30 --batch 2 --warmup 2 --lr 1e-2 --cache "$W/cache" $S \
    --out "$W/base.safetensors" 2>/dev/null
M="--model $W/base.safetensors --cache $W/cache $S --batch 2 --rank 4"
# the starting adapter, so that "as it started" is a file to compare with
"$D" finetune --lora $M --data "$W/data" --out "$W/start.safetensors" --steps 2 --lr 1e-2 \
    2>/dev/null >/dev/null
F="$M --init-adapter $W/start.safetensors --data $W/data --eval $W/eval --steps 8"
F="$F --eval-every 2 --warmup 1"
if "$D" finetune --lora $M --data "$W/data" --keep-best --out "$W/x.safetensors" \
    2>"$W/refused.txt"; then
    echo "--keep-best without --eval was not refused"
    exit 1
fi
grep -q -- "--keep-best needs --eval" "$W/refused.txt"
echo "--keep-best without --eval: refused ($(cat "$W/refused.txt"))"
training() { "$D" tensors --json "$1" | grep '"training":' | tr -d '\\'; }
# the tensors' bytes: what follows the header (its length is the file's first 8 bytes)
data() { tail -c +$(($(od -An -t u8 -N 8 "$1" | tr -d ' ') + 9)) "$1"; }
# two rates, a gentle and a harsh one; the default bar (one standard error) and none
for run in 1e-2:1 5e-2:1 1e-2:0 5e-2:0; do
    lr=${run%:*} bar=${run#*:}
    "$D" finetune --lora $F --lr $lr --keep-best --keep-bar $bar --out "$W/kb.safetensors" \
        2>"$W/kb.log" >/dev/null
    grep "^eval at step" "$W/kb.log"
    # the expected step: the first evaluated, then each that beats the one kept by more
    # than its F1's standard error (F1 = tp / n, n = tp + (fp + fn) / 2)
    want=$(grep "^eval at step" "$W/kb.log" | awk '{
        sub(":", "", $4); sub(/\)/, "", $13); tp = $9; n = tp + ($11 + $13) / 2
        f = n > 0 ? tp / n : 1
        if (!any || f > kf + bar * ks) {
            any = 1; step = $4; kf = f; ks = n > 0 ? sqrt(f * (1 - f) / n) : 0
        }
    } END { print step }' bar="$bar")
    test "$(grep -c "^eval at step" "$W/kb.log")" -eq 5
    training "$W/kb.safetensors" |
        grep -q "\"keep_best\":{\"bar\":$bar[.0-9]*,\"eval\":\"$W/eval\",[^}]*\"step\":$want}"
    if [ "$want" -eq 0 ]; then
        ref="$W/start.safetensors"
    else
        "$D" finetune --lora $F --lr $lr --stop-after "$want" --out "$W/ref.safetensors" \
            2>/dev/null >/dev/null
        ref="$W/ref.safetensors"
    fi
    data "$ref" >"$W/ref.bin"
    data "$W/kb.safetensors" >"$W/kb.bin"
    cmp "$W/ref.bin" "$W/kb.bin"
    cp "$W/kb.safetensors" "$W/kb-$lr-$bar.safetensors"
    echo "lr $lr, bar $bar: kept step $want, as the rule picks; its parameters, byte for byte"
done
# resumed: the step kept so far is read back from the adapter the stopped run wrote
# (here, with 5e-2 the start is kept; with 1e-2 and no bar, a step after the stop)
for run in 5e-2:1 1e-2:0; do
    lr=${run%:*} bar=${run#*:}
    K="$F --lr $lr --keep-best --keep-bar $bar --out $W/kb2.safetensors"
    "$D" finetune --lora $K --stop-after 4 2>/dev/null >/dev/null
    "$D" finetune --lora $K --resume 2>"$W/kb2.log" >/dev/null
    grep -q "kept so far: step [0-9]* (field F1 [0-9.]*), from" "$W/kb2.log"
    cmp "$W/kb-$lr-$bar.safetensors" "$W/kb2.safetensors"
done
echo "keep-best resumed: 4 + 4 steps write the same adapter as 8 in one run"
