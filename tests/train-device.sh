#!/bin/sh
# train-device.sh DOCSEEK SOURCE_DIR WORK_DIR: `docseek train --device cuda` end to end,
# run with docseek_emu (docseek over the CUDA emulator, tests/cuda-emu) where no GPU is
# lent: the steps on the (emulated) GPU follow the same steps on the CPU (loss within 2%
# at every step: the GPU's GEMMs round to bf16); on the GPU a run stopped and resumed
# from its checkpoint writes the same model file as one run, whose weights are the trained
# ones (ds_trainer_sync); that model extracts (on the CPU). The same for a LoRA adapter
# (finetune --device cuda), which then extracts on the GPU. Short receipts and max_seq
# 256 keep the emulated steps to seconds.
set -e
# same_losses CPU.csv GPU.csv: 3 steps each (column 4 of a curve is the step's loss), within 2%
same_losses() {
    cut -d, -f1,4 "$1" >"$1.loss"
    cut -d, -f1,4 "$2" >"$2.loss"
    paste -d, "$1.loss" "$2.loss" | awk -F, 'NR > 1 {
        d = $2 - $4; if (d < 0) d = -d; r = d / $2; if (r > worst) worst = r; n++
        printf "step %d: loss cpu %s gpu %s\n", $1, $2, $4 }
        END { printf "worst relative difference %.2e over %d steps\n", worst, n; exit !(n == 3 && worst < 0.02) }'
}
D=$1
SRC=$2
W=$3
rm -rf "$W"
mkdir -p "$W"
"$D" synth --type receipt --count 4 --seed 7100 --out "$W/data" >/dev/null
"$D" tokenizer train --corpus "$W/data" --vocab 300 --out "$W/tok.json" >/dev/null
sed 's/"max_seq": 1024/"max_seq": 256/' "$SRC/configs/tiny.json" >"$W/config.json"
set -- --data "$W/data" --config "$W/config.json" --tokenizer "$W/tok.json" --steps 3 \
    --batch 1 --warmup 1 --cache "$W/cache" --schemas "$SRC/samples/schemas"
"$D" train "$@" --device cpu --out "$W/cpu.safetensors" 2>"$W/cpu.log"
"$D" train "$@" --device cuda --out "$W/gpu.safetensors" 2>"$W/gpu.log"
grep -q "computing on cuda:0" "$W/gpu.log" || { echo "not trained on the GPU"; cat "$W/gpu.log"; exit 1; }
# (with activation recomputation: the same numbers, so the same file)
"$D" train "$@" --device cuda --out "$W/gpu2.safetensors" --stop-after 2 --recompute 2>"$W/gpu2.log"
"$D" train "$@" --device cuda --out "$W/gpu2.safetensors" --resume --recompute 2>>"$W/gpu2.log"
cmp "$W/gpu.safetensors" "$W/gpu2.safetensors"
same_losses "$W/cpu.safetensors.csv" "$W/gpu.safetensors.csv"
# the file holds the trained weights, not the ones the GPU started from: the norms moved
# off 1 (by about 3e-3), to the CPU's values within 2e-4 (the printed precision is 1e-4,
# and the GPU's bf16 GEMMs move a value across a rounding boundary now and then)
"$D" tensors "$W/cpu.safetensors" --stats | grep 'norm.weight' >"$W/cpu.norms"
"$D" tensors "$W/gpu.safetensors" --stats | grep 'norm.weight' >"$W/gpu.norms"
paste -d'|' "$W/cpu.norms" "$W/gpu.norms" | awk -F'|' '
    function stat(line, key,   i, n, f) { n = split(line, f, " ")
        for (i = 1; i < n; i++) if (f[i] == key) return f[i + 1]
        return "none" }
    { for (k = 1; k <= 3; k++) { key = k == 1 ? "min" : k == 2 ? "max" : "mean"
        a = stat($1, key); b = stat($2, key); d = a - b; if (d < 0) d = -d
        if (a == "none" || b == "none" || d > 2e-4) { print "norms differ: " $1 " / " $2; bad = 1 } }
      n++ }
    END { if (n == 0) print "no norms"; exit bad || n == 0 }'
grep -q 'attn_norm.weight .*min 0\.99[0-8]' "$W/gpu.norms" || { echo "the norms did not move"; exit 1; }
"$D" extract "$W/data/receipt-7100-00000.pdf" --model "$W/gpu.safetensors" \
    --schemas "$SRC/samples/schemas" --device cpu >"$W/extract.json"
grep -q '"doc_type"' "$W/extract.json"
# LoRA on the GPU (attention and experts): finetune --device cuda follows the CPU's
# losses, a run stopped and resumed writes the same adapter, which extracts on the GPU
set -- --lora --experts --rank 4 --model "$W/gpu.safetensors" --data "$W/data" --steps 3 \
    --batch 1 --warmup 1 --cache "$W/cache" --schemas "$SRC/samples/schemas"
"$D" finetune "$@" --device cpu --out "$W/cpu.lora.safetensors" 2>"$W/ft-cpu.log"
"$D" finetune "$@" --device cuda --out "$W/gpu.lora.safetensors" 2>"$W/ft-gpu.log"
grep -q "computing on cuda:0" "$W/ft-gpu.log" || { echo "not finetuned on the GPU"; cat "$W/ft-gpu.log"; exit 1; }
same_losses "$W/cpu.lora.safetensors.csv" "$W/gpu.lora.safetensors.csv"
"$D" finetune "$@" --device cuda --out "$W/gpu2.lora.safetensors" --stop-after 2 2>"$W/ft-gpu2.log"
"$D" finetune "$@" --device cuda --out "$W/gpu2.lora.safetensors" --resume 2>>"$W/ft-gpu2.log"
cmp "$W/gpu.lora.safetensors" "$W/gpu2.lora.safetensors"
"$D" extract "$W/data/receipt-7100-00000.pdf" --model "$W/gpu.safetensors" \
    --adapter "$W/gpu.lora.safetensors" --schemas "$SRC/samples/schemas" --device cuda \
    >"$W/extract-lora.json"
grep -q '"doc_type"' "$W/extract-lora.json"
# a model with the copy mask (its heads loop on the host): cuda by name is refused with
# the reason before any work, auto takes the CPU
sed 's/"copy_mask": 0/"copy_mask": 1/' "$W/config.json" >"$W/mask.json"
grep -q '"copy_mask": 1' "$W/mask.json"
set -- --data "$W/data" --config "$W/mask.json" --tokenizer "$W/tok.json" --steps 1 --batch 1 \
    --warmup 1 --cache "$W/cache" --schemas "$SRC/samples/schemas" --out "$W/mask.safetensors"
if "$D" train "$@" --device cuda 2>"$W/mask.log"; then echo "copy mask trained on cuda"; exit 1; fi
grep -q "copy mask and pointer-generator heads train on the CPU only" "$W/mask.log"
"$D" train "$@" 2>"$W/mask-auto.log"
grep -q "computing on CPU" "$W/mask-auto.log"
echo "train and finetune --device cuda: the CPU's loss curves, the same model file after a resume, and they extract"
