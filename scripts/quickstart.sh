#!/usr/bin/env bash
# quickstart.sh: sets up, builds, and runs docseek's main job on the sample
# documents: the build facts, the kernels' and the model's benchmarks, ingest
# (pages, words, boxes) of a sample of each kind, the rules baseline, then the
# shipped model: docseek extract on two files, docseek ingest of each sample set
# scored against its truth, and docseek serve answering one upload.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

export OMP_THREAD_LIMIT=1 # before the process starts: OCR is ~7x slower without it
cmake -S . -B build -G Ninja >/dev/null
ninja -C build
echo
./build/docseek info
echo
echo "== compute kernels (docseek's CPU reference, against the same-run OpenBLAS ceiling)"
./build/bench_kernels --quick
echo
samples=../shared/data
mkdir -p out/pages
if [[ -d $samples ]]; then
  echo "== reading the sample documents (pages, words, boxes; page images with boxes in out/pages/)"
  for dir in sroie-dev/img funsd-dev/images kleister-nda-dev/documents; do
    [[ -d $samples/$dir ]] || continue
    f=$(find "$samples/$dir" -type f | sort | head -n 1)
    name=$(basename "$f")
    ./build/docseek pages "$f" --summary --png "out/pages/${name%.*}"
  done
else
  echo "no sample documents at $samples; try: build/docseek pages FILE --summary"
fi
echo
echo "== the rules baseline extracting the committed sample invoices, scored against their truth"
./build/docseek eval --gt samples/sets/invoice --extractor rules --worst 3
echo
echo "== the model: a tokenizer trained on the documents' text, a model file (random, untrained), its description"
corpus=(--corpus samples/sets)
[[ -d $samples/kleister-nda-dev/documents ]] && corpus+=(--corpus "$samples/kleister-nda-dev/documents")
./build/docseek tokenizer train "${corpus[@]}" --vocab 4096 --out out/tokenizer.json
./build/docseek model init --config configs/default.json --tokenizer out/tokenizer.json --out out/model-init.safetensors
./build/docseek model info out/model-init.safetensors
echo
echo "== the model's speed (training, prefill, decode; the reference shape), against the same-run sgemm ceiling"
./build/bench_model --quick
echo
if [[ -f models/default.safetensors ]]; then
  echo "== the main job: docseek extract on a sample invoice (PDF) and a scanned receipt (OCR)"
  ./build/docseek extract --pretty samples/sets/invoice/invoice-100-00000.pdf \
    "$(ls samples/sets/receipt/*.jpg | head -1)"
  echo
  echo "== the main job on folders: docseek ingest of each sample set into out/samples/TYPE.jsonl,"
  echo "   its lines scored against the documents' truth (with the reliability of the confidences)"
  mkdir -p out/samples
  for t in invoice receipt form contract; do
    rm -f out/samples/$t.jsonl
    ./build/docseek ingest samples/sets/$t --out out/samples/$t.jsonl \
      --glob '*.pdf' --glob '*.jpg' --glob '*.tif' --glob '*.png'
    ./build/docseek eval --gt samples/sets/$t --pred out/samples/$t.jsonl --worst 2
  done
fi
echo
if [[ -f models/default.safetensors ]]; then
  echo "== the HTTP service: docseek serve on a free loopback port, a sample invoice posted with curl"
  rm -f out/serve.port
  ./build/docseek serve --port 0 --port-file out/serve.port &
  pid=$!
  for _ in $(seq 1 100); do [[ -s out/serve.port ]] && break; sleep 0.1; done
  port=$(cat out/serve.port)
  curl -s -F file=@samples/sets/invoice/invoice-100-00000.pdf "http://127.0.0.1:$port/v1/extract"
  echo
  kill -TERM $pid
  wait $pid
fi
echo
echo "'docseek --help' lists every command; 'docseek COMMAND --help' describes one."
