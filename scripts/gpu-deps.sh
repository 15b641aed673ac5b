#!/bin/sh
# gpu-deps.sh: downloads (apt-get download, no install) the Debian packages that
# bench/gpu-check.sh unpacks on a GPU machine that has CUDA but neither OpenBLAS
# (the CPU reference the parity tests compare against) nor Jansson: into
# .gpu-deps/ (git-ignored; about 13 MB), to be carried with the working tree.
#   scripts/gpu-deps.sh
set -eu
cd "$(dirname "$0")/.."
mkdir -p .gpu-deps
cd .gpu-deps
# apt's sandbox user cannot write here; the download itself is the same
apt-get -q -o APT::Sandbox::User=root download libopenblas0-pthread libopenblas-pthread-dev \
  libgfortran5 libquadmath0 libjansson4 libjansson-dev
ls -l
