#!/bin/sh
# extract-device.sh DOCSEEK_EMU PYTHON SOURCE_DIR WORK_DIR: `docseek extract --device cuda`
# end to end with the shipped model, run with docseek_emu (docseek over the CUDA emulator,
# tests/cuda-emu) where no GPU is lent: the prefill and the decode steps run on the
# (emulated) GPU with the KV cache in its memory, and the answer must be the CPU's: the
# same type, the same values on the same pages and boxes, confidences within 0.01 (the
# GPU's GEMMs round to bf16). Twice: the model naming the type, and the type given;
# both bring in the receipt specialist (a LoRA adapter, copied to the GPU), the first
# once the base weights have named the type. One born-digital receipt keeps each
# emulated run to about half a minute. Raw confidences (--calibration none): the
# calibration's broad top step would hide the specialist's.
set -e
D=$1
PY=$2
SRC=$3
W=$4
rm -rf "$W"
mkdir -p "$W"
DOC="$SRC/samples/sets/receipt/receipt-100-00000.pdf"
M="$SRC/models/default.safetensors"
set -- --schemas "$SRC/samples/schemas" --calibration none
"$D" extract "$DOC" --model "$M" "$@" --device cpu >"$W/cpu.json" 2>"$W/cpu.log"
"$D" extract "$DOC" --model "$M" "$@" --device cuda >"$W/gpu.json" 2>"$W/gpu.log"
"$D" extract "$DOC" --model "$M" "$@" --device cpu --type receipt >"$W/cpu-typed.json" \
    2>"$W/cpu-typed.log"
"$D" extract "$DOC" --model "$M" "$@" --device cuda --type receipt >"$W/gpu-typed.json" \
    2>"$W/gpu-typed.log"
"$PY" "$SRC/tests/py/same_answer.py" "$W/cpu.json" "$W/gpu.json" "type named by the model"
"$PY" "$SRC/tests/py/same_answer.py" "$W/cpu-typed.json" "$W/gpu-typed.json" "type given (receipt specialist)"
# the specialist was read: its fields (values or confidences) are not the base model's
# (the model file alone, without the adapter beside it), routed or named
ln -s "$M" "$W/base.safetensors"
"$D" extract "$DOC" --model "$W/base.safetensors" "$@" --device cpu >"$W/base.json" 2>"$W/base.log"
fields() { "$PY" -c 'import json, sys; a, b = (json.load(open(p))["fields"] for p in sys.argv[2:4]); sys.exit((a == b) != (sys.argv[1] == "same"))' "$@"; }
fields differ "$W/base.json" "$W/cpu-typed.json" || { echo "the type's adapter changed nothing"; exit 1; }
fields same "$W/cpu.json" "$W/cpu-typed.json" || { echo "a routed receipt was not read by the specialist"; exit 1; }
echo "extraction on the GPU matches the CPU"
