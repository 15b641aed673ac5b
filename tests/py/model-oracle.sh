#!/bin/sh
# model-oracle.sh: the model file as a user makes it, read by the public
# safetensors package (check_model.py): train a tokenizer on the committed
# invoices, init a model from configs/tiny.json, list it with `docseek model
# info --json` and `docseek tensors --json --stats`, then cross-check.
# Usage: model-oracle.sh DOCSEEK PYTHON SOURCE_DIR WORKDIR
set -eu
docseek=$1 python=$2 src=$3 work=$4
rm -rf "$work"
mkdir -p "$work"
cd "$work"
"$docseek" tokenizer train --corpus "$src/samples/sets/invoice" --vocab 600 --out tok.json
"$docseek" model init --config "$src/configs/tiny.json" --tokenizer tok.json --out m.safetensors --seed 3
"$docseek" model info m.safetensors --json > info.json
"$docseek" tensors m.safetensors --json --stats > tensors.json
"$python" "$src/tests/py/check_model.py" m.safetensors info.json tensors.json
