#!/bin/sh
# train-windows.sh DOCSEEK SOURCE_DIR WORK_DIR: with --windows, long contracts
# (4 pages; the tiny config reads 2 a sequence) train on one of their windows:
# the dataset reports documents trained on a later window and values absent from
# it; without --windows none. finetune --windows trains every window of each (at
# least 2 of 4 pages): its sequences outnumber the documents, and a second run
# reads them all from the cache into the same adapter, bit for bit; --one-window trains
# one window of each, as train --windows.
set -e
D=$1
SRC=$2
W=$3
rm -rf "$W"
mkdir -p "$W"
"$D" synth --type contract --count 8 --seed 7300 --families 24-35 --out "$W/data" >/dev/null
"$D" tokenizer train --corpus "$W/data" --vocab 500 --out "$W/tok.json" >/dev/null
set -- --data "$W/data" --config "$SRC/configs/tiny.json" --tokenizer "$W/tok.json" \
    --steps 1 --batch 2 --warmup 1 --schemas "$SRC/samples/schemas" --prep-threads 1
"$D" train "$@" --out "$W/first.safetensors" --cache "$W/c1" 2>"$W/first.log"
"$D" train "$@" --out "$W/windows.safetensors" --cache "$W/c2" --windows 2>"$W/windows.log"
first=$(sed -n 's/.*(\([0-9]*\) documents train on a later window).*/\1/p' "$W/first.log")
later=$(sed -n 's/.*(\([0-9]*\) documents train on a later window).*/\1/p' "$W/windows.log")
absent=$(sed -n 's/.* \([0-9]*\) absent from the window read.*/\1/p' "$W/windows.log")
echo "8 long contracts: $first on a later window without --windows, $later with ($absent values absent there)"
test "$first" = 0
test "$later" -ge 1
test "$absent" -ge 1
# a continuation (--init) records what made its starting point and the windows flag
"$D" train --data "$W/data" --init "$W/windows.safetensors" --steps 1 --batch 2 --warmup 1 \
    --schemas "$SRC/samples/schemas" --prep-threads 1 --cache "$W/c2" --windows \
    --out "$W/more.safetensors" 2>/dev/null
"$D" tensors "$W/more.safetensors" --json >"$W/more.txt"
grep -q '\\"init\\":{\\"model\\":\\"[^"]*windows.safetensors\\",\\"training\\":{' "$W/more.txt"
grep -q '\\"windows\\":true' "$W/more.txt"
set -- finetune --lora --windows --model "$W/windows.safetensors" --data "$W/data" --steps 2 \
    --batch 2 --warmup 1 --schemas "$SRC/samples/schemas" --prep-threads 1 --cache "$W/c3"
"$D" "$@" --out "$W/a.lora.safetensors" 2>"$W/lora-a.log"
"$D" "$@" --out "$W/b.lora.safetensors" 2>"$W/lora-b.log"
seqs=$(sed -n 's/.*dataset: 8 documents, \([0-9]*\) sequences: every window.*/\1/p' "$W/lora-a.log")
echo "finetune --windows: 8 long contracts as $seqs sequences"
test "$seqs" -ge 16
grep -q "8 documents, $seqs sequences" "$W/lora-b.log"
if grep -q "prepared now" "$W/lora-b.log"; then exit 1; fi # set -e ignores a "! cmd"
cmp "$W/a.lora.safetensors" "$W/b.lora.safetensors"
# --repeat: every window listed as often as its document, each prepared once (the cache's)
"$D" "$@" --repeat 2 --out "$W/r.lora.safetensors" 2>"$W/lora-r.log"
grep -q "train: $seqs documents (0 skipped; $((2 * seqs)) listed an epoch)" "$W/lora-r.log"
# --one-window: one window per document, as train --windows, and the adapter says so
"$D" "$@" --one-window --cache "$W/c4" --out "$W/c.lora.safetensors" 2>"$W/lora-c.log"
if grep -q "sequences: every window" "$W/lora-c.log"; then exit 1; fi
one=$(sed -n 's/.*(\([0-9]*\) documents train on a later window).*/\1/p' "$W/lora-c.log")
echo "finetune --one-window: 8 long contracts as 8 sequences, $one on a later window"
test "$one" -ge 1
"$D" tensors "$W/c.lora.safetensors" --json | grep -q '\\"one_window\\":true'
echo "windows: long documents train on their later windows, finetune on all of them"
