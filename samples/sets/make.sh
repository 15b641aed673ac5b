#!/usr/bin/env bash
# make.sh: regenerates the committed sample sets (samples/sets/<type>/):
# 26 born-digital documents and 4 scans per type, from fixed seeds.
# Usage: samples/sets/make.sh [DOCSEEK]   (default build/docseek; run from the repo root)
# Bigger sets for training are made the same way into a folder outside the
# repository, e.g. docseek synth --type invoice --count 20000 --seed 7 --out data/inv
set -euo pipefail
docseek=${1:-build/docseek}
export OMP_THREAD_LIMIT=1
for type in invoice receipt form contract; do
  out=samples/sets/$type
  rm -rf "$out"
  "$docseek" synth --type "$type" --count 26 --seed 100 --out "$out"
  "$docseek" synth --type "$type" --count 4 --seed 200 --scan --out "$out"
done
