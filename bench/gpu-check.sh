#!/bin/sh
# gpu-check.sh: the one check to run on a GPU machine. Builds the kernels with
# CUDA for sm_90 (Hopper) in the kernels-only configuration (no document
# libraries needed), runs every CUDA parity test against the CPU reference,
# then bench_gpu, and prints a summary. On a machine without OpenBLAS and
# Jansson it unpacks the Debian packages of .gpu-deps/ (scripts/gpu-deps.sh,
# run where apt-get works) into a private folder; nothing is installed.
#   bench/gpu-check.sh [BUILD_DIR]     (default /tmp/docseek-gpu; logs also to $OUT if set)
set -u
cd "$(dirname "$0")/.."
B=${1:-/tmp/docseek-gpu}
LOG=${OUT:-$B}
mkdir -p "$B" "$LOG"
t0=$(date +%s)
deps=""
if ! pkg-config --exists openblas jansson 2>/dev/null; then
  if ! ls .gpu-deps/*.deb >/dev/null 2>&1; then
    echo "gpu-check: OpenBLAS and Jansson are not installed and .gpu-deps/ holds no packages:"
    echo "  run scripts/gpu-deps.sh where apt-get works and carry .gpu-deps with the tree"
    exit 2
  fi
  SYS=$B/sys
  mkdir -p "$SYS"
  for f in .gpu-deps/*.deb; do
    if command -v dpkg >/dev/null; then
      dpkg -x "$f" "$SYS"
    else # ar + tar, for a machine without dpkg
      (cd "$SYS" && ar p "$OLDPWD/$f" data.tar.xz | tar -xJ)
    fi
  done
  deps="-DDS_DEPS_ROOT=$SYS"
  L=$SYS/usr/lib/x86_64-linux-gnu
  export LD_LIBRARY_PATH="$L/openblas-pthread:$L${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
nvcc=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
$nvcc --version | tail -1
gen=""
command -v ninja >/dev/null && gen="-G Ninja"
# shellcheck disable=SC2086
if ! cmake -S . -B "$B/build" $gen -DDS_KERNELS_ONLY=ON -DDS_CUDA=ON -DDS_WERROR=ON \
  -DCMAKE_CUDA_COMPILER="$nvcc" -DCMAKE_CUDA_ARCHITECTURES=90 $deps >"$LOG/configure.log" 2>&1; then
  tail -20 "$LOG/configure.log"
  echo "gpu-check: configure FAILED"
  exit 1
fi
if ! cmake --build "$B/build" -j "$(env -u OMP_THREAD_LIMIT -u OMP_NUM_THREADS nproc)" >"$LOG/build.log" 2>&1; then
  grep -E "error|Error" "$LOG/build.log" | head -30
  echo "gpu-check: build FAILED"
  exit 1
fi
t1=$(date +%s)
echo "built in $((t1 - t0)) s"
(cd "$B/build" && ctest --timeout 150 -V) >"$LOG/parity.log" 2>&1
parity=$?
# each test's worst errors, then ctest's summary
grep -E "[0-9]+/[0-9]+ Test #|worst|skip|missing|mismatch|CHECK failed" "$LOG/parity.log" |
  sed "s/^[0-9]*: //" | head -200
grep -E "tests passed|tests failed" "$LOG/parity.log"
t2=$(date +%s)
echo "parity tests in $((t2 - t1)) s"
"$B/build/bench_gpu" 2>&1 | tee "$LOG/bench.log"
bench=$?
t3=$(date +%s)
echo "bench_gpu in $((t3 - t2)) s; whole check $((t3 - t0)) s"
if grep -q "skip: no CUDA device" "$LOG/parity.log"; then
  echo "gpu-check: NO GPU here: the parity tests only skipped, nothing was checked"
  exit 3
fi
if [ $parity -ne 0 ] || [ $bench -ne 0 ]; then
  echo "gpu-check: FAILED (parity exit $parity, bench exit $bench)"
  exit 1
fi
echo "gpu-check: every parity test passed"
