#!/usr/bin/env bash
# quickstart.sh: sets up, builds, and runs docseek's main job on the sample
# documents. Today the extraction pipeline (ingest, model) is not built yet,
# so it runs what exists: the build facts and the compute kernels' benchmark,
# and says plainly what is missing.
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
if [[ -d $samples ]]; then
  n=$(find "$samples" -type f \( -iname '*.pdf' -o -iname '*.png' -o -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.tif*' \) | wc -l)
  echo "sample documents found under $samples: $n"
fi
echo "not yet: extracting fields from documents. 'docseek extract' and 'docseek ingest' need"
echo "the ingest layer and a trained model, which are not built yet; 'docseek --help' lists"
echo "what is available now."
