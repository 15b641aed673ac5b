#!/usr/bin/env bash
# setup.sh [--test]: installs what docseek needs on Debian 12 and nothing else.
# Debian packages through apt-get (only the missing ones, so a second run
# is instant); with --test also the test-only oracles from PyPI into .venv.
# Called by scripts/quickstart.sh and scripts/test.sh; safe to run repeatedly.
set -euo pipefail
cd "$(dirname "$0")/.."

# Build and runtime dependencies of the current tree.
pkgs=(build-essential cmake ninja-build pkg-config libopenblas-dev libjansson-dev
  libpoppler-glib-dev libcairo2-dev libvips-dev libtesseract-dev libleptonica-dev tesseract-ocr-eng
  # the HTTP service: libuv, and llhttp's C sources (built with docseek); curl for its demo
  libuv1-dev node-llhttp curl
  # the document generator: real fonts and vocabularies
  fonts-liberation2 fonts-freefont-ttf fonts-crosextra-carlito fonts-crosextra-caladea
  fonts-texgyre fonts-dejavu-core iso-codes wamerican wngerman wfrench tzdata)
if [[ "${1:-}" == "--test" ]]; then
  # the upload page's test drives Debian's chromium with Playwright (from PyPI, no browser download)
  pkgs+=(python3 python3-venv clang-format chromium)
  # OCR in another language than English: the Latin script's model (--ocr-lang Latin)
  pkgs+=(tesseract-ocr-script-latn)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get -o DPkg::Lock::Timeout=600 update -q
  $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}"
fi

if [[ "${1:-}" == "--test" ]]; then
  # Oracles for the tests only (never runtime dependencies): the public
  # safetensors implementation and numpy, and Playwright for the upload page
  # (driving Debian's chromium). Debian's python3, not a pyenv one.
  if [[ ! -x .venv/bin/python ]] || ! .venv/bin/python -c "import safetensors, numpy, playwright" 2>/dev/null; then
    echo "setup: creating .venv with test oracles from PyPI"
    /usr/bin/python3 -m venv .venv
    .venv/bin/pip install -q --disable-pip-version-check -r tests/py/requirements.txt
  fi
fi
