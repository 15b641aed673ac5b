#!/bin/sh
# train-resume.sh DOCSEEK SOURCE_DIR WORK_DIR: training N steps in one go must equal
# training part of them, stopping, and resuming from the checkpoint: the same
# weights, byte for byte, and the same loss curve (every CSV column but the speed).
set -e
D=$1
SRC=$2
W=$3
rm -rf "$W"
mkdir -p "$W"
"$D" synth --type invoice --count 8 --seed 7000 --out "$W/data" >/dev/null
"$D" synth --type receipt --count 4 --seed 7000 --out "$W/data" >/dev/null
"$D" tokenizer train --corpus "$W/data" --vocab 500 --out "$W/tok.json" >/dev/null
set -- --data "$W/data" --config "$SRC/configs/tiny.json" --tokenizer "$W/tok.json" \
    --steps 12 --batch 3 --warmup 2 --cache "$W/cache" --schemas "$SRC/samples/schemas"
"$D" train "$@" --out "$W/once.safetensors"
"$D" train "$@" --out "$W/twice.safetensors" --stop-after 5
"$D" train "$@" --out "$W/twice.safetensors" --resume
cmp "$W/once.safetensors" "$W/twice.safetensors"
cut -d, -f1-9,11 "$W/once.safetensors.csv" >"$W/once.csv"
cut -d, -f1-9,11 "$W/twice.safetensors.csv" >"$W/twice.csv"
cmp "$W/once.csv" "$W/twice.csv"
echo "resume: 12 steps in one run and 5 + 7 with a resume give identical weights and loss curves"
