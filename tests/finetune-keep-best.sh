#!/bin/sh
# finetune-keep-best.sh DOCSEEK SOURCE_DIR WORK_DIR: finetune --keep-best writes the
# adapter as it scored best on --eval, the start included, not as it ended; a later
# step replaces the one kept only when its F1 gain is more than bar standard errors of
# the gain, paired by document (at Student's t). The step kept must be the one that rule, worked here in
# awk from each evaluation's per-document counts the run printed, picks; the counts
# must add up to the evaluation's; the adapter written must hold that step's
# parameters (those of a run stopped there, or the starting adapter's for step 0),
# byte for byte; and a run stopped half-way and resumed must write the same file as
# one run. Without --eval it is refused. (The standard error and t themselves: tests
# eval_f1_gain_standard_error, eval_student_t_quantile. Bars 2, the default, 1 and 0, any
# gain.)
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
# the bar: --keep-bar, but for 2, the default, which is left to the command
bar_flag() { [ "$1" = 2 ] || echo "--keep-bar $1"; }
# two rates, a gentle and a harsh one; the default bar (2), 1, and none
for run in 1e-2:1 5e-2:2 1e-2:0 5e-2:0; do
    lr=${run%:*} bar=${run#*:}
    "$D" finetune --lora $F --lr $lr --keep-best $(bar_flag $bar) --out "$W/kb.safetensors" \
        2>"$W/kb.log" >/dev/null
    grep "^eval at step\|finetune: step" "$W/kb.log"
    # the expected step: the first evaluated, then each whose F1 gain over the one kept is
    # more than t standard errors of that gain: F1 = 2T / D, document i weighing
    # z_i = (2 tp_i - F1 d_i) / D, error sqrt(n / (n - 1) sum (z_i - z_kept_i)^2); a tie
    # within 1e-9 keeps the earlier (one document's gain alone ties its error here). t,
    # Student's at the bar's level (test eval_student_t_quantile), is read from the log.
    want=$(grep "finetune: step [0-9]*, documents" "$W/kb.log" | awk '
    function f1(t, d) { return d > 0 ? 2 * t / d : 1 }
    {
        s = $0; sub(/.*finetune: step /, "", s); step = s; sub(/,.*/, "", step)
        sub(/^[0-9]+, documents \(tp fp fn\) /, "", s); sub(/:.*/, "", s)
        n = split(s, part, ", "); t = 0; d = 0
        for (i = 1; i <= n; i++) {
            split(part[i], c, " "); tp[i] = c[1]; dd[i] = 2 * c[1] + c[2] + c[3]
            t += tp[i]; d += dd[i]
        }
        if (any) {
            gain = f1(t, d) - f1(kt, kd); ss = 0
            for (i = 1; i <= n; i++) {
                z = (d > 0 ? (2 * tp[i] - f1(t, d) * dd[i]) / d : 0) - \
                    (kd > 0 ? (2 * ktp[i] - f1(kt, kd) * kdd[i]) / kd : 0)
                ss += z * z
            }
            se = sqrt(n / (n - 1) * ss)
            tq = $0; sub(/.*\(t /, "", tq); sub(/\).*/, "", tq)
            if (!(gain > 1e-9 && (bar == 0 || gain > tq * se + 1e-9))) next
        }
        any = 1; kept = step; kt = t; kd = d
        for (i = 1; i <= n; i++) { ktp[i] = tp[i]; kdd[i] = dd[i] }
    } END { print kept }' bar="$bar")
    test "$(grep -c "^eval at step" "$W/kb.log")" -eq 5
    test "$(grep -c "finetune: step [0-9]*, documents (tp fp fn) [0-9]* [0-9]* [0-9]*, [0-9]* [0-9]* [0-9]*, [0-9]* [0-9]* [0-9]*:" "$W/kb.log")" -eq 5
    # each evaluation's documents add up to its counts
    grep "^eval at step" "$W/kb.log" >"$W/evals.txt"
    grep "finetune: step [0-9]*, documents" "$W/kb.log" >"$W/docs.txt"
    paste -d '|' "$W/evals.txt" "$W/docs.txt" | awk -F'|' '{
        split($1, e, " "); sub(/\)/, "", e[13]); s = $2
        sub(/.*\(tp fp fn\) /, "", s); sub(/:.*/, "", s); n = split(s, part, ", ")
        t = f = m = 0
        for (i = 1; i <= n; i++) { split(part[i], c, " "); t += c[1]; f += c[2]; m += c[3] }
        if (t != e[9] || f != e[11] || m != e[13]) { print "counts differ: " $0; bad = 1 }
    } END { exit bad }'
    training "$W/kb.safetensors" |
        grep -q "\"keep_best\":{\"bar\":$bar[.0-9]*,\"documents\":\[[][0-9,]*\],\"eval\":\"$W/eval\",[^}]*\"step\":$want}"
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
for run in 5e-2:2 1e-2:0; do
    lr=${run%:*} bar=${run#*:}
    K="$F --lr $lr --keep-best $(bar_flag $bar) --out $W/kb2.safetensors"
    "$D" finetune --lora $K --stop-after 4 2>/dev/null >/dev/null
    "$D" finetune --lora $K --resume 2>"$W/kb2.log" >/dev/null
    grep -q "kept so far: step [0-9]* (field F1 [0-9.]*), from" "$W/kb2.log"
    cmp "$W/kb-$lr-$bar.safetensors" "$W/kb2.safetensors"
done
echo "keep-best resumed: 4 + 4 steps write the same adapter as 8 in one run"
