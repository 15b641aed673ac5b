#!/usr/bin/env bash
# test.sh: sets up, builds and runs the whole test suite twice: once as
# built for users, once under AddressSanitizer + UndefinedBehaviorSanitizer.
# Warnings are errors. ctest's summary is the last thing printed.
# Environment: JOBS (parallel build/test jobs, default: number of cores).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test

# Cores counted without the OpenMP limits: nproc honours them, and with OMP_THREAD_LIMIT=1
# the whole build and both test runs went one job at a time (a fresh clone's CI here:
# 18 min 52 s, and 9 min 18 s at two jobs).
jobs=${JOBS:-$(env -u OMP_THREAD_LIMIT -u OMP_NUM_THREADS nproc)}
# Tesseract (OCR) is ~7x slower unless this is set before the process starts.
export OMP_THREAD_LIMIT=1
py="$PWD/.venv/bin/python"

echo "== build (release, warnings are errors)"
cmake -S . -B build -G Ninja -DDS_WERROR=ON -DDS_PYTHON="$py" >/dev/null
ninja -C build -j "$jobs"
echo "== build (address + undefined sanitizers)"
# The CUDA backend is compiled by the first build; sanitizers are for host code. -O1, as
# AddressSanitizer's documentation advises: the same checks, the tests 14% faster than at -O0.
# float-cast-overflow is not part of GCC's "undefined": a floating value beyond an integer's
# range converted to it (a hostile PDF's 1e40-point page, --max-body 1e30) is undefined too.
cmake -S . -B build-asan -G Ninja -DDS_WERROR=ON -DDS_CUDA=OFF \
  -DDS_SANITIZE=address,undefined,float-cast-overflow \
  -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG="-g -O1" -DDS_PYTHON="$py" >/dev/null
ninja -C build-asan -j "$jobs"

echo "== tests (release)"
ctest --test-dir build --output-on-failure -j "$jobs"
echo "== tests (ASan + UBSan)"
LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp \
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j "$jobs"
