#!/bin/sh
# serve-device.sh DOCSEEK_EMU PYTHON SOURCE_DIR WORK_DIR: `docseek serve --device cuda` with
# the shipped model, run with docseek_emu (docseek over the CUDA emulator, tests/cuda-emu)
# where no GPU is lent: the server's scheduler thread, not the thread that made the GPU
# context, runs the prefill and the decode steps on the (emulated) GPU, and the answer to
# a POST /v1/extract is the CPU's extraction of the same receipt (tests/py/same_answer.py);
# SIGTERM stops the server cleanly. (The type given, with its adapter copied to the GPU,
# is extract-device.sh's; one emulated request here keeps this to about 40 s.)
set -e
D=$1
PY=$2
SRC=$3
W=$4
rm -rf "$W"
mkdir -p "$W"
. "$SRC/tests/serve-start.sh"
DOC="$SRC/samples/sets/receipt/receipt-100-00000.pdf"
set -- --model "$SRC/models/default.safetensors" --schemas "$SRC/samples/schemas"
"$D" extract "$DOC" "$@" --device cpu >"$W/cpu.json" 2>"$W/cpu.log"
serve_start "$D" "$SRC" "$W/port" "$W/serve.log" --device cuda || {
    cat "$W/serve.log"
    exit 1
}
trap 'kill -9 $SERVE_PID 2>/dev/null || true' EXIT
URL="http://127.0.0.1:$SERVE_PORT/v1/extract"
curl -sS --max-time 300 --data-binary @"$DOC" -H 'Content-Type: application/pdf' "$URL" \
    >"$W/gpu.json"
kill -TERM "$SERVE_PID"
wait "$SERVE_PID"
grep -q "cuda:0" "$W/serve.log" || { echo "the server did not say it computes on the GPU"; cat "$W/serve.log"; exit 1; }
"$PY" "$SRC/tests/py/same_answer.py" "$W/cpu.json" "$W/gpu.json" "POST /v1/extract"
echo "serve --device cuda answers what extract answers on the CPU"
